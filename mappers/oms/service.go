package oms

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// Service sources tickets against Odoo. Stock is read once per scope and
// reused for Config.StockFreshness; concurrent requests share one read.
// It is safe for concurrent use.
type Service struct {
	engine *Engine
	now    func() time.Time

	mu     sync.Mutex
	scopes map[string]*scope
}

// scope is the cached Odoo data of one database and user.
type scope struct {
	mu      sync.Mutex
	snap    *Snapshot
	loading *snapLoad
	// Read on demand between refreshes: products without stock, customers.
	products map[int]*Product
	partners map[int]*Point
}

type snapLoad struct {
	done chan struct{}
	snap *Snapshot
	err  error
}

// NewService serves tickets with a validated engine; now nil means time.Now.
func NewService(e *Engine, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{engine: e, now: now, scopes: map[string]*scope{}}
}

// Engine returns the service's engine.
func (s *Service) Engine() *Engine { return s.engine }

// Request is one ticket to source.
type Request struct {
	Session *odoo.Session
	// Scope keys the stock cache: requests of one scope see the same Odoo
	// data (the gateway uses database and login).
	Scope    string
	Database string
	// Company is the caller's company, used when the ticket names no
	// organization (0: none named).
	Company int
	Ticket  *Ticket
}

// Propose sources a ticket. Errors are *InputError for the caller's
// mistakes (unknown products or units, unknown organization) and wrapped
// Odoo errors otherwise.
func (s *Service) Propose(ctx context.Context, req Request) (*Run, error) {
	start, t0 := s.now(), time.Now() // the clock may be fixed; durations are real
	sc := s.scope(req.Scope)
	sn, err := s.snapshot(ctx, sc, req.Session)
	if err != nil {
		return nil, err
	}
	org, err := s.organization(sn, req)
	if err != nil {
		return nil, err
	}
	rules := s.engine.rulesFor(org)
	if rules == nil {
		return nil, &InputError{Field: "ticket.organization", Msg: fmt.Sprintf("no sourcing rules configured for %s", org.Name)}
	}
	products, err := s.products(ctx, sc, sn, req)
	if err != nil {
		return nil, err
	}
	run := &Run{
		ID:           NewRunID(),
		TicketID:     req.Ticket.ID,
		Database:     req.Database,
		Organization: Ref{ID: org.ID, SearchKey: org.Name, Identifier: org.Name},
		Start:        start,
		StockTaken:   sn.Taken,
	}
	refs := lineRefs{products: products, uoms: sn.UOMs, companies: sn.Companies}
	lines := make([]PendingLine, 0, len(req.Ticket.Lines))
	run.Lines = make([]RunLine, 0, len(req.Ticket.Lines))
	for i, l := range req.Ticket.Lines {
		pl, rl, err := convertLine(i+1, l, products, sn.UOMs)
		if err != nil {
			return nil, err
		}
		lines = append(lines, pl)
		run.Lines = append(run.Lines, rl)
	}
	if req.Ticket.BusinessPartner != "" {
		run.Customer, err = s.customer(ctx, sc, req)
		if err != nil {
			return nil, err
		}
		if run.Customer == nil {
			run.Log = append(run.Log, "customer "+req.Ticket.BusinessPartner+" has no coordinates")
		}
	}
	allowed := func(w *Warehouse) bool { return rules.allCompanies || w.Company == org.ID }
	rules.source(run, sn, lines, refs, allowed, run.Customer)
	run.Duration = time.Since(t0)
	return run, nil
}

// Invalidate drops cached stock of a scope ("" : all), so the next ticket
// reads Odoo again.
func (s *Service) Invalidate(scopeKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if scopeKey == "" {
		s.scopes = map[string]*scope{}
		return
	}
	delete(s.scopes, scopeKey)
}

func (s *Service) scope(key string) *scope {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scopes[key]
	if sc == nil {
		sc = &scope{}
		s.scopes[key] = sc
	}
	return sc
}

