package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

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

// BenchmarkScanOMSRuns reads one listing page (50 summaries, newest first)
// from histories of several sizes, and a filter that matches nothing
// (the scan stops at the budget of 5000 entries the gateway gives it):
//
//	go test -run '^$' -bench ScanOMSRuns ./store
func BenchmarkScanOMSRuns(b *testing.B) {
	sum := make([]byte, 120) // about a summary's size
	for _, n := range []int{1000, 10000} {
		t0 := time.Now().Add(-time.Duration(n) * time.Second) // one run a second, up to now
		b.Run(fmt.Sprintf("runs=%d", n), func(b *testing.B) {
			benchStores(b, func(b *testing.B, s *Store) {
				for i := 0; i < n; i += 500 {
					batch := make([]OMSRun, 0, 500)
					for j := i; j < i+500 && j < n; j++ {
						batch = append(batch, OMSRun{ID: fmt.Sprintf("R%08d", j), Start: t0.Add(time.Duration(j) * time.Second), Summary: sum, Doc: sum})
					}
					if err := s.SaveOMSRuns(batch, 0, 0, t0); err != nil {
						b.Fatal(err)
					}
				}
				for _, c := range []struct {
					name  string
					limit int
				}{{"page50", 50}, {"nomatch", 0}} {
					b.Run(c.name, func(b *testing.B) {
						for i := 0; i < b.N; i++ {
							seen := 0
							_, err := s.ScanOMSRuns(OMSRunScan{Budget: 5000}, func(OMSRunEntry) (bool, error) {
								seen++
								return c.limit == 0 || seen < c.limit, nil
							})
							if err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			})
		})
	}
}
