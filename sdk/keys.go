package sdk

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley/crypto"
)

// The key directory endpoints (docs/protocol.md, "Key directory"). The
// server names one-time prekeys "one_time_prekey(s)"; the crypto package
// calls them PreKey, so these methods translate.

// keysJSON is the body of PUT /v1/keys.
type keysJSON struct {
	IdentityKey    crypto.IdentityKey  `json:"identity_key"`
	RegistrationID uint32              `json:"registration_id"`
	SignedPreKey   crypto.SignedPreKey `json:"signed_prekey"`
	PreKeys        []crypto.PreKey     `json:"one_time_prekeys"`
}

// KeyCount is the server's view of this device's published keys.
type KeyCount struct {
	OneTimePreKeys  int           // unclaimed one-time prekeys on the server
	SignedPreKeyAge time.Duration // age of the current signed prekey
	Rotate          bool          // the signed prekey is due for rotation
}

type keyCountJSON struct {
	OneTimePreKeys  int   `json:"one_time_prekeys"`
	SignedPreKeyAge int64 `json:"signed_prekey_age"`
	Rotate          bool  `json:"rotate"`
}

func (k keyCountJSON) count() *KeyCount {
	return &KeyCount{OneTimePreKeys: k.OneTimePreKeys, SignedPreKeyAge: time.Duration(k.SignedPreKeyAge) * time.Second, Rotate: k.Rotate}
}

// PublishKeys publishes the device's identity key, signed prekey and a
// first batch of one-time prekeys (PUT /v1/keys).
func (c *Client) PublishKeys(ctx context.Context, u crypto.Upload) (*KeyCount, error) {
	var out keyCountJSON
	in := keysJSON{IdentityKey: u.IdentityKey, RegistrationID: u.RegistrationID, SignedPreKey: u.SignedPreKey, PreKeys: u.PreKeys}
	if err := c.do(ctx, "PUT", "/v1/keys", in, &out); err != nil {
		return nil, err
	}
	return out.count(), nil
}

// AddPreKeys uploads more one-time prekeys (POST /v1/keys/prekeys).
func (c *Client) AddPreKeys(ctx context.Context, keys []crypto.PreKey) (*KeyCount, error) {
	var out keyCountJSON
	in := struct {
		PreKeys []crypto.PreKey `json:"one_time_prekeys"`
	}{keys}
	if err := c.do(ctx, "POST", "/v1/keys/prekeys", in, &out); err != nil {
		return nil, err
	}
	return out.count(), nil
}

// PutSignedPreKey publishes a new signed prekey (PUT /v1/keys/signed_prekey).
func (c *Client) PutSignedPreKey(ctx context.Context, k crypto.SignedPreKey) (*KeyCount, error) {
	var out keyCountJSON
	if err := c.do(ctx, "PUT", "/v1/keys/signed_prekey", k, &out); err != nil {
		return nil, err
	}
	return out.count(), nil
}

// KeyCount returns the server's view of this device's keys; not_found
// before PublishKeys.
func (c *Client) KeyCount(ctx context.Context) (*KeyCount, error) {
	var out keyCountJSON
	if err := c.do(ctx, "GET", "/v1/keys/count", nil, &out); err != nil {
		return nil, err
	}
	return out.count(), nil
}

// Claimed is the answer of a bundle claim: one validated bundle per device
// that has published keys, and the devices that have not.
type Claimed struct {
	Account string
	Bundles map[uint32]*crypto.Bundle
	Missing []uint32
}

type bundleJSON struct {
	Device         uint32              `json:"device"`
	IdentityKey    crypto.IdentityKey  `json:"identity_key"`
	RegistrationID uint32              `json:"registration_id"`
	SignedPreKey   crypto.SignedPreKey `json:"signed_prekey"`
	PreKey         *crypto.PreKey      `json:"one_time_prekey"`
}

// ClaimBundle claims the bundle of one device of account (GET
// /v1/keys/{account}/{device}); device 0 claims every device's (of the
// own account: every other device's). Each claim uses up a one-time
// prekey of every device claimed: claim only to start a session. Bundles
// whose signature does not verify are an error (crypto.ErrBadSignature),
// never returned.
func (c *Client) ClaimBundle(ctx context.Context, account string, device uint32) (*Claimed, error) {
	path := "/v1/keys/" + digits(account)
	if device != 0 {
		path += "/" + strconv.FormatUint(uint64(device), 10)
	}
	var out struct {
		Account string       `json:"account"`
		Bundles []bundleJSON `json:"bundles"`
		Missing []uint32     `json:"missing"`
	}
	if err := c.do(ctx, "GET", path, nil, &out); err != nil {
		return nil, err
	}
	cl := &Claimed{Account: out.Account, Bundles: map[uint32]*crypto.Bundle{}, Missing: out.Missing}
	for _, b := range out.Bundles {
		bundle := &crypto.Bundle{RegistrationID: b.RegistrationID, IdentityKey: b.IdentityKey, SignedPreKey: b.SignedPreKey, PreKey: b.PreKey}
		if err := bundle.Validate(); err != nil {
			return nil, err
		}
		cl.Bundles[b.Device] = bundle
	}
	return cl, nil
}
