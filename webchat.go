package parley

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// Website chat (docs/inbox.md, "Website chat"): visitors of a business's
// own website who are not Parley users chat with the business's agents
// through a widget on that website. A visitor is a random id and a
// bearer token the browser keeps; the store holds the token's SHA-256
// only. Their conversations are inbox conversations of the business
// number with the customer WebCustomer(visitor id).

// WebCustomerPrefix starts the customer id of a website visitor's
// conversation ("web:<visitor id>"); messenger customers are digits.
const WebCustomerPrefix = "web:"

// WebCustomer is the customer id of a visitor's conversations.
func WebCustomer(visitor string) string { return WebCustomerPrefix + visitor }

// IsWebCustomer reports whether a conversation's customer is a website
// visitor.
func IsWebCustomer(customer string) bool { return strings.HasPrefix(customer, WebCustomerPrefix) }

// Conversation channels (ConversationView.channel).
const (
	ChannelMessenger = "messenger"
	ChannelWeb       = "web"
)

// ChannelOf is the channel of a conversation with customer.
func ChannelOf(customer string) string {
	if IsWebCustomer(customer) {
		return ChannelWeb
	}
	return ChannelMessenger
}

// WebVisitor is a visitor of a business's website chat.
type WebVisitor struct {
	ID         string // random, hex
	Business   string // the WABA
	Number     string // phone_number_id
	Hash       []byte // SHA-256 of the token
	Origin     string // the website it started on
	CreatedAt  time.Time
	LastSeenAt time.Time

	// Moving to the messenger: the number the visitor gave, the SHA-256
	// of the one-time reference their click-to-chat link carries, and
	// until when it may be used.
	HandoffPhone   string
	HandoffRefHash []byte
	HandoffExpires time.Time
	// MovedTo is the messenger conversation the web conversation
	// continued in (set once, by ClaimWebHandoff).
	MovedTo string
	MovedAt time.Time
}

// MaxWebOrigins bounds a business's allowed website origins.
const MaxWebOrigins = 20

// NormalizeWebOrigin checks a website origin ("https://shop.example",
// with a port if not the default) and returns it in lower case. Plain
// http is allowed for localhost and loopback addresses only.
func NormalizeWebOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	bad := Errorf(EINVALID, "origin %q must be scheme://host[:port] (https; http only for localhost), without path", o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || len(o) > 256 {
		return "", bad
	}
	host := strings.ToLower(u.Hostname())
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if host != "localhost" && host != "127.0.0.1" && host != "::1" {
			return "", bad
		}
	default:
		return "", bad
	}
	scheme, hostport := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	// Browsers leave the default port out of Origin.
	if p := u.Port(); (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
		hostport = strings.TrimSuffix(hostport, ":"+p)
	}
	return scheme + "://" + hostport, nil
}

// WebChatStore keeps website visitors and the businesses' allowed
// website origins.
type WebChatStore interface {
	CreateWebVisitor(ctx context.Context, v *WebVisitor) error
	// WebVisitor returns the visitor whose token hashes to hash;
	// ENOTFOUND when none.
	WebVisitor(ctx context.Context, hash []byte) (*WebVisitor, error)
	// TouchWebVisitor records the visitor's last request.
	TouchWebVisitor(ctx context.Context, id string, at time.Time) error
	// SetWebHandoff stores the number a visitor gave and the hash of a
	// new one-time reference (replacing an earlier one); ENOTFOUND when
	// the visitor is unknown, ECONFLICT when it has moved already.
	SetWebHandoff(ctx context.Context, id, phone string, refHash []byte, expires time.Time) error
	// ClaimWebHandoff uses the reference hashing to refHash of a visitor
	// of number whose given phone is phone, before it expires: in one
	// transaction it clears the reference, records MovedTo and links the
	// two conversations (each one's Linked names the other, versions
	// raised). ENOTFOUND when no visitor matches (unknown, used,
	// expired, another number or another phone).
	ClaimWebHandoff(ctx context.Context, number string, refHash []byte, phone, movedTo string, now time.Time) (*WebVisitor, error)

	// WebOrigins lists a business's allowed website origins, sorted.
	WebOrigins(ctx context.Context, business string) ([]string, error)
	// SetWebOrigins replaces them (normalized, at most MaxWebOrigins).
	SetWebOrigins(ctx context.Context, business string, origins []string) error
}
