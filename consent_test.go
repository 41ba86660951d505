package parley_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestNormalizePurpose(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Marketing", "marketing"},
		{"  Flight   Updates ", "flight updates"},
		{"Überweisung-Status_2.0", "überweisung-status_2.0"},
		{"", ""},
		{"-promo", ""},
		{"promo!", ""},
		{"a\nb", ""},
		{strings.Repeat("x", 65), ""},
	} {
		got, err := parley.NormalizePurpose(c.in)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("NormalizePurpose(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func validEntry() *parley.ConsentEntry {
	return &parley.ConsentEntry{Business: "1234567890123456", Customer: "4915100000001", Action: parley.ConsentOptIn,
		Purposes: []string{"marketing"}, Source: parley.ConsentSource{Type: parley.SourceAPI}, RecordedAt: time.Unix(1, 0)}
}

func TestConsentEntryValidate(t *testing.T) {
	e := validEntry()
	e.Purposes = []string{"Marketing", "news", "marketing"}
	if err := e.Validate(); err != nil || !slices.Equal(e.Purposes, []string{"marketing", "news"}) {
		t.Fatalf("Validate = %v, purposes %v", err, e.Purposes)
	}
	for name, change := range map[string]func(e *parley.ConsentEntry){
		"Business":      func(e *parley.ConsentEntry) { e.Business = "1" },
		"Customer":      func(e *parley.ConsentEntry) { e.Customer = "+49 151" },
		"Action":        func(e *parley.ConsentEntry) { e.Action = "maybe" },
		"NoPurposes":    func(e *parley.ConsentEntry) { e.Purposes = nil },
		"ManyPurposes":  func(e *parley.ConsentEntry) { e.Purposes = make([]string, 17) },
		"Source":        func(e *parley.ConsentEntry) { e.Source.Type = "fax" },
		"LongEvidence":  func(e *parley.ConsentEntry) { e.Source.Evidence = strings.Repeat("e", 4097) },
		"BadUTF8Source": func(e *parley.ConsentEntry) { e.Source.ID = "\xff" },
	} {
		t.Run(name, func(t *testing.T) {
			e := validEntry()
			change(e)
			if err := e.Validate(); parley.ErrorCode(err) != parley.EINVALID {
				t.Errorf("Validate = %v, want invalid", err)
			}
		})
	}
}

// The chain catches a changed field, a broken link and a gap; an erased
// entry still verifies through its digest.
func TestConsentChain(t *testing.T) {
	var entries []*parley.ConsentEntry
	prev := ""
	for i := 1; i <= 3; i++ {
		e := validEntry()
		e.Seq, e.PrevHash, e.Salt = int64(i), prev, "salt"
		e.PersonalDigest = parley.PersonalDigest(e.Salt, e.Customer, e.Source.Evidence)
		e.Hash = parley.EntryHash(e)
		prev = e.Hash
		entries = append(entries, e)
	}
	verify := func(list []*parley.ConsentEntry) error {
		c := parley.ConsentChain{Business: "1234567890123456"}
		for _, e := range list {
			if err := c.Next(e); err != nil {
				return err
			}
		}
		return nil
	}
	if err := verify(entries); err != nil {
		t.Fatalf("valid chain: %v", err)
	}
	erased := *entries[1]
	erased.Customer, erased.Salt, erased.ErasedAt = "", "", time.Unix(2, 0)
	if err := verify([]*parley.ConsentEntry{entries[0], &erased, entries[2]}); err != nil {
		t.Errorf("chain with an erased entry: %v", err)
	}
	changed := *entries[1]
	changed.Customer = "4915100000002"
	if err := verify([]*parley.ConsentEntry{entries[0], &changed, entries[2]}); err == nil {
		t.Error("a changed customer verified")
	}
	changed = *entries[1]
	changed.Purposes = []string{"news"}
	if err := verify([]*parley.ConsentEntry{entries[0], &changed, entries[2]}); err == nil {
		t.Error("a changed purpose verified")
	}
	if err := verify([]*parley.ConsentEntry{entries[0], entries[2]}); err == nil {
		t.Error("a gap verified")
	}
	// Length prefixes: moving a character between fields changes the hash.
	a, b := validEntry(), validEntry()
	a.Source.Type, a.Source.ID = "api", "x"
	b.Source.Type, b.Source.ID = "apix", ""
	if parley.EntryHash(a) == parley.EntryHash(b) {
		t.Error("fields are not separated in the encoding")
	}
}

func TestConsentKeywords(t *testing.T) {
	k := &parley.ConsentKeywords{Stop: []string{" STOP ", "stop", "Bitte  Abmelden"}, Start: []string{"Start"}}
	if err := k.Validate(); err != nil || !slices.Equal(k.Stop, []string{"stop", "bitte abmelden"}) {
		t.Fatalf("Validate = %v, %v", err, k.Stop)
	}
	for text, want := range map[string]string{"Stop": parley.ConsentOptOut, " bitte   ABMELDEN\n": parley.ConsentOptOut,
		"START": parley.ConsentOptIn, "stop it": "", "": ""} {
		if got := k.Match(text); got != want {
			t.Errorf("Match(%q) = %q, want %q", text, got, want)
		}
	}
	both := &parley.ConsentKeywords{Stop: []string{"x"}, Start: []string{"X"}}
	if both.Validate() == nil {
		t.Error("a keyword in both lists was accepted")
	}
	if (&parley.ConsentKeywords{Stop: make([]string, 21)}).Validate() == nil {
		t.Error("21 keywords were accepted")
	}
}

// FuzzConsentEntry feeds arbitrary fields of a consent record (they come
// from the network) through validation and hashing: nothing panics,
// errors are invalid (never internal), normalized purposes normalize to
// themselves, and a valid entry verifies in a chain of one.
func FuzzConsentEntry(f *testing.F) {
	f.Add("4915100000001", "marketing", "Flight  Updates", "website_form", "form-1", "ticked box")
	f.Add("+49 151", "!", "", "fax", "\xff", "")
	f.Fuzz(func(t *testing.T, customer, p1, p2, source, id, evidence string) {
		e := &parley.ConsentEntry{Business: "1234567890123456", Customer: customer, Action: parley.ConsentOptOut,
			Purposes: []string{p1, p2}, Source: parley.ConsentSource{Type: source, ID: id, Evidence: evidence}, RecordedAt: time.Unix(1, 0)}
		if err := e.Validate(); err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("Validate: %v, want an invalid error", err)
			}
			return
		}
		for _, p := range e.Purposes {
			if n, err := parley.NormalizePurpose(p); err != nil || n != p {
				t.Fatalf("purpose %q normalizes to %q, %v", p, n, err)
			}
		}
		e.Seq, e.Salt = 1, "s"
		e.PersonalDigest = parley.PersonalDigest(e.Salt, e.Customer, e.Source.Evidence)
		e.Hash = parley.EntryHash(e)
		c := parley.ConsentChain{Business: e.Business}
		if err := c.Next(e); err != nil {
			t.Fatalf("a valid entry does not verify: %v", err)
		}
		k := &parley.ConsentKeywords{Stop: []string{p1}}
		if k.Validate() == nil && k.Match(p1) != parley.ConsentOptOut && parley.NormalizeKeyword(p1) != "" && len(parley.NormalizeKeyword(p1)) <= 128 {
			t.Fatalf("keyword %q does not match itself", p1)
		}
	})
}
