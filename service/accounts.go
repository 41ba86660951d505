package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/parley-chat/parley"
)

// AccountStore is what the accounts service needs from storage.
type AccountStore interface {
	parley.AccountStore
	parley.CodeStore
	parley.RateStore
}

// Limits bound registration. Zero fields take the defaults in
// DefaultLimits.
type Limits struct {
	CodeTTL        time.Duration // how long a code is valid
	MaxAttempts    int           // wrong codes before lock-out
	LockFor        time.Duration // lock-out after MaxAttempts
	CodesPerNumber int           // codes sent per number per hour
	CodeInterval   time.Duration // minimum time between two codes to one number
	RequestsPerIP  int           // code requests and verifications per IP per hour
	TokenTTL       time.Duration // device credential lifetime, renewed on use
	MaxDevices     int           // active devices per account
	LinkWait       time.Duration // how long a new device waits to be linked
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	CodeTTL:        10 * time.Minute,
	MaxAttempts:    5,
	LockFor:        15 * time.Minute,
	CodesPerNumber: 5,
	CodeInterval:   30 * time.Second,
	RequestsPerIP:  60,
	TokenTTL:       90 * 24 * time.Hour,
	MaxDevices:     8,
	LinkWait:       2 * time.Minute,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	or(&d.CodeTTL, l.CodeTTL)
	or(&d.MaxAttempts, l.MaxAttempts)
	or(&d.LockFor, l.LockFor)
	or(&d.CodesPerNumber, l.CodesPerNumber)
	or(&d.CodeInterval, l.CodeInterval)
	or(&d.RequestsPerIP, l.RequestsPerIP)
	or(&d.TokenTTL, l.TokenTTL)
	or(&d.MaxDevices, l.MaxDevices)
	or(&d.LinkWait, l.LinkWait)
	return d
}

