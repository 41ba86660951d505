package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestProbeSequential(t *testing.T) {
	s := open(t)
	acc := "491700000001"
	s.EnsureAccount(t.Context(), acc, time.Now())
	d := &parley.Device{Account: acc}
	s.CreateDevice(t.Context(), d)
	start := time.Now()
	const n = 3000
	for i := range n {
		id := fmt.Sprint(i)
		err := s.Deliver(t.Context(), &parley.Delivery{From: acc, FromDevice: 1, ClientID: id, MessageID: id, Timestamp: time.Now(),
			Items: []parley.Item{{Account: acc, Device: 1, Kind: "msg", MessageID: id, From: acc, FromDevice: 1, To: acc, Timestamp: time.Now(), Body: make([]byte, 256)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("sequential: %v per Deliver", time.Since(start)/n)
}
