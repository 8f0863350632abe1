package cli

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers the server's log lines and writes them out every
// interval (and when the buffer fills, and on Close), so that a busy
// server does not pay one write system call per request line. A process
// killed with SIGKILL loses at most the last interval of log lines —
// never data: logs are not state.
type logWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// newLogWriter starts a logWriter over w flushing every interval.
func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				_ = l.w.Flush()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// Write buffers p (one log line per call, from slog).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Close stops the flushing and writes out what is buffered.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}
