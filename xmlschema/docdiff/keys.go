package docdiff

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// field is one part of an element's identity: one of its attributes, or
// the name of an object it refers to through a child element
// (<flow><item name="chair leg"/></flow>).
type field struct {
	attr  string // attribute of the element
	alt   string // attribute read when attr is absent (the addon writes type="MO" where others write ordertype)
	child string // tag of a child element whose name attribute is the value
}

// identity says how the members of one kind of list are told apart.
type identity struct {
	fields []field
	// positional members show their position in paths (flow[2]) rather
	// than their key: their keys (the item a flow moves, a bucket's time
	// slot) repeat within a list and are not what a reader looks for.
	positional bool
}

func byAttrs(names ...string) identity {
	var id identity
	for _, n := range names {
		id.fields = append(id.fields, field{attr: n})
	}
	return id
}

func byRefs(positional bool, tags ...string) identity {
	id := identity{positional: positional}
	for _, t := range tags {
		id.fields = append(id.fields, field{child: t})
	}
	return id
}

// members is the identity of each kind of list member, by tag: frePPLe's
// keys (spec §3.3.1) where the object has one, else what tells the
// members of a list apart in the planner's model (frepple.xsd).
var members = map[string]identity{
	// Entities are known to the planner by name.
	"calendar":    byAttrs("name"),
	"location":    byAttrs("name"),
	"customer":    byAttrs("name"),
	"supplier":    byAttrs("name"),
	"skill":       byAttrs("name"),
	"resource":    byAttrs("name"),
	"item":        byAttrs("name"),
	"operation":   byAttrs("name"),
	"demand":      byAttrs("name"),
	"setupmatrix": byAttrs("name"),
	// Operationplans by reference and order type: a subcontracting MO
	// carries its purchase order's reference.
	"operationplan": {fields: []field{{attr: "reference"}, {attr: "ordertype", alt: "type"}}},
	// A buffer is an item at a location (its name is derived from both).
	"buffer": byRefs(false, "item", "location"),
	// A bucket by its weekly slot; start, end, value and priority are
	// what it says about that slot.
	"bucket":           {fields: []field{{attr: "days"}, {attr: "starttime"}, {attr: "endtime"}}, positional: true},
	"flow":             byRefs(true, "item", "buffer"),
	"load":             byRefs(true, "resource", "skill"),
	"suboperation":     byRefs(true, "operation"),
	"loadplan":         byRefs(true, "resource"),
	"flowplan":         byRefs(true, "buffer", "item"),
	"itemsupplier":     byRefs(false, "supplier", "location"),
	"itemdistribution": byRefs(false, "item", "origin", "destination"), // top level (plangate's extension) or inside its item
	"resourceskill":    byRefs(false, "resource", "skill"),
	"dependency":       byRefs(false, "blockedby"),
	"rule":             byAttrs("priority"),
}

// fallback identifies members of lists the table does not know, and
// known members whose key fields are all absent.
var fallback = []identity{byAttrs("name"), byAttrs("reference")}

// isMember reports whether an element with this tag, under parent, is a
// member of a list (<flows><flow>, <members><item>) rather than a single
// child such as a reference (<demand><item>) or a property.
func isMember(parent, tag string) bool {
	switch parent {
	case tag + "s", "members":
		return true
	case "setupmatrices", "dependencies":
		return strings.HasPrefix(tag, parent[:len(parent)-3])
	}
	return false
}

// isProperty reports the plan's and objects' named properties
// (<stringproperty name="users" …/>), which are keyed by name anywhere.
func isProperty(tag string) bool { return strings.HasSuffix(tag, "property") }

// child is one child element with its identity among its siblings.
type child struct {
	el  *etree.Element
	key string // unique among the siblings: tag, key values, occurrence
	seg string // path segment in its own document: flow[2], item[@name="x"]
}

// keyChildren identifies the child elements of a parent with tag parent.
func keyChildren(parent string, els []*etree.Element) []child {
	out := make([]child, len(els))
	perTag := map[string]int{}   // running position among same-tag siblings
	seen := map[string]int{}     // occurrences of each key so far
	tagCount := map[string]int{} // same-tag siblings in all
	for _, e := range els {
		tagCount[e.FullTag()]++
	}
	var kb strings.Builder
	for i, e := range els {
		tag := e.FullTag()
		perTag[tag]++
		pos := perTag[tag]
		var preds []string
		positional := false
		kb.Reset()
		kb.WriteString(tag)
		switch {
		case isProperty(tag):
			preds = keyOf(e, byAttrs("name"), &kb)
		case isMember(parent, tag):
			id, known := members[tag]
			if known {
				preds = keyOf(e, id, &kb)
			}
			for _, fb := range fallback {
				if preds != nil {
					break
				}
				preds = keyOf(e, fb, &kb)
			}
			positional = preds == nil || id.positional
		default:
			// A single child (a reference, a container): its tag is its identity.
			positional = tagCount[tag] > 1
		}
		k := kb.String()
		seen[k]++
		occ := seen[k]
		kb.WriteString("\x00#")
		kb.WriteString(strconv.Itoa(occ))
		seg := tag
		switch {
		case positional:
			seg += "[" + strconv.Itoa(pos) + "]"
		default:
			seg += strings.Join(preds, "")
			if occ > 1 {
				seg += "[" + strconv.Itoa(occ) + "]" // XPath: the occ-th of those
			}
		}
		out[i] = child{el: e, key: kb.String(), seg: seg}
	}
	return out
}

// keyOf appends the key values of e under id to kb and returns the path
// predicates that show them; nil when every key field is absent.
func keyOf(e *etree.Element, id identity, kb *strings.Builder) []string {
	var preds []string
	mark := kb.Len()
	for _, f := range id.fields {
		name, v, ok := fieldValue(e, f)
		kb.WriteByte(0)
		kb.WriteString(v)
		if ok {
			preds = append(preds, "["+name+"="+xpathLiteral(v)+"]")
		}
	}
	if preds == nil {
		// Nothing identifies e this way: leave the key as it was.
		s := kb.String()[:mark]
		kb.Reset()
		kb.WriteString(s)
	}
	return preds
}

// fieldValue reads one key field of e: the path expression that names it,
// its value, and whether it is present.
func fieldValue(e *etree.Element, f field) (name, value string, ok bool) {
	if f.child != "" {
		c := e.SelectElement(f.child)
		if c == nil {
			return "", "", false
		}
		a := c.SelectAttr("name")
		if a == nil {
			return "", "", false
		}
		return f.child + "/@name", a.Value, true
	}
	if a := e.SelectAttr(f.attr); a != nil {
		return "@" + f.attr, a.Value, true
	}
	if f.alt != "" {
		if a := e.SelectAttr(f.alt); a != nil {
			return "@" + f.alt, a.Value, true
		}
	}
	return "", "", false
}

// xpathLiteral quotes s as an XPath 1.0 string literal, which has no
// escapes: double quotes, else single quotes, else concat().
func xpathLiteral(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return "concat(" + strings.Join(parts, `, '"', `) + ")"
}
