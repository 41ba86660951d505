package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

const customerUsage = `usage: parley admin customer COMMAND --phone E164 [flags]

Sandbox customers are test people whose devices the server runs: they use
the normal end-to-end encrypted path, and what they receive is kept,
decrypted, for these commands (only for them). A customer is created on
first use.

  send --phone E164 --to E164 --text TEXT     send a text; prints the message id
  send-file --phone E164 --to E164 --file PATH [--kind K] [--caption C] [--mime-type T]
        send a file as an encrypted attachment (kind: image, video, audio,
        document — the default —, sticker; the type is guessed from the
        file name unless given); prints the message id
  inbox --phone E164 [--json]                 what the customer received: with
        --json one object per line, shaped like a Cloud API inbound message
        (id — the wamid of a business message —, from, timestamp, type and the
        type's object); reactions are lines of their own
  read --phone E164 --message-id WAMID        send a read receipt
  reply-button --phone E164 --message-id WAMID --button-id ID
  reply-list --phone E164 --message-id WAMID --row-id ID
  react --phone E164 --message-id WAMID --emoji E   ("" removes the reaction)
  marketing --phone E164 --to E164 --value on|off
        flip the customer's marketing switch for the business --to (the
        client's consent payload: an opt-out or opt-in in its ledger)

Any account (not only sandbox customers), GDPR:
  export --phone E164   everything stored about the account, as JSON (Art. 15)
  erase --phone E164    withdraw its consents and erase its personal data in
                        businesses' ledgers and business records (Art. 17);
                        the ledgers keep digests and a keyed pseudonym
`

func (a *adminClient) customer(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(os.Stderr, customerUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("admin customer "+sub, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), customerUsage) }
	phone := fs.String("phone", "", "the sandbox customer's phone number (E.164)")
	to := fs.String("to", "", "send: the recipient (E.164)")
	text := fs.String("text", "", "send: the text")
	asJSON := fs.Bool("json", false, "inbox: one JSON object per line")
	mid := fs.String("message-id", "", "the received message (a wamid for business messages)")
	button := fs.String("button-id", "", "reply-button: the button's id")
	row := fs.String("row-id", "", "reply-list: the row's id")
	emoji := fs.String("emoji", "", "react: the emoji")
	value := fs.String("value", "", "marketing: on or off")
	file := fs.String("file", "", "send-file: the file")
	kind := fs.String("kind", "document", "send-file: image, video, audio, document or sticker")
	caption := fs.String("caption", "", "send-file: the caption")
	mimeType := fs.String("mime-type", "", "send-file: the file's MIME type (default: from the file name)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *phone == "" {
		fmt.Fprintln(os.Stderr, "parley admin customer: --phone is required")
		return errUsage
	}
	base := "/admin/v1/customers/" + url.PathEscape(strings.TrimPrefix(*phone, "+"))
	post := func(path string, in any) error {
		b, _ := json.Marshal(in)
		var out struct {
			MessageID string `json:"message_id"`
		}
		if err := a.do(ctx, "POST", base+path, bytes.NewReader(b), &out); err != nil {
			return err
		}
		if out.MessageID != "" {
			fmt.Println(out.MessageID)
		}
		return nil
	}
	need := func(name, v string) error {
		if v == "" {
			fmt.Fprintf(os.Stderr, "parley admin customer %s: --%s is required\n", sub, name)
			return errUsage
		}
		return nil
	}
	switch sub {
	case "send":
		if err := need("to", *to); err != nil {
			return err
		}
		if err := need("text", *text); err != nil {
			return err
		}
		return post("/messages", map[string]string{"to": *to, "text": *text})
	case "send-file":
		if err := need("to", *to); err != nil {
			return err
		}
		if err := need("file", *file); err != nil {
			return err
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		mt := *mimeType
		if mt == "" {
			mt = mime.TypeByExtension(filepath.Ext(*file))
		}
		if mt == "" {
			mt = "application/octet-stream"
		}
		q := url.Values{"to": {*to}, "kind": {*kind}, "filename": {filepath.Base(*file)}, "caption": {*caption}}
		var out struct {
			MessageID string `json:"message_id"`
		}
		if err := a.do(ctx, "POST", base+"/files?"+q.Encode(), typedBody{bytes.NewReader(data), mt}, &out); err != nil {
			return err
		}
		fmt.Println(out.MessageID)
		return nil
	case "inbox":
		var out struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := a.do(ctx, "GET", base+"/inbox", nil, &out); err != nil {
			return err
		}
		for _, m := range out.Messages {
			if *asJSON {
				fmt.Println(string(m))
				continue
			}
			var l struct {
				ID, From, Type string
				Text           struct{ Body string }
			}
			json.Unmarshal(m, &l)
			body := l.Text.Body
			if l.Type != "text" {
				body = "(" + l.Type + ")"
			}
			fmt.Printf("+%s: %s  [%s]\n", l.From, body, l.ID)
		}
		return nil
	case "marketing":
		if err := need("to", *to); err != nil {
			return err
		}
		if *value != "on" && *value != "off" {
			fmt.Fprintln(os.Stderr, "parley admin customer marketing: --value must be on or off")
			return errUsage
		}
		return post("/marketing", map[string]any{"to": *to, "marketing": *value == "on"})
	case "export", "erase":
		return a.customerData(ctx, sub, *phone)
	case "read", "react", "reply-button", "reply-list":
		if err := need("message-id", *mid); err != nil {
			return err
		}
		return post("/"+sub, map[string]string{"message_id": *mid, "emoji": *emoji, "button_id": *button, "row_id": *row})
	}
	fmt.Fprintf(os.Stderr, "parley admin customer: unknown command %q\n\n%s", sub, customerUsage)
	return errUsage
}
