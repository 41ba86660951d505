package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/sdk/profile"
)

const chatUsage = `usage: parley chat [--profile DIR] COMMAND [flags]

The terminal client, end-to-end encrypted with the Signal protocol. A profile
directory holds one device: its credentials, its private keys and sessions,
and its record of received messages (default: <user config dir>/parley/default,
or env PARLEY_PROFILE); every file is readable by its owner only. One
command at a time may use a profile (its keys change with every message).

commands:
  register   make this profile a new device of a phone number (SMS code)
  send       send a text message; prints its message id
  listen     print received messages and receipts
  read       send a read receipt for a received message
  devices    list the account's devices
  link       approve a new device (link CODE) or become one (link --new)
  unlink     unlink a device
  safety-number  show (or verify) the safety number with a contact
  timer      set a chat's disappearing-message timer
  group      create groups, send to them, manage members
  marketing  turn marketing messages from a business on or off

Run 'parley chat COMMAND -h' for a command's flags.
`

// The client's terminal; tests swap them.
var (
	chatStdin  io.Reader = os.Stdin
	chatStdout io.Writer = os.Stdout
	chatStderr io.Writer = os.Stderr
)

// terminal is where one chat command reads and writes, taken from the
// variables above when it starts.
type terminal struct {
	in       io.Reader
	out, err io.Writer
}

// opTimeout bounds commands that make one request or one send.
const chatOpTimeout = 30 * time.Second

func chat(ctx context.Context, args []string) error {
	return chatOn(ctx, &terminal{in: chatStdin, out: chatStdout, err: chatStderr}, args)
}

func chatOn(ctx context.Context, tm *terminal, args []string) error {
	fs := tm.flags("chat", chatUsage)
	defDir := os.Getenv("PARLEY_PROFILE")
	if defDir == "" {
		defDir, _ = profile.DefaultDir()
	}
	dir := fs.String("profile", defDir, "profile directory (env PARLEY_PROFILE)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if *dir == "" {
		return errors.New("no profile directory: pass --profile or set PARLEY_PROFILE")
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	cmds := map[string]func(context.Context, string, []string) error{
		"register": tm.register,
		"send":     tm.send,
		"listen":   tm.listen,
		"read":     tm.read,
		"devices":  tm.devices,
		"link":     tm.link,
		"unlink":   tm.unlink,

		"safety-number": tm.safetyNumber,
		"timer":         tm.timer,
		"group":         tm.group,
		"marketing":     tm.marketing,
	}
	run, ok := cmds[cmd]
	if !ok {
		fmt.Fprintf(tm.err, "parley chat: unknown command %q\n\n", cmd)
		fs.Usage()
		return errUsage
	}
	err := run(ctx, *dir, rest)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func (tm *terminal) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(tm.err)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// flagErr turns a flag parsing failure (already reported by the flag
// package) into the error to return: none for -h.
func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errUsage
}

// parseFlags parses flags placed before, between and after positional
// arguments ("link CODE --name web") and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagErr(err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), nil // everything after -- is positional
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// noArgs rejects positional arguments of commands that take none.
func noArgs(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return nil
}

func openProfile(dir string) (*profile.Profile, *sdk.Credentials, error) {
	p, err := profile.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	c, err := p.Credentials()
	if err != nil {
		p.Close()
		if errors.Is(err, profile.ErrNoCredentials) {
			return nil, nil, fmt.Errorf("profile %s has no device yet: run 'parley chat register' or 'parley chat link --new' first", dir)
		}
		return nil, nil, err
	}
	return p, c, nil
}

func (tm *terminal) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(tm.err, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// cipher opens the profile's Signal state (creating keys on first use).
func (tm *terminal) cipher(p *profile.Profile, creds *sdk.Credentials) (*sdk.SignalCipher, error) {
	return sdk.OpenSignalCipher(sdk.NewClient(*creds), p, tm.logger())
}

// publishKeys creates the new device's keys and publishes them, so that
// others can encrypt to it at once.
func (tm *terminal) publishKeys(ctx context.Context, p *profile.Profile, creds *sdk.Credentials) error {
	c, err := tm.cipher(p, creds)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, chatOpTimeout)
	defer cancel()
	if err := c.MaintainKeys(kctx); err != nil {
		return fmt.Errorf("publish keys (they are published on the next connection): %w", err)
	}
	return nil
}

// sendOnce connects send-only, runs op with a timeout, and disconnects;
// op's error comes back prefixed with what and explained (connErr).
func (tm *terminal) sendOnce(ctx context.Context, p *profile.Profile, creds *sdk.Credentials, what string, timeout time.Duration,
	op func(ctx context.Context, m *sdk.Messenger) error) error {
	m, stop, err := tm.connect(ctx, p, creds, sdk.Options{SendOnly: true})
	if err != nil {
		return err
	}
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = op(octx, m)
	stop()
	if err != nil {
		return fmt.Errorf("%s: %w", what, connErr(m, err))
	}
	return nil
}

// connect runs an end-to-end encrypting Messenger on the profile until
// the returned stop is called; stop flushes pending acks and closes the
// connection cleanly.
func (tm *terminal) connect(ctx context.Context, p *profile.Profile, creds *sdk.Credentials, opt sdk.Options) (m *sdk.Messenger, stop func() error, err error) {
	c, err := tm.cipher(p, creds)
	if err != nil {
		return nil, nil, err
	}
	opt.Cipher, opt.Sent = c, p
	opt.Logger = tm.logger()
	m = sdk.NewMessenger(*creds, opt)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	return m, func() error {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		m.Flush(fctx)
		fcancel()
		cancel()
		return <-done
	}, nil
}

// connErr explains a failed request: a context that ran out while the
// Messenger could not connect is reported with the connection's error.
func connErr(m *sdk.Messenger, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		if last := m.LastError(); last != nil {
			return fmt.Errorf("cannot reach the server: %w", last)
		}
		return errors.New("no answer from the server in time")
	}
	return explain(err)
}

