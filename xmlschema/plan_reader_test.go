package xmlschema

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestPlanReader(t *testing.T) {
	doc := `<?xml version="1.0"?>
<plan><operationplans>
<operationplan reference="A" ordertype="PO" item_id="1,5"/>
<operationplan reference="MO-1" ordertype="MO">
<workorder operation="x - 2" start="s" end="e"><resource name="R" id="1" quantity="2"/><item id="3"/></workorder>
</operationplan>
<operationplan reference="W" ordertype="WO"><resource name="P" id="6"/></operationplan>
</operationplans></plan>`
	pr := NewPlanReader(strings.NewReader(doc))
	var got []*PlanRecord
	for {
		r, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("%d records, want 3", len(got))
	}
	if got[0].Line != 3 || got[0].Attr("item_id") != "1,5" {
		t.Errorf("record 1: line %d attrs %v", got[0].Line, got[0].Attrs)
	}
	if len(got[1].Workorders) != 1 || len(got[1].Workorders[0].Resources) != 1 || got[1].Workorders[0].Resources[0].Quantity != "2" || len(got[1].Resources) != 0 {
		t.Errorf("MO workorders %+v resources %+v", got[1].Workorders, got[1].Resources)
	}
	if len(got[2].Resources) != 1 || got[2].Resources[0].ID != "6" {
		t.Errorf("WO resources %+v", got[2].Resources)
	}
}

func TestPlanReaderRejects(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"doctype", `<!DOCTYPE plan><plan/>`, "DOCTYPE"},
		{"entity", `<!DOCTYPE plan [<!ENTITY a "b">]><plan><operationplans><operationplan reference="&a;"/></operationplans></plan>`, "DOCTYPE"},
		{"undeclared entity", `<plan><operationplans><operationplan reference="&a;"/></operationplans></plan>`, "entity"},
		{"truncated", `<plan><operationplans><operationplan reference="a">`, "ends before </plan>"},
		{"empty", "", "empty plan file"},
		{"blanks and a byte order mark", "\ufeff\n  \n", "empty plan file"},
		{"declaration only", `<?xml version="1.0"?>`, "no <plan> element"},
		{"comment only", `<!-- nothing -->`, "no <plan> element"},
		{"text", "Bad Gateway", `text outside the <plan> element: "Bad Gateway"`},
		{"other root", `<html><body/></html>`, "root element <html> is not <plan>"},
		{"open root", "<plan>\n<operationplans>\n</operationplans>\n", "ends before </plan>"},
		{"element after the root", `<plan/><plan/>`, "element <plan> after </plan>"},
		{"text after the root", `<plan/>x`, "text outside"},
		{"UTF-16 declared, bytes ASCII", `<?xml version="1.0" encoding="UTF-16"?><plan/>`, "not UTF-16"},
		{"HTML5 doctype", "<!doctype html><html/>", "DOCTYPE"},
		{"other directive", "<!ELEMENT plan ANY><plan/>", "unexpected directive"},
		{"outside container", `<plan><operationplan reference="a"/></plan>`, "outside"},
		{"repeated attribute", `<plan><operationplans><operationplan reference="a" quantity="1" quantity="2"/></operationplans></plan>`, "attribute quantity repeated"},
		{"unknown encoding", `<?xml version="1.0" encoding="x-klingon"?><plan/>`, `unsupported XML encoding "x-klingon"`},
		{"repeated attribute in a workorder", `<plan><operationplans><operationplan reference="a"><workorder start="1" start="2"/></operationplan></operationplans></plan>`, "attribute start repeated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr := NewPlanReader(strings.NewReader(c.doc))
			var err error
			for err == nil {
				_, err = pr.Next()
			}
			var se *PlanSyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, c.want) {
				t.Fatalf("err %v, want a syntax error with %q", err, c.want)
			}
		})
	}
}

// TestPlanReaderEncodings: plans declared in another encoding are decoded
// (the addon's lxml parser reads them too).
func TestPlanReaderEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  []byte
	}{
		{"UTF-8", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?><plan><operationplans><operationplan reference=\"Caf\xc3\xa9\"/></operationplans></plan>")},
		{"ISO-8859-1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><plan><operationplans><operationplan reference=\"Caf\xe9\"/></operationplans></plan>")},
		{"windows-1252", []byte("<?xml version=\"1.0\" encoding=\"windows-1252\"?><plan><operationplans><operationplan reference=\"Caf\xe9\"/></operationplans></plan>")},
		{"UTF-16LE with byte order mark", utf16LE("\ufeff<?xml version=\"1.0\" encoding=\"UTF-16\"?><plan><operationplans><operationplan reference=\"Café\"/></operationplans></plan>")},
		{"UTF-16BE with byte order mark, no declaration", utf16BE("\ufeff<plan><operationplans><operationplan reference=\"Café\"/></operationplans></plan>")},
		{"UTF-8 byte order mark", []byte("\xef\xbb\xbf<plan><operationplans><operationplan reference=\"Caf\xc3\xa9\"/></operationplans></plan>")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewPlanReader(strings.NewReader(string(tc.doc))).Next()
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Attr("reference"); got != "Café" {
				t.Errorf("reference %q, want Café", got)
			}
		})
	}
}
