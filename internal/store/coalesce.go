package store

import (
	"context"
	"runtime"
	"sync"
)

// coalescer is a group commit for calls that are data, not code: loops
// (as many as the flavor's committers) each take the calls waiting, up to
// MaxBatch, and hand them to run as one batch, which answers every call
// (typically with one round trip: PostgreSQL's refresh rotations, one
// pipeline, rotation.go). Since a batch is data, running it again after a
// deadlock has no side effect outside the database.
type coalescer[I, O any] struct {
	once sync.Once
	reqs chan *call[I, O]
	quit chan struct{}
	done chan struct{} // closed when every loop has ended
}

// call is one caller waiting for its batch.
type call[I, O any] struct {
	ctx  context.Context
	in   I
	done chan result[O]
}

type result[O any] struct {
	out O
	err error
}

func (c *call[I, O]) answer(out O, err error) { c.done <- result[O]{out, err} }

// do queues in for the next batch and waits for its answer. The loops
// start on the first call. Errors: run's, ctx.Err() when ctx ends before
// the call is queued or its batch starts, ErrClosed.
func (q *coalescer[I, O]) do(ctx context.Context, loops int, run func(batch []*call[I, O]), in I) (O, error) {
	q.once.Do(func() {
		q.reqs = make(chan *call[I, O], MaxBatch)
		q.quit = make(chan struct{})
		q.done = make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(max(loops, 1))
		for range max(loops, 1) {
			go func() { defer wg.Done(); q.loop(run) }()
		}
		go func() { wg.Wait(); close(q.done) }()
	})
	var zero O
	c := &call[I, O]{ctx: ctx, in: in, done: make(chan result[O], 1)}
	select {
	case q.reqs <- c:
	case <-q.quit:
		return zero, ErrClosed
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	select {
	case r := <-c.done:
		return r.out, r.err
	case <-q.done:
		select {
		case r := <-c.done:
			return r.out, r.err
		default:
			return zero, ErrClosed
		}
	}
}

// stop ends the loops (from Close); queued calls get ErrClosed.
func (q *coalescer[I, O]) stop() {
	q.once.Do(func() { q.quit = make(chan struct{}); q.done = make(chan struct{}); close(q.done) })
	select {
	case <-q.quit:
	default:
		close(q.quit)
	}
	<-q.done
}

func (q *coalescer[I, O]) loop(run func(batch []*call[I, O])) {
	var zero O
	batch := make([]*call[I, O], 0, MaxBatch)
	for {
		select {
		case c := <-q.reqs:
			batch = append(batch[:0], c)
		case <-q.quit:
			for {
				select {
				case c := <-q.reqs:
					c.answer(zero, ErrClosed)
				default:
					return
				}
			}
		}
		// Take what waits; then yield a couple of times, so that calls
		// about to arrive (their handlers are running) join this batch.
		for spins := 0; spins < 3 && len(batch) < MaxBatch; spins++ {
		fill:
			for len(batch) < MaxBatch {
				select {
				case c := <-q.reqs:
					batch = append(batch, c)
				default:
					break fill
				}
			}
			runtime.Gosched()
		}
	last:
		for len(batch) < MaxBatch {
			select {
			case c := <-q.reqs:
				batch = append(batch, c)
			default:
				break last
			}
		}
		live := batch[:0:0]
		for _, c := range batch {
			if err := c.ctx.Err(); err != nil {
				c.answer(zero, err)
				continue
			}
			live = append(live, c)
		}
		if len(live) > 0 {
			run(live)
		}
	}
}
