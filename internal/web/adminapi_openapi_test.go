package web

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// adminAPITestServer is a server with every admin API resource switched
// on (the use cases are never called: only the routes matter here).
func adminAPITestServer() *Server {
	return New(Config{SessionStore: memstore.New(), AdminAPI: AdminAPI{
		Apps: struct{ AdminAPIApps }{}, Secrets: struct{ AdminAPISecrets }{}, Authorizations: struct{ AdminAPIAuthorizations }{},
		Users: struct{ AdminAPIUsers }{}, Tokens: struct{ AdminAPITokens }{}, Settings: struct{ AdminAPISettings }{},
		PATPolicy: struct{ AdminAPIPATPolicy }{}}}, noTokenOAuth{}, scope.Default(),
		slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return testNow })
}

// noTokenOAuth refuses every credential as the real one refuses a
// missing token.
type noTokenOAuth struct{ fakeOAuth }

func (noTokenOAuth) Authenticate(context.Context, string) (oauth.Principal, error) {
	return oauth.Principal{}, &oauth.BearerError{Description: "Bearer access token required"}
}

// TestAdminAPIOpenAPIDocument: the embedded OpenAPI document is a valid
// OpenAPI 3.1 document (libopenapi builds its model, and
// libopenapi-validator checks it against the OpenAPI 3.1 schema), and it
// documents exactly the admin API's registered routes — no route
// undocumented, no documented route missing.
func TestAdminAPIOpenAPIDocument(t *testing.T) {
	doc, err := libopenapi.NewDocument(AdminAPIOpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build the v3 model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", se.KeywordLocation+" "+se.FieldPath, se.Reason)
			}
		}
	}

	documented := map[string]bool{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, r := range adminAPITestServer().Routes() {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, adminAPIBase+"/") || method == "echo_route_not_found" {
			continue
		}
		registered[method+" "+param.ReplaceAllString(strings.TrimPrefix(path, adminAPIBase), "{$1}")] = true
	}
	if len(registered) < 15 {
		t.Fatalf("only %d admin API routes registered: %q", len(registered), slices.Sorted(maps.Keys(registered)))
	}
	for _, r := range slices.Sorted(maps.Keys(registered)) {
		if !documented[r] {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !registered[r] {
			t.Errorf("the OpenAPI document has %s, which is not a route", r)
		}
	}
}

// TestAdminAPIProblems: errors of the admin API are RFC 9457 problems,
// mapped in the one error handler — a missing token (401 with a
// challenge), an unknown address (404) — and the document is served.
func TestAdminAPIProblems(t *testing.T) {
	s := adminAPITestServer()
	for _, tc := range []struct {
		method, path string
		status       int
		kind         string
	}{
		{http.MethodGet, adminAPIBase + "/apps", http.StatusUnauthorized, "unauthorized"},
		{http.MethodGet, adminAPIBase + "/nothing-here", http.StatusNotFound, "not-found"},
	} {
		rec := serve(s, tc.method, tc.path)
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(rec.Body.String(), `"type":"urn:oauthdesk:problem:`+tc.kind+`"`) ||
			!strings.Contains(rec.Body.String(), `"status":`) {
			t.Errorf("%s %s: %d %s %s, want %d problem %s", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.status, tc.kind)
		}
	}
	rec := serve(s, http.MethodGet, adminAPIBase+"/openapi.json")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"openapi": "3.1.0"`) {
		t.Errorf("openapi.json: %d %.100s", rec.Code, rec.Body)
	}
}

// serve runs one request through s without a network.
func serve(s *Server, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}
