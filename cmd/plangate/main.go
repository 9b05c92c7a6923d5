// Command plangate is the gateway between Odoo and planning/fulfilment
// systems. Subcommands: serve, demo, export, emulator, version, and more
// (see `plangate help`). main only wires; run is what tests call too.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// commands is filled by each subcommand's file in init().
var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// cliEnv is the process environment as run sees it (injectable for tests).
type cliEnv struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// ready, when set, is told the address a server listens on (tests).
	ready func(addr string)
}

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, os.Args[1:], env); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		if st := exitStatus(0); errors.As(err, &st) { // the command has reported
			os.Exit(int(st))
		}
		fmt.Fprintln(os.Stderr, "plangate:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, env *cliEnv) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, env, []string{"--help"})
			}
		}
		usage(env.stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "plangate: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return errUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "plangate: a gateway between Odoo and planning/fulfilment systems.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: plangate <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set as an environment variable PLANGATE_<FLAG> (dashes")
	fmt.Fprintln(w, "as underscores, e.g. PLANGATE_ODOO_URL) or as a key of the --config YAML file.")
	fmt.Fprintln(w, "Flags win over the environment, which wins over the file.")
	fmt.Fprintln(w, "`plangate <command> --help` explains each flag.")
	_ = strings.TrimSpace
}
