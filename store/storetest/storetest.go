package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Reopener is implemented by the stores a backend's open function returns
// when the backend keeps a schema.
type Reopener interface {
	// Reopen opens the store's database again, as another process would,
	// and returns the second store (which the caller closes) or Open's
	// error.
	Reopen(ctx context.Context) (parley.Store, error)
	// Exec runs one SQL statement on the store's database directly.
	Exec(ctx context.Context, query string) error
}

// Run runs every conformance test against stores made by open. Each call
// of open must return a new, empty store and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) parley.Store) {
	groups := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) parley.Store)
	}{
		{"Accounts", testAccounts},
		{"Devices", testDevices},
		{"Codes", testCodes},
		{"Rates", testRates},
		{"SMS", testSMS},
		{"Mailbox", testMailbox},
		{"Then", testThen},
		{"AckKnown", testAckKnown},
		{"Presence", testPresence},
		{"Keys", testKeys},
		{"Groups", testGroups},
		{"Media", testMedia},
		{"Expiry", testExpiry},
		{"Hosted", testHosted},
		{"Sandbox", testSandbox},
		{"BusinessChats", testBusinessChats},
		{"Reach", testReach},
		{"BusinessMedia", testBusinessMedia},
		{"QRLinks", testQRLinks},
		{"Catalogs", testCatalogs},
		{"Business", testBusiness},
		{"Directory", testDirectory},
		{"Templates", testTemplates},
		{"Outbound", testOutbound},
		{"Webhooks", testWebhooks},
		{"Consent", testConsent},
		{"Inbox", testInbox},
		{"InboxRetention", testInboxRetention},
		{"WebChat", testWebChat},
		{"Picture", testPicture},
		{"Agents", testAgents},
		{"Lifecycle", testLifecycle},
		{"TwoNodes", testTwoNodes},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.fn(t, open) })
	}
}

// t0 is the suite's "now": not UTC and with nanoseconds, so that tests
// see that stores return UTC truncated to microseconds.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

// at is t0 moved by d, as the store returns it.
func at(d time.Duration) time.Time { return t0.Add(d).UTC().Truncate(time.Microsecond) }

var phoneSeq atomic.Int64

// newPhone returns an account id not used before in this process.
func newPhone() string { return fmt.Sprintf("4915%08d", 10000000+phoneSeq.Add(1)) }

func ctxT(t testing.TB) context.Context { return t.Context() }

func mustAccount(t testing.TB, s parley.Store) string {
	t.Helper()
	id := newPhone()
	if _, _, err := s.EnsureAccount(ctxT(t), id, t0); err != nil {
		t.Fatalf("EnsureAccount(%s): %v", id, err)
	}
	return id
}

func mustDevice(t testing.TB, s parley.Store, account string) uint32 {
	t.Helper()
	d := &parley.Device{Account: account, Name: "phone", Platform: "android", CreatedAt: t0}
	if err := s.CreateDevice(ctxT(t), d); err != nil {
		t.Fatalf("CreateDevice(%s): %v", account, err)
	}
	return d.ID
}

// item is a message item for device dev of account to.
func item(from string, to string, dev uint32, body string) parley.Item {
	return parley.Item{Account: to, Device: dev, Kind: parley.KindMessage, MessageID: "m-" + body, ClientID: "c-" + body,
		From: from, FromDevice: 1, To: to, Timestamp: t0, Body: []byte(body)}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Errorf("%s: error code = %q (%v), want %q", what, got, err, code)
	}
}

// fetchAll returns every item of a device.
func fetchAll(t testing.TB, s parley.Store, account string, dev uint32) []parley.Item {
	t.Helper()
	items, err := s.Fetch(ctxT(t), account, dev, 0, 1_000_000, t0)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", parley.DeviceAddress(account, dev), err)
	}
	return items
}

func seqsOf(items []parley.Item) []uint64 {
	seqs := make([]uint64, len(items))
	for i, it := range items {
		seqs[i] = it.Seq
	}
	return seqs
}
