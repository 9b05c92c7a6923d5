package oms

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Run is one sourcing of one ticket, kept so that its answer can be
// explained: every rule and criterion with its groups and log lines.
type Run struct {
	ID       string `json:"id"`
	TicketID string `json:"ticket"`
	// TicketDate is the ticket's date as the caller sent it.
	TicketDate   string        `json:"ticketDate,omitempty"`
	Database     string        `json:"database"`
	Organization Ref           `json:"organization"`
	Customer     *Point        `json:"customer,omitempty"`
	Start        time.Time     `json:"start"`
	Duration     time.Duration `json:"duration_ns"`
	// StockTaken is when the stock the run used was read from Odoo.
	StockTaken  time.Time    `json:"stock_taken"`
	Lines       []RunLine    `json:"lines"`
	Rules       []RuleRun    `json:"rules"`
	Fulfilled   bool         `json:"fulfilled"`
	Allocations []Allocation `json:"allocations"`
	Log         []string     `json:"log,omitempty"`
}

// Ref names an Odoo record the way OMS answers do.
type Ref struct {
	ID         int    `json:"id"`
	SearchKey  string `json:"searchKey"`
	Identifier string `json:"_identifier"`
}

// RunLine is a ticket line as asked and as converted to the product's unit.
type RunLine struct {
	ID         string  `json:"id"`
	Product    Ref     `json:"product"`
	Qty        float64 `json:"qty"`
	UOM        Ref     `json:"uom"`
	ProductQty float64 `json:"productQty"`
	ProductUOM Ref     `json:"productUom"`
}

// RuleRun is what one rule did.
type RuleRun struct {
	Rule     string         `json:"rule"`
	Partial  bool           `json:"partialAllowed"`
	Input    Group          `json:"input"`
	Criteria []CriterionRun `json:"criteria"`
	// Placed lists the lines this rule placed (kept only when the rule
	// completed the order or allows partial allocation).
	Placed   []Allocation `json:"placed"`
	Unplaced []string     `json:"unplaced,omitempty"`
	Outcome  string       `json:"outcome"`
	Log      []string     `json:"log,omitempty"`
}

// Outcomes of a rule.
const (
	OutcomeFulfilled = "fulfilled"    // every pending line placed: the run ends
	OutcomePartial   = "partial kept" // some placed and kept, the rest to the next rule
	OutcomeDiscarded = "discarded"    // not complete and partial not allowed
	OutcomeNothing   = "nothing placed"
)

// CriterionRun is what one criterion did. Its input is the previous
// criterion's output (the rule's input for the first); Expand fills it in.
type CriterionRun struct {
	Criterion string        `json:"criterion"`
	Final     bool          `json:"final,omitempty"`
	Input     Group         `json:"input,omitempty"`
	Output    Group         `json:"output"`
	Log       []string      `json:"log,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
}

// Allocation is one line shipped from one warehouse, in the product's unit.
type Allocation struct {
	Line         string  `json:"line"`
	Organization Ref     `json:"organization"`
	Warehouse    Ref     `json:"warehouse"`
	Product      Ref     `json:"product"`
	Qty          float64 `json:"qty"`
	UOM          Ref     `json:"uom"`
	Rule         string  `json:"rule"`
}

// Expand fills in each criterion's input from the chain, for display; runs
// are stored without them (they repeat the previous output).
func (r *Run) Expand() {
	for i := range r.Rules {
		in := r.Rules[i].Input
		for j := range r.Rules[i].Criteria {
			c := &r.Rules[i].Criteria[j]
			c.Input = in
			in = c.Output
		}
	}
}

// NewRunID makes a 32-character id in the style of Openbravo's ids: 32
// upper-case hex digits. The first 12 are the milliseconds since 1970 and
// the other 20 random, so ids sort by time: a store appends new runs at
// the end of its index instead of rewriting pages all over it.
func NewRunID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
