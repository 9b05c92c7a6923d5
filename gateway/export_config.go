package gateway

import (
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/store"
)

// configureExporter applies the gateway's export settings to one exporter.
func (s *Server) configureExporter(x *export.Exporter, c *caller, refresh bool) {}

// fillRunStats copies what the exporter measured into the run record.
func fillRunStats(run *store.Run, st export.Stats) {}
