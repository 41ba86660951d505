package hosted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/sdk"
)

// Sandbox runs sandbox customers: test people whose devices the server
// runs (kind parley.HostedCustomer), for demos and conformance tests of
// the business platform (`parley admin customer …`). They use the normal
// encrypted path; what they receive is decrypted and kept as Cloud API
// shaped lines (parley.SandboxStore) — these are the operator's own test
// identities, the only devices whose plaintext the server keeps.
type Sandbox struct {
	Runner      *Runner
	Provisioner *Provisioner
	Store       parley.SandboxStore
}

// Serve implements Handler for sandbox customers: every message becomes a
// line of the customer's inbox, then is acknowledged.
func (s *Sandbox) Serve(ctx context.Context, d *parley.HostedDevice, m *sdk.Messenger) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-m.Events():
			if !ok {
				return nil
			}
			if msg, ok := ev.(*sdk.Message); ok {
				l := sandboxLine(d.Account, msg)
				if l != nil {
					if err := openMedia(ctx, m, msg, l); err != nil {
						return err // not acknowledged: it comes again
					}
				}
				if l != nil {
					if err := s.Store.AppendSandbox(ctx, l); err != nil {
						return err // not acknowledged: it comes again
					}
				}
			}
			if err := ev.Ack(); err != nil {
				return err
			}
		}
	}
}

