//go:build !js

package sdk

import (
	"net/http"

	"github.com/coder/websocket"
)

func wsDialOptions(hc *http.Client) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: hc}
}