// or sets *dst to v when v is positive.
func or[T int | time.Duration](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

// Accounts registers accounts by phone number, issues and checks device
// credentials, and manages linked devices.
type Accounts struct {
	store  AccountStore
	sms    parley.SMSProvider
	clock  parley.Clock
	notify Notifier
	limits Limits
	log    *slog.Logger
}

// NewAccounts returns the accounts service.
func NewAccounts(store AccountStore, sms parley.SMSProvider, notify Notifier, clock parley.Clock, limits Limits, log *slog.Logger) *Accounts {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Accounts{store: store, sms: sms, clock: clock, notify: notify, limits: limits.withDefaults(), log: log}
}

// Limits returns the limits in force.
func (s *Accounts) Limits() Limits { return s.limits }

func (s *Accounts) hit(ctx context.Context, key string, window time.Duration, limit int) error {
	ok, retry, err := s.store.Hit(ctx, key, window, limit, s.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return &parley.Error{Code: parley.ERATELIMIT, Message: fmt.Sprintf("too many requests; try again in %s", retry.Round(time.Second))}
	}
	return nil
}

func codeHash(phone, code string) []byte {
	h := sha256.Sum256([]byte(phone + ":" + code))
	return h[:]
}

// RequestCode sends a one-time code to phone (E.164 with +). It returns
// how long the code is valid.
func (s *Accounts) RequestCode(ctx context.Context, phone, ip string) (time.Duration, error) {
	const op = "accounts.RequestCode"
	id, err := parley.ParsePhone(phone)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	if err := s.hit(ctx, "ip:"+ip, time.Hour, s.limits.RequestsPerIP); err != nil {
		return 0, err
	}
	if c, err := s.store.Code(ctx, id); err == nil {
		if now.Before(c.LockedUntil) {
			return 0, parley.Errorf(parley.ELOCKED, "too many wrong codes; try again in %s", c.LockedUntil.Sub(now).Round(time.Second))
		}
		if now.Sub(c.CreatedAt) < s.limits.CodeInterval {
			return 0, parley.Errorf(parley.ERATELIMIT, "a code was just sent; try again in %s", (s.limits.CodeInterval - now.Sub(c.CreatedAt)).Round(time.Second))
		}
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.hit(ctx, "phone:"+id, time.Hour, s.limits.CodesPerNumber); err != nil {
		return 0, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	c := &parley.Code{Phone: id, Hash: codeHash(id, code), CreatedAt: now, ExpiresAt: now.Add(s.limits.CodeTTL)}
	if err := s.store.PutCode(ctx, c); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.sms.Send(ctx, id, "Your Parley code: "+code); err != nil {
		return 0, &parley.Error{Code: parley.EUNAVAILABLE, Message: "could not send the code; try again later", Op: op, Err: err}
	}
	return s.limits.CodeTTL, nil
}

// Registration is the result of a successful verification or link.
type Registration struct {
	Device  *parley.Device
	Token   string
	Created bool // a new account was created
}

// Verify checks a one-time code and, on success, creates the account if
// needed and a new device with fresh credentials. Verifying a number that
// already has an account adds a device to it (possession of the number is
// the proof, as on WhatsApp).
func (s *Accounts) Verify(ctx context.Context, phone, code, deviceName, platform, ip string) (*Registration, error) {
	const op = "accounts.Verify"
	id, err := parley.ParsePhone(phone)
	if err != nil {
		return nil, err
	}
	if err := s.hit(ctx, "ip:"+ip, time.Hour, s.limits.RequestsPerIP); err != nil {
		return nil, err
	}
	d := &parley.Device{Account: id, Name: deviceName, Platform: platform}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	c, err := s.store.Code(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.EINVALID, "no code was requested for this number, or it was already used")
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if now.Before(c.LockedUntil) {
		return nil, parley.Errorf(parley.ELOCKED, "too many wrong codes; try again in %s", c.LockedUntil.Sub(now).Round(time.Second))
	}
	if !now.Before(c.ExpiresAt) {
		return nil, parley.Errorf(parley.EEXPIRED, "the code has expired; request a new one")
	}
	if subtle.ConstantTimeCompare(c.Hash, codeHash(id, code)) != 1 {
		var lock time.Time
		if c.Attempts+1 >= s.limits.MaxAttempts {
			lock = now.Add(s.limits.LockFor)
		}
		if _, err := s.store.RecordAttempt(ctx, id, lock); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if !lock.IsZero() {
			return nil, parley.Errorf(parley.ELOCKED, "too many wrong codes; try again in %s", s.limits.LockFor)
		}
		return nil, parley.Errorf(parley.EINVALID, "wrong code")
	}
	if err := s.store.DeleteCode(ctx, id); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	_, created, err := s.store.EnsureAccount(ctx, id, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	reg, err := s.addDevice(ctx, d)
	if err != nil {
		return nil, err
	}
	reg.Created = created
	s.log.Info("device registered", "account", id, "device", reg.Device.ID, "new_account", created)
	return reg, nil
}

// AddHostedDevice creates, without a code, a device of account (creating
// the account if needed) whose credentials the server keeps for someone:
// a business number's hosted device, a sandbox customer. Only the operator
// and the platform's own services call it.
func (s *Accounts) AddHostedDevice(ctx context.Context, account, name, platform string) (*Registration, error) {
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "not a phone number in digits")
	}
	d := &parley.Device{Account: account, Name: name, Platform: platform}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if _, _, err := s.store.EnsureAccount(ctx, account, s.clock.Now()); err != nil {
		return nil, fmt.Errorf("accounts.AddHostedDevice: %w", err)
	}
	reg, err := s.addDevice(ctx, d)
	if err != nil {
		return nil, err
	}
	s.log.Info("hosted device created", "account", account, "device", reg.Device.ID, "platform", platform)
	return reg, nil
}

func (s *Accounts) addDevice(ctx context.Context, d *parley.Device) (*Registration, error) {
	devs, err := s.store.Devices(ctx, d.Account)
	if err != nil {
		return nil, fmt.Errorf("accounts.addDevice: %w", err)
	}
	if len(devs) >= s.limits.MaxDevices {
		return nil, parley.Errorf(parley.ECONFLICT, "this account already has %d devices; unlink one first", len(devs))
	}
	now := s.clock.Now()
	secret := newSecret()
	d.TokenHash = hashSecret(secret)
	d.CreatedAt = now
	d.LastSeenAt = now
	d.ExpiresAt = now.Add(s.limits.TokenTTL)
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, fmt.Errorf("accounts.addDevice: %w", err)
	}
	s.notify.DevicesChanged(d.Account)
	return &Registration{Device: d, Token: formatToken(d.Account, d.ID, secret)}, nil
}

// Authenticate returns the active device a token belongs to. Unknown,
// revoked and expired credentials all fail with EUNAUTHORIZED (expired
// ones with the message saying so).
func (s *Accounts) Authenticate(ctx context.Context, token string) (*parley.Device, error) {
	account, id, secret, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	d, err := s.store.Device(ctx, account, id)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "unknown credentials")
	} else if err != nil {
		return nil, fmt.Errorf("accounts.Authenticate: %w", err)
	}
	if !tokenMatches(d, secret) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "unknown credentials")
	}
	if !d.RevokedAt.IsZero() {
		return nil, &parley.Error{Code: parley.EUNAUTHORIZED, Message: "this device was unlinked", Op: "revoked"}
	}
	if !d.Active(s.clock.Now()) {
		return nil, &parley.Error{Code: parley.EUNAUTHORIZED, Message: "credentials expired; register again", Op: "expired"}
	}
	return d, nil
}

