package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/plangate/plangate/fixtures/etcdtest"
)

// The benchmarks run on a bbolt file and on an etcd member that syncs to
// disk (a durable one, unlike the tests' shared server), both on this
// machine's disk:
//
//	go test -run '^$' -bench 'Journal|Cache' -benchtime 2s ./store

func benchStores(b *testing.B, fn func(b *testing.B, s *Store)) {
	b.Run("bbolt", func(b *testing.B) {
		s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
	b.Run("etcd", func(b *testing.B) {
		s, err := OpenEtcd(context.Background(), EtcdConfig{Endpoints: []string{etcdtest.SharedDurable(b).Endpoint}, Prefix: etcdtest.Prefix(b)}, false)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
}

// BenchmarkJournalAppend records steps as an import does: one step per
// save (a record written alone) and a batch of 500 (one create call).
func BenchmarkJournalAppend(b *testing.B) {
	for _, batch := range []int{1, 500} {
		b.Run(fmt.Sprintf("steps=%d", batch), func(b *testing.B) {
			benchStores(b, func(b *testing.B, s *Store) {
				p := &Plan{ID: "bench", Status: PlanApplying, Steps: map[string][]int{}}
				keys := make([]string, batch)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for k := range keys {
						keys[k] = "pol:PO-PROP-" + strconv.Itoa(i*batch+k)
						p.Steps[keys[k]] = []int{i*batch + k}
					}
					if err := s.SavePlanSteps(p, keys); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/step")
			})
		})
	}
}

func benchRecords(n int) map[int]map[string]any {
	recs := make(map[int]map[string]any, n)
	for id := 1; id <= n; id++ {
		recs[id] = map[string]any{"id": int64(id), "name": "[FURN_" + strconv.Itoa(id) + "] Office Chair", "list_price": 70.5,
			"uom_id": []any{int64(1), "Units"}, "categ_id": []any{int64(8), "All / Saleable / Office Furniture"},
			"active": true, "write_date": "2026-11-23 23:24:00", "seller_ids": []any{int64(id), int64(id + 1)}}
	}
	return recs
}

// BenchmarkCacheWrite fills a cached query of 2000 records (a cold
// flush, the size the exporter writes at once); figures per record.
func BenchmarkCacheWrite(b *testing.B) {
	recs := benchRecords(2000)
	meta := CacheMeta{Database: "bench", Model: "product.product"}
	benchStores(b, func(b *testing.B, s *Store) {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.CacheApply("bench", meta, recs, nil, true); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs))/1e3, "µs/record")
	})
}

// BenchmarkCacheRead reads a cached query of 2000 records back whole, as
// a warm export does; figures per record.
func BenchmarkCacheRead(b *testing.B) {
	recs := benchRecords(2000)
	ids := make([]int, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	benchStores(b, func(b *testing.B, s *Store) {
		if err := s.CacheApply("bench", CacheMeta{Database: "bench"}, recs, nil, true); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n := 0
			if err := s.CacheRecords("bench", ids, func(int, map[string]any) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != len(ids) {
				b.Fatalf("read %d of %d records", n, len(ids))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids))/1e3, "µs/record")
	})
}
