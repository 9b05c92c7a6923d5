package oms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Bounds of one ticket. Every run is kept (with its ticket) for
// inspection, so a ticket's size is bounded: bigger orders are not
// tickets, and an identifier longer than MaxIDLen is not an identifier.
const (
	MaxLines = 1000
	MaxIDLen = 128
)

// Ticket is an order to source, as the caller sent it.
type Ticket struct {
	ID string
	// Organization is the Odoo company: its id (or name); empty means the
	// caller's company. OrganizationKey is its searchKey (the name).
	Organization    string
	OrganizationKey string
	// BusinessPartner is the customer's res.partner id; empty: unknown.
	// BusinessPartnerKey is its searchKey (the partner's ref).
	BusinessPartner    string
	BusinessPartnerKey string
	Date               string
	Lines              []Line
	// Version is the response version asked for in the body; empty: none.
	Version string
}

// Line is one ticket line: a product, a quantity and its unit. Product
// and UOM are Odoo ids; ProductKey (the internal reference) and UOMKey
// (the unit's name) are the searchKeys, used when no id is given. No unit
// at all means the product's.
type Line struct {
	ID         string
	Product    string
	ProductKey string
	Qty        float64
	UOM        string
	UOMKey     string
}

// InputError is a ticket the engine cannot take; it names the line.
type InputError struct {
	Line  int    // 1-based line number; 0: the ticket itself
	ID    string // the line's id when it has one
	Field string
	Msg   string
	Err   error // the reader's error, when reading failed (e.g. a body limit)
}

func (e *InputError) Error() string {
	where := "ticket"
	if e.Line > 0 {
		where = fmt.Sprintf("ticket line %d", e.Line)
		if e.ID != "" {
			where += fmt.Sprintf(" (id %q)", e.ID)
		}
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Field, e.Msg)
	}
	return where + ": " + e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is a problem of the caller's ticket.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// wire types: what the JSON looks like. Other fields (_identifier, price,
// ...) are accepted and ignored.
type wireRequest struct {
	Ticket  *wireTicket `json:"ticket"`
	Version flexID      `json:"version"`
}

type wireTicket struct {
	ID              flexID          `json:"id"`
	Organization    *flexRef        `json:"organization"`
	BusinessPartner *flexRef        `json:"businessPartner"`
	Date            flexID          `json:"date"`
	Lines           json.RawMessage `json:"lines"`
}

type wireLine struct {
	ID      flexID          `json:"id"`
	Product *flexRef        `json:"product"`
	Qty     json.RawMessage `json:"qty"`
	UOM     *flexRef        `json:"uom"`
}

// flexID is an identifier sent as a JSON string or number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		s, plain := plainString(b)
		if !plain {
			if err := json.Unmarshal(b, &s); err != nil {
				return err
			}
		}
		*f = flexID(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flexID(b) // a number the decoder checked: its literal is the id
	default:
		return fmt.Errorf("want a string or number, got %s", firstBytes(b))
	}
	return nil
}

// flexRef is a reference sent as {"id": ...}, {"searchKey": ...} (both
// from version 1.1.0 of the Openbravo API) or as the bare id (the
// Openbravo examples send uom as a number).
type flexRef struct{ ID, Key flexID }

