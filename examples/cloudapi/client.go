// Package cloudapi is the little WhatsApp Cloud API client the worked
// examples need, written with the standard library only, so that the
// wire format stays visible. It talks to any server that speaks the Cloud
// API — a Parley server (base URL http://HOST:8080) or Meta's — which is
// the point: nothing in it is Parley-specific except the consent call,
// a Parley extension.
package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
)

// Client calls the Cloud API as one business phone number.
type Client struct {
	BaseURL       string // e.g. http://localhost:8080/v24.0
	Token         string // system-user access token
	PhoneNumberID string
	WABAID        string
	HTTP          *http.Client // nil: http.DefaultClient
}

// Error is Meta's error envelope.
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Details string `json:"-"`
}

func (e *Error) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("cloud api: %s (code %d, HTTP %d): %s", e.Message, e.Code, e.Status, e.Details)
	}
	return fmt.Sprintf("cloud api: %s (code %d, HTTP %d)", e.Message, e.Code, e.Status)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Do sends a JSON request to path (relative to BaseURL) and decodes the
// answer into out; an error answer becomes *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) error {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct {
				Error
				Data struct {
					Details string `json:"details"`
				} `json:"error_data"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Error.Message == "" {
			return &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(raw))}
		}
		e := env.Error.Error
		e.Status, e.Details = resp.StatusCode, env.Error.Data.Details
		return &e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Parameter is a template parameter: text, or a document / image for a
// media header.
type Parameter struct {
	Type     string `json:"type"` // text, document, image
	Text     string `json:"text,omitempty"`
	Document *Media `json:"document,omitempty"`
	Image    *Media `json:"image,omitempty"`
}

// Media names uploaded media by id (or a link).
type Media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Text is a text parameter.
func Text(s string) Parameter { return Parameter{Type: "text", Text: s} }

// Component fills one component of a template.
type Component struct {
	Type       string      `json:"type"` // header, body, button
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []Parameter `json:"parameters"`
}

// SendTemplate sends an approved template to a customer (E.164 or
// digits) and returns the message's wamid.
func (c *Client) SendTemplate(ctx context.Context, to, name, language string, comps []Component) (string, error) {
	body := map[string]any{
		"messaging_product": "whatsapp",
		"to":                to,
		"type":              "template",
		"template":          map[string]any{"name": name, "language": map[string]string{"code": language}, "components": comps},
	}
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.Do(ctx, "POST", "/"+c.PhoneNumberID+"/messages", body, &out); err != nil {
		return "", err
	}
	if len(out.Messages) != 1 || out.Messages[0].ID == "" {
		return "", fmt.Errorf("cloud api: send answered without a message id")
	}
	return out.Messages[0].ID, nil
}

// Template is a message template as created on the WABA.
type Template struct {
	Name       string           `json:"name"`
	Language   string           `json:"language"`
	Category   string           `json:"category"`
	Components []map[string]any `json:"components"`
}

// EnsureTemplate creates t unless a template of that name and language
// exists already, and returns its status (APPROVED, PENDING, …).
func (c *Client) EnsureTemplate(ctx context.Context, t Template) (string, error) {
	var list struct {
		Data []struct {
			Name     string `json:"name"`
			Language string `json:"language"`
			Status   string `json:"status"`
		} `json:"data"`
	}
	q := url.Values{"name": {t.Name}, "fields": {"name,language,status"}}
	if err := c.Do(ctx, "GET", "/"+c.WABAID+"/message_templates?"+q.Encode(), nil, &list); err != nil {
		return "", err
	}
	for _, d := range list.Data {
		if d.Name == t.Name && d.Language == t.Language {
			return d.Status, nil
		}
	}
	var out struct {
		Status string `json:"status"`
	}
	if err := c.Do(ctx, "POST", "/"+c.WABAID+"/message_templates", t, &out); err != nil {
		return "", err
	}
	return out.Status, nil
}

// UploadMedia uploads a file for sending and returns its media id.
func (c *Client) UploadMedia(ctx context.Context, mimeType, filename string, data []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("messaging_product", "whatsapp")
	mw.WriteField("type", mimeType)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	part.Write(data)
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(c.BaseURL, "/")+"/"+c.PhoneNumberID+"/media", &buf)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		ID string `json:"id"`
	}
	if err := c.send(req, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// ConsentSource says how a consent was given: type is link, qr,
// website_form, in_chat, client_switch or api; evidence is what the
// customer saw and did (personal data: erased with the customer's data
// on request).
type ConsentSource struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Evidence string `json:"evidence,omitempty"`
}

// RecordConsent appends an opt_in (or opt_out) of a customer for the
// purposes ("marketing" or named utility topics such as "flight updates")
// to the business's consent ledger — a Parley extension of the Cloud API
// (POST /{phone-number-id}/consents). It returns the entry's hash in the
// ledger's chain.
func (c *Client) RecordConsent(ctx context.Context, waID, action string, purposes []string, src ConsentSource) (string, error) {
	var out struct {
		Hash string `json:"hash"`
	}
	body := map[string]any{"messaging_product": "whatsapp", "wa_id": strings.TrimPrefix(waID, "+"), "action": action,
		"purposes": purposes, "source": src}
	if err := c.Do(ctx, "POST", "/"+c.PhoneNumberID+"/consents", body, &out); err != nil {
		return "", err
	}
	return out.Hash, nil
}

// FromEnv returns the client configured by PARLEY_API (the base URL with
// its version, e.g. http://localhost:8080/v24.0), ACCESS_TOKEN,
// PHONE_NUMBER_ID and WABA_ID — what `parley admin business create
// --json` prints.
func FromEnv() (*Client, error) {
	c := &Client{BaseURL: os.Getenv("PARLEY_API"), Token: os.Getenv("ACCESS_TOKEN"),
		PhoneNumberID: os.Getenv("PHONE_NUMBER_ID"), WABAID: os.Getenv("WABA_ID")}
	if c.BaseURL == "" || c.Token == "" || c.PhoneNumberID == "" || c.WABAID == "" {
		return nil, fmt.Errorf("set PARLEY_API, ACCESS_TOKEN, PHONE_NUMBER_ID and WABA_ID (parley admin business create --json prints them)")
	}
	return c, nil
}
