package web

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/oauthdesk/oauthdesk/assets"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/scope"
)

// OAuth is the protocol the web layer serves (implemented by
// *oauth.Service).
type OAuth interface {
	CheckAuthorize(ctx context.Context, userID string, req oauth.AuthorizeRequest) (oauth.Consent, error)
	Decide(ctx context.Context, userID string, req oauth.AuthorizeRequest, accept bool) (oauth.Decision, error)
	Token(ctx context.Context, req oauth.TokenRequest) (oauth.TokenResponse, error)
	Authenticate(ctx context.Context, header string) (oauth.Principal, error)
	Require(p oauth.Principal, scope string) error
	RecordUse(p oauth.Principal, scope string)
	Keys() *oauth.KeySet
}

// Config is the web layer's configuration.
type Config struct {
	// The administration slices the dashboard calls (implemented by
	// internal/admin's use cases; each interface is declared in the
	// handler file of its slice). Every one is required.
	SignIn         SignIn         // auth.go
	Users          Users          // users.go
	Apps           Apps           // apps.go
	Owners         Owners         // owners.go
	Secrets        Secrets        // secrets.go
	Authorizations Authorizations // authorizations.go
	Settings       Settings       // settings.go
	Scopes         Scopes         // scopes.go
	AppScopes      AppScopes      // scopes.go
	Expiry         Expiry         // overview.go
	Audit          Audit          // audit_pages.go
	Import         Import         // import.go

	BaseURL        string // e.g. http://127.0.0.1:8080; https turns on Secure cookies and HSTS
	SessionStore   scs.Store
	SessionTimeout time.Duration // idle timeout of a dashboard session; default 2 hours
	Thresholds     domain.ExpiryThresholds
	Metrics        http.Handler // served at /metrics when set
	// MetricsToken, when set, is the Bearer token /metrics requires.
	MetricsToken string
	// MetricsNeedToken refuses /metrics (403) while MetricsToken is empty:
	// set when the server listens on a non-loopback address.
	MetricsNeedToken bool
	Reports          ReportRunner
	// Ready checks the dependencies /readyz reports (the database takes a
	// write); nil: /readyz answers ready.
	Ready func(ctx context.Context) error
	// TrustedProxies are the peers whose X-Forwarded-For / X-Real-IP are
	// honoured; empty: the client address is always the TCP peer.
	TrustedProxies []*net.IPNet
	// SignInPerMinute bounds POST /signin per client address (0: 20; < 0:
	// no limit).
	SignInPerMinute int
	// TokenPerMinute bounds POST /oauth2/token per client address (0:
	// DefaultTokenPerMinute; < 0: no limit).
	TokenPerMinute int
	// Changes holds members' edits of approved apps for review; nil: every
	// edit applies at once.
	Changes AppChanges
	// Invitations are how an app gains co-owners; nil: owners add co-owners
	// directly (Owners.AddOwner).
	Invitations OwnerInvitations
	// ClientGrants is the app's own grants (client_credentials); nil: the
	// app page has no such section.
	ClientGrants ClientGrants
	// Activity reads the audit log by app and user with the names it
	// mentions (Activity tabs, the audit page's links); nil: ids unnamed.
	Activity ActivityReader
	// Attention lists the secrets that need attention on the overview;
	// nil: only the next to expire.
	Attention SecretAttention
	// Offboarding deletes and disables users handing over the apps they
	// alone own; nil: deleting and disabling leave those apps as they are.
	Offboarding UserOffboarding
	// DirectorySignIn is sign-in through directory connectors
	// (directory_signin.go); nil: none.
	DirectorySignIn DirectorySignIn
	// Connectors is the connector configuration pages (connectors.go);
	// nil: none.
	Connectors Connectors
	// PATs is a person's own personal access tokens (pats.go; nil: no
	// token pages or APIs, and the other PAT fields are unused). With it
	// the others are required: PATAdmin (pats_admin.go), PATPolicies
	// (pats_admin.go), PATNotices (pats.go), PATRules and LeakedPATs
	// (pats_api.go). PATUsage batches their last uses.
	PATs        PATs
	PATAdmin    PATAdmin
	PATPolicies PATPolicies
	PATNotices  PATNotices
	PATRules    PATRules
	LeakedPATs  LeakedPATs
	PATUsage    PATUsage
	// SignInFailures counts failed sign-ins and wrong current passwords
	// per username and address (signinKey); nil: in memory, per process
	// (limit.Failures). The server passes limit.SharedFailures on
	// PostgreSQL so that replicas share one budget.
	SignInFailures limit.FailureLimiter
	// AdminAPI is the admin REST API's use cases (/_apis/oauthdesk/v1/,
	// adminapi.go); zero: no admin API.
	AdminAPI AdminAPI
	// Jobs reports the server's background jobs, listed for administrators
	// on /admin/settings; nil: no such section.
	Jobs JobStatuses
}

