package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"
)

// The business platform's operator commands: parley admin business,
// token and template.

const businessUsage = `usage: parley admin business COMMAND [flags]

commands:
  create --name NAME --phone E164 [--verified-name NAME] [--webhook-url URL --verify-token TOKEN]
         [--throughput MPS] [--json]
        create a business (WABA) with its app, its first phone number (the Parley
        account of that number, created unless it exists) and an access token;
        with --webhook-url the URL must answer the verification handshake
  list [--json]
        list businesses with their numbers and apps
  throughput --phone-number-id ID --mps N
        set a number's Cloud API throughput (messages per second)
  verify [--off] NUMBER
        give a number the directory's verified badge (or take it away)
  listing [--listed true|false] [--category C] [--lat DEG --lng DEG] [--address A] [--city C] NUMBER
        list or unlist a number in the business directory on the business's behalf
  agent add|list|remove|reset-password --waba ID ...
        the business inbox's agents ('parley admin business agent -h')
  webchat --waba ID [--origin URL]... [--clear]
        show or set the websites allowed to use the business's website chat
`

const tokenUsage = `usage: parley admin token COMMAND [flags]

commands:
  create --waba ID [--name NAME] [--json]   issue another access token for a business
  list --waba ID [--json]                   list a business's tokens (ids, never secrets)
  revoke --token TOKEN_OR_ID                revoke a token (at once on this node,
                                            within 5 seconds on the others)
`

const templateUsage = `usage: parley admin template COMMAND [flags]

commands:
  review --id TEMPLATE_ID (--approve | --reject [--reason REASON]) [--json]
        decide a PENDING template (with 'serve --template-review-manual');
        reasons: INVALID_FORMAT (default), INCORRECT_CATEGORY, ABUSIVE_CONTENT,
        PROMOTIONAL, SCAM, TAG_CONTENT_MISMATCH
`

func subUsage(text string) func() error {
	return func() error {
		fmt.Fprint(os.Stderr, text)
		return errUsage
	}
}

func (a *adminClient) business(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return subUsage(businessUsage)()
	}
	switch args[0] {
	case "create":
		return a.businessCreate(ctx, args[1:])
	case "list":
		return a.businessList(ctx, args[1:])
	case "throughput":
		return a.businessThroughput(ctx, args[1:])
	case "verify":
		return a.businessVerify(ctx, args[1:])
	case "listing":
		return a.businessListing(ctx, args[1:])
	case "agent":
		return a.agents(ctx, args[1:])
	case "webchat":
		return a.webchat(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Print(businessUsage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "parley admin business: unknown command %q\n\n", args[0])
	return subUsage(businessUsage)()
}

func jsonBody(v any) *bytes.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

func printJSON(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}

func (a *adminClient) businessCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business create", flag.ContinueOnError)
	name := fs.String("name", "", "the business's name")
	phone := fs.String("phone", "", "the business number in E.164 (+1555…)")
	verified := fs.String("verified-name", "", "the number's display name (default: --name)")
	webhook := fs.String("webhook-url", "", "the app's webhook callback URL (must pass the verification handshake)")
	verifyToken := fs.String("verify-token", "", "the verify token the callback URL expects")
	throughput := fs.Int("throughput", 0, "messages per second (default: the node's --business-throughput)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *name == "" || *phone == "" {
		fmt.Fprintln(os.Stderr, "parley admin business create: --name and --phone are required")
		return errUsage
	}
	if (*webhook == "") != (*verifyToken == "") {
		fmt.Fprintln(os.Stderr, "parley admin business create: --webhook-url and --verify-token go together")
		return errUsage
	}
	var out map[string]any
	err := a.do(ctx, "POST", "/admin/v1/businesses", jsonBody(map[string]any{"name": *name, "phone": *phone, "verified_name": *verified,
		"webhook_url": *webhook, "verify_token": *verifyToken, "throughput": *throughput}), &out)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, k := range []string{"waba_id", "phone_number_id", "display_phone_number", "app_id", "app_secret", "access_token", "webhook_url"} {
		if v, ok := out[k]; ok && v != "" {
			fmt.Fprintf(tw, "%s\t%v\n", k, v)
		}
	}
	tw.Flush()
	fmt.Fprintf(os.Stdout, "\nPoint a Cloud API SDK at %s/v24.0 with the access token; the app secret signs webhooks.\nBoth are shown only now.\n", a.server)
	return nil
}

