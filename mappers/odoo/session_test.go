package odoo

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// objectCall is one execute_kw a fakeObject saw.
type objectCall struct {
	model, method string
	args          []any
	kwargs        map[string]any
}

// fakeObject is a Transport whose object service is a function.
type fakeObject struct {
	calls []objectCall
	fn    func(c objectCall) (any, error)
}

func (f *fakeObject) Common(ctx context.Context, method string, args ...any) (any, error) {
	return nil, errors.New("not used")
}

func (f *fakeObject) Service(ctx context.Context, service, method string, args ...any) (any, error) {
	return nil, errors.New("not used")
}

func (f *fakeObject) Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error) {
	c := objectCall{model, method, args, kwargs}
	f.calls = append(f.calls, c)
	return f.fn(c)
}

func TestTermAndDomain(t *testing.T) {
	if got := Term("state", "in", []string{"draft", "sent"}); !reflect.DeepEqual(got, []any{"state", "in", []string{"draft", "sent"}}) {
		t.Errorf("Term = %#v", got)
	}
	d := Domain{"|", Term("id", "=", 1), "!", Term("active", "=", false)}
	want := []any{"|", []any{"id", "=", 1}, "!", []any{"active", "=", false}}
	if got := normaliseValue(d); !reflect.DeepEqual(got, want) {
		t.Errorf("domain on the wire = %#v, want %#v", got, want)
	}
}

func TestWithContext(t *testing.T) {
	base := &Session{DB: "odoo17", UID: 2, Context: Context{"lang": "en_US"}}
	fr := base.WithContext(Context{"lang": "fr_FR", "tz": "Europe/Brussels"})
	if base.Context["lang"] != "en_US" || len(base.Context) != 1 {
		t.Errorf("WithContext changed the original: %v", base.Context)
	}
	if fr.Context["lang"] != "fr_FR" || fr.Context["tz"] != "Europe/Brussels" || fr.DB != "odoo17" || fr.UID != 2 {
		t.Errorf("WithContext = %+v", fr)
	}
	empty := (&Session{}).WithContext(Context{"active_test": false})
	if !reflect.DeepEqual(empty.Context, Context{"active_test": false}) {
		t.Errorf("WithContext on a nil context = %v", empty.Context)
	}
}

// pagedRows answers search_read from n records with ids 1..n, honouring limit and offset.
func pagedRows(n int) func(c objectCall) (any, error) {
	return func(c objectCall) (any, error) {
		off, lim := AsInt(c.kwargs["offset"]), AsInt(c.kwargs["limit"])
		rows := []any{}
		for id := off + 1; id <= n && (lim == 0 || len(rows) < lim); id++ {
			rows = append(rows, map[string]any{"id": int64(id)})
		}
		return rows, nil
	}
}

func TestSearchReadPaging(t *testing.T) {
	cases := []struct {
		name      string
		n, page   int
		q         Query
		wantIDs   int   // records returned
		wantPages []int // [offset, limit] pairs sent
	}{
		{"exact pages", 4, 2, Query{}, 4, []int{0, 2, 2, 2, 4, 2}},
		{"short last page", 5, 2, Query{}, 5, []int{0, 2, 2, 2, 4, 2}},
		{"limit inside a page", 10, 4, Query{Limit: 3}, 3, []int{0, 3}},
		{"limit across pages", 10, 4, Query{Limit: 6}, 6, []int{0, 4, 4, 2}},
		{"offset", 10, 4, Query{Offset: 7}, 3, []int{7, 4}},
		{"limit beyond the records", 3, 2, Query{Limit: 10}, 3, []int{0, 2, 2, 2}},
		{"no records", 0, 2, Query{}, 0, []int{0, 2}},
		{"default page size", 3, 0, Query{}, 3, []int{0, DefaultPageSize}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeObject{fn: pagedRows(c.n)}
			s := &Session{T: f, PageSize: c.page}
			recs, err := s.SearchRead(context.Background(), "res.partner", nil, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != c.wantIDs {
				t.Fatalf("%d records, want %d", len(recs), c.wantIDs)
			}
			for i, r := range recs {
				if r.ID() != c.q.Offset+i+1 {
					t.Fatalf("record %d has id %d", i, r.ID())
				}
			}
			var pages []int
			for _, call := range f.calls {
				if call.method != "search_read" || !reflect.DeepEqual(call.args, []any{Domain{}}) {
					t.Fatalf("call %s %v", call.method, call.args)
				}
				pages = append(pages, AsInt(call.kwargs["offset"]), AsInt(call.kwargs["limit"]))
			}
			if !reflect.DeepEqual(pages, c.wantPages) {
				t.Errorf("offset/limit sent %v, want %v", pages, c.wantPages)
			}
		})
	}
}

func TestSearchReadKwargs(t *testing.T) {
	f := &fakeObject{fn: pagedRows(1)}
	s := &Session{T: f, Context: Context{"lang": "en_US", "tz": "UTC"}}
	q := Query{Fields: []string{"name"}, Order: "name desc, id", Context: Context{"tz": "Asia/Shanghai", "allowed_company_ids": []int{1, 2}}}
	if _, err := s.SearchRead(context.Background(), "res.partner", Domain{Term("id", ">", 0)}, q); err != nil {
		t.Fatal(err)
	}
	kw := f.calls[0].kwargs
	wantCtx := map[string]any{"lang": "en_US", "tz": "Asia/Shanghai", "allowed_company_ids": []int{1, 2}}
	if !reflect.DeepEqual(kw["context"], wantCtx) || kw["order"] != "name desc, id" || !reflect.DeepEqual(kw["fields"], []string{"name"}) {
		t.Errorf("kwargs = %v", kw)
	}
	if s.Context["tz"] != "UTC" {
		t.Errorf("the query context leaked into the session: %v", s.Context)
	}
	// No order: the model's default order is left to Odoo.
	f.calls = nil
	_, _ = s.SearchRead(context.Background(), "res.partner", nil, Query{})
	if _, ok := f.calls[0].kwargs["order"]; ok {
		t.Errorf("an empty order was sent: %v", f.calls[0].kwargs)
	}
	if _, ok := f.calls[0].kwargs["fields"]; ok {
		t.Errorf("nil fields were sent: %v", f.calls[0].kwargs)
	}
}

