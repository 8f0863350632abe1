package metrics

import "github.com/prometheus/client_golang/prometheus"

// NewTokensIssued returns the counter
// oauthdesk_tokens_issued_total{flow, grant_type}: token responses given,
// by flow ("azure_devops" for the dialect, "oidc" for the standard token
// endpoint) and grant type.
func NewTokensIssued() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauthdesk_tokens_issued_total",
		Help: "Token responses given, by flow (azure_devops, oidc) and grant type.",
	}, []string{"flow", "grant_type"})
}