// snapshot returns the scope's stock, reading Odoo when it is older than
// the freshness; one read serves every request waiting for it.
func (s *Service) snapshot(ctx context.Context, sc *scope, sess *odoo.Session) (*Snapshot, error) {
	sc.mu.Lock()
	if sc.snap != nil && s.now().Sub(sc.snap.Taken) < s.engine.cfg.StockFreshness {
		sn := sc.snap
		sc.mu.Unlock()
		return sn, nil
	}
	ld := sc.loading
	if ld == nil {
		ld = &snapLoad{done: make(chan struct{})}
		sc.loading = ld
		sc.mu.Unlock()
		// Detached from the first caller's cancellation: others wait on it.
		go func() {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			ld.snap, ld.err = loadSnapshot(lctx, sess, s.now())
			sc.mu.Lock()
			if ld.err == nil {
				sc.snap = ld.snap
				sc.products = map[int]*Product{}
				sc.partners = map[int]*Point{}
			}
			sc.loading = nil
			sc.mu.Unlock()
			close(ld.done)
		}()
	} else {
		sc.mu.Unlock()
	}
	select {
	case <-ld.done:
		return ld.snap, ld.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Service) organization(sn *Snapshot, req Request) (*Company, error) {
	ref := req.Ticket.Organization
	if ref == "" {
		if c := sn.Companies[req.Company]; c != nil {
			return c, nil
		}
		if len(sn.Companies) == 1 {
			for _, c := range sn.Companies {
				return c, nil
			}
		}
		return nil, &InputError{Field: "ticket.organization.id", Msg: "missing, and the user sees several companies"}
	}
	if id, err := strconv.Atoi(ref); err == nil {
		if c := sn.Companies[id]; c != nil {
			return c, nil
		}
	}
	for _, c := range sn.Companies {
		if strings.EqualFold(c.Name, ref) {
			return c, nil
		}
	}
	return nil, &InputError{Field: "ticket.organization.id", Msg: fmt.Sprintf("unknown organization %q", ref)}
}

// products resolves the ticket's products: from the snapshot, the scope's
// cache, or one read of the rest. Unknown ids are the caller's error.
func (s *Service) products(ctx context.Context, sc *scope, sn *Snapshot, req Request) (map[int]*Product, error) {
	out := make(map[int]*Product, len(req.Ticket.Lines))
	var missing []int
	sc.mu.Lock()
	for i, l := range req.Ticket.Lines {
		id, err := strconv.Atoi(l.Product)
		if err != nil || id <= 0 {
			sc.mu.Unlock()
			return nil, &InputError{Line: i + 1, ID: l.ID, Field: "product.id", Msg: fmt.Sprintf("%q is not an Odoo product id", l.Product)}
		}
		if p := sn.Products[id]; p != nil {
			out[id] = p
		} else if p := sc.products[id]; p != nil {
			out[id] = p
		} else {
			missing = append(missing, id)
		}
	}
	sc.mu.Unlock()
	if len(missing) > 0 {
		slices.Sort(missing)
		missing = slices.Compact(missing)
		got, err := readProducts(ctx, req.Session, missing)
		if err != nil {
			return nil, err
		}
		sc.mu.Lock()
		for id, p := range got {
			if sc.products != nil {
				sc.products[id] = p
			}
			out[id] = p
		}
		sc.mu.Unlock()
	}
	for i, l := range req.Ticket.Lines {
		id, _ := strconv.Atoi(l.Product)
		if out[id] == nil {
			return nil, &InputError{Line: i + 1, ID: l.ID, Field: "product.id", Msg: fmt.Sprintf("unknown product %d", id)}
		}
	}
	return out, nil
}

func (s *Service) customer(ctx context.Context, sc *scope, req Request) (*Point, error) {
	id, err := strconv.Atoi(req.Ticket.BusinessPartner)
	if err != nil || id <= 0 {
		return nil, &InputError{Field: "ticket.businessPartner.id", Msg: fmt.Sprintf("%q is not an Odoo partner id", req.Ticket.BusinessPartner)}
	}
	sc.mu.Lock()
	p, known := sc.partners[id]
	sc.mu.Unlock()
	if known {
		return p, nil
	}
	got, err := readPoints(ctx, req.Session, []int{id})
	if err != nil {
		return nil, err
	}
	p, found := got[id]
	if !found {
		return nil, &InputError{Field: "ticket.businessPartner.id", Msg: fmt.Sprintf("unknown partner %d", id)}
	}
	sc.mu.Lock()
	if sc.partners != nil {
		sc.partners[id] = p
	}
	sc.mu.Unlock()
	return p, nil
}

// convertLine checks a line's unit against its product's and converts the
// quantity the way Odoo's uom._compute_quantity does (rounded up to the
// product unit's rounding).
func convertLine(n int, l Line, products map[int]*Product, uoms map[int]*UOM) (PendingLine, RunLine, error) {
	pid, _ := strconv.Atoi(l.Product)
	p := products[pid]
	bad := func(msg string) error { return &InputError{Line: n, ID: l.ID, Field: "uom", Msg: msg} }
	uid, err := strconv.Atoi(l.UOM)
	if err != nil {
		return PendingLine{}, RunLine{}, bad(fmt.Sprintf("%q is not an Odoo unit id", l.UOM))
	}
	from, to := uoms[uid], uoms[p.UOM]
	if from == nil {
		return PendingLine{}, RunLine{}, bad(fmt.Sprintf("unknown unit %d", uid))
	}
	if to == nil {
		return PendingLine{}, RunLine{}, bad(fmt.Sprintf("product %d has no readable unit", pid))
	}
	if from.Category != to.Category {
		return PendingLine{}, RunLine{}, bad(fmt.Sprintf("unit %s cannot be converted to the product's unit %s", from.Name, to.Name))
	}
	q := l.Qty
	if from.ID != to.ID {
		if from.Factor == 0 {
			return PendingLine{}, RunLine{}, bad(fmt.Sprintf("unit %s has factor 0", from.Name))
		}
		q = roundUp(q/from.Factor*to.Factor, to.Rounding)
	}
	pl := PendingLine{ID: l.ID, Product: pid, Qty: q}
	rl := RunLine{
		ID:         l.ID,
		Product:    Ref{ID: p.ID, SearchKey: p.Code, Identifier: p.Name},
		Qty:        l.Qty,
		UOM:        Ref{ID: from.ID, SearchKey: from.Name, Identifier: from.Name},
		ProductQty: q,
		ProductUOM: Ref{ID: to.ID, SearchKey: to.Name, Identifier: to.Name},
	}
	return pl, rl, nil
}

// roundUp rounds q up to a multiple of precision, ignoring float noise
// below a millionth of a step (0.1/0.01 would otherwise round up twice).
func roundUp(q, precision float64) float64 {
	if precision <= 0 {
		return q
	}
	steps := q / precision
	r := math.Round(steps)
	if math.Abs(steps-r) < 1e-6 {
		return r * precision
	}
	return math.Ceil(steps) * precision
}
