package crypto

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.mau.fi/libsignal/logger"
)

// libsignal logs through a package-global logger that prints to stdout
// unless replaced. Importing this package replaces it with an adapter
// that discards everything until SetLogger is called.
//
// Debug messages are always dropped: libsignal logs message keys, cipher
// keys and whole session records at debug level. Its info, warning and
// error messages (which carry error text only, no content) go to the slog
// logger at Debug level, because every failure is also returned as an
// error to the caller, who decides what to log.
type slogAdapter struct {
	l atomic.Pointer[slog.Logger]
}

var libsignalLog = &slogAdapter{}

var _ logger.Loggable = (*slogAdapter)(nil)

func init() {
	var l logger.Loggable = libsignalLog
	logger.Setup(&l)
}

// SetLogger routes libsignal's messages to l (at Debug level, with
// lib=libsignal); nil silences them again. It affects the whole process.
func SetLogger(l *slog.Logger) { libsignalLog.l.Store(l) }

func (a *slogAdapter) log(level, caller, msg string) {
	l := a.l.Load()
	if l == nil {
		return
	}
	l.LogAttrs(context.Background(), slog.LevelDebug, msg,
		slog.String("lib", "libsignal"), slog.String("lib_level", level), slog.String("caller", caller))
}

func (a *slogAdapter) Debug(string, string)       {}
func (a *slogAdapter) Info(caller, msg string)    { a.log("info", caller, msg) }
func (a *slogAdapter) Warning(caller, msg string) { a.log("warning", caller, msg) }
func (a *slogAdapter) Error(caller, msg string)   { a.log("error", caller, msg) }
func (a *slogAdapter) Configure(string)           {}
