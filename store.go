package parley

import (
	"context"
	"time"
)

// The store interfaces below are narrow on purpose: each service takes
// only the one it needs. store/sqlite and store/postgres implement all of
// them, and store/storetest proves that both behave the same.

// AccountStore keeps accounts and their devices.
type AccountStore interface {
	// EnsureAccount returns the account with the given id, creating it
	// (with PresenceEveryone) when it does not exist yet.
	EnsureAccount(ctx context.Context, id string, now time.Time) (a *Account, created bool, err error)
	// Account returns ENOTFOUND when there is no such account.
	Account(ctx context.Context, id string) (*Account, error)
	UpdateAccount(ctx context.Context, a *Account) error
	// CreateDevice assigns the next device id of d.Account (starting at 1,
	// never reused) and stores d.
	CreateDevice(ctx context.Context, d *Device) error
	// Device returns a device, active or revoked; ENOTFOUND when unknown.
	Device(ctx context.Context, account string, id uint32) (*Device, error)
	// Devices lists the account's devices that are not revoked, by id,
	// with HasKeys set.
	Devices(ctx context.Context, account string) ([]Device, error)
	// RevokeDevice marks the device revoked and deletes its mailbox.
	RevokeDevice(ctx context.Context, account string, id uint32, at time.Time) error
	// TouchDevice records use of the device and extends its credential.
	TouchDevice(ctx context.Context, account string, id uint32, seenAt, expiresAt time.Time) error
}

// Code is a one-time registration code, stored hashed.
type Code struct {
	Phone       string // account id form (digits)
	Hash        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Attempts    int
	LockedUntil time.Time
}

// CodeStore keeps pending registration codes.
type CodeStore interface {
	PutCode(ctx context.Context, c *Code) error // insert or replace
	// Code returns ENOTFOUND when no code is pending for phone.
	Code(ctx context.Context, phone string) (*Code, error)
	// RecordAttempt increments the attempt counter and sets LockedUntil.
	RecordAttempt(ctx context.Context, phone string, lockedUntil time.Time) (attempts int, err error)
	DeleteCode(ctx context.Context, phone string) error
}

