package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func testHosted(t *testing.T, open func(t *testing.T) parley.Store) {
	kinds := []string{parley.HostedBusiness, parley.HostedCustomer}
	newHosted := func(t *testing.T, s parley.Store) *parley.HostedDevice {
		t.Helper()
		acc := mustAccount(t, s)
		h := &parley.HostedDevice{Account: acc, Device: mustDevice(t, s, acc), Kind: parley.HostedBusiness,
			Sealed: []byte("sealed-0"), CreatedAt: at(0)}
		if err := s.PutHosted(ctxT(t), h); err != nil {
			t.Fatalf("PutHosted: %v", err)
		}
		return h
	}
	t.Run("PutAndGet", func(t *testing.T) {
		s := open(t)
		h := newHosted(t, s)
		got, err := s.Hosted(ctxT(t), h.Account)
		if err != nil || got.Device != h.Device || got.Kind != h.Kind || !bytes.Equal(got.Sealed, h.Sealed) ||
			!got.CreatedAt.Equal(at(0)) || got.LeaseNode != "" || got.Version != 0 {
			t.Fatalf("Hosted = %+v, %v; want %+v", got, err, h)
		}
		wantCode(t, "PutHosted twice", s.PutHosted(ctxT(t), h), parley.ECONFLICT)
		_, err = s.Hosted(ctxT(t), newPhone())
		wantCode(t, "Hosted of an account without one", err, parley.ENOTFOUND)
	})
	t.Run("LeaseSaveRelease", func(t *testing.T) {
		s := open(t)
		h := newHosted(t, s)
		now := at(time.Minute)
		wantCode(t, "SaveHosted without a lease", s.SaveHosted(ctxT(t), h.Account, h.Device, "n1", now, []byte("x")), parley.ECONFLICT)
		got, err := s.LeaseHosted(ctxT(t), "n1", kinds, now, now.Add(30*time.Second), 100)
		if err != nil || len(got) != 1 || got[0].LeaseNode != "n1" || !got[0].LeaseUntil.Equal(now.Add(30*time.Second)) {
			t.Fatalf("LeaseHosted(n1) = %+v, %v", got, err)
		}
		if other, err := s.LeaseHosted(ctxT(t), "n2", kinds, now.Add(10*time.Second), now.Add(40*time.Second), 100); err != nil || len(other) != 0 {
			t.Fatalf("LeaseHosted(n2) during n1's lease = %+v, %v; want none", other, err)
		}
		// Renewing: the holder gets it again.
		if again, err := s.LeaseHosted(ctxT(t), "n1", kinds, now.Add(20*time.Second), now.Add(60*time.Second), 100); err != nil || len(again) != 1 {
			t.Fatalf("renewal = %+v, %v", again, err)
		}
		if err := s.SaveHosted(ctxT(t), h.Account, h.Device, "n1", now.Add(50*time.Second), []byte("sealed-1")); err != nil {
			t.Fatalf("SaveHosted by the holder: %v", err)
		}
		wantCode(t, "SaveHosted by another node", s.SaveHosted(ctxT(t), h.Account, h.Device, "n2", now.Add(50*time.Second), []byte("x")), parley.ECONFLICT)
		// Expired: another node takes it, and the old holder can no longer save.
		late := now.Add(2 * time.Minute)
		taken, err := s.LeaseHosted(ctxT(t), "n2", kinds, late, late.Add(30*time.Second), 100)
		if err != nil || len(taken) != 1 || !bytes.Equal(taken[0].Sealed, []byte("sealed-1")) || taken[0].Version != 1 {
			t.Fatalf("takeover = %+v, %v; want the saved state, version 1", taken, err)
		}
		wantCode(t, "SaveHosted by the old holder", s.SaveHosted(ctxT(t), h.Account, h.Device, "n1", late, []byte("x")), parley.ECONFLICT)
		if err := s.ReleaseHosted(ctxT(t), "n2"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LeaseHosted(ctxT(t), "n3", kinds, late, late.Add(time.Minute), 100); err != nil || len(got) != 1 {
			t.Fatalf("LeaseHosted after release = %+v, %v", got, err)
		}
	})
	t.Run("OnlyGivenKinds", func(t *testing.T) {
		s := open(t)
		h := newHosted(t, s) // a business device
		now := at(time.Minute)
		if got, err := s.LeaseHosted(ctxT(t), "n1", []string{parley.HostedCustomer}, now, now.Add(time.Minute), 10); err != nil || len(got) != 0 {
			t.Fatalf("LeaseHosted(customers) = %+v, %v; want nothing", got, err)
		}
		if got, err := s.LeaseHosted(ctxT(t), "n2", []string{parley.HostedBusiness}, now, now.Add(time.Minute), 10); err != nil || len(got) != 1 || got[0].Account != h.Account {
			t.Fatalf("LeaseHosted(businesses) = %+v, %v; want the business device", got, err)
		}
	})
	t.Run("ConcurrentLeases", func(t *testing.T) {
		s := open(t)
		stores := []parley.Store{s}
		if r, ok := s.(Reopener); ok { // a second node on the same database
			s2, err := r.Reopen(ctxT(t))
			if err != nil {
				t.Fatalf("Reopen: %v", err)
			}
			defer s2.Close()
			stores = append(stores, s2)
		}
		const n = 12
		for range n {
			newHosted(t, s)
		}
		now := at(time.Hour)
		var mu sync.Mutex
		owner := map[string]string{}
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				node := string(rune('a' + i))
				got, err := stores[i%len(stores)].LeaseHosted(ctxT(t), node, kinds, now, now.Add(time.Minute), n)
				if err != nil {
					t.Errorf("LeaseHosted(%s): %v", node, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, h := range got {
					if prev, ok := owner[h.Account]; ok {
						t.Errorf("%s leased by %s and %s", h.Account, prev, node)
					}
					owner[h.Account] = node
				}
			})
		}
		wg.Wait()
		if len(owner) != n {
			t.Errorf("%d of %d devices leased", len(owner), n)
		}
	})
}

