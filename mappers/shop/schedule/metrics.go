package schedule

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus series.
type metrics struct {
	runs     *prometheus.CounterVec   // job, shop, result: ok, failed, canceled
	records  *prometheus.CounterVec   // job, shop, kind
	lastOK   *prometheus.GaugeVec     // job, shop
	duration *prometheus.HistogramVec // job
	missing  *prometheus.GaugeVec     // shop
	leader   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plangate_schedule_runs_total", Help: "Scheduled shop job runs, by job, shop and result (ok, failed, canceled).",
		}, []string{"job", "shop", "result"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plangate_schedule_records_total", Help: "Records of scheduled shop job runs, by job, shop and kind (orders: imported, skipped, failed; stock: pushed, unchanged, failed; missing_orders: checked, missing).",
		}, []string{"job", "shop", "kind"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plangate_schedule_last_success_timestamp_seconds", Help: "When a scheduled shop job last completed, by job and shop (Unix time).",
		}, []string{"job", "shop"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "plangate_schedule_run_duration_seconds", Help: "Time of one scheduled job run for one shop.",
			Buckets: prometheus.ExponentialBuckets(.01, 4, 9), // 10 ms … 11 min
		}, []string{"job"}),
		missing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plangate_schedule_missing_orders", Help: "Trades the last missing-order check found without a sales order in Odoo, by shop.",
		}, []string{"shop"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plangate_schedule_leader", Help: "1 while this replica leads the shop schedule (runs its jobs), else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runs, m.records, m.lastOK, m.duration, m.missing, m.leader} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(r Report) {
	result := "ok"
	switch {
	case r.Canceled:
		result = "canceled"
	case r.Err != nil:
		result = "failed"
	}
	job := string(r.Job)
	m.runs.WithLabelValues(job, r.Shop, result).Inc()
	m.duration.WithLabelValues(job).Observe(r.Duration.Seconds())
	add := func(kind string, n int) {
		if n > 0 {
			m.records.WithLabelValues(job, r.Shop, kind).Add(float64(n))
		}
	}
	switch {
	case r.Orders != nil:
		add("imported", r.Orders.Imported)
		add("skipped", r.Orders.Skipped)
		add("failed", r.failedTrades())
	case r.Stock != nil:
		add("pushed", r.Stock.Pushed)
		add("unchanged", r.Stock.Unchanged)
		add("failed", r.Stock.Failed)
	case r.Job == MissingOrders && r.Err == nil:
		add("checked", r.Checked)
		add("missing", len(r.Missing))
		m.missing.WithLabelValues(r.Shop).Set(float64(len(r.Missing)))
	}
	if result == "ok" {
		m.lastOK.WithLabelValues(job, r.Shop).Set(float64(r.Start.Add(r.Duration).UnixNano()) / 1e9)
	}
}
