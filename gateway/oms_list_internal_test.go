package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// TestRunListingBudgetAndSources: however the runs are split between the
// store (with or without summaries), the queue and memory, and however
// small the scan budget, following the cursors lists every selected run
// once, newest first.
func TestRunListingBudgetAndSources(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	run := func(i int) *oms.Run {
		return &oms.Run{ID: fmt.Sprintf("RUN%02d", i), TicketID: fmt.Sprintf("T%d", i%3), Database: "odoo17",
			Organization: oms.Ref{ID: 1 + i%2, SearchKey: "Co", Identifier: "Co"}, Start: t0.Add(time.Duration(i) * time.Minute), Fulfilled: i%4 != 0}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name    string
		store   bool
		budget  int
		filter  oms.RunFilter
		limit   int
		want    string // ids newest first, by number
		minPage int    // the fewest pages it may take
	}{
		{name: "store, no filter", store: true, budget: 1000, limit: 4, want: "19 18 17 16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0", minPage: 5},
		{name: "store, tiny budget, rare ticket", store: true, budget: 3, filter: oms.RunFilter{Ticket: "T2"}, limit: 10, want: "17 14 11 8 5 2", minPage: 6},
		{name: "store, budget 1", store: true, budget: 1, filter: oms.RunFilter{Organization: "2", Fulfilled: ptr(false)}, limit: 2, want: ""},
		{name: "store, budget 1, organization 2", store: true, budget: 1, filter: oms.RunFilter{Organization: "2"}, limit: 3, want: "19 17 15 13 11 9 7 5 3 1"},
		{name: "memory", budget: 3, filter: oms.RunFilter{Fulfilled: ptr(false)}, limit: 2, want: "16 12 8 4 0"},
		{name: "another database sees nothing", store: true, budget: 1000, filter: oms.RunFilter{Database: "other"}, limit: 5, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st *store.Store
			if tt.store {
				var err error
				if st, err = store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				// Runs 0..7 stored by an earlier version: no summary.
				var old []store.OMSRun
				for i := 0; i < 8; i++ {
					r := run(i)
					old = append(old, store.OMSRun{ID: r.ID, Start: r.Start, Doc: oms.EncodeRun(r)})
				}
				if err := st.SaveOMSRuns(old, 0, 0, t0); err != nil {
					t.Fatal(err)
				}
			}
			k := newRunKeeper(st, oms.Config{}, func() time.Time { return t0 }, log)
			from := 8
			if !tt.store {
				from = 0
			}
			for i := from; i < 20; i++ {
				if err := k.add(run(i)); err != nil {
					t.Fatal(err)
				}
				if i == 15 && tt.store {
					if !k.flush() { // 8..15 in the store, 16..19 queued
						t.Fatal("flush failed")
					}
				}
			}
			f := tt.filter
			if f.Database == "" {
				f.Database = "odoo17"
			}
			q := runQuery{filter: f, limit: tt.limit}
			var got []string
			pages := 0
			for {
				pages++
				if pages > 100 {
					t.Fatal("the listing does not end")
				}
				runs, next, err := k.list(q, tt.budget)
				if err != nil {
					t.Fatal(err)
				}
				if len(runs) > tt.limit {
					t.Fatalf("page of %d runs, limit %d", len(runs), tt.limit)
				}
				for _, s := range runs {
					if !f.Match(s) {
						t.Errorf("listed %+v, which the filter does not select", s)
					}
					got = append(got, strings.TrimLeft(strings.TrimPrefix(s.ID, "RUN"), "0"))
				}
				if next == nil {
					break
				}
				q.before = next
			}
			for i, g := range got {
				if g == "" {
					got[i] = "0"
				}
			}
			if strings.Join(got, " ") != tt.want || pages < tt.minPage {
				t.Errorf("listed %q in %d pages, want %q in at least %d", strings.Join(got, " "), pages, tt.want, tt.minPage)
			}
			k.close()
		})
	}
}

func ptr[T any](v T) *T { return &v }
