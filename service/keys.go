package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// KeyStore is what the key directory needs from storage.
type KeyStore interface {
	parley.KeyStore
	Devices(ctx context.Context, account string) ([]parley.Device, error)
	parley.RateStore
}

// KeyNotifier tells a device that its pool of one-time prekeys is
// running low, on whichever node holds its connection. Like Notifier it
// is called after the store committed and must not block; delivery is
// best effort, so devices also check GET /v1/keys/count when they
// connect.
//
// DevicesChanged is called after a device published its keys: from then
// on senders must encrypt to it (see Messaging.Send), so the nodes' cached
// device lists of the account are dropped.
type KeyNotifier interface {
	KeysLow(account string, device uint32, remaining int)
	DevicesChanged(account string)
}

type noKeyNotifier struct{}

var _ KeyNotifier = noKeyNotifier{}

func (noKeyNotifier) KeysLow(string, uint32, int) {}
func (noKeyNotifier) DevicesChanged(string)       {}

// Defaults of the key directory.
const (
	DefaultClaimsPerHour = 600
	DefaultLowPrekeys    = 10
	DefaultRotateAfter   = 30 * 24 * time.Hour
)

// Keys is the key directory of end-to-end encryption: devices publish
// their public keys, senders claim one bundle per device of the account
// they write to.
//
// Security review: the server checks the shape of keys but not the
// signatures over signed prekeys (see parley.SignedPrekey); clients
// verify every bundle. Claims are rate-limited per claiming device
// (ClaimsPerHour), because every claim takes a one-time prekey from each
// target device, and a device whose pool is drained still gets bundles
// without one, which weakens forward secrecy of first messages. A device
// never claims its own bundle.
type Keys struct {
	store  KeyStore
	notify KeyNotifier
	clock  parley.Clock
	log    *slog.Logger

	// ClaimsPerHour bounds the claims of one device per hour (a claim
	// may cover every device of an account).
	ClaimsPerHour int
	// LowPrekeys: a claim that leaves a device with fewer one-time
	// prekeys than this calls KeysLow for it.
	LowPrekeys int
	// RotateAfter is the age at which a signed prekey is reported as
	// due for rotation.
	RotateAfter time.Duration
}

// NewKeys returns the key directory service. notify may be nil (no
// KeysLow notifications).
func NewKeys(store KeyStore, notify KeyNotifier, clock parley.Clock, log *slog.Logger) *Keys {
	if notify == nil {
		notify = noKeyNotifier{}
	}
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Keys{store: store, notify: notify, clock: clock, log: log,
		ClaimsPerHour: DefaultClaimsPerHour, LowPrekeys: DefaultLowPrekeys, RotateAfter: DefaultRotateAfter}
}

// KeyCount is what a device learns about its own published keys.
type KeyCount struct {
	OneTimePrekeys  int
	SignedPrekeyAge time.Duration
	Rotate          bool // the signed prekey is older than RotateAfter
}

func (s *Keys) count(st *parley.KeyStatus) *KeyCount {
	age := max(s.clock.Now().Sub(st.SignedPrekeyAt), 0)
	return &KeyCount{OneTimePrekeys: st.OneTimePrekeys, SignedPrekeyAge: age, Rotate: age >= s.RotateAfter}
}

// Upload publishes the calling device's identity key, registration id,
// signed prekey and one-time prekeys. The identity key and registration
// id cannot change (ECONFLICT: a new identity needs a new device); the
// same ones again rotate the signed prekey and add the prekeys.
func (s *Keys) Upload(ctx context.Context, d *parley.Device, identity []byte, registrationID uint32, spk parley.SignedPrekey, prekeys []parley.OneTimePrekey) (*KeyCount, error) {
	const op = "keys.Upload"
	now := s.clock.Now()
	spk.CreatedAt = now
	k := &parley.DeviceKeys{Account: d.Account, Device: d.ID, IdentityKey: identity, RegistrationID: registrationID, SignedPrekey: spk}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if err := parley.ValidatePrekeys(prekeys); err != nil {
		return nil, err
	}
	held, err := s.store.PutKeys(ctx, k, prekeys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s.log.Info("keys uploaded", "account", d.Account, "device", d.ID, "one_time_prekeys", held)
	s.notify.DevicesChanged(d.Account)
	return s.Status(ctx, d)
}

// AddPrekeys adds one-time prekeys to the calling device's pool (ids it
// holds already are ignored) and returns its status. ENOTFOUND before
// Upload; ETOOLARGE when the pool would exceed
// parley.MaxOneTimePrekeys.
func (s *Keys) AddPrekeys(ctx context.Context, d *parley.Device, prekeys []parley.OneTimePrekey) (*KeyCount, error) {
	if len(prekeys) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "no one-time prekeys")
	}
	if err := parley.ValidatePrekeys(prekeys); err != nil {
		return nil, err
	}
	if _, err := s.store.AddPrekeys(ctx, d.Account, d.ID, prekeys); err != nil {
		return nil, fmt.Errorf("keys.AddPrekeys: %w", err)
	}
	return s.Status(ctx, d)
}

