package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// TestDeleteSoleOwnerChoosesEachNewOwner: in Chromium, the confirmation
// of deleting a user who alone owns two apps lists both (linked name,
// client id), each with its own new-owner picker, the new owner of every
// app filled in with the acting administrator; it fits at 1400 and 400
// px. A bad choice (an unknown user for one app, a disabled one for the
// other) comes back with each reason beside its app, the values as
// typed, and nothing changed. Two different new owners then take one app
// each, in the same step as the delete: each app's owners are exactly
// its chosen owner, the audit log has one hand-over per app, and the
// app's activity names the deleted user "(deleted)".
func TestDeleteSoleOwnerChoosesEachNewOwner(t *testing.T) {
	e := lcNewEnv(t)
	ctx := context.Background()
	frank, bob, grace, henry := e.member(t, "frank"), e.member(t, "bob"), e.member(t, "grace"), e.member(t, "henry")
	feed := registerOwn(t, frank.a, "Frank Feed", "vso.work")
	board := registerOwn(t, frank.a, "Frank Board", "vso.work")
	hpage := "/admin/users/" + henry.ID
	wantStatus(t, ownPost(t, e.admin, hpage, hpage+"/disable", nil), http.StatusSeeOther, "disable henry")
	del := "/admin/users/" + frank.ID + "/delete"
	feedSel := `[data-testid="sole-owned-app"][data-client-id="` + feed.ClientID + `"]`
	boardSel := `[data-testid="sole-owned-app"][data-client-id="` + board.ClientID + `"]`

	b := newBrowser(t)
	lbSignIn(t, b, e.ts, "root", lcRootPassword, del)
	type confirmState struct {
		Rows      []string `json:"rows"`      // each row's text
		Links     []string `json:"links"`     // each app name's href
		Default   string   `json:"default"`   // the new owner of every app
		Pickers   int      `json:"pickers"`   // per-app inputs tied to the datalist
		Options   []string `json:"options"`   // the datalist's usernames
		Overflow  bool     `json:"overflow"`  // the page scrolls sideways
		Clipped   []string `json:"clipped"`   // controls cut by the window's right edge
		FeedError string   `json:"feedError"` // the error beside Frank Feed
		BoardErr  string   `json:"boardErr"`  // the error beside Frank Board
		FeedValue string   `json:"feedValue"`
		BoardVal  string   `json:"boardVal"`
		Summary   string   `json:"summary"`
	}
	state := func() confirmState {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Evaluate[confirmState](`(() => {
			const q = s => document.querySelector(s);
			const text = s => (q(s) ? q(s).innerText.trim() : "");
			const val = s => (q(s) ? q(s).value : "");
			return {
				rows: [...document.querySelectorAll('[data-testid="sole-owned-app"]')].map(r => r.innerText.replace(/\s+/g, " ").trim()),
				links: [...document.querySelectorAll('[data-testid="sole-owned-app-name"]')].map(a => a.getAttribute("href")),
				default: val('[data-testid="new-owner"]'),
				pickers: [...document.querySelectorAll('[data-testid="app-new-owner"]')].filter(i => i.list && i.list.id === "handover-users").length,
				options: [...document.querySelectorAll('#handover-users option')].map(o => o.value),
				overflow: document.scrollingElement.scrollWidth > window.innerWidth,
				clipped: [...document.querySelectorAll('[data-testid="confirm"] :is(a, button, input, summary)')].filter(el => {
					const r = el.getBoundingClientRect();
					return r.width > 0 && (r.right > window.innerWidth + 1 || r.left < -1);
				}).map(el => el.outerHTML.slice(0, 80)),
				feedError: text(`+jsString(feedSel+` [data-testid="app-new-owner-error"]`)+`),
				boardErr: text(`+jsString(boardSel+` [data-testid="app-new-owner-error"]`)+`),
				feedValue: val(`+jsString(feedSel+` [data-testid="app-new-owner"]`)+`),
				boardVal: val(`+jsString(boardSel+` [data-testid="app-new-owner"]`)+`),
				summary: text('[data-testid="confirm-error"]'),
			};
		})()`))
		if err != nil {
			t.Fatal(why(err))
		}
		return s
	}
	for _, w := range sweepWidths {
		if err := chromedp.Do(b, chromedp.EmulateViewport(w.w, w.h)); err != nil {
			t.Fatal(err)
		}
		navigate(t, b, e.ts.URL+del)
		waitVisible(t, b, feedSel)
		s := state()
		if len(s.Rows) != 2 || !strings.Contains(s.Rows[0]+s.Rows[1], "Frank Feed") || !strings.Contains(s.Rows[0]+s.Rows[1], board.ClientID) {
			t.Errorf("at %d px the apps listed: %q, want Frank Board and Frank Feed with their client ids", w.w, s.Rows)
		}
		if strings.Join(s.Links, " ") != "/admin/apps/"+board.ClientID+" /admin/apps/"+feed.ClientID {
			t.Errorf("app links %v", s.Links)
		}
		if s.Default != "root" || s.Pickers != 2 {
			t.Errorf("at %d px: new owner of every app %q (want the acting administrator, root), %d per-app pickers", w.w, s.Default, s.Pickers)
		}
		if !strings.Contains(strings.Join(s.Options, " "), grace.Username) || strings.Contains(" "+strings.Join(s.Options, " ")+" ", " "+henry.Username+" ") ||
			strings.Contains(" "+strings.Join(s.Options, " ")+" ", " "+frank.Username+" ") {
			t.Errorf("the picker offers %v: want active users (grace), not henry (disabled) nor frank (leaving)", s.Options)
		}
		if s.Overflow || len(s.Clipped) > 0 {
			t.Errorf("at %d px the confirmation scrolls sideways (%v) or cuts controls: %v", w.w, s.Overflow, s.Clipped)
		}
		screenshot(t, b, "handover-confirm-"+w.name+".png")
	}

	// A bad choice for each app: each reason beside its app, nothing lost.
	fill(t, b, feedSel+` [data-testid="app-new-owner"]`, "nobody-here")
	fill(t, b, boardSel+` [data-testid="app-new-owner"]`, henry.Username)
	if status := clickAndWait(t, b, `[data-testid="confirm-submit"]`); status != http.StatusBadRequest {
		t.Fatalf("delete with bad new owners: status %d, want 400", status)
	}
	s := state()
	if !strings.Contains(s.FeedError, "No user is named nobody-here") || !strings.Contains(s.BoardErr, henry.Username+" is disabled") {
		t.Errorf("errors beside the apps: Frank Feed %q, Frank Board %q", s.FeedError, s.BoardErr)
	}
	if s.FeedValue != "nobody-here" || s.BoardVal != henry.Username || s.Default != "" && s.Default != "root" || s.Summary == "" {
		t.Errorf("after the refusal: values %q %q, default %q, summary %q", s.FeedValue, s.BoardVal, s.Default, s.Summary)
	}
	if s.Overflow || len(s.Clipped) > 0 {
		t.Errorf("the refused confirmation at 400 px scrolls sideways or cuts controls: %v", s.Clipped)
	}
	screenshot(t, b, "handover-confirm-errors-phone.png")
	if u, err := e.ts.App.Admin.User(ctx, frank.ID); err != nil || u.DeletedAt != nil {
		t.Fatalf("frank after a refused delete: %+v %v, want him still there", u.DeletedAt, err)
	}
	for _, id := range []string{feed.ClientID, board.ClientID} {
		if owners, _ := e.ts.App.Admin.AppOwners(ctx, id); len(owners) != 1 || owners[0].UserID != frank.ID {
			t.Errorf("%s's owners after a refused delete: %+v, want frank alone", id, owners)
		}
	}
	if evs, _, _ := e.ts.App.Admin.AuditEvents(ctx, audit.Filter{UserID: frank.ID, Action: audit.ActionAppHandOver}); len(evs) != 0 {
		t.Errorf("hand-overs recorded although the delete was refused: %d", len(evs))
	}

	// Grace takes Frank Feed, bob Frank Board.
	if err := chromedp.Do(b, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}
	fill(t, b, feedSel+` [data-testid="app-new-owner"]`, grace.Username)
	fill(t, b, boardSel+` [data-testid="app-new-owner"]`, bob.Username)
	if status := clickAndWait(t, b, `[data-testid="confirm-submit"]`); status != http.StatusOK {
		t.Fatalf("delete with a new owner per app: status %d", status)
	}
	if f := textOf(t, b, `[data-testid="flash"]`); !strings.Contains(f, "2 apps were handed over to 2 new owners") {
		t.Errorf("flash after the delete: %q", f)
	}
	if u, _ := e.ts.App.Admin.User(ctx, frank.ID); u.DeletedAt == nil {
		t.Fatal("frank is not deleted")
	}
	for _, c := range []struct {
		app registeredApp
		to  lcUser
	}{{feed, grace}, {board, bob}} {
		// The app's Owners tab lists exactly its chosen owner.
		page := e.admin.get("/admin/apps/" + c.app.ClientID + "?tab=owners")
		var rows []string
		for _, part := range strings.Split(page.Body, `data-testid="admin-owner-row" data-username="`)[1:] {
			rows = append(rows, part[:strings.Index(part, `"`)])
		}
		if strings.Join(rows, ",") != c.to.Username {
			t.Errorf("%s's owners page lists %v, want %s alone", c.app.ClientID, rows, c.to.Username)
		}
		if !strings.Contains(page.Body, `id="panel-owners" aria-labelledby="tab-owners" tabindex="0" data-testid="panel-owners"`) {
			t.Errorf("?tab=owners does not show the owners panel")
		}
		evs, _, err := e.ts.App.Admin.AuditEvents(ctx, audit.Filter{AppID: c.app.ClientID, Action: audit.ActionAppHandOver})
		if err != nil || len(evs) != 1 || evs[0].Details["to_username"] != c.to.Username || evs[0].Details["from_username"] != frank.Username ||
			evs[0].Details["reason"] != "user deleted" || evs[0].Actor != "root" {
			t.Errorf("%s's hand-over events: %+v %v", c.app.ClientID, evs, err)
		}
		// The app's activity names the deleted user as such.
		act := lcText(e.admin.get("/admin/apps/" + c.app.ClientID + "/activity").Body)
		if !strings.Contains(act, frank.Username+" (deleted)") {
			t.Errorf("%s's activity does not say %s (deleted): %.400s", c.app.ClientID, frank.Username, act)
		}
		if ok, _ := e.ts.App.Admin.IsOwner(ctx, c.app.ClientID, c.to.ID); !ok {
			t.Errorf("%s does not own %s", c.to.Username, c.app.ClientID)
		}
	}
}
