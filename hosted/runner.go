package hosted

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sdk"
)

// Handler serves the hosted devices of one kind while this node runs
// them: it reads m.Events (and acknowledges them) and sends with m. Serve
// returns when ctx ends (the lease was lost or the node stops).
type Handler interface {
	Serve(ctx context.Context, d *parley.HostedDevice, m *sdk.Messenger) error
}

// secrets is what HostedDevice.Sealed holds, sealed.
type secrets struct {
	Credentials sdk.Credentials `json:"credentials"`
	Signal      []byte          `json:"signal,omitempty"` // sdk.SignalCipher's state
}

// Runner leases and runs this node's share of the hosted devices.
type Runner struct {
	Store  parley.HostedStore
	Sealer parley.Sealer // the at-rest key (package atrest); the sealed secrets are bound to the device's address
	Node   string
	// Server returns the base URL at which this node serves clients
	// (hosted devices connect to the node they run on).
	Server   func() string
	Handlers map[string]Handler // by kind
	Clock    parley.Clock
	Log      *slog.Logger
	// HTTPClient carries the devices' HTTP calls and WebSocket upgrades.
	HTTPClient *http.Client

	LeaseFor   time.Duration // 30 s
	MaxDevices int           // devices one node runs at most (10,000); negative: none (an API-only node)

	once    sync.Once  // defaults
	leaseMu sync.Mutex // one lease round at a time
	mu      sync.Mutex
	running map[string]*run // by account
	wg      sync.WaitGroup
}

type run struct {
	cancel context.CancelFunc
	m      *sdk.Messenger
	done   chan struct{}
}

func (r *Runner) defaults() { r.once.Do(r.setDefaults) }

func (r *Runner) setDefaults() {
	if r.Clock == nil {
		r.Clock = parley.SystemClock{}
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if r.LeaseFor <= 0 {
		r.LeaseFor = 30 * time.Second
	}
	if r.MaxDevices == 0 {
		r.MaxDevices = 10_000
	}
	if r.HTTPClient == nil {
		// Its own pool, closed when the runner stops: a connection the
		// transport dialled ahead and never used would hold up the node's
		// graceful shutdown (a server waits for new connections' first
		// request).
		r.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
}

// Run leases devices and runs them until ctx ends, then stops them and
// releases the leases.
func (r *Runner) Run(ctx context.Context) error {
	r.defaults()
	t := time.NewTicker(r.LeaseFor / 3)
	defer t.Stop()
	for {
		r.lease(ctx)
		select {
		case <-ctx.Done():
			r.stopAll()
			r.HTTPClient.CloseIdleConnections()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := r.Store.ReleaseHosted(rctx, r.Node); err != nil {
				r.Log.Warn("hosted: releasing leases", "err", err)
			}
			return nil
		case <-t.C:
		}
	}
}

// runsNone tells whether this node runs no hosted devices at all.
func (r *Runner) runsNone() bool {
	r.defaults()
	return r.MaxDevices < 0
}

// Kick makes the Runner look for new devices now (after a Provision).
func (r *Runner) Kick(ctx context.Context) {
	r.defaults()
	r.lease(ctx)
}

// lease renews this node's leases, takes free devices and starts or stops
// devices accordingly.
func (r *Runner) lease(ctx context.Context) {
	if r.runsNone() {
		return // an API-only node: other nodes run the devices
	}
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	r.mu.Lock()
	if r.running == nil {
		r.running = map[string]*run{}
	}
	r.mu.Unlock()
	now := r.Clock.Now()
	kinds := make([]string, 0, len(r.Handlers))
	for k := range r.Handlers {
		kinds = append(kinds, k)
	}
	got, err := r.Store.LeaseHosted(ctx, r.Node, kinds, now, now.Add(r.LeaseFor), r.MaxDevices)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Warn("hosted: leasing devices", "err", err)
		}
		return
	}
	held := map[string]bool{}
	for i := range got {
		h := got[i]
		held[h.Account] = true
		r.mu.Lock()
		_, ok := r.running[h.Account]
		r.mu.Unlock()
		if !ok {
			if err := r.start(ctx, &h); err != nil {
				r.Log.Error("hosted: cannot start device", "account", h.Account, "device", h.Device, "err", err)
			}
		}
	}
	r.mu.Lock()
	var lost []*run
	for acct, rn := range r.running {
		if !held[acct] {
			lost = append(lost, rn)
			delete(r.running, acct)
		}
	}
	r.mu.Unlock()
	for _, rn := range lost {
		rn.cancel()
		<-rn.done
	}
}

