package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

func apiContext(body string, header map[string]string) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// TestDecodeJSON: the admin API's body reader refuses what is not one
// JSON object of the expected shape, saying where, and names the field.
func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name   *string   `json:"name"`
		Scopes *[]string `json:"scopes"`
		Days   *int      `json:"days"`
	}
	for _, tc := range []struct {
		body, want, field string
	}{
		{`{"name": "x", "scopes": ["a"], "days": 3}`, "", ""},
		{``, "empty", ""},
		{`   `, "empty", ""},
		{`{"name": "x",`, "not valid JSON", ""},
		{`{"name": "x"} {"name": "y"}`, "data after", ""},
		{`{"name": 3}`, "name must be a string", "name"},
		{`{"scopes": "a"}`, "scopes must be an array", "scopes"},
		{`{"days": "3"}`, "days must be a number", "days"},
		{`{"nmae": "x"}`, `unknown field "nmae"`, "nmae"},
		{`[1, 2]`, "must be a JSON object", ""},
		{`"x"`, "must be a JSON object", ""},
		{`{"name": "x"`, "ends early", ""},
	} {
		var v body
		err := decodeJSON(apiContext(tc.body, nil), &v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want no error", tc.body, err)
		case tc.want != "" && (!apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.ErrorMessage(err), tc.want)):
			t.Errorf("%q: %v, want Invalid with %q", tc.body, err, tc.want)
		case tc.field != "" && apperr.FieldErrors(err)[tc.field] == "":
			t.Errorf("%q: fields %v, want one for %s", tc.body, apperr.FieldErrors(err), tc.field)
		}
	}
}

// TestIfMatch: RFC 9110 §13.1.1 as the admin API applies it.
func TestIfMatch(t *testing.T) {
	cur := map[string]string{"name": "now"}
	tag, _, _ := etagOf(cur)
	other, _, _ := etagOf(map[string]string{"name": "before"})
	for _, tc := range []struct {
		ifMatch  string
		required bool
		want     apperr.Code
	}{
		{"", true, apperr.PreconditionRequired},
		{"", false, ""},
		{tag, true, ""},
		{other, true, apperr.PreconditionFailed},
		{other + ", " + tag, true, ""},
		{"*", true, ""},
		{"W/" + tag, true, apperr.PreconditionFailed}, // weak tags never match
		{strings.Trim(tag, `"`), true, apperr.PreconditionFailed},
	} {
		match, err := ifMatch(apiContext("", map[string]string{"If-Match": tc.ifMatch}), tc.required)
		if err == nil && match != nil {
			err = match(cur)
		}
		if apperr.ErrorCode(err) != tc.want {
			t.Errorf("If-Match %q (required %v): %v, want %q", tc.ifMatch, tc.required, err, tc.want)
		}
	}
}

// FuzzDecodeJSON: whatever the body, decodeJSON never panics and refuses
// with Invalid (a 400 problem) or decodes.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name": "x"}`, `{"scopes": ["a", 1]}`, `{"name": "x",`, `[]`, ``, `{"a":{"b":1}}`, "{\"name\": \"\xff\"}", `{"days": 1e400}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v apiAppInput
		if err := decodeJSON(apiContext(body, nil), &v); err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("%q: %v, want Invalid", body, err)
		}
	})
}
