// Package oms sources order tickets: for each line of a shop's or point of
// sale's order it proposes the warehouse that ships it, from Odoo's stock
// and configurable rules, and answers in the JSON shape of the Openbravo OMS
// engine (versions 1.0.0 and 1.1.0).
//
// The flow of one request:
//
//	ParseTicket  →  Service.Propose  →  Response
//	(JSON, checked    (stock snapshot,     (v1.0.0 / v1.1.0
//	 line by line)     rules, a Run)        proposals)
//
// A Run records everything the engine did: for every rule and criterion its
// input and output groups and its log lines, so that an answer can be
// explained afterwards (the gateway keeps runs in the store).
//
// # Rules, criteria and algorithms
//
// Each organization (an Odoo company) has an ordered list of rules. A rule
// has an ordered list of criteria; each criterion runs one algorithm over a
// group of candidates (warehouse, product, available quantity, priority)
// and hands its output group to the next criterion. A criterion marked
// final must be the rule's last (a configuration with criteria after it is
// refused). The rule then gives every pending line, whole, to the first
// candidate in priority order that has the line's quantity left. The first
// rule that places every line ends the run; a rule that allows partial
// allocation also splits a line that no candidate holds whole over the
// candidates in priority order, keeps what it placed and leaves the rest
// (whole lines and the unplaced part of split ones) to the next rule; when
// no rule completes the order the proposal is empty.
//
// Priorities: a lower value ships first. An algorithm that re-prioritizes
// overwrites the priority; groups are sorted stably, so the order left by
// earlier criteria breaks ties of later ones.
//
// # Adding an algorithm
//
// Write one file with a type implementing Algorithm and register its
// factory in an init function:
//
//	func init() { Register("my_rule", "what it does", newMyRule) }
//
//	func newMyRule(p Params) (Algorithm, error) {
//		limit, err := p.Float("limit", 10)
//		if err != nil {
//			return nil, err
//		}
//		return myRule{limit}, p.Done() // Done rejects unknown parameters
//	}
//
//	func (a myRule) Apply(in *Input) Group {
//		return in.Group.Filter(func(c Candidate) bool { return c.Available <= a.limit })
//	}
//
// The configuration names it by its registered name; unknown names and bad
// parameters are reported when the configuration is loaded.
package oms
