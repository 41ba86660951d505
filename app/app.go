package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/atrest"
	"github.com/parley-chat/parley/bus"
	"github.com/parley-chat/parley/gateway"
	"github.com/parley-chat/parley/gateway/ws"
	"github.com/parley-chat/parley/hosted"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/httpapi/cloudapi"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/sms"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/sqlite"
	"github.com/parley-chat/parley/store/sqlstore"
	"github.com/parley-chat/parley/web"
	"github.com/parley-chat/parley/webhook"
	"github.com/parley-chat/parley/webhook/handshake"
)

// Config is a node's configuration. Zero values take the defaults noted.
type Config struct {
	Addr      string        // listen address (":8080")
	DataDir   string        // data dir ("./parley-data")
	Database  string        // PostgreSQL DSN; empty: SQLite in DataDir
	NATS      string        // NATS URL; empty: embedded server
	Node      string        // node id; empty: generated
	Dev       bool          // development mode (development SMS provider)
	Retention time.Duration // how long undelivered items are kept (30 days)
	// WebChatRetention is how long a website chat visitor and its
	// conversation are kept after their last activity (90 days; negative:
	// kept until the business or the visitor erases them).
	WebChatRetention time.Duration
	AdminToken       string // operator token; empty: read or generated in DataDir
	TrustProxy       bool
	PublicURL        string // public base URL for short links and QR codes ("https://chat.example.com"); "": each request's
	Limits           service.Limits
	ShutdownTimeout  time.Duration // hard deadline for a graceful stop (15s)
	IdleTimeout      time.Duration // WebSocket idle timeout (75s; clients ping every 25s)
	// SendRate and SendBurst bound one connection's sends (200/s, burst
	// 1000; see gateway.Options).
	SendRate, SendBurst float64
	Logger              *slog.Logger
	MediaGrace          time.Duration // blobs are kept this long after their messages were delivered (24h)
	Clock               parley.Clock  // the services' and the sweeper's clock; nil: the system clock (tests move a fake one)

	// The business platform (Cloud API).
	AtRestKeyFile        string                  // the at-rest key (64 hex digits); empty: DATA/at-rest-key, generated on first start
	WebhookAllowPrivate  bool                    // callback URLs may point to loopback and private addresses (always in Dev)
	ManualTemplateReview bool                    // new templates stay PENDING until an operator reviews them
	BusinessThroughput   int                     // messages per second of new business numbers (80)
	Business             service.BusinessOptions // hooks (hosted devices, events, queue listener); the fields above override

	// Webhooks. WebhookResolver turns endpoint ids into callback URLs and
	// secrets (nil: the business platform's apps and subscriptions);
	// WebhookConcurrency bounds POSTs in flight (64).
	WebhookResolver    webhook.EndpointResolver
	WebhookConcurrency int

	// HostedDevices is how many hosted devices (business numbers' devices,
	// sandbox customers) this node runs at most (10,000); negative: none,
	// an API-only node of a cluster whose other nodes run them.
	HostedDevices int

	// InboxHours tells the business inbox whether a number is open (the
	// away message); nil: always open.
	InboxHours service.OpenHours
}

// AdminTokenFile is the name of the operator token file in the data dir.
const AdminTokenFile = "admin-token"

// Main is a running node.
type Main struct {
	cfg   Config
	log   *slog.Logger
	store parley.Store
	bus   *bus.Bus
	hub   *gateway.Hub
	media *service.Media
	biz   *service.Business
	inbox *service.Inbox
	hooks *webhook.Dispatcher
	// hosted runs this node's share of hosted devices (business numbers,
	// sandbox customers).
	hosted  *hosted.Runner
	consent *service.Consent
	ws      *ws.Server
	http    *http.Server
	ln      net.Listener
}

