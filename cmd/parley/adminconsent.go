package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
)

const consentUsage = `usage: parley admin consent COMMAND [flags]

The opt-in ledger: one append-only, hash-chained ledger of customers'
consents per business (WABA).

  record --number PHONE_NUMBER_ID --wa-id E164 --action opt_in|opt_out
         --purpose P [--purpose P ...] --source-type T [--source-id ID] [--evidence TEXT]
        record a consent or its withdrawal (purposes: "marketing" or a named
        utility topic such as "flight updates"; source types: link, qr,
        website_form, in_chat, keyword, client_switch, api); prints the entry
  list --waba ID [--wa-id E164] [--json]
        the ledger's entries, or one customer's states and history
  verify --waba ID [--json]
        check the hash chain; exits with status 1 when it is broken
  keywords --waba ID [--stop WORDS] [--start WORDS]
        show the opt-out and opt-in keywords, or set them (comma-separated;
        "" clears a list). Defaults: STOP, STOPP, ABMELDEN and START, ANMELDEN
`

// errChainBroken makes `consent verify` exit non-zero after it printed
// what is wrong.
var errChainBroken = errors.New("the consent ledger does not verify")

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (a *adminClient) consent(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(os.Stderr, consentUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("admin consent "+sub, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), consentUsage) }
	number := fs.String("number", "", "record: the business's phone_number_id")
	waba := fs.String("waba", "", "the business (WABA) id")
	waID := fs.String("wa-id", "", "the customer's number (E.164)")
	action := fs.String("action", "", "record: opt_in or opt_out")
	var purposes multiFlag
	fs.Var(&purposes, "purpose", "record: a purpose (repeat for several)")
	srcType := fs.String("source-type", "", "record: how the consent was given")
	srcID := fs.String("source-id", "", "record: the link, QR code, form or campaign")
	evidence := fs.String("evidence", "", "record: evidence (kept until the customer's erasure)")
	asJSON := fs.Bool("json", false, "print JSON")
	stop := fs.String("stop", "\x00", "keywords: opt-out keywords, comma-separated")
	start := fs.String("start", "\x00", "keywords: opt-in keywords, comma-separated")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	need := func(name, v string) error {
		if v == "" {
			fmt.Fprintf(os.Stderr, "parley admin consent %s: --%s is required\n", sub, name)
			return errUsage
		}
		return nil
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	base := "/admin/v1/businesses/" + url.PathEscape(*waba)
	switch sub {
	case "record":
		for _, f := range [][2]string{{"number", *number}, {"wa-id", *waID}, {"action", *action}, {"source-type", *srcType}} {
			if err := need(f[0], f[1]); err != nil {
				return err
			}
		}
		if len(purposes) == 0 {
			return need("purpose", "")
		}
		b, _ := json.Marshal(map[string]any{"phone_number_id": *number, "wa_id": *waID, "action": *action, "purposes": purposes,
			"source": map[string]string{"type": *srcType, "id": *srcID, "evidence": *evidence}})
		var out map[string]any
		if err := a.do(ctx, "POST", "/admin/v1/consents", bytes.NewReader(b), &out); err != nil {
			return err
		}
		return printJSON(out)
	case "list":
		if err := need("waba", *waba); err != nil {
			return err
		}
		if *waID != "" {
			var out map[string]any
			if err := a.do(ctx, "GET", base+"/consents?wa_id="+url.QueryEscape(*waID), nil, &out); err != nil {
				return err
			}
			return printJSON(out)
		}
		var after int64
		for {
			var raw struct {
				Entries []json.RawMessage `json:"entries"`
			}
			path := fmt.Sprintf("%s/consents?after=%d&limit=1000", base, after)
			if err := a.do(ctx, "GET", path, nil, &raw); err != nil {
				return err
			}
			for _, r := range raw.Entries {
				if *asJSON {
					fmt.Println(string(r))
					continue
				}
				var one struct {
					Seq        int64    `json:"seq"`
					WaID       string   `json:"wa_id"`
					Action     string   `json:"action"`
					Purposes   []string `json:"purposes"`
					RecordedAt string   `json:"recorded_at"`
					Hash       string   `json:"hash"`
					Source     struct {
						Type string `json:"type"`
					} `json:"source"`
				}
				json.Unmarshal(r, &one)
				who := "+" + one.WaID
				if one.WaID == "" {
					who = "(erased)"
				}
				fmt.Printf("%d  %s  %s  %-7s %s  via %s  %s\n", one.Seq, one.RecordedAt, who, one.Action,
					strings.Join(one.Purposes, ", "), one.Source.Type, one.Hash[:16])
			}
			if len(raw.Entries) < 1000 {
				return nil
			}
			after += int64(len(raw.Entries))
		}
	case "verify":
		if err := need("waba", *waba); err != nil {
			return err
		}
		var v struct {
			Valid    bool   `json:"valid"`
			Entries  int64  `json:"entries"`
			BrokenAt int64  `json:"broken_at"`
			Problem  string `json:"problem"`
			Head     struct {
				Seq  int64  `json:"seq"`
				Hash string `json:"hash"`
			} `json:"head"`
		}
		if err := a.do(ctx, "GET", base+"/consents/verify", nil, &v); err != nil {
			return err
		}
		if *asJSON {
			printJSON(v)
		} else if v.Valid {
			fmt.Printf("ok: %d entries, head %d %s\n", v.Entries, v.Head.Seq, v.Head.Hash)
		} else {
			fmt.Printf("BROKEN at entry %d: %s (%d entries verified before it)\n", v.BrokenAt, v.Problem, v.Entries)
		}
		if !v.Valid {
			return errChainBroken
		}
		return nil
	case "keywords":
		if err := need("waba", *waba); err != nil {
			return err
		}
		var out struct {
			Stop  []string `json:"stop"`
			Start []string `json:"start"`
		}
		split := func(s string) []string {
			list := []string{}
			for _, w := range strings.Split(s, ",") {
				if w = strings.TrimSpace(w); w != "" {
					list = append(list, w)
				}
			}
			return list
		}
		if *stop != "\x00" || *start != "\x00" {
			body := map[string][]string{}
			if *stop != "\x00" {
				body["stop"] = split(*stop)
			}
			if *start != "\x00" {
				body["start"] = split(*start)
			}
			b, _ := json.Marshal(body)
			if err := a.do(ctx, "PUT", base+"/consent-keywords", bytes.NewReader(b), &out); err != nil {
				return err
			}
		} else if err := a.do(ctx, "GET", base+"/consent-keywords", nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("stop:  %s\nstart: %s\n", strings.Join(out.Stop, ", "), strings.Join(out.Start, ", "))
		return nil
	}
	fmt.Fprintf(os.Stderr, "parley admin consent: unknown command %q\n\n%s", sub, consentUsage)
	return errUsage
}

// customerData is `parley admin customer export|erase --phone E164`.
func (a *adminClient) customerData(ctx context.Context, sub, phone string) error {
	path := "/admin/v1/customers/" + url.PathEscape(strings.TrimPrefix(phone, "+"))
	var out map[string]any
	var err error
	if sub == "export" {
		err = a.do(ctx, "GET", path+"/export", nil, &out)
	} else {
		err = a.do(ctx, "POST", path+"/erase", nil, &out)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
