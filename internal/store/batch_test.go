package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testBatchTx: concurrent BatchTx calls share transactions; a failing or
// panicking call's writes are undone alone, the others' stick, and each
// call gets its own error; after Close, ErrClosed.
func testBatchTx(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := context.Background()
	const n = 60
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.BatchTx(ctx, func(ctx context.Context) error {
				if err := db.SetSetting(ctx, fmt.Sprintf("k%02d", i), "v", now0); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errBoom // its write must be undone
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		_, set, err := db.Setting(ctx, fmt.Sprintf("k%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		switch i % 10 {
		case 3:
			if !errors.Is(errs[i], errBoom) || set {
				t.Errorf("call %d: error %v, write kept %v; want boom and no write", i, errs[i], set)
			}
		case 7:
			if errs[i] == nil || set {
				t.Errorf("call %d (panics): error %v, write kept %v", i, errs[i], set)
			}
		default:
			if errs[i] != nil || !set {
				t.Errorf("call %d: error %v, write kept %v; want nil and the write", i, errs[i], set)
			}
		}
	}
	// Inside a write transaction it joins it.
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		return db.BatchTx(ctx, func(ctx context.Context) error { return db.SetSetting(ctx, "joined", "v", now0) })
	})
	if _, set, _ := db.Setting(ctx, "joined"); err != nil || !set {
		t.Errorf("joined BatchTx: %v, set %v", err, set)
	}
	other := openAt(t, db.Path())
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.BatchTx(ctx, func(context.Context) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// testBatchTxOppositeOrders: group-committed calls that update the same
// two rows in opposite orders all succeed, each exactly once. On
// PostgreSQL several batches commit in parallel, so their transactions
// deadlock now and then; the victim's calls must run again, not fail.
func testBatchTxOppositeOrders(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	u := mkUser(t, ctx, db, "batch-owner")
	a, b := mkApp(t, ctx, db, u, "Batch A", "Co"), mkApp(t, ctx, db, u, "Batch B", "Co")
	ids := []string{a.Secrets[0].ID, b.Secrets[0].ID}
	bump := func(ctx context.Context, id string) error {
		_, err := db.execHot(ctx, "client secret", `UPDATE client_secrets SET use_count = use_count + 1 WHERE id = ?`, id)
		return err
	}
	const n = 400
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, second := ids[i%2], ids[1-i%2]
			errs[i] = db.BatchTx(ctx, func(ctx context.Context) error {
				if err := bump(ctx, first); err != nil {
					return err
				}
				return bump(ctx, second)
			})
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 3 {
				t.Errorf("call %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d calls failed", failed, n)
	}
	for _, id := range ids {
		var got int64
		if err := db.r.Raw(`SELECT use_count FROM client_secrets WHERE id = ?`, id).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != int64(n-failed) {
			t.Errorf("secret %s counted %d, want %d (each successful call once)", id, got, n-failed)
		}
	}
}

// testBatchTxRunsAgain: a call whose batch holds a failing call after it
// runs its function twice (the batch runs again with a savepoint around
// each call): the first run's writes are rolled back, the second run's
// stick, and BatchTx answers once, after the commit. This is why a
// function given to BatchTx must do nothing outside the transaction
// (oauth's runGrant logs a grant's warnings after the commit).
func testBatchTxRunsAgain(t *testing.T, newDB func(testing.TB) *DB) {
	db := newDB(t)
	ctx := context.Background()
	// Hold every commit loop, one at a time, so that the two calls below
	// wait in the queue; then free one loop, which takes both at once.
	loops := max(db.fl.committers, 1)
	release := make([]chan struct{}, loops)
	var held sync.WaitGroup
	for i := range loops {
		running := make(chan struct{})
		release[i] = make(chan struct{})
		held.Add(1)
		go func() {
			defer held.Done()
			_ = db.BatchTx(ctx, func(context.Context) error { close(running); <-release[i]; return nil })
		}()
		<-running
	}
	var runs atomic.Int64
	first := make(chan error, 1)
	go func() {
		first <- db.BatchTx(ctx, func(ctx context.Context) error {
			n := runs.Add(1)
			return db.SetSetting(ctx, "run", strconv.FormatInt(n, 10), now0)
		})
	}()
	time.Sleep(100 * time.Millisecond) // queued
	errLater := errors.New("a later call fails")
	later := make(chan error, 1)
	go func() { later <- db.BatchTx(ctx, func(context.Context) error { return errLater }) }()
	time.Sleep(100 * time.Millisecond)
	close(release[0])
	if err := <-first; err != nil {
		t.Fatalf("the first call: %v", err)
	}
	if err := <-later; !errors.Is(err, errLater) {
		t.Fatalf("the failing call: %v, want its own error", err)
	}
	for _, c := range release[1:] {
		close(c)
	}
	held.Wait()
	if n := runs.Load(); n != 2 {
		t.Fatalf("the first call's function ran %d times, want 2 (its batch ran again)", n)
	}
	if v, set, err := db.Setting(ctx, "run"); err != nil || !set || v != "2" {
		t.Errorf("setting written by the runs: %q (set %v, err %v); want the second run's \"2\"", v, set, err)
	}
}
