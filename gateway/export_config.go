package gateway

import (
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/store"
)

// configureExporter applies the gateway's export settings to one exporter:
// the configured modes, and the record cache of incremental extraction
// when the gateway keeps state.
func (s *Server) configureExporter(x *export.Exporter, c *caller, refresh bool) {
	x.Modes = s.cfg.Modes
	x.Fixes = s.cfg.Fixes
	x.Extensions = s.cfg.Extensions
	x.MaxInFlight = s.cfg.ExportConcurrency
	if c.Company != nil {
		x.Defaults = s.cfg.Companies[c.Company.Name].CompanyDefaults
	}
	if s.store != nil {
		x.Cache = s.store
		x.CacheMargin = s.cfg.CacheMargin
		x.Refresh = refresh
	}
}

// fillRunStats copies what the exporter measured into the run record.
func fillRunStats(run *store.Run, st export.Stats) {
	run.Calls = st.Calls
	run.CacheHits = st.CacheHits
	run.CacheMisses = st.CacheMisses
	run.Cached = st.CacheHits > 0
	run.Watermarks = st.Watermarks
}
