package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

var graphSeq atomic.Int64

// graphID returns a Graph id not used before in this process.
func graphID() string { return fmt.Sprintf("%016d", 1000000000000000+graphSeq.Add(1)) }

type bizFixture struct {
	b   parley.Business
	app parley.App
	n   parley.BusinessNumber
	tok parley.AccessToken
}

func mustBusiness(t testing.TB, s parley.Store) *bizFixture {
	t.Helper()
	acct := mustAccount(t, s)
	f := &bizFixture{}
	f.b = parley.Business{ID: graphID(), Name: "Lucky Shrub", CreatedAt: t0}
	f.app = parley.App{ID: graphID(), Business: f.b.ID, Name: "app", SecretSealed: []byte("sealed"), CreatedAt: t0}
	f.n = parley.BusinessNumber{ID: graphID(), Business: f.b.ID, Account: acct, DisplayPhone: "+" + acct, VerifiedName: "Lucky Shrub",
		Quality: parley.QualityGreen, Throughput: 80, MessagingTier: "TIER_250", CreatedAt: t0}
	f.tok = parley.AccessToken{ID: graphID(), Business: f.b.ID, Name: "first", Hash: []byte("hash"), CreatedAt: t0}
	if err := s.CreateBusiness(ctxT(t), &f.b, &f.app, &f.n, &f.tok); err != nil {
		t.Fatalf("CreateBusiness: %v", err)
	}
	return f
}

