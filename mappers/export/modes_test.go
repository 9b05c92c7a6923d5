package export

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plangate/plangate/mappers/odoo"
)

func TestDefaultModesReproduceTheAddon(t *testing.T) {
	ms := DefaultModes()
	if err := ms.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := ms.For(1).Sections; !reflect.DeepEqual(got, SectionNames()) {
		t.Errorf("mode 1 sections = %v, want all", got)
	}
	want := []string{"header", "users", "locations", "customers", "categories", "items", "demands"}
	for _, m := range []int{2, 3, 7} {
		if got := ms.For(m).Sections; !reflect.DeepEqual(got, want) {
			t.Errorf("mode %d sections = %v, want %v", m, got, want)
		}
	}
	// Incremental runs are checked against Odoo and equal cold ones
	// (TestIncrementalEqualsCold): with a state file, mode 1 uses them too.
	if got := ms.For(1).Cacheable; !reflect.DeepEqual(got, SectionNames()) {
		t.Errorf("mode 1 cacheable = %v, want every section", got)
	}
}

func TestModesValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		modes Modes
		want  string // substring of the error; "" means valid
	}{
		{"ok", Modes{2: {Sections: []string{"header", "demands"}, Filters: map[string]string{"demands": `[["state","in",["sale","done"]]]`}}}, ""},
		{"unknown section", Modes{2: {Sections: []string{"header", "forecasts"}}}, `unknown section "forecasts"`},
		{"unknown cacheable", Modes{2: {Sections: []string{"items"}, Cacheable: []string{"itemz"}}}, `unknown section "itemz"`},
		{"empty", Modes{3: {}}, "mode 3: no sections"},
		{"mode 0", Modes{0: {Sections: []string{"header"}}}, "connection test"},
		{"bad filter json", Modes{2: {Sections: []string{"demands"}, Filters: map[string]string{"demands": `[["state","=",`}}}, "not a JSON list"},
		{"bad filter operator", Modes{2: {Sections: []string{"demands"}, Filters: map[string]string{"demands": `["xor",["a","=",1],["b","=",2]]`}}}, `unknown operator "xor"`},
		{"dangling or", Modes{2: {Sections: []string{"demands"}, Filters: map[string]string{"demands": `["|",["a","=",1]]`}}}, "lack operands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.modes.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParseDomainKeepsIntegersAndOperators(t *testing.T) {
	d, err := ParseDomain(`["|",["id","in",[1,2]],"!",["qty",">",1.5]]`)
	if err != nil {
		t.Fatal(err)
	}
	want := odoo.Domain{"|", []any{"id", "in", []any{int64(1), int64(2)}}, "!", []any{"qty", ">", 1.5}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %#v\nwant %#v", d, want)
	}
}

func TestPrefixAndNestsImplicitConjunctions(t *testing.T) {
	a, b, c := []any{"a", "=", 1}, []any{"b", "=", 2}, []any{"c", "=", 3}
	for _, tc := range []struct {
		in, want odoo.Domain
	}{
		{odoo.Domain{a}, odoo.Domain{a}},
		{odoo.Domain{a, b}, odoo.Domain{"&", a, b}},
		{odoo.Domain{"|", a, b, c}, odoo.Domain{"&", "|", a, b, c}},
		{odoo.Domain{"!", a, b, c}, odoo.Domain{"&", "&", "!", a, b, c}},
	} {
		if got := prefixAnd(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("prefixAnd(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
