package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func testCodes(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("PutAndRead", func(t *testing.T) {
		s := open(t)
		phone := newPhone()
		c := &parley.Code{Phone: phone, Hash: []byte("hash-1"), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
		if err := s.PutCode(ctxT(t), c); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
		got, err := s.Code(ctxT(t), phone)
		if err != nil {
			t.Fatalf("Code: %v", err)
		}
		want := parley.Code{Phone: phone, Hash: []byte("hash-1"), CreatedAt: at(0), ExpiresAt: at(10 * time.Minute)}
		if !equalCode(*got, want) {
			t.Errorf("Code = %+v, want %+v", *got, want)
		}
	})
	t.Run("AttemptsAndLockout", func(t *testing.T) {
		s := open(t)
		phone := newPhone()
		if err := s.PutCode(ctxT(t), &parley.Code{Phone: phone, Hash: []byte("h"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
		tests := []struct {
			name        string
			lockedUntil time.Time
			want        int
		}{
			{"First", time.Time{}, 1},
			{"Second", time.Time{}, 2},
			{"ThirdLocks", t0.Add(15 * time.Minute), 3},
		}
		for _, tt := range tests {
			got, err := s.RecordAttempt(ctxT(t), phone, tt.lockedUntil)
			if err != nil || got != tt.want {
				t.Errorf("%s: RecordAttempt = %d, %v; want %d", tt.name, got, err, tt.want)
			}
		}
		c, err := s.Code(ctxT(t), phone)
		if err != nil {
			t.Fatalf("Code: %v", err)
		}
		if c.Attempts != 3 || !c.LockedUntil.Equal(at(15*time.Minute)) {
			t.Errorf("Attempts, LockedUntil = %d, %v; want 3, %v", c.Attempts, c.LockedUntil, at(15*time.Minute))
		}
		// A new code replaces the old one with its attempts and lockout.
		if err := s.PutCode(ctxT(t), &parley.Code{Phone: phone, Hash: []byte("h2"), CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(2 * time.Hour)}); err != nil {
			t.Fatalf("PutCode(replace): %v", err)
		}
		c, err = s.Code(ctxT(t), phone)
		if err != nil {
			t.Fatalf("Code: %v", err)
		}
		want := parley.Code{Phone: phone, Hash: []byte("h2"), CreatedAt: at(time.Hour), ExpiresAt: at(2 * time.Hour)}
		if !equalCode(*c, want) {
			t.Errorf("replaced Code = %+v, want %+v", *c, want)
		}
	})
	t.Run("DeleteOnce", func(t *testing.T) {
		s := open(t)
		phone := newPhone()
		if err := s.PutCode(ctxT(t), &parley.Code{Phone: phone, Hash: []byte("h"), CreatedAt: t0, ExpiresAt: t0}); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
		if err := s.DeleteCode(ctxT(t), phone); err != nil {
			t.Fatalf("DeleteCode: %v", err)
		}
		wantCode(t, "Code after delete", func() error { _, err := s.Code(ctxT(t), phone); return err }(), parley.ENOTFOUND)
		wantCode(t, "second DeleteCode", s.DeleteCode(ctxT(t), phone), parley.ENOTFOUND)
	})
}

func equalCode(a, b parley.Code) bool {
	return a.Phone == b.Phone && bytes.Equal(a.Hash, b.Hash) && a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.Attempts == b.Attempts && a.LockedUntil.Equal(b.LockedUntil)
}

func testRates(t *testing.T, open func(t *testing.T) parley.Store) {
	// Windows are aligned to multiples of their length since the epoch.
	window := time.Minute
	start := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	t.Run("Windows", func(t *testing.T) {
		s := open(t)
		tests := []struct {
			name      string
			key       string
			now       time.Time
			wantOK    bool
			wantRetry time.Duration
		}{
			{"First", "k", start.Add(10 * time.Second), true, 0},
			{"Second", "k", start.Add(20 * time.Second), true, 0},
			{"Third", "k", start.Add(30 * time.Second), true, 0},
			{"OverLimit", "k", start.Add(45 * time.Second), false, 15 * time.Second},
			{"StillOver", "k", start.Add(59 * time.Second), false, time.Second},
			{"OtherKey", "other", start.Add(59 * time.Second), true, 0},
			{"NextWindow", "k", start.Add(60 * time.Second), true, 0},
		}
		for _, tt := range tests {
			ok, retry, err := s.Hit(ctxT(t), tt.key, window, 3, tt.now)
			if err != nil || ok != tt.wantOK || retry != tt.wantRetry {
				t.Errorf("%s: Hit = %v, %v, %v; want %v, %v", tt.name, ok, retry, err, tt.wantOK, tt.wantRetry)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		const n, limit = 40, 25
		results := make(chan bool, n)
		for range n {
			go func() {
				ok, _, err := s.Hit(ctxT(t), "burst", window, limit, start)
				if err != nil {
					t.Errorf("Hit: %v", err)
				}
				results <- ok
			}()
		}
		allowed := 0
		for range n {
			if <-results {
				allowed++
			}
		}
		if allowed != limit {
			t.Errorf("allowed %d of %d concurrent hits, want exactly %d", allowed, n, limit)
		}
	})
	t.Run("ManyWindows", func(t *testing.T) {
		// Enough hits in ended windows to trigger the store's cleanup;
		// counting must be unaffected.
		s := open(t)
		for i := range 1100 {
			ok, _, err := s.Hit(ctxT(t), "sweep", time.Second, 1, start.Add(time.Duration(i)*time.Second))
			if err != nil || !ok {
				t.Fatalf("Hit %d = %v, %v; want ok", i, ok, err)
			}
		}
	})
	t.Run("HitN", func(t *testing.T) {
		s := open(t)
		tests := []struct {
			name   string
			n      int64
			wantOK bool
		}{
			{"First", 600, true},
			{"UpToLimit", 400, true},
			{"Over", 1, false},
			{"StillOver", 0, false},
		}
		for _, tt := range tests {
			ok, retry, err := s.HitN(ctxT(t), "bytes", time.Hour, tt.n, 1000, start)
			if err != nil || ok != tt.wantOK || (ok != (retry == 0)) {
				t.Errorf("%s: HitN(%d) = %v, %v, %v; want ok=%v", tt.name, tt.n, ok, retry, err, tt.wantOK)
			}
		}
		_, _, err := s.HitN(ctxT(t), "bytes", time.Hour, -1, 1000, start)
		wantCode(t, "HitN with negative n", err, parley.EINVALID)
	})
	t.Run("BadWindow", func(t *testing.T) {
		s := open(t)
		_, _, err := s.Hit(ctxT(t), "k", 0, 1, start)
		wantCode(t, "Hit with zero window", err, parley.EINVALID)
	})
}

func testSMS(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("LastWins", func(t *testing.T) {
		s := open(t)
		phone, other := newPhone(), newPhone()
		sends := []struct {
			phone, text string
			at          time.Time
		}{
			{phone, "code 111111", t0},
			{other, "code 999999", t0.Add(time.Second)},
			{phone, "code 222222", t0.Add(time.Minute)},
		}
		for _, m := range sends {
			if err := s.RecordSMS(ctxT(t), m.phone, m.text, m.at); err != nil {
				t.Fatalf("RecordSMS: %v", err)
			}
		}
		text, when, err := s.LastSMS(ctxT(t), phone)
		if err != nil || text != "code 222222" || !when.Equal(at(time.Minute)) {
			t.Errorf("LastSMS = %q, %v, %v; want %q, %v", text, when, err, "code 222222", at(time.Minute))
		}
		text, _, err = s.LastSMS(ctxT(t), other)
		if err != nil || text != "code 999999" {
			t.Errorf("LastSMS(other) = %q, %v; want %q", text, err, "code 999999")
		}
	})
}
