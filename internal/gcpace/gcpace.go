// Package gcpace lets the garbage collector collect less often while the
// process allocates fast, within a bound on the extra heap, and returns it
// to the runtime's default when the allocation rate falls.
//
// Why: the collector starts a cycle each time the heap has grown by GOGC
// percent of the live heap. A messaging node's live heap is small (about
// 15 MB at 45,000 messages/s) while it allocates a few hundred MB per
// second, so at the default of 100 it collects ~15 times a second, and
// the marking work of those cycles was 7–9 % of the node's CPU
// (docs/BENCHMARKS.md, session 10). The marking work per second is
// proportional to the allocation rate divided by GOGC, whatever the live
// heap; raising GOGC to 400 cut the CPU per message of saturated runs by
// up to a fifth. A fixed high GOGC, though, also lets an idle node with
// many connections grow its heap to five times what it holds, which the
// per-connection memory budget does not allow. So the percent follows the
// load: at most Cycles collections per second, never more extra heap than
// Headroom, never below the runtime's default.
//
// When the process goes idle after allocating much, Run also collects at
// once and returns the free memory to the operating system, which the
// runtime would otherwise do only about two minutes later (its forced
// collection and the background scavenger): a node that has just taken
// thousands of connections, or a burst of messages, shrinks to its idle
// size within seconds.
//
// An operator who sets GOGC keeps it: Run then changes nothing. GOMEMLIMIT
// still applies on top (the runtime collects earlier near the limit).
package gcpace

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Policy says how far the collector's target may follow the load.
type Policy struct {
	// Headroom is the most heap, in bytes, the policy lets grow beyond
	// the live heap before a collection. 0 disables the policy.
	Headroom uint64
	// Cycles is the number of collections per second the policy aims
	// not to exceed; 0 means 4.
	Cycles float64
	// Max is the highest percent it sets; 0 means 1000.
	Max int
}

// Default is the policy parley serve runs unless told otherwise.
var Default = Policy{Headroom: 128 << 20, Cycles: 4, Max: 1000}

// base is the percent the policy never goes below: the runtime's default.
const base = 100

// Percent is the GC percent for a process that allocates rate bytes per
// second with a live heap of live bytes: high enough for at most Cycles
// collections a second, low enough that the heap grows at most Headroom
// beyond the live heap, and between 100 and Max.
func (p Policy) Percent(rate, live float64) int {
	if p.Headroom == 0 || rate <= 0 {
		return base
	}
	cycles, max := p.Cycles, p.Max
	if cycles <= 0 {
		cycles = 4
	}
	if max <= 0 {
		max = 1000
	}
	// The runtime never targets less than a 4 MB heap; a smaller live
	// heap than that would ask for an absurd percent.
	live = math.Max(live, 4<<20)
	want := 100 * rate / (cycles * live)
	want = math.Min(want, 100*float64(p.Headroom)/live)
	want = math.Min(want, float64(max))
	if want <= base {
		return base
	}
	return int(want)
}

// sample reads what Percent needs from the runtime: the bytes allocated
// since the process started and the live heap at the last collection.
type sample func() (allocated, live uint64)

func readRuntime() sample {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	return func() (uint64, uint64) {
		metrics.Read(s)
		var a, l uint64
		if s[0].Value.Kind() == metrics.KindUint64 {
			a = s[0].Value.Uint64()
		}
		if s[1].Value.Kind() == metrics.KindUint64 {
			l = s[1].Value.Uint64()
		}
		return a, l
	}
}

// Every is how often Run samples the allocation rate.
const Every = 250 * time.Millisecond

// lower is how many samples in a row must ask for a lower percent before
// Run lowers it: a burst of load that pauses for a moment keeps its
// percent, and the heap does not swing with every sample.
const lower = 4

// idleRate is the allocation rate, in bytes per second, below which the
// process counts as idle: a node with thousands of idle connections
// allocates far less, one that carries even a hundred messages a second
// more.
const idleRate = 1 << 20

// releaseAfter is how many bytes the process must have allocated since
// the last release for going idle to trigger another: less than that
// leaves little garbage to return, and a node that alternates between
// short bursts and pauses is not collected at every pause.
const releaseAfter = 64 << 20

// Run adjusts the GC percent every Every until ctx is done, then sets it
// back to the runtime's default; it releases free memory when the process
// goes idle (lower samples below idleRate) after allocating releaseAfter
// bytes. It does nothing (and returns false at once) when the policy is
// disabled or the environment sets GOGC: the operator's choice wins. set
// receives each change of the percent, for logging; it may be nil.
func (p Policy) Run(ctx context.Context, set func(percent int)) bool {
	if p.Headroom == 0 || os.Getenv("GOGC") != "" {
		return false
	}
	t := time.NewTicker(Every)
	defer t.Stop()
	p.loop(ctx, t.C, readRuntime(), runtimeHooks{}, set)
	return true
}

// hooks is what loop does to the runtime.
type hooks interface {
	setPercent(int)
	release()
}

type runtimeHooks struct{}

func (runtimeHooks) setPercent(pc int) { debug.SetGCPercent(pc) }
func (runtimeHooks) release()          { debug.FreeOSMemory() }

// loop is Run's body, with the clock, the runtime's figures and what it
// does to the runtime passed in so that tests can drive it.
func (p Policy) loop(ctx context.Context, tick <-chan time.Time, read sample, rt hooks, report func(int)) {
	cur := base
	change := func(pc int) {
		cur = pc
		rt.setPercent(pc)
		if report != nil {
			report(pc)
		}
	}
	defer func() {
		if cur != base {
			change(base)
		}
	}()
	prevAlloc, _ := read()
	prevAt := time.Now()
	below := 0
	// idle counts the samples in a row below idleRate; released is what
	// had been allocated at the last release.
	idle, released := 0, prevAlloc
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-tick:
		}
		alloc, live := read()
		secs := now.Sub(prevAt).Seconds()
		if secs <= 0 || alloc < prevAlloc {
			prevAlloc, prevAt = alloc, now
			continue
		}
		rate := float64(alloc-prevAlloc) / secs
		want := p.Percent(rate, float64(live))
		prevAlloc, prevAt = alloc, now
		if rate < idleRate {
			idle++
		} else {
			idle = 0
		}
		switch {
		case want > cur:
			below = 0
			// Small steps up are not worth a new target; from the
			// default any step is.
			if cur == base || want > cur+cur/8 {
				change(want)
			}
		case want < cur:
			below++
			if below >= lower {
				below = 0
				change(want)
			}
		default:
			below = 0
		}
		// Released after the percent is back to the default, so that
		// the collection it forces leaves the default target.
		if idle >= lower && alloc-released >= releaseAfter {
			released = alloc
			rt.release()
		}
	}
}
