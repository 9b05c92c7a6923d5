package export

// opsState holds what the operations and demands sections build (spec
// §3.4.13–3.4.14).
type opsState struct{}

func (r *run) writeOperations() error { return nil }
func (r *run) writeDemands() error    { return nil }
