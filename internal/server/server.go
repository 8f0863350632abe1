// Package server wires oauthdesk together: it opens and migrates the
// database, loads the signing keys, builds the protocol, admin and web
// layers, runs the background jobs and serves HTTP with a graceful
// shutdown. cmd/oauthdesk and the end-to-end tests both start the server
// through it, so tests run exactly what users run.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/oauthdesk/oauthdesk/internal/audit"
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

// App is a wired oauthdesk instance.
type App struct {
	DB    *store.DB
	OAuth *oauth.Service
	Admin *admin.Service
	Web   *web.Server
	// PATs is the personal access token slice.
	PATs    *pat.Service
	cfg     Config
	watcher *store.ChangeWatcher
	usage   *oauth.Usage
	// Reports is the expiry-report scheduler.
	Reports *jobs.Scheduler
	// Federation signs people in through the directory connectors.
	Federation *federation.Service
	// KeyFile is the key file in use; KeyFileCreated reports that this
	// start created it (the caller prints its path: back it up).
	KeyFile        string
	KeyFileCreated bool
}

// newAdmin wires the admin service: the one place both the server and
// the one-shot CLI commands (OpenAdmin) build it, with cfg's clock.
func newAdmin(db *store.DB, cat *scope.Catalog, cfg Config) *admin.Service {
	a := admin.NewService(db, cat, cfg.Now, cfg.SecretLifetime)
	a.SetHashConcurrency(cfg.HashConcurrency, cmp.Or(cfg.HashWait, 2*time.Second))
	return a
}

// newPATs wires the personal access token slice, with mail to token
// owners when an SMTP server is configured.
func newPATs(db *store.DB, cat *scope.Catalog, cfg Config) *pat.Service {
	p := pat.NewService(db, cat, cfg.Now)
	if cfg.Reports.SMTPURL != "" {
		if u, err := jobs.ParseSMTPURL(cfg.Reports.SMTPURL); err == nil {
			m := jobs.MailSink{SMTP: u, From: cmp.Or(cfg.Reports.From, "oauthdesk@localhost"), Timeout: 30 * time.Second}
			p.SetMailer(m.Send)
		}
	}
	return p
}

