// Package server is oauthdesk's one wiring root. Open builds the object
// graph of a process from a Config — the store (opened and migrated), the
// services over it (admin, personal access tokens, directory federation),
// and for a server the signing keys, the protocol, the expiry-report
// scheduler, the metrics and the web server — constructing each in one
// place (App.wire, App.wireServer). `oauthdesk serve`, every CLI command
// (Open with ForCommand, and WithKeyFile when it needs the key file) and
// the end-to-end tests all start here, so tests run exactly what users
// run.
//
// Serve runs the HTTP server with a graceful shutdown and the background
// jobs (jobs.go: RunJobs, every loop under internal/jobs with its name,
// interval, last run and last error on /metrics and /admin/settings).
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/internal/jobs"
	"github.com/oauthdesk/oauthdesk/internal/keyseal"
	"github.com/oauthdesk/oauthdesk/internal/limit"
	"github.com/oauthdesk/oauthdesk/internal/metrics"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/internal/pat"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/store"
	"github.com/oauthdesk/oauthdesk/internal/web"
)

// The protocol serves both dialects: the standard side is web.OIDC.
var _ web.OIDC = (*oauth.Service)(nil)

// Config configures a server. Zero values take the defaults.
type Config struct {
	DBPath string // SQLite file, or a postgres:// URL; created (SQLite) and migrated on start
	// KeyFile holds the key-encryption key of the signing keys; default
	// oauthdesk.key beside the SQLite file (in the working directory for
	// PostgreSQL), created (0600) on first start.
	KeyFile        string
	BaseURL        string                  // public base URL, e.g. http://127.0.0.1:8080; iss/aud of tokens
	SecretLifetime time.Duration           // client secret lifetime; 0 = five years (seed 001)
	AccessTTL      time.Duration           // access token lifetime; 0 = 1 hour
	UsageFlush     time.Duration           // how often batched last-used times are written; 0 = 5 s
	PprofAddr      string                  // serve net/http/pprof on this loopback host:port; empty = off
	RefreshGrace   time.Duration           // refresh grace window (oauth.Config.RefreshGrace); 0 = 30 s, RefreshGraceOff = off
	Thresholds     domain.ExpiryThresholds // expiry warning windows; zero = 90 and 30 days
	Reports        ReportConfig
	// TrustedProxies are CIDRs (or single addresses) of reverse proxies
	// whose X-Forwarded-For / X-Real-IP are honoured; empty: none.
	TrustedProxies []string
	// SignInPerMinute bounds POST /signin per client address (0: 20; < 0: off).
	SignInPerMinute int
	// TokenPerMinute bounds POST /oauth2/token per client address (0:
	// web.DefaultTokenPerMinute; < 0: off).
	TokenPerMinute int
	// MetricsToken is the Bearer token /metrics requires (empty: none).
	MetricsToken string
	// MetricsNeedToken refuses /metrics without MetricsToken (the server
	// listens on a non-loopback address).
	MetricsNeedToken bool
	// HashConcurrency bounds concurrent argon2id runs (0: the number of CPUs).
	HashConcurrency int
	// HashWait is how long a sign-in waits for a hashing slot before 503 (0: 2 s).
	HashWait time.Duration
	// DirectorySyncInterval is how often the directory sync runs (0:
	// jobs.DefaultDirectorySyncInterval; < 0: never).
	DirectorySyncInterval time.Duration
	// AuditCheckpointInterval is how often the head of the audit chain is
	// anchored outside the database (jobs.AuditCheckpoints: into
	// Reports.Dir, to Reports.Webhook, and the log), and once more on
	// shutdown (0: jobs.DefaultAuditCheckpointInterval; < 0: never).
	AuditCheckpointInterval time.Duration
	Log                     *slog.Logger
	Now                     func() time.Time
}

// DefaultRefreshGrace is the refresh grace window when none is configured:
// the reuse interval of the big hosted providers and of fosite and Hydra.
const DefaultRefreshGrace = 30 * time.Second