func testBusiness(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		b, err := s.Business(ctxT(t), f.b.ID)
		if err != nil || b.Name != "Lucky Shrub" || !b.CreatedAt.Equal(at(0)) {
			t.Errorf("Business = %+v, %v", b, err)
		}
		n, err := s.BusinessNumber(ctxT(t), f.n.ID)
		if err != nil {
			t.Fatalf("BusinessNumber: %v", err)
		}
		want := f.n
		want.CreatedAt = at(0)
		if *n != want {
			t.Errorf("BusinessNumber = %+v, want %+v", *n, want)
		}
		if n2, err := s.BusinessNumberByAccount(ctxT(t), f.n.Account); err != nil || n2.ID != f.n.ID {
			t.Errorf("BusinessNumberByAccount = %+v, %v", n2, err)
		}
		a, err := s.App(ctxT(t), f.app.ID)
		if err != nil || !bytes.Equal(a.SecretSealed, []byte("sealed")) || a.Business != f.b.ID {
			t.Errorf("App = %+v, %v", a, err)
		}
		if apps, err := s.Apps(ctxT(t), f.b.ID); err != nil || len(apps) != 1 || apps[0].ID != f.app.ID {
			t.Errorf("Apps = %v, %v", apps, err)
		}
		list, err := s.Businesses(ctxT(t))
		if err != nil || !slices.ContainsFunc(list, func(x parley.Business) bool { return x.ID == f.b.ID }) {
			t.Errorf("Businesses = %v, %v; want it to list %s", list, err, f.b.ID)
		}
	})
	t.Run("UnknownIDs", func(t *testing.T) {
		s := open(t)
		id := graphID()
		_, err := s.Business(ctxT(t), id)
		wantCode(t, "Business", err, parley.ENOTFOUND)
		_, err = s.BusinessNumber(ctxT(t), id)
		wantCode(t, "BusinessNumber", err, parley.ENOTFOUND)
		if parley.ErrorReason(err) != parley.ReasonObject {
			t.Errorf("BusinessNumber reason = %q, want %q", parley.ErrorReason(err), parley.ReasonObject)
		}
		_, err = s.App(ctxT(t), id)
		wantCode(t, "App", err, parley.ENOTFOUND)
		_, err = s.AccessToken(ctxT(t), id)
		wantCode(t, "AccessToken", err, parley.ENOTFOUND)
		_, err = s.Template(ctxT(t), id)
		wantCode(t, "Template", err, parley.ENOTFOUND)
		_, err = s.BusinessNumberByAccount(ctxT(t), newPhone())
		wantCode(t, "BusinessNumberByAccount", err, parley.ENOTFOUND)
	})
	t.Run("NumberTakenOnce", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		// Another business cannot take the same account, and the failed
		// creation leaves nothing behind.
		b2 := parley.Business{ID: graphID(), Name: "Other", CreatedAt: t0}
		app2 := parley.App{ID: graphID(), Business: b2.ID, SecretSealed: []byte("x"), CreatedAt: t0}
		n2 := f.n
		n2.ID, n2.Business = graphID(), b2.ID
		tok2 := parley.AccessToken{ID: graphID(), Business: b2.ID, Hash: []byte("h"), CreatedAt: t0}
		err := s.CreateBusiness(ctxT(t), &b2, &app2, &n2, &tok2)
		wantCode(t, "CreateBusiness(same account)", err, parley.ECONFLICT)
		_, err = s.Business(ctxT(t), b2.ID)
		wantCode(t, "Business(rolled back)", err, parley.ENOTFOUND)
		// A second number for the same business.
		n3 := parley.BusinessNumber{ID: graphID(), Business: f.b.ID, Account: mustAccount(t, s), Quality: parley.QualityGreen,
			MessagingTier: "TIER_2K", CreatedAt: t0.Add(time.Second)}
		if err := s.AddBusinessNumber(ctxT(t), &n3); err != nil {
			t.Fatalf("AddBusinessNumber: %v", err)
		}
		ns, err := s.BusinessNumbers(ctxT(t), f.b.ID)
		if err != nil || len(ns) != 2 || ns[0].ID != n3.ID || ns[1].ID != f.n.ID {
			t.Errorf("BusinessNumbers = %v, %v; want newest first", ns, err)
		}
	})
	t.Run("UpdateNumber", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		n := f.n
		n.Throughput, n.Quality, n.WebhookURL, n.WebhookVerifyToken, n.VerifiedName = 1000, parley.QualityYellow, "https://x.example/h", "vt", "Shrub"
		if err := s.UpdateBusinessNumber(ctxT(t), &n); err != nil {
			t.Fatalf("UpdateBusinessNumber: %v", err)
		}
		got, err := s.BusinessNumber(ctxT(t), n.ID)
		if err != nil || got.Throughput != 1000 || got.Quality != parley.QualityYellow || got.WebhookURL != n.WebhookURL || got.VerifiedName != "Shrub" {
			t.Errorf("after update = %+v, %v", got, err)
		}
		n.ID = graphID()
		wantCode(t, "UpdateBusinessNumber(unknown)", s.UpdateBusinessNumber(ctxT(t), &n), parley.ENOTFOUND)
	})
	t.Run("Tokens", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		t2 := parley.AccessToken{ID: graphID(), Business: f.b.ID, Name: "ci", Hash: []byte("h2"), CreatedAt: t0.Add(time.Minute)}
		if err := s.CreateAccessToken(ctxT(t), &t2); err != nil {
			t.Fatalf("CreateAccessToken: %v", err)
		}
		if err := s.RevokeAccessToken(ctxT(t), f.tok.ID, t0.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeAccessToken: %v", err)
		}
		if err := s.RevokeAccessToken(ctxT(t), f.tok.ID, t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("RevokeAccessToken(again): %v", err)
		}
		got, err := s.AccessToken(ctxT(t), f.tok.ID)
		if err != nil || !got.RevokedAt.Equal(at(time.Hour)) || !bytes.Equal(got.Hash, []byte("hash")) {
			t.Errorf("AccessToken = %+v, %v; want revoked at the first time", got, err)
		}
		list, err := s.AccessTokens(ctxT(t), f.b.ID)
		if err != nil || len(list) != 2 || list[0].ID != f.tok.ID || list[1].ID != t2.ID {
			t.Errorf("AccessTokens = %v, %v", list, err)
		}
		wantCode(t, "RevokeAccessToken(unknown)", s.RevokeAccessToken(ctxT(t), graphID(), t0), parley.ENOTFOUND)
	})
	t.Run("Subscriptions", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		sub := parley.Subscription{Business: f.b.ID, App: f.app.ID, CreatedAt: t0}
		if err := s.Subscribe(ctxT(t), &sub); err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		sub.OverrideCallbackURL, sub.VerifyToken = "https://o.example/h", "vt"
		if err := s.Subscribe(ctxT(t), &sub); err != nil {
			t.Fatalf("Subscribe(replace): %v", err)
		}
		list, err := s.Subscriptions(ctxT(t), f.b.ID)
		if err != nil || len(list) != 1 || list[0].OverrideCallbackURL != "https://o.example/h" || list[0].VerifyToken != "vt" {
			t.Errorf("Subscriptions = %+v, %v", list, err)
		}
		app := f.app
		app.CallbackURL, app.VerifyToken, app.Fields = "https://a.example/h", "avt", []string{"messages", "message_template_status_update"}
		app.MaxChangesPerPost = 25
		if err := s.UpdateAppSubscription(ctxT(t), &app); err != nil {
			t.Fatalf("UpdateAppSubscription: %v", err)
		}
		got, err := s.App(ctxT(t), app.ID)
		if err != nil || got.CallbackURL != app.CallbackURL || !slices.Equal(got.Fields, app.Fields) || got.MaxChangesPerPost != 25 {
			t.Errorf("App = %+v, %v", got, err)
		}
		if err := s.Unsubscribe(ctxT(t), f.b.ID, f.app.ID); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
		wantCode(t, "Unsubscribe(again)", s.Unsubscribe(ctxT(t), f.b.ID, f.app.ID), parley.ENOTFOUND)
		if list, _ := s.Subscriptions(ctxT(t), f.b.ID); len(list) != 0 {
			t.Errorf("Subscriptions after unsubscribe = %v", list)
		}
	})
	t.Run("Profile", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		p, err := s.Profile(ctxT(t), f.n.ID)
		if err != nil || p.About != "" || len(p.Websites) != 0 {
			t.Errorf("empty Profile = %+v, %v", p, err)
		}
		in := parley.BusinessProfile{Number: f.n.ID, About: "Succulents", Address: "1 Hacker Way", Description: "d", Email: "a@b.example",
			Websites: []string{"https://a.example/", "https://b.example/"}, Vertical: "RETAIL", PictureHandle: "4::x", UpdatedAt: t0}
		if err := s.PutProfile(ctxT(t), &in); err != nil {
			t.Fatalf("PutProfile: %v", err)
		}
		p, err = s.Profile(ctxT(t), f.n.ID)
		in.UpdatedAt = at(0)
		if err != nil || p.About != in.About || p.Email != in.Email || !slices.Equal(p.Websites, in.Websites) || p.Vertical != "RETAIL" ||
			p.PictureHandle != "4::x" || !p.UpdatedAt.Equal(in.UpdatedAt) {
			t.Errorf("Profile = %+v, %v; want %+v", p, err, in)
		}
	})
	// PutProfileIf writes only over the version the writer saw: of two
	// writers of one version, the second gets ECONFLICT.
	t.Run("ProfileIf", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		first := parley.BusinessProfile{Number: f.n.ID, About: "first", Websites: []string{}, UpdatedAt: at(time.Second)}
		if err := s.PutProfileIf(ctxT(t), &first, time.Time{}); err != nil {
			t.Fatalf("PutProfileIf (never saved): %v", err)
		}
		again := first
		again.About, again.UpdatedAt = "again", at(2*time.Second)
		wantCode(t, "PutProfileIf(never saved, but it was)", s.PutProfileIf(ctxT(t), &again, time.Time{}), parley.ECONFLICT)
		a, b := first, first
		a.About, a.UpdatedAt = "agent A", at(3*time.Second)
		b.About, b.UpdatedAt = "agent B", at(4*time.Second)
		if err := s.PutProfileIf(ctxT(t), &a, first.UpdatedAt); err != nil {
			t.Fatalf("PutProfileIf (A): %v", err)
		}
		wantCode(t, "PutProfileIf(B over the same version)", s.PutProfileIf(ctxT(t), &b, first.UpdatedAt), parley.ECONFLICT)
		if p, err := s.Profile(ctxT(t), f.n.ID); err != nil || p.About != "agent A" {
			t.Fatalf("Profile = %+v, %v; want agent A's", p, err)
		}
		// Versions compare to the millisecond (what the API hands out).
		b.UpdatedAt = at(5 * time.Second)
		if err := s.PutProfileIf(ctxT(t), &b, a.UpdatedAt.Truncate(time.Millisecond)); err != nil {
			t.Fatalf("PutProfileIf (B over A's version): %v", err)
		}
	})
}

