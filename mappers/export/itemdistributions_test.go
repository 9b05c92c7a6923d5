package export_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
)

// resupplySession serves the dump with resupply.json: San Jose (SJ), a
// second warehouse of the San Francisco company resupplied from WH, whose
// route is set on Office Chair and Office Lamp and on the Software
// category; its rules take a day each.
func resupplySession(t *testing.T) *odoo.Session {
	t.Helper()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if err := odooemu.ApplyExtension(ds, datasets.Demo(), "resupply.json"); err != nil {
		t.Fatal(err)
	}
	_, s := sessionOf(t, ds)
	return s
}

func exportWith(t *testing.T, s *odoo.Session, ext export.Extensions, singleCompany bool) (string, export.Stats) {
	t.Helper()
	var buf bytes.Buffer
	x := &export.Exporter{Session: s, Extensions: ext, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	st, err := x.Export(context.Background(), &buf, export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)",
		SingleCompany: singleCompany, Now: time.Date(2026, 11, 24, 0, 44, 37, 0, time.UTC)})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.String(), st
}

// distributions lists a document's item distributions as
// "item origin→destination leadtime priority".
func distributions(t *testing.T, doc string) []string {
	t.Helper()
	var d struct {
		Dists []struct {
			LeadTime string `xml:"leadtime,attr"`
			Priority string `xml:"priority,attr"`
			Item     struct {
				Name string `xml:"name,attr"`
			} `xml:"item"`
			Origin struct {
				Name string `xml:"name,attr"`
			} `xml:"origin"`
			Destination struct {
				Name string `xml:"name,attr"`
			} `xml:"destination"`
		} `xml:"itemdistributions>itemdistribution"`
	}
	if err := xml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("document: %v", err)
	}
	var out []string
	for _, x := range d.Dists {
		out = append(out, fmt.Sprintf("%s %s→%s %s %s", x.Item.Name, x.Origin.Name, x.Destination.Name, x.LeadTime, x.Priority))
	}
	return out
}

var productItem = regexp.MustCompile(`(?m)^<item name="([^"]*)"[^>]* subcategory="\d+,\d+"`)

// itemNames are the products the document lists.
func itemNames(doc string) []string {
	var out []string
	for _, m := range productItem.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

func write(t *testing.T, s *odoo.Session, model string, id int, vals map[string]any) {
	t.Helper()
	if err := s.Write(context.Background(), model, []int{id}, vals); err != nil {
		t.Fatalf("write %s %d: %v", model, id, err)
	}
}

func create(t *testing.T, s *odoo.Session, model string, vals map[string]any) int {
	t.Helper()
	id, err := s.Create(context.Background(), model, vals)
	if err != nil {
		t.Fatalf("create %s: %v", model, err)
	}
	return id
}

// expressRoute makes by hand a route WH → SJ set on Office Chair
// (template 5), of the given sequence, whose two rules take no time.
func expressRoute(t *testing.T, s *odoo.Session, sequence int) {
	t.Helper()
	express := create(t, s, "stock.route", map[string]any{"name": "Express WH → SJ", "sequence": sequence, "product_selectable": true,
		"product_ids": []any{[]any{4, 5}}, "company_id": 1})
	for _, r := range []map[string]any{
		{"name": "WH: Stock → Inter-warehouse transit", "location_src_id": 8, "location_dest_id": 13, "picking_type_id": 2, "procure_method": "make_to_stock", "warehouse_id": 1},
		{"name": "SJ: Inter-warehouse transit → Stock", "location_src_id": 13, "location_dest_id": 302, "picking_type_id": 21, "procure_method": "make_to_order", "warehouse_id": 5, "propagate_warehouse_id": 1},
	} {
		r["route_id"], r["action"], r["auto"], r["company_id"] = express, "pull", "manual", 1
		create(t, s, "stock.rule", r)
	}
}

// TestItemDistributions exports, with the extension, the routes that move
// products between warehouses as Odoo has them after what a user does in
// Odoo (writes over XML-RPC to the emulator).
func TestItemDistributions(t *testing.T) {
	for _, c := range []struct {
		name   string
		odoo   func(t *testing.T, s *odoo.Session)
		single bool
		want   func(items []string) []string // nil: no section at all
	}{
		{"the demo: on two products and the Software category", nil, false, func([]string) []string {
			return []string{"FURN_7777 WH→SJ P2D 1", "FURN_8888 WH→SJ P2D 1", "FURN_9999 WH→SJ P2D 1"}
		}},
		{"set on the receiving warehouse: every item", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.warehouse", 5, map[string]any{"route_ids": []any{[]any{4, 15}}})
		}, false, func(items []string) []string {
			var out []string
			for _, it := range items {
				out = append(out, it+" WH→SJ P2D 1")
			}
			return out
		}},
		{"set on the warehouse that supplies: no item", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.route", 15, map[string]any{"product_ids": []any{[]any{5}}, "categ_ids": []any{[]any{5}}, "warehouse_ids": []any{[]any{4, 1}}})
		}, false, nil},
		{"on a parent category: the items of its subcategories", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.route", 15, map[string]any{"product_ids": []any{[]any{5}}, "categ_ids": []any{[]any{6, 0, []any{2}}}})
		}, false, nil}, // checked below: too many to list
		{"archived route", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.route", 15, map[string]any{"active": false})
		}, false, nil},
		{"the preferred route per item: lowest sequence", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.route", 15, map[string]any{"sequence": 7})
			expressRoute(t, s, 3)
		}, false, func([]string) []string {
			return []string{"FURN_7777 WH→SJ P0D 4", "FURN_8888 WH→SJ P2D 8", "FURN_9999 WH→SJ P2D 8"}
		}},
		{"a route on the product before one on the warehouse, whatever their sequences", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.route", 15, map[string]any{"product_ids": []any{[]any{5}}, "categ_ids": []any{[]any{5}}, "warehouse_ids": []any{[]any{4, 5}}})
			expressRoute(t, s, 9)
		}, false, func(items []string) []string {
			var out []string
			for _, it := range items {
				if it == "FURN_7777" {
					out = append(out, it+" WH→SJ P0D 10")
				} else {
					out = append(out, it+" WH→SJ P2D 1")
				}
			}
			return out
		}},
		{"also resupplied from Chicago 1, another company", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.warehouse", 5, map[string]any{"resupply_wh_ids": []any{[]any{4, 2}}})
			routes, err := s.Search(context.Background(), "stock.route", odoo.Domain{odoo.Term("supplier_wh_id", "=", 2)}, odoo.Query{})
			if err != nil || len(routes) != 1 {
				t.Fatalf("route from Chicago 1: %v %v", routes, err)
			}
			write(t, s, "stock.route", routes[0], map[string]any{"product_ids": []any{[]any{4, 6}}})
		}, false, func([]string) []string {
			return []string{"FURN_7777 WH→SJ P2D 1", "FURN_8888 WH→SJ P2D 1", "FURN_8888 CHIC1→SJ P0D 1", "FURN_9999 WH→SJ P2D 1"}
		}},
		{"Chicago 1 outside a single-company export", func(t *testing.T, s *odoo.Session) {
			write(t, s, "stock.warehouse", 5, map[string]any{"resupply_wh_ids": []any{[]any{4, 2}}})
			write(t, s, "stock.warehouse", 5, map[string]any{"route_ids": []any{[]any{6, 0, []any{15, 16}}}})
		}, true, func(items []string) []string {
			var out []string
			for _, it := range items {
				out = append(out, it+" WH→SJ P2D 1")
			}
			return out
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := resupplySession(t)
			if c.odoo != nil {
				c.odoo(t, s)
			}
			doc, _ := exportWith(t, s, export.Extensions{export.ItemDistributions}, c.single)
			got := distributions(t, doc)
			switch {
			case strings.HasPrefix(c.name, "on a parent category"):
				if len(got) < 30 || !slices.Contains(got, "FURN_7777 WH→SJ P2D 1") || !slices.Contains(got, "FURN_9999 WH→SJ P2D 1") ||
					slices.Contains(got, "chair WH→SJ P2D 1") || slices.Contains(got, "FURN_8888 CHIC1→SJ P0D 1") {
					t.Errorf("distributions %v: want the items of All / Saleable and its subcategories, not chair (All)", got)
				}
			case c.want == nil:
				if strings.Contains(doc, "itemdistribution") {
					t.Errorf("distributions %v, want no section", got)
				}
			default:
				// Written in product id order; compared as sets.
				want := c.want(itemNames(doc))
				slices.Sort(want)
				if got := slices.Sorted(slices.Values(got)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("distributions\n%v\nwant\n%v", got, want)
				}
			}
			validate(t, doc)
		})
	}
}

