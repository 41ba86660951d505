//go:build js

package sdk

import (
	"net/http"

	"github.com/coder/websocket"
)

// Browsers make the upgrade request themselves; an HTTP client does not apply.
func wsDialOptions(*http.Client) *websocket.DialOptions { return nil }

// watchContexts: in browsers the websocket library waits on a context
// without registering anything, and a write never blocks.
const watchContexts = false
