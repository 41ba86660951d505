package hosted

import (
	"context"
	"fmt"
	"sync"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/service"
)

// Provisioner creates hosted devices.
type Provisioner struct {
	mu       sync.Mutex // one provisioning at a time on this node
	Runner   *Runner
	Accounts interface {
		AddHostedDevice(ctx context.Context, account, name, platform string) (*service.Registration, error)
	}
	Keys interface {
		Upload(ctx context.Context, d *parley.Device, identity []byte, registrationID uint32, spk parley.SignedPrekey, prekeys []parley.OneTimePrekey) (*service.KeyCount, error)
	}
}

// Provision returns the hosted device of account, creating it when there
// is none: a new device of the account (the account too, if needed) with
// new Signal keys, published at once so that others can encrypt to it,
// and its secrets sealed in the store. The Runner picks it up.
func (p *Provisioner) Provision(ctx context.Context, account, kind, name string) (*parley.HostedDevice, error) {
	const op = "hosted.Provision"
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.Runner
	r.defaults()
	if h, err := r.Store.Hosted(ctx, account); err == nil {
		if h.Kind != kind {
			return nil, parley.Errorf(parley.ECONFLICT, "+%s is hosted already, as a %s", account, h.Kind)
		}
		return h, nil
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	platform := parley.PlatformSandbox
	if kind == parley.HostedBusiness {
		platform = parley.PlatformHostedBusiness
	}
	reg, err := p.Accounts.AddHostedDevice(ctx, account, name, platform)
	if err != nil {
		return nil, err
	}
	creds := sdk.Credentials{Server: r.Server(), Account: account, Device: reg.Device.ID, Token: reg.Token}
	st := &sdk.MemoryState{}
	cipher, err := sdk.OpenSignalCipher(&sdk.Client{Credentials: creds, HTTPClient: r.HTTPClient}, st, r.Log)
	if err != nil {
		return nil, err
	}
	u, err := cipher.Device().Upload()
	if err != nil {
		return nil, err
	}
	if _, err := p.Keys.Upload(ctx, reg.Device, u.IdentityKey.Bytes(), u.RegistrationID, signedPrekey(u.SignedPreKey), prekeys(u.PreKeys)); err != nil {
		return nil, fmt.Errorf("%s: publish keys: %w", op, err)
	}
	state, _ := st.LoadState()
	sealed, err := r.seal(&secrets{Credentials: creds, Signal: state})
	if err != nil {
		return nil, err
	}
	h := &parley.HostedDevice{Account: account, Device: reg.Device.ID, Kind: kind, Sealed: sealed, CreatedAt: r.Clock.Now()}
	if err := r.Store.PutHosted(ctx, h); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	r.Kick(ctx)
	return h, nil
}

func signedPrekey(k crypto.SignedPreKey) parley.SignedPrekey {
	return parley.SignedPrekey{ID: k.ID, PublicKey: k.PublicKey, Signature: k.Signature}
}

func prekeys(ks []crypto.PreKey) []parley.OneTimePrekey {
	out := make([]parley.OneTimePrekey, len(ks))
	for i, k := range ks {
		out[i] = parley.OneTimePrekey{ID: k.ID, PublicKey: k.PublicKey}
	}
	return out
}
