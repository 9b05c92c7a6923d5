package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestOMSRunsRetention(t *testing.T) { forEachBackend(t, testOMSRunsRetention) }

func testOMSRunsRetention(t *testing.T, st *Store) {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	run := func(i int) OMSRun {
		return OMSRun{ID: fmt.Sprintf("R%02d", i), Start: t0.Add(time.Duration(i) * time.Hour), Doc: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	tests := []struct {
		name      string
		save      []int
		keep      int
		maxAge    time.Duration
		now       time.Time
		wantCount int
		gone      []int
		kept      []int
	}{
		{name: "no limits", save: []int{0, 1, 2}, wantCount: 3, kept: []int{0, 1, 2}},
		{name: "resaving a run does not count twice", save: []int{2}, wantCount: 3, kept: []int{2}},
		{name: "keep the newest 4", save: []int{3, 4, 5}, keep: 4, wantCount: 4, gone: []int{0, 1}, kept: []int{2, 3, 4, 5}},
		{name: "age limit", save: []int{6}, keep: 10, maxAge: 2 * time.Hour, now: t0.Add(6 * time.Hour), wantCount: 3, gone: []int{2, 3}, kept: []int{4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []OMSRun
			for _, i := range tt.save {
				rs = append(rs, run(i))
			}
			if err := st.SaveOMSRuns(rs, tt.keep, tt.maxAge, tt.now); err != nil {
				t.Fatal(err)
			}
			if n, _ := st.OMSRunCount(); n != tt.wantCount {
				t.Errorf("count %d, want %d", n, tt.wantCount)
			}
			for _, i := range tt.gone {
				if _, found, _ := st.OMSRunDoc(run(i).ID); found {
					t.Errorf("run %d survived retention", i)
				}
			}
			for _, i := range tt.kept {
				doc, found, err := st.OMSRunDoc(run(i).ID)
				if err != nil || !found || string(doc) != string(run(i).Doc) {
					t.Errorf("run %d: %q %v %v", i, doc, found, err)
				}
			}
		})
	}
	if err := st.SaveOMSRuns([]OMSRun{{Start: t0}}, 0, 0, t0); err == nil {
		t.Error("run without id saved")
	}
}

func TestScanOMSRuns(t *testing.T) { forEachBackend(t, testScanOMSRuns) }

func testScanOMSRuns(t *testing.T, st *Store) {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var runs []OMSRun
	for i := 0; i < 10; i++ {
		r := OMSRun{ID: fmt.Sprintf("R%02d", i), Start: t0.Add(time.Duration(i) * time.Hour), Doc: []byte(fmt.Sprintf("doc %d", i))}
		if i%3 != 0 { // runs 0, 3, 6, 9 stand for runs stored before summaries were
			r.Summary = []byte(fmt.Sprintf("sum %d", i))
		}
		runs = append(runs, r)
	}
	if err := st.SaveOMSRuns(runs, 0, 0, t0); err != nil {
		t.Fatal(err)
	}
	// scan lists the ids visited, checking each entry against its run.
	scan := func(t *testing.T, q OMSRunScan, stopAfter int) ([]string, []byte) {
		t.Helper()
		var ids []string
		resume, err := st.ScanOMSRuns(q, func(e OMSRunEntry) (bool, error) {
			var i int
			if _, err := fmt.Sscanf(e.ID, "R%02d", &i); err != nil {
				t.Fatalf("entry id %q", e.ID)
			}
			r := runs[i]
			if !e.Start.Equal(r.Start) || string(e.Position) != string(OMSRunPosition(r.Start, r.ID)) {
				t.Errorf("%s: start %v position %x", e.ID, e.Start, e.Position)
			}
			if r.Summary != nil && (string(e.Summary) != string(r.Summary) || e.Doc != nil) ||
				r.Summary == nil && (e.Summary != nil || string(e.Doc) != string(r.Doc)) {
				t.Errorf("%s: summary %q doc %q: want the summary, or the document when there is none", e.ID, e.Summary, e.Doc)
			}
			ids = append(ids, e.ID)
			return stopAfter == 0 || len(ids) < stopAfter, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, resume
	}
	ids := func(from, to int) []string { // from down to to, inclusive
		var out []string
		for i := from; i >= to; i-- {
			out = append(out, fmt.Sprintf("R%02d", i))
		}
		return out
	}
	tests := []struct {
		name       string
		q          OMSRunScan
		stopAfter  int
		want       []string
		wantResume bool
	}{
		{name: "all, newest first", want: ids(9, 0)},
		{name: "since is inclusive, until exclusive", q: OMSRunScan{Since: t0.Add(2 * time.Hour), Until: t0.Add(5 * time.Hour)}, want: ids(4, 2)},
		{name: "before a position", q: OMSRunScan{Before: OMSRunPosition(runs[4].Start, runs[4].ID)}, want: ids(3, 0)},
		{name: "before and until: the tighter wins", q: OMSRunScan{Before: OMSRunPosition(runs[8].Start, runs[8].ID), Until: t0.Add(3 * time.Hour)}, want: ids(2, 0)},
		{name: "budget", q: OMSRunScan{Budget: 4}, want: ids(9, 6), wantResume: true},
		{name: "fn stops", stopAfter: 2, want: ids(9, 8), wantResume: true},
		{name: "budget not reached", q: OMSRunScan{Budget: 20}, want: ids(9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, resume := scan(t, tt.q, tt.stopAfter)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || (resume != nil) != tt.wantResume {
				t.Errorf("visited %v resume %x, want %v (resume %v)", got, resume, tt.want, tt.wantResume)
			}
		})
	}
	t.Run("resuming a budgeted scan visits every run once", func(t *testing.T) {
		var all []string
		q := OMSRunScan{Budget: 3}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("the scan does not end")
			}
			got, resume := scan(t, q, 0)
			all = append(all, got...)
			if resume == nil {
				break
			}
			q.Before = resume
		}
		if fmt.Sprint(all) != fmt.Sprint(ids(9, 0)) {
			t.Errorf("visited %v", all)
		}
	})
}

// TestScanOMSRunsAcrossDensities: a history of sparse days, a burst of
// 3000 runs within a second and runs ahead of the clock lists completely,
// newest first, whether in one go, by budgeted pages or from a bound
// (on etcd the scan walks back in windows of time sized by counting).
func TestScanOMSRunsAcrossDensities(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		now := time.Now().UTC()
		var starts []time.Time
		for d := 400; d > 0; d -= 7 { // weekly, for over a year
			starts = append(starts, now.AddDate(0, 0, -d))
		}
		burst, first := now.Add(-time.Hour), len(starts) // first: index of the burst's first run
		for i := 0; i < 3000; i++ {
			starts = append(starts, burst.Add(time.Duration(i)*300*time.Microsecond))
		}
		starts = append(starts, now.Add(-time.Second), now.Add(2*time.Hour)) // the last one ahead of this clock
		runs := make([]OMSRun, len(starts))
		for i, s := range starts {
			runs[i] = OMSRun{ID: fmt.Sprintf("R%05d", i), Start: s, Summary: []byte("s")}
		}
		for i := 0; i < len(runs); i += 500 {
			if err := st.SaveOMSRuns(runs[i:min(i+500, len(runs))], 0, 0, now); err != nil {
				t.Fatal(err)
			}
		}
		newestFirst := func(from, to int) []string { // indexes from down to to
			var ids []string
			for i := from; i >= to; i-- {
				ids = append(ids, runs[i].ID)
			}
			return ids
		}
		list := func(q OMSRunScan) ([]string, []byte) {
			var ids []string
			resume, err := st.ScanOMSRuns(q, func(e OMSRunEntry) (bool, error) {
				ids = append(ids, e.ID)
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return ids, resume
		}
		n := len(runs)
		if got, _ := list(OMSRunScan{}); !slices.Equal(got, newestFirst(n-1, 0)) {
			t.Errorf("whole listing: %d runs, first %v; want %d newest first", len(got), got[:min(3, len(got))], n)
		}
		var paged []string
		q := OMSRunScan{Budget: 700}
		for pages := 0; ; pages++ {
			if pages > n/700+2 {
				t.Fatal("budgeted pages do not end")
			}
			got, resume := list(q)
			paged = append(paged, got...)
			if resume == nil {
				break
			}
			q.Before = resume
		}
		if !slices.Equal(paged, newestFirst(n-1, 0)) {
			t.Errorf("budgeted pages visit %d runs, want each of %d once, newest first", len(paged), n)
		}
		// From the burst's middle to its last run (excluded): none of its
		// first half, nor the runs after it.
		got, _ := list(OMSRunScan{Since: starts[first+1500], Until: starts[first+2999]})
		if !slices.Equal(got, newestFirst(first+2998, first+1500)) {
			t.Errorf("bounded listing: %d runs, want %d", len(got), 1499)
		}
	})
}