// RefreshGraceOff as Config.RefreshGrace turns the grace window off: a
// rotated refresh token presented again always revokes its authorization.
const RefreshGraceOff time.Duration = -1

// ReportConfig is the scheduled expiry report: a cron schedule and its
// sinks. Schedule empty: no schedule ("run now" still works with sinks).
type ReportConfig struct {
	Schedule string
	Dir      string   // write HTML, CSV and JSON files here
	Webhook  string   // POST JSON here
	SMTPURL  string   // smtp://user:pass@host:port or smtps://…
	To       []string // mail the whole report to these
	From     string   // sender address; default oauthdesk@localhost
}

// sinks builds the configured sinks. Errors: Invalid settings.
func (rc ReportConfig) sinks() ([]jobs.Sink, error) {
	var out []jobs.Sink
	if rc.Dir != "" {
		if st, err := os.Stat(rc.Dir); err != nil || !st.IsDir() {
			return nil, apperr.Errorf(apperr.Invalid, "--report-dir %q is not a directory", rc.Dir)
		}
		out = append(out, jobs.DirSink{Dir: rc.Dir})
	}
	if rc.Webhook != "" {
		u, err := url.Parse(rc.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, apperr.Errorf(apperr.Invalid, "--report-webhook %s must be an http(s) URL", safeout.RedactURL(rc.Webhook))
		}
		out = append(out, jobs.WebhookSink{URL: rc.Webhook, Attempts: 3, Backoff: 500 * time.Millisecond, Timeout: 10 * time.Second})
	}
	if rc.SMTPURL != "" {
		u, err := jobs.ParseSMTPURL(rc.SMTPURL)
		if err != nil {
			return nil, err
		}
		for _, a := range rc.To {
			if _, err := mail.ParseAddress(a); err != nil {
				return nil, apperr.Errorf(apperr.Invalid, "--report-to: %q is not an e-mail address", a)
			}
		}
		from := rc.From
		if from == "" {
			from = "oauthdesk@localhost"
		}
		out = append(out, jobs.MailSink{SMTP: u, From: from, To: rc.To, Timeout: 30 * time.Second})
	} else if len(rc.To) > 0 {
		return nil, apperr.Errorf(apperr.Invalid, "--report-to needs --smtp-url")
	}
	return out, nil
}

// App is a wired oauthdesk instance: what Open built. A one-shot
// command's App (ForCommand) has the store and the services only: OAuth,
// Web and Reports are nil, and Federation is nil without WithKeyFile.
type App struct {
	DB    *store.DB
	OAuth *oauth.Service
	Admin *admin.Service
	Web   *web.Server
	// PATs is the personal access token slice.
	PATs *pat.Service
	// Reports is the expiry-report scheduler.
	Reports *jobs.Scheduler
	// Federation signs people in through the directory connectors.
	Federation *federation.Service
	// Jobs runs the background jobs (RunJobs) and keeps what each did
	// last: /metrics and /admin/settings show it.
	Jobs *jobs.Runner
	// Migrated is the number of migrations this Open applied.
	Migrated int
	// KeyFile is the key file in use; KeyFileCreated reports that this
	// start created it (the caller prints its path: back it up).
	KeyFile        string
	KeyFileCreated bool

	cfg     Config
	watcher *store.ChangeWatcher
	usage   *oauth.Usage
}

// Option narrows what Open builds. With none, Open builds everything
// `oauthdesk serve` runs.
type Option func(*parts)

// parts is what Open builds.
type parts struct {
	command bool // the store and the services only
	keyFile bool // with command: the key file and the federation service
}

// ForCommand builds what a one-shot CLI command needs: the migrated
// store, the admin and personal access token services, with the
// configured clock; no signing keys, change watcher, HTTP server or
// background jobs, and the key file is not touched.
func ForCommand() Option { return func(p *parts) { p.command = true } }

