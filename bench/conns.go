package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// IdleConn is an open client connection held without any goroutine.
type IdleConn struct {
	net.Conn
}

// sourceAddr spreads clients over 127.0.0.2 … 127.0.0.(1+spread), so no
// source address runs out of ephemeral ports.
func sourceAddr(i, spread int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%spread))}
}

// DialIdle opens one WebSocket connection from a spread source address;
// with a token it authenticates and waits for "ready".
func DialIdle(ctx context.Context, url string, i, spread int, token string) (*IdleConn, error) {
	d := ws.Dialer{
		Timeout: 30 * time.Second,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{LocalAddr: sourceAddr(i, spread), Timeout: 30 * time.Second}
			return nd.DialContext(ctx, network, addr)
		},
	}
	conn, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if br != nil {
			ws.PutReader(br)
		}
		return &IdleConn{conn}, nil
	}
	auth, _ := json.Marshal(map[string]string{"type": "auth", "token": token})
	if err := wsutil.WriteClientText(conn, auth); err != nil {
		conn.Close()
		return nil, err
	}
	var rd interface {
		Read([]byte) (int, error)
	} = conn
	if br != nil {
		rd = bufio.NewReader(&prefixed{br, conn})
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	msg, err := wsutil.ReadServerText(readerOnly{rd})
	conn.SetReadDeadline(time.Time{})
	if br != nil {
		ws.PutReader(br)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("waiting for ready: %w", err)
	}
	var f struct{ Type string }
	if json.Unmarshal(msg, &f); f.Type != "ready" {
		conn.Close()
		return nil, fmt.Errorf("expected ready, got %s", msg)
	}
	return &IdleConn{conn}, nil
}

type prefixed struct {
	br   *bufio.Reader
	conn net.Conn
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.br.Buffered() > 0 {
		return p.br.Read(b)
	}
	return p.conn.Read(b)
}

type readerOnly struct {
	r interface{ Read([]byte) (int, error) }
}

func (r readerOnly) Read(b []byte) (int, error)  { return r.r.Read(b) }
func (r readerOnly) Write(b []byte) (int, error) { return 0, fmt.Errorf("read only") }

// OpenIdle opens n connections with a few dialers at a time. tokens may be
// nil (no authentication, for the echo baseline).
func OpenIdle(ctx context.Context, url string, n, spread int, tokens []string) ([]*IdleConn, error) {
	conns := make([]*IdleConn, n)
	err := parallel(n, 32, func(i int) error {
		tok := ""
		if tokens != nil {
			tok = tokens[i]
		}
		c, err := DialIdle(ctx, url, i, spread, tok)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns[i] = c
		return nil
	})
	if err != nil {
		CloseAll(conns)
		return nil, err
	}
	return conns, nil
}

// CloseAll closes every open connection.
func CloseAll(conns []*IdleConn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
