package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// --- timer ---

const timerUsage = `usage: parley chat timer (--with E164 | --group ID) --set DURATION|off

Sets the chat's disappearing-message timer: an encrypted message tells the
other side (which records it when it listens), and this profile sends the
chat's following messages so that they disappear DURATION after they were
sent (from one minute to 90 days, e.g. 1h, 24h, 168h): the server deletes
copies not delivered by then, and clients delete theirs.
`

func (tm *terminal) timer(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat timer", timerUsage)
	with := fs.String("with", "", "the contact's phone number (E.164)")
	group := fs.String("group", "", "or a group id")
	set := fs.String("set", "", "the timer (e.g. 24h), or off")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if (*with == "") == (*group == "") || *set == "" {
		return errors.New("timer: give --with or --group, and --set")
	}
	var d time.Duration
	if *set != "off" {
		if d, err = time.ParseDuration(*set); err != nil || d < time.Minute || d > 90*24*time.Hour || d%time.Second != 0 {
			return errors.New("timer: --set takes whole seconds from 1m to 2160h (90 days), or off")
		}
	}
	chat := *group
	if *with != "" {
		if chat, err = sdk.AccountID(*with); err != nil {
			return fmt.Errorf("timer: %w", err)
		}
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	err = tm.sendOnce(ctx, p, creds, "timer", chatOpTimeout, func(sctx context.Context, m *sdk.Messenger) (err error) {
		if *group != "" {
			_, err = m.SendGroupMessage(sctx, sdk.GroupMessage{Group: chat, Plaintext: sdk.TimerPayload(d)})
		} else {
			_, err = m.Send(sctx, sdk.Outgoing{To: chat, Plaintext: sdk.TimerPayload(d)})
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := p.SetTimer(chat, d); err != nil {
		return err
	}
	if d == 0 {
		fmt.Fprintln(tm.out, "disappearing messages off")
	} else {
		fmt.Fprintf(tm.out, "disappearing messages: %s\n", d)
	}
	return nil
}

// --- group ---

const groupUsage = `usage: parley chat group COMMAND [flags]

  create --name NAME --members E164,E164…   create a group; prints its id
  list                                      the groups of this account
  show --group ID                           members and roles
  add --group ID --members E164,…           add members (admins)
  remove --group ID --member E164           remove a member (admins)
  leave --group ID                          leave the group
  invite --group ID                         print a new invite code (admins)
  join --code CODE                          join by invite code

Send to a group with 'parley chat send --group ID'. Group messages are
end-to-end encrypted with Sender Keys; the server keeps the membership and
the group's name.
`

func (tm *terminal) group(ctx context.Context, dir string, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(tm.err, groupUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := tm.flags("chat group "+sub, groupUsage)
	name := fs.String("name", "", "the group's name")
	members := fs.String("members", "", "comma-separated phone numbers")
	member := fs.String("member", "", "a phone number")
	id := fs.String("group", "", "the group id")
	code := fs.String("code", "", "an invite code")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	var accts []string
	for _, ph := range strings.Split(*members, ",") {
		if ph = strings.TrimSpace(ph); ph == "" {
			continue
		}
		a, err := sdk.AccountID(ph)
		if err != nil {
			return fmt.Errorf("group: %w", err)
		}
		accts = append(accts, a)
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	p.Close()
	c := sdk.NewClient(*creds)
	ctx, cancel := context.WithTimeout(ctx, chatOpTimeout)
	defer cancel()
	needGroup := func() error {
		if *id == "" {
			return fmt.Errorf("group %s: --group is required", sub)
		}
		return nil
	}
	var g *sdk.Group
	switch sub {
	case "create":
		if *name == "" {
			return errors.New("group create: --name is required")
		}
		if g, err = c.CreateGroup(ctx, *name, accts...); err == nil {
			fmt.Fprintln(tm.out, g.ID)
		}
	case "list":
		var gs []sdk.Group
		if gs, err = c.Groups(ctx); err == nil {
			for _, g := range gs {
				fmt.Fprintf(tm.out, "%s  %s\n", g.ID, g.Name)
			}
		}
	case "show", "add":
		if err := needGroup(); err != nil {
			return err
		}
		if sub == "add" {
			g, err = c.AddGroupMembers(ctx, *id, accts...)
		} else {
			g, err = c.Group(ctx, *id)
		}
		if err == nil {
			fmt.Fprintf(tm.out, "%s  %s  (version %d)\n", g.ID, g.Name, g.Version)
			for _, mb := range g.Members {
				fmt.Fprintf(tm.out, "  +%s  %s\n", mb.Account, mb.Role)
			}
		}
	case "remove":
		if err := needGroup(); err != nil {
			return err
		}
		a, aerr := sdk.AccountID(*member)
		if aerr != nil {
			return fmt.Errorf("group remove: --member: %w", aerr)
		}
		if err = c.RemoveGroupMember(ctx, *id, a); err == nil {
			fmt.Fprintf(tm.out, "removed +%s\n", a)
		}
	case "leave":
		if err := needGroup(); err != nil {
			return err
		}
		if err = c.LeaveGroup(ctx, *id); err == nil {
			fmt.Fprintln(tm.out, "left "+*id)
		}
	case "invite":
		if err := needGroup(); err != nil {
			return err
		}
		var inv string
		if inv, err = c.CreateGroupInvite(ctx, *id); err == nil {
			fmt.Fprintln(tm.out, inv)
		}
	case "join":
		if *code == "" {
			return errors.New("group join: --code is required")
		}
		if g, err = c.JoinGroup(ctx, *code); err == nil {
			fmt.Fprintln(tm.out, g.ID)
		}
	default:
		fmt.Fprintf(tm.err, "parley chat group: unknown command %q\n\n%s", sub, groupUsage)
		return errUsage
	}
	if err != nil {
		return fmt.Errorf("group %s: %w", sub, err)
	}
	return nil
}
