package sdk

import (
	"net"
	"sync"
)

// corkConn is the network connection under a Conn's WebSocket (native
// builds, default HTTP client): while corked it keeps what is written and
// hands it to the operating system in one write when uncorked, so that
// WriteFrames costs one system call for all its frames, not one each
// (the websocket library flushes every message).
type corkConn struct {
	net.Conn

	mu     sync.Mutex // held across the write of an uncorked Write or uncork
	corked bool
	buf    []byte
}

// maxKeptCorkBuf is the largest buffer kept between corks.
const maxKeptCorkBuf = 16 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was kept since cork.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxKeptCorkBuf {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}
