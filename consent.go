package parley

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The opt-in (consent) ledger: what customers agreed to receive from a
// business, and when they withdrew it. Each business (WABA) has one
// append-only ledger whose entries are hash-chained, so that any change
// to a recorded entry, a deleted entry or entries in another order is
// detected by VerifyConsent (and `parley admin consent verify`).
//
// Personal data and erasure (GDPR Art. 17). An entry's hash does not
// cover the customer's number and the evidence directly but a digest of
// them with a random salt (PersonalDigest). Erasure deletes number,
// evidence and salt and keeps the digest, so the chain still verifies
// and the digest alone reveals nothing (the salt is gone). What stays is
// what proves consent and its withdrawal (Art. 7(1): the controller must
// be able to demonstrate consent): the business, action, purposes,
// source type and id, time, and the customer's keyed hash (CustomerKey),
// a pseudonym under a key outside the database, which keeps an opted-out
// number suppressed after erasure.

// Consent actions.
const (
	ConsentOptIn  = "opt_in"
	ConsentOptOut = "opt_out"
)

// PurposeMarketing is the purpose marketing templates need. Other
// purposes are named utility topics ("flight updates").
const PurposeMarketing = "marketing"

// Consent source types.
const (
	SourceLink         = "link"
	SourceQR           = "qr"
	SourceWebsiteForm  = "website_form"
	SourceInChat       = "in_chat"
	SourceKeyword      = "keyword"
	SourceClientSwitch = "client_switch"
	SourceAPI          = "api"
	SourceErasure      = "erasure" // never recorded by clients; reserved
)

// ConsentSourceTypes are the source types a business may record.
var ConsentSourceTypes = []string{SourceLink, SourceQR, SourceWebsiteForm, SourceInChat, SourceKeyword, SourceClientSwitch, SourceAPI}

// Reasons of consent errors (Error.Reason).
const (
	ReasonConsentReplay   = "consent_replay"   // ECONFLICT: opt-out of purposes already opted out
	ReasonUnknownCustomer = "unknown_customer" // ENOTFOUND: the wa_id has no Parley account
	ReasonInvalidPhone    = "invalid_phone"    // EINVALID: not a phone number
)

// ConsentSource says how a consent was given or withdrawn.
type ConsentSource struct {
	Type     string // one of ConsentSourceTypes
	ID       string // the link, QR code, form or campaign; not personal
	Evidence string // e.g. the form submission; personal (erased on request)
}

// ConsentEntry is one entry of a business's ledger.
type ConsentEntry struct {
	Business    string // the WABA
	Seq         int64  // 1, 2, ... per business
	Number      string // phone_number_id it was recorded through, or ""
	Customer    string // wa_id (digits); "" once erased
	CustomerKey string // keyed hash of the wa_id (ConsentKeyer); kept after erasure
	Action      string // ConsentOptIn or ConsentOptOut
	Purposes    []string
	Source      ConsentSource
	RecordedAt  time.Time
	Salt        string // random, hex; "" once erased
	// PersonalDigest is PersonalDigest(Salt, Customer, Source.Evidence),
	// computed when the entry is made and kept after erasure.
	PersonalDigest string
	PrevHash       string // the previous entry's Hash; "" for the first
	Hash           string // EntryHash of this entry
	ErasedAt       time.Time
}

// Erased reports whether the entry's personal fields were erased.
func (e *ConsentEntry) Erased() bool { return !e.ErasedAt.IsZero() }

// MaxConsentPurposes bounds the purposes of one entry.
const MaxConsentPurposes = 16

// NormalizePurpose case-folds and trims a purpose and checks its syntax:
// 1 to 64 characters, letters, digits, spaces, '-', '_' and '.', starting
// with a letter or digit.
func NormalizePurpose(p string) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if p == "" || utf8.RuneCountInString(p) > 64 {
		return "", Errorf(EINVALID, "a purpose must have 1 to 64 characters")
	}
	for i, r := range p {
		ok := r == ' ' || r == '-' || r == '_' || r == '.' || isLetterOrDigit(r)
		if !ok || (i == 0 && !isLetterOrDigit(r)) {
			return "", Errorf(EINVALID, "purpose %q may hold only letters, digits, spaces, '-', '_' and '.', and must start with a letter or digit", p)
		}
	}
	return strings.Join(strings.Fields(p), " "), nil
}

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Validate checks and normalizes an entry before it is appended:
// purposes are case-folded, deduplicated and sorted.
func (e *ConsentEntry) Validate() error {
	if !ValidGraphID(e.Business) {
		return Errorf(EINVALID, "business id must be a Graph id")
	}
	if !ValidAccountID(e.Customer) {
		return reasonError(EINVALID, ReasonInvalidPhone, "wa_id must be a phone number in E.164 digits")
	}
	if e.Action != ConsentOptIn && e.Action != ConsentOptOut {
		return Errorf(EINVALID, "action must be opt_in or opt_out")
	}
	if len(e.Purposes) == 0 || len(e.Purposes) > MaxConsentPurposes {
		return Errorf(EINVALID, "purposes must list 1 to %d purposes", MaxConsentPurposes)
	}
	seen := map[string]bool{}
	ps := make([]string, 0, len(e.Purposes))
	for _, p := range e.Purposes {
		n, err := NormalizePurpose(p)
		if err != nil {
			return err
		}
		if !seen[n] {
			seen[n] = true
			ps = append(ps, n)
		}
	}
	sort.Strings(ps)
	e.Purposes = ps
	ok := e.Source.Type == SourceErasure // made by the service only
	for _, t := range ConsentSourceTypes {
		ok = ok || t == e.Source.Type
	}
	if !ok {
		return Errorf(EINVALID, "source.type must be one of %s", strings.Join(ConsentSourceTypes, ", "))
	}
	if utf8.RuneCountInString(e.Source.ID) > 256 || !utf8.ValidString(e.Source.ID) {
		return Errorf(EINVALID, "source.id must have at most 256 characters")
	}
	if len(e.Source.Evidence) > 4096 || !utf8.ValidString(e.Source.Evidence) {
		return Errorf(EINVALID, "source.evidence must be UTF-8 of at most 4096 bytes")
	}
	return nil
}

