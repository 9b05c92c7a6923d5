package export

// masterState holds the lookups the master-data sections build (spec
// §3.4.1–3.4.12): locations, customers, suppliers, resources, items.
type masterState struct{}

func (r *run) writeHeader() error         { return nil }
func (r *run) writeUsers() error          { return nil }
func (r *run) writeCalendars() error      { return nil }
func (r *run) writeLocations() error      { return nil }
func (r *run) writeCustomers() error      { return nil }
func (r *run) writeSuppliers() error      { return nil }
func (r *run) writeSkills() error         { return nil }
func (r *run) writeResources() error      { return nil }
func (r *run) writeResourceSkills() error { return nil }
func (r *run) writeCategories() error     { return nil }
func (r *run) writeItems() error          { return nil }
