package gateway

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/jsonscan"
)

// decodeFrame decodes a client frame into f (a zero inFrame) exactly as
// json.Unmarshal does. Every message costs its sender a send frame and
// its two acks, and encoding/json's reflection was about 5 % of the
// server's CPU at saturation, so the frames clients usually send are
// decoded by hand: an object whose keys are inFrame's own names, each
// once, with plain values (strings without escapes or bytes outside
// printable ASCII, unsigned integers without sign, fraction or exponent,
// no null). Anything else — escapes, other keys, other spellings of a
// key, malformed input — goes to json.Unmarshal, which then decides. A
// fuzz test checks that what the fast path accepts, json.Unmarshal
// decodes to the same frame.
func decodeFrame(data []byte, f *inFrame) error {
	if fastDecodeFrame(data, f) {
		return nil
	}
	*f = inFrame{}
	return json.Unmarshal(data, f)
}

// fastDecodeFrame reports false for input it leaves to json.Unmarshal;
// f may then hold part of the frame.
func fastDecodeFrame(data []byte, f *inFrame) bool {
	d := jsonscan.New(data)
	var seen uint32
	ok := d.Object(func(key []byte) bool {
		bit, ok := frameKeys[string(key)]
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case kType:
			f.Type, ok = d.Str()
		case kID:
			f.ID, ok = d.Str()
		case kToken:
			f.Token, ok = d.Str()
		case kTo:
			f.To, ok = d.Str()
		case kCopies:
			f.Copies, ok = copies(&d)
		case kSeqs:
			f.Seqs, ok = d.Uints()
		case kIDs:
			f.IDs, ok = d.Strs()
		case kState:
			f.State, ok = d.Str()
		case kAccounts:
			f.Accounts, ok = d.Strs()
		case kDevice:
			f.Device, ok = d.Uint32()
		case kMessage:
			f.Message, ok = d.Str()
		case kClientID:
			f.ClientID, ok = d.Str()
		case kGroup:
			f.Group, ok = d.Str()
		case kBody:
			f.Body, ok = d.Base64()
		case kMedia:
			f.Media, ok = d.Strs()
		case kExpiresIn:
			f.ExpiresIn, ok = d.Int64()
		}
		return ok
	})
	return ok && d.End()
}

const (
	kType uint32 = 1 << iota
	kID
	kToken
	kTo
	kCopies
	kSeqs
	kIDs
	kState
	kAccounts
	kDevice
	kMessage
	kClientID
	kGroup
	kBody
	kMedia
	kExpiresIn
)

// frameKeys are inFrame's JSON names (its struct tags).
var frameKeys = map[string]uint32{
	"type": kType, "id": kID, "token": kToken, "to": kTo, "copies": kCopies, "seqs": kSeqs,
	"message_ids": kIDs, "state": kState, "accounts": kAccounts, "device": kDevice,
	"message_id": kMessage, "client_id": kClientID, "group": kGroup, "body": kBody,
	"media": kMedia, "expires_in": kExpiresIn,
}

// copies reads the copies of a send frame.
func copies(d *jsonscan.Decoder) ([]wireCopy, bool) {
	out := []wireCopy{}
	ok := d.Array(func() bool {
		var c wireCopy
		var seen uint8
		ok := d.Object(func(key []byte) bool {
			var bit uint8
			switch string(key) {
			case "account":
				bit = 1
			case "device":
				bit = 2
			case "body":
				bit = 4
			}
			if bit == 0 || seen&bit != 0 {
				return false
			}
			seen |= bit
			var ok bool
			switch bit {
			case 1:
				c.Account, ok = d.Str()
			case 2:
				c.Device, ok = d.Uint32()
			case 4:
				c.Body, ok = d.Base64()
			}
			return ok
		})
		out = append(out, c)
		return ok
	})
	return out, ok
}

// sentItem reads back, from an item frame that appendItem made, what an
// ack of the item tells the store (parley.Item's Seq, Kind, MessageID,
// From, FromDevice, Group): the store then need not read the deleted row
// back to make its receipts (see session.known). It reads appendItem's
// own layout, up to "timestamp" (so never the body), and takes a string
// only when it has no escape: then its bytes are the string. False for
// anything else; the ack then goes without.
func sentItem(frame []byte) (parley.Item, bool) {
	var it parley.Item
	r := itemReader{b: frame}
	var kind []byte
	ok := r.lit(`{"type":"item","seq":`) && r.uint(&it.Seq) &&
		r.lit(`,"kind":`) && r.raw(&kind) &&
		r.lit(`,"message_id":`) && r.str(&it.MessageID) &&
		(!r.lit(`,"client_id":`) || r.raw(nil)) &&
		r.lit(`,"from":`) && r.str(&it.From) &&
		r.lit(`,"from_device":`) && r.uint32(&it.FromDevice) &&
		(!r.lit(`,"to":`) || r.raw(nil)) &&
		(!r.lit(`,"group":`) || r.str(&it.Group)) &&
		r.lit(`,"timestamp":`)
	it.Kind = knownKind(kind)
	return it, ok && it.Seq != 0 && it.Kind != "" && it.MessageID != ""
}

// itemReader reads appendItem's frames from their start.
type itemReader struct {
	b []byte
	i int
}

// lit consumes s if it comes next.
func (r *itemReader) lit(s string) bool {
	if !bytes.HasPrefix(r.b[r.i:], []byte(s)) {
		return false
	}
	r.i += len(s)
	return true
}

// raw reads a string without escapes into *dst (skips it when dst is
// nil); its bytes alias the frame.
func (r *itemReader) raw(dst *[]byte) bool {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return false
	}
	rest := r.b[r.i+1:]
	n := bytes.IndexByte(rest, '"')
	if n < 0 || bytes.IndexByte(rest[:n], '\\') >= 0 {
		return false
	}
	if dst != nil {
		*dst = rest[:n]
	}
	r.i += n + 2
	return true
}

func (r *itemReader) str(dst *string) bool {
	var b []byte
	if !r.raw(&b) {
		return false
	}
	*dst = string(b)
	return true
}

// uint reads the digits of an unsigned integer as strconv.AppendUint
// writes them.
func (r *itemReader) uint(dst *uint64) bool {
	start := r.i
	var n uint64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' && r.i-start < 20 {
		d := uint64(r.b[r.i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return false
		}
		n = n*10 + d
		r.i++
	}
	*dst = n
	return r.i > start
}

func (r *itemReader) uint32(dst *uint32) bool {
	var n uint64
	if !r.uint(&n) || n > math.MaxUint32 {
		return false
	}
	*dst = uint32(n)
	return true
}

// knownKind returns k as a parley.Kind without allocating for the usual
// kinds.
func knownKind(k []byte) parley.Kind {
	switch string(k) {
	case string(parley.KindMessage):
		return parley.KindMessage
	case string(parley.KindDelivered):
		return parley.KindDelivered
	case string(parley.KindRead):
		return parley.KindRead
	}
	return parley.Kind(k)
}
