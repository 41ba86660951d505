package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/parley-chat/parley"
)

// Handler receives every event for subjects this node subscribed to.
// Calls for one subject never overlap; a slow handler delays its shard.
type Handler func(subject string, data []byte)

// Options configure a Bus.
type Options struct {
	// URL of an external NATS cluster ("nats://a:4222,nats://b:4222").
	// Empty starts an embedded server.
	URL string
	// Name identifies this node's connection in NATS monitoring.
	Name string
	// Shards is the number of delivery goroutines (default 8).
	Shards int
	// ShardBuffer is the number of pending events per shard (default 65536).
	ShardBuffer int
	Logger      *slog.Logger
}

// Bus is a NATS connection, plus the embedded server when there is no
// cluster.
type Bus struct {
	srv    *server.Server // nil with an external cluster
	nc     *nats.Conn
	log    *slog.Logger
	seed   maphash.Seed
	shards []chan *nats.Msg

	handler  atomic.Pointer[Handler]
	burstEnd atomic.Pointer[func()]
	dropped  atomic.Int64

	mu    sync.RWMutex
	subs  map[string]*sub
	waits map[string]int // WaitOne's subjects, counted (embedded server only)
	wild  int            // subscriptions whose subject has a wildcard
}

type sub struct {
	n  int
	s  *nats.Subscription
	ch chan *nats.Msg // its shard
}

var _ parley.PubSub = (*Bus)(nil)

// Open connects to NATS (or starts the embedded server).
func Open(ctx context.Context, o Options) (*Bus, error) {
	if o.Shards <= 0 {
		o.Shards = 8
	}
	if o.ShardBuffer <= 0 {
		o.ShardBuffer = 65536
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	b := &Bus{log: o.Logger, seed: maphash.MakeSeed(), subs: map[string]*sub{}, waits: map[string]int{}}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.dropped.Add(1)
				return
			}
			b.log.Warn("nats error", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { b.log.Info("nats reconnected", "url", nc.ConnectedUrl()) }),
	}
	url := o.URL
	if url == "" {
		srv, err := server.NewServer(&server.Options{
			ServerName: o.Name,
			DontListen: true,
			NoSigs:     true,
			NoLog:      true,
			MaxPayload: 8 << 20,
		})
		if err != nil {
			return nil, fmt.Errorf("bus: embedded nats: %w", err)
		}
		go srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			srv.Shutdown()
			return nil, errors.New("bus: embedded nats did not start within 10s")
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		opts = append(opts, nats.RetryOnFailedConnect(false), nats.Timeout(5*time.Second))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if b.srv != nil {
			b.srv.Shutdown()
		}
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	b.nc = nc
	b.shards = make([]chan *nats.Msg, o.Shards)
	for i := range b.shards {
		b.shards[i] = make(chan *nats.Msg, o.ShardBuffer)
	}
	return b, nil
}

// SetHandler sets where deliveries go. Events that arrive before a
// handler is set are dropped.
func (b *Bus) SetHandler(h Handler) { b.handler.Store(&h) }

// SetBurstEnd sets a function that a shard calls after handling the
// events it found queued together (at most maxBurst), before it waits for
// more: a handler can collect work across a burst, such as frames for
// one connection written in one go, and finish it there.
func (b *Bus) SetBurstEnd(f func()) { b.burstEnd.Store(&f) }

// maxBurst bounds the events handled between two calls of the burst end.
const maxBurst = 256

