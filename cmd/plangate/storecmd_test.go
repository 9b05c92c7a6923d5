package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/etcdtest"
	"github.com/plangate/plangate/store"
)

// A bbolt state moves into etcd and back with `plangate store copy`, and
// `plangate state` and `plangate shop list` read it in each place.
func TestStoreCopyAndState(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(file, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	r := store.Run{ID: store.NewRunID(t0), Database: "odoo17", Company: "My Company (San Francisco)", Mode: 1, Start: t0, Bytes: 91234}
	if err := st.SaveRun(r); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveShop(store.Shop{Name: "tb", Platform: "taobao", AppKey: "key-1"}, t0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	etcd := "etcd://" + etcdtest.Shared(t).Host() + etcdtest.Prefix(t)
	back := filepath.Join(t.TempDir(), "back.db")
	cli := func(args ...string) (string, error) {
		env, out, errb := testEnv(nil)
		err := run(context.Background(), args, env)
		return out.String() + errb.String(), err
	}
	steps := []struct {
		args []string
		want string // in the output
		fail bool
	}{
		{args: []string{"store", "copy", "--from", file, "--to", etcd}, want: "copied 3 keys"},
		{args: []string{"state", "--store", etcd}, want: r.ID},
		{args: []string{"shop", "list", "--store", etcd}, want: "key-1"},
		{args: []string{"store", "copy", "--from", file, "--to", etcd}, want: "already holds state", fail: true},
		{args: []string{"state", "--compact", "--store", etcd}, want: "etcd compacts", fail: true},
		{args: []string{"store", "copy", "--from", etcd, "--to", back}, want: "copied 3 keys"},
		{args: []string{"state", "--store", back, "--json"}, want: `"bytes": 91234`},
		{args: []string{"store", "copy", "--from", etcd}, want: "two different", fail: true},
		// (check fails on the Odoo it cannot reach; the etcd line is what counts here)
		{args: []string{"check", "--store", etcd, "--odoo-url", "http://127.0.0.1:1", "--odoo-timeout", "1s"}, want: "holds plangate's state", fail: true},
	}
	for _, s := range steps {
		out, err := cli(s.args...)
		if (err != nil) != s.fail {
			t.Fatalf("plangate %s: err %v, want failure %v\n%s", strings.Join(s.args, " "), err, s.fail, out)
		}
		if got := out + errText(err); !strings.Contains(got, s.want) {
			t.Errorf("plangate %s: %q, want %q in it", strings.Join(s.args, " "), got, s.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