func (a *adminClient) businessList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var out struct {
		Businesses []struct {
			WABAID  string `json:"waba_id"`
			Name    string `json:"name"`
			Numbers []struct {
				ID      string `json:"phone_number_id"`
				Display string `json:"display_phone_number"`
				MPS     int    `json:"throughput"`
			} `json:"numbers"`
		} `json:"businesses"`
	}
	var raw json.RawMessage
	if err := a.do(ctx, "GET", "/admin/v1/businesses", nil, &raw); err != nil {
		return err
	}
	if *asJSON {
		_, err := os.Stdout.Write(append(raw, '\n'))
		return err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WABA ID\tNAME\tPHONE NUMBER ID\tNUMBER\tMPS")
	for _, b := range out.Businesses {
		for _, n := range b.Numbers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", b.WABAID, b.Name, n.ID, n.Display, n.MPS)
		}
		if len(b.Numbers) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\n", b.WABAID, b.Name)
		}
	}
	return tw.Flush()
}

func (a *adminClient) businessThroughput(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business throughput", flag.ContinueOnError)
	id := fs.String("phone-number-id", "", "the number's phone_number_id")
	mps := fs.Int("mps", 0, "messages per second")
	if err := fs.Parse(args); err != nil || *id == "" || *mps <= 0 {
		fmt.Fprintln(os.Stderr, "parley admin business throughput: --phone-number-id and --mps (> 0) are required")
		return errUsage
	}
	var out map[string]any
	if err := a.do(ctx, "PUT", "/admin/v1/numbers/"+url.PathEscape(*id)+"/throughput", jsonBody(map[string]int{"mps": *mps}), &out); err != nil {
		return err
	}
	fmt.Printf("%s: %v messages per second\n", *id, out["throughput"])
	return nil
}

func (a *adminClient) tokens(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return subUsage(tokenUsage)()
	}
	fs := flag.NewFlagSet("admin token "+args[0], flag.ContinueOnError)
	waba := fs.String("waba", "", "the business (WABA) id")
	name := fs.String("name", "", "a name for the token")
	tok := fs.String("token", "", "the token, or its id")
	asJSON := fs.Bool("json", false, "print JSON")
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Print(tokenUsage)
		return nil
	case "create", "list", "revoke":
	default:
		fmt.Fprintf(os.Stderr, "parley admin token: unknown command %q\n\n", args[0])
		return subUsage(tokenUsage)()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	switch args[0] {
	case "create":
		if *waba == "" {
			return subUsage("parley admin token create: --waba is required\n")()
		}
		var out map[string]any
		if err := a.do(ctx, "POST", "/admin/v1/businesses/"+url.PathEscape(*waba)+"/tokens", jsonBody(map[string]string{"name": *name}), &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Println(out["access_token"])
		return nil
	case "list":
		if *waba == "" {
			return subUsage("parley admin token list: --waba is required\n")()
		}
		var raw json.RawMessage
		if err := a.do(ctx, "GET", "/admin/v1/businesses/"+url.PathEscape(*waba)+"/tokens", nil, &raw); err != nil {
			return err
		}
		if *asJSON {
			_, err := os.Stdout.Write(append(raw, '\n'))
			return err
		}
		var out struct {
			Tokens []struct {
				ID        string `json:"token_id"`
				Name      string `json:"name"`
				RevokedAt int64  `json:"revoked_at"`
			} `json:"tokens"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOKEN ID\tNAME\tSTATE")
		for _, t := range out.Tokens {
			state := "active"
			if t.RevokedAt != 0 {
				state = "revoked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, state)
		}
		return tw.Flush()
	default: // revoke
		if *tok == "" {
			return subUsage("parley admin token revoke: --token is required\n")()
		}
		if err := a.do(ctx, "POST", "/admin/v1/tokens/revoke", jsonBody(map[string]string{"token": *tok}), nil); err != nil {
			return err
		}
		fmt.Println("revoked")
		return nil
	}
}

func (a *adminClient) template(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "review" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Print(templateUsage)
			return nil
		}
		return subUsage(templateUsage)()
	}
	fs := flag.NewFlagSet("admin template review", flag.ContinueOnError)
	id := fs.String("id", "", "the template id")
	approve := fs.Bool("approve", false, "approve the template")
	reject := fs.Bool("reject", false, "reject the template")
	reason := fs.String("reason", "", "the rejection reason")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil || *id == "" || *approve == *reject {
		fmt.Fprintln(os.Stderr, "parley admin template review: --id and one of --approve or --reject are required")
		return errUsage
	}
	var out map[string]any
	if err := a.do(ctx, "POST", "/admin/v1/templates/"+url.PathEscape(*id)+"/review",
		jsonBody(map[string]any{"approve": *approve, "reason": *reason}), &out); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out)
	}
	fmt.Printf("%s (%s): %s\n", out["name"], out["id"], out["status"])
	return nil
}