// sandboxLine shapes a received message like a Cloud API inbound message
// (cloud-api reference §3.4): id, from, timestamp (Unix seconds, a
// string), type and the type's object.
func sandboxLine(account string, msg *sdk.Message) *parley.SandboxLine {
	if msg.From == account {
		return nil // a copy of what another device of this customer sent
	}
	line := map[string]any{"from": msg.From, "timestamp": strconv.FormatInt(msg.Timestamp.Unix(), 10)}
	ref := msg.ID
	switch {
	case msg.Err != nil:
		line["type"], line["errors"] = "unsupported", []map[string]any{{"code": 131051, "title": "cannot be decrypted"}}
	case msg.Type == sdk.PayloadBusiness:
		p, err := sdk.DecodeBusiness(msg.Raw)
		if err != nil {
			line["type"] = "unsupported"
			break
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(p.Message, &obj) != nil {
			line["type"] = "unsupported"
			break
		}
		ref = p.WAMID
		var t string
		json.Unmarshal(obj["type"], &t)
		line["type"] = t
		if t != "" && obj[t] != nil {
			line[t] = obj[t]
		}
		if obj["context"] != nil {
			line["context"] = obj["context"]
		}
	case msg.Type == "text":
		line["type"], line["text"] = "text", map[string]string{"body": msg.Text}
	case msg.Type == sdk.PayloadReaction:
		var p sdk.ReactionPayload
		json.Unmarshal(msg.Raw, &p)
		line["type"], line["reaction"] = "reaction", p.Reaction
	case msg.Type == sdk.PayloadInteractiveReply:
		var p sdk.ReplyPayload
		json.Unmarshal(msg.Raw, &p)
		in := map[string]any{}
		if p.ButtonReply != nil {
			in["type"], in["button_reply"] = "button_reply", p.ButtonReply
		} else if p.ListReply != nil {
			in["type"], in["list_reply"] = "list_reply", p.ListReply
		}
		line["type"], line["interactive"] = "interactive", in
		if p.Context != nil {
			line["context"] = map[string]string{"id": p.Context.MessageID}
		}
	default:
		line["type"] = msg.Type
	}
	line["id"] = ref
	b, _ := json.Marshal(line)
	return &parley.SandboxLine{Account: account, Ref: ref, MessageID: msg.ID, From: msg.From, Line: b, CreatedAt: msg.Timestamp}
}

// messenger provisions the sandbox customer of phone on first use and
// returns its Messenger once connected (it must run on this node).
func (s *Sandbox) messenger(ctx context.Context, phone string) (*sdk.Messenger, string, error) {
	acct, err := parley.ParsePhone(phone)
	if err != nil {
		return nil, "", err
	}
	if s.Runner.runsNone() {
		return nil, "", parley.Errorf(parley.EUNAVAILABLE, "this node runs no hosted devices; ask a node that does for the sandbox customer %s", phone)
	}
	h, err := s.Provisioner.Provision(ctx, acct, parley.HostedCustomer, "sandbox customer")
	if err != nil {
		return nil, "", err
	}
	if h.Kind != parley.HostedCustomer {
		return nil, "", parley.Errorf(parley.ECONFLICT, "%s is a business number, not a sandbox customer", phone)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m, ok := s.Runner.Messenger(acct); ok {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := m.WaitConnected(wctx); err != nil {
				return nil, "", fmt.Errorf("sandbox customer %s: %w", phone, err)
			}
			return m, acct, nil
		}
		if time.Now().After(deadline) {
			return nil, "", parley.Errorf(parley.EUNAVAILABLE, "the sandbox customer %s runs on another node; ask that node", phone)
		}
		s.Runner.Kick(ctx)
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Send sends a text from the sandbox customer phone (created on first
// use) to an account, and returns the message id.
func (s *Sandbox) Send(ctx context.Context, phone, to, text string) (string, error) {
	m, _, err := s.messenger(ctx, phone)
	if err != nil {
		return "", err
	}
	toAcct, err := parley.ParsePhone(to)
	if err != nil {
		return "", err
	}
	id, err := m.SendText(ctx, toAcct, text)
	return id, noAccount(to, err)
}

// noAccount turns the SDK's "no such account" and "no device with keys"
// into an error the operator API shows as what it is, not as an internal
// error.
func noAccount(to string, err error) error {
	var se *sdk.Error
	if errors.As(err, &se) && se.Code == sdk.CodeNotFound || errors.Is(err, sdk.ErrNoKeys) {
		return parley.Errorf(parley.ENOTFOUND, "%s has no Parley account with a device that can receive messages", to)
	}
	return err
}

// Inbox returns the customer's received lines after seq (creating the
// customer on first use, so that others can write to it).
func (s *Sandbox) Inbox(ctx context.Context, phone string, after int64) ([]parley.SandboxLine, error) {
	_, acct, err := s.messenger(ctx, phone)
	if err != nil {
		return nil, err
	}
	return s.Store.SandboxLines(ctx, acct, after, 1000)
}

// line returns the customer's Messenger and the received line ref.
func (s *Sandbox) line(ctx context.Context, phone, ref string) (*sdk.Messenger, *parley.SandboxLine, error) {
	m, acct, err := s.messenger(ctx, phone)
	if err != nil {
		return nil, nil, err
	}
	l, err := s.Store.SandboxLine(ctx, acct, ref)
	if err != nil {
		return nil, nil, err
	}
	return m, l, nil
}

// Read sends a read receipt for the received message ref (a wamid).
func (s *Sandbox) Read(ctx context.Context, phone, ref string) error {
	m, l, err := s.line(ctx, phone, ref)
	if err != nil {
		return err
	}
	return m.MarkRead(ctx, l.From, l.MessageID)
}

// React reacts to the received message ref with emoji.
func (s *Sandbox) React(ctx context.Context, phone, ref, emoji string) (string, error) {
	m, l, err := s.line(ctx, phone, ref)
	if err != nil {
		return "", err
	}
	r, err := m.Send(ctx, sdk.Outgoing{To: l.From, Plaintext: sdk.ReactionPayloadFor(ref, emoji)})
	if err != nil {
		return "", err
	}
	return r.MessageID, nil
}

// interactive decodes the interactive object of a received line.
type interactive struct {
	Interactive struct {
		Action struct {
			Buttons []struct {
				Reply sdk.ButtonReply `json:"reply"`
			} `json:"buttons"`
			Sections []struct {
				Rows []sdk.ListReply `json:"rows"`
			} `json:"sections"`
		} `json:"action"`
	} `json:"interactive"`
}

// ReplyButton taps reply button id of the received interactive message ref.
func (s *Sandbox) ReplyButton(ctx context.Context, phone, ref, id string) (string, error) {
	m, l, err := s.line(ctx, phone, ref)
	if err != nil {
		return "", err
	}
	var in interactive
	json.Unmarshal(l.Line, &in)
	for _, b := range in.Interactive.Action.Buttons {
		if b.Reply.ID == id {
			r, err := m.Send(ctx, sdk.Outgoing{To: l.From, Plaintext: sdk.ButtonReplyPayload(ref, id, b.Reply.Title)})
			if err != nil {
				return "", err
			}
			return r.MessageID, nil
		}
	}
	return "", parley.Errorf(parley.ENOTFOUND, "message %s has no reply button %q", ref, id)
}

// ReplyList picks row id of the received list message ref.
func (s *Sandbox) ReplyList(ctx context.Context, phone, ref, id string) (string, error) {
	m, l, err := s.line(ctx, phone, ref)
	if err != nil {
		return "", err
	}
	var in interactive
	json.Unmarshal(l.Line, &in)
	for _, sec := range in.Interactive.Action.Sections {
		for _, row := range sec.Rows {
			if row.ID == id {
				r, err := m.Send(ctx, sdk.Outgoing{To: l.From, Plaintext: sdk.ListReplyPayload(ref, id, row.Title, row.Description)})
				if err != nil {
					return "", err
				}
				return r.MessageID, nil
			}
		}
	}
	return "", parley.Errorf(parley.ENOTFOUND, "message %s has no list row %q", ref, id)
}

// openMedia downloads and decrypts the attachment of a business message
// (BusinessPayload.Media) or of a media payload and adds "media" to the
// line: the blob id, the type, name and size of the plaintext and its
// SHA-256 (hex), so that a test or an operator sees that the key works.
// A blob that cannot be opened is noted in the line ("error").
func openMedia(ctx context.Context, m *sdk.Messenger, msg *sdk.Message, l *parley.SandboxLine) error {
	a := msg.Attachment
	if msg.Type == sdk.PayloadBusiness {
		if p, err := sdk.DecodeBusiness(msg.Raw); err == nil {
			a = p.Media
		}
	}
	if a == nil || msg.Err != nil {
		return nil
	}
	media := map[string]any{"id": a.ID, "mime_type": a.MIME, "filename": a.Name, "size": a.Size}
	data, err := m.Client().DownloadAttachment(ctx, a)
	var se *sdk.Error
	switch {
	case err == nil:
		sum := sha256.Sum256(data)
		media["sha256"] = hex.EncodeToString(sum[:])
	case errors.As(err, &se) && se.Code == sdk.CodeNotFound, errors.Is(err, crypto.ErrAuthFailed):
		media["error"] = err.Error()
	default:
		return err
	}
	var line map[string]any
	if json.Unmarshal(l.Line, &line) != nil {
		return nil
	}
	line["media"] = media
	if msg.Caption != "" {
		line["caption"] = msg.Caption
	}
	l.Line, _ = json.Marshal(line)
	return nil
}

// SendFile sends a file from the sandbox customer phone to an account as
// an encrypted attachment of kind (image, video, audio, document,
// sticker) and returns the message id.
func (s *Sandbox) SendFile(ctx context.Context, phone, to, kind, mimeType, name, caption string, data []byte) (string, error) {
	if _, err := parley.ParseMediaKind(kind); err != nil {
		return "", err
	}
	if len(data) == 0 {
		return "", parley.Errorf(parley.EINVALID, "the file is empty")
	}
	m, _, err := s.messenger(ctx, phone)
	if err != nil {
		return "", err
	}
	toAcct, err := parley.ParsePhone(to)
	if err != nil {
		return "", err
	}
	r, err := m.SendAttachment(ctx, toAcct, kind, data, mimeType, name, caption, 0)
	if err != nil {
		return "", noAccount(to, err)
	}
	return r.MessageID, nil
}
