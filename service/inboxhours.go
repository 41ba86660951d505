package service

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// ProfileHours answers OpenHours from the opening hours of the number's
// business profile (the opening_hours extension of
// whatsapp_business_profile): a number without published hours counts as
// always open, so that no business sends away messages by accident.
func ProfileHours(profiles interface {
	Profile(ctx context.Context, number string) (*parley.BusinessProfile, error)
}) OpenHours {
	return OpenHoursFunc(func(ctx context.Context, n *parley.BusinessNumber, at time.Time) (bool, error) {
		p, err := profiles.Profile(ctx, n.ID)
		if parley.Match(err, parley.ENOTFOUND) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return p.Hours.IsZero() || p.Hours.OpenAt(at), nil
	})
}
