package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

func TestSecretsGaugeByState(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	src := func(context.Context) ([]domain.ExpiringSecret, error) {
		return []domain.ExpiringSecret{
			{ExpiresAt: now.Add(400 * day)}, {ExpiresAt: now.Add(300 * day)}, // ok
			{ExpiresAt: now.Add(60 * day)}, // expiring
			{ExpiresAt: now.Add(3 * day)},  // critical
			{ExpiresAt: now.Add(-day)},     // expired
		}, nil
	}
	body := scrape(t, Handler(NewSecretsCollector(src, domain.DefaultThresholds, func() time.Time { return now })))
	for _, want := range []string{
		`oauthdesk_client_secrets{state="ok"} 2`,
		`oauthdesk_client_secrets{state="expiring"} 1`,
		`oauthdesk_client_secrets{state="critical"} 1`,
		`oauthdesk_client_secrets{state="expired"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestSourceErrorIsReported(t *testing.T) {
	src := func(context.Context) ([]domain.ExpiringSecret, error) { return nil, errors.New("db gone") }
	rec := httptest.NewRecorder()
	Handler(NewSecretsCollector(src, domain.DefaultThresholds, time.Now)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500 when the source fails", rec.Code)
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}
