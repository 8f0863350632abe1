package admin

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/audit"
	"github.com/oauthdesk/oauthdesk/internal/domain"
)

// SignInStore is what sign-in reads and writes.
type SignInStore interface {
	Writer
	AuditAppender
	UserByUsername(ctx context.Context, username string) (domain.User, error)
	TouchUserSignIn(ctx context.Context, id string, at time.Time) error
	Setting(ctx context.Context, key string) (string, bool, error)
}

// SignInService is the sign-in and sessions slice: password checks in
// the bounded hashing slots, failed sign-ins audited in batches, sign-out.
type SignInService struct {
	store SignInStore
	*hashing
	now    func() time.Time
	failed *failedSignIns
}

// MaxAuditUsername is how many characters of a username an audit event
// keeps.
const MaxAuditUsername = 256

// errBusy is the answer when no password-hashing slot frees up in time.
var errBusy = apperr.Errorf(apperr.Unavailable, "The server is busy. Try again in a moment.")

// dummyHash equalises sign-in time for unknown usernames: comparing a
// password with it runs argon2id with argonParams over a fixed salt, as
// long as a comparison with a real hash. It is written out, not computed:
// computing it (64 MiB, about a second of CPU and page faults on a small
// machine) at package initialisation made every process pay it, each CLI
// command and report included.
var dummyHash = fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", // v=19: argon2 version 1.3, argon2id's
	argonParams.Memory, argonParams.Iterations, argonParams.Parallelism,
	base64.RawStdEncoding.EncodeToString(make([]byte, argonParams.SaltLength)),
	base64.RawStdEncoding.EncodeToString(make([]byte, argonParams.KeyLength)))

// Authenticate checks a username and password. A success is recorded in
// the audit log at once (session.signin); failures are aggregated (see
// FlushFailedSignIns). Errors: Unauthorized with one message for an
// unknown user and a wrong password alike; Unavailable when every
// password-hashing slot stayed busy for the configured wait.
func (s *SignInService) Authenticate(ctx context.Context, username, password string) (domain.User, error) {
	u, err := s.authenticate(ctx, username, password)
	if apperr.Is(err, apperr.Unauthorized) {
		if full := s.failed.add(cut(username, MaxAuditUsername), audit.ActorFrom(ctx).RemoteAddr, s.now()); full {
			if ferr := s.FlushFailedSignIns(ctx, true); ferr != nil {
				return domain.User{}, ferr
			}
		}
		return u, err
	}
	if err != nil {
		return u, err
	}
	ev := audit.New(ctx, s.now(), audit.ActionSignIn, audit.TargetUser, u.ID, map[string]any{"username": cut(username, MaxAuditUsername)})
	ev.Actor, ev.ActorID = u.Username, u.ID
	if _, aerr := s.store.AppendAudit(ctx, ev); aerr != nil {
		return domain.User{}, aerr
	}
	now := s.now()
	if err := s.store.TouchUserSignIn(ctx, u.ID, now); err != nil {
		return domain.User{}, err
	}
	u.LastSignInAt = &now
	return u, nil
}

// cut returns at most n characters (runes) of s.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func (s *SignInService) authenticate(ctx context.Context, username, password string) (domain.User, error) {
	bad := apperr.Errorf(apperr.Unauthorized, "Wrong username or password.")
	if username == "" || password == "" || len(password) > MaxPasswordBytes || len(username) > 1024 {
		return domain.User{}, bad
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return domain.User{}, err
	}
	hash := dummyHash
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, herr := s.comparePassword(ctx, password, hash)
	if herr != nil {
		return domain.User{}, herr
	}
	if err != nil || !ok || !u.Active() || u.PasswordHash == "" {
		// A disabled or deleted user, and a user of a connector (no local
		// password), get the same answer: the message does not say why.
		return domain.User{}, bad
	}
	if u.Role != domain.RoleAdmin {
		// Only after the password matched, so the answer reveals nothing
		// to someone guessing.
		policy, _, err := s.store.Setting(ctx, domain.SettingLocalSignIn)
		if err != nil {
			return domain.User{}, err
		}
		if policy == domain.LocalSignInAdminsOnly {
			return domain.User{}, apperr.Errorf(apperr.Forbidden, "Local passwords are only for administrators here. Sign in with your organization's directory.")
		}
	}
	return u, nil
}

