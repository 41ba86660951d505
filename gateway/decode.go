package gateway

import (
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
// back to make its receipts (see session.ack). The fields come before
// "timestamp" in appendItem's order, so the reading stops there, before
// the body. False for a frame it cannot read so (a string with escapes);
// the ack then goes without.
func sentItem(frame []byte) (parley.Item, bool) {
	var it parley.Item
	d := jsonscan.New(frame)
	done := false
	d.Object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "type", "client_id", "to":
			_, ok = d.Raw()
		case "seq":
			it.Seq, ok = d.Uint(math.MaxUint64)
		case "kind":
			var k []byte
			k, ok = d.Raw()
			it.Kind = knownKind(k)
		case "message_id":
			it.MessageID, ok = d.Str()
		case "from":
			it.From, ok = d.Str()
		case "from_device":
			it.FromDevice, ok = d.Uint32()
		case "group":
			it.Group, ok = d.Str()
		case "timestamp":
			done = true
		}
		return ok
	})
	return it, done && it.Seq != 0 && it.Kind != "" && it.MessageID != ""
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
