package crypto

import (
	"context"
	"fmt"

	"go.mau.fi/libsignal/groups"
	"go.mau.fi/libsignal/protocol"
)

// MaxGroupIDSize bounds a group id (bytes).
const MaxGroupIDSize = 255

// MaxDistributionSize bounds an encoded sender key distribution.
const MaxDistributionSize = 1024

// distributionVersion starts an encoded sender key distribution.
const distributionVersion = 1

func checkGroupID(id string) error {
	if id == "" || len(id) > MaxGroupIDSize {
		return fmt.Errorf("%w: group id must be 1 to %d bytes", ErrMalformed, MaxGroupIDSize)
	}
	return nil
}

// GroupKey returns this device's sender key distribution for the group,
// creating the sender key on first use. Send the result to each member
// device inside a 1:1 message (Encrypt); receivers pass it to
// ProcessGroupKey.
//
// Encoding: version (1 byte, 1) | group id length (1 byte) | group id |
// libsignal SenderKeyDistributionMessage.
func (d *Device) GroupKey(ctx context.Context, groupID string) ([]byte, error) {
	return d.groupKey(ctx, "crypto.GroupKey", groupID, false)
}

// RotateGroupKey replaces this device's sender key for the group with a
// new one and returns its distribution. Members that do not receive it
// cannot decrypt anything encrypted afterwards.
func (d *Device) RotateGroupKey(ctx context.Context, groupID string) ([]byte, error) {
	return d.groupKey(ctx, "crypto.RotateGroupKey", groupID, true)
}

