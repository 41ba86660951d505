package ws

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// poller tells which idle connections have become readable. Each socket is
// registered with EPOLLONESHOT, so one event hands it to one worker, and it
// is re-armed only when that worker is done with it.
type poller struct {
	mu     sync.RWMutex // guards the descriptors against use after close
	closed bool
	epfd   int
	wakefd int // eventfd that interrupts epoll_wait for stop
	halt   atomic.Bool
}

// wakeID is the epoll key of wakefd; connection ids start at 1.
const wakeID = 0

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setKey(&ev, wakeID)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, err
	}
	return &poller{epfd: epfd, wakefd: wakefd}, nil
}

// The 64-bit epoll data holds the connection id, split over the Fd and Pad
// fields that x/sys lays over it on every architecture. An id, unlike a file
// descriptor number, is never reused, so a stale event cannot reach a newer
// connection.
func setKey(ev *unix.EpollEvent, id uint64) {
	ev.Fd, ev.Pad = int32(uint32(id)), int32(uint32(id>>32))
}

func key(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

var errPollerClosed = errors.New("poller closed")

// arm waits for c to become readable once more; first registers it.
func (p *poller) arm(c *Conn, first bool) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errPollerClosed
	}
	op := unix.EPOLL_CTL_MOD
	if first {
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT}
	setKey(&ev, c.id)
	var err error
	// Control keeps the descriptor open while epoll_ctl runs, so a
	// concurrent Close cannot let its number be reused under us.
	cerr := c.rc.Control(func(fd uintptr) {
		err = unix.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// run hands the key of each ready connection to dispatch until stop.
func (p *poller) run(dispatch func(id uint64)) error {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		for i := range n {
			id := key(&events[i])
			if id == wakeID {
				if p.halt.Load() {
					return nil
				}
				continue
			}
			dispatch(id)
		}
	}
}

// stop makes run return.
func (p *poller) stop() {
	p.halt.Store(true)
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(p.wakefd, one[:])
}

// close releases the descriptors once run has returned.
func (p *poller) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		_ = unix.Close(p.epfd)
		_ = unix.Close(p.wakefd)
	}
}
