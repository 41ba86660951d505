package parley

import (
	"context"
	"time"
)

// Platforms of hosted devices, as device lists show them: a customer's
// client can tell that a business uses a hosted service.
const (
	PlatformHostedBusiness = "hosted-business"
	PlatformSandbox        = "sandbox"
)

// Kinds of hosted devices.
const (
	HostedBusiness = "business" // the device of a business number: the platform encrypts and decrypts for the business
	HostedCustomer = "customer" // a sandbox customer: a test person whose device the server runs
)

// HostedDevice is a device whose keys the server holds on someone's
// behalf (docs/security.md, "Hosted devices"). Its credentials and Signal
// state are sealed with the node's at-rest key; one node at a time runs
// it, under a lease that it renews while it runs, and a node that lost the
// lease cannot save (fencing).
type HostedDevice struct {
	Account    string
	Device     uint32
	Kind       string // HostedBusiness or HostedCustomer
	Sealed     []byte // the sealed credentials and state
	Version    int64  // incremented by every save
	LeaseNode  string // "" when nobody runs it
	LeaseUntil time.Time
	CreatedAt  time.Time
}

// HostedStore keeps hosted devices.
type HostedStore interface {
	// PutHosted stores a new hosted device (ECONFLICT when the device has
	// one already).
	PutHosted(ctx context.Context, h *HostedDevice) error
	// Hosted returns the hosted device of an account (ENOTFOUND if none).
	Hosted(ctx context.Context, account string) (*HostedDevice, error)
	// LeaseHosted gives node the lease, until until, of up to limit hosted
	// devices of the given kinds whose lease expired at now (or that node
	// holds already) and returns them. Several nodes may call it at once:
	// each device goes to one of them.
	LeaseHosted(ctx context.Context, node string, kinds []string, now, until time.Time, limit int) ([]HostedDevice, error)
	// SaveHosted replaces the sealed state, if node still holds the lease
	// at now (ECONFLICT otherwise: another node may be running it).
	SaveHosted(ctx context.Context, account string, device uint32, node string, now time.Time, sealed []byte) error
	// ReleaseHosted ends node's leases (on shutdown), so that other nodes
	// take its devices over at once.
	ReleaseHosted(ctx context.Context, node string) error
}

// BusinessMessage links a Parley message of a business chat to its
// Cloud API id (wamid), so that receipts become statuses and a business
// can answer or mark read what it received.
type BusinessMessage struct {
	MessageID string // the Parley message id
	WAMID     string
	Number    string // phone_number_id
	Customer  string // the customer's account
	Inbound   bool   // from the customer
	CreatedAt time.Time
}

// BusinessChatStore keeps what hosted business devices need: message
// links and the time of each customer's last message (the 24-hour
// customer-service window).
type BusinessChatStore interface {
	// PutBusinessMessage stores a link (a link with the same message id
	// is kept once).
	PutBusinessMessage(ctx context.Context, m *BusinessMessage) error
	// BusinessMessageByID returns the link of a Parley message id;
	// BusinessMessageByWAMID of a wamid (ENOTFOUND when unknown).
	BusinessMessageByID(ctx context.Context, messageID string) (*BusinessMessage, error)
	BusinessMessageByWAMID(ctx context.Context, wamid string) (*BusinessMessage, error)
	// TouchWindow records a customer's message at at (kept if later than
	// the stored one); LastInbound returns it (zero when never).
	TouchWindow(ctx context.Context, number, customer string, at time.Time) error
	LastInbound(ctx context.Context, number, customer string) (time.Time, error)
	// LastInbounds is LastInbound for many customers of the number, in
	// one read: customers who never wrote are missing from the map.
	LastInbounds(ctx context.Context, number string, customers []string) (map[string]time.Time, error)
	// Reach records that a business reached a customer outside the
	// customer-service window at at, unless doing so would make more than
	// limit distinct customers reached since since (limit < 0: no limit);
	// a customer reached since since already counts once. It reports
	// whether the customer may be reached, deciding atomically on every
	// node (the messaging-limit tiers).
	Reach(ctx context.Context, business, customer string, since, at time.Time, limit int) (bool, error)
}