func testSandbox(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	acc, other := newPhone(), newPhone()
	add := func(account, ref, line string) {
		t.Helper()
		if err := s.AppendSandbox(ctxT(t), &parley.SandboxLine{Account: account, Ref: ref, MessageID: "m-" + ref, From: "491510000000",
			Line: []byte(line), CreatedAt: at(0)}); err != nil {
			t.Fatalf("AppendSandbox: %v", err)
		}
	}
	add(acc, "wamid.A", `{"id":"wamid.A"}`)
	add(other, "wamid.X", `{"id":"wamid.X"}`)
	add(acc, "wamid.B", `{"id":"wamid.B"}`)
	add(acc, "wamid.A", `{"id":"wamid.A","again":true}`) // a redelivery: kept once
	lines, err := s.SandboxLines(ctxT(t), acc, 0, 10)
	if err != nil || len(lines) != 2 || lines[0].Ref != "wamid.A" || lines[1].Ref != "wamid.B" ||
		string(lines[0].Line) != `{"id":"wamid.A"}` || lines[0].MessageID != "m-wamid.A" || !lines[0].CreatedAt.Equal(at(0)) {
		t.Fatalf("SandboxLines = %+v, %v", lines, err)
	}
	if more, err := s.SandboxLines(ctxT(t), acc, lines[0].Seq, 10); err != nil || len(more) != 1 || more[0].Ref != "wamid.B" {
		t.Fatalf("SandboxLines after the first = %+v, %v", more, err)
	}
	l, err := s.SandboxLine(ctxT(t), acc, "wamid.B")
	if err != nil || l.Seq != lines[1].Seq {
		t.Fatalf("SandboxLine = %+v, %v", l, err)
	}
	_, err = s.SandboxLine(ctxT(t), acc, "wamid.X")
	wantCode(t, "SandboxLine of another account's line", err, parley.ENOTFOUND)
}