// Touch records that a device is in use and extends its credential.
func (s *Accounts) Touch(ctx context.Context, d *parley.Device) error {
	now := s.clock.Now()
	return s.store.TouchDevice(ctx, d.Account, d.ID, now, now.Add(s.limits.TokenTTL))
}

// Account returns an account.
func (s *Accounts) Account(ctx context.Context, id string) (*parley.Account, error) {
	return s.store.Account(ctx, id)
}

// UpdateProfile changes the caller's display name and presence setting.
func (s *Accounts) UpdateProfile(ctx context.Context, d *parley.Device, name *string, presence *string) (*parley.Account, error) {
	a, err := s.store.Account(ctx, d.Account)
	if err != nil {
		return nil, err
	}
	if name != nil {
		a.Name = *name
	}
	if presence != nil {
		a.Presence = *presence
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpdateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("accounts.UpdateProfile: %w", err)
	}
	return a, nil
}

// Devices lists an account's active devices.
func (s *Accounts) Devices(ctx context.Context, account string) ([]parley.Device, error) {
	return s.store.Devices(ctx, account)
}

// RecipientDevices returns the active device ids of an account, which a
// sender encrypts to. ENOTFOUND when the number has no account.
func (s *Accounts) RecipientDevices(ctx context.Context, account string) ([]uint32, error) {
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	devs, err := s.store.Devices(ctx, account)
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "%s has no Parley account", account)
	}
	ids := make([]uint32, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	return ids, nil
}

// Revoke unlinks one of the caller's devices (or the caller itself). Its
// credentials stop working at once, its connection is closed on whichever
// node holds it, and its undelivered mailbox is deleted.
func (s *Accounts) Revoke(ctx context.Context, caller *parley.Device, id uint32) error {
	d, err := s.store.Device(ctx, caller.Account, id)
	if err != nil {
		return err
	}
	if !d.RevokedAt.IsZero() {
		return parley.Errorf(parley.ENOTFOUND, "device %d is not linked", id)
	}
	if err := s.store.RevokeDevice(ctx, caller.Account, id, s.clock.Now()); err != nil {
		return fmt.Errorf("accounts.Revoke: %w", err)
	}
	s.notify.Revoked(caller.Account, id)
	s.notify.DevicesChanged(caller.Account)
	s.log.Info("device unlinked", "account", caller.Account, "device", id, "by", caller.ID)
	return nil
}

