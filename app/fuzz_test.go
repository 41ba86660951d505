package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/app"
)

// FuzzSocketFrame sends arbitrary bytes as a text frame on an
// authenticated connection, then a ping. The node must either answer the
// ping (the frame was valid or got an error frame) or close with a
// protocol close code (1007 for invalid UTF-8, 1009 for too large); it
// must never close with 1011 (a handler panicked), hang, or answer with
// something that is not JSON.
func FuzzSocketFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"send","id":"1","to":"4915100000072","copies":[{"account":"4915100000072","device":1,"body":"aGk="}]}`,
		`{"type":"send","id":"2","to":"4915100000071","copies":[]}`,
		`{"type":"send","id":"3","group":"gaaaaaaaaaaaaaaaaaaaaaaaaaa","body":"aGk=","copies":[{"account":"4915100000072","device":1}]}`,
		`{"type":"send","id":"4","group":"g!","to":"4915100000072","body":"","copies":[{"account":"x","device":1,"body":null}]}`,
		`{"type":"send","id":"5","to":"4915100000072","copies":[{"account":"4915100000072","device":1,"body":"aGk="}],"media":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],"expires_in":3600}`,
		`{"type":"send","id":"6","to":"4915100000072","copies":[{"account":"4915100000072","device":1,"body":"aGk="}],"expires_in":-1,"media":[1]}`,
		`{"type":"send","id":"7","to":"4915100000072","copies":[{"account":"4915100000072","device":1,"body":"aGk="}],"expires_in":1e300}`,
		`{"type":"ack","seqs":[1,2,3]}`,
		`{"type":"read","to":"4915100000072","message_ids":["x"]}`,
		`{"type":"typing","to":"4915100000072","state":"composing"}`,
		`{"type":"presence","accounts":["4915100000072"]}`,
		`{"type":"send","copies":[{"device":-1}]}`,
		`{"type":"ack","seqs":[-1]}`,
		`{"type":"auth","token":"x"}`,
		`{"type":null}`, `[]`, `"send"`, `{`, ``, "\xff\xfe",
		`{"type":"send","id":"` + strings.Repeat("x", 70) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	n := startNode(f, app.Config{})
	alice := register(f, n, "+4915100000071")
	register(f, n, "+4915100000072")
	url := strings.Replace(n.base, "http", "ws", 1) + "/v1/ws"

	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(4 << 20)
		auth, _ := json.Marshal(map[string]string{"type": "auth", "token": alice.Token})
		c.Write(ctx, websocket.MessageText, auth)
		if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), `"ready"`) {
			t.Fatalf("auth: %s, %v", b, err)
		}
		c.Write(ctx, websocket.MessageText, data)
		c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping","id":"fuzz-end"}`))
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				switch code := websocket.CloseStatus(err); code {
				case websocket.StatusInvalidFramePayloadData, websocket.StatusMessageTooBig:
					return
				default:
					t.Fatalf("connection ended with %d (%v) after %q", code, err, data)
				}
			}
			if !json.Valid(b) {
				t.Fatalf("server sent non-JSON %q", b)
			}
			if strings.Contains(string(b), `"fuzz-end"`) {
				return
			}
		}
	})
}