func (r *Runner) stopAll() {
	r.mu.Lock()
	runs := r.running
	r.running = map[string]*run{}
	r.mu.Unlock()
	for _, rn := range runs {
		rn.cancel()
	}
	r.wg.Wait()
}

// Messenger returns the Messenger of an account's hosted device if this
// node runs it.
func (r *Runner) Messenger(account string) (*sdk.Messenger, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rn, ok := r.running[account]
	if !ok {
		return nil, false
	}
	return rn.m, true
}

// start opens a leased device and runs it in the background.
func (r *Runner) start(ctx context.Context, h *parley.HostedDevice) error {
	handler := r.Handlers[h.Kind]
	if handler == nil {
		return fmt.Errorf("no handler for hosted devices of kind %q", h.Kind)
	}
	sec, err := r.open(h, h.Sealed)
	if err != nil {
		return err
	}
	sec.Credentials.Server = r.Server()
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st := &dbState{r: r, h: *h, sec: sec, lost: cancel}
	client := &sdk.Client{Credentials: sec.Credentials, HTTPClient: r.HTTPClient}
	log := r.Log.With("hosted", h.Kind, "account", h.Account, "device", h.Device)
	cipher, err := sdk.OpenSignalCipher(client, st, log)
	if err != nil {
		cancel()
		return err
	}
	m := sdk.NewMessenger(sec.Credentials, sdk.Options{Cipher: cipher, HTTPClient: r.HTTPClient, Logger: log,
		MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second})
	rn := &run{cancel: cancel, m: m, done: make(chan struct{})}
	r.mu.Lock()
	r.running[h.Account] = rn
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(rn.done)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := m.Run(dctx); err != nil {
				log.Error("hosted device stopped", "err", err)
				cancel()
			}
		})
		if err := handler.Serve(dctx, h, m); err != nil && dctx.Err() == nil {
			log.Error("hosted handler failed", "err", err)
		}
		cancel()
		wg.Wait()
	}()
	log.Info("hosted device running")
	return nil
}

// aad binds sealed secrets to their device: a row copied onto another
// device's does not open.
func aad(account string, device uint32) []byte {
	return []byte(parley.DeviceAddress(account, device))
}

func (r *Runner) open(h *parley.HostedDevice, sealed []byte) (*secrets, error) {
	b, err := r.Sealer.Open(sealed, aad(h.Account, h.Device))
	if err != nil {
		return nil, fmt.Errorf("open hosted secrets: %w", err)
	}
	var sec secrets
	if err := json.Unmarshal(b, &sec); err != nil {
		return nil, fmt.Errorf("hosted secrets: %w", err)
	}
	return &sec, nil
}

func (r *Runner) seal(sec *secrets) ([]byte, error) {
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	return r.Sealer.Seal(b, aad(sec.Credentials.Account, sec.Credentials.Device))
}

// dbState is the SignalCipher StateStore of a hosted device: its state,
// sealed with the credentials, in the database, saved while this node
// holds the lease.
type dbState struct {
	r    *Runner
	h    parley.HostedDevice
	mu   sync.Mutex
	sec  *secrets
	lost context.CancelFunc
}

func (s *dbState) LoadState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sec.Signal, nil
}

func (s *dbState) SaveState(state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sec.Signal = state
	sealed, err := s.r.seal(s.sec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.r.Store.SaveHosted(ctx, s.h.Account, s.h.Device, s.r.Node, s.r.Clock.Now(), sealed)
	if parley.Match(err, parley.ECONFLICT) {
		s.lost() // another node may run it now: stop before it diverges
	}
	return err
}
