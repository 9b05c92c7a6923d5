package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	bucketPlans = "plans"
	// bucketPlanSteps holds one nested bucket per plan: step key → ids,
	// so that recording a step writes that step only, not the whole
	// journal (a plan of 100k records has 100k steps).
	bucketPlanSteps = "plan_steps"
	// bucketPlanHeads maps database NUL company → the id of the plan
	// imported last for them: a repost is a duplicate of that plan only.
	bucketPlanHeads = "plan_heads"
)

func init() { registerBuckets(bucketPlans, bucketPlanSteps, bucketPlanHeads) }

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
	Steps map[string][]int `json:"steps,omitempty"`
	// Counters kept for the reply (e.g. removed purchase orders).
	Counters map[string]int `json:"counters,omitempty"`
	// Messages are per-record error lines of the reply.
	Messages []string `json:"messages,omitempty"`
	// Run identifies this import of the plan (a new one each time it is
	// imported afresh, kept across resumes); records created in Odoo carry
	// it until their ids are journaled, so a resume finds the records of a
	// create whose reply was lost.
	Run string `json:"run,omitempty"`
	// Attempts counts the times the plan was applied (first try and resumes).
	Attempts int `json:"attempts,omitempty"`
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

// SavePlan writes (replaces) a journal entry with all its steps.
func (s *Store) SavePlan(p *Plan) error {
	keys := make([]string, 0, len(p.Steps))
	for k := range p.Steps {
		keys = append(keys, k)
	}
	return s.SavePlanSteps(p, keys)
}

// SavePlanSteps writes a journal entry's header and the listed steps
// only, in one transaction: the cost of recording a step does not grow
// with the steps already recorded.
func (s *Store) SavePlanSteps(p *Plan, keys []string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return s.putPlan(tx, p, keys) })
}

// putPlan writes a journal entry's header and the listed steps.
func (s *Store) putPlan(tx *bolt.Tx, p *Plan, keys []string) error {
	head := *p
	head.Steps = nil // kept in bucketPlanSteps
	if err := putJSON(tx.Bucket([]byte(bucketPlans)), []byte(p.ID), &head); err != nil {
		return fmt.Errorf("save plan %s: %w", p.ID, err)
	}
	if len(keys) == 0 {
		return nil
	}
	b, err := tx.Bucket([]byte(bucketPlanSteps)).CreateBucketIfNotExists([]byte(p.ID))
	if err != nil {
		return fmt.Errorf("save plan %s steps: %w", p.ID, err)
	}
	for _, k := range keys {
		if err := putJSON(b, []byte(k), p.Steps[k]); err != nil {
			return fmt.Errorf("save plan %s step %s: %w", p.ID, k, err)
		}
	}
	return nil
}

func headKey(database, company string) []byte { return []byte(database + "\x00" + company) }

// PlanHead returns the id of the plan imported last for a database and
// company; known is false when none was ever recorded (a file from before
// heads were kept), and id is "" after that plan was dropped.
func (s *Store) PlanHead(database, company string) (id string, known bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucketPlanHeads)); b != nil {
			v := b.Get(headKey(database, company))
			id, known = string(v), v != nil
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("read plan head of %s/%s: %w", database, company, err)
	}
	return id, known, nil
}

// StartPlan begins a fresh import of p: whatever the journal held under
// its id (an earlier import of the same bytes) is replaced, and p becomes
// the head of its database and company, in one transaction.
func (s *Store) StartPlan(p *Plan) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		steps := tx.Bucket([]byte(bucketPlanSteps))
		if steps.Bucket([]byte(p.ID)) != nil {
			if err := steps.DeleteBucket([]byte(p.ID)); err != nil {
				return fmt.Errorf("start plan %s: %w", p.ID, err)
			}
		}
		if err := tx.Bucket([]byte(bucketPlanHeads)).Put(headKey(p.Database, p.Company), []byte(p.ID)); err != nil {
			return fmt.Errorf("start plan %s: %w", p.ID, err)
		}
		return s.putPlan(tx, p, sortedKeys(p.Steps))
	})
}

func sortedKeys(m map[string][]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PlanFilter selects journal entries; empty fields match all.
type PlanFilter struct {
	Database, Company string
	Limit             int // 0: all
}

// Plans lists journal entries without their steps, the most recently
// updated first.
func (s *Store) Plans(f PlanFilter) ([]Plan, error) {
	var out []Plan
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketPlans)).ForEach(func(k, v []byte) error {
			var p Plan
			if err := jsonUnmarshal(v, &p); err != nil {
				return fmt.Errorf("decode plan %s: %w", k, err)
			}
			if (f.Database == "" || p.Database == f.Database) && (f.Company == "" || p.Company == f.Company) {
				out = append(out, p)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// ErrNoPlan is returned by DropPlan when no entry has the id.
var ErrNoPlan = errors.New("no such plan in the journal")

// DropPlan removes the journal entry whose id starts with prefix (at
// least 6 characters), with its steps; a head naming it then names no
// plan. The plan, posted again, is imported afresh, and no other is taken
// for the latest. It returns the removed entry.
func (s *Store) DropPlan(prefix string) (*Plan, error) {
	if len(prefix) < 6 {
		return nil, fmt.Errorf("drop plan %q: give at least 6 characters of its id", prefix)
	}
	var dropped Plan
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketPlans))
		c := b.Cursor()
		var match []byte
		for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			if match != nil {
				return fmt.Errorf("drop plan %q: the prefix matches more than one plan", prefix)
			}
			match = append([]byte(nil), k...)
			if err := jsonUnmarshal(v, &dropped); err != nil {
				return fmt.Errorf("decode plan %s: %w", k, err)
			}
		}
		if match == nil {
			return fmt.Errorf("drop plan %q: %w", prefix, ErrNoPlan)
		}
		if err := b.Delete(match); err != nil {
			return err
		}
		if steps := tx.Bucket([]byte(bucketPlanSteps)); steps.Bucket(match) != nil {
			if err := steps.DeleteBucket(match); err != nil {
				return err
			}
		}
		heads := tx.Bucket([]byte(bucketPlanHeads))
		if key := headKey(dropped.Database, dropped.Company); bytes.Equal(heads.Get(key), match) {
			return heads.Put(key, []byte{})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &dropped, nil
}

// Plan reads a journal entry with its steps.
func (s *Store) Plan(id string) (*Plan, bool, error) {
	var p Plan
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if ok, err = getJSON(tx.Bucket([]byte(bucketPlans)), []byte(id), &p); err != nil || !ok {
			return err
		}
		if p.Steps == nil {
			p.Steps = map[string][]int{} // (entries written before steps had their bucket carry them inline)
		}
		sb := tx.Bucket([]byte(bucketPlanSteps))
		if sb == nil {
			return nil // read-only store of an older file
		}
		b := sb.Bucket([]byte(id))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var ids []int
			if err := jsonUnmarshal(v, &ids); err != nil {
				return fmt.Errorf("decode step %s: %w", k, err)
			}
			p.Steps[string(k)] = ids
			return nil
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("read plan %s: %w", id, err)
	}
	if !ok {
		return nil, false, nil
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
		steps := tx.Bucket([]byte(bucketPlanSteps))
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
			if steps.Bucket(k) != nil {
				if err := steps.DeleteBucket(k); err != nil {
					return err
				}
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
