package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// BenchmarkRotateRefresh is the database half of a refresh: read the
// presented token with its authorization, then in the group commit mark
// it used and insert its successor; 32 callers at once (the load of make
// bench), on SQLite and, with OAUTHDESK_TEST_POSTGRES, on PostgreSQL.
// Besides the time per refresh it reports the CPU time per refresh of
// this process (cpu-µs/op, getrusage) and, on PostgreSQL, of the
// database's server processes for this database (pg-cpu-µs/op, from
// /proc when the server runs on this machine): on a shared machine the
// time per op follows the load, the CPU per op much less.
func BenchmarkRotateRefresh(b *testing.B) {
	dbs := map[string]func(testing.TB) *DB{"sqlite": newDB}
	if storetest.PostgresURL() != "" {
		dbs["postgres"] = newPostgresDB
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := open(b)
			_, z := mkCode(b, ctx, db)
			var n atomic.Int64
			b.SetParallelism(16) // 32 callers on 2 CPUs
			backends := backendPIDs(b, db)
			cpu0, pg0 := selfCPU(), procCPU(backends)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				cur := mkRefresh(b, ctx, db, z, uuid.NewString())
				for pb.Next() {
					if _, _, err := db.RefreshTokenWithAuthorization(ctx, cur.Hash); err != nil {
						b.Error(err)
						return
					}
					id := uuid.NewString()
					next := domain.RefreshToken{ID: id, Hash: []byte("rt-" + id), AuthorizationID: z.ID, FamilyID: cur.FamilyID, ClientID: z.ClientID,
						UserID: z.UserID, SecretID: "s", Scopes: z.Scopes, CreatedAt: now0, ExpiresAt: now0.AddDate(1, 0, 0)}
					if won, err := db.RotateRefreshToken(ctx, cur.ID, next); err != nil || !won {
						b.Errorf("rotate: won %v, err %v", won, err)
						return
					}
					cur = next
					n.Add(1)
				}
			})
			b.StopTimer()
			if ops := n.Load(); ops > 0 {
				b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/float64(ops), "cpu-µs/op")
				if len(backends) > 0 {
					b.ReportMetric(float64((procCPU(backendPIDs(b, db))-pg0).Microseconds())/float64(ops), "pg-cpu-µs/op")
				}
			}
		})
	}
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendPIDs lists the PostgreSQL server processes serving db's database
// (nil on SQLite), opening every connection of the pool first so that the
// list does not grow during the benchmark.
func backendPIDs(b *testing.B, db *DB) []int {
	if db.fl.name != "postgres" {
		return nil
	}
	sqlDB, err := db.w.DB()
	if err != nil {
		b.Fatal(err)
	}
	var conns []interface{ Close() error }
	for range PoolSize {
		c, err := sqlDB.Conn(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	var pids []int
	if err := db.w.Raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`).Scan(&pids).Error; err != nil {
		b.Fatal(err)
	}
	return pids
}

// procCPU sums the user and system CPU time of the processes pids from
// /proc (0 for one that is gone or elsewhere).
func procCPU(pids []int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64) // utime: field 14 of stat
		k, _ := strconv.ParseInt(f[12], 10, 64) // stime: field 15
		ticks += u + k
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
