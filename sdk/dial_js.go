//go:build js

package sdk

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// wsDial opens the WebSocket. Browsers make the upgrade request
// themselves (an HTTP client does not apply) and send each frame as it
// comes: there is no corkConn.
func wsDial(ctx context.Context, u string, _ *http.Client) (*websocket.Conn, *corkConn, error) {
	ws, _, err := websocket.Dial(ctx, u, nil)
	return ws, nil, err
}

// nativeConn: the WebSocket is the browser's. The websocket library
// waits on a context without registering anything, a write never blocks,
// and there is no corking; the few frames a browser sends are encoded
// with encoding/json (appendFrame would add 5 KB to the gzipped wasm).
const nativeConn = false
