//go:build js

package main

import (
	"github.com/parley-chat/parley/sdk"
)

// eventObject turns an SDK event into the plain object the UI gets, or
// nil for events the UI has no use for.
func eventObject(ev sdk.Event) map[string]any {
	switch e := ev.(type) {
	case *sdk.Message:
		o := map[string]any{"type": "message", "id": e.ID, "clientId": e.ClientID, "from": e.From,
			"fromDevice": e.FromDevice, "to": e.To, "group": e.Group, "ts": e.Timestamp.UnixMilli(),
			"payload": string(e.Raw), "expiresIn": e.ExpiresIn.Seconds()}
		if e.Err != nil {
			o["payload"] = ""
			o["error"] = e.Err.Error()
		}
		return o
	case *sdk.Receipt:
		return map[string]any{"type": "receipt", "kind": e.Kind, "messageId": e.MessageID, "from": e.From,
			"fromDevice": e.FromDevice, "to": e.To, "group": e.Group, "ts": e.Timestamp.UnixMilli()}
	case *sdk.Typing:
		return map[string]any{"type": "typing", "from": e.From, "state": e.State}
	case *sdk.Presence:
		o := map[string]any{"type": "presence", "account": e.Account, "online": e.Online, "hidden": e.Hidden, "lastSeen": 0}
		if !e.LastSeen.IsZero() {
			o["lastSeen"] = e.LastSeen.UnixMilli()
		}
		return o
	case *sdk.GroupChanged:
		o := map[string]any{"type": "group", "id": e.MessageID, "from": e.From, "ts": e.Timestamp.UnixMilli(),
			"group": e.Event.Group, "action": e.Event.Action, "actor": e.Event.Actor, "accounts": e.Event.Accounts,
			"name": e.Event.Name}
		if e.Err != nil {
			o["error"] = e.Err.Error()
		}
		return o
	case *sdk.IdentityNotice:
		return map[string]any{"type": "identity", "kind": e.Kind, "account": e.Peer.Account, "device": e.Peer.Device,
			"safetyNumber": e.SafetyNumber.String()}
	case *sdk.Undecryptable:
		return map[string]any{"type": "undecryptable", "id": e.MessageID, "from": e.From, "ts": e.Timestamp.UnixMilli()}
	case *sdk.DevicesChanged:
		return map[string]any{"type": "devices", "account": e.Account}
	}
	return nil
}
