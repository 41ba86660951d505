// Package serve runs an example's HTTP handler until interrupted.
package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/parley-chat/parley/examples/cloudapi"
)

// Main reads the Cloud API client from the environment, lets setup
// prepare (templates, say) and return the handler, and serves it on addr
// until SIGINT. It exits the process on errors.
func Main(addr, what string, setup func(ctx context.Context, api *cloudapi.Client, log *slog.Logger) (http.Handler, error)) {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	api, err := cloudapi.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	h, err := setup(ctx, api, log)
	if err != nil {
		log.Error("setting up", "err", err)
		os.Exit(1)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Info(what+" listening", "addr", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}
