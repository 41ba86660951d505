package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testQRLinks: codes are created up to a per-number limit (also when
// created at once), listed newest first with paging, updated, and
// deleted as tombstones that stay readable and cannot be changed.
func testQRLinks(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	f := mustBusiness(t, s)
	mk := func(code string, d time.Duration) *parley.QRLink {
		return &parley.QRLink{Code: code, Business: f.b.ID, Number: f.n.ID, Account: f.n.Account, Prefilled: "Hallo " + code,
			CreatedAt: at(d), UpdatedAt: at(d)}
	}
	codes := []string{"AAAAAAAAAAAAA1", "AAAAAAAAAAAAA2", "AAAAAAAAAAAAA3"}
	for i, c := range codes {
		if err := s.CreateQRLink(ctxT(t), mk(c, time.Duration(i)*time.Second), 3); err != nil {
			t.Fatalf("CreateQRLink %s: %v", c, err)
		}
	}
	if err := s.CreateQRLink(ctxT(t), mk("AAAAAAAAAAAAA4", 9*time.Second), 3); !parley.Match(err, parley.ERATELIMIT) {
		t.Errorf("CreateQRLink over the limit = %v, want %s", err, parley.ERATELIMIT)
	}
	if err := s.CreateQRLink(ctxT(t), mk(codes[0], 9*time.Second), 10); !parley.Match(err, parley.ECONFLICT) {
		t.Errorf("CreateQRLink with an existing code = %v, want %s", err, parley.ECONFLICT)
	}
	other := mk("AAAAAAAAAAAAA5", 0)
	other.Number = graphID()
	if err := s.CreateQRLink(ctxT(t), other, 10); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("CreateQRLink for an unknown number = %v, want %s", err, parley.ENOTFOUND)
	}

	got, err := s.QRLink(ctxT(t), codes[1])
	if want := mk(codes[1], time.Second); err != nil || *got != *want {
		t.Fatalf("QRLink = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.QRLink(ctxT(t), "ZZZZZZZZZZZZZZ"); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("QRLink(unknown) = %v, want %s", err, parley.ENOTFOUND)
	}

	list, more, err := s.QRLinks(ctxT(t), f.n.ID, "", 2)
	if err != nil || !more || len(list) != 2 || list[0].Code != codes[2] || list[1].Code != codes[1] {
		t.Fatalf("QRLinks first page = %+v, %v, %v; want %s, %s and more", list, more, err, codes[2], codes[1])
	}
	list, more, err = s.QRLinks(ctxT(t), f.n.ID, list[1].Code, 2)
	if err != nil || more || len(list) != 1 || list[0].Code != codes[0] {
		t.Fatalf("QRLinks second page = %+v, %v, %v; want %s alone", list, more, err, codes[0])
	}

	if err := s.UpdateQRLink(ctxT(t), codes[0], "Neu", at(time.Minute)); err != nil {
		t.Fatalf("UpdateQRLink: %v", err)
	}
	if got, _ := s.QRLink(ctxT(t), codes[0]); got.Prefilled != "Neu" || !got.UpdatedAt.Equal(at(time.Minute)) {
		t.Errorf("after UpdateQRLink = %+v, want prefilled Neu updated at +1m", got)
	}
	if err := s.DeleteQRLink(ctxT(t), codes[0], at(2*time.Minute)); err != nil {
		t.Fatalf("DeleteQRLink: %v", err)
	}
	if got, err := s.QRLink(ctxT(t), codes[0]); err != nil || !got.DeletedAt.Equal(at(2*time.Minute)) {
		t.Errorf("deleted QRLink = %+v, %v; want a tombstone deleted at +2m", got, err)
	}
	if err := s.DeleteQRLink(ctxT(t), codes[0], at(3*time.Minute)); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("DeleteQRLink twice = %v, want %s", err, parley.ENOTFOUND)
	}
	if err := s.UpdateQRLink(ctxT(t), codes[0], "x", at(3*time.Minute)); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("UpdateQRLink of a deleted code = %v, want %s", err, parley.ENOTFOUND)
	}
	if list, _, _ := s.QRLinks(ctxT(t), f.n.ID, "", 10); len(list) != 2 {
		t.Errorf("QRLinks after a deletion = %d codes, want 2", len(list))
	}
	// The deleted code no longer counts against the limit, and is not
	// handed out again.
	if err := s.CreateQRLink(ctxT(t), mk("AAAAAAAAAAAAA4", 9*time.Second), 3); err != nil {
		t.Errorf("CreateQRLink after a deletion: %v", err)
	}
	if err := s.CreateQRLink(ctxT(t), mk(codes[0], 9*time.Second), 10); !parley.Match(err, parley.ECONFLICT) {
		t.Errorf("CreateQRLink reusing a deleted code = %v, want %s", err, parley.ECONFLICT)
	}

	t.Run("ConcurrentLimit", func(t *testing.T) {
		g := mustBusiness(t, s)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := &parley.QRLink{Code: fmt.Sprintf("CONCURRENT%04d", i), Business: g.b.ID, Number: g.n.ID, Account: g.n.Account,
					CreatedAt: at(0), UpdatedAt: at(0)}
				err := s.CreateQRLink(ctxT(t), l, 5)
				if err != nil && !parley.Match(err, parley.ERATELIMIT) && !parley.Match(err, parley.EUNAVAILABLE) {
					t.Errorf("CreateQRLink: %v", err)
				}
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if list, _, _ := s.QRLinks(ctxT(t), g.n.ID, "", 100); ok > 5 || len(list) != ok {
			t.Errorf("%d concurrent creations succeeded, %d stored; want at most 5, as many stored", ok, len(list))
		}
	})
}
