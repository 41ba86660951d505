package ws

import (
	"bufio"
	"fmt"
	"time"
)

// readLoop serves one connection with its own goroutine and buffer, for
// connections epoll cannot watch (no poller on this OS, or no file
// descriptor, as with in-process TLS). It costs a goroutine stack and
// readBufSize per idle connection.
func (s *Server) readLoop(c *Conn) {
	defer s.bg.Done()
	fr := &frameReader{br: bufio.NewReaderSize((*source)(c), readBufSize)}
	for {
		// Waiting for the first byte of a frame has no deadline; the idle
		// sweep ends connections that stay silent.
		err := c.nc.SetReadDeadline(time.Time{})
		c.deadline = 0 // readFrames sets it again
		if err == nil {
			_, err = fr.br.Peek(1)
		}
		if !c.acquire() {
			return
		}
		if err != nil {
			c.readFailed(fmt.Errorf("waiting for a frame: %w", err))
		} else {
			// A panic closes c, so fr is not used again after one.
			s.turn(c, fr)
		}
		if !s.release(c) {
			return
		}
	}
}
