package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plangate/plangate/fixtures/etcdtest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

// backend opens a fresh, empty store of one kind for a test.
type backendCase struct {
	name string
	open func(t *testing.T) *Store
}

// smallEtcd shrinks the limits the store keeps its etcd transactions
// within, so that small test data runs the chunked paths (several
// updates, values in parts) that large data takes on a default cluster.
var smallEtcd = EtcdConfig{MaxTxnOps: 12, MaxRequestBytes: 6 << 10}

// backends is the table every store test runs over.
var backends = []backendCase{
	{"bbolt", func(t *testing.T) *Store { return openTemp(t) }},
	{"etcd", func(t *testing.T) *Store { return openEtcdTest(t, EtcdConfig{}) }},
	{"etcd-small", func(t *testing.T) *Store { return openEtcdTest(t, smallEtcd) }},
}

// forEachBackend runs fn against a new store of each kind.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// etcdConfig points c at the package's embedded server under a prefix of
// the test's own.
func etcdConfig(t *testing.T, c EtcdConfig) EtcdConfig {
	t.Helper()
	if c.Endpoints == nil {
		c.Endpoints = []string{etcdtest.Shared(t).Endpoint}
	}
	if c.Prefix == "" {
		c.Prefix = etcdtest.Prefix(t)
	}
	return c
}

func openEtcdTest(t *testing.T, c EtcdConfig) *Store {
	t.Helper()
	s, err := OpenEtcd(context.Background(), etcdConfig(t, c), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
