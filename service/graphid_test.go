package service

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/parley-chat/parley"
)

// Graph ids survive a round trip through a float64 (JavaScript's JSON
// numbers) and are valid 16-digit ids.
func TestNewGraphIDExactInFloat64(t *testing.T) {
	for range 10000 {
		id := NewGraphID()
		if !parley.ValidGraphID(id) || len(id) != 16 {
			t.Fatalf("%q is not a 16-digit Graph id", id)
		}
		var f float64
		if err := json.Unmarshal([]byte(id), &f); err != nil {
			t.Fatal(err)
		}
		if back := strconv.FormatFloat(f, 'f', 0, 64); back != id {
			t.Fatalf("%s became %s as a JSON number", id, back)
		}
	}
}