// RateStore counts events per key in fixed windows, shared by every node.
type RateStore interface {
	// Hit counts one event for key in the window containing now and
	// reports whether the count is within limit. retryAfter is the time
	// until the window ends when it is not.
	Hit(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// HitN is Hit counting n events at once (bytes of a quota, say).
	HitN(ctx context.Context, key string, window time.Duration, n, limit int64, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// SMSLog records what the development SMS provider "sent", so operators
// and tests can read the codes.
type SMSLog interface {
	RecordSMS(ctx context.Context, phone, text string, at time.Time) error
	// LastSMS returns ENOTFOUND when nothing was sent to phone.
	LastSMS(ctx context.Context, phone string) (text string, at time.Time, err error)
}

// Mailbox keeps undelivered items per device until they are acknowledged.
type Mailbox interface {
	// Deliver commits a delivery in one transaction: the idempotency key
	// (unless ClientID is empty) and every item, each with the next
	// sequence number of its device (written back into d.Items). When the
	// key was committed before it inserts nothing, sets d.Duplicate and
	// copies the stored MessageID and Timestamp into d. Items addressed to
	// revoked or unknown devices are an error (ESTALE). d.Media are linked
	// to the message in the same transaction (see MediaStore), and
	// d.Webhooks are enqueued in it (see WebhookOutbox), their ids filled
	// in.
	Deliver(ctx context.Context, d *Delivery) error
	// Fetch returns up to limit items of a device with Seq > after, by Seq,
	// leaving out items that have expired at now (Item.ExpiresIn); the zero
	// time leaves nothing out.
	Fetch(ctx context.Context, account string, device uint32, after uint64, limit int, now time.Time) ([]Item, error)
	// Ack deletes the device's items with the given sequence numbers and,
	// in the same transaction, delivers the follow-up items (receipts),
	// assigning their Seq in place.
	Ack(ctx context.Context, account string, device uint32, seqs []uint64, followUps []Item) error
	// AckWith is Ack whose follow-ups depend on what was deleted, decided
	// inside the same transaction without a read before it: followUps gets
	// the items actually deleted — their Account, Device, Seq, Kind,
	// MessageID, From, FromDevice and Group, what a receipt needs (other
	// fields may be empty) — and returns the items to deliver; an item with Device 0 goes to every active device of its
	// Account. followUps runs while the store holds its write transaction:
	// it must be quick and must not call the store. AckWith returns the
	// follow-ups delivered, with their Seq.
	AckWith(ctx context.Context, account string, device uint32, seqs []uint64, followUps func(deleted []Item) []Item) ([]Item, error)
	// Sent returns the id and time of the message that the device sent
	// with clientID (its idempotency key), so that it can be sent again to
	// a device that could not decrypt it; ENOTFOUND once the key is
	// purged or when there is none.
	Sent(ctx context.Context, from string, device uint32, clientID string) (messageID string, at time.Time, err error)
	// Purge deletes items and idempotency keys older than before.
	Purge(ctx context.Context, before time.Time) (int64, error)
	// PurgeExpired deletes the items that have expired at now.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
}

// MediaStore keeps blobs (encrypted attachments) in chunks, and which
// messages reference them, until the sweeper deletes them. Chunk writes
// and deletions each take a short transaction of their own, so that a
// large blob never holds up mailbox commits for long. A blob is served
// only after CompleteMedia and until its deletion starts.
type MediaStore interface {
	// CreateMedia records a new, incomplete blob (ID, Account, Device,
	// Kind, CreatedAt); ECONFLICT when the id is taken.
	CreateMedia(ctx context.Context, m *Media) error
	// PutMediaChunk stores chunk n (from 0) of an incomplete blob.
	// ENOTFOUND when the blob is unknown, complete or being deleted.
	PutMediaChunk(ctx context.Context, id string, n int, data []byte) error
	// CompleteMedia checks that chunks 0, 1, ... hold exactly size bytes
	// (ECONFLICT otherwise), stores size and digest and makes the blob
	// servable. ENOTFOUND as for PutMediaChunk.
	CompleteMedia(ctx context.Context, id string, size int64, sha256 []byte, at time.Time) error
	// Media returns a complete blob; ENOTFOUND when it is unknown,
	// incomplete or being deleted.
	Media(ctx context.Context, id string) (*Media, error)
	// MediaChunk returns chunk n of a complete blob; ENOTFOUND as Media.
	MediaChunk(ctx context.Context, id string, n int) ([]byte, error)
	// DeleteMedia stops serving the blob, then deletes its chunks, links
	// and record; ENOTFOUND when it is unknown. Deleting a blob whose
	// deletion was interrupted finishes it.
	DeleteMedia(ctx context.Context, id string, at time.Time) error
	// SweepMedia marks released the linked blobs none of whose messages
	// has a mailbox item left, deletes the blobs sw selects (and finishes
	// interrupted deletions), and returns how many it deleted.
	SweepMedia(ctx context.Context, sw MediaSweep) (int, error)
}

// PresenceStore tracks which node holds a device's connection and when
// an account was last seen, so that presence is right across nodes.
type PresenceStore interface {
	// SetOnline records that the device is connected to node.
	SetOnline(ctx context.Context, account string, device uint32, node string, at time.Time) error
	// SetOffline clears the device's node (only if it is still node) and
	// records at as its last-seen time.
	SetOffline(ctx context.Context, account string, device uint32, node string, at time.Time) error
	// Heartbeat records that node is alive at the given time.
	Heartbeat(ctx context.Context, node string, at time.Time) error
	// Presence reports whether any device of the account is connected to
	// a node whose heartbeat is newer than aliveAfter, and the latest
	// last-seen time of its devices.
	Presence(ctx context.Context, account string, aliveAfter time.Time) (online bool, lastSeen time.Time, err error)
}

// Store is everything a storage adapter provides.
type Store interface {
	AccountStore
	CodeStore
	RateStore
	SMSLog
	Mailbox
	PresenceStore
	KeyStore
	GroupStore
	MediaStore
	HostedStore
	SandboxStore
	BusinessChatStore
	BusinessMediaStore
	QRLinkStore
	CatalogStore
	BusinessStore
	DirectoryStore
	TemplateStore
	OutboundQueue
	WebhookOutbox
	ConsentStore
	InboxStore
	WebChatStore
	PictureStore
	Ping(ctx context.Context) error
	Close() error
}

// PubSub routes real-time events between nodes. Delivery is at most once
// and carries no durability: everything that must not be lost is in the
// store first, and receivers repair gaps from there. Deliveries for one
// subject arrive in publish order.
type PubSub interface {
	Publish(subject string, data []byte) error
	// Subscribe registers interest in subject; deliveries go to the
	// handler the adapter was given. Subscriptions are counted: each
	// Subscribe needs one Unsubscribe. When Subscribe returns, events
	// published afterwards by any node are delivered.
	Subscribe(subject string) error
	Unsubscribe(subject string) error
}
