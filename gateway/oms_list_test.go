package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/mappers/oms"
)

// listedPage is an answer of GET /oms/runs.
type listedPage struct {
	Runs []oms.RunSummary `json:"runs"`
	Next string           `json:"next"`
}

func (r *omsRig) list(t *testing.T, query string) listedPage {
	t.Helper()
	res := r.get(t, "/oms/runs?"+query, basic("admin", "admin"))
	if res.status != http.StatusOK {
		t.Fatalf("GET /oms/runs?%s: %d %s", query, res.status, res.body)
	}
	var p listedPage
	if err := json.Unmarshal([]byte(res.body), &p); err != nil {
		t.Fatalf("GET /oms/runs?%s: %v in %s", query, err, res.body)
	}
	return p
}

func tickets(p listedPage) string {
	var ids []string
	for _, s := range p.Runs {
		ids = append(ids, s.TicketID)
	}
	return strings.Join(ids, " ")
}

// TestOMSRunsListing: GET /oms/runs lists the caller's runs newest first,
// filtered and paged, the run answered a moment ago included.
func TestOMSRunsListing(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	// T1..T6 a minute apart: odd ones for San Francisco (company 1), even
	// ones for Chicago (2); T5 and T6 ask more than their company holds.
	qty := map[int]string{1: "5", 2: "5", 3: "5", 4: "5", 5: "5000", 6: "50"}
	for i := 1; i <= 6; i++ {
		org := "1"
		if i%2 == 0 {
			org = "2"
		}
		r.clock.add(time.Minute)
		res := r.post(t, "/oms/orders-proposal", `{"ticket":{"id":"T`+string(rune('0'+i))+`","date":"2026-11-24","organization":{"id":"`+org+`"},"lines":[{"id":"1","product":{"id":"17"},"qty":`+qty[i]+`,"uom":"1"}]}}`, admin)
		if res.status != http.StatusOK {
			t.Fatalf("ticket T%d: %d %s", i, res.status, res.body)
		}
		if i == 3 {
			time.Sleep(200 * time.Millisecond) // T1..T3 reach the store; the later ones may still be queued
		}
	}
	all := r.list(t, "")
	if got := tickets(all); got != "T6 T5 T4 T3 T2 T1" || all.Next != "" {
		t.Fatalf("all runs: %q next %q", got, all.Next)
	}
	newest := all.Runs[0]
	if newest.Organization.ID != 2 || newest.Fulfilled || newest.Lines != 1 || newest.Allocations != 0 || newest.TicketDate != "2026-11-24" ||
		!newest.Start.Equal(fixedNow.Add(6*time.Minute)) || len(newest.ID) != 32 {
		t.Errorf("newest run %+v", newest)
	}
	if got := r.get(t, "/oms/runs/"+newest.ID, admin); got.status != http.StatusOK || !strings.Contains(got.body, `"ticket": "T6"`) {
		t.Errorf("the listed id does not open its run: %d %s", got.status, got.body)
	}
	chicago := url.QueryEscape(newest.Organization.Identifier)
	start := func(m int) string {
		return url.QueryEscape(fixedNow.Add(time.Duration(m) * time.Minute).Format(time.RFC3339))
	}
	tests := []struct {
		name, query, want string
	}{
		{"organization by id", "organization=1", "T5 T3 T1"},
		{"organization by name", "organization=" + chicago, "T6 T4 T2"},
		{"ticket", "ticket=T3", "T3"},
		{"unknown ticket", "ticket=T9", ""},
		{"not fulfilled", "fulfilled=false", "T6 T5"},
		{"fulfilled, of Chicago", "fulfilled=true&organization=2", "T4 T2"},
		{"from inclusive, to exclusive", "from=" + start(2) + "&to=" + start(5), "T4 T3 T2"},
		{"a date is midnight UTC", "from=2026-11-25", ""},
		{"to a date", "to=2026-11-25", "T6 T5 T4 T3 T2 T1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tickets(r.list(t, tt.query)); got != tt.want {
				t.Errorf("%s: %q, want %q", tt.query, got, tt.want)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		var pages []string
		q := "limit=4&organization=1&limit=2"
		for p := r.list(t, q); ; p = r.list(t, q+"&cursor="+p.Next) {
			pages = append(pages, tickets(p))
			if p.Next == "" {
				break
			}
			if len(pages) > 5 {
				t.Fatal("paging does not end")
			}
		}
		// limit is the first value given: 4.
		if got := strings.Join(pages, " | "); got != "T5 T3 T1" {
			t.Errorf("pages %q", got)
		}
		pages = nil
		for p := r.list(t, "limit=2"); ; p = r.list(t, "limit=2&cursor="+p.Next) {
			pages = append(pages, tickets(p))
			if p.Next == "" || len(pages) > 5 {
				break
			}
		}
		if got := strings.Join(pages, " | "); got != "T6 T5 | T4 T3 | T2 T1" {
			t.Errorf("pages %q", got)
		}
	})
	t.Run("a run answered now is listed at once", func(t *testing.T) {
		r.clock.add(time.Minute)
		res := r.post(t, "/oms/orders-proposal", `{"ticket":{"id":"T7","organization":{"id":"1"},"lines":[{"id":"1","product":{"id":"17"},"qty":1,"uom":"1"}]}}`, admin)
		_, p := split(t, res.body)
		first := r.list(t, "limit=1")
		if len(first.Runs) != 1 || first.Runs[0].ID != p.OMS.RunID || first.Next == "" {
			t.Errorf("newest %+v, want run %s", first, p.OMS.RunID)
		}
	})
	for _, bad := range []struct{ query, want string }{
		{"limit=0", "parameter limit"},
		{"limit=201", "parameter limit"},
		{"limit=ten", "parameter limit"},
		{"fulfilled=maybe", "parameter fulfilled"},
		{"from=yesterday", "parameter from"},
		{"to=2026-13-01", "parameter to"},
		{"cursor=%21%21", "parameter cursor"},
		{"cursor=AAA", "parameter cursor"},
		{"ticket=" + strings.Repeat("x", 300), "parameter ticket"},
	} {
		res := r.get(t, "/oms/runs?"+bad.query, admin)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, bad.want) || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s, want 400 naming %q", clipQ(bad.query), res.status, res.body, bad.want)
		}
	}
	if res := r.get(t, "/oms/runs", nil); res.status != http.StatusUnauthorized {
		t.Errorf("listing without credentials: %d", res.status)
	}
}

func clipQ(q string) string {
	if len(q) > 40 {
		return q[:40] + "…"
	}
	return q
}
