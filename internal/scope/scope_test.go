package scope

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
)

// fileScopes reads scopes.json independently of Load, so tests can
// cross-check the implementation against the data.
func fileScopes(t testing.TB) []Scope {
	t.Helper()
	data, err := os.ReadFile("scopes.json")
	if err != nil {
		t.Fatal(err)
	}
	var s []Scope
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefault(t *testing.T) {
	c := Default()
	if c != Default() {
		t.Error("Default() returned different catalogs on two calls")
	}
	all := c.All()
	if got, want := len(all), 90; got != want {
		t.Fatalf("len(All()) = %d, want %d", got, want)
	}
	file := fileScopes(t)
	for i := range file {
		if got, want := all[i].ID, file[i].ID; got != want {
			t.Errorf("All()[%d].ID = %q, want %q (file order)", i, got, want)
		}
	}
	if _, ok := c.Lookup(AuthorizationGrant); ok {
		t.Errorf("Lookup(%q) found the marker scope in the catalog", AuthorizationGrant)
	}
}

func TestAllAndLookupReturnCopies(t *testing.T) {
	c := Default()
	all := c.All()
	all[0].ID = "mutated"
	s, ok := c.Lookup("vso.code_write")
	if !ok {
		t.Fatal(`Lookup("vso.code_write") not found`)
	}
	s.Includes[0] = "mutated"
	s.IncludesTransitive[0] = "mutated"
	if got := c.All()[0].ID; got == "mutated" {
		t.Error("modifying All() result changed the catalog")
	}
	s2, _ := c.Lookup("vso.code_write")
	if got, want := s2.Includes, []string{"vso.code"}; !slices.Equal(got, want) {
		t.Errorf("Includes after mutation of a copy = %q, want %q", got, want)
	}
	if s2.Name != "Code (read and write)" || !s2.HighPrivilege || s2.Category != "Code" {
		t.Errorf("Lookup(vso.code_write) = %+v", s2)
	}
	if _, ok := c.Lookup("VSO.CODE_WRITE"); ok {
		t.Error("Lookup is not case-sensitive")
	}
	for _, s := range c.All() {
		if s.Includes == nil || s.IncludesTransitive == nil {
			t.Errorf("%s: nil Includes or IncludesTransitive", s.ID)
		}
	}
}

// TestSatisfiesWholeCatalog checks every ordered pair of catalog scopes
// against includes_transitive as written in the file.
func TestSatisfiesWholeCatalog(t *testing.T) {
	c := Default()
	file := fileScopes(t)
	for _, a := range file {
		t.Run(a.ID, func(t *testing.T) {
			for _, b := range file {
				want := a.ID == b.ID || slices.Contains(a.IncludesTransitive, b.ID)
				if got := c.Satisfies([]string{a.ID}, b.ID); got != want {
					t.Errorf("Satisfies([%s], %s) = %v, want %v", a.ID, b.ID, got, want)
				}
			}
		})
	}
}

func TestSatisfies(t *testing.T) {
	c := Default()
	tests := []struct {
		name     string
		granted  []string
		required string
		want     bool
	}{
		{"code_full reaches profile through six levels", []string{"vso.code_full"}, "vso.profile", true},
		{"code_full includes code_manage", []string{"vso.code_full"}, "vso.code_manage", true},
		{"code does not satisfy code_write", []string{"vso.code"}, "vso.code_write", false},
		{"code_write satisfies code", []string{"vso.code_write"}, "vso.code", true},
		{"code_write satisfies hooks_write", []string{"vso.code_write"}, "vso.hooks_write", true},
		{"code_write satisfies hooks", []string{"vso.code_write"}, "vso.hooks", true},
		{"code_write satisfies profile", []string{"vso.code_write"}, "vso.profile", true},
		{"code_write satisfies itself", []string{"vso.code_write"}, "vso.code_write", true},
		{"code_manage includes code_write", []string{"vso.code_manage"}, "vso.code_write", true},
		{"code_write does not satisfy code_manage", []string{"vso.code_write"}, "vso.code_manage", false},
		{"profile does not satisfy code", []string{"vso.profile"}, "vso.code", false},
		{"code_status is not included by code_full", []string{"vso.code_full"}, "vso.code_status", false},
		{"any granted scope may satisfy", []string{"vso.work", "vso.build_execute"}, "vso.build", true},
		{"nothing granted", nil, "vso.profile", false},
		{"unknown granted satisfies nothing", []string{"vso.foo"}, "vso.profile", false},
		{"unknown required equal to granted", []string{"vso.foo"}, "vso.foo", false},
		{"unknown required", []string{"vso.code_full"}, "vso.foo", false},
		{"marker satisfies nothing", []string{AuthorizationGrant}, "vso.profile", false},
		{"marker is not satisfied by itself", []string{AuthorizationGrant}, AuthorizationGrant, false},
		{"case-sensitive granted", []string{"VSO.CODE_FULL"}, "vso.profile", false},
		{"case-sensitive required", []string{"vso.code_full"}, "VSO.PROFILE", false},
		{"empty required", []string{"vso.code_full"}, "", false},
		{"empty granted id", []string{""}, "vso.profile", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Satisfies(tt.granted, tt.required); got != tt.want {
				t.Errorf("Satisfies(%q, %q) = %v, want %v", tt.granted, tt.required, got, tt.want)
			}
		})
	}
}

