package service

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// deviceCache keeps accounts' active device ids for a short time. Every
// send needs the lists of the recipient and of the sender; reading them
// from the store each time would double the store's read load.
//
// Staleness is bounded two ways: Invalidate is called for every
// DevicesChanged event from any node (through the bus), and entries expire
// after ttl in case such an event was lost. A revoked device can never
// receive through a stale entry, because the store refuses items for
// revoked devices (ESTALE) and the send is retried with fresh lists; a
// device linked a moment ago may miss messages sent within that moment,
// as if they had been sent before it was linked.
type deviceCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedDevices
}

type cachedDevices struct {
	ids   []uint32 // active devices, sorted
	keyed []uint32 // those of ids that have published keys
	at    time.Time
}

const deviceCacheMax = 100_000

func newDeviceCache(ttl time.Duration) *deviceCache {
	return &deviceCache{ttl: ttl, m: map[string]cachedDevices{}}
}

func (c *deviceCache) get(ctx context.Context, store interface {
	Devices(ctx context.Context, account string) ([]parley.Device, error)
}, account string, now time.Time) (cachedDevices, error) {
	c.mu.Lock()
	e, ok := c.m[account]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e, nil
	}
	devs, err := store.Devices(ctx, account)
	if err != nil {
		return cachedDevices{}, err
	}
	e = cachedDevices{ids: make([]uint32, len(devs)), at: now}
	for i, d := range devs {
		e.ids[i] = d.ID
		if d.HasKeys {
			e.keyed = append(e.keyed, d.ID)
		}
	}
	slices.Sort(e.ids)
	slices.Sort(e.keyed)
	c.mu.Lock()
	if len(c.m) >= deviceCacheMax {
		clear(c.m)
	}
	c.m[account] = e
	c.mu.Unlock()
	return e, nil
}

func (c *deviceCache) invalidate(account string) {
	c.mu.Lock()
	delete(c.m, account)
	c.mu.Unlock()
}
