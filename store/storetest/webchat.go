package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testWebChat: visitors are found by their token's hash only; a handoff
// reference is claimed once, only with the number and phone it was
// given for and before it expires, and the claim links both
// conversations; allowed origins are normalized, deduplicated, bounded
// and per business.
func testWebChat(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	ctx := ctxT(t)
	f := mustBusiness(t, s)
	other := mustBusiness(t, s)
	v := &parley.WebVisitor{ID: "v1", Business: f.b.ID, Number: f.n.ID, Hash: []byte("hash-of-token-1"), Origin: "https://shop.example", CreatedAt: at(0)}
	if err := s.CreateWebVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebVisitor(ctx, &parley.WebVisitor{ID: "v2", Business: f.b.ID, Number: f.n.ID, Hash: v.Hash, Origin: "https://shop.example", CreatedAt: at(0)}); err == nil {
		t.Error("CreateWebVisitor with a hash in use succeeded")
	}
	got, err := s.WebVisitor(ctx, []byte("hash-of-token-1"))
	if err != nil || got.ID != "v1" || got.Business != f.b.ID || got.Number != f.n.ID || got.Origin != v.Origin || !got.CreatedAt.Equal(at(0)) || got.MovedTo != "" {
		t.Fatalf("WebVisitor = %+v, %v", got, err)
	}
	if _, err := s.WebVisitor(ctx, []byte("hash-of-token-x")); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("WebVisitor(unknown) = %v, want ENOTFOUND", err)
	}
	if err := s.TouchWebVisitor(ctx, "v1", at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.WebVisitor(ctx, v.Hash); !got.LastSeenAt.Equal(at(time.Minute)) {
		t.Errorf("LastSeenAt = %v after touch", got.LastSeenAt)
	}

	// The two conversations: the visitor's and the messenger customer's.
	webConv := inboxConv(f, parley.WebCustomer("v1"), "p")
	if _, err := s.RecordInboxMessage(ctx, webConv, inboxMsg("web.1", parley.DirectionIn, 0)); err != nil {
		t.Fatal(err)
	}
	cust := mustAccount(t, s)
	msgConv := inboxConv(f, cust, "p")
	if _, err := s.RecordInboxMessage(ctx, msgConv, inboxMsg("wamid.wc1", parley.DirectionIn, time.Second)); err != nil {
		t.Fatal(err)
	}

	if err := s.SetWebHandoff(ctx, "nobody", cust, []byte("ref-0"), at(time.Hour)); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("SetWebHandoff(unknown visitor) = %v, want ENOTFOUND", err)
	}
	if err := s.SetWebHandoff(ctx, "v1", cust, []byte("ref-1"), at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A new reference replaces the old one.
	if err := s.SetWebHandoff(ctx, "v1", cust, []byte("ref-2"), at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, number, phone string
		ref                 []byte
		now                 time.Time
	}{
		{"the replaced reference", f.n.ID, cust, []byte("ref-1"), at(time.Minute)},
		{"another number", other.n.ID, cust, []byte("ref-2"), at(time.Minute)},
		{"another phone", f.n.ID, "4915199999999", []byte("ref-2"), at(time.Minute)},
		{"an expired reference", f.n.ID, cust, []byte("ref-2"), at(time.Hour)},
	} {
		if _, err := s.ClaimWebHandoff(ctx, c.number, c.ref, c.phone, msgConv.ID, c.now); !parley.Match(err, parley.ENOTFOUND) {
			t.Errorf("ClaimWebHandoff with %s = %v, want ENOTFOUND", c.what, err)
		}
	}
	before, _ := s.Conversation(ctx, webConv.ID)

	// Two claims at once: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ClaimWebHandoff(ctx, f.n.ID, []byte("ref-2"), cust, msgConv.ID, at(time.Minute))
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !parley.Match(err, parley.ENOTFOUND):
			t.Errorf("concurrent ClaimWebHandoff = %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent claims won, want 1 (%v)", wins, errs)
	}
	got, _ = s.WebVisitor(ctx, v.Hash)
	if got.MovedTo != msgConv.ID || !got.MovedAt.Equal(at(time.Minute)) || got.HandoffRefHash != nil || got.HandoffPhone != cust {
		t.Errorf("visitor after the claim: %+v", got)
	}
	wc, _ := s.Conversation(ctx, webConv.ID)
	mc, _ := s.Conversation(ctx, msgConv.ID)
	if wc.Linked != msgConv.ID || mc.Linked != webConv.ID || wc.Version <= before.Version {
		t.Errorf("linked: web %q (version %d, was %d), messenger %q", wc.Linked, wc.Version, before.Version, mc.Linked)
	}
	if _, err := s.ClaimWebHandoff(ctx, f.n.ID, []byte("ref-2"), cust, msgConv.ID, at(time.Minute)); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("second ClaimWebHandoff = %v, want ENOTFOUND", err)
	}
	if err := s.SetWebHandoff(ctx, "v1", cust, []byte("ref-3"), at(time.Hour)); !parley.Match(err, parley.ECONFLICT) {
		t.Errorf("SetWebHandoff after moving = %v, want ECONFLICT", err)
	}

	// Erasing the customer (GDPR Art. 17) erases the web conversation
	// they moved to the messenger and the number the visitor gave.
	if _, err := s.EraseBusinessDataOf(ctx, cust); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conversation(ctx, webConv.ID); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("the moved web conversation after erasure: %v, want ENOTFOUND", err)
	}
	if ms, _ := s.InboxMessages(ctx, webConv.ID, time.Time{}, 10); len(ms) != 0 {
		t.Errorf("%d web messages after erasure", len(ms))
	}
	if got, _ := s.WebVisitor(ctx, v.Hash); got.HandoffPhone != "" {
		t.Errorf("the given number after erasure: %q", got.HandoffPhone)
	}

	// Origins.
	if os, err := s.WebOrigins(ctx, f.b.ID); err != nil || len(os) != 0 {
		t.Fatalf("WebOrigins before = %v, %v", os, err)
	}
	if err := s.SetWebOrigins(ctx, f.b.ID, []string{"https://Shop.Example", "https://shop.example/", "https://shop.example:443", "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	if os, _ := s.WebOrigins(ctx, f.b.ID); !slices.Equal(os, []string{"http://127.0.0.1:8080", "https://shop.example"}) {
		t.Errorf("WebOrigins = %v", os)
	}
	if os, _ := s.WebOrigins(ctx, other.b.ID); len(os) != 0 {
		t.Errorf("another business's origins = %v", os)
	}
	for _, bad := range []string{"http://shop.example", "https://shop.example/path", "javascript:alert(1)", "shop.example", ""} {
		if err := s.SetWebOrigins(ctx, f.b.ID, []string{bad}); !parley.Match(err, parley.EINVALID) {
			t.Errorf("SetWebOrigins(%q) = %v, want EINVALID", bad, err)
		}
	}
	many := []string{}
	for i := range parley.MaxWebOrigins + 1 {
		many = append(many, "https://s"+string(rune('a'+i))+".example")
	}
	if err := s.SetWebOrigins(ctx, f.b.ID, many); !parley.Match(err, parley.ETOOLARGE) {
		t.Errorf("SetWebOrigins(%d) = %v, want ETOOLARGE", len(many), err)
	}
	if os, _ := s.WebOrigins(ctx, f.b.ID); len(os) != 2 {
		t.Errorf("a refused change changed the origins: %v", os)
	}
	if err := s.SetWebOrigins(ctx, f.b.ID, nil); err != nil {
		t.Fatal(err)
	}
	if os, _ := s.WebOrigins(ctx, f.b.ID); len(os) != 0 {
		t.Errorf("WebOrigins after clearing = %v", os)
	}
}
