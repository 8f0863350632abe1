package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

var (
	pgRowRE   = regexp.MustCompile(`data-client-id="([0-9a-f-]{36})"`)
	pgRangeRE = regexp.MustCompile(`data-testid="page-range">([^<]*)<`)
)

// pgLink is the href of the page link with the testid ("" when absent).
func pgLink(body, testid string) string {
	m := regexp.MustCompile(`href="([^"]+)" data-testid="` + testid + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestAppsPagingBothWays: the app lists (the admin's and an owner's) page
// forwards and back with First, Previous and Next, and say which rows a
// page shows and of how many; going back gives the same rows as before.
func TestAppsPagingBothWays(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	ctx := context.Background()
	bob := e.member(t, "bob")
	const n = 60
	for i := range n {
		if _, err := e.ts.App.Admin.RegisterApp(ctx, bob.Username, domain.Registration{Name: fmt.Sprintf("Paged Tool %02d", i), Company: "Paging Co.",
			AppURL: "https://paging.example", CallbackURL: callbackURL, Scopes: []string{"vso.work"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, list := range []struct {
		a    *agent
		path string
	}{{e.admin, "/admin/apps"}, {bob.a, "/profile/apps"}} {
		rows := func(body string) string {
			var ids []string
			for _, m := range pgRowRE.FindAllStringSubmatch(body, -1) {
				if len(ids) == 0 || ids[len(ids)-1] != m[1] {
					ids = append(ids, m[1])
				}
			}
			return strings.Join(ids, " ")
		}
		rangeOf := func(body string) string {
			if m := pgRangeRE.FindStringSubmatch(body); m != nil {
				return m[1]
			}
			return ""
		}
		first := list.a.get(list.path)
		if first.Status != http.StatusOK || rangeOf(first.Body) != fmt.Sprintf("1–25 of %d", n) {
			t.Fatalf("%s: %d, range %q, want 1–25 of %d", list.path, first.Status, rangeOf(first.Body), n)
		}
		if pgLink(first.Body, "prev-page") != "" || pgLink(first.Body, "first-page") != "" {
			t.Errorf("%s: the first page offers Previous or First", list.path)
		}
		second := list.a.get(pgLink(first.Body, "next-page"))
		if got := rangeOf(second.Body); got != fmt.Sprintf("26–50 of %d", n) {
			t.Errorf("%s page 2: range %q", list.path, got)
		}
		if pgLink(second.Body, "first-page") != list.path {
			t.Errorf("%s page 2: First goes to %q", list.path, pgLink(second.Body, "first-page"))
		}
		third := list.a.get(pgLink(second.Body, "next-page"))
		if got := rangeOf(third.Body); got != fmt.Sprintf("51–60 of %d", n) || pgLink(third.Body, "next-page") != "" {
			t.Errorf("%s page 3: range %q, next %q; want 51–60 and no Next", list.path, got, pgLink(third.Body, "next-page"))
		}
		back := list.a.get(pgLink(third.Body, "prev-page"))
		if rows(back.Body) != rows(second.Body) || rangeOf(back.Body) != rangeOf(second.Body) {
			t.Errorf("%s: Previous from page 3 gives other rows (%q) than page 2", list.path, rangeOf(back.Body))
		}
		again := list.a.get(pgLink(back.Body, "prev-page"))
		if rows(again.Body) != rows(first.Body) || rangeOf(again.Body) != rangeOf(first.Body) {
			t.Errorf("%s: Previous twice gives other rows (%q) than the first page", list.path, rangeOf(again.Body))
		}
	}
}
