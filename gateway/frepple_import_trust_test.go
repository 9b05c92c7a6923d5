package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/plangate/plangate/mappers/odoo"
)

// drafts counts the draft RFQs and MOs of frePPLe origin in Odoo: what a
// mode-1 cleanup removes.
func drafts(t *testing.T, s *odoo.Session) (pos, mos int) {
	t.Helper()
	ctx := context.Background()
	p, err := s.SearchCount(ctx, "purchase.order", odoo.Domain{odoo.Term("state", "=", "draft"), odoo.Term("origin", "=like", "frePPLe%")}, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.SearchCount(ctx, "mrp.production", odoo.Domain{odoo.Term("state", "=", "draft"), odoo.Term("origin", "=like", "frePPLe%")}, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// A file that is not a complete plan, posted in mode 1, answers 400
// naming the problem and deletes nothing: the drafts the previous plan
// left stay in Odoo (issue #12 item 1). Before the fix the first six
// answered 200 "Removed 2 old draft purchase orders ...".
func TestImportBadPlanDeletesNothing(t *testing.T) {
	r := startImportRig(t)
	s := r.odooSession(t)
	if status, body := r.post(t, "1", r.plan); status != 200 {
		t.Fatalf("first plan: %d %s", status, body)
	}
	pos, mos := drafts(t, s)
	if pos != 2 || mos != 2 {
		t.Fatalf("the first plan left %d draft RFQs and %d MOs, want 2 and 2", pos, mos)
	}
	const decl = `<?xml version="1.0" encoding="UTF-8" ?>` + "\n"
	cases := []struct {
		name, file, want string
	}{
		{"empty file", "", "empty"},
		{"plain text", "Internal Server Error: the planner crashed\n", "text outside"},
		{"XML declaration alone", decl, "no <plan> element"},
		{"HTML error page", "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n", "root element <html>"},
		{"HTML5 error page", "<!doctype html>\n<html><body>error</body></html>", "DOCTYPE"},
		{"UTF-16 declared over ASCII", `<?xml version="1.0" encoding="UTF-16"?>` + "\n<plan><operationplans></operationplans></plan>", "UTF-16"},
		{"no plan root", decl + "<operationplans></operationplans>", "root element <operationplans>"},
		{"ends before </plan>", decl + "<plan>\n<operationplans>\n", "ends before </plan>"},
		{"ends before </plan>, container closed", decl + "<plan>\n<operationplans>\n</operationplans>\n", "ends before </plan>"},
		{"second root", decl + "<plan></plan>\n<plan></plan>", "after </plan>"},
		{"text after the plan", decl + "<plan></plan>\ntrailing garbage", "text outside"},
		{"BOM and whitespace only", "\ufeff \n\t", "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(r.emu.Journal())
			status, body := r.post(t, "1", []byte(c.file))
			if status != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Errorf("status %d body %q, want 400 containing %q", status, body, c.want)
			}
			if n := len(r.emu.Journal()) - before; n != 0 {
				t.Errorf("%d writes to Odoo for a rejected plan", n)
			}
			if p, m := drafts(t, s); p != pos || m != mos {
				t.Errorf("drafts now %d RFQs and %d MOs, want %d and %d kept", p, m, pos, mos)
			}
		})
	}
	// A complete plan without operationplans is the planner saying "no
	// proposals": in mode 1 the addon then removes the old drafts, and so
	// does plangate.
	status, body := r.post(t, "1", []byte(decl+"<plan><operationplans></operationplans></plan>"))
	if status != 200 || !strings.HasPrefix(body, "Removed 2 old draft purchase orders\nRemoved 2 old draft manufacturing orders") {
		t.Fatalf("empty plan: status %d body %q", status, body)
	}
	if p, m := drafts(t, s); p != 0 || m != 0 {
		t.Errorf("an empty mode-1 plan left %d draft RFQs and %d MOs", p, m)
	}
}
