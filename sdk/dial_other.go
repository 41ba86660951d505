//go:build !js

package sdk

import (
	"net/http"

	"github.com/coder/websocket"
)

func wsDialOptions(hc *http.Client) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: hc}
}

// watchContexts: Conn watches the contexts of reads and writes itself,
// and bounds writes with its watchdog, rather than handing contexts to
// the websocket library, which would register a context.AfterFunc per
// frame (see ctxWatch).
const watchContexts = true
