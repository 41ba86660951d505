//go:build !linux

package ws

import "errors"

// poller is Linux-only; elsewhere every connection gets a read loop.
type poller struct{}

func newPoller() (*poller, error) { return nil, nil }

func (*poller) arm(*Conn, bool) error     { return errors.New("ws: no poller on this OS") }
func (*poller) run(func(id uint64)) error { return nil }
func (*poller) stop()                     {}
func (*poller) close()                    {}
