//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// session is one running device: a Messenger with a SignalCipher whose
// state lives in IndexedDB, and the loop that hands its events to the UI.
type session struct {
	m      *sdk.Messenger
	cipher *sdk.SignalCipher
	client *sdk.Client
	ctx    context.Context
	cancel context.CancelFunc
	emit   js.Value
}

func startSession(creds sdk.Credentials, store kv, onEvent js.Value) (*session, error) {
	client := sdk.NewClient(creds)
	cipher, err := sdk.OpenSignalCipher(client, signalState{store}, slog.Default())
	if err != nil {
		return nil, err
	}
	m := sdk.NewMessenger(creds, sdk.Options{Cipher: cipher, Seen: seenStore{store}, Sent: sentStore{store},
		MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{m: m, cipher: cipher, client: m.Client(), ctx: ctx, cancel: cancel, emit: onEvent}
	go func() {
		err := m.Run(ctx)
		if err != nil && ctx.Err() == nil {
			s.send(map[string]any{"type": "stopped", "code": errorCode(err), "message": err.Error()})
		}
	}()
	go s.events()
	go s.watchConnection()
	return s, nil
}

// send hands one event to the UI and waits until its handler (which
// stores the event) has finished.
func (s *session) send(ev map[string]any) error {
	_, err := await(s.emit.Invoke(toJS(ev)))
	return err
}

// events delivers the Messenger's events; messages and receipts are
// acknowledged only after the UI stored them, so a reload in between
// loses nothing (the server sends them again).
func (s *session) events() {
	for ev := range s.m.Events() {
		obj := eventObject(ev)
		if obj == nil {
			_ = ev.Ack()
			continue
		}
		if err := s.send(obj); err != nil {
			slog.Warn("parley: the UI did not store an event; it comes again on the next connection", "err", err)
			continue
		}
		if err := ev.Ack(); err != nil {
			slog.Warn("parley: ack failed", "err", err)
		}
	}
}

// watchConnection tells the UI when the connection comes and goes. It
// waits on the Messenger while disconnected, so "online" is reported as
// soon as a connection is up; a lost connection is noticed within 500 ms.
func (s *session) watchConnection() {
	last := ""
	for s.ctx.Err() == nil {
		wait, cancel := context.WithTimeout(s.ctx, 500*time.Millisecond)
		err := s.m.WaitConnected(wait)
		cancel()
		state, msg := "online", ""
		if err != nil {
			state = "connecting"
			if e := s.m.LastError(); e != nil {
				state, msg = "offline", e.Error()
			}
		}
		if s.ctx.Err() != nil {
			return
		}
		if state != last {
			if state == "offline" && s.credentialsGone() {
				return
			}
			last = state
			s.send(map[string]any{"type": "connection", "state": state, "message": msg})
		}
		if err == nil {
			select {
			case <-s.ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// credentialsGone checks, when the connection is lost, whether the
// device's credentials still work, and stops the session if not. In
// browsers the WebSocket library does not pass the server's close code
// on (reads end with "use of closed network connection"), so the SDK
// cannot tell a revoked or expired device (4002, 4003) from a lost
// network and would reconnect forever; the HTTP API answers 401 with the
// reason instead.
func (s *session) credentialsGone() bool {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	_, err := s.client.Me(ctx)
	if sdk.ErrorCode(err) != sdk.CodeUnauthorized {
		return false
	}
	code := sdk.CloseUnauthorized
	var e *sdk.Error
	if errors.As(err, &e) {
		switch {
		case strings.Contains(e.Message, "unlinked"):
			code = sdk.CloseRevoked
		case strings.Contains(e.Message, "expired"):
			code = sdk.CloseExpired
		}
	}
	s.cancel()
	s.send(map[string]any{"type": "stopped", "code": "closed:" + strconv.Itoa(code), "message": err.Error()})
	return true
}

// outgoing is a send request from the UI: a payload (JSON, built by the
// UI after sdk's payload types) to an account or a group.
type outgoing struct {
	To       string          `json:"to"`
	Group    string          `json:"group"`
	Payload  json.RawMessage `json:"payload"`
	Media    []string        `json:"media"`
	ClientID string          `json:"clientId"`
	// ExpiresIn (seconds, 0: never) makes the message disappear: the
	// chat's disappearing-message timer.
	ExpiresIn int64 `json:"expiresIn"`
}

type sent struct {
	ID        string `json:"id"`
	ClientID  string `json:"clientId"`
	Timestamp int64  `json:"ts"`
}

func (s *session) object() js.Value {
	o := jsObject.New()
	o.Set("account", s.m.Credentials().Account)
	o.Set("device", s.m.Credentials().Device)
	method(o, "send", func(a []js.Value) any {
		var out outgoing
		err := fromJS(arg(a, 0), &out)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			var r *sdk.SendResult
			if out.Group != "" {
				r, err = s.m.SendGroupMessage(s.ctx, sdk.GroupMessage{Group: out.Group, Plaintext: out.Payload, ClientID: out.ClientID, Media: out.Media,
					ExpiresIn: time.Duration(out.ExpiresIn) * time.Second})
			} else {
				r, err = s.m.Send(s.ctx, sdk.Outgoing{To: out.To, Plaintext: out.Payload, ClientID: out.ClientID, Media: out.Media,
					ExpiresIn: time.Duration(out.ExpiresIn) * time.Second})
			}
			if err != nil {
				return nil, err
			}
			return sent{ID: r.MessageID, ClientID: r.ClientID, Timestamp: r.Timestamp.UnixMilli()}, nil
		})
	})
	// upload(kind, bytes, mime, name) → attachment (sdk.Attachment JSON)
	method(o, "upload", func(a []js.Value) any {
		kind, data, mime, name := str(a, 0), bytesFromJS(arg(a, 1)), str(a, 2), str(a, 3)
		return async(func() (any, error) { return s.client.UploadAttachment(s.ctx, kind, data, mime, name) })
	})
	method(o, "download", func(a []js.Value) any {
		var att sdk.Attachment
		err := fromJS(arg(a, 0), &att)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			return s.client.DownloadAttachment(s.ctx, &att)
		})
	})
	method(o, "markRead", func(a []js.Value) any {
		from := str(a, 0)
		var ids []string
		err := fromJS(arg(a, 1), &ids)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			return nil, s.m.MarkRead(s.ctx, from, ids...)
		})
	})
	method(o, "typing", func(a []js.Value) any {
		to, composing := str(a, 0), arg(a, 1).Truthy()
		return async(func() (any, error) { return nil, s.m.Typing(s.ctx, to, composing) })
	})
	method(o, "watchPresence", func(a []js.Value) any {
		var accts []string
		err := fromJS(arg(a, 0), &accts)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			return nil, s.m.WatchPresence(s.ctx, accts...)
		})
	})
	method(o, "createGroup", func(a []js.Value) any {
		name := str(a, 0)
		var members []string
		err := fromJS(arg(a, 1), &members)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			return s.client.CreateGroup(s.ctx, name, members...)
		})
	})
	method(o, "groups", func([]js.Value) any {
		return async(func() (any, error) { return s.client.Groups(s.ctx) })
	})
	method(o, "group", func(a []js.Value) any {
		id := str(a, 0)
		return async(func() (any, error) { return s.client.Group(s.ctx, id) })
	})
	method(o, "addMembers", func(a []js.Value) any {
		id := str(a, 0)
		var members []string
		err := fromJS(arg(a, 1), &members)
		return async(func() (any, error) {
			if err != nil {
				return nil, err
			}
			return s.client.AddGroupMembers(s.ctx, id, members...)
		})
	})
	method(o, "removeMember", func(a []js.Value) any {
		id, acct := str(a, 0), str(a, 1)
		return async(func() (any, error) { return nil, s.client.RemoveGroupMember(s.ctx, id, acct) })
	})
	method(o, "setAdmin", func(a []js.Value) any {
		id, acct, admin := str(a, 0), str(a, 1), arg(a, 2).Truthy()
		return async(func() (any, error) { return s.client.SetGroupAdmin(s.ctx, id, acct, admin) })
	})
	method(o, "leaveGroup", func(a []js.Value) any {
		id := str(a, 0)
		return async(func() (any, error) { return nil, s.client.LeaveGroup(s.ctx, id) })
	})
	method(o, "safetyNumber", func(a []js.Value) any {
		acct := str(a, 0)
		return async(func() (any, error) {
			id, err := sdk.AccountID(acct)
			if err != nil {
				return nil, err
			}
			n, err := s.cipher.SafetyNumber(id)
			if err != nil {
				return nil, err
			}
			return map[string]any{"digits": n.Digits, "text": n.String()}, nil
		})
	})
	method(o, "approveLink", func(a []js.Value) any {
		code := str(a, 0)
		return async(func() (any, error) { return s.client.LinkApprove(s.ctx, code, "", "") })
	})
	method(o, "devices", func([]js.Value) any {
		return async(func() (any, error) { return s.client.Devices(s.ctx) })
	})
	method(o, "stop", func([]js.Value) any {
		return async(func() (any, error) {
			flush, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = s.m.Flush(flush)
			s.cancel()
			return nil, nil
		})
	})
	return o
}