// Link is the waiting side of linking a new device by code: the new
// device shows code (for example as a QR code) and waits; an existing
// device of the account approves with Approve.
type Link interface {
	// Wait blocks until an approval for code arrives or ctx ends, and
	// answers the approver through reply.
	Wait(ctx context.Context, code string) (data []byte, reply func([]byte) error, err error)
	// Offer hands data to whoever waits for code; ENOTFOUND if nobody does.
	Offer(ctx context.Context, code string, data []byte) ([]byte, error)
}

var errLinkCode = parley.Errorf(parley.EINVALID, "link code must have 16 to 128 characters")

// LinkCodeSubject is the bus subject for a link code. It is a hash so
// that codes never appear in NATS monitoring.
func LinkCodeSubject(code string) string {
	h := sha256.Sum256([]byte(code))
	return fmt.Sprintf("parley.link.%x", h[:16])
}

// ApproveLink creates a new device on the caller's account and hands its
// credentials to the device waiting with code. If nobody is waiting the
// new device is revoked again and ENOTFOUND returned.
func (s *Accounts) ApproveLink(ctx context.Context, link Link, caller *parley.Device, code, name, platform string) (*parley.Device, error) {
	if len(code) < 16 || len(code) > 128 {
		return nil, errLinkCode
	}
	d := &parley.Device{Account: caller.Account, Name: name, Platform: platform}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	reg, err := s.addDevice(ctx, d)
	if err != nil {
		return nil, err
	}
	payload := []byte(fmt.Sprintf("%s\n%d\n%s", reg.Device.Account, reg.Device.ID, reg.Token))
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := link.Offer(octx, LinkCodeSubject(code), payload); err != nil {
		if rerr := s.store.RevokeDevice(context.WithoutCancel(ctx), d.Account, d.ID, s.clock.Now()); rerr != nil {
			s.log.Error("revoking unclaimed linked device", "account", d.Account, "device", d.ID, "err", rerr)
		}
		s.notify.DevicesChanged(d.Account)
		if parley.Match(err, parley.ENOTFOUND) {
			return nil, parley.Errorf(parley.ENOTFOUND, "no device is waiting with this link code")
		}
		return nil, fmt.Errorf("accounts.ApproveLink: %w", err)
	}
	s.log.Info("device linked", "account", d.Account, "device", d.ID, "by", caller.ID)
	return reg.Device, nil
}

// WaitLink waits (up to LinkWait) for an existing device to approve code
// and returns the new device's credentials.
func (s *Accounts) WaitLink(ctx context.Context, link Link, code string) (*Registration, error) {
	if len(code) < 16 || len(code) > 128 {
		return nil, errLinkCode
	}
	ctx, cancel := context.WithTimeout(ctx, s.limits.LinkWait)
	defer cancel()
	data, reply, err := link.Wait(ctx, LinkCodeSubject(code))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, parley.Errorf(parley.EEXPIRED, "no device approved the link in time; show a new code")
		}
		return nil, fmt.Errorf("accounts.WaitLink: %w", err)
	}
	var account, token string
	var id uint32
	if _, err := fmt.Sscanf(string(data), "%s\n%d\n%s", &account, &id, &token); err != nil {
		return nil, fmt.Errorf("accounts.WaitLink: bad payload: %w", err)
	}
	if err := reply([]byte("ok")); err != nil {
		return nil, fmt.Errorf("accounts.WaitLink: reply: %w", err)
	}
	d, err := s.store.Device(ctx, account, id)
	if err != nil {
		return nil, fmt.Errorf("accounts.WaitLink: %w", err)
	}
	return &Registration{Device: d, Token: token}, nil
}
