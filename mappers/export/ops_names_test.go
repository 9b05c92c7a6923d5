package export_test

import (
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
)

// TestLongOperationName: an operation name over 300 characters is the
// item's frePPLe name cut to leave room for " @ <location> <bom id>"
// (§3.4.13.2), not its internal reference. With short names off (two
// products share a reference) the two differ.
func TestLongOperationName(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("DESK-", 58) // 290 characters
	p := ds.Model("product.product").Get(8)
	p["code"], p["default_code"] = long, long
	ds.Model("product.product").Get(13)["default_code"] = "FURN_0098" // as product 14's: short names off
	doc := parseOrderDoc(t, exportOf(t, ds, export.Params{}))
	item := ""
	for name, id := range doc.itemProducts() {
		if id == 8 {
			item = name
		}
	}
	if !strings.HasPrefix(item, "["+long+"] ") {
		t.Fatalf("item of product 8 is %q: short names are not off", item)
	}
	const suffix = " @ My Company (San Francisco) 1" // BOM 1 makes product 8
	want := string([]rune(item)[:300-len([]rune(suffix))]) + suffix
	found := false
	for _, op := range doc.Operations {
		if strings.HasSuffix(op.Name, suffix) {
			found = true
			if op.Name != want {
				t.Errorf("operation name\n%q, want\n%q", op.Name, want)
			}
		}
	}
	if !found {
		t.Error("no operation for BOM 1")
	}
}
