package store

import (
	"context"
	"testing"

	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// The storage conformance suite (dex's storage/conformance shape): every
// backend runs the same tests. SQLite always; PostgreSQL when
// OAUTHDESK_TEST_POSTGRES holds a server URL, each test on a database of
// its own, dropped after.

// suite lists the conformance tests.
var suite = []struct {
	name string
	fn   func(t *testing.T, newDB func(testing.TB) *DB)
}{
	{"Migrate", testMigrateIsIdempotentAndCreatesTables},
	{"MigrateRefusesNewerSchema", testMigrateRefusesNewerSchema},
	{"AuditActorIsUserSubject", testAuditActorIsUserSubject},
	{"RefreshTokenKeys", testRefreshTokenKeys},
	{"WriteInsideReadTxFails", testWriteInsideReadTxFails},
	{"UsernameUniqueCaseInsensitive", testUsernameUniqueCaseInsensitive},
	{"WriteTxRollbackAndNesting", testWriteTxRollbackAndNesting},
	{"ConcurrentWritersAndReaders", testConcurrentWritersAndReaders},
	{"SameStatementInAndOutOfTransaction", testSameStatementInAndOutOfTransaction},
	{"ReadTxWhileReadPoolIsFull", testReadTxWhileReadPoolIsFull},
	{"ListAppsKeysetPagination", testListAppsKeysetPagination},
	{"ListAppsSearch", testListAppsSearch},
	{"ListAppsDenseFilters", testListAppsDenseFilters},
	{"ListAppsExpiryWindow", testListAppsExpiryWindow},
	{"ListPATsSearch", testListPATsSearch},
	{"LongExpiryWalk", testLongExpiryWalk},
	{"DirectScopeHolders", testDirectScopeHolders},
	{"ScopePreviews", testScopePreviews},
	{"ListAppsOrders", testListAppsOrders},
	{"MarkUsedHasOneWinner", testMarkUsedHasOneWinner},
	{"RotateRefreshToken", testRotateRefreshToken},
	{"RevokeAuthorization", testRevokeAuthorization},
	{"SessionStore", testSessionStore},
	{"ChangeWatcherSeesOtherProcess", testChangeWatcherSeesOtherProcess},
	{"AuditChainConcurrentWriters", testAuditChainConcurrentWriters},
	{"SigningKeyCreatedOnce", testSigningKeyCreatedOnce},
	{"JobLockOneHolder", testJobLockOneHolder},
	{"ScopeUsageAccumulates", testScopeUsageAccumulates},
	{"SettingsUpsert", testSettingsUpsert},
	{"PendingChangesAndInvitations", testPendingChangesAndInvitations},
	{"RetireSecretOnce", testRetireSecretOnce},
	{"ConcurrentConsentOnePair", testConcurrentConsentOnePair},
	{"Seed", testSeed},
	{"BatchTx", testBatchTx},
	{"BatchTxRunsAgain", testBatchTxRunsAgain},
	{"BatchTxOppositeOrders", testBatchTxOppositeOrders},
	{"RefreshTokenWithAuthorization", testRefreshTokenWithAuthorization},
	{"RefreshReadsConcurrent", testRefreshReadsConcurrent},
	{"LastAdminRace", testLastAdminRace},
	{"LastOwnerRace", testLastOwnerRace},
	{"SoleOwnerOffboardingRace", testSoleOwnerOffboardingRace},
	{"UserChangesRace", testUserChangesRace},
	{"CoOwnerDeleteRace", testCoOwnerDeleteRace},
	{"ForkSiblingsOneRotates", testForkSiblingsOneRotates},
	{"SignInFailuresShared", testSignInFailuresShared},
	{"ClientAssertionOnce", testClientAssertionOnce},
	{"ClientGrantOnePerScopeSet", testClientGrantOnePerScopeSet},
	{"PATScopeSets", testPATScopeSets},
	{"PATScopeSetsRace", testPATScopeSetsRace},
}

// RunTests runs the conformance suite against the databases newDB returns
// (each migrated, empty, and closed when its test ends).
func RunTests(t *testing.T, newDB func(testing.TB) *DB) {
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newDB) })
	}
}

func TestConformanceSQLite(t *testing.T) { RunTests(t, newDB) }

func TestConformancePostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.EnvVar + " is not set: PostgreSQL conformance skipped")
	}
	RunTests(t, newPostgresDB)
}

// newPostgresDB returns a migrated database of its own on the test
// PostgreSQL server.
func newPostgresDB(t testing.TB) *DB {
	t.Helper()
	db := openAt(t, storetest.NewPostgres(t))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}