// failedSignIns aggregates failed sign-ins in memory: one bucket per
// (username, address, minute). Flushing writes one session.signin_failed
// event per bucket, with the count, so a flood grows the audit log by at
// most one event per (username, address) per minute.
type failedSignIns struct {
	mu      sync.Mutex
	buckets map[failKey]*failBucket
	max     int
}

type failKey struct {
	username, addr string
	minute         int64
}

type failBucket struct {
	first, last time.Time
	count       int
}

// maxFailBuckets bounds the buckets held before a forced flush.
const maxFailBuckets = 10_000

func newFailedSignIns() *failedSignIns {
	return &failedSignIns{buckets: map[failKey]*failBucket{}, max: maxFailBuckets}
}

// add counts one failure; it reports true when the buckets are full and
// must be flushed now.
func (f *failedSignIns) add(username, addr string, at time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := failKey{username: strings.ToLower(username), addr: addr, minute: at.Unix() / 60}
	b := f.buckets[k]
	if b == nil {
		b = &failBucket{first: at}
		f.buckets[k] = b
	}
	b.count++
	b.last = at
	return len(f.buckets) >= f.max
}

// take removes and returns the buckets whose minute ended before now (all
// of them when all is set), oldest first.
func (f *failedSignIns) take(now time.Time, all bool) []failEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := now.Unix() / 60
	var out []failEntry
	for k, b := range f.buckets {
		if all || k.minute < cur {
			out = append(out, failEntry{failKey: k, failBucket: *b})
			delete(f.buckets, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first.Before(out[j].first) })
	return out
}

type failEntry struct {
	failKey
	failBucket
}

// FlushFailedSignIns writes one session.signin_failed event per
// (username, address, minute) whose minute has ended — every pending one
// when all is set (at shutdown) — each with details username, count,
// first_at and last_at (RFC 3339). The events are written in one
// transaction.
func (s *SignInService) FlushFailedSignIns(ctx context.Context, all bool) error {
	entries := s.failed.take(s.now(), all)
	if len(entries) == 0 {
		return nil
	}
	return s.store.WriteTx(ctx, func(ctx context.Context) error {
		for _, e := range entries {
			actx := audit.WithActor(ctx, audit.Actor{Name: "anonymous", RemoteAddr: e.addr})
			ev := audit.New(actx, e.first, audit.ActionSignInFailed, audit.TargetUser, "", map[string]any{
				"username": e.username, "count": e.count,
				"first_at": e.first.UTC().Format(time.RFC3339), "last_at": e.last.UTC().Format(time.RFC3339)})
			if _, err := s.store.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// NoteFailedSignIn counts a failed sign-in made elsewhere (a directory
// connector's wrong password) with the local ones: aggregated into
// session.signin_failed events (see FlushFailedSignIns). username is as
// typed, e.g. "corp/alice".
func (s *SignInService) NoteFailedSignIn(ctx context.Context, username string) error {
	if full := s.failed.add(cut(username, MaxAuditUsername), audit.ActorFrom(ctx).RemoteAddr, s.now()); full {
		return s.FlushFailedSignIns(ctx, true)
	}
	return nil
}

// RecordSignOut records that the user signed out.
func (s *SignInService) RecordSignOut(ctx context.Context, u domain.User) error {
	_, err := s.store.AppendAudit(ctx, audit.New(ctx, s.now(), audit.ActionSignOut, audit.TargetUser, u.ID, nil))
	return err
}

// truncate returns at most n bytes of s.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
