package ws

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"time"
)

// Options configure a Server. Zero fields take the defaults below; negative
// values are an error.
type Options struct {
	// MaxMessageSize bounds a reassembled message; a larger one closes the
	// connection with 1009. Default 1 MiB.
	MaxMessageSize int64
	// IdleTimeout closes a connection with 1001 when no frame (pings
	// included) has been read for this long. It is enforced by a periodic
	// sweep, not a timer per connection, so it may fire up to a quarter
	// later (at most a second). Default 90 s.
	IdleTimeout time.Duration
	// WriteTimeout bounds every write; a write that cannot finish in time
	// means a slow consumer, and the connection is closed (1008). Default 10 s.
	WriteTimeout time.Duration
	// ReadTimeout bounds how long the rest of a frame may take once its
	// first byte has arrived (slowloris guard, 1008): at least half of it,
	// at most all of it. It must cover a whole MaxMessageSize frame on a
	// slow link. Default 10 s.
	ReadTimeout time.Duration
	// Workers is the number of goroutines reading ready connections and
	// running OnMessage. Default 4 × GOMAXPROCS, at least 8.
	Workers int
	// Logger receives connection errors at debug level and handler panics
	// at error level. Default: discard.
	Logger *slog.Logger
	// CheckOrigin rejects an upgrade with 403 when it returns false; nil
	// allows every origin.
	CheckOrigin func(r *http.Request) bool
}

const (
	defaultMaxMessageSize = 1 << 20
	defaultIdleTimeout    = 90 * time.Second
	defaultWriteTimeout   = 10 * time.Second
	defaultReadTimeout    = 10 * time.Second
)

func (o Options) withDefaults() (Options, error) {
	if o.MaxMessageSize < 0 || o.IdleTimeout < 0 || o.WriteTimeout < 0 || o.ReadTimeout < 0 || o.Workers < 0 {
		return o, errors.New("ws: negative option")
	}
	if uint64(o.MaxMessageSize) > math.MaxInt {
		// Messages are held in one []byte.
		return o, errors.New("ws: MaxMessageSize does not fit in an int")
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = defaultMaxMessageSize
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = defaultWriteTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = defaultReadTimeout
	}
	if o.Workers == 0 {
		o.Workers = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