func TestSearchReadUnexpectedShapes(t *testing.T) {
	for name, res := range map[string]any{"not a list": map[string]any{}, "row not a struct": []any{int64(1)}, "False": false} {
		s := &Session{T: &fakeObject{fn: func(objectCall) (any, error) { return res, nil }}}
		_, err := s.SearchRead(context.Background(), "res.partner", nil, Query{})
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != KindOther || oe.Model != "res.partner" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	stop := errors.New("stop")
	s := &Session{T: &fakeObject{fn: pagedRows(5)}}
	seen := 0
	err := s.SearchReadEach(context.Background(), "res.partner", nil, Query{}, func(Record) error { seen++; return stop })
	if err != stop || seen != 1 {
		t.Errorf("callback error: err %v after %d records", err, seen)
	}
}

func TestSessionCalls(t *testing.T) {
	var got []objectCall
	f := &fakeObject{fn: func(c objectCall) (any, error) {
		got = append(got, c)
		switch c.method {
		case "search":
			return []any{int64(3), int64(4)}, nil
		case "search_count":
			return int64(2), nil
		case "read":
			ids := c.args[0].([]int)
			rows := []any{}
			for _, id := range ids {
				rows = append(rows, map[string]any{"id": int64(id)})
			}
			return rows, nil
		case "create":
			if _, ok := c.args[0].([]any); ok {
				return []any{int64(10), int64(11)}, nil
			}
			return int64(10), nil
		case "fields_get":
			return map[string]any{"partner_id": map[string]any{"type": "many2one", "relation": "res.partner", "string": "Customer",
				"store": true, "required": true, "readonly": false}}, nil
		}
		return true, nil
	}}
	s := &Session{T: f, Context: Context{"lang": "en_US"}, PageSize: 2}
	ctx := context.Background()
	if ids, err := s.Search(ctx, "sale.order", nil, Query{Limit: 5, Offset: 1, Order: "id"}); err != nil || !reflect.DeepEqual(ids, []int{3, 4}) {
		t.Errorf("Search = %v, %v", ids, err)
	}
	if kw := got[0].kwargs; kw["limit"] != 5 || kw["offset"] != 1 || kw["order"] != "id" {
		t.Errorf("Search kwargs %v", kw)
	}
	if n, err := s.SearchCount(ctx, "sale.order", nil, Query{}); err != nil || n != 2 {
		t.Errorf("SearchCount = %d, %v", n, err)
	}
	recs, err := s.Read(ctx, "sale.order", []int{1, 2, 3, 4, 5}, Query{Fields: []string{"name"}})
	if err != nil || len(recs) != 5 || recs[4].ID() != 5 {
		t.Errorf("Read = %v, %v", recs, err)
	}
	reads := 0
	for _, c := range got {
		if c.method == "read" {
			reads++
		}
	}
	if reads != 3 {
		t.Errorf("Read of 5 ids with page size 2 made %d calls, want 3", reads)
	}
	if id, err := s.Create(ctx, "sale.order", map[string]any{"partner_id": 9}); err != nil || id != 10 {
		t.Errorf("Create = %d, %v", id, err)
	}
	if kw := got[len(got)-1].kwargs; !reflect.DeepEqual(kw["context"], map[string]any{"lang": "en_US"}) {
		t.Errorf("Call did not send the session context: %v", kw)
	}
	if ids, err := s.CreateMulti(ctx, "sale.order", []map[string]any{{}, {}}); err != nil || !reflect.DeepEqual(ids, []int{10, 11}) {
		t.Errorf("CreateMulti = %v, %v", ids, err)
	}
	if _, err := s.CreateMulti(ctx, "sale.order", []map[string]any{{}, {}, {}}); KindOf(err) != KindOther || err == nil {
		t.Errorf("CreateMulti with a short answer: %v", err)
	}
	if ids, err := s.CreateMulti(ctx, "sale.order", nil); ids != nil || err != nil {
		t.Errorf("CreateMulti(nil) = %v, %v", ids, err)
	}
	n := len(got)
	if err := s.Unlink(ctx, "sale.order", nil); err != nil || len(got) != n {
		t.Errorf("Unlink(nil) made a call or failed: %v", err)
	}
	if err := s.Write(ctx, "sale.order", []int{1}, map[string]any{"note": "x"}); err != nil {
		t.Errorf("Write: %v", err)
	}
	if _, err := s.Call(ctx, "sale.order", "action_confirm", []any{[]int{1}}, map[string]any{"context": map[string]any{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	if kw := got[len(got)-1].kwargs; !reflect.DeepEqual(kw["context"], map[string]any{"x": 1}) {
		t.Errorf("Call replaced an explicit context: %v", kw)
	}
	fields, err := s.FieldsGet(ctx, "sale.order")
	if err != nil || fields["partner_id"] != (Field{Type: "many2one", Relation: "res.partner", String: "Customer", Store: true, Required: true}) {
		t.Errorf("FieldsGet = %+v, %v", fields, err)
	}
}
