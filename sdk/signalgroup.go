package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/parley-chat/parley/crypto"
)

// Group messages with Sender Keys (docs/protocol.md, "Groups"; package
// crypto, "Groups"). Each device has one sender key per group. A group
// message is encrypted once with it (the shared body of the send); a
// member device that does not have the key yet gets, instead of the
// shared body, a 1:1 message carrying the key and the group message:
//
//	{"type":"sender_key","group":"g…","key":"<distribution, base64>","message":"<group ciphertext, base64>"}
//
// The cipher remembers which devices have its current key. When a device
// it gave the key to is no longer in the group's device lists (a member
// left or was removed, or unlinked a device), it makes a new key before
// the next message, and every remaining device gets that one.

// senderKeyPayload is the 1:1 plaintext that hands a sender key over.
type senderKeyPayload struct {
	Type    string `json:"type"` // "sender_key"
	Group   string `json:"group"`
	Key     []byte `json:"key"`
	Message []byte `json:"message"`
}

// SealGroup encrypts plaintext for a group whose member devices (other
// than this one) are devices. It returns the shared body, one copy per
// device (with a Body of its own for devices that get the sender key
// now; devices without published keys are left out) and commit, to call
// once the server accepted the send: only then do those devices count as
// having the key.
func (c *SignalCipher) SealGroup(ctx context.Context, group string, devices map[string][]uint32, plaintext []byte) (body []byte, copies []Copy, commit func(), err error) {
	current := map[string]bool{}
	for acct, ids := range devices {
		for _, id := range ids {
			current[crypto.Address{Account: acct, Device: id}.String()] = true
		}
	}
	c.groupMu.Lock()
	had := slices.Clone(c.groups[group])
	c.groupMu.Unlock()
	rotate := false
	for _, a := range had {
		if !current[a] {
			rotate = true
			break
		}
	}
	var dist []byte
	if rotate {
		dist, err = c.dev.RotateGroupKey(ctx, group)
		c.groupMu.Lock()
		delete(c.groups, group)
		c.groupMu.Unlock()
		had = nil
		c.log.Info("parley rotated a group sender key: a member or device left", "group", group)
	} else {
		dist, err = c.dev.GroupKey(ctx, group)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	c.dirty.Store(true)
	ct, err := c.dev.GroupEncrypt(ctx, group, plaintext)
	if err != nil {
		return nil, nil, nil, err
	}
	body = ct.Encode()
	var inner []byte // the 1:1 plaintext for devices without the key; made once
	accts := make([]string, 0, len(devices))
	for acct := range devices {
		accts = append(accts, acct)
	}
	sort.Strings(accts)
	gave := slices.Clone(had)
	for _, acct := range accts {
		for _, id := range devices[acct] {
			addr := crypto.Address{Account: acct, Device: id}.String()
			if slices.Contains(had, addr) {
				copies = append(copies, Copy{Account: acct, Device: id})
				continue
			}
			if inner == nil {
				inner, _ = json.Marshal(senderKeyPayload{Type: "sender_key", Group: group, Key: dist, Message: body})
			}
			b, err := c.Seal(ctx, acct, id, inner)
			if errors.Is(err, ErrNoKeys) {
				continue
			}
			if err != nil {
				return nil, nil, nil, fmt.Errorf("seal the sender key for %s: %w", addr, err)
			}
			copies = append(copies, Copy{Account: acct, Device: id, Body: b})
			gave = append(gave, addr)
		}
	}
	commit = func() {
		c.groupMu.Lock()
		c.groups[group] = gave
		c.groupMu.Unlock()
		c.dirty.Store(true)
	}
	return body, copies, commit, nil
}

// sealGroupResend encrypts plaintext again for one member device that
// could not decrypt it: a 1:1 message with the current sender key and a
// new group ciphertext of the plaintext.
func (c *SignalCipher) sealGroupResend(ctx context.Context, group, account string, device uint32, plaintext []byte) ([]byte, func(), error) {
	dist, err := c.dev.GroupKey(ctx, group)
	if err != nil {
		return nil, nil, err
	}
	ct, err := c.dev.GroupEncrypt(ctx, group, plaintext)
	if err != nil {
		return nil, nil, err
	}
	c.dirty.Store(true)
	inner, _ := json.Marshal(senderKeyPayload{Type: "sender_key", Group: group, Key: dist, Message: ct.Encode()})
	b, err := c.Seal(ctx, account, device, inner)
	if err != nil {
		return nil, nil, err
	}
	addr := crypto.Address{Account: account, Device: device}.String()
	return b, func() {
		c.groupMu.Lock()
		if !slices.Contains(c.groups[group], addr) {
			c.groups[group] = append(c.groups[group], addr)
		}
		c.groupMu.Unlock()
		c.dirty.Store(true)
	}, nil
}

// OpenGroup decrypts a message of group sent by a member device: a
// Sender Key message, or a 1:1 message handing over the sender's key with
// the group message. Like Open, it keeps the plaintext until Handled.
func (c *SignalCipher) OpenGroup(ctx context.Context, messageID, group, fromAccount string, fromDevice uint32, body []byte) ([]byte, error) {
	peer := crypto.Address{Account: fromAccount, Device: fromDevice}
	if plain, ok := c.reopen(messageID, peer); ok {
		return plain, nil
	}
	ct, err := crypto.DecodeCiphertext(body)
	if err != nil {
		return nil, err
	}
	var plain []byte
	if ct.Type == crypto.TypeSenderKey {
		plain, err = c.dev.GroupDecrypt(ctx, group, peer, ct)
	} else {
		plain, err = c.openGroupKey(ctx, group, peer, ct)
	}
	if err != nil {
		return nil, err
	}
	c.keep(messageID, peer, plain)
	return plain, nil
}

// openGroupKey opens a 1:1 message carrying a sender key and a group
// message, stores the key and decrypts the group message.
func (c *SignalCipher) openGroupKey(ctx context.Context, group string, peer crypto.Address, ct crypto.Ciphertext) ([]byte, error) {
	inner, err := c.decrypt1to1(ctx, peer, ct)
	if err != nil {
		return nil, err
	}
	var p senderKeyPayload
	if err := json.Unmarshal(inner, &p); err != nil || p.Type != "sender_key" || p.Group != group {
		return nil, fmt.Errorf("%w: a 1:1 message in group %s that does not carry its sender key", crypto.ErrMalformed, group)
	}
	got, err := c.dev.ProcessGroupKey(ctx, peer, p.Key)
	if err != nil {
		return nil, err
	}
	if got != group {
		return nil, fmt.Errorf("%w: the sender key is for another group", crypto.ErrMalformed)
	}
	gct, err := crypto.DecodeCiphertext(p.Message)
	if err != nil {
		return nil, err
	}
	return c.dev.GroupDecrypt(ctx, group, peer, gct)
}

// LeftGroup forgets sender keys after a membership change: the group's
// keys altogether when this account left or was removed, else the keys
// of the devices of the accounts that left (the own key is replaced
// before the next message, see SealGroup).
func (c *SignalCipher) LeftGroup(ctx context.Context, group string, accounts []string) error {
	self := c.dev.Address().Account
	if slices.Contains(accounts, self) {
		c.groupMu.Lock()
		delete(c.groups, group)
		c.groupMu.Unlock()
		c.dirty.Store(true)
		return c.dev.ForgetGroup(ctx, group)
	}
	for _, acct := range accounts {
		for _, a := range c.dev.PeerDevices(acct) {
			if err := c.dev.ForgetGroupMember(ctx, group, a); err != nil {
				return err
			}
		}
	}
	c.dirty.Store(true)
	return nil
}