func (r *flexRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		if id, key, ok := objectRef(b); ok {
			r.ID, r.Key = "", ""
			if id != nil {
				if err := r.ID.UnmarshalJSON(id); err != nil {
					return err
				}
			}
			if key != nil {
				return r.Key.UnmarshalJSON(key)
			}
			return nil
		}
		var o struct {
			ID  flexID `json:"id"`
			Key flexID `json:"searchKey"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		r.ID, r.Key = o.ID, o.Key
		return nil
	}
	r.Key = ""
	return r.ID.UnmarshalJSON(b)
}

func (r *flexRef) id() string {
	if r == nil {
		return ""
	}
	return string(r.ID)
}

func (r *flexRef) key() string {
	if r == nil {
		return ""
	}
	return string(r.Key)
}

func firstBytes(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "..."
	}
	return string(b)
}

// ParseTicket reads a request body {"ticket": {...}} and checks what the
// engine needs: the ticket id and, on every line, a product (id or
// searchKey) and a positive finite quantity; the unit is optional. Errors
// are *InputError naming the line.
func ParseTicket(r io.Reader) (*Ticket, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, &InputError{Msg: "invalid JSON: " + jsonErrorText(err), Err: err}
	}
	req, wls, ok := scanTicket(body) // the common shape, quickly
	if ok {
		err = checkTicketIDs(req)
	} else {
		req, wls, err = decodeTicket(body)
	}
	if err != nil {
		return nil, err
	}
	t := req.Ticket
	if len(wls) == 0 {
		return nil, &InputError{Field: "ticket.lines", Msg: "no lines"}
	}
	if len(wls) > MaxLines {
		return nil, &InputError{Field: "ticket.lines", Msg: fmt.Sprintf("%d lines, at most %d allowed", len(wls), MaxLines)}
	}
	out := &Ticket{
		ID:                 string(t.ID),
		Organization:       t.Organization.id(),
		OrganizationKey:    t.Organization.key(),
		BusinessPartner:    t.BusinessPartner.id(),
		BusinessPartnerKey: t.BusinessPartner.key(),
		Date:               string(t.Date),
		Version:            string(req.Version),
		Lines:              make([]Line, 0, len(wls)),
	}
	seen := make(map[string]int, len(wls))
	for i, wl := range wls {
		n := i + 1
		l := Line{ID: string(wl.ID), Product: wl.Product.id(), ProductKey: wl.Product.key(), UOM: wl.UOM.id(), UOMKey: wl.UOM.key()}
		bad := func(field, msg string) error { return &InputError{Line: n, ID: l.ID, Field: field, Msg: msg} }
		for _, f := range []struct {
			name, v string
		}{{"id", l.ID}, {"product.id", l.Product}, {"product.searchKey", l.ProductKey}, {"uom", l.UOM}, {"uom.searchKey", l.UOMKey}} {
			if err := checkIDLen(f.v); err != nil {
				if f.name == "id" {
					l.ID = "" // too long to echo in the error's "(id …)"
				}
				return nil, bad(f.name, err.Error())
			}
		}
		if l.ID == "" {
			l.ID = strconv.Itoa(n) // lines are answered by id: give anonymous ones their number
		}
		if prev, dup := seen[l.ID]; dup {
			return nil, bad("id", fmt.Sprintf("same id as line %d", prev))
		}
		seen[l.ID] = n
		if l.Product == "" && l.ProductKey == "" {
			return nil, bad("product", "missing (give its id or searchKey)")
		}
		q, err := parseQty(wl.Qty)
		if err != nil {
			return nil, bad("qty", err.Error())
		}
		l.Qty = q
		out.Lines = append(out.Lines, l)
	}
	return out, nil
}

// decodeTicket reads any request body with encoding/json and words what
// is wrong with it; the ticket it returns has an id and a list of lines.
func decodeTicket(body []byte) (wireRequest, []wireLine, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var req wireRequest
	if err := dec.Decode(&req); err != nil {
		return req, nil, &InputError{Msg: "invalid JSON: " + jsonErrorText(err), Err: err}
	}
	if dec.More() {
		return req, nil, &InputError{Msg: "invalid JSON: data after the request object"}
	}
	t := req.Ticket
	if t == nil {
		return req, nil, &InputError{Field: "ticket", Msg: "missing"}
	}
	if t.ID == "" {
		return req, nil, &InputError{Field: "ticket.id", Msg: "missing"}
	}
	if err := checkTicketIDs(req); err != nil {
		return req, nil, err
	}
	// One decode of all lines; only when it fails are they decoded one by
	// one, to name the line at fault.
	var wls []wireLine
	if len(t.Lines) == 0 || string(t.Lines) == "null" {
		return req, nil, &InputError{Field: "ticket.lines", Msg: "no lines"}
	}
	if err := json.Unmarshal(t.Lines, &wls); err != nil {
		var raws []json.RawMessage
		if json.Unmarshal(t.Lines, &raws) != nil {
			return req, nil, &InputError{Field: "ticket.lines", Msg: "want a list of lines"}
		}
		for i, raw := range raws {
			var wl wireLine
			if err := json.Unmarshal(raw, &wl); err != nil {
				return req, nil, &InputError{Line: i + 1, Msg: "invalid line: " + jsonErrorText(err)}
			}
		}
		return req, nil, &InputError{Field: "ticket.lines", Msg: "invalid JSON: " + jsonErrorText(err)}
	}
	return req, wls, nil
}

// checkTicketIDs refuses ticket-level identifiers longer than MaxIDLen.
func checkTicketIDs(req wireRequest) error {
	t := req.Ticket
	for _, f := range []struct {
		name string
		v    string
	}{
		{"ticket.id", string(t.ID)}, {"ticket.organization.id", t.Organization.id()}, {"ticket.organization.searchKey", t.Organization.key()},
		{"ticket.businessPartner.id", t.BusinessPartner.id()}, {"ticket.businessPartner.searchKey", t.BusinessPartner.key()},
		{"ticket.date", string(t.Date)}, {"version", string(req.Version)},
	} {
		if err := checkIDLen(f.v); err != nil {
			return &InputError{Field: f.name, Msg: err.Error()}
		}
	}
	return nil
}

// checkIDLen refuses an identifier longer than MaxIDLen, quoting only its start.
func checkIDLen(v string) error {
	if len(v) <= MaxIDLen {
		return nil
	}
	return fmt.Errorf("%d bytes (%s), at most %d allowed", len(v), firstBytes([]byte(v)), MaxIDLen)
}

func parseQty(raw json.RawMessage) (float64, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, errors.New("missing")
	}
	if s[0] == '"' { // some POS send numbers as strings
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errors.New("not a number")
		}
	}
	q, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(q, 0) || math.IsNaN(q) {
		return 0, fmt.Errorf("%s is not a number", firstBytes([]byte(s)))
	}
	if q <= 0 {
		return 0, fmt.Errorf("must be positive, got %s", strconv.FormatFloat(q, 'f', -1, 64))
	}
	return q, nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	return err.Error()
}
