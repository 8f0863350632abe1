package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Scenario names: the rows of the table, in order.
const (
	scCeiling     = "ceiling: bare Echo handler"
	scRefresh     = "refresh, each request rotating its own chain"
	scCode        = "code exchange, a fresh code per request"
	scBearer      = "Bearer profile API, 1,000 live tokens"
	scPAT         = "personal access token profile API, 1,000 live tokens"
	scBearerAfter = "Bearer after 1,000 revocations"
	scRevoked     = "Bearer with the 1,000 revoked tokens (401)"
	scFlood       = "refresh during a 64-way sign-in flood (wrong passwords, 64 addresses)"
)

// scenario is one row of the table. prepare seeds what the row needs (not
// measured) and returns the load wrk drives; done holds the rows measured
// so far. The ceiling row is the one every ratio divides by.
type scenario struct {
	name    string
	ceiling bool
	prepare func(ctx context.Context, b *bench, done map[string]row) (load, error)
}

// scenarios is the table. To add a row, add an entry: prepare may use
// b.startServer (the running oauthdesk, seeded through HTTP) and b.seed.
func scenarios() []scenario {
	return []scenario{
		{name: scCeiling, ceiling: true, prepare: func(ctx context.Context, b *bench, _ map[string]row) (load, error) {
			u, err := b.startCeiling(ctx)
			if err != nil {
				return load{}, err
			}
			return load{url: u, mode: "get", method: http.MethodGet, path: "/", expect: http.StatusOK, pid: b.ceilingProc.cmd.Process.Pid}, nil
		}},
		{name: scRefresh, prepare: refreshLoad},
		{name: scCode, prepare: codeLoad},
		{name: scBearer, prepare: func(ctx context.Context, b *bench, _ map[string]row) (load, error) {
			return bearerLoad(ctx, b, false)
		}},
		{name: scPAT, prepare: patLoad},
		{name: scBearerAfter, prepare: func(ctx context.Context, b *bench, _ map[string]row) (load, error) {
			return bearerLoad(ctx, b, true)
		}},
		{name: scRevoked, prepare: func(ctx context.Context, b *bench, _ map[string]row) (load, error) {
			if err := b.startServer(ctx); err != nil {
				return load{}, err
			}
			if len(b.seed.dead) == 0 {
				return load{}, fmt.Errorf("no revoked tokens: the %q row must run first", scBearerAfter)
			}
			return b.serverLoad(load{mode: "header", values: b.seed.dead, expect: http.StatusUnauthorized, method: http.MethodGet,
				path: profilePath, header: "Authorization", prefix: "Bearer "}), nil
		}},
		{name: scFlood, prepare: floodLoad},
	}
}

// allScenarios is the table with the standard flow's rows
// (scenarios_oidc.go) after the dialect's.
func allScenarios() []scenario { return append(scenarios(), oidcScenarios()...) }

const profilePath = "/_apis/profile/profiles/me?api-version=7.1"

const formType = "application/x-www-form-urlencoded"

// serverLoad completes l for the running oauthdesk.
func (b *bench) serverLoad(l load) load {
	l.url, l.pid = b.base, b.server.cmd.Process.Pid
	return l
}

// refreshLoad: a pool of refresh chains, three per connection; every
// request presents a chain's current refresh token and puts the one it
// gets back into the pool.
func refreshLoad(ctx context.Context, b *bench, _ map[string]row) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	ps, err := b.seed.pairs(ctx, 3*b.o.connections)
	if err != nil {
		return load{}, err
	}
	vals := make([]string, len(ps))
	for i, p := range ps {
		vals[i] = p.Refresh
	}
	a := *b.seed.main
	return b.serverLoad(load{mode: "rotate", values: vals, expect: http.StatusOK, method: http.MethodPost, path: "/oauth2/token",
		header: formType, prefix: "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" +
			url.QueryEscape(a.secret) + "&grant_type=refresh_token&assertion=", suffix: "&redirect_uri=" + callbackURL}), nil
}

// codeLoad: one fresh authorization code per request. Enough codes for
// 1.5 times the refresh rate are issued beforehand (the two grants cost
// about the same); a request finding none left counts as an error.
func codeLoad(ctx context.Context, b *bench, done map[string]row) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	n := int(done[scRefresh].RPS*b.o.duration.Seconds()*1.5) + 1000
	n = min(max(n, 2000), 100000)
	codes, err := b.seed.codes(ctx, n)
	if err != nil {
		return load{}, err
	}
	a := *b.seed.main
	return b.serverLoad(load{mode: "once", values: codes, expect: http.StatusOK, method: http.MethodPost, path: "/oauth2/token",
		header: formType, prefix: "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" +
			url.QueryEscape(a.secret) + "&grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=", suffix: "&redirect_uri=" + callbackURL}), nil
}

// bearerLoad: GET the profile API with 1,000 distinct live access tokens
// in turn; afterRevocations first revokes 1,000 other authorizations.
func bearerLoad(ctx context.Context, b *bench, afterRevocations bool) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	live, err := b.seed.liveTokens(ctx, 1000)
	if err != nil {
		return load{}, err
	}
	if afterRevocations {
		if _, err := b.seed.revoke(ctx, 1000); err != nil {
			return load{}, err
		}
	}
	return b.serverLoad(load{mode: "header", values: live, expect: http.StatusOK, method: http.MethodGet,
		path: profilePath, header: "Authorization", prefix: "Bearer "}), nil
}

// runScenario prepares and drives one row. Every row but the ceiling's
// first measures the ceiling again, just before its own load, and its
// ratio is to that: on a machine shared with other work the capacity moves
// between rows, and a ratio is only fair against the capacity of the
// moment.
func (b *bench) runScenario(ctx context.Context, sc scenario) (row, error) {
	l, err := sc.prepare(ctx, b, b.done())
	if err != nil {
		return row{}, err
	}
	var ceiling float64
	if !sc.ceiling {
		u, err := b.startCeiling(ctx)
		if err != nil {
			return row{}, err
		}
		res, _, err := b.drive(ctx, scCeiling, load{url: u, mode: "get", method: http.MethodGet, path: "/", expect: http.StatusOK,
			pid: b.ceilingProc.cmd.Process.Pid}, b.o.duration/2)
		if err != nil {
			return row{}, err
		}
		ceiling = rate(res)
	}
	var stopDuring func()
	if l.during != nil {
		stopDuring = l.during(ctx)
	}
	res, peak, err := b.drive(ctx, sc.name, l, b.o.duration)
	if stopDuring != nil {
		stopDuring()
	}
	if err != nil {
		return row{}, err
	}
	r := row{Scenario: sc.name, Requests: res.Requests, Errors: res.BadStatus + res.SocketErrors, RPS: rate(res),
		P50MS: float64(res.P50US) / 1000, P99MS: float64(res.P99US) / 1000, PeakRSSMB: float64(peak) / (1 << 20),
		CeilingRPS: ceiling, ceiling: sc.ceiling}
	if sc.ceiling {
		r.CeilingRPS = r.RPS
	}
	b.rows = append(b.rows, r)
	return r, nil
}

func rate(r wrkResult) float64 {
	if r.DurationUS <= 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (b *bench) done() map[string]row {
	m := map[string]row{}
	for _, r := range b.rows {
		m[r.Scenario] = r
	}
	return m
}

// patLoad: GET the profile API with 1,000 distinct personal access
// tokens (Bearer) in turn, made on /profile/tokens as a user would.
func patLoad(ctx context.Context, b *bench, _ map[string]row) (load, error) {
	if err := b.startServer(ctx); err != nil {
		return load{}, err
	}
	toks, err := b.seed.pats(ctx, 1000)
	if err != nil {
		return load{}, err
	}
	return b.serverLoad(load{mode: "header", values: toks, expect: http.StatusOK, method: http.MethodGet,
		path: profilePath, header: "Authorization", prefix: "Bearer "}), nil
}
