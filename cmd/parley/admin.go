package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley/app"
)

const adminUsage = `usage: parley admin [--server URL] [--data DIR] COMMAND [flags]

The operator token comes from PARLEY_ADMIN_TOKEN, or from the file
DATA/admin-token that 'parley serve' writes on first start.

commands:
  otp --phone E164    print the last code the development SMS provider sent
  customer COMMAND    sandbox customers: send, inbox, read, reply-button,
                      reply-list, react ('parley admin customer' lists them)
  business            businesses (WABAs) of the Cloud API: create, list, throughput
  token               access tokens of a business: create, list, revoke
  template            review message templates (manual review)
  consent             the opt-in ledger: record, list, verify, keywords

Run 'parley admin COMMAND -h' for a command's flags.
  webhooks failed [--json] [--endpoint ID] [--limit N] [--body]
                      list dead webhook events (retried for 7 days, then given
                      up on), oldest first; --json prints one JSON object per line
  webhooks replay (--id ID ... | --all)
                      queue dead webhook events for delivery again (with new
                      7-day deadlines); prints how many
`

func admin(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), adminUsage); fs.PrintDefaults() }
	server := fs.String("server", envOr("PARLEY_SERVER", "http://127.0.0.1:8080"), "the node's base URL (env PARLEY_SERVER)")
	data := fs.String("data", envOr("PARLEY_DATA", "./parley-data"), "the node's data directory, for the operator token (env PARLEY_DATA)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	a := &adminClient{server: strings.TrimRight(*server, "/"), data: *data}
	switch cmd, rest := fs.Arg(0), fs.Args()[1:]; cmd {
	case "otp":
		return a.otp(ctx, rest)
	case "customer":
		return a.customer(ctx, rest)
	case "business":
		return a.business(ctx, rest)
	case "token":
		return a.tokens(ctx, rest)
	case "template":
		return a.template(ctx, rest)
	case "webhooks":
		return a.webhooks(ctx, rest)
	case "consent":
		return a.consent(ctx, rest)
	default:
		fmt.Fprintf(os.Stderr, "parley admin: unknown command %q\n\n", cmd)
		fs.Usage()
		return errUsage
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type adminClient struct {
	server, data string
}

func (a *adminClient) token() (string, error) {
	if t := os.Getenv("PARLEY_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	b, err := os.ReadFile(filepath.Join(a.data, app.AdminTokenFile))
	if err != nil {
		return "", fmt.Errorf("no operator token: set PARLEY_ADMIN_TOKEN or point --data at the node's data directory (%w)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// do calls the admin API and decodes a JSON answer into out.
// typedBody is a request body that is not JSON.
type typedBody struct {
	io.Reader
	ctype string
}

func (a *adminClient) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	tok, err := a.token()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if ct, ok := body.(typedBody); ok {
		req.Header.Set("Content-Type", ct.ctype)
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", a.server, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s", e.Error.Message)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *adminClient) otp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin otp", flag.ContinueOnError)
	phone := fs.String("phone", "", "phone number in E.164 (+4915…)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil || *phone == "" {
		if *phone == "" {
			fmt.Fprintln(os.Stderr, "parley admin otp: --phone is required")
		}
		return errUsage
	}
	var out struct {
		Phone  string `json:"phone"`
		Code   string `json:"code"`
		Text   string `json:"text"`
		SentAt int64  `json:"sent_at"`
	}
	if err := a.do(ctx, "GET", "/admin/v1/otp?phone="+url.QueryEscape(*phone), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	fmt.Println(out.Code)
	return nil
}
