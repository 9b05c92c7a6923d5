package store

import (
	"reflect"
	"testing"
	"time"
)

func TestRunsHistoryAndLast(t *testing.T) { forEachBackend(t, testRunsHistoryAndLast) }

func testRunsHistoryAndLast(t *testing.T, s *Store) {
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i, tc := range []struct {
		db, company string
		mode        int
	}{
		{"odoo17", "SF", 1}, {"odoo17", "SF", 2}, {"odoo17", "SF", 1}, {"other", "X", 1},
	} {
		start := base.Add(time.Duration(i) * time.Minute)
		r := Run{ID: NewRunID(start), Database: tc.db, Company: tc.company, Mode: tc.mode, Start: start,
			Sections: map[string]int{"items": i}, Watermarks: map[string]string{"product.product": "2026-11-23 23:00:00"}}
		if err := s.SaveRun(r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Runs(RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Database != "other" {
		t.Fatalf("runs newest first: got %d runs, first %+v", len(all), all[0])
	}
	one := 1
	sf1, _ := s.Runs(RunFilter{Database: "odoo17", Company: "SF", Mode: &one})
	if len(sf1) != 2 || sf1[0].Sections["items"] != 2 {
		t.Errorf("filtered runs = %+v", sf1)
	}
	last, err := s.LastRuns()
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 3 {
		t.Fatalf("last runs: got %d, want 3 (one per database/company/mode)", len(last))
	}
	if last[0].Database != "odoo17" || last[0].Mode != 1 || last[0].Sections["items"] != 2 {
		t.Errorf("last run of odoo17/SF/1 = %+v", last[0])
	}
}

func TestPruneRunsKeepsLastPerKey(t *testing.T) { forEachBackend(t, testPruneRunsKeepsLastPerKey) }

func testPruneRunsKeepsLastPerKey(t *testing.T, s *Store) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		start := base.Add(time.Duration(i) * time.Hour)
		company := "A"
		if i == 0 {
			company = "B" // the only run of B: oldest, but protected
		}
		if err := s.SaveRun(Run{ID: NewRunID(start), Database: "d", Company: company, Mode: 1, Start: start}); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := s.PruneRuns(3, 0, base)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 6 {
		t.Errorf("removed %d runs, want 6 (10 - 3 kept - 1 protected)", removed)
	}
	runs, _ := s.Runs(RunFilter{})
	if len(runs) != 4 || runs[3].Company != "B" {
		t.Errorf("after prune: %d runs, oldest %+v", len(runs), runs[len(runs)-1])
	}
	removed, _ = s.PruneRuns(100, 2*time.Hour, base.Add(10*time.Hour))
	if removed != 1 {
		t.Errorf("age prune removed %d, want 1 (the run at +7h; +8h and +9h are recent, B protected)", removed)
	}
}

func TestCacheRoundTripKeepsTypes(t *testing.T) { forEachBackend(t, testCacheRoundTripKeepsTypes) }

func testCacheRoundTripKeepsTypes(t *testing.T, s *Store) {
	rec := map[string]any{"id": int64(7), "qty": float64(66), "ratio": 8.333333333333334, "name": "Chaise \"café\" & <co>",
		"uom_id": []any{int64(1), "Units"}, "tag_ids": []any{}, "date": false, "tiny": 1e-05}
	meta := CacheMeta{Database: "odoo17", Model: "product.product", Watermark: "2026-11-23 23:24:00"}
	if err := s.CacheApply("k", meta, map[int]map[string]any{7: rec, 8: {"id": int64(8)}}, nil, true); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := s.CacheRecords("k", []int{8, 9, 7}, func(id int, r map[string]any) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["id"] != int64(8) {
		t.Fatalf("records in requested order, missing skipped: got %v", got)
	}
	if !reflect.DeepEqual(got[1], rec) {
		t.Errorf("round trip changed the record:\n got %#v\nwant %#v", got[1], rec)
	}
	m, ok, _ := s.CacheMeta("k")
	if !ok || m.Count != 2 || m.Watermark != meta.Watermark {
		t.Errorf("meta = %+v", m)
	}
	if err := s.CacheApply("k", m, nil, []int{8}, false); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.CacheIDs("k")
	if !reflect.DeepEqual(ids, []int{7}) {
		t.Errorf("ids after delete = %v", ids)
	}
	if err := s.DropCache("odoo17"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.CacheMeta("k"); ok {
		t.Error("cache survived DropCache")
	}
}