// OpenPATs is OpenAdmin for the personal access token commands of the
// CLI. Close the returned database when done.
func OpenPATs(ctx context.Context, cfg Config) (*pat.Service, *admin.Service, *store.DB, error) {
	a, db, err := OpenAdmin(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	return newPATs(db, scope.Default(), cfg), a, db, nil
}

// OpenAdmin opens and migrates the database of cfg.DBPath and wires the
// admin service exactly as Open does (same clock, catalog and settings),
// without keys, HTTP or background jobs: the root of the CLI's one-shot
// commands. Close the returned database when done. Errors: from the
// database (open, migrate).
func OpenAdmin(ctx context.Context, cfg Config) (*admin.Service, *store.DB, error) {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return newAdmin(db, scope.Default(), cfg), db, nil
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

// OpenFederation opens and migrates the database of cfg.DBPath and wires
// the admin and federation services with the key file, without HTTP or
// background jobs: the root of the CLI's connector and directory
// commands. Close the returned database when done.
func OpenFederation(ctx context.Context, cfg Config) (*federation.Service, *store.DB, error) {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	a, db, err := OpenAdmin(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	sealer, _, err := loadSealer(ctx, db, cfg)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return federation.New(db, sealer, a, cfg.Now, cfg.Log), db, nil
}

// Open opens and migrates the database and wires every layer. Errors:
// from the database (open, migrate) and the signing keys.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.UsageFlush <= 0 {
		cfg.UsageFlush = 5 * time.Second
	}
	if cfg.RefreshGrace == 0 {
		cfg.RefreshGrace = DefaultRefreshGrace
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	db.SetClock(cfg.Now)
	fail := func(err error) (*App, error) { _ = db.Close(); return nil, err }
	if _, err := db.Migrate(ctx); err != nil {
		return fail(err)
	}
	sealer, keyCreated, err := loadSealer(ctx, db, cfg)
	if err != nil {
		return fail(err)
	}
	keys, err := oauth.LoadKeys(ctx, db, sealer, cfg.Now(), max(cfg.AccessTTL, time.Hour))
	if err != nil {
		return fail(err)
	}
	watcher, err := db.NewChangeWatcher(ctx)
	if err != nil {
		return fail(err)
	}
	cat := scope.Default()
	ocfg := oauth.Config{Issuer: cfg.BaseURL, AccessTTL: cfg.AccessTTL, RefreshGrace: max(cfg.RefreshGrace, 0)}
	usage := oauth.NewUsage(db, cfg.Log)
	guard := oauth.NewGuard(db, db, watcher, max(cfg.AccessTTL, time.Hour), cfg.Now)
	guard.SetRules(db)
	usage.SetPATStore(db)
	usage.SetClientGrantStore(db)
	o := oauth.NewService(ocfg, db, cat, keys, guard, usage, cfg.Now, cfg.Log)
	o.SetPATs(db)
	o.SetClientGrants(db)
	o.SetClientAssertions(db)
	a := newAdmin(db, cat, cfg)
	pats := newPATs(db, cat, cfg)
	proxies, err := ParseCIDRs(cfg.TrustedProxies)
	if err != nil {
		_ = watcher.Close()
		return fail(err)
	}
	if cfg.Thresholds.Expiring == 0 {
		cfg.Thresholds = domain.DefaultThresholds
	}
	sinks, err := cfg.Reports.sinks()
	if err != nil {
		_ = watcher.Close()
		return fail(err)
	}
	sched, err := jobs.New(jobs.Config{Schedule: cfg.Reports.Schedule, Sinks: sinks, Thresholds: cfg.Thresholds, Now: cfg.Now, Log: cfg.Log, PATs: db}, db)
	if err != nil {
		_ = watcher.Close()
		return fail(err)
	}
	fed := federation.New(db, sealer, a, cfg.Now, cfg.Log)
	syncFailures := metrics.NewDirectorySyncFailures()
	fed.SyncFailures = func(name string) { syncFailures.WithLabelValues(name).Inc() }
	issued := metrics.NewTokensIssued()
	o.OnIssue = func(flow, grant string) { issued.WithLabelValues(flow, grant).Inc() }
	mx := metrics.Handler(metrics.NewSecretsCollector(db.SecretExpiryTimes, cfg.Thresholds, cfg.Now), syncFailures, metrics.NewPATsCollector(db.PATExpiryCounts, cfg.Now), issued)
	var signinFailures limit.FailureLimiter // nil: in memory (one SQLite process)
	if db.Dialect() == "postgres" {
		// Replicas share the per-username failure delays through the
		// database (the per-address request limits stay per process).
		signinFailures = limit.NewSharedFailures(db, cfg.Now)
	}
	w := web.New(web.Config{BaseURL: cfg.BaseURL, SessionStore: db.Sessions(), SignInFailures: signinFailures, Thresholds: cfg.Thresholds, Metrics: mx, Reports: sched,
		Ready: cachedProbe(db.ProbeWrite, time.Second), MetricsToken: cfg.MetricsToken, MetricsNeedToken: cfg.MetricsNeedToken,
		TrustedProxies: proxies, SignInPerMinute: cfg.SignInPerMinute, TokenPerMinute: cfg.TokenPerMinute,
		PATs: pats, PATUsage: usage, Federation: fed, Activity: admin.NewActivity(db), Attention: admin.NewAttention(db, cfg.Now), Users: a,
		Changes: admin.NewChangeReview(a, db), Invitations: admin.NewInvitations(a, db), ClientGrants: admin.NewClientGrants(a, db),
		AdminAPI: web.AdminAPI{Apps: a, Secrets: a, Authorizations: a, Users: a, Tokens: pats, Settings: a, PATPolicy: pats}},
		o, a, cat, cfg.Log, cfg.Now)
	return &App{DB: db, OAuth: o, Admin: a, Web: w, PATs: pats, cfg: cfg, watcher: watcher, usage: usage, Reports: sched, Federation: fed,
		KeyFile: sealer.Path(), KeyFileCreated: keyCreated}, nil
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

// RunJobs runs the background jobs until ctx ends: the batched usage
// writer, the change watcher (other processes' commits reach the Bearer
// check's guard and the user cache within 250 ms), the SQLite
// checkpointer (off the write path), and an hourly prune of expired sessions and moot invalidations.
// It returns after the final usage flush.
func (a *App) RunJobs(ctx context.Context) {
	done := make(chan struct{})
	go func() { a.usage.Run(ctx, a.cfg.UsageFlush); close(done) }()
	watchDone := make(chan struct{})
	go func() { a.watcher.Run(ctx, store.PollInterval); close(watchDone) }()
	defer func() { <-watchDone }()
	ckptDone := make(chan struct{})
	go func() { a.DB.RunCheckpoints(ctx, store.CheckpointInterval, a.cfg.Log); close(ckptDone) }()
	defer func() { <-ckptDone }()
	failedDone := make(chan struct{})
	go func() {
		a.Admin.RunFailedSignInAudit(ctx, 15*time.Second, func(err error) { a.cfg.Log.Error("audit failed sign-ins", "err", err) })
		close(failedDone)
	}()
	syncDone := make(chan struct{})
	go func() {
		every := cmp.Or(a.cfg.DirectorySyncInterval, jobs.DefaultDirectorySyncInterval)
		jobs.RunDirectorySync(ctx, a.DB, every, func(ctx context.Context) error {
			_, err := a.Federation.Sync(ctx)
			return err
		}, a.cfg.Now, a.cfg.Log)
		close(syncDone)
	}()
	defer func() { <-syncDone }()
	if a.cfg.AuditCheckpointInterval >= 0 {
		cp := &jobs.AuditCheckpoints{Store: a.DB, Dir: a.cfg.Reports.Dir, Webhook: a.cfg.Reports.Webhook, Now: a.cfg.Now, Log: a.cfg.Log,
			Sign: func(c audit.Checkpoint) (audit.CheckpointFile, error) {
				return a.OAuth.Keys().SignCheckpoint(c, a.cfg.BaseURL)
			}}
		cpDone := make(chan struct{})
		go func() {
			cp.Run(ctx, cmp.Or(a.cfg.AuditCheckpointInterval, jobs.DefaultAuditCheckpointInterval))
			close(cpDone)
		}()
		defer func() { <-cpDone }()
	}
	notify := func() {
		if n, err := a.PATs.NotifyExpiring(ctx); err != nil {
			a.cfg.Log.Error("personal access tokens: expiry notices", "err", err)
		} else if n > 0 {
			a.cfg.Log.Info("personal access tokens: expiry notices", "tokens", n)
		}
	}
	notify()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	kt := time.NewTicker(oauth.KeyReload)
	defer kt.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			<-failedDone
			return
		case <-kt.C:
			if err := a.OAuth.Keys().Reload(ctx, a.cfg.Now()); err != nil {
				a.cfg.Log.Error("reload signing keys", "err", err)
			}
		case <-t.C:
			notify()
			if err := a.DB.PruneSessions(ctx); err != nil {
				a.cfg.Log.Error("prune sessions", "err", err)
			}
			horizon := a.cfg.Now().Add(-max(a.cfg.AccessTTL, time.Hour) - time.Hour)
			if n, err := a.DB.PruneInvalidations(ctx, horizon); err != nil {
				a.cfg.Log.Error("prune invalidations", "err", err)
			} else if n > 0 {
				a.cfg.Log.Info("pruned invalidations", "rows", n)
			}
			if n, err := a.DB.PruneDeviceCodes(ctx, a.cfg.Now().Add(-time.Hour)); err != nil {
				a.cfg.Log.Error("prune device codes", "err", err)
			} else if n > 0 {
				a.cfg.Log.Info("pruned device codes", "rows", n)
			}
			if n, err := a.DB.PruneClientAssertions(ctx, a.cfg.Now()); err != nil {
				a.cfg.Log.Error("prune client assertions", "err", err)
			} else if n > 0 {
				a.cfg.Log.Info("pruned client assertions", "rows", n)
			}
		}
	}
}

// Close releases the database.
func (a *App) Close() error {
	return errors.Join(a.watcher.Close(), a.DB.Close())
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
	go func() { a.RunJobs(jobsCtx); close(jobsDone) }()
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
