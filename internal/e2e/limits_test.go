package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/server"
)

// IPv6 clients are limited by their /64: addresses of one /64 (as a
// trusted proxy forwards them) share the per-address sign-in budget and
// the per-username failure delays; another /64 has its own.
func TestLimitsKeyIPv6ByPrefix(t *testing.T) {
	t.Parallel()
	ts := newTestServerWith(t, func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.11/32"} })
	ts.addUser(t, "mallory", domain.RoleMember, "mallory-password-1")
	proxy := ts.agentFrom(t, "127.0.0.11")
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }

	began := time.Now() // the bucket refills from the first attempt on
	// Six wrong passwords for one name from six addresses of one /64:
	// the sixth waits, as from one address.
	for i := 1; i <= 6; i++ {
		r := proxy.postSignIn("mallory", "guess-"+strconv.Itoa(i), from("2001:db8:1:2::"+strconv.Itoa(i))...)
		want := http.StatusUnauthorized
		if i == 6 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("attempt %d from 2001:db8:1:2::%d: %d, want %d", i, i, r.Status, want)
		}
	}
	// Another /64 is another client: the right password works there.
	if r := ts.agentFrom(t, "127.0.0.11").postSignIn("mallory", "mallory-password-1", from("2001:db8:1:3::1")...); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in from another /64: %d, want 303", r.Status)
	}
	// The per-address budget (20 a minute, refilled one every 3 s) is
	// the /64's: 6 spent above, so addresses rotating inside it are
	// refused after about 14 more, plus one for every 3 s the attempts
	// took (each one hashes, which is slow on a loaded machine).
	for i := 1; i <= 100; i++ {
		r := proxy.postSignIn("n"+strconv.Itoa(i), "x", from("2001:db8:1:2:"+strconv.Itoa(i)+"::9")...)
		if r.Status == http.StatusTooManyRequests {
			refill := int(time.Since(began)/(3*time.Second)) + 1
			if i < 14 || i > 15+refill {
				t.Fatalf("refused after %d more attempts in %v, want 14 to %d (20 a minute)", i, time.Since(began).Round(time.Millisecond), 15+refill)
			}
			return
		}
	}
	t.Errorf("106 sign-in attempts from 106 addresses of one /64 were never limited")
}
