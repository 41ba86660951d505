// Command shop is a worked example of notifications on request: a shop
// whose carrier posts parcel-status events (accepted, out for delivery,
// delivered) turns each into a template message to the customer, in real
// time, through the Cloud API of a Parley server.
//
//	PARLEY_API=http://localhost:8080/v24.0 ACCESS_TOKEN=… PHONE_NUMBER_ID=… WABA_ID=… \
//	  go run ./examples/shop --addr :8090
//
// then, for each scan, the carrier (or curl) posts
//
//	curl -d '{"event_id":"e1","parcel":"JJD0003900071","phone":"+4915112345678","name":"Jane","status":"accepted"}' \
//	  localhost:8090/parcel-events
//
// See examples/README.md for the whole walk-through.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley/examples/cloudapi"
	"github.com/parley-chat/parley/examples/internal/serve"
)

func main() {
	addr := flag.String("addr", ":8090", "address the carrier posts events to")
	flag.Parse()
	serve.Main(*addr, "shop notifier", func(ctx context.Context, api *cloudapi.Client, log *slog.Logger) (http.Handler, error) {
		n := &Notifier{API: api, Log: log}
		mux := http.NewServeMux()
		mux.Handle("/parcel-events", n)
		return mux, n.Setup(ctx)
	})
}
