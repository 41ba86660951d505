package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// ConsentStore is what the consent ledger needs from storage.
type ConsentStore interface {
	parley.ConsentStore
	Account(ctx context.Context, id string) (*parley.Account, error)
	Devices(ctx context.Context, account string) ([]parley.Device, error)
	BusinessNumber(ctx context.Context, id string) (*parley.BusinessNumber, error)
	Business(ctx context.Context, id string) (*parley.Business, error)
}

// ConsentWebhooks builds the webhook events that tell a business about a
// customer's own change of marketing preference (user_preferences). They
// are committed with the ledger entry, so a change is never recorded
// without its webhook.
type ConsentWebhooks interface {
	ConsentEvents(ctx context.Context, n *parley.BusinessNumber, e *parley.ConsentEntry) ([]parley.WebhookEvent, error)
}

// Consent is the opt-in ledger: businesses record customers' consent and
// its withdrawal; customers opt out by keyword or by a switch in their
// client; marketing templates need a recorded, not withdrawn, consent
// (hosted business devices ask MarketingAllowed); customers export and
// erase what is stored about them (GDPR Art. 15 and 17).
type Consent struct {
	store    ConsentStore
	biz      *Business
	hasher   parley.KeyedHasher
	clock    parley.Clock
	log      *slog.Logger
	Webhooks ConsentWebhooks // nil: no webhooks
	// Inbox is the business inbox, whose copies of the customer's
	// conversations the export includes (nil: none kept).
	Inbox *Inbox
}

// NewConsent returns the ledger service. hasher makes the customers'
// pseudonyms (the at-rest key).
func NewConsent(store ConsentStore, biz *Business, hasher parley.KeyedHasher, clock parley.Clock, log *slog.Logger) *Consent {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Consent{store: store, biz: biz, hasher: hasher, clock: clock, log: log}
}

// ConsentRequest is a consent to record.
type ConsentRequest struct {
	WaID     string // digits, "+" and spaces allowed
	Action   string
	Purposes []string
	Source   parley.ConsentSource
}

// Record records a consent (or its withdrawal) of a customer of the
// caller's number.
func (s *Consent) Record(ctx context.Context, c *Caller, numberID string, r ConsentRequest) (*parley.ConsentEntry, error) {
	n, err := s.biz.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	return s.record(ctx, n, r)
}

// RecordAsOperator records a consent through a number, for the operator.
func (s *Consent) RecordAsOperator(ctx context.Context, numberID string, r ConsentRequest) (*parley.ConsentEntry, error) {
	n, err := s.store.BusinessNumber(ctx, numberID)
	if err != nil {
		return nil, err
	}
	return s.record(ctx, n, r)
}

// normalizeWaID accepts digits with an optional "+", spaces, dashes and
// parentheses, as Meta does for recipients.
func normalizeWaID(w string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(w) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			b.Reset()
			return "", invalidPhone(w)
		}
	}
	if !parley.ValidAccountID(b.String()) {
		return "", invalidPhone(w)
	}
	return b.String(), nil
}

func invalidPhone(w string) error {
	e := parley.Errorf(parley.EINVALID, "wa_id %q is not a valid phone number (E.164 digits)", w)
	e.Reason = parley.ReasonInvalidPhone
	return e
}

func (s *Consent) record(ctx context.Context, n *parley.BusinessNumber, r ConsentRequest) (*parley.ConsentEntry, error) {
	waID, err := normalizeWaID(r.WaID)
	if err != nil {
		return nil, err
	}
	if r.Source.Type == parley.SourceErasure {
		return nil, parley.Errorf(parley.EINVALID, "source.type erasure is reserved for erasures")
	}
	e := &parley.ConsentEntry{Business: n.Business, Number: n.ID, Customer: waID, Action: r.Action, Purposes: r.Purposes,
		Source: r.Source, RecordedAt: s.clock.Now().UTC().Truncate(time.Microsecond)}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if waID == n.Account {
		return nil, parley.Errorf(parley.EINVALID, "wa_id is the business's own number")
	}
	if _, err := s.store.Account(ctx, waID); parley.Match(err, parley.ENOTFOUND) {
		e := parley.Errorf(parley.ENOTFOUND, "wa_id %s has no Parley account; consent can be recorded only for registered customers", waID)
		e.Reason = parley.ReasonUnknownCustomer
		return nil, e
	} else if err != nil {
		return nil, err
	}
	return e, s.append(ctx, n, e)
}

