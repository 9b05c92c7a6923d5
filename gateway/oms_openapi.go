package gateway

import (
	_ "embed"
	"net/http"
)

// omsOpenAPI describes the order-sourcing endpoints; TestOMSOpenAPI checks
// real answers against it, so it cannot drift from the code unnoticed.
//
//go:embed oms_openapi.json
var omsOpenAPI []byte

// handleOMSOpenAPI serves the document, without login: it holds no data.
func handleOMSOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(omsOpenAPI)
}
