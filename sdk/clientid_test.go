package sdk

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Client ids sort in the order they were made (across milliseconds), so
// that a device's idempotency keys are appended to the server's index;
// they stay unique and within the protocol's 64 bytes.
func TestNewClientID(t *testing.T) {
	before := time.Now().UnixMilli()
	seen := make(map[string]bool)
	prev := ""
	for i := range 2000 {
		id := NewClientID()
		if len(id) != 30 || !strings.HasPrefix(id, "c-") {
			t.Fatalf("client id %q: want c- and 28 hex digits", id)
		}
		ms, err := strconv.ParseUint(id[2:14], 16, 64)
		if err != nil {
			t.Fatalf("client id %q: time part: %v", id, err)
		}
		if now := time.Now().UnixMilli(); int64(ms) < before || int64(ms) > now {
			t.Fatalf("client id %q carries %d ms, want within [%d, %d]", id, ms, before, now)
		}
		if seen[id] {
			t.Fatalf("client id %q made twice", id)
		}
		seen[id] = true
		if prev != "" && id[:14] < prev[:14] {
			t.Fatalf("client id %q sorts before the earlier %q", id, prev)
		}
		prev = id
		if i == 1000 {
			time.Sleep(2 * time.Millisecond) // and across a millisecond
		}
	}
	if first, last := NewClientID(), prev; first[:14] < last[:14] {
		t.Errorf("a later id %q sorts before %q", first, last)
	}
}
