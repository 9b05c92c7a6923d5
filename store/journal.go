package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

const bucketPlans = "plans"

func init() { registerBuckets(bucketPlans) }

// Plan statuses.
const (
	PlanReceived = "received"
	PlanApplying = "applying"
	PlanDone     = "done"
	PlanFailed   = "failed"
)

// Plan is the journal entry of one posted plan: what was received, and
// what was written to Odoo, step by step, so a repost or a retry after a
// failure resumes instead of writing twice.
type Plan struct {
	ID       string    `json:"id"`
	Database string    `json:"database"`
	Company  string    `json:"company"`
	Mode     int       `json:"mode"`
	Bytes    int       `json:"bytes"`
	Records  int       `json:"records"` // operationplans validated
	Status   string    `json:"status"`
	Received time.Time `json:"received"`
	Updated  time.Time `json:"updated"`
	Error    string    `json:"error,omitempty"`
	Reply    string    `json:"reply,omitempty"` // the reply body once done
	// Steps maps a step key (e.g. "po:9", "pol:PO-PROP-1", "cleanup") to
	// the Odoo ids it produced; a step present here is not redone.
	Steps map[string][]int `json:"steps"`
	// Counters kept for the reply (e.g. removed purchase orders).
	Counters map[string]int `json:"counters,omitempty"`
	// Messages are per-record error lines of the reply.
	Messages []string `json:"messages,omitempty"`
}

// PlanID is the id of a posted plan: SHA-256 of database, company, mode
// and the file bytes.
func PlanID(database, company string, mode int, file []byte) string {
	id, _ := PlanIDFrom(database, company, mode, bytes.NewReader(file))
	return id
}

// PlanIDFrom is PlanID of a file read as a stream.
func PlanIDFrom(database, company string, mode int, file io.Reader) (string, error) {
	h := sha256.New()
	for _, s := range []string{database, company, strconv.Itoa(mode)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if _, err := io.Copy(h, file); err != nil {
		return "", fmt.Errorf("hash plan: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SavePlan writes (replaces) a journal entry.
func (s *Store) SavePlan(p *Plan) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket([]byte(bucketPlans)), []byte(p.ID), p); err != nil {
			return fmt.Errorf("save plan %s: %w", p.ID, err)
		}
		return nil
	})
}

// Plan reads a journal entry.
func (s *Store) Plan(id string) (*Plan, bool, error) {
	var p Plan
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket([]byte(bucketPlans)), []byte(id), &p)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read plan %s: %w", id, err)
	}
	if !ok {
		return nil, false, nil
	}
	if p.Steps == nil {
		p.Steps = map[string][]int{}
	}
	if p.Counters == nil {
		p.Counters = map[string]int{}
	}
	return &p, true, nil
}

// PrunePlans removes finished entries older than maxAge; it returns how many.
func (s *Store) PrunePlans(maxAge time.Duration, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketPlans))
		var drop [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var p Plan
			if err := jsonUnmarshal(v, &p); err != nil {
				return err
			}
			if p.Status == PlanDone && now.Sub(p.Updated) > maxAge {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune plans: %w", err)
	}
	return n, nil
}
