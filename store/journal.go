package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"
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

var (
	plansB     = top(bucketPlans)
	planHeadsB = top(bucketPlanHeads)
)

// stepsB is the bucket of one plan's steps.
func stepsB(id string) bucket { return bucket{bucketPlanSteps, id} }

// stepGroupPrefix starts the key of an entry holding several steps (a
// JSON object step key → ids). Updates that cannot carry one key per step
// (etcd bounds its transactions) record a batch of steps this way; step
// keys never start with a NUL byte.
const stepGroupPrefix = "\x00group\x00"

func init() {
	registerBuckets(bucketPlans, bucketPlanSteps, bucketPlanHeads)
	registerNested(bucketPlanSteps)
	registerLarge(bucketPlans, bucketPlanSteps) // replies with many messages; a step of many ids
}

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
// with the steps already recorded. Where the backend cannot carry a key
// per step in one transaction, the steps go as one grouped entry (or,
// past the size of a transaction, as several, before the header).
func (s *Store) SavePlanSteps(p *Plan, keys []string) error {
	head := *p
	head.Steps = nil // kept in bucketPlanSteps
	headData, err := json.Marshal(&head)
	if err != nil {
		return fmt.Errorf("save plan %s: %w", p.ID, err)
	}
	steps := make([][]byte, len(keys))
	size := 0
	for i, k := range keys {
		if steps[i], err = json.Marshal(p.Steps[k]); err != nil {
			return fmt.Errorf("save plan %s step %s: %w", p.ID, k, err)
		}
		size += len(k) + len(steps[i])
	}
	lim := s.kv.limits()
	sb := stepsB(p.ID)
	// The header, a key per step and (etcd) the steps bucket's registration.
	fits := func() bool {
		ops := 1 + lim.putOps(len(headData))
		for i := range keys {
			ops += lim.putOps(len(steps[i]))
		}
		return ops <= lim.ops && len(headData)+size <= lim.bytes
	}
	if !fits() {
		// Steps already recorded as they are need no rewrite (a whole
		// plan saved again at its end, e.g.).
		if keys, steps, size, err = s.unrecordedSteps(p.ID, keys, steps); err != nil {
			return fmt.Errorf("save plan %s: %w", p.ID, err)
		}
	}
	if fits() {
		// A key per step (always on bbolt).
		return s.kv.update(func(tx txn) error {
			if err := tx.put(plansB, []byte(p.ID), headData); err != nil {
				return fmt.Errorf("save plan %s: %w", p.ID, err)
			}
			for i, k := range keys {
				if err := tx.put(sb, []byte(k), steps[i]); err != nil {
					return fmt.Errorf("save plan %s step %s: %w", p.ID, k, err)
				}
			}
			return nil
		})
	}
	// Groups of steps, each within one value. The groups of a batch are
	// written before its header; should a later one fail, the earlier are
	// steps that were done and are recorded, which is what the journal is for.
	gl := limits{ops: math.MaxInt, bytes: lim.value - 1024, value: lim.value}
	chunks := gl.chunks(len(keys), 1, 0, func(i int) int { return len(keys[i]) + len(steps[i]) + 4 })
	for g, c := range chunks {
		m := make(map[string]json.RawMessage, c[1]-c[0])
		for i := c[0]; i < c[1]; i++ {
			m[keys[i]] = steps[i]
		}
		group, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("save plan %s steps: %w", p.ID, err)
		}
		last := g == len(chunks)-1
		err = s.kv.update(func(tx txn) error {
			if err := tx.put(sb, []byte(stepGroupPrefix+keys[c[0]]), group); err != nil {
				return fmt.Errorf("save plan %s steps: %w", p.ID, err)
			}
			if last {
				return tx.put(plansB, []byte(p.ID), headData)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func headKey(database, company string) []byte { return []byte(database + "\x00" + company) }

// PlanHead returns the id of the plan imported last for a database and
// company; known is false when none was ever recorded (a file from before
// heads were kept), and id is "" after that plan was dropped.
func (s *Store) PlanHead(database, company string) (id string, known bool, err error) {
	err = s.kv.view(func(r reader) error {
		v, err := r.get(planHeadsB, headKey(database, company))
		id, known = string(v), v != nil
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("read plan head of %s/%s: %w", database, company, err)
	}
	return id, known, nil
}

// StartPlan begins a fresh import of p: whatever the journal held under
// its id (an earlier import of the same bytes) is replaced, and p becomes
// the head of its database and company, in one transaction (steps p
// already carries follow in their own, as SavePlanSteps writes them).
func (s *Store) StartPlan(p *Plan) error {
	head := *p
	head.Steps = nil
	headData, err := json.Marshal(&head)
	if err != nil {
		return fmt.Errorf("start plan %s: %w", p.ID, err)
	}
	err = s.kv.update(func(tx txn) error {
		if err := tx.delBucket(stepsB(p.ID)); err != nil {
			return err
		}
		if err := tx.put(planHeadsB, headKey(p.Database, p.Company), []byte(p.ID)); err != nil {
			return err
		}
		return tx.put(plansB, []byte(p.ID), headData)
	})
	if err != nil {
		return fmt.Errorf("start plan %s: %w", p.ID, err)
	}
	if len(p.Steps) == 0 {
		return nil
	}
	return s.SavePlanSteps(p, sortedKeys(p.Steps))
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
	err := s.kv.view(func(r reader) error {
		out = out[:0]
		return r.scan(plansB, scanSpec{}, func(k, v []byte) error {
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
	err := s.kv.update(func(tx txn) error {
		dropped = Plan{}
		var match []byte
		err := tx.scan(plansB, scanSpec{prefix: []byte(prefix)}, func(k, v []byte) error {
			if match != nil {
				return fmt.Errorf("drop plan %q: the prefix matches more than one plan", prefix)
			}
			match = append([]byte(nil), k...)
			if err := jsonUnmarshal(v, &dropped); err != nil {
				return fmt.Errorf("decode plan %s: %w", k, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if match == nil {
			return fmt.Errorf("drop plan %q: %w", prefix, ErrNoPlan)
		}
		if err := tx.del(plansB, match); err != nil {
			return err
		}
		if err := tx.delBucket(stepsB(string(match))); err != nil {
			return err
		}
		key := headKey(dropped.Database, dropped.Company)
		head, err := tx.get(planHeadsB, key)
		if err != nil {
			return err
		}
		if bytes.Equal(head, match) {
			return tx.put(planHeadsB, key, []byte{})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &dropped, nil
}

// unrecordedSteps drops from keys (with their encoded steps) those the
// journal already holds as they are, and sums the size of the rest.
func (s *Store) unrecordedSteps(id string, keys []string, steps [][]byte) ([]string, [][]byte, int, error) {
	stored := map[string]string{}
	err := s.kv.view(func(r reader) error {
		return r.scan(stepsB(id), scanSpec{}, func(k, v []byte) error {
			return eachStep(k, v, func(step string, ids json.RawMessage) { stored[step] = string(ids) })
		})
	})
	if err != nil {
		return nil, nil, 0, err
	}
	var outK []string
	var outS [][]byte
	size := 0
	for i, k := range keys {
		if old, ok := stored[k]; ok && old == string(steps[i]) {
			continue
		}
		outK, outS = append(outK, k), append(outS, steps[i])
		size += len(k) + len(steps[i])
	}
	return outK, outS, size, nil
}

// eachStep calls fn for the step (or the steps of a group) of one entry.
func eachStep(k, v []byte, fn func(step string, ids json.RawMessage)) error {
	if !bytes.HasPrefix(k, []byte(stepGroupPrefix)) {
		fn(string(k), v)
		return nil
	}
	var group map[string]json.RawMessage
	if err := jsonUnmarshal(v, &group); err != nil {
		return fmt.Errorf("decode steps %q: %w", k, err)
	}
	for step, ids := range group {
		fn(step, ids)
	}
	return nil
}

// Plan reads a journal entry with its steps.
func (s *Store) Plan(id string) (*Plan, bool, error) {
	var p Plan
	var ok bool
	err := s.kv.view(func(r reader) error {
		p = Plan{}
		var err error
		if ok, err = getJSON(r, plansB, []byte(id), &p); err != nil || !ok {
			return err
		}
		if p.Steps == nil {
			p.Steps = map[string][]int{} // (entries written before steps had their bucket carry them inline)
		}
		return r.scan(stepsB(id), scanSpec{}, func(k, v []byte) error {
			var bad error
			err := eachStep(k, v, func(step string, raw json.RawMessage) {
				var ids []int
				if err := jsonUnmarshal(raw, &ids); err != nil && bad == nil {
					bad = fmt.Errorf("decode step %s: %w", step, err)
				}
				p.Steps[step] = ids
			})
			if err != nil {
				return err
			}
			return bad
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
	var drop []string
	err := s.kv.view(func(r reader) error {
		drop = drop[:0]
		return r.scan(plansB, scanSpec{}, func(k, v []byte) error {
			var p Plan
			if err := jsonUnmarshal(v, &p); err != nil {
				return err
			}
			if p.Status == PlanDone && now.Sub(p.Updated) > maxAge {
				drop = append(drop, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("prune plans: %w", err)
	}
	n := 0
	// A plan is its header and its steps bucket: a few operations each.
	for _, c := range s.kv.limits().chunks(len(drop), 6, 0, nil) {
		err := s.kv.update(func(tx txn) error {
			for _, id := range drop[c[0]:c[1]] {
				if err := tx.del(plansB, []byte(id)); err != nil {
					return err
				}
				if err := tx.delBucket(stepsB(id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("prune plans: %w", err)
		}
		n = c[1]
	}
	return n, nil
}
