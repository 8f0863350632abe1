package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"gorm.io/gorm"
)

// MaxBatch is the most BatchTx calls that share one transaction.
const MaxBatch = 64

// maxBatchAttempts bounds how often a BatchTx call runs that the database
// aborted as a deadlock victim or serialization failure (PostgreSQL).
const maxBatchAttempts = 30

// ErrClosed is returned by BatchTx once the database is closed.
var ErrClosed = errors.New("store: database closed")

// batcher is the group commit behind BatchTx: a loop takes the calls
// waiting for it, runs each in a savepoint of one write transaction,
// commits, and then answers them all. The flavor's committers loops run at
// once (one on SQLite), each with its own transaction.
type batcher struct {
	once sync.Once
	reqs chan *batchReq
	quit chan struct{}
	done chan struct{} // closed when every loop has ended
}

type batchReq struct {
	ctx  context.Context
	fn   func(ctx context.Context) error
	done chan error
}

// BatchTx runs fn in a write transaction that it may share with other
// BatchTx calls made at the same time (group commit): the calls waiting
// when the previous transaction ended, up to MaxBatch, run one after the
// other in one transaction, and the transaction commits once. fn's writes
// are rolled back alone when it returns an error or panics (the batch is
// then run again with a savepoint around each call).
//
// fn may therefore run more than once — again after another call of its
// batch failed, and up to maxBatchAttempts times on PostgreSQL after a
// deadlock — and only its last run counts. So fn must do nothing outside
// the transaction (no logging, metrics, messages, or writes to memory that
// outlive it other than its results, which it sets afresh on each run):
// do those after BatchTx returned nil (see oauth's runGrant and
// afterCommit; the conformance test BatchTxRunsAgain shows the re-run).
//
// BatchTx returns only after the commit, with
// fn's error, or the commit's error when the commit failed (then nothing
// of fn stuck). Inside another write transaction it joins it.
//
// Calls in one batch see each other's writes as if they ran one after
// the other. On PostgreSQL several batches commit in parallel (row locks
// order calls that touch the same rows, as with two replicas); a call
// aborted as a deadlock victim or serialization failure runs again, up to
// maxBatchAttempts times. ctx is not used to cancel a started batch (the others in it
// would lose their work); a call whose ctx ended before its turn is
// skipped with ctx.Err(). Errors: fn's, the commit's, ErrClosed.
func (db *DB) BatchTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if tx, ok := ctx.Value(txKey{}).(*txState); ok && tx.write {
		return fn(ctx)
	}
	b := &db.batch
	b.once.Do(func() {
		b.reqs = make(chan *batchReq, MaxBatch)
		b.quit = make(chan struct{})
		b.done = make(chan struct{})
		n := max(db.fl.committers, 1)
		var wg sync.WaitGroup
		wg.Add(n)
		for range n {
			go func() { defer wg.Done(); db.commitLoop() }()
		}
		go func() { wg.Wait(); close(b.done) }()
	})
	r := &batchReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-b.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-b.done: // closed meanwhile
		select {
		case err := <-r.done:
			return err
		default:
			return ErrClosed
		}
	}
}

// stopBatches ends the commit loop (from Close); queued calls get
// ErrClosed.
func (db *DB) stopBatches() {
	b := &db.batch
	b.once.Do(func() { b.quit = make(chan struct{}); b.done = make(chan struct{}); close(b.done) })
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.done
}

func (db *DB) commitLoop() {
	b := &db.batch
	batch := make([]*batchReq, 0, MaxBatch)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.quit:
			for {
				select {
				case r := <-b.reqs:
					r.done <- ErrClosed
				default:
					return
				}
			}
		}
		// Take what waits; then yield a couple of times, so that requests
		// about to arrive (their handlers are running) join this batch.
		for spins := 0; spins < 3 && len(batch) < MaxBatch; spins++ {
		fill:
			for len(batch) < MaxBatch {
				select {
				case r := <-b.reqs:
					batch = append(batch, r)
				default:
					break fill
				}
			}
			runtime.Gosched()
		}
		for len(batch) < MaxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
				continue
			default:
			}
			break
		}
		db.runBatch(batch)
	}
}

// runBatch runs one batch and answers every call. A call that failed
// because the database aborted it as a deadlock victim or serialization
// failure (PostgreSQL, with batches or replicas committing in parallel)
// runs again, with the others that did, in a new transaction; the rest are
// answered at once.
func (db *DB) runBatch(batch []*batchReq) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			// A little jitter, so that the batches that deadlocked do
			// not meet again in the same order.
			// The bound doubles each attempt up to 64 ms, so that under
			// heavy contention the victims spread out instead of meeting
			// again (10 attempts of at most a few ms lost 1 call in 400 of
			// the opposite-orders conformance test under -race).
			time.Sleep(time.Duration(rand.Int64N(int64(min(1<<attempt, 64)) * int64(time.Millisecond))))
		}
		errs := db.runBatchOnce(batch)
		again := batch[:0:0]
		for i, r := range batch {
			if errs[i] != nil && attempt < maxBatchAttempts && db.fl.retryable(errs[i]) {
				again = append(again, r)
				continue
			}
			r.done <- errs[i]
		}
		if len(again) == 0 {
			return
		}
		batch = again
	}
}

// runBatchOnce runs one batch in one write transaction and returns each
// call's error. Optimistically first: every call runs straight in the
// transaction; if one fails, that attempt is rolled back and the batch
// runs again with a savepoint around each call, so that only the failing
// call's writes are undone. (A call's fn may thus run twice; only the
// second run's writes and results count, and nothing was answered yet.)
func (db *DB) runBatchOnce(batch []*batchReq) []error {
	errs := make([]error, len(batch))
	st := &txState{write: true}
	errFailed := errors.New("a call failed")
	err := db.w.WithContext(context.Background()).Transaction(func(g *gorm.DB) error {
		st.g = g
		for i, r := range batch {
			if errs[i] = runOne(r, st); errs[i] != nil {
				return errFailed
			}
		}
		return nil
	})
	if errors.Is(err, errFailed) {
		if len(batch) == 1 {
			err = nil // its own error, its writes rolled back
		} else {
			clear(errs)
			st = &txState{write: true}
			err = db.w.WithContext(context.Background()).Transaction(func(g *gorm.DB) error {
				st.g = g
				for i, r := range batch {
					if err := g.Exec("SAVEPOINT oauthdesk_batch").Error; err != nil {
						return err
					}
					if errs[i] = runOne(r, st); errs[i] != nil {
						if err := g.Exec("ROLLBACK TO SAVEPOINT oauthdesk_batch").Error; err != nil {
							return err
						}
					}
					if err := g.Exec("RELEASE SAVEPOINT oauthdesk_batch").Error; err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	if err != nil { // the transaction failed: nobody's writes stuck
		for i := range errs {
			if errs[i] == nil {
				errs[i] = translate(err, "write transaction")
			}
		}
	}
	if err == nil && st.invalidated {
		db.gen.Add(1) // the caches of this process must look again
	}
	return errs
}

// runOne runs one call's fn in the shared transaction, turning a panic
// into an error.
func runOne(r *batchReq, st *txState) (err error) {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a batched transaction: %v", p)
		}
	}()
	return r.fn(context.WithValue(r.ctx, txKey{}, st))
}