// csrfCookie holds the CSRF token (Echo's double-submit cookie).
const csrfCookie = "oauthdesk_csrf"

// DefaultTokenPerMinute is the default per-address limit of the token
// endpoint: generous (100 a second sustained), it only stops floods.
const DefaultTokenPerMinute = 6000

// ReportRunner is the expiry-report scheduler (implemented by
// *jobs.Scheduler).
type ReportRunner interface {
	Schedule() string
	Next() time.Time
	Sinks() []string
	Runs(ctx context.Context, limit int) ([]domain.ReportRun, error)
	Run(ctx context.Context, trigger string) ([]domain.ReportRun, error)
}

// Server is the HTTP handler of oauthdesk.
type Server struct {
	cfg         Config
	oauth       OAuth
	oidc        OIDC // nil when the OAuth does not implement it (test fakes)
	scopes      *scope.Catalog
	sessions    *scs.SessionManager
	log         *slog.Logger
	now         func() time.Time
	echo        *echo.Echo
	signinAddr  *limit.Keyed         // POST /signin per address; nil: off
	signinFails limit.FailureLimiter // failed sign-ins per username and address
	tokenAddr   *limit.Keyed         // POST /oauth2/token per address; nil: off
	pats        PATs                 // nil: personal access tokens are off
	patUsage    PATUsage
	// browserChain is the middleware of browser pages (session, CSRF,
	// signed-in user), also run by the APIs a dashboard session may call.
	browserChain []echo.MiddlewareFunc
}