func TestSatisfiesDoesNotAllocate(t *testing.T) {
	c := Default()
	granted := []string{"vso.foo", "vso.work", "vso.code_full"}
	allocs := testing.AllocsPerRun(100, func() {
		if !c.Satisfies(granted, "vso.profile") {
			t.Fatal("Satisfies returned false")
		}
		c.Satisfies(granted, "vso.unknown")
	})
	if allocs != 0 {
		t.Errorf("Satisfies allocates %v times per call, want 0", allocs)
	}
}

func TestCovers(t *testing.T) {
	c := Default()
	tests := []struct {
		name               string
		granted, requested []string
		want               []string
	}{
		{"all covered", []string{"vso.code_write"}, []string{"vso.code", "vso.profile"}, nil},
		{"nothing requested", []string{"vso.code"}, nil, nil},
		{"some missing in order", []string{"vso.code"}, []string{"vso.work", "vso.profile", "vso.code_write"}, []string{"vso.work", "vso.code_write"}},
		{"missing deduplicated", nil, []string{"vso.work", "vso.work"}, []string{"vso.work"}},
		{"unknown always missing", []string{"vso.foo"}, []string{"vso.foo"}, []string{"vso.foo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Covers(tt.granted, tt.requested)
			if !slices.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("Covers(%q, %q) = %#v, want %#v", tt.granted, tt.requested, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	c := Default()
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string // substring of the message; "" means success
	}{
		{"single", "vso.code", []string{"vso.code"}, ""},
		{"several", "vso.code vso.work_write vso.profile", []string{"vso.code", "vso.work_write", "vso.profile"}, ""},
		{"extra spaces", "   vso.code    vso.profile  ", []string{"vso.code", "vso.profile"}, ""},
		{"duplicates keep first order", "vso.profile vso.code vso.profile vso.code", []string{"vso.profile", "vso.code"}, ""},
		{"non-vso id", "user_impersonation", []string{"user_impersonation"}, ""},
		{"dotted id", "vso.extension.data_write", []string{"vso.extension.data_write"}, ""},
		{"exactly 100 scopes", strings.TrimSpace(strings.Repeat("vso.code ", 100)), []string{"vso.code"}, ""},
		{"empty", "", nil, "at least one scope is required"},
		{"only spaces", "     ", nil, "at least one scope is required"},
		{"tab separator", "vso.code\tvso.profile", nil, "not allowed"},
		{"newline", "vso.code\nvso.profile", nil, "not allowed"},
		{"carriage return", "vso.code\r", nil, "not allowed"},
		{"NUL", "vso.code\x00", nil, "not allowed"},
		{"cyrillic look-alike", "vso.c\u043ede", nil, `scope "vso.c\u043ede" contains a character that is not allowed`},
		{"non-breaking space", "vso.code\u00a0vso.profile", nil, "not allowed"},
		{"invalid UTF-8", "vso.code\xff", nil, "not allowed"},
		{"double quote", `vso.code"`, nil, "not allowed"},
		{"backslash", `vso.code\`, nil, "not allowed"},
		{"uppercase", "VSO.CODE", nil, `unknown scope "VSO.CODE"`},
		{"unknown", "vso.code vso.foo", nil, `unknown scope "vso.foo"`},
		{"marker", "vso.code " + AuthorizationGrant, nil, "vso.authorization_grant is a marker scope and cannot be requested"},
		{"5000 chars", strings.Repeat("a", 5000), nil, "too long"},
		{"5000 chars of spaces", strings.Repeat(" ", 5000), nil, "too long"},
		{"101 scopes", strings.TrimSpace(strings.Repeat("vso.code ", 101)), nil, "too many scopes"},
		{"long unknown", strings.Repeat("x", 4000), nil, "unknown scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(%q) error = %v", tt.in, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			checkInvalid(t, err, tt.wantErr)
			if got != nil {
				t.Errorf("Parse(%q) = %q with an error, want nil", tt.in, got)
			}
		})
	}
}

// checkInvalid asserts err is an *apperr.Error with code Invalid, a message
// containing want, and a short message.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", want)
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *apperr.Error", err, err)
	}
	if e.Code != apperr.Invalid {
		t.Errorf("code = %q, want %q", e.Code, apperr.Invalid)
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("message = %q, want it to contain %q", e.Message, want)
	}
	if len(e.Message) > 200 {
		t.Errorf("message is %d bytes long: %q", len(e.Message), e.Message)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{"ok", []string{"vso.code", "vso.profile"}, []string{"vso.code", "vso.profile"}, ""},
		{"duplicates", []string{"vso.code", "vso.profile", "vso.code"}, []string{"vso.code", "vso.profile"}, ""},
		{"nil", nil, nil, "at least one scope is required"},
		{"empty list", []string{}, nil, "at least one scope is required"},
		{"empty element", []string{"vso.code", ""}, nil, "must not be empty"},
		{"element with space", []string{"vso.code vso.profile"}, nil, "not allowed"},
		{"element with tab", []string{"vso.code\t"}, nil, "not allowed"},
		{"uppercase", []string{"VSO.CODE"}, nil, "unknown scope"},
		{"marker", []string{AuthorizationGrant}, nil, "marker scope"},
		{"101 elements", slices.Repeat([]string{"vso.code"}, 101), nil, "too many scopes"},
		{"too long", []string{strings.Repeat("a", 4097)}, nil, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Validate(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%q) error = %v", tt.in, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("Validate(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			checkInvalid(t, err, tt.wantErr)
		})
	}

	t.Run("does not modify its input", func(t *testing.T) {
		in := []string{"vso.code", "vso.code", "vso.profile"}
		if _, err := c.Validate(in); err != nil {
			t.Fatal(err)
		}
		if want := []string{"vso.code", "vso.code", "vso.profile"}; !slices.Equal(in, want) {
			t.Errorf("input became %q, want %q", in, want)
		}
	})
}

func TestErrorMessagesAreClipped(t *testing.T) {
	c := Default()
	for _, in := range []string{
		strings.Repeat("z", 4000),
		strings.Repeat("\x00", 4000),
		strings.Repeat("\u043e", 2000),
	} {
		_, err := c.Parse(in)
		msg := apperr.ErrorMessage(err)
		if len(msg) > 200 {
			t.Errorf("message for %d-byte input is %d bytes: %q", len(in), len(msg), msg)
		}
	}
}

func TestMinimal(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"example", []string{"vso.code", "vso.code_write", "vso.profile", "vso.build"}, []string{"vso.code_write", "vso.build"}},
		{"chain collapses to the top", []string{"vso.profile", "vso.hooks", "vso.hooks_write", "vso.code", "vso.code_write", "vso.code_manage", "vso.code_full"}, []string{"vso.code_full"}},
		{"independent scopes kept in order", []string{"vso.work", "vso.code_status", "vso.wiki"}, []string{"vso.work", "vso.code_status", "vso.wiki"}},
		{"duplicates removed", []string{"vso.wiki", "vso.wiki"}, []string{"vso.wiki"}},
		{"unknown kept", []string{"vso.foo", "vso.profile", "vso.code"}, []string{"vso.foo", "vso.code"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Minimal(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Minimal(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"code_write", []string{"vso.code_write"}, []string{"vso.code", "vso.code_write", "vso.hooks", "vso.hooks_write", "vso.profile"}},
		{"two overlapping", []string{"vso.profile_write", "vso.extension"}, []string{"vso.extension", "vso.profile", "vso.profile_write"}},
		{"leaf", []string{"vso.profile"}, []string{"vso.profile"}},
		{"unknown and marker dropped", []string{"vso.foo", AuthorizationGrant, "vso.wiki"}, []string{"vso.wiki"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Expand(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMinimalExpandAgree checks, for every scope's neighbourhood, that
// Minimal keeps the meaning of a set: Expand(Minimal(s)) == Expand(s).
func TestMinimalExpandAgree(t *testing.T) {
	c := Default()
	for _, s := range c.All() {
		set := append([]string{s.ID}, s.IncludesTransitive...)
		slices.Reverse(set)
		if got, want := c.Expand(c.Minimal(set)), c.Expand(set); !slices.Equal(got, want) {
			t.Errorf("%s: Expand(Minimal) = %q, want %q", s.ID, got, want)
		}
		if got := c.Minimal(set); !slices.Equal(got, []string{s.ID}) {
			t.Errorf("Minimal(%q) = %q, want [%s]", set, got, s.ID)
		}
	}
}

func TestLoad(t *testing.T) {
	ok := `[
		{"scope":"a","name":"A","description":"","category":"x","high_privilege":false,"includes":[],"includes_transitive":[]},
		{"scope":"b","name":"B","description":"","category":"x","high_privilege":false,"includes":["a"],"includes_transitive":["a"]},
		{"scope":"c","name":"C","description":"","category":"x","high_privilege":true,"includes":["b"],"includes_transitive":["a","b"]}
	]`
	c, err := Load([]byte(ok))
	if err != nil {
		t.Fatalf("Load(valid) error = %v", err)
	}
	if !c.Satisfies([]string{"c"}, "a") || c.Satisfies([]string{"a"}, "c") {
		t.Error("Load(valid) built a wrong inclusion relation")
	}

	tests := []struct {
		name, data, wantErr string
	}{
		{"not JSON", `{`, "scope catalog"},
		{"object instead of array", `{"scope":"a"}`, "scope catalog"},
		{"empty array", `[]`, "no scopes"},
		{"null", `null`, "no scopes"},
		{"trailing data", `[{"scope":"a"}] [1]`, "after the JSON array"},
		{"unknown field", `[{"scope":"a","scopes":"x"}]`, "unknown field"},
		{"empty id", `[{"scope":""}]`, "empty scope id"},
		{"id with space", `[{"scope":"a b"}]`, "not a valid"},
		{"marker in catalog", `[{"scope":"vso.authorization_grant"}]`, "marker"},
		{"duplicate id", `[{"scope":"a"},{"scope":"a"}]`, `duplicate scope id "a"`},
		{"unknown include", `[{"scope":"a","includes":["z"],"includes_transitive":["z"]}]`, `"a" includes unknown scope "z"`},
		{"self cycle", `[{"scope":"a","includes":["a"]}]`, "cycle a -> a"},
		{"cycle", `[{"scope":"a","includes":["b"]},{"scope":"b","includes":["c"]},{"scope":"c","includes":["a"]}]`, "cycle a -> b -> c -> a"},
		{"transitive missing entry", `[{"scope":"a"},{"scope":"b","includes":["a"]},{"scope":"c","includes":["b"],"includes_transitive":["b"]}]`, `scope "b": includes_transitive disagrees`},
		{"transitive extra entry", `[{"scope":"a","includes_transitive":["b"]},{"scope":"b"}]`, `scope "a": includes_transitive disagrees`},
		{"transitive lists self", `[{"scope":"a","includes_transitive":["a"]}]`, "disagrees"},
		{"transitive unknown", `[{"scope":"a","includes_transitive":["z"]}]`, `unknown scope "z" in includes_transitive`},
		{"transitive duplicate", `[{"scope":"a"},{"scope":"b","includes":["a"],"includes_transitive":["a","a"]}]`, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.data))
			if err == nil {
				t.Fatalf("Load(%s) = %v, want error containing %q", tt.data, c, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load(%s) error = %q, want it to contain %q", tt.data, err, tt.wantErr)
			}
		})
	}
}

func TestLoadEmbeddedMatchesDefault(t *testing.T) {
	c, err := Load(embedded)
	if err != nil {
		t.Fatalf("Load(embedded) error = %v", err)
	}
	if got, want := len(c.All()), len(Default().All()); got != want {
		t.Errorf("len = %d, want %d", got, want)
	}
}

func BenchmarkSatisfies(b *testing.B) {
	c := Default()
	granted := []string{"vso.work_write", "vso.build", "vso.code_full"}
	b.ReportAllocs()
	for b.Loop() {
		c.Satisfies(granted, "vso.profile")
	}
}

func TestIntersect(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		a, b, want []string
	}{
		{[]string{"vso.code_write"}, []string{"vso.code"}, []string{"vso.code"}},
		{[]string{"vso.code"}, []string{"vso.code_write"}, []string{"vso.code"}},
		{[]string{"vso.code_write", "vso.work"}, []string{"vso.work_write"}, []string{"vso.work"}},
		{[]string{"vso.project"}, []string{"vso.code"}, nil},
		{[]string{"vso.code_full"}, []string{"vso.profile", "vso.build"}, []string{"vso.hooks_write"}},
		{[]string{"vso.code_full"}, []string{"vso.profile"}, []string{"vso.profile"}},
		{[]string{"vso.nope"}, []string{"vso.code"}, nil},
	} {
		got := c.Intersect(tc.a, tc.b)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Intersect(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if got := c.SatisfiedBy([]string{"vso.work", "vso.code_write"}, "vso.code"); got != "vso.code_write" {
		t.Errorf("SatisfiedBy = %q", got)
	}
}

func TestHolders(t *testing.T) {
	c := Default()
	got := c.Holders("vso.code_write")
	if got[0] != "vso.code_write" {
		t.Fatalf("Holders(vso.code_write)[0] = %q, want the scope itself", got[0])
	}
	for _, h := range got {
		if !c.Satisfies([]string{h}, "vso.code_write") {
			t.Errorf("%s is listed as a holder but does not satisfy vso.code_write", h)
		}
	}
	for _, sc := range c.All() {
		if c.Satisfies([]string{sc.ID}, "vso.code_write") && !slices.Contains(got, sc.ID) {
			t.Errorf("%s satisfies vso.code_write but is not listed as a holder", sc.ID)
		}
	}
	if !slices.Contains(got, "vso.code_full") {
		t.Errorf("Holders(vso.code_write) = %v, want vso.code_full among them", got)
	}
	if got := c.Holders("nope"); !slices.Equal(got, []string{"nope"}) {
		t.Errorf("Holders(unknown) = %v", got)
	}
}

func TestUserDescription(t *testing.T) {
	c := Default()
	for _, sc := range c.All() {
		d := sc.UserDescription()
		if d == "" || strings.Contains(strings.ToLower(d), "docs") {
			t.Errorf("%s: user description %q (from %q)", sc.ID, d, sc.Description)
		}
	}
	for in, want := range map[string]string{
		"Full access to the REST APIs as the user; docs warn to request/consent with caution.": "Full access to the REST APIs as the user.",
		"Manage audit streams (docs label the name '(read)').":                                 "Manage audit streams.",
		"Read service-hook subscriptions. Docs mark it no longer public.":                      "Read service-hook subscriptions.",
		"Read your profile.": "Read your profile.",
	} {
		if got := (Scope{Description: in}).UserDescription(); got != want {
			t.Errorf("UserDescription(%q) = %q, want %q", in, got, want)
		}
	}
}
