package webhook

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Batched POSTs, a Parley extension an endpoint opts into
// (Endpoint.MaxChanges > 1). Meta's envelope has room for several
// changes — {"object":…,"entry":[E1,E2,…]} — and Meta itself batches, but
// some client libraries read only the first entry, so Parley sends one
// change per POST unless the receiver asked for more.
//
// A batch is the head of a claimed queue and the events after it, in seq
// order, as the entries of one envelope: the receiver reads them in the
// order it would have received them one by one. The signature covers the
// batch's exact body; X-Parley-Event-Id lists the events' ids, comma
// separated, in entry order. An event whose body is not a compact
// envelope of the same object (a producer's own JSON) ends the batch and
// goes alone. The batch succeeds or fails as a whole: a failure is
// charged to its head, which keeps the queue waiting as a single event's
// failure does, so the same events are sent again together at the retry;
// a dead event dies alone (by its own deadline) and its successors go on.

// maxBatchBody bounds a batched POST's body (bodies are at most 3 MB).
const maxBatchBody = 3 << 20

// envelope splits a compact Meta envelope, {"object":"…","entry":[…]},
// into its head (through the '[') and its entries (between the
// brackets); ok is false for any other shape.
func envelope(body []byte) (head, entries []byte, ok bool) {
	const open, mid = `{"object":"`, `","entry":[`
	if !bytes.HasPrefix(body, []byte(open)) {
		return nil, nil, false
	}
	i := bytes.IndexByte(body[len(open):], '"')
	if i < 0 || bytes.IndexByte(body[len(open):len(open)+i], '\\') >= 0 {
		return nil, nil, false
	}
	i += len(open)
	if !bytes.HasPrefix(body[i:], []byte(mid)) {
		return nil, nil, false
	}
	start := i + len(mid) // first byte after '['
	// Find the ']' that closes the entry array; it must be followed by
	// the envelope's '}' and nothing else (no further members).
	depth, inString := 1, false
	for j := start; j < len(body); j++ {
		c := body[j]
		if inString {
			switch c {
			case '\\':
				j++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if c != ']' || j != len(body)-2 || body[j+1] != '}' || j == start {
					return nil, nil, false
				}
				return body[:start], body[start:j], true
			}
		}
	}
	return nil, nil, false
}

// batchLen is how many events from the head of evs go in the next POST to
// an endpoint taking up to maxChanges changes per POST: 1 unless the head
// and its successors are envelopes of one object that fit maxBatchBody.
func batchLen(maxChanges int, evs []parley.WebhookEvent) int {
	if maxChanges <= 1 || len(evs) < 2 {
		return 1
	}
	head, entries, ok := envelope(asciiBody(evs[0].Body))
	if !ok {
		return 1
	}
	size := len(head) + len(entries) + 2
	n := 1
	for _, e := range evs[1:min(len(evs), maxChanges)] {
		h, en, ok := envelope(asciiBody(e.Body))
		if !ok || !bytes.Equal(h, head) || size+1+len(en) > maxBatchBody {
			break
		}
		size += 1 + len(en)
		n++
	}
	return n
}

// batchBody joins the envelopes of evs (batchLen of them) into one, and
// their ids into the event-id header's value.
func batchBody(evs []parley.WebhookEvent) (body []byte, ids string) {
	var b []byte
	var idb strings.Builder
	for i, e := range evs {
		head, entries, _ := envelope(asciiBody(e.Body))
		if i == 0 {
			b = make([]byte, 0, len(head)+len(evs)*(len(entries)+1)+2)
			b = append(b, head...)
		} else {
			b = append(b, ',')
			idb.WriteByte(',')
		}
		b = append(b, entries...)
		idb.WriteString(e.ID)
	}
	return append(b, ']', '}'), idb.String()
}

// postBatch sends evs (batchLen of them) in one POST.
func (d *Dispatcher) postBatch(ctx context.Context, ep Endpoint, evs []parley.WebhookEvent) (retryAfter time.Duration, err error) {
	body, ids := batchBody(evs)
	return d.send(ctx, ep, body, ids)
}