// explain rewords the errors a user can act on.
func explain(err error) error {
	var ce *sdk.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case sdk.CloseUnauthorized, sdk.CloseExpired:
			return fmt.Errorf("the server no longer accepts this profile's credentials (%d): register again", ce.Code)
		case sdk.CloseRevoked:
			return fmt.Errorf("this device was unlinked (%d): register or link again", ce.Code)
		case sdk.CloseReplaced:
			return fmt.Errorf("this device connected again elsewhere (%d): another command is using the same profile", ce.Code)
		}
	}
	return err
}

// --- register ---

const registerUsage = `usage: parley chat register --server URL --phone E164 [--code CODE] [--name NAME]
       parley chat register --server URL --phone E164 --request-only

Makes this profile a new device of the phone number's account (created on
first registration) and prints "registered +<digits> device <n>".

Without --code it asks the server to send a code by SMS and then reads the
code from the terminal (one line on standard input). With --code it only
verifies a code requested before. --request-only only requests the code, for
scripts: request, read the code (a development server's operator reads it
with 'parley admin otp --phone E164'), then register again with --code.
`

func (tm *terminal) register(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat register", registerUsage)
	server := fs.String("server", os.Getenv("PARLEY_SERVER"), "the server's base URL, e.g. https://chat.example.org (env PARLEY_SERVER)")
	phone := fs.String("phone", "", "phone number in E.164 (+4915…)")
	code := fs.String("code", "", "the code received by SMS")
	name := fs.String("name", defaultDeviceName(), "this device's name")
	requestOnly := fs.Bool("request-only", false, "only request a code")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *server == "" || *phone == "" {
		return errors.New("register: --server and --phone are required")
	}
	if *requestOnly && *code != "" {
		return errors.New("register: --request-only and --code exclude each other")
	}
	acct, err := sdk.AccountID(*phone)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // the code's lifetime
	defer cancel()
	if *code == "" {
		rctx, rcancel := context.WithTimeout(ctx, chatOpTimeout)
		sent, err := sdk.RequestCode(rctx, *server, "+"+acct)
		rcancel()
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		if *requestOnly {
			fmt.Fprintf(tm.out, "code sent to +%s (valid for %s)\n", acct, sent.ExpiresIn)
			return nil
		}
		fmt.Fprintf(tm.err, "A code was sent to +%s.", acct)
		if sent.Development {
			fmt.Fprintf(tm.err, " (Development server: 'parley admin otp --phone +%s' prints it.)", acct)
		}
		fmt.Fprint(tm.err, "\nCode: ")
		line, err := bufio.NewReader(tm.in).ReadString('\n')
		if strings.TrimSpace(line) == "" {
			if err == nil {
				err = errors.New("empty line")
			}
			return fmt.Errorf("register: no code entered: %w", err)
		}
		*code = strings.TrimSpace(line)
	}
	p, err := profile.Open(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	vctx, vcancel := context.WithTimeout(ctx, chatOpTimeout)
	defer vcancel()
	creds, err := sdk.Verify(vctx, *server, "+"+acct, *code, *name, "cli")
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := tm.saveCredentials(p, creds); err != nil {
		return err
	}
	fmt.Fprintf(tm.out, "registered +%s device %d\n", creds.Account, creds.Device)
	return tm.publishKeys(ctx, p, creds)
}

// saveCredentials stores creds, saying so when they replace another
// device; the other device's keys are deleted (a device has its own).
func (tm *terminal) saveCredentials(p *profile.Profile, creds *sdk.Credentials) error {
	if old, err := p.Credentials(); err == nil && (old.Account != creds.Account || old.Device != creds.Device) {
		fmt.Fprintf(tm.err, "note: this profile was device %d of +%s; it is now device %d of +%s (the old device stays linked until unlinked)\n",
			old.Device, old.Account, creds.Device, creds.Account)
	}
	if err := p.ForgetDevice(); err != nil {
		return err
	}
	return p.SaveCredentials(creds)
}

func defaultDeviceName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return strings.SplitN(h, ".", 2)[0]
	}
	return "cli"
}

