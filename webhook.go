package parley

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Webhooks leave through a transactional outbox: a producer commits its
// state change and the webhook events it causes in one transaction, and
// a dispatcher (package webhook) delivers them afterwards, at least once,
// retrying until they are delivered or too old. Nothing here knows HTTP:
// an event names where it goes by an opaque endpoint id, and the body is
// the exact bytes to POST.

// WebhookState is where an event is in its life. Delivered events are
// deleted from the outbox at once (the receiver has them, and dedupes
// redeliveries by the event id), so only open and dead events are stored.
type WebhookState string

const (
	WebhookPending    WebhookState = "pending"    // waiting for its turn or for a retry
	WebhookDelivering WebhookState = "delivering" // claimed by a dispatcher (under a lease)
	WebhookDelivered  WebhookState = "delivered"  // accepted by the receiver; deleted from the outbox
	WebhookDead       WebhookState = "dead"       // given up on; kept for the operator to replay
)

// Limits of webhook events.
const (
	// MaxWebhookBody is the largest body an event may carry: Meta's
	// payloads are at most 3 MB.
	MaxWebhookBody = 3 << 20
	// MaxWebhookKey bounds endpoint ids and ordering keys.
	MaxWebhookKey = 256
	// WebhookMaxAge is how long an event is retried before it is dead.
	WebhookMaxAge = 7 * 24 * time.Hour
)

// WebhookEvent is one POST to make: a row of the outbox.
type WebhookEvent struct {
	// ID is stable across redeliveries and replays, so that receivers can
	// drop duplicates; the producer may choose it (an idempotency key:
	// enqueueing an id that exists in the same queue, Endpoint and Key,
	// does nothing), or leave it empty for NewWebhookID.
	ID string
	// Endpoint names where the event goes; an EndpointResolver (package
	// webhook) turns it into a callback URL and a signing secret when the
	// event is sent, so that a changed URL or a rotated secret applies to
	// events already queued.
	Endpoint string
	// Key orders events: those with the same Endpoint and Key are
	// delivered one at a time, in the order they were committed (a
	// conversation: phone number id and customer wa_id). Events with
	// different keys go in parallel.
	Key string
	// Body is the exact bytes to POST (ASCII-only JSON for Meta-shaped
	// payloads); the signature is computed over them when sent.
	Body []byte

	// Set by the store.
	Seq         int64        // the event's place in the outbox; orders events of one key
	State       WebhookState // pending, delivering or dead
	Attempts    int          // failed attempts so far
	LastError   string       // why the last attempt failed
	CreatedAt   time.Time    // when it was first enqueued
	EnqueuedAt  time.Time    // when it was enqueued or last replayed: retries stop WebhookMaxAge after it
	NextAttempt time.Time    // pending: not before; dead: when it died
}

// NewWebhookID returns a random event id ("whe_" and 32 hex digits).
func NewWebhookID() string {
	var b [16]byte
	rand.Read(b[:])
	return "whe_" + hex.EncodeToString(b[:])
}

// Validate checks an event before it is enqueued.
func (e *WebhookEvent) Validate() error {
	switch {
	case e.ID == "" || len(e.ID) > MaxWebhookKey:
		return Errorf(EINVALID, "webhook event id must have 1 to %d bytes", MaxWebhookKey)
	case e.Endpoint == "" || len(e.Endpoint) > MaxWebhookKey:
		return Errorf(EINVALID, "webhook endpoint id must have 1 to %d bytes", MaxWebhookKey)
	case len(e.Key) > MaxWebhookKey:
		return Errorf(EINVALID, "webhook ordering key must have at most %d bytes", MaxWebhookKey)
	case len(e.Body) == 0:
		return Errorf(EINVALID, "webhook event has no body")
	case len(e.Body) > MaxWebhookBody:
		return Errorf(ETOOLARGE, "webhook body is larger than %d bytes", MaxWebhookBody)
	}
	return nil
}

// WebhookQueue is what a claim hands a dispatcher: the first open events
// of one (endpoint, key), in order, under a lease. The dispatcher sends
// them one after another and settles the queue with a WebhookResult
// before the lease ends; until then no other claim returns the queue.
type WebhookQueue struct {
	Endpoint string
	Key      string
	Lease    string
	Events   []WebhookEvent
}

// WebhookResult settles a claimed queue: the events sent successfully,
// in order, and at most one that failed (the queue stops at a failure, so
// that later events never overtake it). A failed event is retried at
// RetryAt, or is dead when Dead is set.
type WebhookResult struct {
	Endpoint  string
	Key       string
	Lease     string
	Delivered []string // event ids
	Failed    string   // event id; "" when none failed
	Error     string   // why it failed
	RetryAt   time.Time
	Dead      bool
	At        time.Time // when the results were known
}

// WebhookClaim says what to claim.
type WebhookClaim struct {
	Now        time.Time // queues due at or before Now
	LeaseUntil time.Time // the lease ends then; an unsettled queue is due again
	Lease      string    // the lease's token (random per claim)
	Queues     int       // at most this many queues
	PerQueue   int       // at most this many events of each queue
}

// WebhookFilter selects dead events for the operator.
type WebhookFilter struct {
	Endpoint string // "" for every endpoint
	After    int64  // events with Seq > After (paging)
	Limit    int
}

// WebhookOutbox is the store of webhook events. Events of one (endpoint,
// key) are claimed strictly in Seq order and never by two claims at once;
// the lease makes several dispatchers (nodes sharing a database) deliver
// each event by one of them at a time.
type WebhookOutbox interface {
	// EnqueueWebhooks commits events in one group-committed transaction
	// (Validate them first; an empty ID gets NewWebhookID). An event whose
	// ID is stored already in its queue (the same Endpoint and Key) is
	// left alone; ids are unique per queue. Producers that change state
	// should rather add events to that change's transaction, as
	// Delivery.Webhooks does.
	EnqueueWebhooks(ctx context.Context, events []WebhookEvent) error
	// ClaimWebhooks leases up to c.Queues due queues and returns them,
	// each with its first c.PerQueue open events.
	ClaimWebhooks(ctx context.Context, c WebhookClaim) ([]WebhookQueue, error)
	// SettleWebhooks applies the results of claimed queues in one
	// transaction: delivered events are deleted, the failed one retried or
	// marked dead, and each queue's lease released; a queue with open
	// events left is due again at once (or at RetryAt). A result whose
	// lease has been lost (it expired and another claim took the queue)
	// still deletes its delivered events but changes nothing else.
	SettleWebhooks(ctx context.Context, results []WebhookResult) error
	// DeadWebhooks lists dead events by Seq, with their bodies.
	DeadWebhooks(ctx context.Context, f WebhookFilter) ([]WebhookEvent, error)
	// ReplayWebhooks makes dead events pending again, due at now with no
	// attempts and a new deadline: the given ids, or every dead event
	// when ids is nil. It returns how many it replayed; an id that names
	// no dead event is skipped.
	ReplayWebhooks(ctx context.Context, ids []string, now time.Time) (int, error)
	// WebhookDepth counts the open (pending or delivering) and the dead
	// events.
	WebhookDepth(ctx context.Context) (open, dead int64, err error)
	// PurgeWebhooks deletes dead events that died before before.
	PurgeWebhooks(ctx context.Context, before time.Time) (int64, error)
}
