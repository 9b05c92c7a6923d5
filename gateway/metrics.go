package gateway

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
)

// metrics are the gateway's Prometheus series, in a registry of its own
// (not the process-wide default), so several servers in one process
// (tests) each count their own.
type metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // route, method, status
	duration *prometheus.HistogramVec // route, method
	inFlight prometheus.Gauge

	rpcCalls    *prometheus.CounterVec   // service, model, method
	rpcErrors   *prometheus.CounterVec   // service, model, method, kind
	rpcDuration *prometheus.HistogramVec // service

	exports         *prometheus.CounterVec // mode, result
	exportedRecords *prometheus.CounterVec // section
	exportedBytes   prometheus.Counter
	importedRecords prometheus.Counter
	cacheHits       prometheus.Counter
	cacheMisses     prometheus.Counter

	omsTickets  *prometheus.CounterVec // result: sourced, empty, refused, failed
	omsDuration prometheus.Histogram   // sourcing time of one ticket
	omsQueued   prometheus.GaugeFunc   // runs waiting for the store
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_http_requests_total", Help: "HTTP requests answered, by route, method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "plangate_http_request_duration_seconds", Help: "Time to answer an HTTP request (exports stream for minutes).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"route", "method"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "plangate_http_requests_in_flight", Help: "HTTP requests being answered.",
	})
	m.rpcCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_odoo_calls_total", Help: "Calls to Odoo's external API, by service, model and method.",
	}, []string{"service", "model", "method"})
	m.rpcErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_odoo_call_errors_total", Help: "Failed calls to Odoo's external API, by service, model, method and error kind.",
	}, []string{"service", "model", "method", "kind"})
	m.rpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "plangate_odoo_call_duration_seconds", Help: "Duration of calls to Odoo's external API, by service.",
		Buckets: prometheus.ExponentialBuckets(.001, 4, 10), // 1 ms … 4.4 min
	}, []string{"service"})
	m.exports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_exports_total", Help: "frePPLe extractions run, by mode and result (ok or error).",
	}, []string{"mode", "result"})
	m.exportedRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_export_records_total", Help: "Records written to frePPLe documents, by section.",
	}, []string{"section"})
	m.exportedBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plangate_export_bytes_total", Help: "Bytes of frePPLe documents extracted.",
	})
	m.importedRecords = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plangate_import_records_total", Help: "Plan records (operationplans) imported into Odoo.",
	})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plangate_cache_hits_total", Help: "Records of incremental extractions served from the state file.",
	})
	m.cacheMisses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plangate_cache_misses_total", Help: "Records of incremental extractions read from Odoo into the state file.",
	})
	m.omsTickets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plangate_oms_tickets_total", Help: "Order-sourcing tickets, by result: sourced, empty (no rule completed the order), refused (400), failed (Odoo).",
	}, []string{"result"})
	m.omsDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "plangate_oms_sourcing_seconds", Help: "Time to source one ticket (stock snapshot and rules; not HTTP).",
		Buckets: prometheus.ExponentialBuckets(.0001, 3, 10), // 0.1 ms … 2 s
	})
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.rpcCalls, m.rpcErrors, m.rpcDuration,
		m.exports, m.exportedRecords, m.exportedBytes, m.importedRecords, m.cacheHits, m.cacheMisses, m.omsTickets, m.omsDuration} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// methodLabel bounds the method label to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// observeExport counts one extraction and what it wrote.
func (m *metrics) observeExport(mode int, st export.Stats, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.exports.WithLabelValues(strconv.Itoa(mode), result).Inc()
	for section, n := range st.Sections {
		m.exportedRecords.WithLabelValues(section).Add(float64(n))
	}
	m.exportedBytes.Add(float64(st.Bytes))
	m.cacheHits.Add(float64(st.CacheHits))
	m.cacheMisses.Add(float64(st.CacheMisses))
}

// observeImport counts the records of one imported plan.
func (m *metrics) observeImport(records int) { m.importedRecords.Add(float64(records)) }

// observeOMS counts one sourcing request by result.
func (m *metrics) observeOMS(result string, d time.Duration) {
	m.omsTickets.WithLabelValues(result).Inc()
	if d > 0 {
		m.omsDuration.Observe(d.Seconds())
	}
}

// watchQueue exports the number of order-sourcing runs waiting for the store.
func (m *metrics) watchQueue(queued func() int) {
	m.omsQueued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plangate_oms_runs_queued", Help: "Order-sourcing runs waiting to be saved to the state file.",
	}, func() float64 { return float64(queued()) })
	m.reg.MustRegister(m.omsQueued)
}

// instrument wraps t so every call is counted and timed; nil stays nil.
func (m *metrics) instrument(t odoo.Transport) odoo.Transport {
	if t == nil {
		return nil
	}
	return &instrumentedTransport{next: t, m: m}
}

// instrumentedTransport is an odoo.Transport that records calls, errors
// and durations. It sees only service, model and method names: arguments
// (passwords among them) are passed on untouched and never recorded.
type instrumentedTransport struct {
	next odoo.Transport
	m    *metrics
}

func (t *instrumentedTransport) observe(service, model, method string, start time.Time, err error) {
	t.m.rpcCalls.WithLabelValues(service, model, method).Inc()
	t.m.rpcDuration.WithLabelValues(service).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.rpcErrors.WithLabelValues(service, model, method, odoo.KindOf(err).String()).Inc()
	}
}

// Common implements odoo.Transport.
func (t *instrumentedTransport) Common(ctx context.Context, method string, args ...any) (any, error) {
	start := time.Now()
	v, err := t.next.Common(ctx, method, args...)
	t.observe("common", "", method, start, err)
	return v, err
}

// Service implements odoo.Transport.
func (t *instrumentedTransport) Service(ctx context.Context, service, method string, args ...any) (any, error) {
	start := time.Now()
	v, err := t.next.Service(ctx, service, method, args...)
	t.observe(service, "", method, start, err)
	return v, err
}

// Object implements odoo.Transport.
func (t *instrumentedTransport) Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error) {
	start := time.Now()
	v, err := t.next.Object(ctx, db, uid, password, model, method, args, kwargs)
	t.observe("object", model, method, start, err)
	return v, err
}
