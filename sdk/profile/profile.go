package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/parley-chat/parley/sdk"
)

// File names in a profile directory.
const (
	CredentialsFile = "credentials.json"
	ReceivedFile    = "received.log"
	SeenFile        = "seen.log"
)

// Capacities of the journals: enough for any backlog the server keeps
// unacknowledged (512 items per connection) many times over.
const (
	ReceivedCap = 10000
	SeenCap     = 10000
)

// ErrNoCredentials is returned when the profile has no device yet.
var ErrNoCredentials = errors.New("this profile has no device yet: run register or link --new first")

// ErrUnknownMessage is returned by Sender for a message id the profile
// did not receive (or has forgotten).
var ErrUnknownMessage = errors.New("no received message with this id in the profile")

// Profile is an open profile directory. Its methods are safe for
// concurrent use by one process.
type Profile struct {
	dir string

	mu       sync.Mutex
	received *journal
	seen     *journal
}

var _ sdk.SeenStore = (*Profile)(nil)

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
	return &Profile{
		dir:      dir,
		received: newJournal(filepath.Join(dir, ReceivedFile), ReceivedCap),
		seen:     newJournal(filepath.Join(dir, SeenFile), SeenCap),
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

// Close closes the journals.
func (p *Profile) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.received.close(), p.seen.close())
}
