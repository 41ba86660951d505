//go:build unix

package profile

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on dir's lock file, so that two
// processes never use one profile at once: both would write the Signal
// state, and the one that writes last would undo the other's ratchet
// steps. The lock goes with the process.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, err
	}
	return f, nil
}
