//go:build !unix

package profile

import "os"

// lockDir opens the lock file without locking it: this platform has no
// flock. Do not run two processes on one profile.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
