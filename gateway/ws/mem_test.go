package ws

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of the client process started by BenchmarkIdleConns.
const (
	envIdleAddr  = "PARLEY_WS_IDLE_ADDR"
	envIdleConns = "PARLEY_WS_IDLE_CONNS"
)

// BenchmarkIdleConns measures what an idle connection costs the server:
// heap and goroutine stacks from runtime.MemStats, and RSS on Linux. The
// clients run in a child process so that their memory is not counted.
// The budget is 4 KiB per connection (package doc). Run it once:
//
//	go test -run '^$' -bench IdleConns -benchtime 1x ./gateway/ws/
//
// PARLEY_WS_IDLE_CONNS sets the number of connections (default 5000; each
// needs a descriptor in both processes).
func BenchmarkIdleConns(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv(envIdleConns)); err == nil && v > 0 {
		n = v
	}
	for _, mode := range modes() {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				heap, stack, rss := measureIdle(b, mode, n)
				b.ReportMetric(float64(heap+stack)/float64(n), "heap+stack-B/conn")
				b.ReportMetric(float64(heap)/float64(n), "heap-B/conn")
				b.ReportMetric(float64(stack)/float64(n), "stack-B/conn")
				if rss > 0 {
					b.ReportMetric(float64(rss)/float64(n), "RSS-B/conn")
				}
			}
		})
	}
}

// measureIdle returns the growth of live heap, stack and RSS while n idle
// connections are open.
func measureIdle(b *testing.B, mode string, n int) (heap, stack, rss int64) {
	h := nopHandler{}
	s, err := NewServer(h, Options{IdleTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if mode == "loop" && s.poll != nil {
		s.poll.close()
		s.poll = nil
	}
	hs := httptest.NewUnstartedServer(s)
	hs.Start()
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	heap0, stack0, rss0 := memNow()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envIdleAddr+"="+hs.Listener.Addr().String(), envIdleConns+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // tells the client to exit
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("client process: %q %v", line, err)
	}
	deadline := time.Now().Add(time.Minute)
	for s.Len() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d connections registered", s.Len(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	heap1, stack1, rss1 := memNow()
	if rss0 > 0 {
		rss = rss1 - rss0
	}
	return heap1 - heap0, stack1 - stack0, rss
}

func memNow() (heap, stack, rss int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), int64(ms.StackInuse), vmRSS()
}

// vmRSS returns the resident set size in bytes, or 0 where /proc is missing.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

type nopHandler struct{}

func (nopHandler) OnOpen(*Conn, *http.Request)   {}
func (nopHandler) OnMessage(*Conn, bool, []byte) {}
func (nopHandler) OnClose(*Conn, int, error)     {}

// TestIdleClientProcess is the client side of BenchmarkIdleConns, run in a
// child process: it opens the connections, says "ready" and holds them,
// with no goroutine per connection, until stdin closes.
func TestIdleClientProcess(t *testing.T) {
	addr := os.Getenv(envIdleAddr)
	if addr == "" {
		t.Skip("client process of BenchmarkIdleConns")
	}
	n, err := strconv.Atoi(os.Getenv(envIdleConns))
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 0, n)
	for range n {
		nc, err := net.DialTimeout("tcp", addr, wait)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		if _, err := nc.Write([]byte(handshake)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 512), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		conns = append(conns, nc)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	for _, nc := range conns {
		nc.Close()
	}
}
