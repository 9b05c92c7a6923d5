package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "store", summary: "move the state between stores: store copy --from state.db --to etcd://host:2379/plangate (or back)", run: runStore})
}

// openStore opens the configured state store: a bbolt file, or etcd with
// the settings of the etcd block.
func openStore(ctx context.Context, cfg *Config, readOnly bool) (*store.Store, error) {
	return store.OpenLocation(ctx, cfg.Store, store.Options{ReadOnly: readOnly, Etcd: cfg.Etcd})
}

func runStore(ctx context.Context, env *cliEnv, args []string) error {
	const usageLine = "Usage: plangate store copy --from LOCATION --to LOCATION [--config FILE]\n\n" +
		"Copies all state (extraction runs, cache, plan journal, shops, sourcing runs) into an empty\n" +
		"store. A LOCATION is a bbolt file or etcd://host:2379[,host:2379...]/prefix; the etcd block\n" +
		"of the configuration (TLS, user; password in PLANGATE_ETCD_PASSWORD) applies to both.\n" +
		"Stop the gateways first: writes made during the copy may be missed.\n"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.stderr, usageLine)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "copy" {
		fmt.Fprintf(env.stderr, "plangate store: unknown action %q\n\n%s", args[0], usageLine)
		return errUsage
	}
	// --from and --to are the command's own; the rest are settings.
	own := flag.NewFlagSet("plangate store copy", flag.ContinueOnError)
	own.SetOutput(io.Discard)
	from := own.String("from", "", "store to copy from")
	to := own.String("to", "", "empty store to copy into")
	var rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if f := own.Lookup(trimFlag(a)); f != nil {
			one := []string{a}
			if !hasValue(a) && i+1 < len(args) {
				one = append(one, args[i+1])
				i++
			}
			if err := own.Parse(one); err != nil {
				return fmt.Errorf("store copy: %w", err)
			}
			continue
		}
		rest = append(rest, a)
	}
	cfg, _, err := loadConfig(env, "store", rest, commonOptions)
	if err != nil {
		return helpOK(err)
	}
	if *from == "" || *to == "" || *from == *to {
		fmt.Fprint(env.stderr, usageLine)
		return fmt.Errorf("store copy: give two different --from and --to: %w", errUsage)
	}
	open := func(loc string, readOnly bool) (*store.Store, error) {
		c := *cfg
		c.Store = loc
		return openStore(ctx, &c, readOnly)
	}
	src, err := open(*from, true)
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	defer src.Close()
	dst, err := open(*to, false)
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	defer dst.Close()
	copied, skipped, err := store.Copy(dst, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "copied %d keys from %s to %s", copied, src.Path(), dst.Path())
	if skipped > 0 {
		fmt.Fprintf(env.stdout, " (%d cached records too large for one etcd value left out: they are read from Odoo again)", skipped)
	}
	fmt.Fprintln(env.stdout)
	return nil
}
