package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/store/postgres"
	"github.com/parley-chat/parley/store/sqlite"
)

// Cred is one device's credentials.
type Cred struct {
	Account string
	Device  uint32
	Token   string
}

// codeBox is an SMS provider that keeps the last text per number in memory.
type codeBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *codeBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	b.last[phone] = text
	b.mu.Unlock()
	return nil
}

func (b *codeBox) Development() bool { return true }

func (b *codeBox) code(phone string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.last[phone]
	return t[strings.LastIndexByte(t, ' ')+1:]
}

type nopNotifier struct{}

func (nopNotifier) Items([]parley.Item)                   {}
func (nopNotifier) Typing(string, uint32, string, string) {}
func (nopNotifier) Revoked(string, uint32)                {}
func (nopNotifier) DevicesChanged(string)                 {}

// Seed registers n accounts with one device each in the SQLite database of
// dataDir (see SeedStore), before the server starts.
func Seed(ctx context.Context, dataDir string, n int, first uint64) ([]Cred, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "parley.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return SeedStore(ctx, st, n, first)
}

// SeedPostgres is Seed for the PostgreSQL database of dsn.
func SeedPostgres(ctx context.Context, dsn string, n int, first uint64) ([]Cred, error) {
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return SeedStore(ctx, st, n, first)
}

// SeedStore registers n accounts with one device each in st, through the
// same service code the server runs. Phone numbers are +<first>,
// +<first+1>, …
func SeedStore(ctx context.Context, st service.AccountStore, n int, first uint64) ([]Cred, error) {
	box := &codeBox{last: map[string]string{}}
	limits := service.Limits{RequestsPerIP: 1 << 30, CodesPerNumber: 1 << 30, CodeInterval: time.Nanosecond}
	acc := service.NewAccounts(st, box, nopNotifier{}, nil, limits, slog.New(slog.NewTextHandler(io.Discard, nil)))
	creds := make([]Cred, n)
	err := parallel(n, 8, func(i int) error {
		phone := fmt.Sprintf("+%d", first+uint64(i))
		if _, err := acc.RequestCode(ctx, phone, "127.0.0.1"); err != nil {
			return fmt.Errorf("seed %s: %w", phone, err)
		}
		reg, err := acc.Verify(ctx, phone, box.code(phone[1:]), "bench", "bench", "127.0.0.1")
		if err != nil {
			return fmt.Errorf("seed %s: %w", phone, err)
		}
		creds[i] = Cred{Account: reg.Device.Account, Device: reg.Device.ID, Token: reg.Token}
		return nil
	})
	return creds, err
}
