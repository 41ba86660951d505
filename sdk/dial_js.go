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

// watchContexts: in browsers the websocket library waits on a context
// without registering anything, and a write never blocks.
const watchContexts = false
