// Command plangate is the gateway between Odoo and planning/fulfilment
// systems. Subcommands: serve, demo, export, emulator, version, and more
// (see `plangate help`). main only wires; run is what tests call too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	_ "time/tzdata" // ?timezone= and Odoo users' zones resolve the same on hosts without a zoneinfo database
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	// args names what follows the command besides flags, for its usage
	// line (e.g. "ACTION [NAME]"); empty: flags only.
	args string
	// help is printed under the summary by `plangate <command> --help`.
	help string
	run  func(ctx context.Context, env *cliEnv, args []string) error
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

// errUsage marks a command-line mistake (exit code 2). run has printed
// what was wrong and the usage by the time it returns an error wrapping it.
var errUsage = errors.New("usage")

// usageError is a command-line mistake found by a command: run prints its
// message and the command's usage to stderr.
type usageError struct {
	cmd string
	fs  *flag.FlagSet // the command's flags, for its usage; nil: plangate's usage
	msg string
}

func (e *usageError) Error() string {
	if e.cmd == "" {
		return "plangate: " + e.msg
	}
	return "plangate " + e.cmd + ": " + e.msg
}
func (e *usageError) Unwrap() error { return errUsage }

// usageErrorf reports a command-line mistake of the command whose flag set is fs.
func usageErrorf(cmd string, fs *flag.FlagSet, format string, args ...any) error {
	return &usageError{cmd: cmd, fs: fs, msg: fmt.Sprintf(format, args...)}
}

// noArgs refuses positional arguments of a command that takes none.
func noArgs(cmd string, fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageErrorf(cmd, fs, "unexpected argument %q (this command takes only flags)", fs.Arg(0))
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, os.Args[1:], env); err != nil {
		stop()
		if errors.Is(err, errUsage) {
			os.Exit(2) // run has said what was wrong
		}
		if st := exitStatus(0); errors.As(err, &st) { // the command has reported
			os.Exit(int(st))
		}
		fmt.Fprintln(os.Stderr, "plangate:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand. A usage mistake is printed here, with
// the usage of the command it concerns, and returned wrapping errUsage.
func run(ctx context.Context, args []string, env *cliEnv) error {
	err := dispatch(ctx, args, env)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.stderr, "%s\n\n", ue)
		if ue.fs != nil {
			printUsage(env.stderr, ue.cmd, ue.fs)
		} else {
			usage(env.stderr)
		}
		return err
	}
	return err
}

func dispatch(ctx context.Context, args []string, env *cliEnv) error {
	if len(args) == 0 {
		return &usageError{cmd: "", msg: "no command given"}
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			usage(env.stdout)
			return nil
		}
		name, args = args[1], []string{name, "--help"}
	}
	c, ok := commands[name]
	if !ok {
		return &usageError{cmd: "", msg: fmt.Sprintf("unknown command %q", name)}
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
	fmt.Fprintln(w, "as underscores, e.g. PLANGATE_ODOO_URL for --odoo-url) and most as a key of the")
	fmt.Fprintln(w, "--config YAML file. Flags win over the environment, which wins over the file.")
	fmt.Fprintln(w, "`plangate <command> --help` (or `plangate help <command>`) explains each flag.")
}
