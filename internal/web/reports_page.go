package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/views"
)

// reportsPage is /admin/reports: schedule, next run, sinks, and the runs
// (failed deliveries in red).
func (s *Server) reportsPage(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	p := views.ReportsPage{Nav: s.nav(c, "reports"), CanManage: u.Role == domain.RoleAdmin, Flash: s.sessions.PopString(ctx, sessFlash)}
	if r := s.cfg.Reports; r != nil {
		p.Schedule = r.Schedule()
		for _, name := range r.Sinks() {
			p.Sinks = append(p.Sinks, safeout.RedactSinkName(name))
		}
		if next := r.Next(); !next.IsZero() {
			p.Next = next.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		runs, err := r.Runs(ctx, 100)
		if err != nil {
			return err
		}
		for _, x := range runs {
			p.Runs = append(p.Runs, views.ReportRunView{Started: x.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Trigger: x.Trigger,
				Sink: safeout.RedactSinkName(x.Sink), Outcome: x.Outcome, Error: x.Error, Rows: x.Rows, Attempts: x.Attempts, Failed: x.Outcome != "ok"})
		}
	}
	if s.pats != nil {
		p.HasPATs, p.PATsURL = true, "/admin/tokens?state=active&expiring=30"
		page, err := s.cfg.PATAdmin.List(ctx, domain.PATFilter{State: domain.PATActive, ExpiringDays: 30, Sort: "expires", Limit: 50})
		if err != nil {
			return err
		}
		for _, t := range page.Tokens {
			p.PATs = append(p.PATs, s.patRow(t))
		}
	}
	return render(c, http.StatusOK, views.Reports(p))
}

// reportsRun is POST /admin/reports/run: runs the expiry report now.
func (s *Server) reportsRun(c echo.Context) error {
	if s.cfg.Reports == nil {
		return apperr.Errorf(apperr.Conflict, "Reports are not configured.")
	}
	start := time.Now()
	runs, err := s.cfg.Reports.Run(c.Request().Context(), "manual")
	if apperr.Is(err, apperr.Conflict) {
		return err
	}
	switch {
	case runs == nil && err == nil:
		return s.flashTo(c, "/admin/reports", "Another replica is running the report right now; try again in a minute.")
	case err != nil:
		return s.flashTo(c, "/admin/reports", "The report ran, but some sinks failed: "+err.Error()+". They will be tried again on the next run.")
	}
	return s.flashTo(c, "/admin/reports", "The report was delivered to "+plural(int64(len(runs)), "sink", "sinks")+" in "+time.Since(start).Round(time.Millisecond).String()+".")
}

// reportsRunConfirm is GET /admin/reports/run: where the report goes,
// before it is sent.
func (s *Server) reportsRunConfirm(c echo.Context) error {
	if s.cfg.Reports == nil {
		return apperr.Errorf(apperr.Conflict, "Reports are not configured.")
	}
	var sinks []string
	for _, name := range s.cfg.Reports.Sinks() {
		sinks = append(sinks, safeout.RedactSinkName(name)) // as the reports page shows them: no credentials
	}
	p := views.ConfirmPage{Nav: views.Nav{Active: "reports"}, Title: "Run the expiry report now?",
		Message: "The report of secrets and tokens expiring soon is built now and sent to every sink, besides its schedule.",
		Action:  "/admin/reports/run", Button: "Run now", Cancel: "/admin/reports"}
	if sch := s.cfg.Reports.Schedule(); sch != "" {
		p.Message = "The report of secrets and tokens expiring soon is built now and sent to every sink, besides its schedule (" + sch + ")."
	}
	if len(sinks) == 0 {
		p.Impact = []string{"No sink is configured: the run would fail. Configure one first."}
	} else {
		p.Impact = []string{"Sent to: " + strings.Join(sinks, ", ") + "."}
	}
	return s.confirm(c, p)
}
