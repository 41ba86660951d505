package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/internal/gcpace"
)

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg app.Config
	var logFormat, logLevel, config string
	fs.StringVar(&config, "config", "", "config file of `name = value` lines (env PARLEY_CONFIG)")
	fs.StringVar(&cfg.Addr, "addr", ":8080", "listen address")
	fs.StringVar(&cfg.DataDir, "data", "./parley-data", "data directory (SQLite database, generated keys)")
	fs.StringVar(&cfg.Database, "database", "", "PostgreSQL URL (postgres://…); empty: SQLite in the data directory")
	fs.StringVar(&cfg.NATS, "nats", "", "NATS cluster URL (nats://…); empty: embedded NATS")
	fs.StringVar(&cfg.Node, "node", "", "node id, unique in a cluster (default: hostname plus random suffix)")
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: development SMS provider, webhook callbacks on private addresses, verbose logs")
	fs.DurationVar(&cfg.Retention, "retention", 30*24*time.Hour, "how long undelivered messages (and any media) are kept")
	fs.DurationVar(&cfg.WebChatRetention, "webchat-retention", 90*24*time.Hour, "how long website chat visitors and their conversations are kept after their last activity (0: kept)")
	fs.DurationVar(&cfg.MediaGrace, "media-grace", 24*time.Hour, "how long media are kept after every copy of the messages naming them was delivered")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "operator token (default: generated into DATA/admin-token)")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For (only behind a proxy)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "public base URL of this server (https://chat.example.com) for the links and QR codes it hands out; empty: the Host of each request")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "graceful shutdown deadline")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 75*time.Second, "close WebSocket connections silent for this long")
	fs.IntVar(&cfg.Limits.RequestsPerIP, "rate-ip", 60, "registration requests per client IP per hour")
	fs.IntVar(&cfg.Limits.CodesPerNumber, "rate-number", 5, "codes sent per phone number per hour")
	fs.Float64Var(&cfg.SendRate, "send-rate", 200, "sends per second one WebSocket connection may make (hosted business devices are exempt)")
	fs.Float64Var(&cfg.SendBurst, "send-burst", 1000, "sends one WebSocket connection may make at once above --send-rate")
	fs.StringVar(&cfg.AtRestKeyFile, "at-rest-key-file", "", "file with the at-rest key (64 hex digits) sealing app secrets (default: generated into DATA/at-rest-key)")
	fs.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", false, "let webhook callbacks and callback verification reach loopback and private addresses (implied by --dev)")
	fs.BoolVar(&cfg.ManualTemplateReview, "template-review-manual", false, "keep new message templates PENDING until 'parley admin template review'")
	fs.IntVar(&cfg.BusinessThroughput, "business-throughput", 80, "messages per second of new business numbers (Cloud API throughput)")
	fs.IntVar(&cfg.WebhookConcurrency, "webhook-concurrency", 64, "webhook POSTs in flight on this node")
	fs.IntVar(&cfg.HostedDevices, "hosted-devices", 10_000, "hosted devices (business numbers, sandbox customers) this node runs at most (0: none, an API-only node of a cluster)")
	gcHeadroom := fs.Int("gc-headroom", int(gcpace.Default.Headroom>>20), "MiB of extra heap the garbage collector may use while the node allocates fast (0: GOGC alone; a GOGC in the environment turns this off)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if config == "" {
		config = os.Getenv("PARLEY_CONFIG")
	}
	if err := settle(fs, config); err != nil {
		return err
	}
	if cfg.HostedDevices == 0 {
		cfg.HostedDevices = -1 // the flag's 0 runs none; app.Config's 0 means the default
	}
	if cfg.WebChatRetention == 0 {
		cfg.WebChatRetention = -1 // the flag's 0 keeps them; app.Config's 0 means the default
	}
	if cfg.Dev && logLevel == "info" {
		logLevel = "debug"
	}
	log, err := newLogger(logFormat, logLevel)
	if err != nil {
		return err
	}
	cfg.Logger = log
	slog.SetDefault(log)
	if *gcHeadroom < 0 {
		return fmt.Errorf("--gc-headroom %d: want 0 or more MiB", *gcHeadroom)
	}
	gcp := gcpace.Default
	gcp.Headroom = uint64(*gcHeadroom) << 20
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		gcp.Run(gcCtx, func(pc int) { log.Debug("garbage collector target", "gc_percent", pc) })
	}()
	defer func() { stopGC(); <-gcDone }()
	m := app.New(cfg)
	if err := m.Start(ctx); err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
