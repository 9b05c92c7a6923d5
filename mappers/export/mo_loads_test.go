package export_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
)

// TestMOSecondaryLoadOncePerWorkcenter: a work order's secondary
// workcenter (a member of a pool) loads the pool named by the first of the
// routing step's secondary lines for that pool; the addon stops at the
// first match, so a second line for the same pool adds nothing.
func TestMOSecondaryLoadOncePerWorkcenter(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	add := func(model string, recs ...odooemu.Record) {
		m := ds.Model(model)
		m.Records = append(m.Records, recs...)
		odooemu.Reindex(m)
	}
	// Routing step 1 (Manual Assembly, on Assembly Line 1) needs the pool
	// Drill Station 1 twice; work order 1 of WH/MO/00001 uses its member
	// Assembly Line 2.
	add("mrp.secondary.workcenter",
		odooemu.Record{"id": int64(1), "routing_workcenter_id": []any{int64(1), "Manual Assembly"}, "workcenter_id": []any{int64(2), "Drill Station 1"},
			"skill": false, "search_mode": "PRIORITY", "priority": int64(1), "duration": 0.0, "display_name": "Drill Station 1"},
		odooemu.Record{"id": int64(2), "routing_workcenter_id": []any{int64(1), "Manual Assembly"}, "workcenter_id": []any{int64(2), "Drill Station 1"},
			"skill": false, "search_mode": "MINCOST", "priority": int64(2), "duration": 0.0, "display_name": "Drill Station 1"})
	add("mrp.workorder.secondary.workcenter",
		odooemu.Record{"id": int64(1), "workorder_id": []any{int64(1), "WH/MO/00001 - Manual Assembly"}, "workcenter_id": []any{int64(3), "Assembly Line 2"},
			"duration": 0.0, "display_name": "Assembly Line 2"})
	ds.Model("mrp.routing.workcenter").Get(1)["secondary_workcenter"] = []any{int64(1), int64(2)}
	ds.Model("mrp.workorder").Get(1)["secondary_workcenters"] = []any{int64(1)}
	ds.Model("mrp.workcenter").Get(3)["owner"] = []any{int64(2), "Drill Station 1"}

	doc := exportOf(t, ds, export.Params{})
	sub := regexp.MustCompile(`(?s)<suboperation><operation name="WH/MO/00001 - Manual Assembly - 1".*?</suboperation>`).FindString(doc)
	if sub == "" {
		t.Fatal("no suboperation for work order 1")
	}
	if got := strings.Count(sub, `<resource name="Drill Station 1"/>`); got != 1 {
		t.Errorf("work order 1 loads Drill Station 1 %d times, want once: %s", got, sub)
	}
	if !strings.Contains(sub, `search="PRIORITY"><resource name="Drill Station 1"/>`) {
		t.Errorf("the load is not the first routing line's (PRIORITY): %s", sub)
	}
}
