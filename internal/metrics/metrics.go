// Package metrics exposes oauthdesk's Prometheus metrics (client_golang):
// oauthdesk_client_secrets{state="ok|expiring|critical|expired"}, the
// number of active client secrets of active apps in each expiry state,
// computed at scrape time, plus the Go runtime and process collectors.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// Source returns every active secret of every active app.
type Source func(ctx context.Context) ([]domain.ExpiringSecret, error)

// SecretsCollector computes the client-secret gauge from Source on each
// scrape (one indexed query; no state kept between scrapes).
type SecretsCollector struct {
	src        Source
	thresholds domain.ExpiryThresholds
	now        func() time.Time
	desc       *prometheus.Desc
}

// NewSecretsCollector returns the collector of oauthdesk_client_secrets.
func NewSecretsCollector(src Source, t domain.ExpiryThresholds, now func() time.Time) *SecretsCollector {
	return &SecretsCollector{src: src, thresholds: t, now: now, desc: prometheus.NewDesc("oauthdesk_client_secrets",
		"Active client secrets of active apps, by expiry state (ok, expiring, critical, expired).", []string{"state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *SecretsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *SecretsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	secrets, err := c.src(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	counts := map[domain.ExpiryState]int{domain.StateOK: 0, domain.StateExpiring: 0, domain.StateCritical: 0, domain.StateExpired: 0}
	now := c.now()
	for _, s := range secrets {
		counts[c.thresholds.StateAt(s.ExpiresAt, now)]++
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(state))
	}
}

// Handler serves the metrics in the Prometheus text format: the secrets,
// the Go runtime and process collectors, and any extra collectors.
func Handler(secrets *SecretsCollector, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(secrets, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(extra...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
