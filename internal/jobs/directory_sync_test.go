package jobs

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// oneLease is a lease that one holder at a time gets.
type oneLease struct {
	mu     sync.Mutex
	holder string
}

func (l *oneLease) AcquireLock(_ context.Context, _, holder string, _ time.Time, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != "" && l.holder != holder {
		return false, nil
	}
	l.holder = holder
	return true, nil
}

func (l *oneLease) ReleaseLock(_ context.Context, _, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.holder = ""
	}
	return nil
}

// Two replicas share a lease: rounds run, never two at once, and both
// loops end when the context does.
func TestRunDirectorySyncOneAtATime(t *testing.T) {
	var running, maxRunning, rounds atomic.Int32
	doSync := func(context.Context) error {
		n := running.Add(1)
		for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
		}
		time.Sleep(15 * time.Millisecond)
		running.Add(-1)
		rounds.Add(1)
		return nil
	}
	lease := &oneLease{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			RunDirectorySync(ctx, lease, 10*time.Millisecond, doSync, time.Now, slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	if rounds.Load() < 3 {
		t.Errorf("%d rounds in 300 ms every 10 ms", rounds.Load())
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d syncs ran at once, want 1", maxRunning.Load())
	}
}
