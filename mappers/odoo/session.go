package odoo

import (
	"context"
	"fmt"
	"maps"
)

// Domain is an Odoo search domain in prefix notation: terms are
// []any{field, operator, value} and the operators "&", "|", "!".
type Domain []any

// Term builds one domain term.
func Term(field, op string, value any) []any { return []any{field, op, value} }

// Context is an Odoo call context (lang, tz, allowed_company_ids, active_test…).
type Context map[string]any

// DefaultPageSize is how many records one search_read page carries.
const DefaultPageSize = 5000

// Session is an authenticated user on one database. It is cheap to copy:
// WithContext returns a variant with more context keys.
type Session struct {
	T        Transport
	DB       string
	UID      int
	Password string
	// Context is sent with every object call (merged under per-call keys).
	Context Context
	// PageSize bounds records per search_read call (0: DefaultPageSize).
	PageSize int
}

// Login authenticates and returns a session.
func Login(ctx context.Context, t Transport, db, login, password string) (*Session, error) {
	uid, err := Authenticate(ctx, t, db, login, password)
	if err != nil {
		return nil, err
	}
	return &Session{T: t, DB: db, UID: uid, Password: password, Context: Context{}}, nil
}

// WithContext returns a copy of s whose context has extra keys.
func (s *Session) WithContext(extra Context) *Session {
	c := *s
	c.Context = maps.Clone(s.Context)
	if c.Context == nil {
		c.Context = Context{}
	}
	maps.Copy(c.Context, extra)
	return &c
}

// Query is what search_read and search take besides the domain.
type Query struct {
	Fields  []string
	Order   string
	Limit   int // 0: no limit
	Offset  int
	Context Context // merged over the session context
}

// Call runs any public model method with execute_kw.
func (s *Session) Call(ctx context.Context, model, method string, args []any, kwargs map[string]any) (any, error) {
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if _, ok := kwargs["context"]; !ok && len(s.Context) > 0 {
		kwargs["context"] = map[string]any(s.Context)
	}
	return s.T.Object(ctx, s.DB, s.UID, s.Password, model, method, args, kwargs)
}

func (s *Session) ctxFor(q Query) map[string]any {
	c := maps.Clone(map[string]any(s.Context))
	if c == nil {
		c = map[string]any{}
	}
	maps.Copy(c, q.Context)
	return c
}

func (s *Session) pageSize() int {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return DefaultPageSize
}

// SearchReadEach streams search_read pages: fn sees each record in order.
// The order is sent as given (none: the model's default order), because
// documents must list records exactly as the addon's unpaged reads did;
// Odoo's default orders end in a unique key, and callers paging huge
// tables with a custom order should end it with "id".
func (s *Session) SearchReadEach(ctx context.Context, model string, domain Domain, q Query, fn func(Record) error) error {
	if domain == nil {
		domain = Domain{}
	}
	order := q.Order
	remaining := q.Limit
	offset := q.Offset
	for {
		page := s.pageSize()
		if remaining > 0 && remaining < page {
			page = remaining
		}
		kw := map[string]any{"limit": page, "offset": offset, "context": s.ctxFor(q)}
		if order != "" {
			kw["order"] = order
		}
		if q.Fields != nil {
			kw["fields"] = q.Fields
		}
		v, err := s.T.Object(ctx, s.DB, s.UID, s.Password, model, "search_read", []any{domain}, kw)
		if err != nil {
			return err
		}
		rows, ok := v.([]any)
		if !ok {
			return &Error{Op: "execute_kw search_read", Model: model, Kind: KindOther, Err: fmt.Errorf("unexpected result %T", v)}
		}
		for _, row := range rows {
			m, ok := row.(map[string]any)
			if !ok {
				return &Error{Op: "execute_kw search_read", Model: model, Kind: KindOther, Err: fmt.Errorf("unexpected row %T", row)}
			}
			if err := fn(Record(m)); err != nil {
				return err
			}
		}
		offset += len(rows)
		if remaining > 0 {
			remaining -= len(rows)
			if remaining <= 0 {
				return nil
			}
		}
		if len(rows) < page {
			return nil
		}
	}
}

// SearchRead reads all matching records (paged under the hood).
func (s *Session) SearchRead(ctx context.Context, model string, domain Domain, q Query) ([]Record, error) {
	var out []Record
	err := s.SearchReadEach(ctx, model, domain, q, func(r Record) error { out = append(out, r); return nil })
	return out, err
}