// --- send ---

const sendUsage = `usage: parley chat send (--to E164 | --group ID) (--text TEXT | --file PATH [--kind KIND] [--caption TEXT])

Sends a message, end-to-end encrypted, and prints its message id (one line)
once the server has stored it. --file sends a file as an attachment: it is
encrypted with a key of its own and uploaded; --kind is image, video, audio,
document or sticker (default: from the file name's extension, else
document). When the chat has a disappearing-message timer (see timer), the
message disappears that long after it was sent.
`

func (tm *terminal) send(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat send", sendUsage)
	to := fs.String("to", "", "recipient phone number (E.164)")
	group := fs.String("group", "", "or a group id")
	text := fs.String("text", "", "the message")
	file := fs.String("file", "", "send this file as an attachment")
	kind := fs.String("kind", "", "the attachment's kind: image, video, audio, document, sticker")
	caption := fs.String("caption", "", "the attachment's caption")
	timeout := fs.Duration("timeout", chatOpTimeout, "give up after this long")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if (*to == "") == (*group == "") || (*text == "") == (*file == "") {
		return errors.New("send: give --to or --group, and --text or --file")
	}
	chat := *group
	if *to != "" {
		if chat, err = sdk.AccountID(*to); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	var data []byte
	if *file != "" {
		if data, err = os.ReadFile(*file); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if *kind == "" {
			*kind = kindOf(*file)
		}
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	expires, err := p.Timer(chat)
	if err != nil {
		return err
	}
	var r *sdk.SendResult
	err = tm.sendOnce(ctx, p, creds, "send", *timeout, func(sctx context.Context, m *sdk.Messenger) (err error) {
		switch {
		case *file != "" && *group != "":
			r, err = m.SendGroupAttachment(sctx, chat, *kind, data, mime.TypeByExtension(filepath.Ext(*file)), filepath.Base(*file), *caption, expires)
		case *file != "":
			r, err = m.SendAttachment(sctx, chat, *kind, data, mime.TypeByExtension(filepath.Ext(*file)), filepath.Base(*file), *caption, expires)
		case *group != "":
			r, err = m.SendGroupMessage(sctx, sdk.GroupMessage{Group: chat, Plaintext: sdk.TextPayload(*text), ExpiresIn: expires})
		default:
			r, err = m.Send(sctx, sdk.Outgoing{To: chat, Plaintext: sdk.TextPayload(*text), ExpiresIn: expires})
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(tm.out, r.MessageID)
	return nil
}

// kindOf guesses an attachment's kind from its file name.
func kindOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".heic":
		return sdk.MediaImage
	case ".webp":
		return sdk.MediaSticker
	case ".mp4", ".mov", ".3gp", ".webm":
		return sdk.MediaVideo
	case ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".amr":
		return sdk.MediaAudio
	}
	return sdk.MediaDocument
}

// --- listen ---

const listenUsage = `usage: parley chat listen [--json] [--count N] [--timeout DURATION] [--save-dir DIR]

Prints received messages and receipts, one line each, as they arrive
(first those that arrived while this device was offline). Each is
acknowledged to the server only after it was printed and recorded in the
profile, so nothing is lost if this command is killed; nothing is printed
twice either.

With --json each line is a JSON object: for messages
  {"type":"text","id":…,"from":"<digits>","from_device":…,"to":…,"timestamp":<unix seconds>,"text":…}
("type" is the payload type; messages from this account's other devices
have "from" set to this account), for receipts
  {"type":"receipt","status":"delivered"|"read","id":<message id>,"message_id":…,"from":…,"from_device":…,"timestamp":…}
for a contact's new device or changed key (show it in the chat)
  {"type":"identity_notice","status":"new_device"|"identity_changed","from":…,"from_device":…,"safety_number":"<60 digits>"}
and for a message this device could not decrypt (it was asked for again and
follows as a message when the sender's device resends it)
  {"type":"undecryptable","id":…,"from":…,"from_device":…,"timestamp":…}

Group messages carry "group":<id>; group membership changes print as
  {"type":"group_event","id":…,"group":…,"action":"added"|"removed"|…,"from":<actor>,"accounts":[…]}
Attachments add "media":{"kind":…,"name":…,"mime":…,"size":…} and "caption"; with
--save-dir DIR each is downloaded, decrypted, checked and saved as
DIR/<message id>-<name> ("file" in JSON). A timer message ("type":"timer",
"expires_in":<seconds>) sets the chat's disappearing-message timer in the
profile; messages that disappear carry "expires_in".

--count N exits after N messages (receipts are printed but not counted).
--timeout D exits after D: with status 0 when --count was not given, with
an error when --count was given and fewer messages arrived.
`

type listenJSON struct {
	Type       string          `json:"type"`
	Status     string          `json:"status,omitempty"`
	ID         string          `json:"id"`
	MessageID  string          `json:"message_id,omitempty"`
	From       string          `json:"from"`
	FromDevice uint32          `json:"from_device"`
	To         string          `json:"to,omitempty"`
	Timestamp  int64           `json:"timestamp"`
	Text       *string         `json:"text,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	Error      string          `json:"error,omitempty"`

	SafetyNumber string `json:"safety_number,omitempty"` // identity_notice

	Group     string      `json:"group,omitempty"`
	Action    string      `json:"action,omitempty"` // group_event
	Accounts  []string    `json:"accounts,omitempty"`
	Media     *listenFile `json:"media,omitempty"`
	Caption   string      `json:"caption,omitempty"`
	File      string      `json:"file,omitempty"`
	ExpiresIn int64       `json:"expires_in,omitempty"`
}

type listenFile struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	MIME string `json:"mime,omitempty"`
	Size int64  `json:"size"`
}

func (tm *terminal) listen(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat listen", listenUsage)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	count := fs.Int("count", 0, "exit after this many messages (0: no limit)")
	timeout := fs.Duration("timeout", 0, "exit after this long (0: never)")
	saveDir := fs.String("save-dir", "", "download and decrypt attachments into this directory")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *saveDir != "" {
		if err := os.MkdirAll(*saveDir, 0o700); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	if *count < 0 || *timeout < 0 {
		return errors.New("listen: --count and --timeout must not be negative")
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	m, stop, err := tm.connect(ctx, p, creds, sdk.Options{Seen: p})
	if err != nil {
		return err
	}
	defer stop()
	var deadline <-chan time.Time
	if *timeout > 0 {
		t := time.NewTimer(*timeout)
		defer t.Stop()
		deadline = t.C
	}
	n := 0
	for {
		select {
		case ev, ok := <-m.Events():
			if !ok {
				err := stop()
				if err == nil {
					err = errors.New("connection ended")
				}
				return fmt.Errorf("listen: %w", explain(err))
			}
			counted, err := tm.printEvent(ctx, m, p, creds.Account, ev, *asJSON, *saveDir)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			if counted {
				n++
				if *count > 0 && n >= *count {
					return nil
				}
			}
		case <-deadline:
			if *count > 0 {
				return fmt.Errorf("listen: %d of %d messages arrived within %s", n, *count, *timeout)
			}
			return nil
		case <-ctx.Done():
			if *count > 0 {
				return fmt.Errorf("listen: interrupted after %d of %d messages", n, *count)
			}
			return nil
		}
	}
}

// printEvent prints a message or receipt, records it and acknowledges it,
// in that order; it reports whether the event counts as a message.
func (tm *terminal) printEvent(ctx context.Context, m *sdk.Messenger, p *profile.Profile, self string, ev sdk.Event, asJSON bool, saveDir string) (counted bool, err error) {
	var line string
	switch e := ev.(type) {
	case *sdk.Message:
		chat := e.Group
		if chat == "" {
			chat = e.From
			if e.From == self {
				chat = e.To
			}
		}
		var saved string
		if e.Err == nil && e.Attachment != nil && saveDir != "" {
			data, err := m.Client().DownloadAttachment(ctx, e.Attachment)
			if err != nil {
				return false, fmt.Errorf("download the attachment of %s: %w", e.ID, err)
			}
			saved = filepath.Join(saveDir, e.ID+"-"+safeName(e.Attachment.Name))
			if err := os.WriteFile(saved, data, 0o600); err != nil {
				return false, err
			}
		}
		if e.Err == nil && e.Type == "timer" {
			if err := p.SetTimer(chat, e.Timer); err != nil {
				return false, err
			}
		}
		if asJSON {
			j := listenJSON{Type: e.Type, ID: e.ID, From: e.From, FromDevice: e.FromDevice, To: e.To, Timestamp: e.Timestamp.Unix(),
				Group: e.Group, ExpiresIn: int64(e.ExpiresIn / time.Second), File: saved}
			switch {
			case e.Err != nil:
				j.Type, j.Error = "undecodable", e.Err.Error()
			case e.Type == "text":
				j.Text = &e.Text
			case e.Attachment != nil:
				j.Media = &listenFile{Kind: e.Type, Name: e.Attachment.Name, MIME: e.Attachment.MIME, Size: e.Attachment.Size}
				j.Caption = e.Caption
			case e.Type == "timer":
				j.ExpiresIn = int64(e.Timer / time.Second)
			default:
				j.Payload = e.Raw
			}
			line = jsonLine(j)
		} else {
			body := e.Text
			switch {
			case e.Err != nil:
				body = "(cannot be shown: " + e.Err.Error() + ")"
			case e.Attachment != nil:
				body = fmt.Sprintf("(%s %q, %d bytes) %s", e.Type, e.Attachment.Name, e.Attachment.Size, e.Caption)
				if saved != "" {
					body += " — saved to " + saved
				}
			case e.Type == "timer" && e.Timer == 0:
				body = "(turned disappearing messages off)"
			case e.Type == "timer":
				body = "(set disappearing messages to " + e.Timer.String() + ")"
			case e.Type != "text":
				body = "(" + e.Type + " message)"
			}
			who := "+" + e.From
			if e.From == self {
				who = "you → +" + e.To // sent by another device of this account
			}
			if e.Group != "" {
				who += " in group " + e.Group
			}
			line = fmt.Sprintf("%s %s: %s  [%s]", e.Timestamp.Local().Format(time.DateTime), who, body, e.ID)
		}
		fmt.Fprintln(tm.out, line)
		if err := p.RecordMessage(e.ID, e.From); err != nil {
			return false, err
		}
		return true, e.Ack()
	case *sdk.GroupChanged:
		if asJSON {
			line = jsonLine(listenJSON{Type: "group_event", ID: e.MessageID, Group: e.Event.Group, Action: e.Event.Action,
				From: e.Event.Actor, Accounts: e.Event.Accounts, Timestamp: e.Timestamp.Unix()})
		} else {
			line = fmt.Sprintf("%s group %s: %s %s (by +%s)", e.Timestamp.Local().Format(time.DateTime), e.Event.Group,
				e.Event.Action, strings.Join(e.Event.Accounts, ", "), e.Event.Actor)
		}
		fmt.Fprintln(tm.out, line)
		return false, e.Ack()
	case *sdk.IdentityNotice:
		if asJSON {
			line = jsonLine(listenJSON{Type: "identity_notice", Status: e.Kind, From: e.Peer.Account, FromDevice: e.Peer.Device,
				SafetyNumber: e.SafetyNumber.Digits})
		} else {
			what := "has a new device"
			if e.Kind == sdk.IdentityChanged {
				what = "changed its identity key (this should not happen: compare safety numbers)"
			}
			line = fmt.Sprintf("notice: the security code with +%s changed: device %d %s. New safety number: %s",
				e.Peer.Account, e.Peer.Device, what, e.SafetyNumber)
		}
		fmt.Fprintln(tm.out, line)
		return false, nil
	case *sdk.Undecryptable:
		if asJSON {
			line = jsonLine(listenJSON{Type: "undecryptable", ID: e.MessageID, From: e.From, FromDevice: e.FromDevice, Timestamp: e.Timestamp.Unix()})
		} else {
			line = fmt.Sprintf("%s +%s: (waiting for this message: it could not be decrypted; the sender was asked to send it again)  [%s]",
				e.Timestamp.Local().Format(time.DateTime), e.From, e.MessageID)
		}
		fmt.Fprintln(tm.out, line)
		return false, nil
	case *sdk.Receipt:
		if asJSON {
			line = jsonLine(listenJSON{Type: "receipt", Status: e.Kind, ID: e.MessageID, MessageID: e.MessageID,
				From: e.From, FromDevice: e.FromDevice, Timestamp: e.Timestamp.Unix()})
		} else {
			line = fmt.Sprintf("%s %s by +%s (device %d)  [%s]", e.Timestamp.Local().Format(time.DateTime),
				e.Kind, e.From, e.FromDevice, e.MessageID)
		}
		fmt.Fprintln(tm.out, line)
		return false, e.Ack()
	}
	return false, nil
}

func jsonLine(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// --- read ---

const readUsage = `usage: parley chat read --message-id ID

Sends a read receipt for a message this profile received (listen records
the sender of every message it prints).
`

func (tm *terminal) read(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat read", readUsage)
	id := fs.String("message-id", "", "the message's id, as printed by listen")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("read: --message-id is required")
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	from, err := p.Sender(*id)
	if errors.Is(err, profile.ErrUnknownMessage) {
		return fmt.Errorf("read: message %s was not received by this profile (or is too old)", *id)
	} else if err != nil {
		return err
	}
	return tm.sendOnce(ctx, p, creds, "read", chatOpTimeout, func(rctx context.Context, m *sdk.Messenger) error {
		return m.MarkRead(rctx, from, *id)
	})
}

// --- devices ---

const devicesUsage = `usage: parley chat devices [--json]

Lists the account's linked devices; * marks this one.
`

func (tm *terminal) devices(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat devices", devicesUsage)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	p.Close()
	ctx, cancel := context.WithTimeout(ctx, chatOpTimeout)
	defer cancel()
	devs, err := sdk.NewClient(*creds).Devices(ctx)
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	for _, d := range devs {
		if *asJSON {
			fmt.Fprintln(tm.out, jsonLine(struct {
				ID         uint32 `json:"id"`
				Name       string `json:"name"`
				Platform   string `json:"platform"`
				CreatedAt  int64  `json:"created_at"`
				LastSeenAt int64  `json:"last_seen_at"`
				Current    bool   `json:"current"`
			}{d.ID, d.Name, d.Platform, d.CreatedAt.Unix(), d.LastSeenAt.Unix(), d.Current}))
			continue
		}
		mark := " "
		if d.Current {
			mark = "*"
		}
		fmt.Fprintf(tm.out, "%s %d  %s (%s)  last seen %s\n", mark, d.ID, d.Name, d.Platform,
			d.LastSeenAt.Local().Format(time.DateTime))
	}
	return nil
}

// --- link ---

const linkUsage = `usage: parley chat link CODE [--name NAME]
       parley chat link --new --server URL [--name NAME]

link CODE approves a new device that is waiting with CODE and adds it to
this profile's account under NAME.

link --new makes this profile a new device of an existing account without
SMS: it prints a one-time code (first line of output) and waits up to two
minutes for a device of the account to run 'parley chat link CODE'; then it
saves the credentials and prints "linked +<digits> device <n>". The name is
given by the approving device; --name here only goes into the suggested
command.
`

func (tm *terminal) link(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat link", linkUsage)
	isNew := fs.Bool("new", false, "make this profile a new device")
	server := fs.String("server", os.Getenv("PARLEY_SERVER"), "with --new: the server's base URL (env PARLEY_SERVER)")
	name := fs.String("name", "", "the new device's name")
	platform := fs.String("platform", "cli", "the new device's platform")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *isNew {
		if err := noArgs(fs, pos); err != nil {
			return err
		}
		if *server == "" {
			return errors.New("link --new: --server is required")
		}
		return tm.linkNew(ctx, dir, *server, *name)
	}
	if len(pos) != 1 {
		return errors.New("link: give the CODE shown by the new device (or --new)")
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	p.Close()
	if *name == "" {
		*name = "linked"
	}
	c := sdk.NewClient(*creds)
	// The new device may not be waiting yet when a script approves right
	// after reading its code: not_found is retried for a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, chatOpTimeout)
		d, err := c.LinkApprove(actx, pos[0], *name, *platform)
		cancel()
		if err == nil {
			fmt.Fprintf(tm.out, "linked device %d (%s)\n", d.ID, d.Name)
			return nil
		}
		if sdk.ErrorCode(err) != sdk.CodeNotFound || time.Now().After(deadline) {
			return fmt.Errorf("link: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (tm *terminal) linkNew(ctx context.Context, dir, server, name string) error {
	p, err := profile.Open(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	code := sdk.NewLinkCode()
	hint := "parley chat link " + code
	if name != "" {
		hint += " --name " + strconv.Quote(name)
	}
	// Show the code once the wait request is on its way, so that an
	// approval right after reading it finds the wait.
	shown := false
	show := func() {
		if !shown {
			shown = true
			fmt.Fprintln(tm.out, code)
			fmt.Fprintf(tm.err, "On a device of the account, within two minutes, run:\n  %s\n", hint)
		}
	}
	wctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { show() },
	})
	creds, err := sdk.LinkWait(wctx, server, code)
	show()
	if err != nil {
		return fmt.Errorf("link --new: %w", err)
	}
	if err := tm.saveCredentials(p, creds); err != nil {
		return err
	}
	fmt.Fprintf(tm.out, "linked +%s device %d\n", creds.Account, creds.Device)
	return tm.publishKeys(ctx, p, creds)
}

// --- unlink ---

const unlinkUsage = `usage: parley chat unlink --device N

Unlinks device N of the account (this device too): its credentials stop
working and its undelivered messages are deleted.
`

func (tm *terminal) unlink(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat unlink", unlinkUsage)
	dev := fs.Uint("device", 0, "the device's id (see 'parley chat devices')")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *dev == 0 || *dev > 1<<32-1 {
		return errors.New("unlink: --device N is required")
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, chatOpTimeout)
	defer cancel()
	if err := sdk.NewClient(*creds).Unlink(ctx, uint32(*dev)); err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	if uint32(*dev) == creds.Device {
		if err := p.DeleteCredentials(); err != nil {
			return err
		}
	}
	fmt.Fprintf(tm.out, "unlinked device %d\n", *dev)
	return nil
}

// --- safety-number ---

const safetyUsage = `usage: parley chat safety-number --with E164 [--qr | --verify PAYLOAD]

Prints the 60-digit safety number of this account and the contact, as
twelve groups of five digits. Compare it with the contact in person (or
over a channel you trust): if both show the same digits, nobody — not the
server either — sits between you. It covers every device of both accounts
that this device has exchanged messages with; devices are listed below it.

--qr prints the payload to show as a QR code (base64) instead; the contact
checks it with --verify PAYLOAD, which exits non-zero when it does not match.
`

func (tm *terminal) safetyNumber(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat safety-number", safetyUsage)
	with := fs.String("with", "", "the contact's phone number (E.164)")
	qr := fs.Bool("qr", false, "print the QR payload (base64)")
	verify := fs.String("verify", "", "check a scanned QR payload (base64)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *with == "" {
		return errors.New("safety-number: --with is required")
	}
	acct, err := sdk.AccountID(*with)
	if err != nil {
		return fmt.Errorf("safety-number: %w", err)
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	c, err := tm.cipher(p, creds)
	if err != nil {
		return err
	}
	sn, err := c.SafetyNumber(acct)
	if errors.Is(err, crypto.ErrNoIdentity) {
		return fmt.Errorf("safety-number: no keys of +%s known yet: exchange a message first", acct)
	}
	if err != nil {
		return fmt.Errorf("safety-number: %w", err)
	}
	switch {
	case *verify != "":
		scanned, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*verify))
		if err != nil {
			return errors.New("safety-number: --verify takes the base64 payload printed by --qr")
		}
		if err := sn.VerifyQR(scanned); err != nil {
			return fmt.Errorf("safety-number: NO MATCH with +%s: %w", acct, err)
		}
		fmt.Fprintf(tm.out, "verified: the safety number with +%s matches\n", acct)
	case *qr:
		fmt.Fprintln(tm.out, base64.StdEncoding.EncodeToString(sn.QR))
	default:
		fmt.Fprintln(tm.out, sn.String())
		var devs []string
		for _, a := range c.Device().PeerDevices(acct) {
			devs = append(devs, strconv.FormatUint(uint64(a.Device), 10))
		}
		fmt.Fprintf(tm.out, "covers devices %s of +%s\n", strings.Join(devs, ", "), acct)
	}
	return nil
}

// safeName keeps a received file name from leaving the save directory.
func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == ".." || name == "" {
		return "file"
	}
	return name
}
