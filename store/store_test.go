package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpenStampsAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	err = s.DB().View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if got := string(m.Get(keyApp)); got != "plangate" {
			t.Errorf("application = %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenSecondProcessGetsLockedError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("second open took %v, want about the timeout", time.Since(start))
	}
}

func TestOpenForeignFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("this is not a bbolt file at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("theirs")); return err })
	db.Close()

	for _, path := range []string{garbage, other} {
		_, err := Open(path, Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			t.Errorf("%s: opened a foreign file", filepath.Base(path))
			continue
		}
		if filepath.Base(path) == "other.db" && !errors.Is(err, ErrForeign) {
			t.Errorf("%s: got %v, want ErrForeign", filepath.Base(path), err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.DB().Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(SchemaVersion+1)) })
	s.Close()
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("opened a file with a newer schema")
	}
}

func TestCompactFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64<<10)
	_ = s.DB().Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("scratch"))
		for i := 0; i < 100; i++ {
			if err := b.Put(u64(i), big); err != nil {
				return err
			}
		}
		return nil
	})
	_ = s.DB().Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) })
	s.Close()
	before, after, err := CompactFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Errorf("compaction did not shrink: %d → %d bytes", before, after)
	}
	if _, err := Open(path, Options{}); err != nil {
		t.Fatalf("reopen after compaction: %v", err)
	}
}
