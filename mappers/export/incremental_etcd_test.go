package export_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/etcdtest"
	"github.com/plangate/plangate/fixtures/gen"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// The record cache in etcd serves warm exports identical to cold ones,
// as it does in a file.
func TestIncrementalEqualsColdOnEtcd(t *testing.T) {
	st, err := store.OpenEtcd(context.Background(), store.EtcdConfig{Endpoints: []string{etcdtest.Shared(t).Endpoint}, Prefix: etcdtest.Prefix(t)}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testIncrementalEqualsCold(t, func(t *testing.T, mode int, modes export.Modes) *incRig { return newIncRigOn(t, st, mode, modes) })
}

// BenchmarkCacheSpace measures what the record cache of a grown database
// takes: cold mode-1 and mode-2 exports of the demo scaled 10 and 50
// times, into a fresh etcd member and into a bbolt file. cache-keys and
// cache-MiB are the keys and their bytes (key and value) under the
// prefix; etcd-db-MiB the member's database file after the exports
// (history included, before compaction); bbolt-MiB the state file.
//
//	go test -run '^$' -bench CacheSpace -benchtime 1x ./mappers/export
func BenchmarkCacheSpace(b *testing.B) {
	for _, scale := range []int{10, 50} {
		b.Run(fmt.Sprintf("scale%d", scale), func(b *testing.B) {
			srv, err := etcdtest.Start()
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			var calls atomic.Int64
			s := benchSession(b, scale, &calls)
			es, err := store.OpenEtcd(context.Background(), store.EtcdConfig{Endpoints: []string{srv.Endpoint}, Prefix: "/plangate"}, false)
			if err != nil {
				b.Fatal(err)
			}
			defer es.Close()
			file := filepath.Join(b.TempDir(), "state.db")
			bs, err := store.Open(file, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bs.Close()
			for i := 0; i < b.N; i++ {
				for _, st := range []*store.Store{es, bs} {
					for _, mode := range []int{1, 2} {
						x := &export.Exporter{Session: s, Cache: st, Refresh: true, Logger: quietLog}
						p := export.Params{Mode: mode, Delta: 999, Company: "My Company (San Francisco)", Now: time.Now().UTC()}
						if _, err := x.Export(context.Background(), io.Discard, p); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.StopTimer()
			cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint}})
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			keys, bytes := 0, 0
			from := "/plangate/"
			for {
				resp, err := cli.Get(context.Background(), from, clientv3.WithRange(clientv3.GetPrefixRangeEnd("/plangate/")), clientv3.WithLimit(1000))
				if err != nil {
					b.Fatal(err)
				}
				for _, kv := range resp.Kvs {
					keys++
					bytes += len(kv.Key) + len(kv.Value)
				}
				if !resp.More {
					break
				}
				from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
			}
			status, err := cli.Status(context.Background(), srv.Endpoint)
			if err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(file)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(keys), "cache-keys")
			b.ReportMetric(float64(bytes)/(1<<20), "cache-MiB")
			b.ReportMetric(float64(status.DbSize)/(1<<20), "etcd-db-MiB")
			b.ReportMetric(float64(fi.Size())/(1<<20), "bbolt-MiB")
		})
	}
}

// benchSession serves the demo scaled n times in this process, charging
// nothing per call, and counts RPC calls.
func benchSession(b testing.TB, scale int, calls *atomic.Int64) *odoo.Session {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		b.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(gen.Scale(ds, scale, 1)))
	b.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL, Protocol: odoo.ProtocolXMLRPC, OnCall: func(string, string, string, time.Duration, error) { calls.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	return s
}
