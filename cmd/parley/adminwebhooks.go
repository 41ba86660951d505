package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const adminWebhooksUsage = `usage:
  parley admin webhooks failed [--json] [--endpoint ID] [--limit N] [--body]
  parley admin webhooks replay (--id ID ... | --all)
`

func (a *adminClient) webhooks(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, adminWebhooksUsage)
		return errUsage
	}
	switch args[0] {
	case "failed":
		return a.webhooksFailed(ctx, args[1:])
	case "replay":
		return a.webhooksReplay(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Print(adminWebhooksUsage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "parley admin webhooks: unknown command %q\n\n%s", args[0], adminWebhooksUsage)
	return errUsage
}

type failedWebhook struct {
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	Endpoint   string `json:"endpoint"`
	Key        string `json:"key"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error"`
	CreatedAt  int64  `json:"created_at"`
	EnqueuedAt int64  `json:"enqueued_at"`
	FailedAt   int64  `json:"failed_at"`
	Size       int    `json:"size"`
	Body       string `json:"body,omitempty"`
}

func (a *adminClient) webhooksFailed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin webhooks failed", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	endpoint := fs.String("endpoint", "", "only events for this endpoint id")
	limit := fs.Int("limit", 0, "print at most this many (default: all)")
	body := fs.Bool("body", false, "include each event's body (with --json)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	var tw *tabwriter.Writer
	if !*asJSON {
		tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tENDPOINT\tKEY\tATTEMPTS\tFAILED AT\tLAST ERROR")
	}
	enc := json.NewEncoder(os.Stdout)
	var after int64
	printed := 0
	for {
		page := 1000
		if *limit > 0 {
			page = min(page, *limit-printed)
		}
		q := url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(page)}}
		if *endpoint != "" {
			q.Set("endpoint", *endpoint)
		}
		if *body {
			q.Set("body", "1")
		}
		var out struct {
			Data []failedWebhook `json:"data"`
			Next int64           `json:"next_after"`
		}
		if err := a.do(ctx, "GET", "/admin/v1/webhooks/failed?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		for _, e := range out.Data {
			if *asJSON {
				if err := enc.Encode(e); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Endpoint, e.Key, e.Attempts,
					time.Unix(e.FailedAt, 0).UTC().Format(time.RFC3339), strings.ReplaceAll(e.LastError, "\n", " "))
			}
		}
		printed += len(out.Data)
		if out.Next == 0 || (*limit > 0 && printed >= *limit) {
			break
		}
		after = out.Next
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func (a *adminClient) webhooksReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin webhooks replay", flag.ContinueOnError)
	var ids repeated
	fs.Var(&ids, "id", "a dead event's id (repeatable)")
	all := fs.Bool("all", false, "replay every dead event")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *all == (len(ids) > 0) {
		fmt.Fprintln(os.Stderr, "parley admin webhooks replay: give --id ID (one or more) or --all")
		return errUsage
	}
	req := map[string]any{"all": *all}
	if !*all {
		req = map[string]any{"ids": []string(ids)}
	}
	b, _ := json.Marshal(req)
	var out struct {
		Replayed int `json:"replayed"`
	}
	if err := a.do(ctx, "POST", "/admin/v1/webhooks/replay", bytes.NewReader(b), &out); err != nil {
		return err
	}
	fmt.Printf("replayed %d\n", out.Replayed)
	return nil
}
