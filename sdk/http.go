package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Credentials identify one device to a server. Token is a secret.
type Credentials struct {
	Server    string `json:"server"` // base URL, e.g. https://chat.example.org
	Account   string `json:"account"`
	Device    uint32 `json:"device"`
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expires_at,omitempty"` // unix seconds; renewed on every connection
	Created   bool   `json:"created,omitempty"`    // Verify created the account
}

// CodeSent is the answer to RequestCode.
type CodeSent struct {
	ExpiresIn   time.Duration
	Development bool // the server's development SMS provider is in use (`parley admin otp` reads codes)
}

// maxResponse bounds what the client reads from a response.
const maxResponse = 1 << 20

// RequestCode asks server to send a registration code by SMS to phone
// (E.164, with or without the leading +).
func RequestCode(ctx context.Context, server, phone string) (*CodeSent, error) {
	var out struct {
		ExpiresIn   int  `json:"expires_in"`
		Development bool `json:"development"`
	}
	in := struct {
		Phone string `json:"phone"`
	}{e164(phone)}
	if err := do(ctx, nil, server, "", "POST", "/v1/register/code", in, &out); err != nil {
		return nil, err
	}
	return &CodeSent{ExpiresIn: time.Duration(out.ExpiresIn) * time.Second, Development: out.Development}, nil
}

// Verify checks code and returns the credentials of a new device of the
// phone's account (created if needed).
func Verify(ctx context.Context, server, phone, code, deviceName, platform string) (*Credentials, error) {
	in := struct {
		Phone      string `json:"phone"`
		Code       string `json:"code"`
		DeviceName string `json:"device_name"`
		Platform   string `json:"platform"`
	}{e164(phone), strings.TrimSpace(code), deviceName, platform}
	var c Credentials
	if err := do(ctx, nil, server, "", "POST", "/v1/register/verify", in, &c); err != nil {
		return nil, err
	}
	c.Server = trimServer(server)
	return &c, nil
}

// LinkWait waits (the server allows up to 2 minutes, then answers
// expired) until an existing device approves code with LinkApprove, and
// returns the new device's credentials. Make code with NewLinkCode.
func LinkWait(ctx context.Context, server, code string) (*Credentials, error) {
	in := struct {
		Code string `json:"code"`
	}{code}
	var c Credentials
	if err := do(ctx, nil, server, "", "POST", "/v1/link/wait", in, &c); err != nil {
		return nil, err
	}
	c.Server = trimServer(server)
	return &c, nil
}

// Client calls the authenticated HTTP endpoints as one device.
type Client struct {
	Credentials
	HTTPClient *http.Client // nil: http.DefaultClient; browsers (js/wasm) use the Fetch API instead
}

// NewClient returns a client for creds.
func NewClient(creds Credentials) *Client { return &Client{Credentials: creds} }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return do(ctx, c.HTTPClient, c.Server, c.Token, method, path, in, out)
}

// Me is the own account as the server sees it.
type Me struct {
	Account  string `json:"account"`
	Device   uint32 `json:"device"`
	Name     string `json:"name"`
	Presence string `json:"presence"` // "everyone" or "nobody"
}

