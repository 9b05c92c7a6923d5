package store

import (
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestPlanJournal(t *testing.T) { forEachBackend(t, testPlanJournal) }

func testPlanJournal(t *testing.T, s *Store) {
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

// Steps are stored one key each: recording a step writes that step and
// the small header only, however many steps the plan already has.
func TestPlanStepsIncremental(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &Plan{ID: "p1", Status: PlanApplying, Steps: map[string][]int{}}
	for i := 0; i < 2000; i++ {
		k := "pol:" + strconv.Itoa(i)
		p.Steps[k] = []int{i}
		if err := s.SavePlanSteps(p, []string{k}); err != nil {
			t.Fatal(err)
		}
	}
	var head int
	s.db.View(func(tx *bolt.Tx) error {
		head = len(tx.Bucket([]byte(bucketPlans)).Get([]byte("p1")))
		return nil
	})
	if head > 1024 {
		t.Errorf("header of a plan with 2000 steps is %d bytes: steps are stored inline", head)
	}
	got, ok, err := s.Plan("p1")
	if err != nil || !ok || len(got.Steps) != 2000 || got.Steps["pol:1999"][0] != 1999 {
		t.Fatalf("read back %d steps (%v %v)", len(got.Steps), ok, err)
	}
	// A step changed in memory but not listed is not written.
	p.Steps["pol:0"] = []int{42}
	if err := s.SavePlanSteps(p, nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Plan("p1"); got.Steps["pol:0"][0] != 0 {
		t.Errorf("unlisted step written: %v", got.Steps["pol:0"])
	}
	// Entries written with inline steps (before the steps bucket) still read.
	old := []byte(`{"id":"old","status":"done","steps":{"po:9":[19]}}`)
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketPlans)).Put([]byte("old"), old) })
	if got, ok, err := s.Plan("old"); err != nil || !ok || got.Steps["po:9"][0] != 19 {
		t.Fatalf("old entry: %+v %v %v", got, ok, err)
	}
	// Pruning removes the steps too.
	p.Status, p.Updated = PlanDone, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.SavePlanSteps(p, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PrunePlans(time.Hour, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want 2", n, err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bucketPlanSteps)).Bucket([]byte("p1")) != nil {
			t.Error("steps of a pruned plan left behind")
		}
		return nil
	})
}

// StartPlan replaces an earlier import of the same plan and makes it the
// head of its database and company; DropPlan removes an entry by id
// prefix, with its steps and the head naming it.
func TestPlanHeadsAndDrop(t *testing.T) { forEachBackend(t, testPlanHeadsAndDrop) }

func testPlanHeadsAndDrop(t *testing.T, s *Store) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	a := &Plan{ID: PlanID("odoo17", "SF", 1, []byte("A")), Database: "odoo17", Company: "SF", Status: PlanDone, Updated: now,
		Steps: map[string][]int{"po:9": {19}, "pol:0": {30}}}
	b := &Plan{ID: PlanID("odoo17", "SF", 1, []byte("B")), Database: "odoo17", Company: "SF", Status: PlanFailed, Updated: now.Add(time.Minute)}
	c := &Plan{ID: PlanID("odoo17", "Chicago", 1, []byte("A")), Database: "odoo17", Company: "Chicago", Status: PlanDone, Updated: now}
	for _, p := range []*Plan{a, b, c} {
		if err := s.StartPlan(p); err != nil {
			t.Fatal(err)
		}
	}
	head := func(company string) string {
		t.Helper()
		h, known, err := s.PlanHead("odoo17", company)
		if err != nil {
			t.Fatal(err)
		}
		if !known {
			return "unknown"
		}
		return h
	}
	if head("SF") != b.ID || head("Chicago") != c.ID || head("Other") != "unknown" {
		t.Fatalf("heads SF %.8s Chicago %.8s Other %q", head("SF"), head("Chicago"), head("Other"))
	}
	// A again, afresh: its old steps go, it is the head again.
	a2 := &Plan{ID: a.ID, Database: "odoo17", Company: "SF", Status: PlanApplying, Updated: now.Add(2 * time.Minute), Steps: map[string][]int{"po:10": {20}}}
	if err := s.StartPlan(a2); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Plan(a.ID)
	if err != nil || len(got.Steps) != 1 || got.Steps["po:10"][0] != 20 || head("SF") != a.ID {
		t.Fatalf("restarted plan: steps %v err %v head %.8s", got.Steps, err, head("SF"))
	}
	list, err := s.Plans(PlanFilter{Database: "odoo17", Company: "SF"})
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("Plans: %d entries (%v), want A then B", len(list), err)
	}

	if _, err := s.DropPlan(a.ID[:3]); err == nil {
		t.Error("a 3-character prefix was accepted")
	}
	if _, err := s.DropPlan("ffffffffffff"); !errors.Is(err, ErrNoPlan) {
		t.Errorf("unknown prefix: %v, want ErrNoPlan", err)
	}
	dropped, err := s.DropPlan(a.ID[:8])
	if err != nil || dropped.ID != a.ID {
		t.Fatalf("DropPlan: %v %v", dropped, err)
	}
	if _, ok, _ := s.Plan(a.ID); ok {
		t.Error("dropped plan still there")
	}
	if head("SF") != "" {
		t.Errorf("head of SF is %.8s after its plan was dropped, want none", head("SF"))
	}
	if _, err := s.DropPlan(b.ID[:8]); err != nil || head("Chicago") != c.ID {
		t.Errorf("dropping B (not a head): %v; Chicago's head %.8s", err, head("Chicago"))
	}
}
