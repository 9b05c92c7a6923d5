package store

import (
	"testing"
	"time"
)

// A schedule mark only moves forward, is kept per shop and job, and goes
// with its shop.
func TestScheduleMark(t *testing.T) { forEachBackend(t, testScheduleMark) }

func testScheduleMark(t *testing.T, s *Store) {
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	if _, found, err := s.ScheduleMark("tb", "orders"); err != nil || found {
		t.Fatalf("mark of a new shop: found %v err %v, want none", found, err)
	}
	steps := []struct {
		name      string
		shop, job string
		end       time.Time
		moved     bool
		want      time.Time // the stored end after the step
	}{
		{"first", "tb", "orders", t0, true, t0},
		{"later", "tb", "orders", t0.Add(time.Minute), true, t0.Add(time.Minute)},
		{"earlier stays", "tb", "orders", t0, false, t0.Add(time.Minute)},
		{"same stays", "tb", "orders", t0.Add(time.Minute), false, t0.Add(time.Minute)},
		{"other job", "tb", "missing_orders", t0.Add(-time.Hour), true, t0.Add(-time.Hour)},
		{"other shop", "tb2", "orders", t0.Add(time.Hour), true, t0.Add(time.Hour)},
	}
	for _, st := range steps {
		moved, err := s.AdvanceScheduleMark(ScheduleMark{Shop: st.shop, Job: st.job, End: st.end, Updated: t0})
		if err != nil || moved != st.moved {
			t.Fatalf("%s: moved %v err %v, want %v", st.name, moved, err, st.moved)
		}
		m, found, err := s.ScheduleMark(st.shop, st.job)
		if err != nil || !found || !m.End.Equal(st.want) {
			t.Fatalf("%s: mark %+v found %v err %v, want end %v", st.name, m, found, err, st.want)
		}
	}
	if m, _, _ := s.ScheduleMark("tb", "orders"); !m.End.Equal(t0.Add(time.Minute)) {
		t.Errorf("orders mark of tb changed by other jobs and shops: %v", m.End)
	}
	for _, bad := range []ScheduleMark{{Job: "orders"}, {Shop: "tb"}, {Shop: "t\x00b", Job: "orders"}} {
		if _, err := s.AdvanceScheduleMark(bad); err == nil {
			t.Errorf("mark %+v accepted", bad)
		}
	}
	if err := s.SaveShop(Shop{Name: "tb", AppKey: "k"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteShop("tb"); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"orders", "missing_orders"} {
		if _, found, _ := s.ScheduleMark("tb", job); found {
			t.Errorf("mark %s of a deleted shop kept: a new shop of that name would skip its first window", job)
		}
	}
	if _, found, _ := s.ScheduleMark("tb2", "orders"); !found {
		t.Error("deleting tb removed tb2's mark")
	}
}
