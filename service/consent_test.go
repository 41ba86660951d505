package service_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

type testHasher struct{}

func (testHasher) KeyedHash(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte("test key "+purpose))
	m.Write(msg)
	return m.Sum(nil)
}

// racingConsents appends an entry right after the first read of a
// customer's consent states, as another request's commit may land between
// the two reads of CustomerAsOperator.
type racingConsents struct {
	service.ConsentStore
	once   sync.Once
	append func()
}

func (r *racingConsents) Business(ctx context.Context, id string) (*parley.Business, error) {
	return &parley.Business{ID: id, Name: "Air Parley"}, nil
}

func (r *racingConsents) ConsentStates(ctx context.Context, business, key string) ([]parley.ConsentState, error) {
	st, err := r.ConsentStore.ConsentStates(ctx, business, key)
	r.once.Do(r.append)
	return st, err
}

// A customer's consent is read as states and history; an opt-out
// committed between the two reads shows in both or in neither (it showed
// in the history while the states still said opted in).
func TestCustomerConsentStatesMatchHistory(t *testing.T) {
	f := setup(t, service.Limits{})
	ctx := context.Background()
	const waID = "4915100000511"
	entry := func(action string) *parley.ConsentEntry {
		return &parley.ConsentEntry{Business: "6177527426981765", Customer: waID, CustomerKey: parley.ConsentCustomerKey(testHasher{}, waID),
			Action: action, Purposes: []string{parley.PurposeMarketing}, Source: parley.ConsentSource{Type: "in_chat"}, RecordedAt: time.Now()}
	}
	if err := f.store.AppendConsent(ctx, entry(parley.ConsentOptIn), nil); err != nil {
		t.Fatal(err)
	}
	r := &racingConsents{ConsentStore: f.store, append: func() {
		if err := f.store.AppendConsent(ctx, entry(parley.ConsentOptOut), nil); err != nil {
			t.Error(err)
		}
	}}
	c := service.NewConsent(r, nil, testHasher{}, nil, quiet())
	got, err := c.CustomerAsOperator(ctx, "6177527426981765", "+"+waID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 2 || len(got.States) != 1 || got.States[0].Seq != 2 || got.States[0].Action != parley.ConsentOptOut {
		t.Fatalf("history %d entries, states %+v; want the opt-out (seq 2) in both", len(got.History), got.States)
	}
}
