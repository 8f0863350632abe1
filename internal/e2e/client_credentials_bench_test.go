package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// BenchmarkClientCredentialsHandler: POST /oauth2/token with
// grant_type=client_credentials through the real server's handler (every
// middleware, client authentication, the app's own grant, the RFC 9068
// access token), in process and without sockets: what make bench's
// "client credentials" row pays per request besides HTTP I/O.
func BenchmarkClientCredentialsHandler(b *testing.B) {
	e := newBenchEnv(b)
	res, err := e.ts.App.Admin.RegisterApp(context.Background(), "root", domain.Registration{
		Name: "Bench Service", Company: "Fabrikam, Inc.", AppURL: "https://fabrikam.example/svc", CallbackURL: callbackURL,
		Scopes: strings.Fields(benchScopes), ClientType: domain.ClientConfidential, GrantTypes: []string{domain.GrantClientCredentials},
	})
	if err != nil {
		b.Fatal(err)
	}
	body := "grant_type=client_credentials&client_id=" + url.QueryEscape(res.App.ClientID) +
		"&client_secret=" + url.QueryEscape(res.ClientSecret) + "&scope=vso.profile"
	h := e.ts.App.Handler()
	call := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		req.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := call(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"access_token"`) {
		b.Fatalf("client credentials: %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if w := call(); w.Code != http.StatusOK {
			b.Fatalf("client credentials: %d %s", w.Code, w.Body)
		}
	}
	// CPU time rather than wall time: the number that holds on a machine
	// shared with other work (GC and every other thread included).
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
