package store

import (
	"fmt"
	"strings"
	"time"
)

// bucketShopSchedule holds where each scheduled shop job got to.
const bucketShopSchedule = "shop_schedule" // shop\x00job → ScheduleMark

var shopScheduleB = top(bucketShopSchedule)

func init() { registerBuckets(bucketShopSchedule) }

// ScheduleMark is the end of the last window a scheduled job of a shop
// completed: the next run starts from it (less an overlap), so a restart
// or another replica taking over continues without a gap.
type ScheduleMark struct {
	Shop    string    `json:"shop"`
	Job     string    `json:"job"`
	End     time.Time `json:"end"`
	Updated time.Time `json:"updated"`
}

// ScheduleMark returns the mark of a shop's job; false when it has none.
func (s *Store) ScheduleMark(shop, job string) (ScheduleMark, bool, error) {
	var m ScheduleMark
	var found bool
	err := s.kv.view(func(r reader) error {
		var err error
		found, err = getJSON(r, shopScheduleB, key(shop, job), &m)
		return err
	})
	if err != nil {
		return ScheduleMark{}, false, fmt.Errorf("schedule mark %s/%s: %w", shop, job, err)
	}
	return m, found, nil
}

// AdvanceScheduleMark records that a shop's job completed its window up
// to m.End. A mark never moves back: when the stored one is later (a
// replica with a clock ahead, an overlapping run that finished first),
// it stays, and false says so.
func (s *Store) AdvanceScheduleMark(m ScheduleMark) (bool, error) {
	if m.Shop == "" || m.Job == "" || strings.ContainsRune(m.Shop+m.Job, 0) {
		return false, fmt.Errorf("schedule mark %q/%q: shop and job must be non-empty, without NUL", m.Shop, m.Job)
	}
	var moved bool
	err := s.kv.update(func(tx txn) error {
		moved = false
		var old ScheduleMark
		found, err := getJSON(tx, shopScheduleB, key(m.Shop, m.Job), &old)
		if err != nil {
			return err
		}
		if found && !m.End.After(old.End) {
			return nil
		}
		moved = true
		return putJSON(tx, shopScheduleB, key(m.Shop, m.Job), m)
	})
	if err != nil {
		return false, fmt.Errorf("save schedule mark %s/%s: %w", m.Shop, m.Job, err)
	}
	return moved, nil
}
