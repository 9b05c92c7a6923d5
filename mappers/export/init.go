package export

// initState holds what the exporter computes before the sections (spec §3.1):
// time zone, module flags, company settings and the unit-of-measure table.
// Owned by the master-data sections.
type initState struct{}

// initialise performs reads R1–R6 (spec §3.6.1) and sets r.tz.
func (r *run) initialise() error { return nil }

// writeConnectionTest writes the mode-0 document (spec §3.1.2).
func (r *run) writeConnectionTest() {}
