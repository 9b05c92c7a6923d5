package store

import (
	"path/filepath"
	"testing"
	"time"
)

func TestPlanJournal(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	id := PlanID("odoo17", "My Company", 1, []byte("<plan/>"))
	if id == PlanID("odoo17", "My Company", 3, []byte("<plan/>")) || id == PlanID("odoo17", "", 1, []byte("<plan/>")) {
		t.Fatal("plan id ignores mode or company")
	}
	p := &Plan{ID: id, Status: PlanApplying, Updated: now, Steps: map[string][]int{"po:9": {19}}}
	if err := s.SavePlan(p); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Plan(id)
	if err != nil || !ok || got.Steps["po:9"][0] != 19 || got.Status != PlanApplying {
		t.Fatalf("read back %+v %v %v", got, ok, err)
	}
	// Only finished entries older than the retention go.
	if n, err := s.PrunePlans(time.Hour, now.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d unfinished plans (%v)", n, err)
	}
	p.Status = PlanDone
	if err := s.SavePlan(p); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PrunePlans(time.Hour, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d, want 1 (%v)", n, err)
	}
	if _, ok, _ := s.Plan(id); ok {
		t.Error("pruned plan still there")
	}
}
