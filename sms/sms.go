// Package sms holds SMS providers. Only the development provider ships:
// it "sends" by recording the text in the store (where `parley admin otp`
// and tests read it) and logging it. A real gateway implements
// parley.SMSProvider in a package of its own.
package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
)

// Dev is the development provider.
type Dev struct {
	Log   parley.SMSLog
	Clock parley.Clock
	Slog  *slog.Logger
}

var _ parley.SMSProvider = (*Dev)(nil)

// Send records text for phone.
func (d *Dev) Send(ctx context.Context, phone, text string) error {
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	if d.Slog != nil {
		d.Slog.Info("development SMS", "to", "+"+phone, "text", text)
	}
	return d.Log.RecordSMS(ctx, phone, text, now)
}

// Development reports true: codes may be read back.
func (d *Dev) Development() bool { return true }