// canon writes fields length-prefixed, so that no two different field
// lists encode to the same bytes.
func canon(fields ...string) []byte {
	var b []byte
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// PersonalDigest is the digest of an entry's personal fields that its
// hash covers: SHA-256 over the salt, the wa_id and the evidence.
func PersonalDigest(salt, customer, evidence string) string {
	h := sha256.Sum256(canon("parley-consent-personal-v1", salt, customer, evidence))
	return hex.EncodeToString(h[:])
}

// EntryHash is the hash of an entry in its chain: SHA-256 over a
// canonical encoding of every field but the personal ones (which it
// covers through PersonalDigest) and the previous entry's hash.
func EntryHash(e *ConsentEntry) string {
	h := sha256.Sum256(canon("parley-consent-v1", e.Business, strconv.FormatInt(e.Seq, 10), e.Number, e.CustomerKey,
		e.Action, strings.Join(e.Purposes, "\n"), e.Source.Type, e.Source.ID,
		strconv.FormatInt(e.RecordedAt.UnixMicro(), 10), e.PersonalDigest, e.PrevHash))
	return hex.EncodeToString(h[:])
}

// ConsentChain verifies a ledger entry by entry, in seq order.
type ConsentChain struct {
	Business string
	Seq      int64  // of the last entry checked
	Hash     string // of the last entry checked
}

// Next checks e against the entries before it: its seq follows, its
// prev_hash is the last hash, its personal fields match their digest
// (unless erased) and its hash is right.
func (c *ConsentChain) Next(e *ConsentEntry) error {
	switch {
	case e.Business != c.Business:
		return Errorf(EINVALID, "entry %d belongs to business %s", e.Seq, e.Business)
	case e.Seq != c.Seq+1:
		return Errorf(EINVALID, "entry %d follows entry %d: entries are missing", e.Seq, c.Seq)
	case e.PrevHash != c.Hash:
		return Errorf(EINVALID, "entry %d does not link to entry %d (prev_hash differs)", e.Seq, c.Seq)
	case !e.Erased() && PersonalDigest(e.Salt, e.Customer, e.Source.Evidence) != e.PersonalDigest:
		return Errorf(EINVALID, "entry %d: the customer or the evidence was changed", e.Seq)
	case EntryHash(e) != e.Hash:
		return Errorf(EINVALID, "entry %d was changed (its hash does not match)", e.Seq)
	}
	c.Seq, c.Hash = e.Seq, e.Hash
	return nil
}

// ConsentState is the current state of one purpose for a customer of a
// business, derived from the ledger (the last entry that named it).
type ConsentState struct {
	Business    string
	CustomerKey string
	Purpose     string
	Action      string // ConsentOptIn or ConsentOptOut
	Seq         int64  // the entry that set it
	At          time.Time
}

// CheckConsentReplay refuses an opt-out whose purposes are all opted out
// already (a replayed opt-out); states are the customer's current ones.
func CheckConsentReplay(e *ConsentEntry, states []ConsentState) error {
	if e.Action != ConsentOptOut {
		return nil
	}
	out := map[string]bool{}
	for _, s := range states {
		out[s.Purpose] = s.Action == ConsentOptOut
	}
	for _, p := range e.Purposes {
		if !out[p] {
			return nil
		}
	}
	return reasonError(ECONFLICT, ReasonConsentReplay, "the customer has already opted out of %s; nothing was recorded", strings.Join(e.Purposes, ", "))
}

// ConsentKeywords are a business's opt-out and opt-in keywords: a
// customer's message whose whole trimmed, case-folded text is one of
// them records an opt-out (of marketing and every named topic the
// customer is opted in to) or an opt-in (of marketing).
type ConsentKeywords struct {
	Business  string
	Stop      []string
	Start     []string
	UpdatedAt time.Time
}

// Default keywords.
var (
	DefaultStopKeywords  = []string{"stop", "stopp", "abmelden"}
	DefaultStartKeywords = []string{"start", "anmelden"}
)

// NormalizeKeyword is how messages and keywords are compared.
func NormalizeKeyword(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Validate normalizes the keywords and checks them: at most 20 of each,
// 1 to 32 characters, none both a stop and a start keyword.
func (k *ConsentKeywords) Validate() error {
	norm := func(list []string, what string) ([]string, error) {
		if len(list) > 20 {
			return nil, Errorf(EINVALID, "at most 20 %s keywords", what)
		}
		out := []string{}
		seen := map[string]bool{}
		for _, w := range list {
			n := NormalizeKeyword(w)
			if n == "" || utf8.RuneCountInString(n) > 32 {
				return nil, Errorf(EINVALID, "%s keywords must have 1 to 32 characters", what)
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return out, nil
	}
	var err error
	if k.Stop, err = norm(k.Stop, "stop"); err != nil {
		return err
	}
	if k.Start, err = norm(k.Start, "start"); err != nil {
		return err
	}
	for _, s := range k.Stop {
		for _, t := range k.Start {
			if s == t {
				return Errorf(EINVALID, "%q cannot be both a stop and a start keyword", s)
			}
		}
	}
	return nil
}

// Match returns ConsentOptOut or ConsentOptIn when text is one of the
// keywords, else "".
func (k *ConsentKeywords) Match(text string) string {
	t := NormalizeKeyword(text)
	if t == "" || len(t) > 128 {
		return ""
	}
	for _, s := range k.Stop {
		if s == t {
			return ConsentOptOut
		}
	}
	for _, s := range k.Start {
		if s == t {
			return ConsentOptIn
		}
	}
	return ""
}

// KeyedHasher computes keyed hashes (HMAC) under a key the store never
// sees, so that a pseudonym in the database cannot be reversed by trying
// every phone number.
//
// SECURITY REVIEW: suppression after erasure depends on the key staying
// the same (atrest).
type KeyedHasher interface {
	KeyedHash(purpose string, msg []byte) []byte
}

// ConsentCustomerKey is the pseudonym of a wa_id in the ledger.
func ConsentCustomerKey(h KeyedHasher, waID string) string {
	return hex.EncodeToString(h.KeyedHash("parley consent customer v1", []byte(waID)))
}

// BusinessDataOf is what the business platform stores about a customer
// outside the ledger (GDPR Art. 15 export).
type BusinessDataOf struct {
	Messages []BusinessMessage // links of business messages to and from the customer
	Windows  []CustomerWindow  // the customer's last message per number
	Reach    []CustomerReach   // businesses that reached the customer outside the window
}

// CustomerWindow is a customer's service window with a number.
type CustomerWindow struct {
	Number        string
	LastInboundAt time.Time
}

// CustomerReach is the last time a business reached the customer outside
// the window (messaging limits).
type CustomerReach struct {
	Business  string
	ReachedAt time.Time
}

// ConsentStore keeps the ledgers.
type ConsentStore interface {
	// AppendConsent appends e to its business's ledger in one
	// transaction: under the business's lock (appends of one business
	// run one after another on every node) it sets e.Seq and e.PrevHash
	// from the ledger's head, computes e.Hash, refuses a replayed opt-out
	// (CheckConsentReplay, ECONFLICT), updates the states of e's purposes
	// and enqueues events. e.PersonalDigest must be set.
	AppendConsent(ctx context.Context, e *ConsentEntry, events []WebhookEvent) error
	// ConsentEntries returns up to limit entries of a business after
	// seq afterSeq, in order.
	ConsentEntries(ctx context.Context, business string, afterSeq int64, limit int) ([]ConsentEntry, error)
	// ConsentHead returns the last seq and hash of a business's ledger
	// (0 and "" when empty).
	ConsentHead(ctx context.Context, business string) (int64, string, error)
	// CustomerConsents returns a customer's entries (by key), of one
	// business or of all ("").
	CustomerConsents(ctx context.Context, business, customerKey string) ([]ConsentEntry, error)
	// ConsentStates returns a customer's current states with a business.
	ConsentStates(ctx context.Context, business, customerKey string) ([]ConsentState, error)
	// EraseConsents deletes the personal fields (wa_id, evidence, salt)
	// of every entry of the customer in every ledger and returns how many
	// entries it erased; digests, keys and states stay.
	EraseConsents(ctx context.Context, customerKey string, at time.Time) (int, error)
	// ConsentKeywords returns a business's keywords (the defaults when
	// never set); PutConsentKeywords replaces them.
	ConsentKeywords(ctx context.Context, business string) (*ConsentKeywords, error)
	PutConsentKeywords(ctx context.Context, k *ConsentKeywords) error
	// BusinessDataOf returns what the business platform stores about a
	// customer (by wa_id) outside the ledger; EraseBusinessDataOf deletes
	// it, and the business inbox's conversations with the customer and
	// their messages, and returns how many rows it deleted.
	BusinessDataOf(ctx context.Context, customer string) (*BusinessDataOf, error)
	EraseBusinessDataOf(ctx context.Context, customer string) (int, error)
}