func newTemplate(f *bizFixture, name, lang, status string) *parley.Template {
	return &parley.Template{ID: graphID(), Business: f.b.ID, Name: name, Language: lang, Category: parley.CategoryUtility,
		Status: status, ParameterFormat: parley.FormatPositional, Components: []byte(`[{"type":"BODY","text":"Hello {{1}}, order {{2}} is ready"}]`),
		RejectedReason: parley.RejectNone, CreatedAt: t0, UpdatedAt: t0}
}

func testTemplates(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Lifecycle", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		tpl := newTemplate(f, "order_update", "en_US", parley.TemplateApproved)
		if err := s.CreateTemplate(ctxT(t), tpl); err != nil {
			t.Fatalf("CreateTemplate: %v", err)
		}
		dup := newTemplate(f, "order_update", "en_US", parley.TemplatePending)
		err := s.CreateTemplate(ctxT(t), dup)
		wantCode(t, "CreateTemplate(same name and language)", err, parley.ECONFLICT)
		if parley.ErrorReason(err) != parley.ReasonTemplateExists {
			t.Errorf("reason = %q", parley.ErrorReason(err))
		}
		other := newTemplate(f, "order_update", "de", parley.TemplateApproved)
		if err := s.CreateTemplate(ctxT(t), other); err != nil {
			t.Fatalf("CreateTemplate(other language): %v", err)
		}
		got, err := s.TemplateByName(ctxT(t), f.b.ID, "order_update", "en_US")
		if err != nil || got.ID != tpl.ID || string(got.Components) != string(tpl.Components) || !got.CreatedAt.Equal(at(0)) {
			t.Errorf("TemplateByName = %+v, %v", got, err)
		}
		_, err = s.TemplateByName(ctxT(t), f.b.ID, "order_update", "fr")
		wantCode(t, "TemplateByName(other language)", err, parley.ENOTFOUND)
		if parley.ErrorReason(err) != parley.ReasonTemplateMissing {
			t.Errorf("reason = %q", parley.ErrorReason(err))
		}
		up, err := s.SetTemplateStatus(ctxT(t), tpl.ID, parley.TemplateRejected, parley.RejectInvalidFormat, t0.Add(time.Minute))
		if err != nil || up.Status != parley.TemplateRejected || up.RejectedReason != parley.RejectInvalidFormat || !up.UpdatedAt.Equal(at(time.Minute)) {
			t.Errorf("SetTemplateStatus = %+v, %v", up, err)
		}
		// By id (with the wrong name: nothing), then by name: every language.
		_, err = s.DeleteTemplates(ctxT(t), f.b.ID, "other_name", tpl.ID)
		wantCode(t, "DeleteTemplates(id, wrong name)", err, parley.ENOTFOUND)
		del, err := s.DeleteTemplates(ctxT(t), f.b.ID, "", other.ID)
		if err != nil || len(del) != 1 || del[0].ID != other.ID {
			t.Errorf("DeleteTemplates(id) = %v, %v", del, err)
		}
		del, err = s.DeleteTemplates(ctxT(t), f.b.ID, "order_update", "")
		if err != nil || len(del) != 1 || del[0].ID != tpl.ID {
			t.Errorf("DeleteTemplates(name) = %v, %v", del, err)
		}
		_, err = s.DeleteTemplates(ctxT(t), f.b.ID, "order_update", "")
		wantCode(t, "DeleteTemplates(again)", err, parley.ENOTFOUND)
	})
	t.Run("ListPagingAndFilters", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		g := mustBusiness(t, s)
		var ids []string
		for i := range 7 {
			st := parley.TemplateApproved
			if i%3 == 0 {
				st = parley.TemplateRejected
			}
			tpl := newTemplate(f, fmt.Sprintf("t%d", i), "en_US", st)
			if err := s.CreateTemplate(ctxT(t), tpl); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tpl.ID)
		}
		if err := s.CreateTemplate(ctxT(t), newTemplate(g, "t0", "en_US", parley.TemplateApproved)); err != nil {
			t.Fatal(err)
		}
		var seen []string
		after := ""
		for range 10 {
			page, more, err := s.Templates(ctxT(t), parley.TemplateFilter{Business: f.b.ID, After: after, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				seen = append(seen, p.ID)
			}
			if !more {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(seen, ids) {
			t.Errorf("paged ids = %v, want %v (the other business's template must not appear)", seen, ids)
		}
		page, more, err := s.Templates(ctxT(t), parley.TemplateFilter{Business: f.b.ID, Before: ids[5], Limit: 2})
		if err != nil || !more || len(page) != 2 || page[0].ID != ids[3] || page[1].ID != ids[4] {
			t.Errorf("Before page = %v, more=%v, %v; want ids 3 and 4", page, more, err)
		}
		rej, _, err := s.Templates(ctxT(t), parley.TemplateFilter{Business: f.b.ID, Status: parley.TemplateRejected})
		if err != nil || len(rej) != 3 {
			t.Errorf("Status filter = %d templates, %v; want 3", len(rej), err)
		}
		named, _, err := s.Templates(ctxT(t), parley.TemplateFilter{Business: f.b.ID, Name: "t4", Language: "en_US", Category: parley.CategoryUtility})
		if err != nil || len(named) != 1 || named[0].ID != ids[4] {
			t.Errorf("Name filter = %v, %v", named, err)
		}
	})
}

