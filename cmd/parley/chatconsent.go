package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/sdk"
)

const marketingUsage = `usage: parley chat marketing --with E164 --set on|off

Turns marketing messages from a business on or off: an encrypted consent
payload tells the business's number, which records the opt-in or opt-out in
the business's consent ledger (and tells the business). Marketing templates
need your opt-in; an opt-out stops them at once.
`

func (tm *terminal) marketing(ctx context.Context, dir string, args []string) error {
	fs := tm.flags("chat marketing", marketingUsage)
	with := fs.String("with", "", "the business's phone number (E.164)")
	set := fs.String("set", "", "on or off")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *with == "" || (*set != "on" && *set != "off") {
		return errors.New("marketing: give --with and --set on or off")
	}
	to, err := sdk.AccountID(*with)
	if err != nil {
		return fmt.Errorf("marketing: %w", err)
	}
	p, creds, err := openProfile(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	err = tm.sendOnce(ctx, p, creds, "marketing", chatOpTimeout, func(sctx context.Context, m *sdk.Messenger) error {
		_, err := m.Send(sctx, sdk.Outgoing{To: to, Plaintext: sdk.ConsentPayloadFor(*set == "on")})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(tm.out, "marketing messages from +%s: %s\n", to, *set)
	return nil
}
