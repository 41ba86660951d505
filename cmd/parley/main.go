// Command parley is the Parley messenger in one binary: the server
// (serve), the operator's tool (admin), a terminal client (chat) and the
// load generator (bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // opening hours name IANA zones; hosts without a zoneinfo database still know them
)

const usage = `usage: parley COMMAND [flags]

commands:
  serve     run a Parley node (SQLite + embedded NATS by default)
  admin     operator commands against a running node
  chat      the terminal client
  bench     benchmarks (connections, message throughput, baselines)
  version   print the version

Run 'parley COMMAND -h' for a command's flags.
`

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "admin":
		return admin(ctx, args[1:])
	case "chat":
		return chat(ctx, args[1:])
	case "bench":
		return benchCmd(ctx, args[1:])
	case "version":
		fmt.Println("parley", version)
		return nil
	case "-h", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "parley: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