// The extension only adds its section: the rest of the document is the
// one without it, which the golden tests check against the addon's. The
// section costs four Odoo calls.
func TestItemDistributionsOnlyAddTheirSection(t *testing.T) {
	s := resupplySession(t)
	plain, st0 := exportWith(t, s, nil, false)
	with, st1 := exportWith(t, s, export.Extensions{export.ItemDistributions}, false)
	section := regexp.MustCompile(`(?s)<!-- item distributions -->\n<itemdistributions>\n.*?</itemdistributions>\n`)
	if n := len(section.FindAllString(with, -1)); n != 1 {
		t.Fatalf("%d item distribution sections", n)
	}
	if strings.Contains(plain, "itemdistribution") {
		t.Error("a document without the extension has item distributions")
	}
	if section.ReplaceAllString(with, "") != plain {
		t.Error("the extension changed the document besides adding its section")
	}
	if !strings.Contains(with, "</items>\n<!-- item distributions -->") {
		t.Error("the section does not follow the items")
	}
	if calls := st1.Calls - st0.Calls; calls != 4 {
		t.Errorf("the section made %d Odoo calls, want 4 (fields_get and search_read of stock.rule, routes, categories)", calls)
	}
	if st1.Sections["itemdistributions"] != 3 {
		t.Errorf("records counted %v", st1.Sections)
	}
}

// Without stock.rule (the dump alone) the extension writes nothing and
// the export succeeds.
func TestItemDistributionsWithoutRules(t *testing.T) {
	_, s := demoSession(t)
	doc, _ := exportWith(t, s, export.Extensions{export.ItemDistributions}, false)
	if strings.Contains(doc, "itemdistribution") || !strings.HasSuffix(doc, "</plan>\n") {
		t.Errorf("document without stock.rule: %d bytes, distributions %v", len(doc), distributions(t, doc))
	}
}

func TestExtensionsValidate(t *testing.T) {
	for _, c := range []struct {
		name  string
		ext   export.Extensions
		modes export.Modes
		want  string
	}{
		{"none", nil, nil, ""},
		{"item distributions in the default modes", export.Extensions{"itemdistributions"}, export.DefaultModes(), ""},
		{"listed and on", export.Extensions{"itemdistributions"}, export.Modes{2: {Sections: []string{"items", "itemdistributions"}}}, ""},
		{"unknown", export.Extensions{"forecasts"}, nil, `unknown extension "forecasts" (known: itemdistributions)`},
		{"listed but off", nil, export.Modes{1: {Sections: []string{"items", "itemdistributions"}}}, "mode 1: section itemdistributions needs export.extensions: [itemdistributions]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.ext.Validate(c.modes)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("Validate = %v, want %q", err, c.want)
			}
		})
	}
}
