package service

import (
	"hash/maphash"
	"sync"
	"time"
)

// limiter is a set of token buckets in memory, sharded by key so that
// many goroutines rarely wait on one lock. The Cloud API's limits are
// enforced per node: with several nodes behind a load balancer a number
// may send up to its rate on each. Meta's limits are approximations too
// (its docs speak of throughput "up to"), and keeping them off the store
// is what lets a node accept tens of thousands of sends a second.
type limiter struct {
	seed   maphash.Seed
	shards [64]limiterShard
}

type limiterShard struct {
	mu    sync.Mutex
	m     map[string]*bucket
	calls int
}

type bucket struct {
	tokens float64
	last   time.Time
	burst  float64
	rate   float64
}

// sweepEvery is how many calls on a shard pass between sweeps of its
// buckets that have refilled (and so carry no state worth keeping).
const limiterSweepEvery = 4096

func newLimiter() *limiter {
	l := &limiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = map[string]*bucket{}
	}
	return l
}

func (l *limiter) shard(key string) *limiterShard {
	return &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
}

// refill brings b up to now.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(burst, b.tokens+d*rate)
		b.last = now
	}
	b.rate, b.burst = rate, burst
}

// allow takes one token from key's bucket (rate tokens a second, at most
// burst) and reports whether there was one.
func (l *limiter) allow(key string, rate, burst float64, now time.Time) bool {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.calls++; sh.calls%limiterSweepEvery == 0 {
		for k, b := range sh.m {
			if b.rate > 0 && b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst {
				delete(sh.m, k)
			}
		}
	}
	b := sh.m[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		sh.m[key] = b
	}
	b.refill(now, rate, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// give returns a token taken by allow (the request failed later for
// another reason).
func (l *limiter) give(key string) {
	sh := l.shard(key)
	sh.mu.Lock()
	if b := sh.m[key]; b != nil {
		b.tokens = min(b.burst, b.tokens+1)
	}
	sh.mu.Unlock()
}

// exhausted reports whether key's bucket has no token left, without
// taking one.
func (l *limiter) exhausted(key string, rate, burst float64, now time.Time) bool {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		return false
	}
	b.refill(now, rate, burst)
	return b.tokens < 1
}
