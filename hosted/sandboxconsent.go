package hosted

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sdk"
)

// SetMarketing flips the sandbox customer's marketing switch for the
// business to: its device sends the consent payload (sdk.PayloadConsent)
// end to end encrypted, as a customer's client does.
func (s *Sandbox) SetMarketing(ctx context.Context, phone, to string, marketing bool) (string, error) {
	m, _, err := s.messenger(ctx, phone)
	if err != nil {
		return "", err
	}
	toAcct, err := parley.ParsePhone(to)
	if err != nil {
		return "", err
	}
	r, err := m.Send(ctx, sdk.Outgoing{To: toAcct, Plaintext: sdk.ConsentPayloadFor(marketing)})
	if err != nil {
		return "", err
	}
	return r.MessageID, nil
}