// Run drains the shards until ctx is done.
func (b *Bus) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, ch := range b.shards {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-ch:
					b.handle(m)
				drain:
					for range maxBurst - 1 {
						select {
						case m := <-ch:
							b.handle(m)
						default:
							break drain
						}
					}
					if f := b.burstEnd.Load(); f != nil {
						(*f)()
					}
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func (b *Bus) handle(m *nats.Msg) {
	if h := b.handler.Load(); h != nil {
		(*h)(m.Subject, m.Data)
	}
}

// Publish sends data to subject. It does not wait for the server. The
// bus keeps data: the caller must not change it afterwards.
//
// With the embedded server, which has no listener, every subscriber is
// in this process, so Publish puts the event straight into the shard of
// the subject's subscription, or drops it when there is none; the NATS
// round trip (encode, server, client read loop: about a tenth of the
// CPU of a delivered message) is skipped. Events of one subject then
// never pass through NATS while it has no wildcard subscription and no
// WaitOne on it, so their order is kept as NATS keeps it: per publisher.
func (b *Bus) Publish(subject string, data []byte) error {
	if b.srv != nil {
		b.mu.RLock()
		s, direct := b.subs[subject], b.wild == 0 && b.waits[subject] == 0
		var ch chan *nats.Msg
		if s != nil {
			ch = s.ch
		}
		b.mu.RUnlock()
		if direct {
			if ch == nil {
				return nil // nobody listens
			}
			select {
			case ch <- &nats.Msg{Subject: subject, Data: data}:
			default:
				b.dropped.Add(1) // as NATS does for a full shard
			}
			return nil
		}
	}
	if err := b.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return nil
}

// Subscribe registers interest in subject. It returns after the NATS
// server has processed the subscription, so every event published after
// it returns is delivered.
func (b *Bus) Subscribe(subject string) error {
	b.mu.Lock()
	if s := b.subs[subject]; s != nil {
		s.n++
		b.mu.Unlock()
		return nil
	}
	ch := b.shards[maphash.String(b.seed, subject)%uint64(len(b.shards))]
	ns, err := b.nc.ChanSubscribe(subject, ch)
	if err != nil {
		b.mu.Unlock()
		return fmt.Errorf("bus: subscribe %s: %w", subject, err)
	}
	b.subs[subject] = &sub{n: 1, s: ns, ch: ch}
	if wildcard(subject) {
		b.wild++
	}
	b.mu.Unlock()
	// The flush is a round trip: afterwards the server knows the interest.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("bus: subscribe %s: flush: %w", subject, err)
	}
	return nil
}

// Unsubscribe drops one registration of interest in subject.
func (b *Bus) Unsubscribe(subject string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subs[subject]
	if s == nil {
		return nil
	}
	s.n--
	if s.n > 0 {
		return nil
	}
	delete(b.subs, subject)
	if wildcard(subject) {
		b.wild--
	}
	if err := s.s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("bus: unsubscribe %s: %w", subject, err)
	}
	return nil
}

// Request sends data to subject and waits for one reply.
func (b *Bus) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &parley.Error{Code: parley.ENOTFOUND, Message: "nobody is waiting", Op: "bus.Request", Err: err}
		}
		return nil, fmt.Errorf("bus: request %s: %w", subject, err)
	}
	return m.Data, nil
}

// WaitOne waits for one event on subject (outside the shard handler) and
// returns it with a function that replies to the sender of a Request.
func (b *Bus) WaitOne(ctx context.Context, subject string) (data []byte, reply func([]byte) error, err error) {
	// Publish must not bypass NATS for this subject meanwhile.
	b.mu.Lock()
	if wildcard(subject) {
		b.wild++
	} else {
		b.waits[subject]++
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if wildcard(subject) {
			b.wild--
		} else if b.waits[subject]--; b.waits[subject] == 0 {
			delete(b.waits, subject)
		}
		b.mu.Unlock()
	}()
	s, err := b.nc.SubscribeSync(subject)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: wait %s: %w", subject, err)
	}
	defer s.Unsubscribe()
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return nil, nil, fmt.Errorf("bus: wait %s: flush: %w", subject, err)
	}
	m, err := s.NextMsgWithContext(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: wait %s: %w", subject, err)
	}
	return m.Data, m.Respond, nil
}

// wildcard reports whether a NATS subject matches other subjects.
func wildcard(subject string) bool {
	for t := range strings.SplitSeq(subject, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

// Ready reports whether the NATS connection is up.
func (b *Bus) Ready() error {
	if !b.nc.IsConnected() {
		return &parley.Error{Code: parley.EUNAVAILABLE, Message: "bus disconnected", Op: "bus.Ready"}
	}
	return nil
}

// Dropped counts events lost to full shards since Open.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() error {
	err := b.nc.Drain()
	// Drain is asynchronous; wait for the connection to close.
	for i := 0; i < 200 && !b.nc.IsClosed(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	b.nc.Close()
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	return err
}
