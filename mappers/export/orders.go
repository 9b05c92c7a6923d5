package export

// ordersState holds what the open-order sections need (spec §3.4.15–3.4.18).
type ordersState struct {
	// subcontractRefs maps a subcontracting MO id to the reference of the
	// purchase move it serves (§3.4.15.2); the MO is exported under it.
	subcontractRefs map[int]string
	// archivedSuppliers caches suppliers read for POs of unmapped partners.
	archivedSuppliers map[int]string
}
