package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// batcher is the group commit behind BatchTx: the coalescer's loops
// (the flavor's committers: one on SQLite) each take the calls waiting,
// run each in one write transaction (runBatch), commit, and then answer
// them all.
type batcher = coalescer[func(ctx context.Context) error, struct{}]

// batchReq is one BatchTx call waiting for its batch.
type batchReq = call[func(ctx context.Context) error, struct{}]

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
	_, err := db.batch.do(ctx, db.fl.committers, db.runBatch, fn)
	return err
}

// stopBatches ends the commit loops (from Close); queued calls get
// ErrClosed.
func (db *DB) stopBatches() { db.batch.stop() }

// retryPause sleeps before attempt (2, 3, …) of work the database aborted
// as a deadlock victim: a random pause whose bound doubles each attempt up
// to 64 ms, so that the victims spread out instead of meeting again in the
// same order (10 attempts of at most a few ms lost 1 call in 400 of the
// opposite-orders conformance test under -race).
func retryPause(attempt int) {
	time.Sleep(time.Duration(rand.Int64N(int64(min(1<<attempt, 64)) * int64(time.Millisecond))))
}

// runBatch runs one batch and answers every call. A call that failed
// because the database aborted it as a deadlock victim or serialization
// failure (PostgreSQL, with batches or replicas committing in parallel)
// runs again, with the others that did, in a new transaction; the rest are
// answered at once.
func (db *DB) runBatch(batch []*batchReq) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			retryPause(attempt)
		}
		errs := db.runBatchOnce(batch)
		again := batch[:0:0]
		for i, r := range batch {
			if errs[i] != nil && attempt < maxBatchAttempts && db.fl.retryable(errs[i]) {
				again = append(again, r)
				continue
			}
			r.answer(struct{}{}, errs[i])
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
	return r.in(context.WithValue(r.ctx, txKey{}, st))
}