func (s *Consent) append(ctx context.Context, n *parley.BusinessNumber, e *parley.ConsentEntry) error {
	var salt [16]byte
	rand.Read(salt[:])
	e.Salt = hex.EncodeToString(salt[:])
	e.CustomerKey = parley.ConsentCustomerKey(s.hasher, e.Customer)
	e.PersonalDigest = parley.PersonalDigest(e.Salt, e.Customer, e.Source.Evidence)
	var events []parley.WebhookEvent
	if s.Webhooks != nil && customerInitiated(e) {
		var err error
		if events, err = s.Webhooks.ConsentEvents(ctx, n, e); err != nil {
			return err
		}
	}
	return s.store.AppendConsent(ctx, e, events)
}

// customerInitiated reports whether the customer changed their marketing
// preference themselves (the business knows of its own records).
func customerInitiated(e *parley.ConsentEntry) bool {
	return (e.Source.Type == parley.SourceKeyword || e.Source.Type == parley.SourceClientSwitch) &&
		slices.Contains(e.Purposes, parley.PurposeMarketing)
}

// CustomerChoice records a customer's own opt-out or opt-in of marketing
// (by keyword or by the switch in their client) with the business of
// number n, and the webhook that tells the business. A repeated opt-out
// is ECONFLICT (ReasonConsentReplay) and records nothing.
//
// A stop keyword means what it says: it withdraws marketing and every
// named topic ("flight updates") the customer is opted in to with the
// business, in one entry. The switch in the client is the marketing
// switch only, and a start keyword opts in to marketing only (topics were
// given for a reason the business must ask about again).
func (s *Consent) CustomerChoice(ctx context.Context, n *parley.BusinessNumber, customer, action, source, evidence string) (*parley.ConsentEntry, error) {
	purposes := []string{parley.PurposeMarketing}
	if source == parley.SourceKeyword && action == parley.ConsentOptOut {
		states, err := s.store.ConsentStates(ctx, n.Business, parley.ConsentCustomerKey(s.hasher, customer))
		if err != nil {
			return nil, err
		}
		for _, st := range states {
			if st.Action == parley.ConsentOptIn && st.Purpose != parley.PurposeMarketing {
				purposes = append(purposes, st.Purpose)
			}
		}
		slices.Sort(purposes)
	}
	e := &parley.ConsentEntry{Business: n.Business, Number: n.ID, Customer: customer, Action: action,
		Purposes: purposes, Source: parley.ConsentSource{Type: source, Evidence: evidence},
		RecordedAt: s.clock.Now().UTC().Truncate(time.Microsecond)}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, s.append(ctx, n, e)
}

// MarketingAllowed reports whether the business may send marketing
// templates to the customer: a recorded marketing opt-in that was not
// withdrawn since.
func (s *Consent) MarketingAllowed(ctx context.Context, business, customer string) (bool, error) {
	states, err := s.store.ConsentStates(ctx, business, parley.ConsentCustomerKey(s.hasher, customer))
	if err != nil {
		return false, err
	}
	for _, st := range states {
		if st.Purpose == parley.PurposeMarketing {
			return st.Action == parley.ConsentOptIn, nil
		}
	}
	return false, nil
}

// KeywordAction returns the action a customer's text stands for with the
// business (ConsentOptOut, ConsentOptIn) or "".
func (s *Consent) KeywordAction(ctx context.Context, business, text string) (string, error) {
	if len(text) > 128 {
		return "", nil
	}
	k, err := s.store.ConsentKeywords(ctx, business)
	if err != nil {
		return "", err
	}
	return k.Match(text), nil
}

// CustomerConsent is a customer's current states and history with a
// business.
type CustomerConsent struct {
	WaID    string
	States  []parley.ConsentState
	History []parley.ConsentEntry
}

// Customer returns a customer's consent with the business of the
// caller's number.
func (s *Consent) Customer(ctx context.Context, c *Caller, numberID, waID string) (*CustomerConsent, error) {
	n, err := s.biz.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	return s.customer(ctx, n.Business, waID)
}

// CustomerAsOperator is Customer for the operator, by business.
func (s *Consent) CustomerAsOperator(ctx context.Context, business, waID string) (*CustomerConsent, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	return s.customer(ctx, business, waID)
}

