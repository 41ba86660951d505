package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// File names in a profile directory.
const (
	CredentialsFile = "credentials.json"
	ReceivedFile    = "received.log"
	SeenFile        = "seen.log"
	SignalFile      = "signal.json" // the Signal state: private keys and sessions
	SentFile        = "sent.log"    // plaintexts of sent messages, for resends
	LockFile        = "lock"        // held by the process using the profile
	TimersFile      = "timers.log"  // disappearing-message timer per chat
)

// Capacities of the journals: enough for any backlog the server keeps
// unacknowledged (512 items per connection) many times over.
const (
	ReceivedCap = 10000
	SeenCap     = 10000
	SentCap     = 1000
	TimersCap   = 10000
)

// ErrNoCredentials is returned when the profile has no device yet.
var ErrNoCredentials = errors.New("this profile has no device yet: run register or link --new first")

// ErrInUse is returned by Open when another process has the profile open.
var ErrInUse = errors.New("the profile is in use by another process (one process per profile: its keys change with every message)")

// ErrUnknownMessage is returned by Sender for a message id the profile
// did not receive (or has forgotten).
var ErrUnknownMessage = errors.New("no received message with this id in the profile")

// Profile is an open profile directory. Its methods are safe for
// concurrent use by one process.
type Profile struct {
	dir  string
	lock *os.File

	mu       sync.Mutex
	received *journal
	seen     *journal
	sent     *journal
	timers   *journal
}

var (
	_ sdk.SeenStore  = (*Profile)(nil)
	_ sdk.StateStore = (*Profile)(nil)
	_ sdk.SentStore  = (*Profile)(nil)
)

// DefaultDir is the default profile: <user config dir>/parley/default.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "parley", "default"), nil
}

// Open opens the profile in dir, creating it (0700) if needed.
func Open(dir string) (*Profile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		// A directory made by someone else, or by hand: it holds a secret.
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
	}
	lock, err := lockDir(filepath.Join(dir, LockFile))
	if err != nil {
		if errors.Is(err, ErrInUse) {
			return nil, fmt.Errorf("profile %s: %w", dir, err)
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	return &Profile{
		dir:      dir,
		lock:     lock,
		received: newJournal(filepath.Join(dir, ReceivedFile), ReceivedCap),
		seen:     newJournal(filepath.Join(dir, SeenFile), SeenCap),
		sent:     newJournal(filepath.Join(dir, SentFile), SentCap),
		timers:   newJournal(filepath.Join(dir, TimersFile), TimersCap),
	}, nil
}

// Dir returns the profile directory.
func (p *Profile) Dir() string { return p.dir }

// Credentials returns the saved credentials, ErrNoCredentials if none.
func (p *Profile) Credentials() (*sdk.Credentials, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, CredentialsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCredentials
	} else if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	var c sdk.Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("profile: %s is damaged: %w", CredentialsFile, err)
	}
	if c.Server == "" || c.Account == "" || c.Token == "" {
		return nil, fmt.Errorf("profile: %s is incomplete", CredentialsFile)
	}
	return &c, nil
}

// SaveCredentials replaces the saved credentials.
func (p *Profile) SaveCredentials(c *sdk.Credentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(p.dir, CredentialsFile), append(b, '\n')); err != nil {
		return fmt.Errorf("profile: save credentials: %w", err)
	}
	return nil
}

// DeleteCredentials forgets the device (after it was unlinked).
func (p *Profile) DeleteCredentials() error {
	err := os.Remove(filepath.Join(p.dir, CredentialsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}

// RecordMessage remembers that message id came from account from.
func (p *Profile) RecordMessage(id, from string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.received.set(id, from); err != nil {
		return fmt.Errorf("profile: record message: %w", err)
	}
	return nil
}

// Sender returns the account a received message came from.
func (p *Profile) Sender(id string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from, ok, err := p.received.get(id)
	if err != nil {
		return "", fmt.Errorf("profile: %w", err)
	}
	if !ok {
		return "", ErrUnknownMessage
	}
	return from, nil
}

// Seen implements sdk.SeenStore.
func (p *Profile) Seen(key string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok, err := p.seen.get(key)
	return ok, err
}

// MarkSeen implements sdk.SeenStore; the key is on disk when it returns.
func (p *Profile) MarkSeen(key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.set(key, "")
}

// LoadState implements sdk.StateStore: the Signal state, nil before the
// first SaveState.
func (p *Profile) LoadState() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, SignalFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return b, nil
}

// SaveState implements sdk.StateStore: it replaces the Signal state file
// (0600) atomically.
func (p *Profile) SaveState(state []byte) error {
	if err := writeFile(filepath.Join(p.dir, SignalFile), state); err != nil {
		return fmt.Errorf("profile: save signal state: %w", err)
	}
	return nil
}

// PutSent implements sdk.SentStore.
func (p *Profile) PutSent(r *sdk.SentRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sent.set(r.ClientID, string(b)); err != nil {
		return fmt.Errorf("profile: record sent message: %w", err)
	}
	return nil
}

// Sent implements sdk.SentStore.
func (p *Profile) Sent(clientID string) (*sdk.SentRecord, error) {
	p.mu.Lock()
	v, ok, err := p.sent.get(clientID)
	p.mu.Unlock()
	if err != nil || !ok {
		return nil, err
	}
	var r sdk.SentRecord
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("profile: %s is damaged: %w", SentFile, err)
	}
	return &r, nil
}

// SetTimer records the disappearing-message timer of a chat (an account
// or a group id); 0 turns it off.
func (p *Profile) SetTimer(chat string, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.timers.set(chat, strconv.FormatInt(int64(d/time.Second), 10)); err != nil {
		return fmt.Errorf("profile: record timer: %w", err)
	}
	return nil
}

// Timer returns the disappearing-message timer of a chat (0: off).
func (p *Profile) Timer(chat string) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok, err := p.timers.get(chat)
	if err != nil || !ok {
		return 0, err
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("profile: %s is damaged", TimersFile)
	}
	return time.Duration(s) * time.Second, nil
}

// Close closes the journals.
func (p *Profile) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := errors.Join(p.received.close(), p.seen.close(), p.sent.close(), p.timers.close())
	if p.lock != nil {
		err = errors.Join(err, p.lock.Close())
		p.lock = nil
	}
	return err
}

// ForgetDevice deletes the Signal state and the sent messages: the
// profile becomes another device (registered or linked again), which has
// new keys. Credentials are replaced separately.
func (p *Profile) ForgetDevice() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent.close()
	p.sent = newJournal(filepath.Join(p.dir, SentFile), SentCap)
	for _, name := range []string{SignalFile, SentFile} {
		if err := os.Remove(filepath.Join(p.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("profile: %w", err)
		}
	}
	return nil
}
