package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/views"
)

// overview is /admin: secrets per expiry state, the next to expire, and an
// SVG chart of expiries per month for the next 24 months (no JS needed).
func (s *Server) overview(c echo.Context) error {
	o, err := s.admin.ExpiryOverview(c.Request().Context(), s.cfg.Thresholds)
	if err != nil {
		return err
	}
	now := s.now()
	counts, err := s.admin.OverviewCounts(c.Request().Context())
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
	if counts.PendingApps > 0 {
		queue, err := s.admin.ListApps(c.Request().Context(), domain.AppFilter{Status: domain.AppPending, Limit: 10})
		if err != nil {
			return err
		}
		for _, a := range queue.Apps {
			p.Queue = append(p.Queue, s.appRow(a, now))
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
	const barW, gap, top, base = 24, 6, 20, 170
	p.ChartWidth = len(o.Months)*(barW+gap) + gap
	for i, m := range o.Months {
		h := m.Count * (base - top) / maxCount
		b := views.ChartBar{X: gap + i*(barW+gap), Y: base - h, W: barW, H: h, Count: m.Count,
			Title: m.Month.Format("January 2006") + ": " + strconv.Itoa(m.Count) + " secret(s) expire"}
		if i%3 == 0 {
			b.Label = m.Month.Format("Jan 06")
		}
		p.Bars = append(p.Bars, b)
	}
	for _, r := range o.Next {
		p.Next = append(p.Next, views.ExpiryRowView{ClientID: r.ClientID, AppName: r.AppName, Slot: r.Slot,
			Expires: day(r.ExpiresAt), State: string(r.State), DaysLeft: r.DaysLeft, ActiveAuthorizations: r.ActiveAuthorizations})
	}
	return render(c, http.StatusOK, views.Overview(p))
}
