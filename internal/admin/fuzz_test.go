package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// FuzzParseImport feeds arbitrary inventory files (CSV or JSON) to the
// import parser: it never panics; it refuses with ImportErrors or an
// Invalid error, or returns records that pass the registration's own
// validation (the rule: import is never laxer than the form).
func FuzzParseImport(f *testing.F) {
	head := "client_id,name,company,callback_url,scopes,secret_created_at,owner,app_url\n"
	for _, seed := range []string{
		head + "10000000-0000-4000-8000-000000000001,Boards,Fabrikam,https://fabrikam.example/cb,vso.work,2024-01-01,,\n",
		head + "10000000-0000-4000-8000-000000000001,Boards,Fabrikam,https://fabrikam.example/cb,vso.work,2024-01-01,root,javascript:alert(1)\n",
		head + "10000000-0000-4000-8000-000000000002,\"Red\x1b[31m\",F,https://f.example/cb,vso.work,2024-01-01,,\n",
		head + "x,\"a\nb\",c,http://x,vso.nope,2024-02-30,,\n",
		`[{"client_id":"10000000-0000-4000-8000-000000000003","name":"A","company":"C","callback_url":"https://c.example/cb","scopes":["vso.work","vso.code"],"secret_created_at":"2024-01-01T00:00:00Z"}]`,
		`[{"client_id":"10000000-0000-4000-8000-000000000004","name":"R\u202eL","company":"C","callback_url":"https://c.example/cb","scopes":"vso.work","secret_created_at":"2024-01-01","app_url":"data:text/html,x"}]`,
		`[{"name": 5, "scopes": [1, null], "extra": {}}]`,
		`[`, `{}`, "", "\xff\xfe", "client_id\n",
	} {
		f.Add([]byte(seed))
	}
	svc := admin.NewService(nil, scope.Default(), func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := svc.ParseImport(data)
		if err != nil {
			var ie admin.ImportErrors
			if !errors.As(err, &ie) && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("ParseImport: %v (%T), want ImportErrors or Invalid", err, err)
			}
			if recs != nil {
				t.Fatalf("records returned with an error")
			}
			return
		}
		for _, r := range recs {
			reg := domain.Registration{Name: r.Name, Company: r.Company, AppURL: r.AppURL, CallbackURL: r.CallbackURL, Scopes: r.Scopes}
			if _, verr := domain.ValidateRegistration(reg); verr != nil {
				t.Fatalf("imported a record the registration form refuses: %+v: %v", r, verr)
			}
			if strings.ContainsAny(r.Name+r.Company, "\x00\x1b\u202e\n") {
				t.Fatalf("imported control characters: %q", r.Name)
			}
		}
	})
}