// Me returns the own account.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var me Me
	if err := c.do(ctx, "GET", "/v1/me", nil, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

// MeUpdate changes the own account; nil fields stay as they are.
type MeUpdate struct {
	Name     *string `json:"name,omitempty"`
	Presence *string `json:"presence,omitempty"` // "everyone" or "nobody"
}

// UpdateMe changes the display name or presence visibility.
func (c *Client) UpdateMe(ctx context.Context, u MeUpdate) (*Me, error) {
	var me Me
	if err := c.do(ctx, "PATCH", "/v1/me", u, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

// Device is one linked device of the own account.
type Device struct {
	ID         uint32
	Name       string
	Platform   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Current    bool // the device making the call
}

type deviceJSON struct {
	ID         uint32 `json:"id"`
	Name       string `json:"name"`
	Platform   string `json:"platform"`
	CreatedAt  int64  `json:"created_at"`
	LastSeenAt int64  `json:"last_seen_at"`
	Current    bool   `json:"current"`
}

func (d *deviceJSON) device() Device {
	return Device{ID: d.ID, Name: d.Name, Platform: d.Platform, CreatedAt: time.Unix(d.CreatedAt, 0),
		LastSeenAt: time.Unix(d.LastSeenAt, 0), Current: d.Current}
}

// Devices lists the own account's active devices.
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	var out struct {
		Devices []deviceJSON `json:"devices"`
	}
	if err := c.do(ctx, "GET", "/v1/devices", nil, &out); err != nil {
		return nil, err
	}
	devs := make([]Device, len(out.Devices))
	for i := range out.Devices {
		devs[i] = out.Devices[i].device()
	}
	return devs, nil
}

// Unlink revokes one of the own devices (this one too): its credentials
// stop working, its connection is closed with 4002 and its mailbox is
// deleted.
func (c *Client) Unlink(ctx context.Context, id uint32) error {
	return c.do(ctx, "DELETE", "/v1/devices/"+strconv.FormatUint(uint64(id), 10), nil, nil)
}

// LinkApprove adds a device to the own account and hands its credentials
// to the device waiting in LinkWait with code. It fails with not_found
// when nobody waits with that code (and no device is left behind).
func (c *Client) LinkApprove(ctx context.Context, code, name, platform string) (*Device, error) {
	in := struct {
		Code       string `json:"code"`
		DeviceName string `json:"device_name,omitempty"`
		Platform   string `json:"platform,omitempty"`
	}{code, name, platform}
	var d deviceJSON
	if err := c.do(ctx, "POST", "/v1/link/approve", in, &d); err != nil {
		return nil, err
	}
	dev := d.device()
	return &dev, nil
}

// RecipientDevices returns the active device ids of account (digits, or
// E.164 with +): the devices a sender must address. not_found when the
// number has no account.
func (c *Client) RecipientDevices(ctx context.Context, account string) ([]uint32, error) {
	var out struct {
		Devices []uint32 `json:"devices"`
	}
	if err := c.do(ctx, "GET", "/v1/accounts/"+digits(account)+"/devices", nil, &out); err != nil {
		return nil, err
	}
	return out.Devices, nil
}

// Presence is what the caller may see of an account's presence; it is
// also the event pushed for watched accounts (see Messenger.WatchPresence).
type Presence struct {
	Account  string
	Online   bool
	LastSeen time.Time // zero when online, hidden or never seen
	Hidden   bool      // either side hides presence: nothing else is known
}

// Presence returns account's presence.
func (c *Client) Presence(ctx context.Context, account string) (*Presence, error) {
	var out struct {
		Account  string `json:"account"`
		Online   bool   `json:"online"`
		LastSeen int64  `json:"last_seen"`
		Hidden   bool   `json:"hidden"`
	}
	acct := digits(account)
	if err := c.do(ctx, "GET", "/v1/accounts/"+acct+"/presence", nil, &out); err != nil {
		return nil, err
	}
	p := &Presence{Account: acct, Online: out.Online, Hidden: out.Hidden}
	if out.LastSeen > 0 {
		p.LastSeen = time.UnixMilli(out.LastSeen)
	}
	return p, nil
}

// do sends one JSON request and decodes the JSON answer into out.
func do(ctx context.Context, hc *http.Client, server, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, trimServer(server)+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := roundTrip(hc, req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, b)
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad answer: %w", method, path, err)
	}
	return nil
}

// decodeError turns a failed response into an *Error.
func decodeError(resp *http.Response, b []byte) error {
	e := &Error{Status: resp.StatusCode}
	var env struct {
		Error struct {
			Code    string              `json:"code"`
			Message string              `json:"message"`
			Devices map[string][]uint32 `json:"devices"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message, e.Devices = env.Error.Code, env.Error.Message, env.Error.Devices
	} else {
		e.Message = "server answered " + resp.Status
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func trimServer(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }
