package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/jobs"
	"github.com/oauthdesk/oauthdesk/internal/safeout"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

func nowUTC() time.Time { return time.Now().UTC() }

func serveCmd(g *globals) *cobra.Command {
	var addr, baseURL, warnDays, reportTo, proxies, grace, metricsToken, pprofAddr string
	var dirSync, checkpointEvery time.Duration
	var tokenRate, hashN int
	var rc server.ReportConfig
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server and dashboard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return usagef("--addr %q is not host:port (e.g. 127.0.0.1:8080)", addr)
			}
			if baseURL == "" {
				baseURL = "http://" + addr
			}
			if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--base-url %q must be an absolute http(s) URL such as https://auth.example.com", baseURL)
			}
			thresholds, err := domain.ParseWarnDays(warnDays)
			if err != nil {
				return err
			}
			refreshGrace, err := time.ParseDuration(grace)
			if err != nil || refreshGrace < 0 {
				return usagef("--refresh-grace %q must be a duration such as 30s, 2m or 0 (off)", grace)
			}
			if refreshGrace == 0 {
				refreshGrace = server.RefreshGraceOff
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			logw := newLogWriter(g.env.Stderr, 100*time.Millisecond)
			defer logw.Close()
			log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if reportTo != "" {
				for _, a := range strings.Split(reportTo, ",") {
					if a = strings.TrimSpace(a); a != "" {
						rc.To = append(rc.To, a)
					}
				}
			}
			cfg := server.Config{DBPath: g.db, KeyFile: g.keyFile, BaseURL: baseURL, Log: log, Thresholds: thresholds, Reports: rc,
				TrustedProxies: strings.Split(proxies, ","), TokenPerMinute: tokenRate, HashConcurrency: hashN, RefreshGrace: refreshGrace,
				MetricsToken: metricsToken, MetricsNeedToken: !loopbackAddr(addr), PprofAddr: pprofAddr, DirectorySyncInterval: dirSync}
			if dirSync < 0 {
				return usagef("--directory-sync-interval must be a positive duration such as 15m, or 0 (off)")
			}
			if dirSync == 0 {
				cfg.DirectorySyncInterval = -1
			}
			switch {
			case checkpointEvery < 0:
				return usagef("--audit-checkpoint-interval must be a positive duration such as 1h, or 0 (off)")
			case checkpointEvery == 0:
				cfg.AuditCheckpointInterval = -1
			default:
				cfg.AuditCheckpointInterval = checkpointEvery
			}
			if _, err := server.ParseCIDRs(cfg.TrustedProxies); err != nil {
				return err
			}
			switch {
			case tokenRate < 0:
				return usagef("--token-rate-limit must be 0 (off) or a number of requests per minute")
			case tokenRate == 0:
				cfg.TokenPerMinute = -1
			}
			if hashN < 0 {
				return usagef("--hash-concurrency must be 0 (the number of CPUs) or more")
			}
			app, err := server.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer app.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			user, password, created, err := app.Admin.EnsureAdmin(audit.WithActor(ctx, audit.Actor{Name: audit.ActorSystem}))
			if err != nil {
				_ = ln.Close()
				return err
			}
			out := g.env.Stdout
			if app.KeyFileCreated {
				fmt.Fprintf(out, "Created the key file %s: it encrypts the signing keys. Back it up together with the database; without it the database cannot sign tokens.\n\n", app.KeyFile)
			}
			if created {
				fmt.Fprintf(out, "Created the first administrator.\n  username: %s\n  password: %s\nThis password is shown only once: sign in at %s/signin and keep it safe.\n\n", user, password, strings.TrimRight(baseURL, "/"))
			}
			fmt.Fprintf(out, "oauthdesk is listening on http://%s (base URL %s, database %s). Stop with Ctrl-C.\n", ln.Addr(), baseURL, redact(g.db))
			err = app.Serve(ctx, ln)
			fmt.Fprintln(out, "oauthdesk stopped.")
			return err
		},
	}
	c.Flags().StringVar(&addr, "addr", envOr(g.env, "OAUTHDESK_ADDR", "127.0.0.1:8080"), "listen address host:port (env OAUTHDESK_ADDR)")
	c.Flags().StringVar(&baseURL, "base-url", envOr(g.env, "OAUTHDESK_BASE_URL", ""), "public base URL; default http://ADDR (env OAUTHDESK_BASE_URL)")
	c.Flags().StringVar(&rc.Schedule, "report-schedule", envOr(g.env, "OAUTHDESK_REPORT_SCHEDULE", ""), "expiry report schedule, cron syntax or @every 1h (env OAUTHDESK_REPORT_SCHEDULE)")
	c.Flags().StringVar(&rc.Dir, "report-dir", envOr(g.env, "OAUTHDESK_REPORT_DIR", ""), "write each report as HTML, CSV and JSON files here (env OAUTHDESK_REPORT_DIR)")
	c.Flags().StringVar(&rc.Webhook, "report-webhook", envOr(g.env, "OAUTHDESK_REPORT_WEBHOOK", ""), "POST each report as JSON to this URL (env OAUTHDESK_REPORT_WEBHOOK)")
	c.Flags().StringVar(&rc.SMTPURL, "smtp-url", envOr(g.env, "OAUTHDESK_SMTP_URL", ""), "mail reports through smtp://user:pass@host:port (env OAUTHDESK_SMTP_URL)")
	c.Flags().StringVar(&reportTo, "report-to", envOr(g.env, "OAUTHDESK_REPORT_TO", ""), "mail each report to these addresses, comma-separated (env OAUTHDESK_REPORT_TO)")
	c.Flags().StringVar(&rc.From, "report-from", envOr(g.env, "OAUTHDESK_REPORT_FROM", "oauthdesk@localhost"), "sender address of report mail (env OAUTHDESK_REPORT_FROM)")
	c.Flags().StringVar(&metricsToken, "metrics-token", envOr(g.env, "OAUTHDESK_METRICS_TOKEN", ""), "Bearer token /metrics requires; needed to serve /metrics on a non-loopback --addr (env OAUTHDESK_METRICS_TOKEN)")
	c.Flags().StringVar(&proxies, "trusted-proxies", envOr(g.env, "OAUTHDESK_TRUSTED_PROXIES", ""), "CIDRs of reverse proxies whose X-Forwarded-For/X-Real-IP are honoured, comma-separated (env OAUTHDESK_TRUSTED_PROXIES)")
	c.Flags().IntVar(&tokenRate, "token-rate-limit", envInt(g.env, "OAUTHDESK_TOKEN_RATE_LIMIT", server.DefaultTokenPerMinute), "POST /oauth2/token requests per minute per client address; 0 turns the limit off (env OAUTHDESK_TOKEN_RATE_LIMIT)")
	c.Flags().IntVar(&hashN, "hash-concurrency", 0, "password hashes (argon2id, 64 MiB each) computed at once; 0 = number of CPUs")
	c.Flags().StringVar(&warnDays, "warn-days", envOr(g.env, "OAUTHDESK_WARN_DAYS", "90,30,7"), "secret expiry warnings: expiring, critical[, reminders] in days (env OAUTHDESK_WARN_DAYS)")
	c.Flags().StringVar(&pprofAddr, "pprof-addr", envOr(g.env, "OAUTHDESK_PPROF_ADDR", ""), "serve Go runtime profiles (net/http/pprof) on this loopback host:port; off when empty (env OAUTHDESK_PPROF_ADDR)")
	c.Flags().DurationVar(&dirSync, "directory-sync-interval", jobs.DefaultDirectorySyncInterval, "how often the directory sync disables leavers of the LDAP connectors; 0 turns it off")
	c.Flags().DurationVar(&checkpointEvery, "audit-checkpoint-interval", envDuration(g.env, "OAUTHDESK_AUDIT_CHECKPOINT_INTERVAL", jobs.DefaultAuditCheckpointInterval),
		"how often (and on shutdown) a signed checkpoint of the audit log's head is written to --report-dir as audit-checkpoint-SEQ.json, posted to --report-webhook and logged; 0 turns it off (env OAUTHDESK_AUDIT_CHECKPOINT_INTERVAL)")
	c.Flags().StringVar(&grace, "refresh-grace", envOr(g.env, "OAUTHDESK_REFRESH_GRACE", "30s"), "how long a rotated refresh token, presented again by its client, still gets a new pair instead of revoking the authorization; 0 turns it off (env OAUTHDESK_REFRESH_GRACE)")
	return c
}

func migrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withNewDatabase(cmd, func(_ context.Context, app *server.App) error {
				fmt.Fprintf(g.env.Stdout, "Applied %d migration(s) to %s; the schema is up to date.\n", app.Migrated, redact(g.db))
				return nil
			})
		},
	}
}

func userCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage users"}
	var role, display, email string
	var pwStdin bool
	add := &cobra.Command{
		Use:   "add USERNAME --role admin|auditor|member --password-stdin",
		Short: "Add a user; the password is read from standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !domain.Role(role).Valid() {
				return usagef("--role must be admin, auditor or member")
			}
			if !pwStdin {
				return usagef("pass the password on standard input with --password-stdin")
			}
			pw, err := g.passwordLine()
			if err != nil {
				return err
			}
			in := admin.NewUser{Username: args[0], DisplayName: display, Email: email, Role: domain.Role(role), Password: pw}
			if err := admin.ValidateNewUser(in); err != nil {
				return err
			}
			return g.withNewDatabase(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				u, err := svc.CreateUser(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Added %s %q (id %s).\n", u.Role, u.Username, u.ID)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "admin, auditor or member (required)")
	add.Flags().StringVar(&display, "display-name", "", "display name (default: the username)")
	add.Flags().StringVar(&email, "email", "", "e-mail address")
	add.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
	c.AddCommand(add, userListCmd(g), userPasswdCmd(g), userSetRoleCmd(g), userDisableCmd(g, true), userDisableCmd(g, false), userLinkCmd(g))
	return c
}

func appCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "app", Short: "Manage app registrations"}
	c.AddCommand(appRegisterCmd(g), appUpdateCmd(g), appListCmd(g), appRotateSecretCmd(g), appRetireSecretCmd(g), appDeleteCmd(g), appImportCmd(g))
	return c
}

func appRegisterCmd(g *globals) *cobra.Command {
	var reg domain.Registration
	var scopes, owner string
	var asJSON bool
	var cf clientFlags
	c := &cobra.Command{
		Use:   "register --name N --company C --app-url URL --callback-url URL --scopes \"vso.work vso.code_write\" --owner USERNAME",
		Short: "Register an app; prints its client id and client secret (shown this once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []string{"name", "company", "app-url", "scopes", "owner"} {
				if !cmd.Flags().Changed(f) {
					return usagef("--%s is required", f)
				}
			}
			if !cmd.Flags().Changed("callback-url") && !cmd.Flags().Changed("redirect-uri") {
				return usagef("--callback-url (or --redirect-uri) is required")
			}
			if err := cf.apply(cmd.Flags(), &reg, false); err != nil {
				return err
			}
			reg.Scopes = strings.Fields(scopes)
			if _, err := domain.ValidateRegistration(reg); err != nil {
				return err
			}
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				res, err := svc.RegisterApp(ctx, owner, reg)
				if err != nil {
					return err
				}
				sec, _ := res.App.PrimarySecret()
				if res.App.Public() {
					if asJSON {
						return writeJSON(g, map[string]any{"client_id": res.App.ClientID, "client_type": domain.ClientPublic,
							"grant_types": res.App.EffectiveGrantTypes()})
					}
					fmt.Fprintf(g.env.Stdout, "Registered %q (%s), a public client (no secret; PKCE required).\nclient_id: %s\n",
						res.App.Name, res.App.Company, res.App.ClientID)
					return nil
				}
				if asJSON {
					return writeJSON(g, map[string]string{"client_id": res.App.ClientID, "client_secret": res.ClientSecret,
						"secret_expires_at": sec.ExpiresAt.UTC().Format(time.RFC3339)})
				}
				fmt.Fprintf(g.env.Stdout, "Registered %q (%s).\nclient_id:         %s\nclient_secret:     %s\nsecret_expires_at: %s\nThe client secret is shown only this once: store it now.\n",
					res.App.Name, res.App.Company, res.App.ClientID, res.ClientSecret, sec.ExpiresAt.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	registrationFlags(c, &reg, &scopes, &owner, &asJSON, " (required)")
	addClientFlags(c, &cf)
	return c
}

// registrationFlags declares the registration flags shared by `app
// register` and `app update` (the same names, the same validation).
func registrationFlags(c *cobra.Command, reg *domain.Registration, scopes, owner *string, asJSON *bool, required string) {
	f := c.Flags()
	f.StringVar(&reg.Name, "name", "", "application name (≤128 characters)"+required)
	f.StringVar(&reg.Company, "company", "", "company name (≤128 characters)"+required)
	f.StringVar(&reg.AppURL, "app-url", "", "application website"+required)
	f.StringVar(&reg.CallbackURL, "callback-url", "", "authorization callback URL, https"+required)
	f.StringVar(scopes, "scopes", "", "space-separated scopes, e.g. \"vso.work vso.code_write\""+required)
	f.StringVar(owner, "owner", "", "username of the app's (primary) owner"+required)
	f.StringVar(&reg.Description, "description", "", "description shown on the approval page")
	f.StringVar(&reg.CompanyURL, "company-url", "", "company website")
	f.StringVar(&reg.TermsURL, "terms-url", "", "terms of service URL")
	f.StringVar(&reg.PrivacyURL, "privacy-url", "", "privacy statement URL")
	f.StringVar(&reg.LogoURL, "logo-url", "", "logo URL (https)")
	f.BoolVar(&reg.RequirePKCE, "require-pkce", false, "authorization requests must carry a PKCE code_challenge (S256); --require-pkce=false turns it off on update")
	f.BoolVar(asJSON, "json", false, "print JSON")
}

// appJSON is one app in `oauthdesk app list --json`.
type appJSON struct {
	ClientID             string   `json:"client_id"`
	Name                 string   `json:"name"`
	Company              string   `json:"company"`
	CallbackURL          string   `json:"callback_url"`
	Scopes               []string `json:"scopes"`
	Owner                string   `json:"owner"`
	CreatedAt            string   `json:"created_at"`
	SecretCreatedAt      string   `json:"secret_created_at,omitempty"`
	SecretExpiresAt      string   `json:"secret_expires_at,omitempty"`
	SecretState          string   `json:"secret_state"`
	ActiveAuthorizations int64    `json:"active_authorizations"`
}

func appListCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List app registrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd, func(ctx context.Context, app *server.App) error {
				svc := app.Admin
				apps, err := allApps(ctx, svc)
				if err != nil {
					return err
				}
				now := nowUTC()
				rows := make([]appJSON, 0, len(apps))
				for _, a := range apps {
					r := appJSON{ClientID: a.ClientID, Name: a.Name, Company: a.Company, CallbackURL: a.CallbackURL,
						Scopes: a.Scopes, Owner: a.OwnerUsername, CreatedAt: a.CreatedAt.Format(time.RFC3339),
						SecretState: "none", ActiveAuthorizations: a.ActiveAuthorizations}
					if s, ok := a.PrimarySecret(); ok {
						r.SecretCreatedAt = s.CreatedAt.Format(time.RFC3339)
						r.SecretExpiresAt = s.ExpiresAt.Format(time.RFC3339)
						r.SecretState = string(domain.DefaultThresholds.StateAt(s.ExpiresAt, now))
					}
					rows = append(rows, r)
				}
				if asJSON {
					return writeJSON(g, rows)
				}
				if len(rows) == 0 {
					fmt.Fprintln(g.env.Stdout, "No app is registered. Register one with 'oauthdesk app register'.")
					return nil
				}
				tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT ID\tNAME\tCOMPANY\tCALLBACK URL\tSCOPES\tSECRET EXPIRES\tSTATE\tAUTHORIZATIONS")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ClientID, safeout.Term(r.Name), safeout.Term(r.Company), safeout.Term(r.CallbackURL),
						strings.Join(r.Scopes, " "), firstNonEmpty(r.SecretExpiresAt, "-"), r.SecretState, r.ActiveAuthorizations)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func allApps(ctx context.Context, svc *admin.Service) ([]domain.App, error) {
	var out []domain.App
	f := domain.AppFilter{Limit: 200}
	for {
		page, err := svc.ListApps(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Apps...)
		if page.Next == "" {
			return out, nil
		}
		f.After = page.Next
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func writeJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// loopbackAddr reports whether host:port listens on loopback only
// (127.0.0.0/8, ::1, localhost); "" and 0.0.0.0 listen everywhere.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// envDuration is envOr for a duration flag's default: def when key is
// unset, -1 (refused by the flag's check) when it does not parse.
func envDuration(env Env, key string, def time.Duration) time.Duration {
	v := envOr(env, key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return -1
	}
	return d
}
