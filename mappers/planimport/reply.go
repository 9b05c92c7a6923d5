package planimport

import (
	"fmt"
	"strings"
)

// reply is the addon's plain-text summary (spec §4.7): lines joined by
// "\n", no trailing newline.
func (r *run) reply() string {
	var lines []string
	if r.o.Mode == 1 {
		lines = append(lines,
			fmt.Sprintf("Removed %d old draft purchase orders", r.j.Counters["removed_po"]),
			fmt.Sprintf("Removed %d old draft manufacturing orders", r.j.Counters["removed_mo"]))
	}
	lines = append(lines, r.messages...)
	lines = append(lines,
		fmt.Sprintf("Processed %d uploaded procurement orders", r.procurement),
		fmt.Sprintf("Processed %d uploaded manufacturing orders", r.mfgCount))
	return strings.Join(lines, "\n")
}
