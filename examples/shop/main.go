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
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/parley-chat/parley/examples/cloudapi"
)

func main() {
	addr := flag.String("addr", ":8090", "address the carrier posts events to")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	api := &cloudapi.Client{BaseURL: os.Getenv("PARLEY_API"), Token: os.Getenv("ACCESS_TOKEN"),
		PhoneNumberID: os.Getenv("PHONE_NUMBER_ID"), WABAID: os.Getenv("WABA_ID")}
	if api.BaseURL == "" || api.Token == "" || api.PhoneNumberID == "" || api.WABAID == "" {
		fmt.Fprintln(os.Stderr, "set PARLEY_API, ACCESS_TOKEN, PHONE_NUMBER_ID and WABA_ID (parley admin business create --json prints them)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n := &Notifier{API: api, Log: log}
	if err := n.Setup(ctx); err != nil {
		log.Error("setting up templates", "err", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle("/parcel-events", n)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Info("shop notifier listening", "addr", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}