func (d *Device) groupKey(ctx context.Context, op, groupID string, rotate bool) ([]byte, error) {
	if err := checkGroupID(groupID); err != nil {
		return nil, newError(op, Address{}, ErrMalformed, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tx := d.s.begin(false)
	defer tx.close()
	name := protocol.NewSenderKeyName(groupID, d.self.signal())
	if rotate {
		tx.senderKeys.del(senderKeyID{Group: groupID, Sender: d.self.String()})
	}
	var skdm []byte
	err := safely(func() error {
		msg, err := groups.NewGroupSessionBuilder(tx, ser).Create(ctx, name)
		if err != nil {
			return err
		}
		skdm = msg.Serialize()
		return nil
	})
	if err != nil {
		return nil, newError(op, Address{}, kindOf(err, ErrMalformed), err)
	}
	tx.commit()
	out := make([]byte, 0, 2+len(groupID)+len(skdm))
	out = append(out, distributionVersion, byte(len(groupID)))
	out = append(out, groupID...)
	return append(out, skdm...), nil
}

func decodeDistribution(b []byte) (string, []byte, error) {
	if len(b) > MaxDistributionSize || len(b) < 2 || b[0] != distributionVersion {
		return "", nil, fmt.Errorf("%w: bad sender key distribution", ErrMalformed)
	}
	n := int(b[1])
	if n == 0 || len(b) < 2+n+2 || b[2+n] != signalVersionByte {
		return "", nil, fmt.Errorf("%w: bad sender key distribution", ErrMalformed)
	}
	return string(b[2 : 2+n]), b[2+n:], nil
}

// ProcessGroupKey stores a sender key distribution from a member device
// and returns the group it is for. It must only be called with a
// distribution that arrived inside a 1:1 message decrypted (Decrypt) from
// that same device: the 1:1 session is what authenticates it.
// Processing the same distribution twice is a no-op.
func (d *Device) ProcessGroupKey(ctx context.Context, from Address, dist []byte) (string, error) {
	const op = "crypto.ProcessGroupKey"
	if err := from.Validate(); err != nil {
		return "", newError(op, from, ErrMalformed, err)
	}
	if from == d.self {
		// Would put a state without the private signing key in front of
		// our own sender key.
		return "", newError(op, from, ErrMalformed, fmt.Errorf("distribution from this device itself"))
	}
	groupID, raw, err := decodeDistribution(dist)
	if err != nil {
		return "", newError(op, from, ErrMalformed, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tx := d.s.begin(false)
	defer tx.close()
	err = safely(func() error {
		msg, err := protocol.NewSenderKeyDistributionMessageFromBytes(raw, ser.SenderKeyDistributionMessage)
		if err != nil {
			return err
		}
		if len(msg.ChainKey()) != 32 {
			return fmt.Errorf("%w: chain key of %d bytes", ErrMalformed, len(msg.ChainKey()))
		}
		name := protocol.NewSenderKeyName(groupID, from.signal())
		rec, err := tx.LoadSenderKey(ctx, name)
		if err != nil {
			return err
		}
		if _, err := rec.GetSenderKeyStateByID(msg.ID()); err == nil {
			// Already known. Adding it again would restart its chain at
			// the distributed iteration and let old messages replay.
			return nil
		}
		return groups.NewGroupSessionBuilder(tx, ser).Process(ctx, name, msg)
	})
	if err != nil {
		return "", newError(op, from, kindOf(err, ErrMalformed), err)
	}
	tx.commit()
	return groupID, nil
}

// GroupEncrypt encrypts plaintext once for every member device that has
// this device's sender key for the group. Call GroupKey first.
func (d *Device) GroupEncrypt(ctx context.Context, groupID string, plaintext []byte) (Ciphertext, error) {
	const op = "crypto.GroupEncrypt"
	if err := checkGroupID(groupID); err != nil {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, err)
	}
	if len(plaintext) > MaxPlaintextSize {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, fmt.Errorf("plaintext over %d bytes", MaxPlaintextSize))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tx := d.s.begin(false)
	defer tx.close()
	if _, ok := tx.senderKeys.get(senderKeyID{Group: groupID, Sender: d.self.String()}); !ok {
		return Ciphertext{}, newError(op, Address{}, ErrNoSenderKey, fmt.Errorf("no own sender key for the group; call GroupKey"))
	}
	var body []byte
	err := safely(func() error {
		name := protocol.NewSenderKeyName(groupID, d.self.signal())
		msg, err := groups.NewGroupCipher(groups.NewGroupSessionBuilder(tx, ser), name, tx).Encrypt(ctx, plaintext)
		if err != nil {
			return err
		}
		body = msg.SignedSerialize()
		return nil
	})
	if err != nil {
		return Ciphertext{}, newError(op, Address{}, kindOf(err, ErrMalformed), err)
	}
	tx.commit()
	return Ciphertext{Type: TypeSenderKey, Body: body}, nil
}

// GroupDecrypt decrypts a group message sent by the member device `from`.
// It fails with ErrNoSenderKey when that device's sender key (or the key
// the message uses) was never distributed to this device, ErrAuthFailed
// when the signature does not verify (tampered, or another sender), and
// ErrDuplicate on replay.
func (d *Device) GroupDecrypt(ctx context.Context, groupID string, from Address, ct Ciphertext) ([]byte, error) {
	const op = "crypto.GroupDecrypt"
	if err := checkGroupID(groupID); err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if err := from.Validate(); err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if err := ct.check(); err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if ct.Type != TypeSenderKey {
		return nil, newError(op, from, ErrMalformed, fmt.Errorf("%s message: use Decrypt", ct.Type))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tx := d.s.begin(false)
	defer tx.close()
	if _, ok := tx.senderKeys.get(senderKeyID{Group: groupID, Sender: from.String()}); !ok || from == d.self {
		return nil, newError(op, from, ErrNoSenderKey, nil)
	}
	var plain []byte
	parsed := false
	err := safely(func() error {
		msg, err := protocol.NewSenderKeyMessageFromBytes(ct.Body, ser.SenderKeyMessage)
		if err != nil {
			return err
		}
		parsed = true
		name := protocol.NewSenderKeyName(groupID, from.signal())
		plain, err = groups.NewGroupCipher(groups.NewGroupSessionBuilder(tx, ser), name, tx).Decrypt(ctx, msg)
		return err
	})
	if err != nil {
		def := ErrAuthFailed
		if !parsed {
			def = ErrMalformed
		}
		return nil, newError(op, from, kindOf(err, def), err)
	}
	tx.commit()
	return plain, nil
}

// ForgetGroupMember drops the sender key of a member device that left or
// was removed, so nothing it sends to the group decrypts any more.
func (d *Device) ForgetGroupMember(ctx context.Context, groupID string, member Address) error {
	if err := checkGroupID(groupID); err != nil {
		return newError("crypto.ForgetGroupMember", member, ErrMalformed, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.s.senderKeys, senderKeyID{Group: groupID, Sender: member.String()})
	return ctx.Err()
}

// ForgetGroup drops every sender key of the group, this device's own
// included (after leaving it).
func (d *Device) ForgetGroup(ctx context.Context, groupID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.s.senderKeys {
		if k.Group == groupID {
			delete(d.s.senderKeys, k)
		}
	}
	return ctx.Err()
}