// New builds the server and its routes.
func New(cfg Config, o OAuth, cat *scope.Catalog, log *slog.Logger, now func() time.Time) *Server {
	sm := scs.New()
	sm.Store = HashSessionTokens(cfg.SessionStore)
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = cfg.SessionTimeout
	if sm.IdleTimeout <= 0 {
		sm.IdleTimeout = 2 * time.Hour
	}
	sm.Cookie.Name = "oauthdesk_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secureBase(cfg.BaseURL)
	sm.Cookie.Path = "/"
	if cfg.Thresholds.Expiring == 0 {
		cfg.Thresholds = domain.DefaultThresholds
	}
	s := &Server{cfg: cfg, oauth: o, scopes: cat, sessions: sm, log: log, now: now,
		signinFails: cfg.SignInFailures, pats: cfg.PATs, patUsage: cfg.PATUsage}
	if s.signinFails == nil {
		s.signinFails = limit.LocalFailures{F: limit.NewFailures(now)}
	}
	s.oidc, _ = o.(OIDC)
	if n := cfg.SignInPerMinute; n >= 0 {
		s.signinAddr = limit.NewKeyed(cmp.Or(n, 20), time.Minute, now)
	}
	if n := cfg.TokenPerMinute; n >= 0 {
		s.tokenAddr = limit.NewKeyed(cmp.Or(n, DefaultTokenPerMinute), time.Minute, now)
	}
	s.echo = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func secureBase(base string) bool { return strings.HasPrefix(strings.ToLower(base), "https://") }

// routes builds the middleware stack and the routes in one place.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = ipExtractor(s.cfg.TrustedProxies)
	e.Use(middleware.RequestID())
	e.Use(s.requestLog())
	e.Use(middleware.Recover()) // inside the request log: a recovered panic is logged as its 500
	e.Use(middleware.BodyLimit("1M"))
	secure := middleware.SecureConfig{
		XSSProtection:         "",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "no-referrer",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
	}
	if secureBase(s.cfg.BaseURL) {
		secure.HSTSMaxAge = 31536000
	}
	e.Use(middleware.SecureWithConfig(secure))

	// Machine endpoints: no session, no CSRF (no cookies are read). The
	// protocol's endpoints come from one table (oidc_discovery.go) below.
	// POST /oauth2/authorize is a token request (some clients post the
	// token body there), an authorization request, or the approval form,
	// which runs the browser chain below.
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyz)
	if s.cfg.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(s.cfg.Metrics), s.metricsAuth)
	}
	e.GET("/assets/*", echo.WrapHandler(http.StripPrefix("/assets/", cacheAssets(noDirs(assets.FS, http.FileServer(http.FS(assets.FS)))))))

	// Browser pages: sessions, CSRF, the signed-in user.
	csrfSecure := secureBase(s.cfg.BaseURL)
	browser := []echo.MiddlewareFunc{s.withSession, middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   csrfSecure,
		CookieSameSite: http.SameSiteStrictMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return &echo.HTTPError{Code: http.StatusForbidden, Message: "The form expired or came from another site. Go back, reload the page and try again.", Internal: err}
		},
	}), s.loadUser, s.withActor}
	s.browserChain = browser
	api := e.Group("/_apis", noStore)
	for _, r := range s.apiRoutes() {
		api.Add(r.Method, r.Path, r.Handler, s.apiAuth(r), s.requireAPI(r))
	}
	s.routeAdminAPI(e)
	if s.pats != nil {
		api.POST("/tokens/pats/leaked", s.apiPATsLeaked) // a scanner token, not a user's
	}
	b := e.Group("", browser...)
	decide := s.decide
	for i := len(browser) - 1; i >= 0; i-- {
		decide = browser[i](decide)
	}
	// A POSTed authorization request (OIDC Core §3.1.2.1) arrives
	// cross-site without a CSRF token: it reads the session only.
	authorizeForm := s.withSession(s.loadUser(s.withActor(s.authorizeFormPost)))
	e.POST("/oauth2/authorize", s.authorizePost(decide, authorizeForm))
	s.routeEndpoints(e, b)
	if s.oidc != nil {
		b.POST("/oauth2/logout", s.endSessionConfirm)
		b.GET("/device", s.devicePage)
		b.POST("/device", s.deviceCheck)
		b.POST("/device/decide", s.deviceDecide)
	}
	b.GET("/", s.home)
	b.GET("/signin", s.signinForm)
	b.POST("/signin", s.signin, s.limitSignIn)
	b.GET("/signin/:name", s.connectorSignin, s.limitSignIn)
	b.GET("/signin/:name/callback", s.connectorCallback, s.limitSignIn)
	b.GET("/signout", s.signoutForm)
	b.POST("/signout", s.signout)
	b.GET("/oauth2/authorize", s.authorize)

	signedIn := s.requireRole(domain.RoleAdmin, domain.RoleAuditor, domain.RoleMember)
	b.GET("/profile/authorizations", s.profileAuthorizations, signedIn)
	b.GET("/profile/authorizations/:id/revoke", s.profileRevokeConfirm, signedIn)
	b.POST("/profile/authorizations/:id/revoke", s.profileRevoke, signedIn)
	if s.pats != nil {
		b.GET("/profile/tokens", s.profileTokens, signedIn)
		b.POST("/profile/tokens", s.profileTokenCreate, signedIn)
		b.GET("/profile/tokens/:id/edit", s.profileTokenEdit, signedIn)
		b.POST("/profile/tokens/:id/edit", s.profileTokenUpdate, signedIn)
		b.GET("/profile/tokens/:id/revoke", s.profileTokenRevokeConfirm, signedIn)
		b.POST("/profile/tokens/:id/revoke", s.profileTokenRevoke, signedIn)
		b.GET("/profile/notices/dismiss", s.profileNoticesDismissConfirm, signedIn)
		b.POST("/profile/notices/dismiss", s.profileNoticesDismiss, signedIn)
	}
	b.GET("/profile/password", s.passwordForm, signedIn)
	b.POST("/profile/password", s.passwordChange, signedIn)

	// The owner's pages: anyone who does not own the app gets 404.
	b.GET("/profile/apps", s.myApps, signedIn)
	b.GET("/profile/apps/new", s.myAppNewForm, signedIn)
	b.POST("/profile/apps", s.myAppCreate, signedIn)
	own := b.Group("/profile/apps/:client_id", signedIn, s.requireOwner)
	own.GET("", s.appDetail)
	own.GET("/edit", s.appEditForm)
	own.POST("/edit", s.appUpdate)
	own.GET("/secrets/:slot/regenerate", s.secretRegenerateConfirm)
	own.POST("/secrets/:slot/regenerate", s.secretRegenerate)
	own.GET("/secrets/alternative", s.secretAlternativeConfirm)
	own.POST("/secrets/alternative", s.secretAddAlternative)
	own.GET("/secrets/:slot/retire", s.secretRetireConfirm)
	own.POST("/secrets/:slot/retire", s.secretRetire)
	own.GET("/owners", s.ownerAddConfirm)
	if s.cfg.Invitations != nil {
		own.POST("/owners", s.ownerInvite)
		own.GET("/invitations/:id/cancel", s.invitationCancelConfirm)
		own.POST("/invitations/:id/cancel", s.invitationCancel)
		b.GET("/profile/invitations/:id/accept", s.invitationAnswerConfirm(true), signedIn)
		b.POST("/profile/invitations/:id/accept", s.invitationAnswer(true), signedIn)
		b.GET("/profile/invitations/:id/decline", s.invitationAnswerConfirm(false), signedIn)
		b.POST("/profile/invitations/:id/decline", s.invitationAnswer(false), signedIn)
	} else {
		own.POST("/owners", s.ownerAdd)
	}
	if s.cfg.Changes != nil {
		own.GET("/change/withdraw", s.changeWithdrawConfirm)
		own.POST("/change/withdraw", s.changeWithdraw)
	}
	own.POST("/owners/:user_id/remove", s.ownerRemove)
	own.GET("/owners/:user_id/remove", s.ownerRemoveConfirm)
	if s.cfg.ClientGrants != nil {
		own.POST("/client-grants/:id/revoke", s.clientGrantRevoke)
		own.GET("/client-grants/:id/revoke", s.clientGrantRevokeConfirm)
		own.POST("/client-credentials", s.clientCredentialsSwitch)
		own.GET("/client-credentials", s.clientCredentialsConfirm)
	}
	own.POST("/hand-over", s.handOver)
	own.GET("/hand-over", s.handOverConfirm)
	own.GET("/activity", s.appActivity)
	own.GET("/delete", s.appDeleteConfirm)
	own.POST("/delete", s.appDelete)

	adm := b.Group("/admin", s.requireRole(domain.RoleAdmin, domain.RoleAuditor), s.policyBanner, s.withDirectoryProblems)
	manage := s.requireRole(domain.RoleAdmin)
	adm.GET("", s.overview)
	adm.GET("/apps", s.appsList)
	adm.GET("/apps/new", s.appNewForm, manage)
	adm.POST("/apps", s.appCreate, manage)
	adm.GET("/apps/import", s.importForm, manage)
	adm.POST("/apps/import", s.importPreview, manage)
	adm.POST("/apps/import/confirm", s.importConfirm, manage)
	adm.GET("/apps/:client_id", s.appDetail)
	adm.GET("/apps/:client_id/activity", s.appActivity)
	adm.GET("/apps/:client_id/owners", s.ownerAddConfirm, manage)
	adm.POST("/apps/:client_id/owners", s.ownerAdd, manage)
	adm.POST("/apps/:client_id/owners/:user_id/remove", s.ownerRemove, manage)
	adm.GET("/apps/:client_id/owners/:user_id/remove", s.ownerRemoveConfirm, manage)
	adm.GET("/apps/:client_id/edit", s.appEditForm, manage)
	adm.POST("/apps/:client_id/edit", s.appUpdate, manage)
	adm.POST("/apps/:client_id/approve", s.appApprove, manage)
	adm.GET("/apps/:client_id/approve", s.appApproveConfirm, manage)
	adm.GET("/apps/:client_id/reject", s.appRejectForm, manage)
	adm.POST("/apps/:client_id/reject", s.appReject, manage)
	if s.cfg.Changes != nil {
		adm.GET("/changes", s.changesQueue)
		adm.POST("/apps/:client_id/change/approve", s.changeApprove, manage)
		adm.GET("/apps/:client_id/change/approve", s.changeApproveConfirm, manage)
		adm.GET("/apps/:client_id/change/reject", s.changeRejectForm, manage)
		adm.POST("/apps/:client_id/change/reject", s.changeReject, manage)
	}
	adm.GET("/apps/:client_id/secrets/:slot/regenerate", s.secretRegenerateConfirm, manage)
	adm.POST("/apps/:client_id/secrets/:slot/regenerate", s.secretRegenerate, manage)
	adm.GET("/apps/:client_id/secrets/alternative", s.secretAlternativeConfirm, manage)
	adm.POST("/apps/:client_id/secrets/alternative", s.secretAddAlternative, manage)
	adm.GET("/apps/:client_id/secrets/:slot/retire", s.secretRetireConfirm, manage)
	adm.POST("/apps/:client_id/secrets/:slot/retire", s.secretRetire, manage)
	if s.cfg.ClientGrants != nil {
		adm.POST("/apps/:client_id/client-grants/:id/revoke", s.clientGrantRevoke, manage)
		adm.GET("/apps/:client_id/client-grants/:id/revoke", s.clientGrantRevokeConfirm, manage)
		adm.POST("/apps/:client_id/client-credentials", s.clientCredentialsSwitch, manage)
		adm.GET("/apps/:client_id/client-credentials", s.clientCredentialsConfirm, manage)
	}
	adm.GET("/apps/:client_id/revoke", s.appRevokeConfirm, manage)
	adm.POST("/apps/:client_id/revoke", s.appRevoke, manage)
	adm.GET("/apps/:client_id/delete", s.appDeleteConfirm, manage)
	adm.POST("/apps/:client_id/delete", s.appDelete, manage)
	adm.GET("/authorizations/:id/revoke", s.authorizationRevokeConfirm, manage)
	adm.POST("/authorizations/:id/revoke", s.authorizationRevoke, manage)
	adm.GET("/scopes", s.scopesPage)
	adm.GET("/scopes/:scope", s.scopeHoldersPage)
	adm.GET("/apps/:client_id/scopes", s.appScopesPage)
	adm.POST("/apps/:client_id/scopes", s.appScopesSave, manage)
	adm.GET("/apps/:client_id/scopes/narrow", s.appScopesNarrowConfirm, manage)
	adm.POST("/apps/:client_id/scopes/narrow", s.appScopesNarrow, manage)
	adm.GET("/users", s.usersList)
	adm.GET("/users/new", s.userAddForm, manage)
	adm.POST("/users/new", s.userAdd, manage)
	adm.GET("/users/:id", s.userPage)
	adm.GET("/users/:id/activity", s.userActivity)
	adm.GET("/users/:id/revoke", s.userRevokeConfirm, manage)
	adm.POST("/users/:id/revoke", s.userRevoke, manage)
	adm.POST("/users/:id/role", s.userSetRole, manage)
	adm.GET("/users/:id/role", s.userRoleConfirm, manage)
	adm.GET("/users/:id/disable", s.userDisableConfirm, manage)
	adm.POST("/users/:id/disable", s.userDisable, manage)
	adm.POST("/users/:id/enable", s.userEnable, manage)
	adm.GET("/users/:id/enable", s.userEnableConfirm, manage)
	adm.GET("/users/:id/reset-password", s.userResetConfirm, manage)
	adm.POST("/users/:id/reset-password", s.userReset, manage)
	adm.GET("/users/:id/delete", s.userDeleteConfirm, manage)
	adm.POST("/users/:id/delete", s.userDelete, manage)
	if s.pats != nil {
		adm.GET("/tokens", s.adminTokens)
		adm.GET("/tokens/revoke", s.adminTokensBulkConfirm, manage)
		adm.POST("/tokens/revoke", s.adminTokensBulkRevoke, manage)
		adm.GET("/tokens/:id/revoke", s.adminTokenRevokeConfirm, manage)
		adm.POST("/tokens/:id/revoke", s.adminTokenRevoke, manage)
		adm.POST("/settings/pat-policy", s.settingsPATPolicy, manage)
		adm.GET("/settings/pat-policy", s.settingsPATPolicyConfirm, manage)
		adm.GET("/settings/pat-allowlist", s.settingsPATAllowlistConfirm, manage)
		adm.POST("/settings/pat-allowlist", s.settingsPATAllowlist, manage)
		adm.POST("/settings/pat-violations/revoke", s.settingsPATViolationsRevoke, manage)
		adm.GET("/settings/pat-violations/revoke", s.settingsPATViolationsConfirm, manage)
	}
	adm.GET("/settings", s.settingsPage)
	adm.GET("/settings/third-party-oauth", s.settingsPolicyConfirm, manage)
	adm.POST("/settings/third-party-oauth", s.settingsPolicy, manage)
	adm.POST("/settings/secret-lifetime", s.settingsLifetime, manage)
	adm.GET("/settings/secret-lifetime", s.settingsLifetimeConfirm, manage)
	adm.POST("/settings/app-registration", s.settingsRegistration, manage)
	adm.GET("/settings/app-registration", s.settingsRegistrationConfirm, manage)
	adm.GET("/settings/connectors", s.connectorsPage)
	adm.POST("/settings/connectors", s.connectorAdd, manage)
	adm.POST("/settings/connectors/:name/test", s.connectorTest, manage)
	adm.GET("/settings/connectors/:name/remove", s.connectorRemoveConfirm, manage)
	adm.POST("/settings/connectors/:name/remove", s.connectorRemove, manage)
	adm.POST("/settings/local-signin", s.localSigninSet, manage)
	adm.GET("/settings/local-signin", s.localSigninConfirm, manage)
	adm.GET("/reports", s.reportsPage)
	adm.POST("/reports/run", s.reportsRun, manage)
	adm.GET("/reports/run", s.reportsRunConfirm, manage)
	adm.GET("/audit", s.auditPage)
	adm.GET("/audit/export", s.auditExport)
	adm.GET("/audit/pick", s.auditPick)
	return e
}

// readyz is GET /readyz: 200 "ready" when the database answers within 2
// seconds, else 503 with the reason (for a load balancer's health check:
// take the replica out of rotation while its database is unreachable).
func (s *Server) readyz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("readyz: database unavailable", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready\ndatabase: unavailable\n")
		}
	}
	return c.String(http.StatusOK, "ready\ndatabase: ok\n")
}

// Routes lists every route as "METHOD PATH" (for tests and docs).
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}
