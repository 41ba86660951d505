//go:build !js

package sdk

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// wsDial opens the WebSocket. With the default HTTP client (hc nil) it
// dials through a corkConn, which it returns too (nil when the
// connection came from elsewhere, e.g. an idle one the transport kept).
func wsDial(ctx context.Context, u string, hc *http.Client) (*websocket.Conn, *corkConn, error) {
	var cc *corkConn
	if hc == nil {
		hc = corkClient
		ctx = context.WithValue(ctx, corkSlot{}, &cc)
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc})
	return ws, cc, err
}

// corkSlot is the context key under which wsDial passes the dialer where
// to put the corkConn it makes.
type corkSlot struct{}

// corkClient is http.DefaultClient with http.DefaultTransport's settings
// but a dialer that wraps connections in corkConn.
var corkClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		slot, _ := ctx.Value(corkSlot{}).(**corkConn)
		if slot == nil {
			return nc, nil
		}
		cc := &corkConn{Conn: nc}
		*slot = cc
		return cc, nil
	}
	return &http.Client{Transport: t}
}()

// nativeConn: the WebSocket runs on a Go network connection. Conn
// watches the contexts of reads and writes itself and bounds writes with
// its watchdog, rather than handing contexts to the websocket library,
// which would register a context.AfterFunc per frame (see ctxWatch);
// WriteFrames corks; Write encodes with appendFrame.
const nativeConn = true
