package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func testPresence(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Scenarios", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		d1, d2 := mustDevice(t, s, acc), mustDevice(t, s, acc)
		alive := t0.Add(-time.Minute) // heartbeats after this count
		steps := []struct {
			name       string
			do         func() error
			wantOnline bool
			wantSeen   time.Time
		}{
			{"Never", func() error { return nil }, false, time.Time{}},
			{"OnlineOnDeadNode", func() error { return s.SetOnline(ctxT(t), acc, d1, "n1", t0) }, false, at(0)},
			{"NodeHeartbeats", func() error { return s.Heartbeat(ctxT(t), "n1", t0) }, true, at(0)},
			{"SecondDeviceOnOtherNode", func() error { return s.SetOnline(ctxT(t), acc, d2, "n2", t0.Add(time.Second)) }, true, at(time.Second)},
			{"FirstOfflineAtOtherNodeIgnored", func() error { return s.SetOffline(ctxT(t), acc, d1, "n9", t0.Add(2*time.Second)) }, true, at(2 * time.Second)},
			{"FirstOffline", func() error { return s.SetOffline(ctxT(t), acc, d1, "n1", t0.Add(3*time.Second)) }, false, at(3 * time.Second)},
			{"SecondNodeHeartbeats", func() error { return s.Heartbeat(ctxT(t), "n2", t0) }, true, at(3 * time.Second)},
			{"StaleHeartbeatIgnored", func() error { return s.Heartbeat(ctxT(t), "n2", t0.Add(-time.Hour)) }, true, at(3 * time.Second)},
			{"LateOfflineKeepsLastSeen", func() error { return s.SetOffline(ctxT(t), acc, d1, "n1", t0) }, true, at(3 * time.Second)},
			{"RevokedDeviceNotOnline", func() error { return s.RevokeDevice(ctxT(t), acc, d2, t0.Add(4*time.Second)) }, false, at(3 * time.Second)},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			online, seen, err := s.Presence(ctxT(t), acc, alive)
			if err != nil {
				t.Fatalf("%s: Presence: %v", st.name, err)
			}
			if online != st.wantOnline || !seen.Equal(st.wantSeen) {
				t.Errorf("%s: Presence = %v, %v; want %v, %v", st.name, online, seen, st.wantOnline, st.wantSeen)
			}
		}
	})
	t.Run("StaleHeartbeat", func(t *testing.T) {
		s := open(t)
		acc := mustAccount(t, s)
		dev := mustDevice(t, s, acc)
		if err := s.Heartbeat(ctxT(t), "n1", t0); err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		if err := s.SetOnline(ctxT(t), acc, dev, "n1", t0); err != nil {
			t.Fatalf("SetOnline: %v", err)
		}
		tests := []struct {
			name       string
			aliveAfter time.Time
			want       bool
		}{
			{"Fresh", t0.Add(-30 * time.Second), true},
			{"ExactlyAtCutoff", t0, false},
			{"NodeDied", t0.Add(30 * time.Second), false},
		}
		for _, tt := range tests {
			online, _, err := s.Presence(ctxT(t), acc, tt.aliveAfter)
			if err != nil || online != tt.want {
				t.Errorf("%s: online = %v, %v; want %v", tt.name, online, err, tt.want)
			}
		}
		if err := s.RevokeDevice(ctxT(t), acc, dev, t0); err != nil {
			t.Fatalf("RevokeDevice: %v", err)
		}
		wantCode(t, "SetOnline(revoked)", s.SetOnline(ctxT(t), acc, dev, "n1", t0), parley.ENOTFOUND)
	})
}
