package crypto

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/signalerror"
	"go.mau.fi/libsignal/state/record"
)

// libsignal v0.2.1's Cipher.Decrypt and DecryptMessage try a message on
// the session's current state in place and, when that fails, on the
// archived states; if an archived state succeeds, it archives the current
// state as the failed attempt left it. A failed attempt can have stepped
// the ratchet with a foreign key (new root key, new sending chain), so the
// archived copy is corrupt and everything later sent on that state fails
// with a bad MAC. This happens whenever both sides have more than one
// state: simultaneous session starts, resets racing with messages in
// flight. Signal's Java and Rust libraries try each state on a copy; the
// functions here do the same with libsignal's exported building blocks
// and replace Cipher.Decrypt and Cipher.DecryptMessage.

// decryptWhisper decrypts a Whisper message in an existing session.
func decryptWhisper(ctx context.Context, tx *txn, cipher *session.Cipher, sa *protocol.SignalAddress, msg *protocol.SignalMessage) ([]byte, error) {
	if ok, _ := tx.ContainsSession(ctx, sa); !ok {
		return nil, fmt.Errorf("%w: no session", ErrNoSession)
	}
	rec, err := tx.LoadSession(ctx, sa)
	if err != nil {
		return nil, err
	}
	rec, plain, err := decryptWithRecord(ctx, cipher, rec, msg)
	if err != nil {
		return nil, err
	}
	remote := rec.SessionState().RemoteIdentityKey()
	if ok, err := tx.IsTrustedIdentity(ctx, sa, remote); err != nil || !ok {
		return nil, fmt.Errorf("%w (%v)", signalerror.ErrUntrustedIdentity, err)
	}
	if err := tx.SaveIdentity(ctx, sa, remote); err != nil {
		return nil, err
	}
	return plain, tx.StoreSession(ctx, sa, rec)
}

// decryptPreKey starts (or finds) the session a PreKey message belongs to
// and decrypts it, consuming the one-time prekey it names.
func decryptPreKey(ctx context.Context, tx *txn, builder *session.Builder, cipher *session.Cipher, sa *protocol.SignalAddress, msg *protocol.PreKeySignalMessage) ([]byte, error) {
	rec, err := tx.LoadSession(ctx, sa)
	if err != nil {
		return nil, err
	}
	oneTime, err := builder.Process(ctx, rec, msg) // checks the identity, may archive and add a state
	if err != nil {
		return nil, err
	}
	rec, plain, err := decryptWithRecord(ctx, cipher, rec, msg.WhisperMessage())
	if err != nil {
		return nil, err
	}
	if err := tx.StoreSession(ctx, sa, rec); err != nil {
		return nil, err
	}
	if !oneTime.IsEmpty {
		if err := tx.RemovePreKey(ctx, oneTime.Value); err != nil {
			return nil, err
		}
	}
	return plain, nil
}

// decryptWithRecord tries the current state in place (the common case,
// no copy), then every archived state on a copy of the record as it was
// before the first attempt. It returns the record to store.
func decryptWithRecord(ctx context.Context, cipher *session.Cipher, rec *record.Session, msg *protocol.SignalMessage) (*record.Session, []byte, error) {
	var saved *record.SessionStructure
	if len(rec.PreviousSessionStates()) > 0 {
		saved = rec.Structure()
	}
	plain, _, err := cipher.DecryptWithState(ctx, rec.SessionState(), msg)
	if err == nil || errors.Is(err, signalerror.ErrOldCounter) || saved == nil {
		return rec, plain, err
	}
	// base supplies the untouched states for the new record; trial the
	// states that are tried (and possibly mutated).
	base, err := record.NewSessionFromStructure(saved, ser.Session, ser.State)
	if err != nil {
		return nil, nil, err
	}
	trial, err := record.NewSessionFromStructure(saved, ser.Session, ser.State)
	if err != nil {
		return nil, nil, err
	}
	for i, st := range trial.PreviousSessionStates() {
		plain, _, err := cipher.DecryptWithState(ctx, st, msg)
		if errors.Is(err, signalerror.ErrOldCounter) {
			return nil, nil, err
		}
		if err != nil {
			continue
		}
		// New record: st current, then the old current state and the other
		// archived ones in their order (PromoteState prepends).
		older := append([]*record.State{base.SessionState()}, base.PreviousSessionStates()...)
		older = append(older[:i+1], older[i+2:]...) // drop archived state i (at i+1)
		out := record.NewSessionFromState(older[len(older)-1], ser.Session)
		for j := len(older) - 2; j >= 0; j-- {
			out.PromoteState(older[j])
		}
		out.PromoteState(st)
		return out, plain, nil
	}
	return nil, nil, signalerror.ErrNoValidSessions
}