func (s *Consent) customer(ctx context.Context, business, waID string) (*CustomerConsent, error) {
	w, err := normalizeWaID(waID)
	if err != nil {
		return nil, err
	}
	key := parley.ConsentCustomerKey(s.hasher, w)
	// States and history are two reads: an entry committed between them
	// would be in the history and not in the states. Every entry moves
	// its purposes' states to its seq, so states read again unchanged
	// after the history mean that the history matches them.
	states, err := s.store.ConsentStates(ctx, business, key)
	if err != nil {
		return nil, err
	}
	for range 5 {
		hist, err := s.store.CustomerConsents(ctx, business, key)
		if err != nil {
			return nil, err
		}
		again, err := s.store.ConsentStates(ctx, business, key)
		if err != nil {
			return nil, err
		}
		if slices.EqualFunc(states, again, func(a, b parley.ConsentState) bool { return a.Purpose == b.Purpose && a.Seq == b.Seq }) {
			return &CustomerConsent{WaID: w, States: states, History: hist}, nil
		}
		states = again
	}
	return nil, parley.Errorf(parley.EUNAVAILABLE, "the customer's consent keeps changing; try again")
}

// Verification is the result of checking a ledger's chain.
type Verification struct {
	Business string
	Valid    bool
	Entries  int64  // entries checked (up to the first broken one)
	HeadSeq  int64  // the head's seq
	HeadHash string // the head's hash: publish or keep it to detect a rewritten ledger later
	BrokenAt int64  // the first entry that fails; 0 when valid
	Problem  string
}

// Verify checks the ledger of the caller's business.
func (s *Consent) Verify(ctx context.Context, c *Caller, waba string) (*Verification, error) {
	if _, err := s.biz.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	return s.VerifyAsOperator(ctx, waba)
}

// VerifyAsOperator checks a business's ledger for the operator.
func (s *Consent) VerifyAsOperator(ctx context.Context, business string) (*Verification, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	seq, hash, err := s.store.ConsentHead(ctx, business)
	if err != nil {
		return nil, err
	}
	v := &Verification{Business: business, HeadSeq: seq, HeadHash: hash, Valid: true}
	chain := parley.ConsentChain{Business: business}
	const page = 500
	for {
		entries, err := s.store.ConsentEntries(ctx, business, chain.Seq, page)
		if err != nil {
			return nil, err
		}
		for i := range entries {
			if err := chain.Next(&entries[i]); err != nil {
				v.Valid, v.BrokenAt, v.Problem = false, chain.Seq+1, parley.ErrorMessage(err)
				v.Entries = chain.Seq
				return v, nil
			}
		}
		if len(entries) < page {
			break
		}
	}
	v.Entries = chain.Seq
	if chain.Seq != seq || chain.Hash != hash {
		v.Valid, v.BrokenAt = false, chain.Seq+1
		v.Problem = "the ledger's head does not match its last entry: entries were removed or added outside Parley"
	}
	return v, nil
}

// Keywords returns the opt-out and opt-in keywords of the caller's business.
func (s *Consent) Keywords(ctx context.Context, c *Caller, waba string) (*parley.ConsentKeywords, error) {
	if _, err := s.biz.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	return s.store.ConsentKeywords(ctx, waba)
}

