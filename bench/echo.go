package bench

import (
	"context"
	"net/http"
	"runtime/debug"

	"github.com/coder/websocket"
)

// EchoHandler is the baseline: a bare WebSocket echo server with one
// goroutine per connection (coder/websocket, the common design), serving
// /healthz for readiness.
func EchoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("POST /free-memory", func(w http.ResponseWriter, r *http.Request) { debug.FreeOSMemory() })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
	return mux
}