// New returns a node that is not started yet.
func New(cfg Config) *Main {
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "parley-data"
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.WebChatRetention == 0 {
		cfg.WebChatRetention = 90 * 24 * time.Hour
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 75 * time.Second
	}
	if cfg.Node == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		cfg.Node = fmt.Sprintf("%s-%x", strings.SplitN(host, ".", 2)[0], b)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MediaGrace <= 0 {
		cfg.MediaGrace = service.DefaultMediaGrace
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	return &Main{cfg: cfg, log: cfg.Logger.With("node", cfg.Node)}
}

// Addr is the address the node listens on (after Start).
func (m *Main) Addr() string { return m.ln.Addr().String() }

// DataDir is the node's data directory.
func (m *Main) DataDir() string { return m.cfg.DataDir }

// Business is the node's business platform service (after Start).
func (m *Main) Business() *service.Business { return m.biz }

// Inbox is the node's business inbox service (after Start).
func (m *Main) Inbox() *service.Inbox { return m.inbox }

// Store is the node's store (after Start), for tests and tools.
func (m *Main) Store() parley.Store { return m.store }

// Webhooks is the node's webhook dispatcher (after Start): producers
// enqueue through it (or commit events in their own transaction and call
// its Wake).
func (m *Main) Webhooks() *webhook.Dispatcher { return m.hooks }

// Start opens the store and the bus, wires the services and listens.
func (m *Main) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	cfg := m.cfg
	if err := checkPublicURL(cfg.PublicURL); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if cfg.Database != "" {
		m.store, err = postgres.Open(ctx, cfg.Database)
	} else {
		m.store, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "parley.db"))
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	m.bus, err = bus.Open(ctx, bus.Options{URL: cfg.NATS, Name: cfg.Node, Logger: m.log})
	if err != nil {
		return err
	}
	adminHash, err := m.adminToken()
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_bus_dropped_total", Help: "Bus events dropped because a shard was full."},
		func() float64 { return float64(m.bus.Dropped()) }))

	if !cfg.Dev {
		// No real SMS gateway ships yet: without one, registration cannot work
		// outside development mode. Say so instead of pretending.
		m.log.Warn("no SMS provider is configured; using the development provider (codes are readable with `parley admin otp`). Run with --dev to silence this warning.")
	}
	provider := &sms.Dev{Log: m.store, Slog: m.log}
	hubRef := &notifierRef{}
	accounts := service.NewAccounts(m.store, provider, hubRef, nil, cfg.Limits, m.log)
	messaging := service.NewMessaging(m.store, hubRef, cfg.Clock, m.log)
	m.hub = gateway.NewHub(m.bus, accounts, messaging, gateway.Options{Node: cfg.Node, Logger: m.log, Metrics: gateway.NewMetrics(reg),
		SendRate: cfg.SendRate, SendBurst: cfg.SendBurst})
	keys := service.NewKeys(m.store, m.hub, nil, m.log)
	groups := service.NewGroups(m.store, m.hub, nil, m.log)
	m.media = service.NewMedia(m.store, cfg.Clock, m.log)
	m.media.Grace, m.media.Retention = cfg.MediaGrace, cfg.Retention
	atRest, err := m.atRestKey()
	if err != nil {
		return err
	}
	// Hosted devices: business numbers' devices and sandbox customers.
	m.hosted = &hosted.Runner{Store: m.store, Sealer: atRest, Node: cfg.Node, Server: m.selfURL,
		Handlers: map[string]hosted.Handler{}, MaxDevices: cfg.HostedDevices, Clock: cfg.Clock, Log: m.log}
	provisioner := &hosted.Provisioner{Runner: m.hosted, Accounts: accounts, Keys: keys}
	hooks := &hosted.Webhooks{Outbox: m.store, Clock: cfg.Clock, Log: m.log} // Business is set below
	bizDevices := &hosted.Business{Store: m.store, Webhooks: hooks, Clock: cfg.Clock, Log: m.log}
	m.hosted.Handlers[parley.HostedBusiness] = bizDevices
	sandbox := &hosted.Sandbox{Runner: m.hosted, Provisioner: provisioner, Store: m.store}
	m.hosted.Handlers[parley.HostedCustomer] = sandbox

	bopt := cfg.Business
	if bopt.Queue == nil {
		bopt.Queue = bizDevices
	}
	if bopt.Hosted == nil {
		bopt.Hosted = hosted.Numbers{Provisioner: provisioner}
	}
	if bopt.Events == nil {
		bopt.Events = hooks
	}
	if bopt.Media == nil {
		bopt.Media = m.media
	}
	bopt.ManualReview = bopt.ManualReview || cfg.ManualTemplateReview
	if cfg.BusinessThroughput > 0 {
		bopt.Throughput = cfg.BusinessThroughput
	}
	if bopt.Verifier == nil {
		bopt.Verifier = &handshake.Verifier{AllowPrivate: cfg.Dev || cfg.WebhookAllowPrivate}
	}
	m.biz = service.NewBusiness(m.store, atRest, cfg.Clock, m.log, bopt)
	directory := service.NewDirectory(m.store, m.biz, cfg.Clock, service.DirectoryOptions{})
	hooks.Business = m.biz
	m.consent = service.NewConsent(m.store, m.biz, atRest, cfg.Clock, m.log)
	m.consent.Webhooks = hooks
	bizDevices.Consent = m.consent
	// The business inbox records what the hosted business devices report,
	// after the webhooks; its live events travel over the bus.
	inboxHub := service.NewInboxHub(m.bus, atRest, m.log)
	m.inbox = service.NewInbox(m.store, atRest, m.biz, inboxHub, cfg.Clock, m.log)
	// The away message follows the opening hours of the number's profile
	// unless the configuration answers "open now" itself.
	if m.inbox.Hours = cfg.InboxHours; m.inbox.Hours == nil {
		m.inbox.Hours = service.ProfileHours(m.store)
	}
	bizDevices.Webhooks = hosted.InboxWebhooks{Next: hooks, Inbox: m.inbox}
	m.consent.Inbox = m.inbox // GDPR export and erasure cover the inbox's copies
	// Website chat (docs/inbox.md): visitors, and the opt-in of those who move to the messenger.
	m.inbox.Web, m.inbox.Consent = m.store, m.consent
	m.inbox.WebRetention = max(cfg.WebChatRetention, 0)
	links := service.NewLinks(m.biz, m.store)
	bizDevices.Media = m.biz
	bizDevices.HTTP = webhook.NewClient(webhook.ClientOptions{AllowPrivate: cfg.WebhookAllowPrivate || cfg.Dev, Timeout: time.Minute,
		MaxConnsPerHost: 8}) // media links of sends
	resolver := cfg.WebhookResolver
	if resolver == nil {
		resolver = hooks // the business platform's apps and subscriptions
	}
	m.hooks = webhook.New(webhook.Options{
		Outbox: m.store, Resolver: resolver, AllowPrivate: cfg.WebhookAllowPrivate || cfg.Dev,
		Concurrency: cfg.WebhookConcurrency, Clock: cfg.Clock, Metrics: webhook.NewMetrics(reg), Logger: m.log,
	})
	if n, ok := m.store.(interface{ OnWebhooks(func()) }); ok {
		n.OnWebhooks(m.hooks.Wake) // events committed on this node go out at once
	}
	hubRef.Notifier = m.hub
	m.bus.SetHandler(func(subject string, data []byte) {
		if service.IsInboxSubject(subject) {
			inboxHub.Dispatch(subject, data)
			return
		}
		m.hub.DispatchBurst(subject, data)
	})
	m.bus.SetBurstEnd(m.hub.EndBurst)
	m.ws, err = ws.NewServer(m.hub, ws.Options{
		MaxMessageSize: 1 << 20,
		IdleTimeout:    cfg.IdleTimeout,
		WriteTimeout:   10 * time.Second,
		ReadTimeout:    10 * time.Second,
		// Handlers block on store commits (group commit batches whatever is
		// waiting), so the worker count bounds how many frames are in flight
		// at once; idle workers cost only their stacks.
		Workers: 256,
		Logger:  m.log,
	})
	if err != nil {
		return err
	}
	webClient, err := web.NewHandler()
	if err != nil {
		return fmt.Errorf("web client: %w", err)
	}
	// Event streams end when shutdown begins (http.Server.Shutdown waits
	// for handlers, and a stream never returns by itself).
	streams, endStreams := context.WithCancel(context.Background())
	api := &httpapi.Server{
		Accounts: accounts, Messaging: messaging, Keys: keys, Groups: groups, Media: m.media, Business: m.biz, Sandbox: sandbox, Webhooks: m.hooks,
		Directory: directory, Consent: m.consent, Inbox: m.inbox, Streams: streams, Links: links, PublicURL: cfg.PublicURL,
		Link: bus.Link{B: m.bus}, SMSLog: m.store,
		DevSMS: provider.Development(), AdminHash: adminHash, WS: m.ws, Web: webClient,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Log: m.log, TrustProxy: cfg.TrustProxy,
		Ready: func(ctx context.Context) error {
			if err := m.store.Ping(ctx); err != nil {
				return err
			}
			return m.bus.Ready()
		},
	}
	cloud := (&cloudapi.API{Business: m.biz, Directory: directory, Consent: m.consent, Links: links, Log: m.log, TrustProxy: cfg.TrustProxy, PublicURL: cfg.PublicURL}).Handler()
	m.http = &http.Server{
		Handler:           withCloudAPI(cloud, cloudapi.Docs(), api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	m.http.RegisterOnShutdown(endStreams)
	m.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.log.Info("parley listening", "addr", m.ln.Addr().String(), "data", cfg.DataDir,
		"database", dbKind(cfg.Database), "nats", natsKind(cfg.NATS), "dev", cfg.Dev)
	return nil
}

// withCloudAPI sends the Cloud API's paths (a Graph version or id first)
// to cloud, its description (/openapi.json, /docs/api) to docs and
// everything else to rest.
func withCloudAPI(cloud, docs, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cloudapi.DocsMatch(r.URL.Path) {
			docs.ServeHTTP(w, r)
			return
		}
		if cloudapi.Match(r.URL.Path) {
			cloud.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// atRestKey loads the configured at-rest key, or the one in the data
// dir, generating it there on first start.
func (m *Main) atRestKey() (*atrest.Key, error) {
	if m.cfg.AtRestKeyFile != "" {
		return atrest.Load(m.cfg.AtRestKeyFile)
	}
	return atrest.LoadOrCreate(m.cfg.DataDir, m.log)
}

func dbKind(dsn string) string {
	if dsn == "" {
		return "sqlite"
	}
	return "postgres"
}

func natsKind(url string) string {
	if url == "" {
		return "embedded"
	}
	return "cluster"
}

// adminToken returns the hash of the operator token, generating the token
// into the data dir on first start when none is configured.
func (m *Main) adminToken() ([32]byte, error) {
	if m.cfg.AdminToken != "" {
		return sha256.Sum256([]byte(m.cfg.AdminToken)), nil
	}
	path := filepath.Join(m.cfg.DataDir, AdminTokenFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 32)
		rand.Read(raw)
		b = []byte(hex.EncodeToString(raw))
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			return [32]byte{}, fmt.Errorf("write operator token: %w", err)
		}
		m.log.Warn("generated an operator token; set PARLEY_ADMIN_TOKEN to choose one", "file", path)
	} else if err != nil {
		return [32]byte{}, fmt.Errorf("read operator token: %w", err)
	}
	return sha256.Sum256([]byte(strings.TrimSpace(string(b)))), nil
}

// selfURL is the base URL at which hosted devices reach this node.
func (m *Main) selfURL() string {
	host, port, err := net.SplitHostPort(m.ln.Addr().String())
	if err != nil {
		return "http://" + m.ln.Addr().String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, closes WebSocket connections with 1001 (clients reconnect to
// another node) and waits for in-flight requests up to ShutdownTimeout.
func (m *Main) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	g.Go(func() error {
		if err := m.http.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error { return m.ws.Run(runCtx) })
	g.Go(func() error { return m.bus.Run(runCtx) })
	g.Go(func() error { return m.hub.Run(runCtx) })
	g.Go(func() error { return m.purge(runCtx) })
	// Hosted devices stop first: they are clients of this node, and would
	// otherwise keep reconnecting while it drains its connections. Their
	// leases are released, so another node takes them over at once.
	hostedCtx, stopHosted := context.WithCancel(context.Background())
	defer stopHosted()
	hostedDone := make(chan struct{})
	g.Go(func() error {
		defer close(hostedDone)
		return m.hosted.Run(hostedCtx)
	})
	g.Go(func() error { return m.hooks.Run(runCtx) })
	g.Go(func() error {
		<-gctx.Done()
		m.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), m.cfg.ShutdownTimeout)
		defer cancel()
		stopHosted()
		select {
		case <-hostedDone:
		case <-sctx.Done():
		}
		err := m.http.Shutdown(sctx)
		stopRun()
		return err
	})
	return g.Wait()
}

// purge runs Sweep once a minute.
func (m *Main) purge(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := m.Sweep(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("purge", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep deletes, once, mailbox items older than the retention period,
// items of disappearing messages that have expired, the media blobs no
// one needs any more (service.Media.Sweep), dead webhook events that
// died longer than the retention period ago, and business inbox
// conversations past their retention (service.Inbox.Sweep). Every node runs it once a
// minute; runs on several nodes at once are harmless.
func (m *Main) Sweep(ctx context.Context) error {
	now := m.cfg.Clock.Now()
	// Each step runs even when one before it failed.
	n, perr := m.store.Purge(ctx, now.Add(-m.cfg.Retention))
	x, xerr := m.store.PurgeExpired(ctx, now)
	if n+x > 0 {
		m.log.Info("purged expired mailbox items", "rows", n+x)
	}
	b, merr := m.media.Sweep(ctx)
	if b > 0 {
		m.log.Info("deleted media", "blobs", b)
	}
	o, oerr := m.store.PurgeOutbound(ctx, now.Add(-m.cfg.Retention))
	if o > 0 {
		m.log.Info("purged handled Cloud API messages", "rows", o)
	}
	w, werr := m.store.PurgeWebhooks(ctx, now.Add(-m.cfg.Retention))
	if w > 0 {
		m.log.Info("purged dead webhook events", "events", w)
	}
	var ierr error
	if m.inbox != nil {
		var c int
		if c, ierr = m.inbox.Sweep(ctx); c > 0 {
			m.log.Info("deleted business inbox conversations past their retention", "conversations", c)
		}
	}
	return errors.Join(perr, xerr, merr, oerr, werr, ierr)
}

// Close releases the bus and the store.
func (m *Main) Close() error {
	var errs []error
	if m.bus != nil {
		errs = append(errs, m.bus.Close())
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}

// Both stores pipeline commits; the gateway relies on it for throughput.
var _ service.AsyncMailbox = (*sqlstore.Store)(nil)

// The operator API lists and replays dead webhook events through the dispatcher.
var _ httpapi.WebhookOperator = (*webhook.Dispatcher)(nil)

// notifierRef breaks the construction cycle between services and the hub.
type notifierRef struct{ service.Notifier }