// SetKeywords replaces the keywords of the caller's business; nil lists
// are left as they are. c nil: the operator.
func (s *Consent) SetKeywords(ctx context.Context, c *Caller, waba string, stop, start []string) (*parley.ConsentKeywords, error) {
	if c != nil {
		if _, err := s.biz.WABA(ctx, c, waba); err != nil {
			return nil, err
		}
	} else if _, err := s.store.Business(ctx, waba); err != nil {
		return nil, err
	}
	k, err := s.store.ConsentKeywords(ctx, waba)
	if err != nil {
		return nil, err
	}
	if stop != nil {
		k.Stop = stop
	}
	if start != nil {
		k.Start = start
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	k.UpdatedAt = s.clock.Now()
	if err := s.store.PutConsentKeywords(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// CustomerExport is everything the platform stores about a person (GDPR
// Art. 15), but the end-to-end encrypted messages waiting in mailboxes
// (ciphertext the server cannot read) and media blobs.
type CustomerExport struct {
	Account      *parley.Account
	Devices      []parley.Device
	Consents     []parley.ConsentEntry
	BusinessData *parley.BusinessDataOf
	Inbox        []CustomerInbox // the business inbox's conversations with the customer, opened
	ExportedAt   time.Time
}

// Export gathers what is stored about an account.
func (s *Consent) Export(ctx context.Context, account string) (*CustomerExport, error) {
	a, err := s.store.Account(ctx, account)
	if err != nil {
		return nil, err
	}
	devs, err := s.store.Devices(ctx, account)
	if err != nil {
		return nil, err
	}
	cons, err := s.store.CustomerConsents(ctx, "", parley.ConsentCustomerKey(s.hasher, account))
	if err != nil {
		return nil, err
	}
	bd, err := s.store.BusinessDataOf(ctx, account)
	if err != nil {
		return nil, err
	}
	if devs == nil {
		devs = []parley.Device{}
	}
	if cons == nil {
		cons = []parley.ConsentEntry{}
	}
	x := &CustomerExport{Account: a, Devices: devs, Consents: cons, BusinessData: bd, Inbox: []CustomerInbox{}, ExportedAt: s.clock.Now()}
	if s.Inbox != nil {
		if x.Inbox, err = s.Inbox.CustomerData(ctx, account); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Erasure says what an erasure removed.
type Erasure struct {
	Withdrawn       int // consents withdrawn (opt-out entries with source erasure), one per business
	ConsentEntries  int // entries whose personal fields were erased
	BusinessRecords int // message links, windows and reach records deleted
}

// Erase deletes what businesses' platform data holds about an account
// (GDPR Art. 17): the personal fields of its consent entries (wa_id,
// evidence), the message links, service windows and reach records, and
// the business inbox's conversations with it (messages and notes).
// The ledger keeps the entries' digests and the keyed pseudonym, so
// ledgers still verify and an opt-out keeps suppressing marketing.
func (s *Consent) Erase(ctx context.Context, account string) (*Erasure, error) {
	if _, err := s.store.Account(ctx, account); err != nil {
		return nil, err
	}
	key := parley.ConsentCustomerKey(s.hasher, account)
	withdrawn, err := s.withdrawAll(ctx, account, key)
	if err != nil {
		return nil, err
	}
	n, err := s.store.EraseConsents(ctx, key, s.clock.Now())
	if err != nil {
		return nil, err
	}
	m, err := s.store.EraseBusinessDataOf(ctx, account)
	if err != nil {
		return nil, err
	}
	s.log.Info("erased business data of a customer", "consent_entries", n, "records", m)
	return &Erasure{Withdrawn: withdrawn, ConsentEntries: n, BusinessRecords: m}, nil
}

// withdrawAll records, before an erasure, an opt-out of every purpose the
// customer is opted in to with any business: without the erased evidence
// the business could no longer show the consent, so it must not use it.
func (s *Consent) withdrawAll(ctx context.Context, account, key string) (int, error) {
	entries, err := s.store.CustomerConsents(ctx, "", key)
	if err != nil {
		return 0, err
	}
	done := map[string]bool{}
	n := 0
	for _, en := range entries {
		if done[en.Business] {
			continue
		}
		done[en.Business] = true
		states, err := s.store.ConsentStates(ctx, en.Business, key)
		if err != nil {
			return n, err
		}
		var in []string
		for _, st := range states {
			if st.Action == parley.ConsentOptIn {
				in = append(in, st.Purpose)
			}
		}
		for len(in) > 0 {
			part := in[:min(len(in), parley.MaxConsentPurposes)]
			in = in[len(part):]
			e := &parley.ConsentEntry{Business: en.Business, Customer: account, Action: parley.ConsentOptOut, Purposes: part,
				Source: parley.ConsentSource{Type: parley.SourceErasure}, RecordedAt: s.clock.Now().UTC().Truncate(time.Microsecond)}
			if err := e.Validate(); err != nil {
				return n, err
			}
			if err := s.append(ctx, nil, e); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Entries returns a page of a business's ledger, for the operator.
func (s *Consent) Entries(ctx context.Context, business string, after int64, limit int) ([]parley.ConsentEntry, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	return s.store.ConsentEntries(ctx, business, after, limit)
}

// KeywordsAsOperator returns a business's keywords, for the operator.
func (s *Consent) KeywordsAsOperator(ctx context.Context, business string) (*parley.ConsentKeywords, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	return s.store.ConsentKeywords(ctx, business)
}

// Ledger returns a page of the caller's business's ledger: up to limit
// entries after seq after.
func (s *Consent) Ledger(ctx context.Context, c *Caller, waba string, after int64, limit int) ([]parley.ConsentEntry, error) {
	if _, err := s.biz.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	return s.store.ConsentEntries(ctx, waba, after, limit)
}
