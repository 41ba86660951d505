//go:build unix

// Package cpuclock reads the CPU time the process has used, for
// benchmarks that report CPU per operation: the machine's other load does
// not inflate it the way it inflates wall time.
package cpuclock

import (
	"syscall"
	"time"
)

// Process is the CPU time (user and system) this process has used.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
