package metrics

import "github.com/prometheus/client_golang/prometheus"

// NewDirectorySyncFailures returns the counter
// oauthdesk_directory_sync_failures_total{connector}: directory syncs
// that could not reach or read a connector's directory (and so disabled
// nobody). Alert when it grows.
func NewDirectorySyncFailures() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauthdesk_directory_sync_failures_total",
		Help: "Directory syncs that could not reach or read a connector's directory; nobody was disabled by them.",
	}, []string{"connector"})
}
