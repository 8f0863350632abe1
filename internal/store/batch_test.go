package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestBatchTx: concurrent BatchTx calls share transactions; a failing or
// panicking call's writes are undone alone, the others' stick, and each
// call gets its own error; after Close, ErrClosed.
func TestBatchTx(t *testing.T) {
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
