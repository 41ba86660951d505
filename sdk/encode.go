package sdk

import (
	"encoding/base64"
	"encoding/json"
	"github.com/parley-chat/parley/internal/jsonenc"
	"strconv"
)

// appendFrame appends json.Marshal(f) to b, byte for byte, without
// reflection: the fields in Frame's order under their tag names, empty
// ones left out, strings escaped as encoding/json escapes them (HTML
// characters and U+2028/U+2029 too, invalid UTF-8 as \ufffd), byte slices
// in standard base64. A frame with a device map, which clients never
// send, is left to json.Marshal. Encoding every frame with json.Marshal
// was a tenth of the benchmark load generator's writing; a test and a
// fuzz test compare the two.
func appendFrame(b []byte, f *Frame) ([]byte, error) {
	if len(f.Devices) > 0 {
		j, err := json.Marshal(f)
		return append(b, j...), err
	}
	b = append(b, `{"type":`...)
	b = jsonenc.AppendString(b, f.Type)
	b = appendStringField(b, `,"id":`, f.ID)
	b = appendStringField(b, `,"token":`, f.Token)
	b = appendIntField(b, `,"version":`, int64(f.Version))
	b = appendStringField(b, `,"node":`, f.Node)
	b = appendIntField(b, `,"server_time":`, f.ServerTime)
	b = appendStringField(b, `,"to":`, f.To)
	if len(f.Copies) > 0 {
		b = append(b, `,"copies":[`...)
		for i := range f.Copies {
			c := &f.Copies[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"account":`...)
			b = jsonenc.AppendString(b, c.Account)
			b = append(b, `,"device":`...)
			b = strconv.AppendUint(b, uint64(c.Device), 10)
			b = appendBytesField(b, `,"body":`, c.Body)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStringField(b, `,"group":`, f.Group)
	b = appendStringsField(b, `,"media":`, f.Media)
	b = appendIntField(b, `,"expires_in":`, f.ExpiresIn)
	b = appendStringField(b, `,"message_id":`, f.MessageID)
	b = appendStringsField(b, `,"message_ids":`, f.MessageIDs)
	b = appendIntField(b, `,"timestamp":`, f.Timestamp)
	b = appendBoolField(b, `,"duplicate":`, f.Duplicate)
	b = appendUintField(b, `,"seq":`, f.Seq)
	b = appendStringField(b, `,"kind":`, f.Kind)
	b = appendStringField(b, `,"client_id":`, f.ClientID)
	b = appendStringField(b, `,"from":`, f.From)
	b = appendUintField(b, `,"from_device":`, uint64(f.FromDevice))
	b = appendBytesField(b, `,"body":`, f.Body)
	if len(f.Seqs) > 0 {
		b = append(b, `,"seqs":[`...)
		for i, s := range f.Seqs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, s, 10)
		}
		b = append(b, ']')
	}
	b = appendStringField(b, `,"state":`, f.State)
	b = appendStringField(b, `,"account":`, f.Account)
	b = appendUintField(b, `,"device":`, uint64(f.Device))
	b = appendStringsField(b, `,"accounts":`, f.Accounts)
	b = appendBoolField(b, `,"online":`, f.Online)
	b = appendIntField(b, `,"last_seen":`, f.LastSeen)
	b = appendBoolField(b, `,"hidden":`, f.Hidden)
	b = appendStringField(b, `,"code":`, f.Code)
	b = appendStringField(b, `,"message":`, f.Message)
	return append(b, '}'), nil
}

// The append…Field functions append key and value unless the value is
// empty (omitempty); key includes the comma and the colon.

func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.AppendString(append(b, key...), s)
}

func appendIntField(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

func appendUintField(b []byte, key string, n uint64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendUint(append(b, key...), n, 10)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	if !v {
		return b
	}
	return append(append(b, key...), "true"...)
}

func appendBytesField(b []byte, key string, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = append(append(b, key...), '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func appendStringsField(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(append(b, key...), '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	return append(b, ']')
}