func outboundMsg(f *bizFixture, i int) *parley.Outbound {
	return &parley.Outbound{WAMID: fmt.Sprintf("wamid.%s-%d", f.n.ID, i), Number: f.n.ID, To: "16505551234", Type: parley.MessageText,
		Body: []byte(`{"messaging_product":"whatsapp","to":"16505551234","type":"text","text":{"body":"hi"}}`), BizOpaque: "cb",
		ContextID: "wamid.ctx", CreatedAt: t0}
}

func testOutbound(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("EnqueueAndRead", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		o := outboundMsg(f, 1)
		if err := s.Enqueue(ctxT(t), o); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		if o.Seq != 1 || o.Status != parley.OutboundAccepted {
			t.Errorf("Seq, Status = %d, %q; want 1, accepted", o.Seq, o.Status)
		}
		got, err := s.Outbound(ctxT(t), o.WAMID)
		if err != nil {
			t.Fatalf("Outbound: %v", err)
		}
		if got.Number != f.n.ID || got.To != o.To || string(got.Body) != string(o.Body) || got.BizOpaque != "cb" || got.ContextID != "wamid.ctx" ||
			got.Type != parley.MessageText || !got.CreatedAt.Equal(at(0)) {
			t.Errorf("Outbound = %+v", got)
		}
		unknown := outboundMsg(f, 2)
		unknown.Number = graphID()
		wantCode(t, "Enqueue(unknown number)", s.Enqueue(ctxT(t), unknown), parley.ENOTFOUND)
		_, err = s.Outbound(ctxT(t), "wamid.nothing")
		wantCode(t, "Outbound(unknown)", err, parley.ENOTFOUND)
	})
	t.Run("ConcurrentSeqsHaveNoGaps", func(t *testing.T) {
		s := open(t)
		f, g := mustBusiness(t, s), mustBusiness(t, s)
		const senders, each = 16, 25
		var wg sync.WaitGroup
		for w := range senders {
			wg.Go(func() {
				for i := range each {
					fx := f
					if i%2 == 1 {
						fx = g
					}
					if err := s.Enqueue(ctxT(t), outboundMsg(fx, w*1000+i)); err != nil {
						t.Errorf("Enqueue: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, fx := range []*bizFixture{f, g} {
			var all []parley.Outbound
			after := uint64(0)
			for {
				page, err := s.NextOutbound(ctxT(t), fx.n.ID, after, 50)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				all = append(all, page...)
				after = page[len(page)-1].Seq
			}
			for i, o := range all {
				if o.Seq != uint64(i+1) || o.Number != fx.n.ID {
					t.Fatalf("message %d has seq %d number %s; want %d, %s", i, o.Seq, o.Number, i+1, fx.n.ID)
				}
			}
			if want := senders * each / 2; len(all) < want-senders || len(all) > want+senders {
				t.Errorf("number has %d messages, want about %d", len(all), want)
			}
		}
	})
	t.Run("StatusMovesForward", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		o := outboundMsg(f, 1)
		if err := s.Enqueue(ctxT(t), o); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			status  string
			code    int
			changed bool
			want    string
		}{
			{parley.OutboundSent, 0, true, parley.OutboundSent},
			{parley.OutboundRead, 0, true, parley.OutboundRead},
			{parley.OutboundDelivered, 0, false, parley.OutboundRead},
			{parley.OutboundSent, 0, false, parley.OutboundRead},
			{parley.OutboundFailed, 131047, true, parley.OutboundFailed},
		}
		for i, tt := range tests {
			changed, err := s.SetOutboundStatus(ctxT(t), o.WAMID, tt.status, tt.code, t0.Add(time.Duration(i+1)*time.Second))
			if err != nil || changed != tt.changed {
				t.Errorf("SetOutboundStatus(%s) = %v, %v; want %v", tt.status, changed, err, tt.changed)
			}
			got, _ := s.Outbound(ctxT(t), o.WAMID)
			if got.Status != tt.want {
				t.Errorf("after %s: status %q, want %q", tt.status, got.Status, tt.want)
			}
		}
		got, _ := s.Outbound(ctxT(t), o.WAMID)
		if got.ErrorCode != 131047 {
			t.Errorf("ErrorCode = %d, want 131047", got.ErrorCode)
		}
		_, err := s.SetOutboundStatus(ctxT(t), "wamid.unknown", parley.OutboundSent, 0, t0)
		wantCode(t, "SetOutboundStatus(unknown)", err, parley.ENOTFOUND)
		_, err = s.SetOutboundStatus(ctxT(t), o.WAMID, "bogus", 0, t0)
		wantCode(t, "SetOutboundStatus(bogus)", err, parley.EINVALID)
	})
	// SetOutboundStatuses moves many messages as SetOutboundStatus moves
	// each: forward only, with the code and time; an unknown wamid
	// changes nothing and fails nothing; an unknown status fails all.
	t.Run("StatusesMoveForward", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		a, b, c := outboundMsg(f, 1), outboundMsg(f, 2), outboundMsg(f, 3)
		for _, o := range []*parley.Outbound{a, b, c} {
			if err := s.Enqueue(ctxT(t), o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SetOutboundStatus(ctxT(t), b.WAMID, parley.OutboundRead, 0, t0); err != nil {
			t.Fatal(err)
		}
		err := s.SetOutboundStatuses(ctxT(t), []parley.Outbound{
			{WAMID: a.WAMID, Status: parley.OutboundFailed, ErrorCode: 131047, UpdatedAt: t0.Add(time.Second)},
			{WAMID: b.WAMID, Status: parley.OutboundDelivered, UpdatedAt: t0.Add(time.Second)}, // back: no change
			{WAMID: "wamid.unknown", Status: parley.OutboundFailed, ErrorCode: 131047, UpdatedAt: t0},
			{WAMID: c.WAMID, Status: parley.OutboundSent, UpdatedAt: t0.Add(2 * time.Second)},
		})
		if err != nil {
			t.Fatalf("SetOutboundStatuses: %v", err)
		}
		for _, tt := range []struct {
			wamid, status string
			code          int
			updated       time.Time
		}{
			{a.WAMID, parley.OutboundFailed, 131047, at(time.Second)},
			{b.WAMID, parley.OutboundRead, 0, at(0)},
			{c.WAMID, parley.OutboundSent, 0, at(2 * time.Second)},
		} {
			got, err := s.Outbound(ctxT(t), tt.wamid)
			if err != nil || got.Status != tt.status || got.ErrorCode != tt.code || !got.UpdatedAt.Equal(tt.updated) {
				t.Errorf("Outbound(%s) = %+v, %v; want %s, code %d, updated %v", tt.wamid, got, err, tt.status, tt.code, tt.updated)
			}
		}
		err = s.SetOutboundStatuses(ctxT(t), []parley.Outbound{{WAMID: c.WAMID, Status: parley.OutboundDelivered}, {WAMID: a.WAMID, Status: "bogus"}})
		wantCode(t, "SetOutboundStatuses(bogus)", err, parley.EINVALID)
		if got, _ := s.Outbound(ctxT(t), c.WAMID); got.Status != parley.OutboundSent {
			t.Errorf("after a refused batch: status %q, want sent", got.Status)
		}
		if err := s.SetOutboundStatuses(ctxT(t), nil); err != nil {
			t.Errorf("SetOutboundStatuses(nil) = %v", err)
		}
	})
	t.Run("Purge", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		done, pending := outboundMsg(f, 1), outboundMsg(f, 2)
		for _, o := range []*parley.Outbound{done, pending} {
			if err := s.Enqueue(ctxT(t), o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SetOutboundStatus(ctxT(t), done.WAMID, parley.OutboundDelivered, 0, t0); err != nil {
			t.Fatal(err)
		}
		n, err := s.PurgeOutbound(ctxT(t), t0.Add(time.Hour))
		if err != nil || n != 1 {
			t.Errorf("PurgeOutbound = %d, %v; want 1", n, err)
		}
		if _, err := s.Outbound(ctxT(t), pending.WAMID); err != nil {
			t.Errorf("accepted message purged: %v", err)
		}
	})
}
