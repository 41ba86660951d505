package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
)

// `parley admin business agent …`: the business inbox's agents.

const agentUsage = `usage: parley admin business agent COMMAND --waba ID [flags]

Agents sign in to the business inbox (/business/api, docs/inbox.md) with
their email and password, and optionally a TOTP code. Passwords are stored
as argon2id hashes. A password is read from standard input with
--password-stdin (one line), or generated and printed once.

commands:
  add --waba ID --email EMAIL [--name NAME] [--role owner|admin|agent] [--password-stdin]
        create an agent (role: agent by default)
  list --waba ID [--json]
        list the business's agents
  remove --waba ID --email EMAIL
        delete an agent and end its sessions
  reset-password --waba ID --email EMAIL [--password-stdin] [--clear-totp]
        set a new password, end the agent's sessions and lift a lock-out;
        --clear-totp also turns two-factor sign-in off (a lost authenticator)
`

func (a *adminClient) agents(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return subUsage(agentUsage)()
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Print(agentUsage)
		return nil
	case "add", "list", "remove", "reset-password":
	default:
		fmt.Fprintf(os.Stderr, "parley admin business agent: unknown command %q\n\n", args[0])
		return subUsage(agentUsage)()
	}
	cmd := args[0]
	fs := flag.NewFlagSet("admin business agent "+cmd, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), agentUsage) }
	waba := fs.String("waba", "", "the business (WABA) id")
	email := fs.String("email", "", "the agent's email")
	name := fs.String("name", "", "add: the agent's name")
	role := fs.String("role", "agent", "add: owner, admin or agent")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input")
	clearTOTP := fs.Bool("clear-totp", false, "reset-password: turn two-factor sign-in off")
	asJSON := fs.Bool("json", false, "list: print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *waba == "" || (cmd != "list" && *email == "") {
		fmt.Fprintf(os.Stderr, "parley admin business agent %s: --waba%s required\n", cmd, map[bool]string{true: " is", false: " and --email are"}[cmd == "list"])
		return errUsage
	}
	base := "/admin/v1/businesses/" + url.PathEscape(*waba) + "/agents"
	password := func() (pw string, generated bool, err error) {
		if !*stdin {
			b := make([]byte, 15)
			rand.Read(b)
			return base64.RawURLEncoding.EncodeToString(b), true, nil
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", false, err
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	switch cmd {
	case "add":
		pw, gen, err := password()
		if err != nil {
			return err
		}
		var out map[string]any
		if err := a.do(ctx, "POST", base, jsonBody(map[string]string{"email": *email, "name": *name, "role": *role, "password": pw}), &out); err != nil {
			return err
		}
		fmt.Printf("agent %v (%v, %v) added\n", out["email"], out["role"], out["id"])
		if gen {
			fmt.Printf("password: %s\n(shown only now)\n", pw)
		}
		return nil
	case "list":
		var raw json.RawMessage
		if err := a.do(ctx, "GET", base, nil, &raw); err != nil {
			return err
		}
		if *asJSON {
			_, err := os.Stdout.Write(append(raw, '\n'))
			return err
		}
		var out struct {
			Agents []struct {
				ID, Email, Name, Role string
				TOTP, Online          bool
			} `json:"agents"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tTOTP\tONLINE\tID")
		for _, ag := range out.Agents {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%s\n", ag.Email, ag.Role, ag.Name, ag.TOTP, ag.Online, ag.ID)
		}
		return tw.Flush()
	case "remove":
		if err := a.do(ctx, "DELETE", base+"/"+url.PathEscape(*email), nil, nil); err != nil {
			return err
		}
		fmt.Printf("agent %s removed\n", *email)
		return nil
	default: // reset-password
		pw, gen, err := password()
		if err != nil {
			return err
		}
		if err := a.do(ctx, "PUT", base+"/"+url.PathEscape(*email)+"/password", jsonBody(map[string]any{"password": pw, "clear_totp": *clearTOTP}), nil); err != nil {
			return err
		}
		fmt.Printf("password of %s reset; its sessions ended\n", *email)
		if gen {
			fmt.Printf("password: %s\n(shown only now)\n", pw)
		}
		return nil
	}
}