// RotateSignedPrekey replaces the calling device's signed prekey and
// returns its status; ENOTFOUND before Upload.
func (s *Keys) RotateSignedPrekey(ctx context.Context, d *parley.Device, spk parley.SignedPrekey) (*KeyCount, error) {
	spk.CreatedAt = s.clock.Now()
	if err := spk.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.RotateSignedPrekey(ctx, d.Account, d.ID, &spk); err != nil {
		return nil, fmt.Errorf("keys.RotateSignedPrekey: %w", err)
	}
	return s.Status(ctx, d)
}

// Status returns how many one-time prekeys the calling device has left
// and whether its signed prekey is due for rotation; ENOTFOUND before
// Upload.
func (s *Keys) Status(ctx context.Context, d *parley.Device) (*KeyCount, error) {
	st, err := s.store.KeyStatus(ctx, d.Account, d.ID)
	if err != nil {
		return nil, err
	}
	return s.count(st), nil
}

// Claim is the result of claiming an account's bundles.
type Claim struct {
	Account string
	Bundles []parley.Bundle // by device id
	Missing []uint32        // active devices that have published no keys
}

// Claim returns a bundle for every active device of account (or only for
// device, when it is not 0), each with one one-time prekey taken from the
// device's pool while any are left. The caller's own device is never
// included. ENOTFOUND when the number has no account or device is not an
// active device of it; ERATELIMIT beyond ClaimsPerHour claims of the
// calling device. Devices left with fewer than LowPrekeys one-time
// prekeys are told through the KeyNotifier.
func (s *Keys) Claim(ctx context.Context, caller *parley.Device, account string, device uint32) (*Claim, error) {
	const op = "keys.Claim"
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	if account == caller.Account && device == caller.ID {
		return nil, parley.Errorf(parley.EINVALID, "a device does not claim its own keys")
	}
	ok, retry, err := s.store.Hit(ctx, "keys:"+caller.Address(), time.Hour, s.ClaimsPerHour, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if !ok {
		return nil, &parley.Error{Code: parley.ERATELIMIT, Message: fmt.Sprintf("too many key claims; try again in %s", retry.Round(time.Second))}
	}
	devs, err := s.store.Devices(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(devs) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "%s has no Parley account", account)
	}
	targets := make([]uint32, 0, len(devs))
	for _, d := range devs {
		if (account == caller.Account && d.ID == caller.ID) || (device != 0 && d.ID != device) {
			continue
		}
		targets = append(targets, d.ID)
	}
	if device != 0 && len(targets) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "%s has no linked device %d", account, device)
	}
	if len(targets) == 0 { // the caller's account has no other device
		return &Claim{Account: account, Bundles: []parley.Bundle{}, Missing: []uint32{}}, nil
	}
	bundles, err := s.store.ClaimBundles(ctx, account, targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	c := &Claim{Account: account, Bundles: bundles, Missing: []uint32{}}
	for _, id := range targets {
		if !slices.ContainsFunc(bundles, func(b parley.Bundle) bool { return b.Device == id }) {
			c.Missing = append(c.Missing, id)
		}
	}
	for _, b := range bundles {
		if b.Remaining < s.LowPrekeys {
			s.notify.KeysLow(b.Account, b.Device, b.Remaining)
		}
	}
	return c, nil
}
