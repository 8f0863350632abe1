package federation

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// pauseAfterRead is the sign-in's store on one replica: its first read of
// the user through the method named at (UserBySubject or UserByID, both
// only read inside signInTx's write transaction) returns, then waits
// until resume is closed or wait passes, so that another replica's change
// of that user can commit between the sign-in's read and its write.
type pauseAfterRead struct {
	SignInStore
	at     string
	wait   time.Duration
	resume <-chan struct{}
	read   chan struct{} // closed once the read returned
	once   sync.Once
	// meanwhile records that resume was closed while the sign-in waited.
	meanwhile bool
}

func (p *pauseAfterRead) pause(method string) {
	if method != p.at {
		return
	}
	p.once.Do(func() {
		close(p.read)
		select {
		case <-p.resume:
			p.meanwhile = true
		case <-time.After(p.wait):
		}
	})
}

func (p *pauseAfterRead) UserBySubject(ctx context.Context, source, subject string) (u domain.User, err error) {
	u, err = p.SignInStore.UserBySubject(ctx, source, subject)
	p.pause("UserBySubject")
	return u, err
}

func (p *pauseAfterRead) UserByID(ctx context.Context, id string) (u domain.User, err error) {
	u, err = p.SignInStore.UserByID(ctx, id)
	p.pause("UserByID")
	return u, err
}

// TestSignInRacesDisable: a directory sign-in on one replica that updates
// the user (a new display name upstream) races an administrator's disable
// of that user on another, on SQLite and on PostgreSQL when
// OAUTHDESK_TEST_POSTGRES is set. The sign-in is paused after it read the
// user (first the read that finds the user by subject, then the read the
// update is based on) until the disable commits or a second passes, then
// goes on. Whatever the order, the user ends disabled: a disable that
// committed meanwhile refuses the sign-in (Forbidden, nothing written);
// one that could not (the sign-in held the user's row, or SQLite's single
// writer) comes after the sign-in and keeps its change. Without the lock
// before the read (signInTx), the sign-in on PostgreSQL writes the user
// back as it read it, enabled.
func TestSignInRacesDisable(t *testing.T) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "t.db")}
	if storetest.PostgresURL() != "" {
		dsns["postgres"] = storetest.NewPostgres(t)
	}
	for dbName, dsn := range dsns {
		t.Run(dbName, func(t *testing.T) {
			signer, adm := newEnvOn(t, dsn), newEnvOn(t, dsn)
			for _, tc := range []struct{ person, at, newName string }{
				{"bob", "UserBySubject", "Robert"},
				{"carol", "UserByID", "Caroline"},
			} {
				t.Run("paused after "+tc.at, func(t *testing.T) {
					ctx := context.Background()
					before, err := signer.login(t, tc.person)
					if err != nil {
						t.Fatal(err)
					}
					p := signer.dir.people[tc.person]
					p.Name = tc.newName
					signer.dir.people[tc.person] = p

					disabled, signedIn := make(chan struct{}), make(chan struct{})
					paused := &pauseAfterRead{SignInStore: signer.db, at: tc.at, wait: time.Second,
						resume: disabled, read: make(chan struct{})}
					svc := *signer.fed.SignInService
					svc.store = paused
					var signErr, disErr error
					var wg sync.WaitGroup
					wg.Add(2)
					go func() {
						defer wg.Done()
						defer close(signedIn)
						_, signErr = svc.PasswordLogin(ctx, "corp", tc.person, "pw")
					}()
					go func() {
						defer wg.Done()
						defer close(disabled)
						select {
						case <-paused.read:
						case <-signedIn:
							t.Errorf("the sign-in never read the user through %s: the interleaving was not forced", tc.at)
						}
						_, disErr = adm.adm.SetDisabled(ctx, before.ID, true)
					}()
					wg.Wait()

					if disErr != nil {
						t.Fatalf("disable: %v", disErr)
					}
					got, err := adm.db.UserBySubject(ctx, "corp", before.Subject)
					if err != nil {
						t.Fatal(err)
					}
					if got.DisabledAt == nil {
						t.Errorf("%s is enabled after the disable (sign-in: %v, disable committed while it was paused: %v): the sign-in wrote back what it read",
							tc.person, signErr, paused.meanwhile)
					}
					if paused.meanwhile {
						// The disable committed between the sign-in's read and
						// its write: the sign-in must see it and be refused.
						if !apperr.Is(signErr, apperr.Forbidden) || got.DisplayName != before.DisplayName {
							t.Errorf("sign-in after a disable committed meanwhile: %v, display name %q; want Forbidden, %q unchanged",
								signErr, got.DisplayName, before.DisplayName)
						}
					} else if signErr != nil || got.DisplayName != tc.newName {
						// The disable waited: the sign-in ran wholly before it.
						t.Errorf("sign-in before the disable: %v, display name %q; want success, %q kept by the disable",
							signErr, got.DisplayName, tc.newName)
					}
					t.Logf("disable committed while the sign-in was paused: %v; sign-in: %v", paused.meanwhile, signErr)
				})
			}
		})
	}
}
