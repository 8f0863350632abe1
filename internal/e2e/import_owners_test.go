package e2e

// The inventory import on the dashboard: a re-import naming another owner
// moves who manages the app (app_owners), as the preview and the audit
// event say; a file of 70,000 bad rows gives a small error page.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// importThroughDashboard previews file as the admin, checks the preview
// shows wantDiff, and confirms it.
func importThroughDashboard(t *testing.T, admin *agent, file, wantDiff string) {
	t.Helper()
	prev := admin.postFile("/admin/apps/import", "file", "inventory.csv", []byte(file), url.Values{"_csrf": {admin.csrf("/admin/apps/import")}})
	if prev.Status != http.StatusOK || !strings.Contains(lcText(prev.Body), wantDiff) {
		t.Fatalf("import preview: %d, want %q in %.600s", prev.Status, wantDiff, lcText(prev.Body))
	}
	data := regexp.MustCompile(`name="data" value="([^"]+)"`).FindStringSubmatch(prev.Body)
	if data == nil {
		t.Fatal("the preview carries no file to confirm")
	}
	r := admin.postForm("/admin/apps/import/confirm", url.Values{"_csrf": {ownCSRFOf.FindStringSubmatch(prev.Body)[1]},
		"filename": {"inventory.csv"}, "data": {htmlUnescape(data[1])}})
	wantStatus(t, r, http.StatusSeeOther, "import confirm")
}

func TestReimportMovesOwner(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	alice, bob := e.member(t, "alice"), e.member(t, "bob")
	const id = "20000000-0000-4000-8000-000000000001"
	row := func(owner string) string {
		return "client_id,name,company,callback_url,scopes,secret_created_at,owner\n" +
			fmt.Sprintf("%s,Legacy Boards,Contoso,https://contoso.example/cb,vso.work,%s,%s\n", id, time.Now().UTC().AddDate(-1, 0, 0).Format(time.DateOnly), owner)
	}
	importThroughDashboard(t, e.admin, row(alice.Username), "create")
	if r := alice.a.get("/profile/apps/" + id); r.Status != http.StatusOK {
		t.Fatalf("the imported owner's page: %d", r.Status)
	}
	importThroughDashboard(t, e.admin, row(bob.Username), "owner: "+alice.Username+" → "+bob.Username)

	// The aftermath: bob manages it, alice no longer does.
	if r := alice.a.get("/profile/apps/" + id); r.Status != http.StatusNotFound {
		t.Errorf("the previous owner's page after the re-import: %d, want 404", r.Status)
	}
	if lcRow(alice.a.get("/profile/apps").Body, `data-client-id="`+id+`"`) != "" {
		t.Error("the previous owner still lists the app")
	}
	if r := bob.a.get("/profile/apps/" + id); r.Status != http.StatusOK {
		t.Errorf("the new owner's page: %d, want 200", r.Status)
	}
	if lcRow(bob.a.get("/profile/apps").Body, `data-client-id="`+id+`"`) == "" {
		t.Error("the new owner does not list the app")
	}
	owners, err := e.ts.App.Admin.AppOwners(context.Background(), id)
	if err != nil || len(owners) != 1 || owners[0].Username != bob.Username || !owners[0].Primary {
		t.Errorf("owners after the re-import: %+v %v, want bob alone as primary", owners, err)
	}
	ev := lcWantEvent(t, e.admin, "action="+audit.ActionAppImport+"&target_id="+id, "root")
	if !strings.Contains(ev.Details, "owner: "+alice.Username+" → "+bob.Username) {
		t.Errorf("import audit details %s", ev.Details)
	}
}

func TestImportProblemsCapped(t *testing.T) {
	t.Parallel()
	e := lcNewEnv(t)
	var b strings.Builder
	b.WriteString("client_id,name,company,callback_url,scopes,secret_created_at\n")
	const rows = 70_000
	for range rows {
		b.WriteString("x\n")
	}
	r := e.admin.postFile("/admin/apps/import", "file", "bad.csv", []byte(b.String()), url.Values{"_csrf": {e.admin.csrf("/admin/apps/import")}})
	wantStatus(t, r, http.StatusUnprocessableEntity, "all-bad import")
	if n := strings.Count(r.Body, `data-testid="import-problem"`); n != 100 {
		t.Errorf("the page lists %d problems, want the first 100", n)
	}
	if !strings.Contains(lcText(r.Body), "70000 rows have problems; the first 100 are listed") {
		t.Errorf("no count of the problems: %.400s", lcText(r.Body))
	}
	if !strings.Contains(r.Body, `data-line="2"`) || strings.Contains(r.Body, `data-line="102"`) {
		t.Error("the listed problems are not the first ones")
	}
	if len(r.Body) > 100<<10 {
		t.Errorf("error page is %d bytes, want under 100 KiB", len(r.Body))
	}
}
