package store

import (
	"fmt"
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
