package admin_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// fixture is the admin service over a real, migrated SQLite file.
type fixture struct {
	svc *admin.Service
	db  *store.DB
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test"})
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "oauthdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.SetClock(func() time.Time { return t0 })
	return &fixture{svc: admin.NewService(db, scope.Default(), func() time.Time { return t0 }, 0), db: db, ctx: ctx}
}

const pw = "a long enough password"

func (f *fixture) user(t *testing.T, name string, role domain.Role) domain.User {
	t.Helper()
	u, err := f.svc.CreateUser(f.ctx, admin.NewUser{Username: name, Role: role, Password: pw})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func registration(name string) domain.Registration {
	return domain.Registration{Name: name, Company: "Fabrikam", AppURL: "https://fabrikam.example",
		CallbackURL: "https://fabrikam.example/cb", Scopes: []string{"vso.work"}}
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !apperr.Is(err, code) {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// lastAudit returns the newest audit event.
func (f *fixture) lastAudit(t *testing.T) audit.Event {
	t.Helper()
	ev, _, err := f.svc.AuditEvents(f.ctx, audit.Filter{Limit: 1})
	if err != nil || len(ev) == 0 {
		t.Fatalf("audit: %v %v", ev, err)
	}
	return ev[0]
}

func TestRegistrationPolicy(t *testing.T) {
	cases := []struct {
		policy     string
		role       domain.Role
		wantStatus string
		wantErr    apperr.Code
	}{
		{"", domain.RoleMember, domain.AppActive, ""}, // the default is members
		{domain.PolicyMembers, domain.RoleMember, domain.AppActive, ""},
		{domain.PolicyMembers, domain.RoleAdmin, domain.AppActive, ""},
		{domain.PolicyApproval, domain.RoleMember, domain.AppPending, ""},
		{domain.PolicyApproval, domain.RoleAuditor, domain.AppPending, ""},
		{domain.PolicyApproval, domain.RoleAdmin, domain.AppActive, ""},
		{domain.PolicyAdmins, domain.RoleMember, "", apperr.Forbidden},
		{domain.PolicyAdmins, domain.RoleAuditor, "", apperr.Forbidden},
		{domain.PolicyAdmins, domain.RoleAdmin, domain.AppActive, ""},
	}
	for _, c := range cases {
		t.Run(c.policy+"/"+string(c.role), func(t *testing.T) {
			f := newFixture(t)
			if c.policy != "" {
				wantCode(t, f.svc.SetRegistrationPolicy(f.ctx, c.policy), "")
				if got := f.lastAudit(t); got.Action != audit.ActionPolicySet || got.Details["after"] != c.policy {
					t.Errorf("audit %s %v, want policy.set after=%s", got.Action, got.Details, c.policy)
				}
			}
			u := f.user(t, "dev", c.role)
			res, err := f.svc.RegisterOwnApp(f.ctx, u, registration("Boards"))
			wantCode(t, err, c.wantErr)
			if err != nil {
				page, _ := f.svc.ListApps(f.ctx, domain.AppFilter{})
				if len(page.Apps) != 0 {
					t.Errorf("a refused registration stored %d apps", len(page.Apps))
				}
				return
			}
			got, err := f.svc.App(f.ctx, res.App.ClientID)
			if err != nil || got.App.Status != c.wantStatus {
				t.Fatalf("stored status %q (%v), want %q", got.App.Status, err, c.wantStatus)
			}
			if ok, _ := f.svc.IsOwner(f.ctx, res.App.ClientID, u.ID); !ok {
				t.Error("the registering user does not own the app")
			}
		})
	}
	t.Run("an unknown policy is refused", func(t *testing.T) {
		f := newFixture(t)
		wantCode(t, f.svc.SetRegistrationPolicy(f.ctx, "everyone"), apperr.Invalid)
		if p, _ := f.svc.RegistrationPolicy(f.ctx); p != domain.PolicyMembers {
			t.Errorf("policy %q after a refused change, want members", p)
		}
	})
}

func TestReviewApp(t *testing.T) {
	f := newFixture(t)
	wantCode(t, f.svc.SetRegistrationPolicy(f.ctx, domain.PolicyApproval), "")
	dev := f.user(t, "dev", domain.RoleMember)
	pending, err := f.svc.RegisterOwnApp(f.ctx, dev, registration("Pending"))
	wantCode(t, err, "")
	cases := []struct {
		name    string
		approve bool
		reason  string
		want    apperr.Code
		status  string
	}{
		{"a rejection needs a reason", false, "  ", apperr.Invalid, domain.AppPending},
		{"rejected with a reason", false, "Use the company's callback domain.", "", domain.AppRejected},
		{"only a pending app is reviewed", true, "", apperr.Conflict, domain.AppRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.ReviewApp(f.ctx, pending.App.ClientID, c.approve, c.reason)
			wantCode(t, err, c.want)
			got, _ := f.svc.App(f.ctx, pending.App.ClientID)
			if got.App.Status != c.status {
				t.Errorf("status %q, want %q", got.App.Status, c.status)
			}
		})
	}
	got, _ := f.svc.App(f.ctx, pending.App.ClientID)
	if got.App.ReviewNote != "Use the company's callback domain." {
		t.Errorf("review note %q", got.App.ReviewNote)
	}
	// The owner fixes the registration: it goes back for review, then an
	// admin approves it.
	if _, err := f.svc.UpdateApp(f.ctx, pending.App.ClientID, registration("Fixed")); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.App(f.ctx, pending.App.ClientID); got.App.Status != domain.AppPending || got.App.ReviewNote != "" {
		t.Errorf("after the owner's edit: %q %q, want pending with no note", got.App.Status, got.App.ReviewNote)
	}
	if _, err := f.svc.ReviewApp(f.ctx, pending.App.ClientID, true, ""); err != nil {
		t.Fatal(err)
	}
	if ev := f.lastAudit(t); ev.Action != audit.ActionAppApprove || ev.TargetID != pending.App.ClientID {
		t.Errorf("audit %s %s, want app.approve of the app", ev.Action, ev.TargetID)
	}
}

func TestLastAdminRule(t *testing.T) {
	ops := []struct {
		name string
		do   func(f *fixture, id string) error
	}{
		{"demote", func(f *fixture, id string) error { _, err := f.svc.SetRole(f.ctx, id, domain.RoleMember); return err }},
		{"demote to auditor", func(f *fixture, id string) error { _, err := f.svc.SetRole(f.ctx, id, domain.RoleAuditor); return err }},
		{"disable", func(f *fixture, id string) error { _, err := f.svc.SetDisabled(f.ctx, id, true); return err }},
		{"delete", func(f *fixture, id string) error { _, err := f.svc.DeleteUser(f.ctx, id); return err }},
	}
	for _, op := range ops {
		t.Run(op.name+" the only admin", func(t *testing.T) {
			f := newFixture(t)
			root := f.user(t, "root", domain.RoleAdmin)
			f.user(t, "bob", domain.RoleMember)
			wantCode(t, op.do(f, root.ID), apperr.Conflict)
			got, _ := f.svc.User(f.ctx, root.ID)
			if got.Role != domain.RoleAdmin || !got.Active() {
				t.Errorf("root after a refused %s: role %s active %v", op.name, got.Role, got.Active())
			}
		})
		t.Run(op.name+" one of two admins", func(t *testing.T) {
			f := newFixture(t)
			root := f.user(t, "root", domain.RoleAdmin)
			other := f.user(t, "other", domain.RoleAdmin)
			wantCode(t, op.do(f, root.ID), "")
			// Now other is the last active admin.
			wantCode(t, op.do(f, other.ID), apperr.Conflict)
		})
		t.Run(op.name+" an admin beside a disabled one", func(t *testing.T) {
			f := newFixture(t)
			root := f.user(t, "root", domain.RoleAdmin)
			other := f.user(t, "other", domain.RoleAdmin)
			if _, err := f.svc.SetDisabled(f.ctx, other.ID, true); err != nil {
				t.Fatal(err)
			}
			// A disabled admin is not an active one.
			wantCode(t, op.do(f, root.ID), apperr.Conflict)
		})
	}
	t.Run("members and auditors are not protected", func(t *testing.T) {
		f := newFixture(t)
		f.user(t, "root", domain.RoleAdmin)
		bob := f.user(t, "bob", domain.RoleMember)
		for _, op := range ops[:3] {
			wantCode(t, op.do(f, bob.ID), "")
		}
	})
}

func TestUsersSignIn(t *testing.T) {
	f := newFixture(t)
	f.user(t, "root", domain.RoleAdmin)
	bob := f.user(t, "bob", domain.RoleMember)
	_, wrongErr := f.svc.Authenticate(f.ctx, "bob", "not the password")
	if _, err := f.svc.SetDisabled(f.ctx, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "bob", pw)
	if !apperr.Is(err, apperr.Unauthorized) || apperr.ErrorMessage(err) != apperr.ErrorMessage(wrongErr) {
		t.Errorf("disabled user's sign-in: %v, want the wrong-password answer %v (it must not say why)", err, wrongErr)
	}
	if _, err := f.svc.SetDisabled(f.ctx, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(f.ctx, "bob", pw); err != nil {
		t.Errorf("enabled user's sign-in: %v", err)
	}

	otp, err := f.svc.ResetPassword(f.ctx, bob.ID)
	if err != nil || len(otp) < 20 {
		t.Fatalf("reset: %q %v", otp, err)
	}
	if _, err := f.svc.Authenticate(f.ctx, "bob", pw); err == nil {
		t.Error("the old password still works after a reset")
	}
	u, err := f.svc.Authenticate(f.ctx, "bob", otp)
	if err != nil || !u.MustChangePassword {
		t.Fatalf("sign-in with the one-time password: must change %v, %v", u.MustChangePassword, err)
	}

	cases := []struct {
		name, current, next, field string
	}{
		{"wrong current password", "nope", "a brand new password", "current_password"},
		{"too short", otp, "short pass", "new_password"},
		{"the same again", otp, otp, "new_password"},
		{"accepted", otp, "a brand new password", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.svc.ChangePassword(f.ctx, bob.ID, c.current, c.next)
			if c.field == "" {
				wantCode(t, err, "")
				return
			}
			wantCode(t, err, apperr.Invalid)
			if apperr.FieldErrors(err)[c.field] == "" {
				t.Errorf("no message at %s: %v", c.field, apperr.FieldErrors(err))
			}
		})
	}
	u, err = f.svc.Authenticate(f.ctx, "bob", "a brand new password")
	if err != nil || u.MustChangePassword {
		t.Errorf("after the change: must change %v, %v", u.MustChangePassword, err)
	}
	n, err := f.svc.DeleteUser(f.ctx, bob.ID)
	if err != nil || n != 0 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if got, err := f.svc.User(f.ctx, bob.ID); err != nil || got.DeletedAt == nil {
		t.Errorf("the deleted user's record: %+v %v, want kept with DeletedAt", got, err)
	}
	if _, err := f.svc.Authenticate(f.ctx, "bob", "a brand new password"); err == nil {
		t.Error("a deleted user signed in")
	}
}

func TestOwners(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice", domain.RoleMember)
	bob := f.user(t, "bob", domain.RoleMember)
	carol := f.user(t, "carol", domain.RoleMember)
	res, err := f.svc.RegisterOwnApp(f.ctx, alice, registration("Boards"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.App.ClientID
	owners := func() []string {
		list, err := f.svc.AppOwners(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range list {
			name := o.Username
			if o.Primary {
				name += "*"
			}
			out = append(out, name)
		}
		return out
	}
	steps := []struct {
		name string
		do   func() error
		want apperr.Code
		then []string
	}{
		{"the last owner cannot leave", func() error { return f.svc.RemoveOwner(f.ctx, id, alice.ID) }, apperr.Conflict, []string{"alice*"}},
		{"add a co-owner", func() error { _, err := f.svc.AddOwner(f.ctx, id, "bob"); return err }, "", []string{"alice*", "bob"}},
		{"adding twice conflicts", func() error { _, err := f.svc.AddOwner(f.ctx, id, "BOB"); return err }, apperr.Conflict, []string{"alice*", "bob"}},
		{"an unknown user", func() error { _, err := f.svc.AddOwner(f.ctx, id, "nobody"); return err }, apperr.NotFound, []string{"alice*", "bob"}},
		{"hand over to oneself", func() error { _, err := f.svc.HandOver(f.ctx, id, alice.ID, "alice"); return err }, apperr.Invalid, []string{"alice*", "bob"}},
		{"hand over to a non-owner", func() error { _, err := f.svc.HandOver(f.ctx, id, alice.ID, "carol"); return err }, apperr.Invalid, []string{"alice*", "bob"}},
		{"hand over to an unknown name", func() error { _, err := f.svc.HandOver(f.ctx, id, alice.ID, "nobody"); return err }, apperr.Invalid, []string{"alice*", "bob"}},
		{"carol joins", func() error { _, err := f.svc.AddOwner(f.ctx, id, "carol"); return err }, "", []string{"alice*", "bob", "carol"}},
		{"hand over to carol", func() error { _, err := f.svc.HandOver(f.ctx, id, alice.ID, "carol"); return err }, "", []string{"carol*", "bob"}},
		{"removing the primary promotes the other", func() error { return f.svc.RemoveOwner(f.ctx, id, carol.ID) }, "", []string{"bob*"}},
		{"a non-owner is not removed", func() error { return f.svc.RemoveOwner(f.ctx, id, alice.ID) }, apperr.NotFound, []string{"bob*"}},
		{"carol joins again", func() error { _, err := f.svc.AddOwner(f.ctx, id, "carol"); return err }, "", []string{"bob*", "carol"}},
		{"carol is disabled", func() error { _, err := f.svc.SetDisabled(f.ctx, carol.ID, true); return err }, "", []string{"bob*", "carol"}},
		{"the last active owner cannot leave", func() error { return f.svc.RemoveOwner(f.ctx, id, bob.ID) }, apperr.Conflict, []string{"bob*", "carol"}},
		{"a disabled owner is removed", func() error { return f.svc.RemoveOwner(f.ctx, id, carol.ID) }, "", []string{"bob*"}},
	}
	for _, st := range steps {
		wantCode(t, st.do(), st.want)
		if got := owners(); !equal(got, st.then) {
			t.Errorf("%s: owners %v, want %v", st.name, got, st.then)
		}
	}
	if ok, _ := f.svc.IsOwner(f.ctx, id, alice.ID); ok {
		t.Error("alice still owns the app she handed over")
	}
	if ok, _ := f.svc.IsOwner(f.ctx, id, bob.ID); !ok {
		t.Error("bob does not own the app")
	}
	page, err := f.svc.ListApps(f.ctx, domain.AppFilter{OwnerID: bob.ID})
	if err != nil || len(page.Apps) != 1 || page.Apps[0].OwnerUsername != "bob" {
		t.Errorf("bob's apps: %+v %v", page.Apps, err)
	}
	if page, _ := f.svc.ListApps(f.ctx, domain.AppFilter{OwnerID: alice.ID}); len(page.Apps) != 0 {
		t.Errorf("alice's apps: %d, want 0", len(page.Apps))
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUpdateApp(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice", domain.RoleMember)
	res, err := f.svc.RegisterOwnApp(f.ctx, alice, registration("Boards"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.App.ClientID
	cases := []struct {
		name    string
		edit    func(r *domain.Registration)
		want    apperr.Code
		field   string
		changed []string
	}{
		{"http callback refused", func(r *domain.Registration) { r.CallbackURL = "http://fabrikam.example/cb" }, apperr.Invalid, domain.FieldCallbackURL, nil},
		{"empty name refused", func(r *domain.Registration) { r.Name = "" }, apperr.Invalid, domain.FieldName, nil},
		{"unknown scope refused", func(r *domain.Registration) { r.Scopes = []string{"vso.nope"} }, apperr.Invalid, domain.FieldScopes, nil},
		{"no change", func(r *domain.Registration) {}, "", "", nil},
		{"new callback and name", func(r *domain.Registration) {
			r.CallbackURL, r.Name = "https://fabrikam.example/new-cb", "Boards 2"
		}, "", "", []string{domain.FieldCallbackURL, domain.FieldName}},
		{"widened scopes", func(r *domain.Registration) {
			r.CallbackURL, r.Name, r.Scopes = "https://fabrikam.example/new-cb", "Boards 2", []string{"vso.work", "vso.code"}
		}, "", "", []string{domain.FieldScopes}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seqBefore := f.lastAudit(t).Seq
			reg := registration("Boards")
			c.edit(&reg)
			ed, err := f.svc.UpdateApp(f.ctx, id, reg)
			wantCode(t, err, c.want)
			if err != nil {
				if apperr.FieldErrors(err)[c.field] == "" {
					t.Errorf("no message at %s: %v", c.field, apperr.FieldErrors(err))
				}
				if f.lastAudit(t).Seq != seqBefore {
					t.Error("a refused edit was audited")
				}
				return
			}
			if len(ed.Changes) != len(c.changed) {
				t.Errorf("changes %v, want %v", ed.Changes, c.changed)
			}
			ev := f.lastAudit(t)
			if ev.Action != audit.ActionAppUpdate || ev.TargetID != id {
				t.Fatalf("audit %s %s", ev.Action, ev.TargetID)
			}
			changes, _ := ev.Details["changes"].(map[string]any)
			for _, k := range c.changed {
				ch, _ := changes[k].(map[string]any)
				if ch == nil || ch["before"] == nil || ch["after"] == nil {
					t.Errorf("audit lacks before/after of %s: %v", k, ev.Details)
				}
			}
		})
	}
	got, _ := f.svc.App(f.ctx, id)
	if got.App.CallbackURL != "https://fabrikam.example/new-cb" || got.App.Name != "Boards 2" || len(got.App.Scopes) != 2 {
		t.Errorf("stored registration %+v", got.App.Registration)
	}
}
