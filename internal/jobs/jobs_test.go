package jobs

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/oauthdesk/oauthdesk/internal/store"
	"github.com/oauthdesk/oauthdesk/internal/store/storetest"
)

// countingSink counts deliveries.
type countingSink struct{ n atomic.Int64 }

func (c *countingSink) Name() string { return "count:" }

func (c *countingSink) Deliver(context.Context, Report) (int, error) { c.n.Add(1); return 1, nil }

func openStores(t *testing.T, dsn string) (*store.DB, *store.DB) {
	t.Helper()
	open := func() *store.DB {
		db, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	return open(), open()
}

// TestScheduledSlotRunsOnce: two replicas (two handles on one database)
// whose timers fire for the same schedule slot deliver the report once
// between them; the next slot runs again; "run now" is never deduplicated.
func TestScheduledSlotRunsOnce(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "jobs.db") },
		"postgres": func(t *testing.T) string { return storetest.NewPostgres(t) },
	}
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			a, b := openStores(t, dsn(t))
			sink := &countingSink{}
			now := func() time.Time { return time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC) }
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			var scheds []*Scheduler
			for _, st := range []Store{a, b} {
				s, err := New(Config{Sinks: []Sink{sink}, Now: now, Log: log}, st)
				if err != nil {
					t.Fatal(err)
				}
				scheds = append(scheds, s)
			}
			slot := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := scheds[i%2].runScheduled(t.Context(), slot); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if got := sink.n.Load(); got != 1 {
				t.Fatalf("one slot fired on two replicas: %d deliveries, want 1", got)
			}
			if _, err := scheds[1].runScheduled(t.Context(), slot.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := scheds[0].Run(t.Context(), TriggerManual); err != nil {
				t.Fatal(err)
			}
			if got := sink.n.Load(); got != 3 {
				t.Errorf("after the next slot and a manual run: %d deliveries, want 3", got)
			}
		})
	}
}

func TestSlot(t *testing.T) {
	s := &Scheduler{}
	at := time.Date(2026, 12, 1, 7, 0, 0, 400_000_000, time.UTC)
	every, _ := cron.ParseStandard("@every 1h")
	daily, _ := cron.ParseStandard("0 7 * * *")
	cases := []struct {
		name string
		e    cron.Entry
		want time.Time
	}{
		{"cron: the activation time", cron.Entry{Schedule: daily, Prev: at}, at.Truncate(time.Second)},
		{"@every: rounded down to the interval", cron.Entry{Schedule: every, Prev: at.Add(17 * time.Minute)}, at.Truncate(time.Hour)},
		{"no activation yet: now", cron.Entry{Schedule: daily}, at.Add(time.Minute).Truncate(time.Second)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.slot(c.e, at.Add(time.Minute)); !got.Equal(c.want) {
				t.Errorf("slot = %v, want %v", got, c.want)
			}
		})
	}
}
