package docdiff

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/plangate/plangate/xmlschema"
)

// Document is a planner document read for comparison.
type Document struct {
	root     *etree.Element
	sections []*section
	current  string // text of the header's <current>, "" without one
}

// section is a run of the root's children that the addon writes under
// one comment (<!-- products --> <items>…</items>), or the header.
type section struct {
	name  string
	nodes []*etree.Element
}

// sectionOfComment maps the addon's section comments to plangate's
// section names (mappers/export writes the same comments; a test checks
// the two lists agree).
var sectionOfComment = map[string]string{
	"calendar":                         "calendars",
	"warehouses":                       "locations",
	"customers":                        "customers",
	"suppliers":                        "suppliers",
	"skills":                           "skills",
	"workcenters":                      "resources",
	"resourceskills":                   "resourceskills",
	"categories":                       "categories",
	"products":                         "items",
	"item distributions":               "itemdistributions", // plangate's extension
	"bills of material":                "operations",
	"sales order lines":                "demands",
	"open purchase orders":             "purchaseorders",
	"manufacturing orders in progress": "manufacturingorders",
	"order points":                     "orderpoints",
	"inventory":                        "onhand",
}

// SectionNames lists the sections of an addon document in document order
// (with itemdistributions, which only plangate's extension writes):
// the names Options.Sections accepts besides those a document names by
// its own comments or container tags.
func SectionNames() []string {
	return []string{"header", "users", "calendars", "locations", "customers", "suppliers", "skills", "resources",
		"resourceskills", "categories", "items", "itemdistributions", "operations", "demands", "purchaseorders", "manufacturingorders",
		"orderpoints", "onhand"}
}

// Read reads one planner document. Malformed XML, a document cut short
// and a root other than <plan> are errors; documents declared in another
// encoding than UTF-8 are decoded.
func Read(r io.Reader) (*Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.CharsetReader = xmlschema.CharsetReader
	if _, err := doc.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("read document: no root element")
	}
	if root.FullTag() != "plan" {
		return nil, fmt.Errorf("read document: root element is <%s>, a planner document's is <plan>", root.FullTag())
	}
	d := &Document{root: root}
	d.sections = splitSections(root)
	if c := root.SelectElement("current"); c != nil {
		d.current = strings.TrimSpace(c.Text())
	}
	return d, nil
}

// splitSections groups the root's children: each section comment starts a
// section that runs to the next one; before the first comment come the
// header, the users property and, in documents without comments, one
// section per list container named after its tag.
func splitSections(root *etree.Element) []*section {
	var out []*section
	byName := map[string]*section{}
	var cur *section
	pending, commented := "", false
	add := func(name string) *section {
		if s := byName[name]; s != nil && s == cur {
			return s
		}
		unique := name
		for n := 2; byName[unique] != nil; n++ {
			unique = fmt.Sprintf("%s#%d", name, n)
		}
		s := &section{name: unique}
		byName[unique] = s
		out = append(out, s)
		return s
	}
	for _, tok := range root.Child {
		switch t := tok.(type) {
		case *etree.Comment:
			text := strings.TrimSpace(t.Data)
			if n, ok := sectionOfComment[text]; ok {
				text = n
			}
			pending, commented = text, true
		case *etree.Element:
			switch {
			case pending != "":
				if cur == nil || cur.name != pending {
					cur = add(pending)
				}
				pending = ""
			case !commented:
				cur = add(headSection(t))
			}
			cur.nodes = append(cur.nodes, t)
		}
	}
	return out
}

// headSection names the section of a root child met before any comment.
func headSection(e *etree.Element) string {
	tag := e.FullTag()
	switch {
	case tag == "stringproperty" && e.SelectAttrValue("name", "") == "users":
		return "users"
	case strings.HasSuffix(tag, "s"):
		return tag // a list container: <calendars>, <operationplans>, …
	}
	return "header"
}

// parseClock reads a frePPLe datetime (no zone, no fraction).
func parseClock(s string) (time.Time, bool) {
	if len(s) != len(xmlschema.DatetimeLayout) || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(xmlschema.DatetimeLayout, s)
	return t, err == nil
}
