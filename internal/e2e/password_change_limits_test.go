package e2e

// POST /profile/password over HTTP: its argon2id hashes share sign-in's
// bounded slots (503 with Retry-After, never unbounded memory), lengths
// are checked before hashing, and wrong current passwords count against
// sign-in's per-username failure delays.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/server"
)

func TestPasswordChangeBoundedAndDelayed(t *testing.T) {
	t.Parallel()
	e := lcNewEnvWith(t, func(c *server.Config) {
		c.HashConcurrency, c.HashWait = 1, 30*time.Millisecond
	})
	alice := e.member(t, "alice")
	csrf := alice.a.csrf("/profile/password")
	change := func(current string) response {
		return alice.a.postForm("/profile/password", url.Values{"_csrf": {csrf}, "current_password": {current},
			"new_password": {"a brand new long password"}})
	}

	// A 900 KB current password is refused by its length (no hash: see
	// admin's TestChangePasswordChecksLengthFirst), as a wrong password.
	huge := change(strings.Repeat("x", 900<<10))
	if huge.Status != http.StatusUnprocessableEntity || !strings.Contains(huge.Body, "current password is wrong") {
		t.Fatalf("900 KB current_password: %d %.300s", huge.Status, lcText(huge.Body))
	}

	// 24 concurrent changes from one member: one hashing slot, so most are
	// told the server is busy (503 with Retry-After) instead of each
	// taking 64 MiB.
	const n = 24
	statuses := make([]int, n)
	retry := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := change("not my password " + strings.Repeat("!", i))
			statuses[i], retry[i] = r.Status, r.Header.Get("Retry-After")
		})
	}
	wg.Wait()
	busy := 0
	for i, s := range statuses {
		switch s {
		case http.StatusServiceUnavailable:
			busy++
			if retry[i] == "" {
				t.Errorf("503 without Retry-After")
			}
		case http.StatusUnprocessableEntity, http.StatusTooManyRequests:
		default:
			t.Errorf("concurrent change %d: status %d", i, s)
		}
	}
	if busy == 0 {
		t.Fatalf("24 concurrent password changes with one hashing slot: statuses %v, want some 503", statuses)
	}

	// Sequential wrong guesses: after 5 failures in 15 minutes the next
	// attempt waits (429 with Retry-After), before anything is hashed.
	var limited response
	for i := range 7 {
		r := change("still not my password " + strings.Repeat("?", i))
		if r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong guess %d: status %d", i, r.Status)
		}
	}
	if limited.Status != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
		t.Fatal("repeated wrong current passwords were never delayed")
	}
	// The right password waits too, and the delay is sign-in's: /signin
	// as alice from this address is delayed as well.
	if r := change(lcPassword); r.Status != http.StatusTooManyRequests {
		t.Errorf("the right current password during the delay: %d, want 429", r.Status)
	}
	other := e.ts.newAgent(t)
	r := other.postForm("/signin", url.Values{"_csrf": {other.csrf("/signin")}, "username": {alice.Username}, "password": {lcPassword}})
	if r.Status != http.StatusTooManyRequests {
		t.Errorf("sign-in after wrong password-change guesses: %d, want 429", r.Status)
	}
	// Nothing changed: the old password still works.
	if _, err := e.ts.App.Admin.Authenticate(context.Background(), alice.Username, lcPassword); err != nil {
		t.Errorf("the password changed: %v", err)
	}
}
