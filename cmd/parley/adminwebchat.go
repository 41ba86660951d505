package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// `parley admin business webchat`: the websites allowed to use a
// business's website chat (docs/inbox.md, "Website chat").
const webchatUsage = `usage: parley admin business webchat --waba ID [--origin URL]... [--clear]

Without --origin or --clear, prints the allowed website origins. With
--origin (repeatable), replaces them: https://host[:port] (plain http only
for localhost). --clear turns the website chat off.
`

type webchatOrigins []string

func (l *webchatOrigins) String() string     { return strings.Join(*l, ",") }
func (l *webchatOrigins) Set(v string) error { *l = append(*l, v); return nil }

func (a *adminClient) webchat(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business webchat", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), webchatUsage) }
	waba := fs.String("waba", "", "the business (WABA) id")
	var origins webchatOrigins
	fs.Var(&origins, "origin", "an allowed website origin (repeatable)")
	clearAll := fs.Bool("clear", false, "allow no website (turns the website chat off)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if *waba == "" || (*clearAll && len(origins) > 0) {
		fmt.Fprint(os.Stderr, "parley admin business webchat: --waba is required; --clear goes without --origin\n")
		return errUsage
	}
	path := "/admin/v1/businesses/" + url.PathEscape(*waba) + "/webchat"
	var out struct {
		Origins []string `json:"origins"`
	}
	var err error
	if len(origins) > 0 || *clearAll {
		err = a.do(ctx, "PUT", path, jsonBody(map[string]any{"origins": append([]string{}, origins...)}), &out)
	} else {
		err = a.do(ctx, "GET", path, nil, &out)
	}
	if err != nil {
		return err
	}
	if len(out.Origins) == 0 {
		fmt.Println("no website may use the chat")
		return nil
	}
	for _, o := range out.Origins {
		fmt.Println(o)
	}
	return nil
}
