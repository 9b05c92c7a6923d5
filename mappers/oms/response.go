package oms

import (
	"fmt"
	"strconv"
)

// Response versions of the Openbravo OMS web service.
const (
	Version100     = "1.0.0"
	Version110     = "1.1.0"
	DefaultVersion = Version110
)

// CheckVersion accepts the versions this service answers in.
func CheckVersion(v string) (string, error) {
	switch v {
	case "":
		return DefaultVersion, nil
	case Version100, Version110:
		return v, nil
	}
	return "", &InputError{Field: "version", Msg: fmt.Sprintf("unsupported version %q (1.0.0 or 1.1.0)", v)}
}

// Response is the answer document: {"oms": {...}}.
type Response struct {
	OMS ResponseBody `json:"oms"`
}

// ResponseBody holds the proposals; RunID is set from version 1.1.0.
type ResponseBody struct {
	RunID   string `json:"obomsRunId,omitempty"`
	Tickets []any  `json:"tickets"`
}

// idRef is a reference given by id only.
type idRef struct {
	ID string `json:"id"`
}

// objRef is a reference as version 1.1.0 gives it.
type objRef struct {
	ID         string `json:"id"`
	SearchKey  string `json:"searchKey"`
	Identifier string `json:"_identifier"`
}

type proposal100 struct {
	ID           string            `json:"id"`
	Client       string            `json:"client"`
	Organization string            `json:"organization"`
	Warehouse    string            `json:"warehouse"`
	Lines        []proposalLine100 `json:"lines"`
}

type proposal110 struct {
	ID           string            `json:"id"`
	Client       objRef            `json:"client"`
	Organization objRef            `json:"organization"`
	Warehouse    objRef            `json:"warehouse"`
	Lines        []proposalLine110 `json:"lines"`
}

// proposalLine100 names the product by id only, as version 1.0.0 did.
type proposalLine100 struct {
	ID      string  `json:"id"`
	Product idRef   `json:"product"`
	Qty     float64 `json:"qty"`
	UOM     string  `json:"uom"`
}

// proposalLine110 names the product as version 1.1.0 does: id, searchKey
// (the internal reference) and _identifier.
type proposalLine110 struct {
	ID      string  `json:"id"`
	Product objRef  `json:"product"`
	Qty     float64 `json:"qty"`
	UOM     string  `json:"uom"`
}

func itoa(n int) string { return strconv.Itoa(n) }

func obj(r Ref) objRef {
	return objRef{ID: itoa(r.ID), SearchKey: r.SearchKey, Identifier: r.Identifier}
}

// NewResponse groups a run's allocations into one proposal per organization
// and warehouse, in the order their first line appears in the ticket. A
// line split over warehouses is in each of their proposals with its part;
// parts of one line in one warehouse (placed by two rules) are summed.
// Quantities are in the product's unit.
func NewResponse(run *Run, version string) Response {
	type key struct{ org, wh int }
	var order []key
	groups := map[key][]Allocation{}
	for _, a := range run.Allocations {
		k := key{a.Organization.ID, a.Warehouse.ID}
		as, ok := groups[k]
		if !ok {
			order = append(order, k)
		}
		merged := false
		for i := range as {
			if as[i].Line == a.Line {
				as[i].Qty += a.Qty
				merged = true
				break
			}
		}
		if !merged {
			as = append(as, a)
		}
		groups[k] = as
	}
	client := objRef{ID: run.Database, SearchKey: run.Database, Identifier: run.Database}
	body := ResponseBody{Tickets: make([]any, 0, len(order))}
	if version != Version100 {
		body.RunID = run.ID
	}
	for _, k := range order {
		as := groups[k]
		if version == Version100 {
			lines := make([]proposalLine100, len(as))
			for i, a := range as {
				lines[i] = proposalLine100{ID: a.Line, Product: idRef{itoa(a.Product.ID)}, Qty: a.Qty, UOM: itoa(a.UOM.ID)}
			}
			body.Tickets = append(body.Tickets, proposal100{ID: run.TicketID, Client: run.Database,
				Organization: itoa(k.org), Warehouse: itoa(k.wh), Lines: lines})
			continue
		}
		lines := make([]proposalLine110, len(as))
		for i, a := range as {
			lines[i] = proposalLine110{ID: a.Line, Product: obj(a.Product), Qty: a.Qty, UOM: itoa(a.UOM.ID)}
		}
		body.Tickets = append(body.Tickets, proposal110{ID: run.TicketID, Client: client,
			Organization: obj(as[0].Organization), Warehouse: obj(as[0].Warehouse), Lines: lines})
	}
	return Response{OMS: body}
}
