package export

// ordersState holds what the open-order sections need (spec §3.4.15–3.4.18).
type ordersState struct{}

func (r *run) writePurchaseOrders() error      { return nil }
func (r *run) writeManufacturingOrders() error { return nil }
func (r *run) writeOrderpoints() error         { return nil }
func (r *run) writeOnhand() error              { return nil }
