package sqlstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// refSpans is the spanner's rule stated plainly: an item extends the last
// span its device opened in the operation if it continues it, else it
// opens one.
func refSpans(items []parley.Item) [][]string {
	var spans [][]*parley.Item
	open := map[deviceKey]int{}
	for i := range items {
		it := &items[i]
		k := deviceKey{it.Account, it.Device}
		if j, ok := open[k]; ok {
			s := spans[j]
			if len(s) < maxSpan && extends(s[len(s)-1], it) {
				spans[j] = append(s, it)
				continue
			}
		}
		open[k] = len(spans)
		spans = append(spans, []*parley.Item{it})
	}
	out := make([][]string, len(spans))
	for i, s := range spans {
		for _, it := range s {
			out[i] = append(out[i], fmt.Sprintf("%s/%d/%d/%s", it.Account, it.Device, it.Seq, it.MessageID))
		}
	}
	return out
}

func TestSpanner(t *testing.T) {
	t0 := time.Unix(1767225600, 0)
	for _, devices := range []int{1, 3, searchOpen, searchOpen + 1, 40} {
		t.Run(fmt.Sprint("devices=", devices), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(devices), 1))
			for round := range 20 {
				next := map[deviceKey]uint64{}
				var items []parley.Item
				for i := range 1 + r.IntN(3*maxSpan) {
					k := deviceKey{fmt.Sprint("49151", r.IntN(devices)), uint32(1 + r.IntN(2))}
					if r.IntN(3*maxSpan) == 0 {
						next[k] += 2 // a gap: the device's next span starts anew
					}
					next[k]++
					ts := t0
					if r.IntN(500) == 0 {
						ts = t0.Add(time.Second) // differs in more than the message id
					}
					items = append(items, parley.Item{Account: k.account, Device: k.id, Seq: next[k], Kind: parley.KindDelivered,
						MessageID: fmt.Sprint("m", round, "-", i), From: "4915199", FromDevice: 1, To: k.account, Timestamp: ts})
				}
				var sp spanner
				for i := range items {
					sp.add(&items[i])
				}
				var got [][]string
				for _, s := range sp.spans {
					var ids []string
					for it := s.first; ; {
						ids = append(ids, fmt.Sprintf("%s/%d/%d/%s", it.Account, it.Device, it.Seq, it.MessageID))
						if it == s.last {
							break
						}
						// the span's items are its device's, in seq order
						j := slices.IndexFunc(items, func(x parley.Item) bool {
							return x.Account == it.Account && x.Device == it.Device && x.Seq == it.Seq+1
						})
						it = &items[j]
					}
					if len(ids) != len(s.ids) {
						t.Fatalf("span from %s/%d/%d: %d items between first and last, %d ids", s.first.Account, s.first.Device, s.first.Seq, len(ids), len(s.ids))
					}
					got = append(got, ids)
				}
				if want := refSpans(items); !slices.EqualFunc(got, want, slices.Equal) {
					t.Fatalf("round %d: %d spans, want %d", round, len(got), len(want))
				}
				sp.reset()
				if len(sp.open) != 0 || sp.byDevice != nil {
					t.Fatalf("reset left %d open spans", len(sp.open))
				}
			}
		})
	}
}
