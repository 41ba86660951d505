package gcpace

import (
	"context"
	"runtime"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	p := Policy{Headroom: 128 * mib, Cycles: 4, Max: 1000}
	for _, c := range []struct {
		name       string
		p          Policy
		rate, live float64
		want       int
	}{
		{"idle", p, 0, 15 * mib, 100},
		{"slow", p, 20 * mib, 15 * mib, 100},
		// 240 MB/s over a 15 MB live heap: 4 cycles a second need 400 %.
		{"busy", p, 240 * mib, 15 * mib, 400},
		// Faster still: the 128 MiB headroom bounds it (853 %).
		{"headroom", p, 1000 * mib, 15 * mib, 853},
		// A tiny live heap counts as the runtime's 4 MB minimum, and Max
		// caps the rest.
		{"max", p, 2000 * mib, 1 * mib, 1000},
		// A big live heap is collected seldom enough at the default.
		{"bigheap", p, 240 * mib, 200 * mib, 100},
		{"disabled", Policy{}, 1000 * mib, 15 * mib, 100},
		{"defaults", Policy{Headroom: 1 << 40}, 1e12, 15 * mib, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Percent(c.rate, c.live); got != c.want {
				t.Errorf("Percent(%.0f MiB/s, %.0f MiB) = %d, want %d", c.rate/mib, c.live/mib, got, c.want)
			}
		})
	}
}

// fakeHooks reports what the loop does to the runtime.
type fakeHooks struct {
	applied  chan int
	released chan struct{}
}

func (f fakeHooks) setPercent(pc int) { f.applied <- pc }
func (f fakeHooks) release()          { f.released <- struct{}{} }

// The loop raises the percent at once when the rate climbs, lowers it
// only after several samples ask for less, releases memory once when the
// process goes idle after allocating much, and restores the default when
// it stops.
func TestLoop(t *testing.T) {
	p := Policy{Headroom: 128 * mib, Cycles: 4, Max: 1000}
	ctx, cancel := context.WithCancel(t.Context())
	tick := make(chan time.Time)
	// The loop reads the runtime's figures once at its start and once per
	// tick; the test hands them over in step with the ticks.
	figures := make(chan uint64)
	read := func() (uint64, uint64) { return <-figures, 15 * mib }
	var alloc uint64
	applied, released := make(chan int, 16), make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.loop(ctx, tick, read, fakeHooks{applied, released}, nil)
	}()
	figures <- 0
	now := time.Now()
	tickAt := func(at time.Time) {
		tick <- at
		figures <- alloc
	}
	// step allocates rate MiB/s for a second and ticks.
	step := func(rate uint64) {
		alloc += rate * mib
		now = now.Add(time.Second)
		tickAt(now)
	}
	expect := func(what string, want int) {
		t.Helper()
		select {
		case got := <-applied:
			if got != want {
				t.Fatalf("%s: set %d, want %d", what, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nothing set, want %d", what, want)
		}
	}
	steps := func(n int, rate uint64) {
		for range n {
			step(rate)
		}
	}
	expectNone := func(what string) {
		t.Helper()
		// The loop takes the next tick only after handling this one; a
		// tick at the same moment measures nothing.
		tickAt(now)
		select {
		case got := <-applied:
			t.Fatalf("%s: set %d, want no change", what, got)
		case <-released:
			t.Fatalf("%s: released memory, want nothing", what)
		default:
		}
	}
	expectRelease := func(what string) {
		t.Helper()
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no release", what)
		}
	}

	// The first tick measures from the loop's start, which is real time:
	// let it pass without load.
	step(0)
	expectNone("idle")
	// Going idle after allocating less than releaseAfter releases
	// nothing: 2 MiB/s is not idle, and then 0 is, for long enough.
	steps(4, 2)
	steps(lower, 0)
	expectNone("idle after a little")
	step(240)
	expect("busy", 400)
	step(250) // 416 %: a step of less than an eighth is not taken
	expectNone("slightly busier")
	step(1000)
	expect("much busier", 853)
	steps(lower-1, 240)
	expectNone("briefly calmer")
	step(240)
	expect("calmer for a while", 400)
	steps(lower-1, 0)
	expectNone("briefly idle")
	step(0)
	expect("idle again", 100)
	expectRelease("idle again")
	steps(2*lower, 0)
	expectNone("still idle: released once")
	// Idle after a slow trickle that adds up: 16 MiB/s never raises the
	// percent, but 64 MiB of it are worth releasing.
	steps(4, 16)
	steps(lower, 0)
	expectRelease("idle after a trickle")
	expectNone("idle after a trickle: nothing else")
	step(1000)
	expect("busy again", 853)
	cancel()
	expect("stopped", 100)
	<-done
}

// The runtime's figures the policy reads exist and move.
func TestReadRuntime(t *testing.T) {
	read := readRuntime()
	a0, _ := read()
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.GC()
	a1, live := read()
	if a1 <= a0 || a1-a0 < 4*mib {
		t.Errorf("allocated %d → %d bytes across 4 MiB of allocations", a0, a1)
	}
	if live < 4*mib {
		t.Errorf("live heap %d bytes while holding 4 MiB", live)
	}
	runtime.KeepAlive(keep)
}

// Run runs (until its context ends) unless the policy is off or the
// environment sets GOGC.
func TestRunOnOff(t *testing.T) {
	t.Setenv("GOGC", "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if !Default.Run(ctx, nil) {
		t.Error("Run did not run with a headroom and no GOGC")
	}
	if (Policy{}).Run(t.Context(), nil) {
		t.Error("Run ran with no headroom")
	}
	t.Setenv("GOGC", "200")
	if Default.Run(t.Context(), nil) {
		t.Error("Run ran with GOGC set")
	}
}
