package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PATCounts counts live personal access tokens by expiry state at now:
// ok, expiring (within 30 days), critical (within 7 days) and expired
// (unrevoked, expired within the last 30 days).
type PATCounts func(ctx context.Context, now time.Time) (map[string]int, error)

// PATsCollector exports oauthdesk_personal_access_tokens{state}: one
// grouped query per scrape, whatever the number of tokens.
type PATsCollector struct {
	src  PATCounts
	now  func() time.Time
	desc *prometheus.Desc
}

// NewPATsCollector returns the collector of oauthdesk_personal_access_tokens.
func NewPATsCollector(src PATCounts, now func() time.Time) *PATsCollector {
	return &PATsCollector{src: src, now: now, desc: prometheus.NewDesc("oauthdesk_personal_access_tokens",
		"Unrevoked personal access tokens of active users, by expiry state (ok; expiring within 30 days; critical within 7; expired within the last 30).", []string{"state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *PATsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *PATsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.src(ctx, c.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, state := range []string{"ok", "expiring", "critical", "expired"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[state]), state)
	}
}
