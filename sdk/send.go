package sdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SendResult is the server's acceptance of a message.
type SendResult struct {
	MessageID string
	ClientID  string
	Timestamp time.Time
	Duplicate bool // the server had accepted this client id before
}

// Outgoing is a message to send.
type Outgoing struct {
	To        string // account (digits, or E.164 with +)
	Plaintext []byte // the payload, e.g. TextPayload("hi")
	// ClientID makes the send idempotent; empty: a new random id. Pass the
	// id of an earlier send to retry it: the server answers with the
	// message id of the first.
	ClientID string
	// Media are the ids of blobs uploaded by this account (UploadMedia)
	// that the message refers to, at most 10; the server keeps them until
	// every device has the message. Their keys and digests belong in
	// Plaintext.
	Media []string
	// ExpiresIn makes the message disappear: the server deletes
	// undelivered copies that old, and recipients delete theirs that long
	// after reading. Whole seconds from one minute to 90 days; 0: never.
	ExpiresIn time.Duration
}

// maxStaleRetries bounds re-encryptions after stale_devices answers.
const maxStaleRetries = 5

// Send sends a message and returns once the server has committed it. It
// builds one copy per device of the recipient and per other device of
// the own account, re-encrypting with the server's lists after a
// stale_devices answer, and retries on the next connection after a lost
// one, always with the same client id.
func (m *Messenger) Send(ctx context.Context, out Outgoing) (*SendResult, error) {
	to, err := AccountID(out.To)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	stopped, stopErr := m.stopped, m.stopErr
	m.mu.Unlock()
	if stopped {
		return nil, stopErr
	}
	id := out.ClientID
	if id == "" {
		id = NewClientID()
	}
	// Kept before the send leaves, so that a retry from a recipient
	// device that could not decrypt it finds it.
	if err := m.opt.Sent.PutSent(&SentRecord{ClientID: id, To: to, Plaintext: out.Plaintext, At: time.Now()}); err != nil {
		return nil, fmt.Errorf("sent store: %w", err)
	}
	for attempt := 0; ; attempt++ {
		copies, err := m.copies(ctx, to, out.Plaintext)
		if errors.Is(err, errStaleList) && attempt < maxStaleRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		// The ratchet steps of these ciphertexts are saved before they
		// leave: sending one and losing its step would reuse message keys.
		if err := m.saveCipher(); err != nil {
			return nil, err
		}
		res, r, err := m.sendFrame(ctx, &Frame{Type: "send", ID: id, To: to, Copies: copies, Media: out.Media,
			ExpiresIn: int64(out.ExpiresIn / time.Second)}, attempt >= maxStaleRetries)
		if r == nil {
			return res, err
		}
		m.mu.Lock()
		for acct, ids := range r.Devices {
			if acct == m.creds.Account {
				ids = slices.DeleteFunc(slices.Clone(ids), func(d uint32) bool { return d == m.creds.Device })
			}
			m.devices[acct] = ids
		}
		if _, ok := r.Devices[to]; !ok && to != m.creds.Account {
			delete(m.devices, to) // the answer had no list for to: ask again
		}
		m.mu.Unlock()
	}
}

// sendFrame sends a send frame and returns the server's acceptance, or
// the stale_devices answer when the copies must be built again for the
// lists it carries (never on the last attempt: then it is the error).
func (m *Messenger) sendFrame(ctx context.Context, f *Frame, last bool) (res *SendResult, stale *Frame, err error) {
	r, err := m.request(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if r.Type == "sent" {
		return &SendResult{MessageID: r.MessageID, ClientID: f.ID, Timestamp: time.UnixMilli(r.Timestamp),
			Duplicate: r.Duplicate}, nil, nil
	}
	if err := r.Err(); err == nil {
		return nil, nil, fmt.Errorf("send: unexpected answer %q", r.Type)
	} else if r.Code != CodeStaleDevices || last {
		return nil, nil, err
	}
	return nil, r, nil
}

// SendText sends a text message and returns its message id.
func (m *Messenger) SendText(ctx context.Context, to, text string) (string, error) {
	r, err := m.Send(ctx, Outgoing{To: to, Plaintext: TextPayload(text)})
	if err != nil {
		return "", err
	}
	return r.MessageID, nil
}

// errStaleList: a device in the cached lists is gone; they were dropped.
var errStaleList = errors.New("sdk: device list changed")

// copies seals plaintext for every device of to and the own other
// devices, leaving out devices without keys (ErrNoKeys).
func (m *Messenger) copies(ctx context.Context, to string, plaintext []byte) ([]Copy, error) {
	self := m.creds.Account
	var copies []Copy
	accounts := []string{to}
	if to != self {
		accounts = append(accounts, self)
	}
	for _, acct := range accounts {
		ids, err := m.deviceList(ctx, acct)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, d := range ids {
			body, err := m.opt.Cipher.Seal(ctx, acct, d, plaintext)
			if errors.Is(err, ErrNoKeys) {
				continue
			}
			if ErrorCode(err) == CodeNotFound {
				m.mu.Lock()
				delete(m.devices, acct)
				m.mu.Unlock()
				return nil, errStaleList
			}
			if err != nil {
				return nil, fmt.Errorf("seal for %s.%d: %w", acct, d, err)
			}
			copies = append(copies, Copy{Account: acct, Device: d, Body: body})
			n++
		}
		if acct == to && to != self && n == 0 {
			return nil, fmt.Errorf("sdk: %s: %w (on any of its devices yet)", to, ErrNoKeys)
		}
	}
	return copies, nil
}

// deviceList returns the cached device ids of acct, fetching them when
// unknown; the own list excludes this device.
func (m *Messenger) deviceList(ctx context.Context, acct string) ([]uint32, error) {
	m.mu.Lock()
	ids, ok := m.devices[acct]
	m.mu.Unlock()
	if ok {
		return ids, nil
	}
	ids, err := m.client.RecipientDevices(ctx, acct)
	if err != nil {
		return nil, err
	}
	if acct == m.creds.Account {
		ids = slices.DeleteFunc(ids, func(d uint32) bool { return d == m.creds.Device })
	}
	m.mu.Lock()
	m.devices[acct] = ids
	m.mu.Unlock()
	return ids, nil
}