func testBusinessChats(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	m := &parley.BusinessMessage{MessageID: "m1", WAMID: "wamid.AAA=", Number: "1234567890123456", Customer: "4915100000001", CreatedAt: at(0)}
	if err := s.PutBusinessMessage(ctxT(t), m); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBusinessMessage(ctxT(t), m); err != nil { // a retry
		t.Fatalf("second PutBusinessMessage: %v", err)
	}
	for _, got := range []func() (*parley.BusinessMessage, error){
		func() (*parley.BusinessMessage, error) { return s.BusinessMessageByID(ctxT(t), "m1") },
		func() (*parley.BusinessMessage, error) { return s.BusinessMessageByWAMID(ctxT(t), "wamid.AAA=") },
	} {
		g, err := got()
		if err != nil || *g != *m {
			t.Fatalf("lookup = %+v, %v; want %+v", g, err, m)
		}
	}
	_, err := s.BusinessMessageByWAMID(ctxT(t), "wamid.none")
	wantCode(t, "unknown wamid", err, parley.ENOTFOUND)

	if last, err := s.LastInbound(ctxT(t), m.Number, m.Customer); err != nil || !last.IsZero() {
		t.Fatalf("LastInbound before any = %v, %v", last, err)
	}
	for _, d := range []time.Duration{time.Hour, time.Minute} { // an older one does not win
		if err := s.TouchWindow(ctxT(t), m.Number, m.Customer, at(d)); err != nil {
			t.Fatal(err)
		}
	}
	if last, err := s.LastInbound(ctxT(t), m.Number, m.Customer); err != nil || !last.Equal(at(time.Hour)) {
		t.Fatalf("LastInbound = %v, %v; want %v", last, err, at(time.Hour))
	}
	// LastInbounds reads many customers at once (more than one chunk of
	// a bulk statement), leaving out those who never wrote and other
	// numbers' customers.
	var customers []string
	want := map[string]time.Time{m.Customer: at(time.Hour)}
	for i := range 300 {
		c := fmt.Sprintf("1650999%04d", i)
		customers = append(customers, c)
		if i%3 == 0 {
			if err := s.TouchWindow(ctxT(t), m.Number, c, at(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
			want[c] = at(time.Duration(i) * time.Second)
		}
	}
	if err := s.TouchWindow(ctxT(t), "other-number", "16509990001", at(0)); err != nil {
		t.Fatal(err)
	}
	customers = append(customers, m.Customer)
	got, err := s.LastInbounds(ctxT(t), m.Number, customers)
	if err != nil || len(got) != len(want) {
		t.Fatalf("LastInbounds = %d times, %v; want %d", len(got), err, len(want))
	}
	for c, w := range want {
		if !got[c].Equal(w) {
			t.Errorf("LastInbounds[%s] = %v, want %v", c, got[c], w)
		}
	}
	if got, err := s.LastInbounds(ctxT(t), m.Number, nil); err != nil || len(got) != 0 {
		t.Errorf("LastInbounds(none) = %v, %v", got, err)
	}
}

func testReach(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	const biz = "1234567890123456"
	since, now := at(0), at(time.Hour)
	reach := func(customer string, at time.Time, limit int) bool {
		t.Helper()
		ok, err := s.Reach(ctxT(t), biz, customer, since, at, limit)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !reach("c1", now, 2) || !reach("c2", now, 2) {
		t.Fatal("the first two customers were refused with a limit of 2")
	}
	if reach("c3", now, 2) {
		t.Fatal("a third customer was reached with a limit of 2")
	}
	if !reach("c1", now, 2) {
		t.Fatal("a customer reached already in the window was refused")
	}
	if !reach("c3", now, -1) {
		t.Fatal("refused without a limit")
	}
	// Another business has its own count.
	if ok, err := s.Reach(ctxT(t), "6543210987654321", "c9", since, now, 1); err != nil || !ok {
		t.Fatalf("another business: %v, %v", ok, err)
	}
	// Reaches before since no longer count.
	later := at(30 * time.Hour)
	if ok, err := s.Reach(ctxT(t), biz, "c4", at(25*time.Hour), later, 1); err != nil || !ok {
		t.Fatalf("after the window moved on: %v, %v", ok, err)
	}
}