// Search returns matching ids.
func (s *Session) Search(ctx context.Context, model string, domain Domain, q Query) ([]int, error) {
	if domain == nil {
		domain = Domain{}
	}
	kw := map[string]any{"context": s.ctxFor(q)}
	if q.Limit > 0 {
		kw["limit"] = q.Limit
	}
	if q.Offset > 0 {
		kw["offset"] = q.Offset
	}
	if q.Order != "" {
		kw["order"] = q.Order
	}
	v, err := s.T.Object(ctx, s.DB, s.UID, s.Password, model, "search", []any{domain}, kw)
	if err != nil {
		return nil, err
	}
	return AsIDs(v), nil
}

// SearchCount counts matching records.
func (s *Session) SearchCount(ctx context.Context, model string, domain Domain, q Query) (int, error) {
	if domain == nil {
		domain = Domain{}
	}
	v, err := s.T.Object(ctx, s.DB, s.UID, s.Password, model, "search_count", []any{domain}, map[string]any{"context": s.ctxFor(q)})
	if err != nil {
		return 0, err
	}
	return AsInt(v), nil
}

// Read reads records by id, in chunks of the page size.
func (s *Session) Read(ctx context.Context, model string, ids []int, q Query) ([]Record, error) {
	var out []Record
	for start := 0; start < len(ids); start += s.pageSize() {
		end := min(start+s.pageSize(), len(ids))
		kw := map[string]any{"context": s.ctxFor(q)}
		if q.Fields != nil {
			kw["fields"] = q.Fields
		}
		v, err := s.T.Object(ctx, s.DB, s.UID, s.Password, model, "read", []any{ids[start:end]}, kw)
		if err != nil {
			return nil, err
		}
		rows, _ := v.([]any)
		for _, row := range rows {
			if m, ok := row.(map[string]any); ok {
				out = append(out, Record(m))
			}
		}
	}
	return out, nil
}

// Field describes one field as fields_get reports it.
type Field struct {
	Type     string
	Relation string
	String   string
	Store    bool
	Required bool
	Readonly bool
	// Related is the path of a related field ("partner_id.name"), else "".
	Related string
}

// FieldsGet lists a model's fields. A model that does not exist yields KindNotFound.
func (s *Session) FieldsGet(ctx context.Context, model string) (map[string]Field, error) {
	v, err := s.T.Object(ctx, s.DB, s.UID, s.Password, model, "fields_get", []any{},
		map[string]any{"attributes": []any{"type", "relation", "string", "store", "required", "readonly", "related"}, "context": s.ctxFor(Query{})})
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	out := make(map[string]Field, len(m))
	for name, a := range m {
		attrs, _ := a.(map[string]any)
		r := Record(attrs)
		out[name] = Field{Type: r.String("type"), Relation: r.String("relation"), String: r.String("string"),
			Store: r.Bool("store"), Required: r.Bool("required"), Readonly: r.Bool("readonly"), Related: r.String("related")}
	}
	return out, nil
}

// Create creates one record and returns its id.
func (s *Session) Create(ctx context.Context, model string, vals map[string]any) (int, error) {
	v, err := s.Call(ctx, model, "create", []any{vals}, nil)
	if err != nil {
		return 0, err
	}
	if l, ok := v.([]any); ok && len(l) == 1 { // create with a list answers a list
		return AsInt(l[0]), nil
	}
	return AsInt(v), nil
}

// CreateMulti creates several records in one call (Odoo's create accepts a
// list of value dicts) and returns their ids in order.
func (s *Session) CreateMulti(ctx context.Context, model string, vals []map[string]any) ([]int, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	list := make([]any, len(vals))
	for i, v := range vals {
		list[i] = v
	}
	v, err := s.Call(ctx, model, "create", []any{list}, nil)
	if err != nil {
		return nil, err
	}
	ids := AsIDs(v)
	if len(ids) != len(vals) {
		return ids, &Error{Op: "execute_kw create", Model: model, Kind: KindOther,
			Err: fmt.Errorf("created %d records for %d value sets", len(ids), len(vals))}
	}
	return ids, nil
}

// Write updates records.
func (s *Session) Write(ctx context.Context, model string, ids []int, vals map[string]any) error {
	_, err := s.Call(ctx, model, "write", []any{ids, vals}, nil)
	return err
}

// Unlink deletes records.
func (s *Session) Unlink(ctx context.Context, model string, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Call(ctx, model, "unlink", []any{ids}, nil)
	return err
}
