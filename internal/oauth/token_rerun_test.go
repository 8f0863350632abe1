package oauth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/scope"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// heldStore is the test's store: it tells the test when a token request
// reaches the group commit (queued) and counts the runs of its function.
type heldStore struct {
	*store.DB
	queued chan struct{}
	runs   *atomic.Int64
}

func (h heldStore) BatchTx(ctx context.Context, fn func(ctx context.Context) error) error {
	h.queued <- struct{}{}
	return h.DB.BatchTx(ctx, func(ctx context.Context) error {
		h.runs.Add(1)
		return fn(ctx)
	})
}

// warnings is a slog handler that keeps the messages of warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		w.mu.Lock()
		w.msgs = append(w.msgs, r.Message)
		w.mu.Unlock()
	}
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) count(prefix string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestReuseWarningOnceWhenTheBatchRunsAgain: a refresh token reused
// after the grace window revokes the authorization inside the group
// commit, and a batch in which another call fails runs every call's
// function again (its first run rolled back). The warning about the
// reuse is logged once, after the commit, though the function ran twice;
// the authorization is revoked and audited once.
func TestReuseWarningOnceWhenTheBatchRunsAgain(t *testing.T) {
	e := newEnv(t, 0) // no grace window: a second presentation is reuse
	first := e.mustToken(codeReq(e.appSecret, e.code()))
	e.mustToken(refreshReq(e.appSecret, first.RefreshToken))

	held := heldStore{DB: e.db, queued: make(chan struct{}, 1), runs: new(atomic.Int64)}
	warns := &warnings{}
	svc := NewService(Config{Issuer: "http://oauthdesk.test"}, held, scope.Default(), e.svc.keys, e.svc.guard, nil, e.clock.now, slog.New(warns))
	ctx := context.Background()

	// Hold the group commit, so that the reuse and a failing call wait
	// for the same batch, in that order.
	holding, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = e.db.BatchTx(ctx, func(context.Context) error { close(holding); <-release; return nil })
	}()
	<-holding
	reused := make(chan error, 1)
	go func() {
		_, err := svc.Token(ctx, refreshReq(e.appSecret, first.RefreshToken))
		reused <- err
	}()
	<-held.queued
	time.Sleep(100 * time.Millisecond) // it joins the queue right after telling
	failed := make(chan error, 1)
	go func() {
		failed <- e.db.BatchTx(ctx, func(context.Context) error { return errors.New("another call fails") })
	}()
	time.Sleep(100 * time.Millisecond)
	close(release)

	if err := <-reused; !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("reused refresh token: %v, want ErrRefreshReused", err)
	}
	if err := <-failed; err == nil {
		t.Fatal("the failing call did not fail")
	}
	if n := held.runs.Load(); n != 2 {
		t.Fatalf("the reuse's function ran %d times, want 2 (the batch ran again)", n)
	}
	if n := warns.count("refresh token reuse"); n != 1 {
		t.Errorf("reuse warning logged %d times, want once (%q)", n, warns.msgs)
	}
	if !e.authzRevoked() {
		t.Error("the reuse revocation did not commit")
	}
	if ev := e.events(audit.ActionAuthorizationRevoke); len(ev) != 1 {
		t.Errorf("revocation events: %d, want 1", len(ev))
	}
}
