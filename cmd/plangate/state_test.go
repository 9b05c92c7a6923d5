package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/store"
)

// `plangate state --plans` lists the plan journal and `--drop-plan`
// removes a stuck entry, so the plan posted again is imported afresh
// (issue #12 item 3d).
func TestStatePlans(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(file, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stuck := &store.Plan{ID: store.PlanID("odoo17", "SF", 1, []byte("A")), Database: "odoo17", Company: "SF", Mode: 1,
		Status: store.PlanFailed, Attempts: 3, Updated: time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), Error: "odoo down"}
	done := &store.Plan{ID: store.PlanID("odoo17", "SF", 3, []byte("B")), Database: "odoo17", Company: "SF", Mode: 3,
		Status: store.PlanDone, Attempts: 1, Updated: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	for _, p := range []*store.Plan{done, stuck} {
		if err := st.StartPlan(p); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	state := func(args ...string) (string, error) {
		env, out, _ := testEnv(nil)
		err := run(context.Background(), append([]string{"state", "--store", file}, args...), env)
		return out.String(), err
	}
	out, err := state("--plans")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], stuck.ID[:12]) || !strings.Contains(lines[1], "failed") || !strings.Contains(lines[1], "odoo down") ||
		!strings.HasPrefix(lines[2], done.ID[:12]) {
		t.Fatalf("--plans printed:\n%s", out)
	}
	out, err = state("--drop-plan", stuck.ID[:12])
	if err != nil || !strings.Contains(out, "dropped plan "+stuck.ID) {
		t.Fatalf("--drop-plan: %v\n%s", err, out)
	}
	if _, err := state("--drop-plan", stuck.ID[:12]); err == nil || !strings.Contains(err.Error(), "no such plan") {
		t.Errorf("dropping it twice: %v, want no such plan", err)
	}
	st, err = store.Open(file, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok, _ := st.Plan(stuck.ID); ok {
		t.Error("the dropped plan is still journaled")
	}
	if h, _, _ := st.PlanHead("odoo17", "SF"); h != "" {
		t.Errorf("the head of odoo17/SF still names the dropped plan")
	}
	if _, ok, _ := st.Plan(done.ID); !ok {
		t.Error("the other plan was dropped too")
	}
}
