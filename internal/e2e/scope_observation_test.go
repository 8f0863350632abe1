package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// TestRecommendationSaysHowLongUsageWasObserved: the least-privilege
// recommendation of an app registered today, after three API calls,
// says what it rests on (3 calls over 1 day since today) and cautions
// that rarely used scopes may not have been exercised yet; so does the
// confirmation of "Narrow to recommended".
func TestRecommendationSaysHowLongUsageWasObserved(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, rootA := saSignedIn(t, ts, "root", domain.RoleAdmin, saRootPassword)
	_, bobA := saSignedIn(t, ts, "bob", domain.RoleMember, saPassword)
	app := registerThroughDashboard(t, rootA, "vso.work", "vso.tokenadministration")
	tok := saPair(t, ts, bobA, app, "vso.work", "bob-a")
	for range 3 {
		saCall(t, ts, profilePath, tok.Access, http.StatusOK, "", "bob profile")
	}
	saWaitUsage(t, ts, app.ClientID, 3)
	rep, err := ts.App.Admin.AppScopeAudit(context.Background(), app.ClientID, 0)
	if err != nil || rep.Calls != 3 {
		t.Fatalf("the app's scope audit: %d calls, %v; want 3", rep.Calls, err)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	page := rootA.get("/admin/apps/" + app.ClientID + "/scopes")
	if got, _ := lcTestID(page.Body, "observation"); got != "Based on 3 calls over 1 day since "+today+"." {
		t.Errorf("observation beside the recommendation: %q", got)
	}
	caution, ok := lcTestID(page.Body, "observation-caution")
	if !ok || !strings.Contains(caution, "only 1 day") || !strings.Contains(caution, "may not have been exercised yet") {
		t.Errorf("no caution about the short observation: %q", caution)
	}
	confirm := rootA.get("/admin/apps/" + app.ClientID + "/scopes/narrow")
	if text := lcText(confirm.Body); !strings.Contains(text, "Based on 3 calls over 1 day since "+today) || !strings.Contains(text, "may not have been exercised yet") {
		t.Errorf("the narrowing confirmation does not say how long usage was observed: %.600s", text)
	}
}
