package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/reports"
	"github.com/oauthdesk/oauthdesk/views"
)

// Expiry is the secret-expiry read model of the overview (implemented
// by *admin.ExpiryService).
type Expiry interface {
	ExpiryOverview(ctx context.Context, t domain.ExpiryThresholds) (reports.ExpiryOverview, error)
}

// overviewChanges is how many pending changes the overview shows with
// their diff (the rest are on /admin/changes).
const overviewChanges = 5

// overview is /admin: secrets per expiry state, the next to expire, and an
// SVG chart of expiries per month for the next 24 months (no JS needed).
func (s *Server) overview(c echo.Context) error {
	o, err := s.cfg.Expiry.ExpiryOverview(c.Request().Context(), s.cfg.Thresholds)
	if err != nil {
		return err
	}
	now := s.now()
	counts, err := s.cfg.Apps.OverviewCounts(c.Request().Context())
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	p := views.OverviewPage{Nav: s.nav(c, "overview"), WarnDays: s.cfg.Thresholds.Days(), PendingApps: counts.PendingApps,
		CanReview: u.Role == domain.RoleAdmin,
		Flash:     s.sessions.PopString(c.Request().Context(), sessFlash)}
	p.PendingChanges = -1
	if s.cfg.Changes != nil {
		if p.PendingChanges, err = s.cfg.Changes.CountWaiting(c.Request().Context()); err != nil {
			return err
		}
	}
	if p.PendingChanges > 0 {
		changes, _, err := s.cfg.Changes.Oldest(c.Request().Context(), overviewChanges)
		if err != nil {
			return err
		}
		for _, d := range changes {
			p.Changes = append(p.Changes, s.pendingChangeView(d))
		}
	}
	if counts.PendingApps > 0 {
		queue, err := s.cfg.Apps.ListApps(c.Request().Context(), domain.AppFilter{Status: domain.AppPending, Limit: 10})
		if err != nil {
			return err
		}
		for _, a := range queue.Apps {
			p.Queue = append(p.Queue, s.queueRow(a, now))
		}
	}
	for _, st := range []struct {
		state domain.ExpiryState
		label string
	}{{domain.StateOK, "secrets ok"}, {domain.StateExpiring, "secrets expiring"}, {domain.StateCritical, "secrets critical"}, {domain.StateExpired, "secrets expired"}} {
		url := "/admin/apps"
		if st.state != domain.StateOK {
			url += "?state=" + string(st.state)
		}
		p.Counts = append(p.Counts, views.StateCount{State: string(st.state), Label: st.label, Count: o.Counts[st.state], URL: url})
	}
	maxCount := 1
	for _, m := range o.Months {
		maxCount = max(maxCount, m.Count)
	}
	// pad keeps the first month's label (centred under its bar) inside
	// the chart.
	const barW, gap, top, base, pad = 24, 6, 20, 170, 16
	p.ChartWidth = len(o.Months)*(barW+gap) + gap + 2*pad
	for i, m := range o.Months {
		h := m.Count * (base - top) / maxCount
		b := views.ChartBar{X: pad + gap + i*(barW+gap), Y: base - h, W: barW, H: h, Count: m.Count,
			Title: m.Month.Format("January 2006") + ": " + plural(int64(m.Count), "secret expires", "secrets expire")}
		if i%3 == 0 {
			b.Label = m.Month.Format("Jan 06")
		}
		p.Bars = append(p.Bars, b)
	}
	for _, r := range o.Next {
		p.Next = append(p.Next, expiryRowView(r))
	}
	p.ExpiredCount = o.Counts[domain.StateExpired]
	if s.cfg.Attention == nil { // not wired (web tests): the next to expire as they come
		p.Upcoming = p.Next
	} else {
		att, err := s.cfg.Attention.Secrets(c.Request().Context(), s.cfg.Thresholds, 10)
		if err != nil {
			return err
		}
		for _, r := range att.Upcoming {
			p.Upcoming = append(p.Upcoming, expiryRowView(r))
		}
		for _, r := range att.Expired {
			p.Expired = append(p.Expired, expiryRowView(r))
		}
		for _, r := range att.Cleanup {
			p.Cleanup = append(p.Cleanup, expiryRowView(r))
		}
	}
	return render(c, http.StatusOK, views.Overview(p))
}

func expiryRowView(r reports.ExpiryRow) views.ExpiryRowView {
	return views.ExpiryRowView{ClientID: r.ClientID, AppName: r.AppName, Slot: r.Slot, Expires: day(r.ExpiresAt),
		State: string(r.State), DaysLeft: r.DaysLeft, Left: r.Left, ActiveAuthorizations: r.ActiveAuthorizations}
}

// queueRow is an app of the approval queue: who asked, when, and its
// scopes with their high-privilege flags.
func (s *Server) queueRow(a domain.App, now time.Time) views.AppRow {
	r := s.appRow(a, now)
	r.ScopeViews = s.scopeViews(a.Scopes)
	for _, v := range r.ScopeViews {
		if v.HighPrivilege {
			r.HighPrivilege++
		}
	}
	return r
}

// SecretAttention is the overview's secrets that need attention
// (implemented by *admin.Attention).
type SecretAttention interface {
	Secrets(ctx context.Context, t domain.ExpiryThresholds, limit int) (admin.SecretAttention, error)
}
