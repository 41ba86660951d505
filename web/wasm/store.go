//go:build js

package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/parley-chat/parley/sdk"
)

// kv is the storage object of the UI: get(key) → Promise<Uint8Array |
// undefined>, put(key, Uint8Array) → Promise (resolved once the
// IndexedDB transaction has committed).
type kv struct{ v js.Value }

func (s kv) get(key string) ([]byte, error) {
	r, err := await(s.v.Call("get", key))
	if err != nil || r.IsUndefined() || r.IsNull() {
		return nil, err
	}
	return bytesFromJS(r), nil
}

func (s kv) put(key string, b []byte) error {
	u := jsUint8.New(len(b))
	js.CopyBytesToJS(u, b)
	_, err := await(s.v.Call("put", key, u))
	return err
}

// signalState is the SignalCipher's StateStore: one IndexedDB record.
type signalState struct{ kv }

var _ sdk.StateStore = signalState{}

func (s signalState) LoadState() ([]byte, error)   { return s.get("signal") }
func (s signalState) SaveState(state []byte) error { return s.put("signal", state) }

// seenStore keeps one record per handled item key, so that redeliveries
// after a reload are acknowledged without a second event.
type seenStore struct{ kv }

var _ sdk.SeenStore = seenStore{}

func (s seenStore) Seen(key string) (bool, error) {
	b, err := s.get("seen:" + key)
	return b != nil, err
}

func (s seenStore) MarkSeen(key string) error { return s.put("seen:"+key, []byte{1}) }

// sentStore keeps the plaintexts of sent messages for resends.
type sentStore struct{ kv }

var _ sdk.SentStore = sentStore{}

func (s sentStore) PutSent(r *sdk.SentRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.put("sent:"+r.ClientID, b)
}

func (s sentStore) Sent(clientID string) (*sdk.SentRecord, error) {
	b, err := s.get("sent:" + clientID)
	if b == nil || err != nil {
		return nil, err
	}
	var r sdk.SentRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
