package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "state", summary: "show the extraction history or the plan journal (--plans); drop the cache (--drop) or a stuck plan (--drop-plan), prune or compact the state file", run: runState})
}

type stateFlags struct {
	company  string
	mode     int
	limit    int
	asJSON   bool
	drop     bool
	compact  bool
	pruneAge time.Duration
	keep     int
	plans    bool
	dropPlan string
}

func runState(ctx context.Context, env *cliEnv, args []string) error {
	var sf stateFlags
	extra := func(c *Config) []option {
		return []option{
			{"store", "store", "state store: a bbolt file or etcd://host:2379,.../prefix", &c.Store},
			{"database", "odoo.database", "only this database", &c.Odoo.Database},
		}
	}
	cfg, fs, err := loadStateConfig(env, args, extra, &sf)
	if err != nil {
		return helpOK(err)
	}
	_ = fs
	if cfg.Store == "" {
		return fmt.Errorf("state: no state store: give --store FILE or etcd://... (or PLANGATE_STORE)")
	}
	if sf.compact && store.IsEtcd(cfg.Store) {
		return fmt.Errorf("state --compact: etcd compacts and defragments on its own (--auto-compaction-retention, etcdctl defrag)")
	}
	if sf.compact {
		before, after, err := store.CompactFile(cfg.Store)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "compacted %s: %d → %d bytes\n", cfg.Store, before, after)
		return nil
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if sf.drop {
		if err := st.DropCache(cfg.Odoo.Database); err != nil {
			return err
		}
		if err := st.DropRuns(cfg.Odoo.Database); err != nil {
			return err
		}
		what := "all databases"
		if cfg.Odoo.Database != "" {
			what = "database " + cfg.Odoo.Database
		}
		fmt.Fprintf(env.stdout, "dropped the cache and run history of %s: the next extraction is cold\n", what)
		return nil
	}
	if sf.dropPlan != "" {
		p, err := st.DropPlan(sf.dropPlan)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "dropped plan %s (%s, %s, mode %d, %s after %d attempts): posted again, it is imported afresh\n",
			p.ID, p.Database, p.Company, p.Mode, p.Status, p.Attempts)
		return nil
	}
	if sf.plans {
		plans, err := st.Plans(store.PlanFilter{Database: cfg.Odoo.Database, Company: sf.company, Limit: sf.limit})
		if err != nil {
			return err
		}
		if sf.asJSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(plans)
		}
		printPlans(env.stdout, plans)
		return nil
	}
	if sf.keep > 0 || sf.pruneAge > 0 {
		keep := sf.keep
		if keep == 0 {
			keep = 1 << 30
		}
		n, err := st.PruneRuns(keep, sf.pruneAge, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "pruned %d runs\n", n)
		return nil
	}
	f := store.RunFilter{Database: cfg.Odoo.Database, Company: sf.company, Limit: sf.limit}
	if sf.mode >= 0 {
		f.Mode = &sf.mode
	}
	hist, err := st.Runs(f)
	if err != nil {
		return err
	}
	last, err := st.LastRuns()
	if err != nil {
		return err
	}
	if sf.asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"last": last, "history": hist})
	}
	fmt.Fprintln(env.stdout, "Last run per database, company and mode:")
	printRuns(env.stdout, last)
	fmt.Fprintln(env.stdout)
	fmt.Fprintln(env.stdout, "History (newest first):")
	printRuns(env.stdout, hist)
	return nil
}

func printRuns(w io.Writer, runs []store.Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tDATABASE\tCOMPANY\tMODE\tSTART\tDURATION\tBYTES\tCALLS\tCACHE HITS/MISSES\tERROR")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d/%d\t%s\n", r.ID, r.Database, r.Company, r.Mode,
			r.Start.UTC().Format(time.RFC3339), r.Duration.Round(time.Millisecond), r.Bytes, r.Calls, r.CacheHits, r.CacheMisses, r.Error)
	}
	tw.Flush()
}

func printPlans(w io.Writer, plans []store.Plan) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAN\tDATABASE\tCOMPANY\tMODE\tSTATUS\tATTEMPTS\tRECORDS\tUPDATED\tERROR")
	for _, p := range plans {
		fmt.Fprintf(tw, "%.12s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", p.ID, p.Database, p.Company, p.Mode, p.Status, p.Attempts, p.Records,
			p.Updated.UTC().Format(time.RFC3339), p.Error)
	}
	tw.Flush()
}

// loadStateConfig adds the state command's own flags to the shared ones.
func loadStateConfig(env *cliEnv, args []string, extra func(*Config) []option, sf *stateFlags) (*Config, *flag.FlagSet, error) {
	// The command's own flags are not settings: parse them first, pass the rest on.
	own := flag.NewFlagSet("plangate state", flag.ContinueOnError)
	own.SetOutput(io.Discard)
	own.StringVar(&sf.company, "company", "", "only this company")
	own.IntVar(&sf.mode, "mode", -1, "only this mode")
	own.IntVar(&sf.limit, "limit", 50, "history rows")
	own.BoolVar(&sf.asJSON, "json", false, "print JSON")
	own.BoolVar(&sf.drop, "drop", false, "drop the cache and run history (of --database, else all): forces a cold run")
	own.BoolVar(&sf.compact, "compact", false, "rewrite the file without free pages (gateway must be stopped)")
	own.DurationVar(&sf.pruneAge, "prune-age", 0, "remove runs older than this (the last run per key stays)")
	own.IntVar(&sf.keep, "keep", 0, "keep only this many newest runs (the last run per key stays)")
	own.BoolVar(&sf.plans, "plans", false, "list the journal of imported plans (of --database, --company), newest first")
	own.StringVar(&sf.dropPlan, "drop-plan", "", "remove the journal entry of the plan whose id starts with this (6+ characters): a stuck plan, posted again, is imported afresh")
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := trimFlag(a)
		if f := own.Lookup(name); f != nil {
			one := []string{a}
			if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool && !hasValue(a) && i+1 < len(args) {
				one = append(one, args[i+1])
				i++
			}
			if err := own.Parse(one); err != nil {
				return nil, nil, fmt.Errorf("state: %w", err)
			}
			continue
		}
		rest = append(rest, a)
	}
	cfg, fs, err := loadConfig(env, "state", rest, commonOptions, extra)
	if err == errHelp {
		own.SetOutput(env.stderr)
		own.PrintDefaults()
	}
	return cfg, fs, err
}

func trimFlag(a string) string {
	for len(a) > 0 && a[0] == '-' {
		a = a[1:]
	}
	for i := 0; i < len(a); i++ {
		if a[i] == '=' {
			return a[:i]
		}
	}
	return a
}

func hasValue(a string) bool {
	for i := 0; i < len(a); i++ {
		if a[i] == '=' {
			return true
		}
	}
	return false
}
