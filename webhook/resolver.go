package webhook

import (
	"context"
	"net/url"
	"sync"

	"github.com/parley-chat/parley"
)

// Endpoint is where an endpoint id's events go.
type Endpoint struct {
	URL    string // the callback URL (http or https)
	Secret []byte // the app secret the body's signature is keyed with
	// MaxChanges opts the endpoint into batched POSTs (a Parley
	// extension): up to this many consecutive events of one ordering key
	// go in one POST, as the entries of one envelope (see batch.go).
	// 0 or 1: one change per POST, as documented for Meta receivers.
	MaxChanges int
}

// EndpointResolver turns the endpoint id of an event into a callback URL
// and a signing secret, when the event is sent (so a changed URL or a
// rotated secret applies to queued events). The business platform
// implements it from apps and their subscriptions.
//
// Contract: return ENOTFOUND (parley.Errorf) when the endpoint no longer
// exists or has no callback URL: its events are then dead at once, and
// the operator can replay them after fixing the configuration. Any other
// error is temporary: the event is retried with backoff. The dispatcher
// caches answers for a few seconds, so Resolve may be slowish (a database
// read) but must be safe for concurrent use.
type EndpointResolver interface {
	ResolveEndpoint(ctx context.Context, id string) (Endpoint, error)
}

// Endpoints is an EndpointResolver held in memory: for tests,
// benchmarks and fixed configurations. The zero value is empty and ready.
type Endpoints struct {
	mu sync.RWMutex
	m  map[string]Endpoint
}

var _ EndpointResolver = (*Endpoints)(nil)

// Set adds or replaces endpoint id.
func (e *Endpoints) Set(id string, ep Endpoint) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]Endpoint)
	}
	e.m[id] = ep
}

// Delete removes endpoint id.
func (e *Endpoints) Delete(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, id)
}

// ResolveEndpoint returns the endpoint set for id; ENOTFOUND when none.
func (e *Endpoints) ResolveEndpoint(_ context.Context, id string) (Endpoint, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ep, ok := e.m[id]
	if !ok {
		return Endpoint{}, parley.Errorf(parley.ENOTFOUND, "no webhook endpoint %q", id)
	}
	return ep, nil
}

// ValidateURL checks that a callback URL is an absolute http or https URL
// with a host. Whether its address is public is decided when it is
// dialed (NewClient), not here: names can resolve differently later.
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return parley.Errorf(parley.EINVALID, "callback URL must be an absolute http or https URL without credentials")
	}
	return nil
}
