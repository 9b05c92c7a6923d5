package planimport_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/planimport"
	"github.com/plangate/plangate/store"
)

var bench50k = flag.Bool("bench50k", false, "include the 50k-operationplan size in BenchmarkImport")

// genPlan writes n operationplans: purchase proposals over two suppliers
// and two products, and one MO in ten.
func genPlan(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<plan><operationplans>\n")
	for i := 0; i < n; i++ {
		day := 1 + i%28
		if i%10 == 9 {
			fmt.Fprintf(&b, `<operationplan reference="MO-%d" ordertype="MO" operation="FURN_7800 @ X 1" start="2026-12-%02d 08:00:00" end="2026-12-%02d 10:00:00" quantity="1" location_id="1" item_id="1,8"/>`+"\n", i, day, day)
			continue
		}
		fmt.Fprintf(&b, `<operationplan reference="PO-%d" ordertype="PO" supplier="S %d" start="2026-12-%02d 08:00:00" end="2026-12-%02d 10:00:00" quantity="%d" location_id="1" item_id="1,%d"/>`+"\n", i, 9+i%2, day, day, 1+i%7, 5+i%2)
	}
	b.WriteString("</operationplans></plan>\n")
	return b.Bytes()
}

func BenchmarkImport(b *testing.B) {
	sizes := []int{1000, 10000}
	if *bench50k {
		sizes = append(sizes, 50000)
	}
	for _, n := range sizes {
		plan := genPlan(n)
		for _, oneByOne := range []bool{false, true} {
			name := fmt.Sprintf("%dk/batched", n/1000)
			if oneByOne {
				name = fmt.Sprintf("%dk/one-per-record", n/1000)
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					ds, err := odooemu.Load(datasets.Demo(), ".")
					if err != nil {
						b.Fatal(err)
					}
					srv := odooemu.Start(odooemu.New(ds))
					tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
					if err != nil {
						b.Fatal(err)
					}
					st, err := store.Open(filepath.Join(b.TempDir(), "s.db"), store.Options{})
					if err != nil {
						b.Fatal(err)
					}
					ctx := context.Background()
					sess := &odoo.Session{T: tr, DB: ds.Database, UID: 2, Password: "admin"}
					im := &planimport.Importer{S: sess, Store: st, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
					o := planimport.Options{Mode: 3, CompanyID: 1, OneByOne: oneByOne}
					b.StartTimer()
					raw, err := planimport.Parse(bytes.NewReader(plan))
					if err != nil {
						b.Fatal(err)
					}
					recs, err := im.Validate(ctx, raw, time.UTC, o)
					if err != nil {
						b.Fatal(err)
					}
					j := &store.Plan{ID: "bench"}
					if _, err := im.Apply(ctx, recs, j, o); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					st.Close()
					srv.Close()
				}
			})
		}
	}
}
