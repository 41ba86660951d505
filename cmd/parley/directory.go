package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
)

// The operator's directory commands: parley admin business verify and
// parley admin business listing.

const verifyUsage = `usage: parley admin business verify [--off] [--json] NUMBER
        give a business number the verified badge (or take it away with --off);
        NUMBER is the phone_number_id or the phone number (+E164)
`

const listingUsage = `usage: parley admin business listing [flags] NUMBER
        list or unlist a business number in the directory on the business's
        behalf; only the flags given change. NUMBER as for verify.
flags:
  --listed true|false   listed in the directory
  --category CATEGORY   RESTAURANT, RETAIL, GROCERY, HEALTH, TRAVEL, ... (see docs/cloudapi.md)
  --lat DEG --lng DEG   location (both, or both "" to remove it)
  --address TEXT  --city TEXT
  --json                print the listing as JSON
`

func (a *adminClient) businessVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business verify", flag.ContinueOnError)
	off := fs.Bool("off", false, "remove the badge")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() { fmt.Fprint(os.Stderr, verifyUsage) }
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var out map[string]any
	if err := a.do(ctx, "PUT", "/admin/v1/numbers/"+url.PathEscape(fs.Arg(0))+"/verified", jsonBody(map[string]bool{"verified": !*off}), &out); err != nil {
		return err
	}
	return printListing(out, *asJSON)
}

func (a *adminClient) businessListing(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin business listing", flag.ContinueOnError)
	body := map[string]any{}
	str := func(name, usage string) {
		fs.Func(name, usage, func(v string) error { body[name] = v; return nil })
	}
	fs.Func("listed", "true or false", func(v string) error {
		b, err := strconv.ParseBool(v)
		body["listed"] = b
		return err
	})
	str("category", "the category")
	str("address", "street address")
	str("city", "city")
	fs.Func("lat", "latitude in degrees", func(v string) error { body["latitude"] = v; return nil })
	fs.Func("lng", "longitude in degrees", func(v string) error { body["longitude"] = v; return nil })
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() { fmt.Fprint(os.Stderr, listingUsage) }
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var out map[string]any
	if err := a.do(ctx, "POST", "/admin/v1/numbers/"+url.PathEscape(fs.Arg(0))+"/listing", jsonBody(body), &out); err != nil {
		return err
	}
	return printListing(out, *asJSON)
}

func printListing(out map[string]any, asJSON bool) error {
	if asJSON {
		return printJSON(out)
	}
	for _, k := range []string{"phone_number_id", "account", "name", "listed", "verified", "category", "address", "city", "latitude", "longitude"} {
		if v, ok := out[k]; ok {
			fmt.Printf("%-16s %v\n", k, v)
		}
	}
	return nil
}