// WithKeyFile adds to ForCommand the key file (created when missing,
// refused when new for a database that holds sealed signing keys) and
// the directory federation service over it: connector and directory
// commands, `keys rotate`, `audit verify --checkpoint`.
func WithKeyFile() Option { return func(p *parts) { p.keyFile = true } }

// withDefaults fills cfg's zero values.
func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = func() time.Time { return time.Now().UTC() }
	}
	if c.UsageFlush <= 0 {
		c.UsageFlush = 5 * time.Second
	}
	if c.RefreshGrace == 0 {
		c.RefreshGrace = DefaultRefreshGrace
	}
	if c.Thresholds.Expiring == 0 {
		c.Thresholds = domain.DefaultThresholds
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// Open is oauthdesk's one wiring root: `serve`, every CLI command and the
// end-to-end tests build the object graph here — the store (opened and
// migrated), the services over it and, unless an Option narrows it, the
// signing keys, the protocol, the web server and the background jobs.
// Close the App when done. Errors: from the database (open, migrate), the
// key file and signing keys, and Invalid configuration (trusted proxies,
// report sinks and schedule).
func Open(ctx context.Context, cfg Config, opts ...Option) (*App, error) {
	var p parts
	for _, o := range opts {
		o(&p)
	}
	cfg = cfg.withDefaults()
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	db.SetClock(cfg.Now)
	app := &App{DB: db, cfg: cfg, Jobs: jobs.NewRunner(cfg.Log, cfg.Now)}
	if app.Migrated, err = db.Migrate(ctx); err == nil {
		err = app.wire(ctx, p)
	}
	if err != nil {
		_ = app.Close()
		return nil, err
	}
	return app, nil
}

// wire builds the services over a.DB: the one place each is constructed.
func (a *App) wire(ctx context.Context, p parts) error {
	cfg, db, cat := a.cfg, a.DB, scope.Default()
	a.Admin = admin.NewService(db, cat, cfg.Now, cfg.SecretLifetime)
	a.Admin.SetHashConcurrency(cfg.HashConcurrency, cmp.Or(cfg.HashWait, 2*time.Second))
	a.PATs = pat.NewService(db, cat, cfg.Now)
	a.Admin.SetPATPolicies(a.PATs.PolicyService) // PATCH /settings changes the PAT policies with the others, in one transaction
	if cfg.Reports.SMTPURL != "" {
		// Mail to token owners (a leaked token, one about to expire).
		if u, err := jobs.ParseSMTPURL(cfg.Reports.SMTPURL); err == nil {
			m := jobs.MailSink{SMTP: u, From: cmp.Or(cfg.Reports.From, "oauthdesk@localhost"), Timeout: 30 * time.Second}
			a.PATs.SetMailer(m.Send)
		}
	}
	if p.command && !p.keyFile {
		return nil
	}
	sealer, keyCreated, err := loadSealer(ctx, db, cfg)
	if err != nil {
		return err
	}
	a.KeyFile, a.KeyFileCreated = sealer.Path(), keyCreated
	a.Federation = federation.New(db, sealer, a.Admin, cfg.Now, cfg.Log)
	if p.command {
		return nil
	}
	return a.wireServer(ctx, sealer, cat)
}

// wireServer builds what only a server runs: signing keys, the protocol,
// the report scheduler, metrics and the web server.
func (a *App) wireServer(ctx context.Context, sealer *keyseal.Sealer, cat *scope.Catalog) error {
	cfg, db := a.cfg, a.DB
	proxies, err := ParseCIDRs(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	sinks, err := cfg.Reports.sinks()
	if err != nil {
		return err
	}
	keys, err := oauth.LoadKeys(ctx, db, sealer, cfg.Now(), max(cfg.AccessTTL, time.Hour))
	if err != nil {
		return err
	}
	if a.watcher, err = db.NewChangeWatcher(ctx); err != nil {
		return err
	}
	ocfg := oauth.Config{Issuer: cfg.BaseURL, AccessTTL: cfg.AccessTTL, RefreshGrace: max(cfg.RefreshGrace, 0)}
	a.usage = oauth.NewUsage(db, cfg.Log)
	guard := oauth.NewGuard(db, db, a.watcher, max(cfg.AccessTTL, time.Hour), cfg.Now)
	guard.SetRules(db)
	a.usage.SetPATStore(db)
	a.usage.SetClientGrantStore(db)
	o := oauth.NewService(ocfg, db, cat, keys, guard, a.usage, cfg.Now, cfg.Log)
	o.SetPATs(db)
	o.SetClientGrants(db)
	o.SetClientAssertions(db)
	a.OAuth = o
	if a.Reports, err = jobs.New(jobs.Config{Schedule: cfg.Reports.Schedule, Sinks: sinks, Thresholds: cfg.Thresholds, Now: cfg.Now, Log: cfg.Log, PATs: db, Jobs: a.Jobs}, db); err != nil {
		return err
	}
	syncFailures := metrics.NewDirectorySyncFailures()
	a.Federation.SyncFailures = func(name string) { syncFailures.WithLabelValues(name).Inc() }
	issued := metrics.NewTokensIssued()
	o.OnIssue = func(flow, grant string) { issued.WithLabelValues(flow, grant).Inc() }
	mx := metrics.Handler(metrics.NewSecretsCollector(db.SecretExpiryTimes, cfg.Thresholds, cfg.Now), syncFailures,
		metrics.NewPATsCollector(db.PATExpiryCounts, cfg.Now), issued, metrics.NewJobsCollector(a.jobMetrics))
	var signinFailures limit.FailureLimiter // nil: in memory (one SQLite process)
	if db.Shared() {
		// Replicas share the per-username failure delays through the
		// database (the per-address request limits stay per process).
		signinFailures = limit.NewSharedFailures(db, cfg.Now)
	}
	adm := a.Admin
	a.Web = web.New(web.Config{BaseURL: cfg.BaseURL, SessionStore: db.Sessions(), SignInFailures: signinFailures, Thresholds: cfg.Thresholds, Metrics: mx, Reports: a.Reports,
		Ready: cachedProbe(db.ProbeWrite, time.Second), MetricsToken: cfg.MetricsToken, MetricsNeedToken: cfg.MetricsNeedToken,
		TrustedProxies: proxies, SignInPerMinute: cfg.SignInPerMinute, TokenPerMinute: cfg.TokenPerMinute,
		PATs: a.PATs.TokenService, PATAdmin: a.PATs.TokenService, PATPolicies: a.PATs.PolicyService, PATNotices: a.PATs.NoticeService,
		PATRules: a.PATs.RuleService, LeakedPATs: a.PATs.LeakService, PATUsage: a.usage, DirectorySignIn: a.Federation.SignInService, Connectors: a.Federation.ConnectorService, Activity: admin.NewActivity(db), Attention: admin.NewAttention(db, cfg.Now), Offboarding: admin.NewOffboarding(adm, db),
		Changes: admin.NewChangeReview(adm, db), Invitations: admin.NewInvitations(adm, db), ClientGrants: admin.NewClientGrants(adm, db),
		SignIn: adm.SignInService, Users: adm.UserService, Apps: adm.AppService, Owners: adm.OwnerService, Secrets: adm.SecretService,
		Authorizations: adm.AuthorizationService, Settings: adm.SettingService, Scopes: adm.ScopeService, AppScopes: adm.AppScopeService,
		Expiry: adm.ExpiryService, Audit: adm.AuditService, Import: adm.ImportService,
		Jobs: a.Jobs,
		AdminAPI: web.AdminAPI{Apps: adm.AppService, Secrets: adm.SecretService, Authorizations: adm.AuthorizationService,
			Users: adm.UserService, Tokens: a.PATs.TokenService, Settings: adm.SettingService, PATPolicy: a.PATs.PolicyService}},
		o, cat, cfg.Log, cfg.Now)
	return nil
}

// DefaultTokenPerMinute is the default per-address limit of POST
// /oauth2/token.
const DefaultTokenPerMinute = web.DefaultTokenPerMinute

// ParseCIDRs parses a list of CIDRs ("10.0.0.0/8", "2001:db8::/32") or
// single addresses (a /32 or /128). Errors: Invalid naming the bad entry.
func ParseCIDRs(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !strings.Contains(v, "/") {
			ip := net.ParseIP(v)
			if ip == nil {
				return nil, apperr.Errorf(apperr.Invalid, "--trusted-proxies: %q is not an IP address or CIDR", v)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(v)
		if err != nil {
			return nil, apperr.Errorf(apperr.Invalid, "--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// cachedProbe runs probe at most once per every (concurrent callers share
// the last answer), so an unauthenticated /readyz flood costs no more than
// one write a second.
func cachedProbe(probe func(context.Context) error, every time.Duration) func(context.Context) error {
	var mu sync.Mutex
	var at time.Time
	var last error
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && time.Since(at) < every {
			return last
		}
		last, at = probe(ctx), time.Now()
		return last
	}
}

// KeyFilePath returns the key file: KeyFile, or oauthdesk.key beside the
// database.
func (c Config) KeyFilePath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	if strings.Contains(c.DBPath, "://") {
		return "oauthdesk.key"
	}
	return filepath.Join(filepath.Dir(c.DBPath), "oauthdesk.key")
}

// Handler returns the HTTP handler.
func (a *App) Handler() http.Handler { return a.Web }

// Close releases the change watcher and the database.
func (a *App) Close() error {
	var err error
	if a.watcher != nil {
		err = a.watcher.Close()
	}
	return errors.Join(err, a.DB.Close())
}

// loadSealer loads (or, for a new database, creates) the key file.
// Errors: Invalid when the key file is new but the database already
// holds sealed signing keys.
func loadSealer(ctx context.Context, db *store.DB, cfg Config) (*keyseal.Sealer, bool, error) {
	sealer, keyCreated, err := keyseal.LoadFile(cfg.KeyFilePath())
	if err != nil {
		return nil, false, err
	}
	if keyCreated {
		if existing, err := db.SigningKeys(ctx); err != nil || slices.ContainsFunc(existing, func(k domain.SigningKey) bool { return keyseal.Sealed(k.PrivateKey) }) {
			// A new key file for a database that already has keys could
			// never open them: refuse rather than start unable to sign.
			_ = os.Remove(sealer.Path())
			return nil, false, apperr.Errorf(apperr.Invalid, "the key file %s does not exist but the database %s already holds signing keys: start with the key file that was created with this database", sealer.Path(), cfg.DBPath)
		}
	}
	return sealer, keyCreated, nil
}

// Serve runs the server on ln until ctx ends, then shuts down gracefully
// (in-flight requests get up to 10 seconds) and flushes usage.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.cfg.Log.Handler(), slog.LevelWarn),
	}
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		if err := a.RunJobs(jobsCtx); err != nil {
			a.cfg.Log.Error("background jobs", "err", err)
		}
		close(jobsDone)
	}()
	a.Reports.Start()
	defer a.Reports.Stop()

	if a.cfg.PprofAddr != "" {
		stopPprof, err := servePprof(a.cfg.PprofAddr, a.cfg.Log)
		if err != nil {
			stopJobs()
			<-jobsDone
			return err
		}
		defer stopPprof()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopJobs()
	<-jobsDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// servePprof serves the runtime profiles of net/http/pprof on addr, which
// must be a loopback address (profiles are unauthenticated and cost CPU).
// It returns a function that stops it. Errors: Invalid for a non-loopback
// address, or the listen error.
func servePprof(addr string, log *slog.Logger) (func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return nil, apperr.Errorf(apperr.Invalid, "--pprof-addr %q must be a loopback host:port such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, goroutine, allocs, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof", "err", err)
		}
	}()
	log.Info("pprof", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
