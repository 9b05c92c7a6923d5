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
	// Read on demand between refreshes: products without stock (by id and
	// by internal reference), customers (by id and by ref).
	products    map[int]*Product
	productKeys map[string]*Product
	partners    map[int]*Point
	partnerKeys map[string]partnerHit
}

// partnerHit is a partner found by its ref.
type partnerHit struct {
	id    int
	point *Point
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
	byID := make(map[int]*Product, len(products))
	for _, p := range products {
		byID[p.ID] = p
	}
	run := &Run{
		ID:           NewRunID(),
		TicketID:     req.Ticket.ID,
		TicketDate:   req.Ticket.Date,
		Database:     req.Database,
		Organization: Ref{ID: org.ID, SearchKey: org.Name, Identifier: org.Name},
		Start:        start,
		StockTaken:   sn.Taken,
	}
	refs := lineRefs{products: byID, uoms: sn.UOMs, companies: sn.Companies}
	lines := make([]PendingLine, 0, len(req.Ticket.Lines))
	run.Lines = make([]RunLine, 0, len(req.Ticket.Lines))
	for i, l := range req.Ticket.Lines {
		pl, rl, err := convertLine(i+1, l, products[i], sn.UOMs)
		if err != nil {
			return nil, err
		}
		lines = append(lines, pl)
		run.Lines = append(run.Lines, rl)
	}
	if req.Ticket.BusinessPartner != "" || req.Ticket.BusinessPartnerKey != "" {
		var who string
		run.Customer, who, err = s.customer(ctx, sc, req)
		if err != nil {
			return nil, err
		}
		if run.Customer == nil {
			run.Log = append(run.Log, "customer "+who+" has no coordinates")
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
				sc.productKeys = map[string]*Product{}
				sc.partners = map[int]*Point{}
				sc.partnerKeys = map[string]partnerHit{}
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
	ref, key := req.Ticket.Organization, req.Ticket.OrganizationKey
	if ref == "" && key != "" {
		// The searchKey of an organization is the company's name.
		for _, c := range sn.Companies {
			if strings.EqualFold(c.Name, key) {
				return c, nil
			}
		}
		return nil, &InputError{Field: "ticket.organization.searchKey", Msg: fmt.Sprintf("unknown organization %q", key)}
	}
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

// products resolves each line's product: by id, or by searchKey (the
// internal reference) when the line gives no Odoo id. It looks in the
// snapshot, then the scope's cache, and reads what is left from Odoo in
// at most one call per kind, never one per line. Unknown or ambiguous
// references are the caller's error, naming the line.
func (s *Service) products(ctx context.Context, sc *scope, sn *Snapshot, req Request) ([]*Product, error) {
	lines := req.Ticket.Lines
	out := make([]*Product, len(lines))
	var missingIDs []int
	var missingKeys []string
	sc.mu.Lock()
	for i, l := range lines {
		if id, err := strconv.Atoi(l.Product); err == nil && id > 0 {
			if p := sn.Products[id]; p != nil {
				out[i] = p
			} else if p := sc.products[id]; p != nil {
				out[i] = p
			} else {
				missingIDs = append(missingIDs, id)
			}
			continue
		}
		if l.ProductKey == "" {
			sc.mu.Unlock()
			return nil, &InputError{Line: i + 1, ID: l.ID, Field: "product.id", Msg: fmt.Sprintf("%q is not an Odoo product id", l.Product)}
		}
		switch ids := sn.productKeys[l.ProductKey]; {
		case len(ids) > 1:
			sc.mu.Unlock()
			return nil, ambiguousProduct(i+1, l, ids)
		case len(ids) == 1:
			out[i] = sn.Products[ids[0]]
		default:
			if p := sc.productKeys[l.ProductKey]; p != nil {
				out[i] = p
			} else {
				missingKeys = append(missingKeys, l.ProductKey)
			}
		}
	}
	sc.mu.Unlock()
	if len(missingIDs) == 0 && len(missingKeys) == 0 {
		return out, nil
	}
	var byID map[int]*Product
	byKey := map[string][]*Product{}
	if len(missingIDs) > 0 {
		slices.Sort(missingIDs)
		var err error
		if byID, err = readProducts(ctx, req.Session, odoo.Term("id", "in", slices.Compact(missingIDs))); err != nil {
			return nil, err
		}
	}
	if len(missingKeys) > 0 {
		slices.Sort(missingKeys)
		got, err := readProducts(ctx, req.Session, odoo.Term("default_code", "in", slices.Compact(missingKeys)))
		if err != nil {
			return nil, err
		}
		for _, p := range got {
			byKey[p.Code] = append(byKey[p.Code], p)
		}
	}
	sc.mu.Lock()
	for id, p := range byID {
		if sc.products != nil {
			sc.products[id] = p
		}
	}
	for k, ps := range byKey {
		if len(ps) == 1 && sc.productKeys != nil {
			sc.productKeys[k] = ps[0]
		}
	}
	sc.mu.Unlock()
	for i, l := range lines {
		if out[i] != nil {
			continue
		}
		if id, err := strconv.Atoi(l.Product); err == nil && id > 0 {
			if out[i] = byID[id]; out[i] == nil {
				return nil, &InputError{Line: i + 1, ID: l.ID, Field: "product.id", Msg: fmt.Sprintf("unknown product %d", id)}
			}
			continue
		}
		switch ps := byKey[l.ProductKey]; len(ps) {
		case 0:
			return nil, &InputError{Line: i + 1, ID: l.ID, Field: "product.searchKey", Msg: fmt.Sprintf("no product has the internal reference %q", l.ProductKey)}
		case 1:
			out[i] = ps[0]
		default:
			ids := make([]int, len(ps))
			for j, p := range ps {
				ids[j] = p.ID
			}
			slices.Sort(ids)
			return nil, ambiguousProduct(i+1, l, ids)
		}
	}
	return out, nil
}

func ambiguousProduct(n int, l Line, ids []int) error {
	return &InputError{Line: n, ID: l.ID, Field: "product.searchKey",
		Msg: fmt.Sprintf("internal reference %q is shared by products %s: give the product's id", l.ProductKey, joinInts(ids))}
}

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ", ")
}

// customer finds the ticket's business partner, by id or else by its
// searchKey (the partner's ref), and returns its coordinates (nil: none)
// and how to name it in the log.
func (s *Service) customer(ctx context.Context, sc *scope, req Request) (*Point, string, error) {
	t := req.Ticket
	id, err := strconv.Atoi(t.BusinessPartner)
	if err != nil || id <= 0 {
		if t.BusinessPartnerKey != "" {
			return s.customerByKey(ctx, sc, req)
		}
		return nil, "", &InputError{Field: "ticket.businessPartner.id", Msg: fmt.Sprintf("%q is not an Odoo partner id", t.BusinessPartner)}
	}
	sc.mu.Lock()
	p, known := sc.partners[id]
	sc.mu.Unlock()
	if known {
		return p, t.BusinessPartner, nil
	}
	got, err := readPoints(ctx, req.Session, odoo.Term("id", "=", id))
	if err != nil {
		return nil, "", err
	}
	hit, found := got[id]
	if !found {
		return nil, "", &InputError{Field: "ticket.businessPartner.id", Msg: fmt.Sprintf("unknown partner %d", id)}
	}
	sc.mu.Lock()
	if sc.partners != nil {
		sc.partners[id] = hit.point
	}
	sc.mu.Unlock()
	return hit.point, t.BusinessPartner, nil
}

func (s *Service) customerByKey(ctx context.Context, sc *scope, req Request) (*Point, string, error) {
	key := req.Ticket.BusinessPartnerKey
	sc.mu.Lock()
	hit, known := sc.partnerKeys[key]
	sc.mu.Unlock()
	if known {
		return hit.point, key, nil
	}
	got, err := readPoints(ctx, req.Session, odoo.Term("ref", "=", key))
	if err != nil {
		return nil, "", err
	}
	switch len(got) {
	case 0:
		return nil, "", &InputError{Field: "ticket.businessPartner.searchKey", Msg: fmt.Sprintf("no partner has the reference %q", key)}
	case 1:
	default:
		ids := make([]int, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return nil, "", &InputError{Field: "ticket.businessPartner.searchKey", Msg: fmt.Sprintf("reference %q is shared by partners %s: give the partner's id", key, joinInts(ids))}
	}
	for _, h := range got {
		hit = h
	}
	sc.mu.Lock()
	if sc.partnerKeys != nil {
		sc.partnerKeys[key] = hit
	}
	sc.mu.Unlock()
	return hit.point, key, nil
}

// convertLine checks a line's unit against its product's and converts the
// quantity the way Odoo's uom._compute_quantity does (rounded up to the
// product unit's rounding).
func convertLine(n int, l Line, p *Product, uoms map[int]*UOM) (PendingLine, RunLine, error) {
	pid := p.ID
	bad := func(msg string) error { return &InputError{Line: n, ID: l.ID, Field: "uom", Msg: msg} }
	to := uoms[p.UOM]
	if to == nil {
		return PendingLine{}, RunLine{}, bad(fmt.Sprintf("product %d has no readable unit", pid))
	}
	from := to // no unit given: the product's
	switch {
	case l.UOM != "":
		uid, err := strconv.Atoi(l.UOM)
		if err != nil {
			if l.UOMKey == "" {
				return PendingLine{}, RunLine{}, bad(fmt.Sprintf("%q is not an Odoo unit id", l.UOM))
			}
			from = unitNamed(uoms, l.UOMKey, to.Category)
			if from == nil {
				return PendingLine{}, RunLine{}, &InputError{Line: n, ID: l.ID, Field: "uom.searchKey", Msg: fmt.Sprintf("unknown unit %q", l.UOMKey)}
			}
			break
		}
		if from = uoms[uid]; from == nil {
			return PendingLine{}, RunLine{}, bad(fmt.Sprintf("unknown unit %d", uid))
		}
	case l.UOMKey != "":
		if from = unitNamed(uoms, l.UOMKey, to.Category); from == nil {
			return PendingLine{}, RunLine{}, &InputError{Line: n, ID: l.ID, Field: "uom.searchKey", Msg: fmt.Sprintf("unknown unit %q", l.UOMKey)}
		}
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

// unitNamed finds a unit by its name (the searchKey of a unit), ignoring
// case; of several, the one in the product unit's category, then the
// lowest id, so that the choice does not depend on map order.
func unitNamed(uoms map[int]*UOM, name string, category int) *UOM {
	var best *UOM
	for _, u := range uoms {
		if !strings.EqualFold(u.Name, name) {
			continue
		}
		if best == nil {
			best = u
			continue
		}
		if in, bestIn := u.Category == category, best.Category == category; in != bestIn {
			if in {
				best = u
			}
		} else if u.ID < best.ID {
			best = u
		}
	}
	return best
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
