package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// floodWorkers is the width of the sign-in flood: 64 sign-ins at
// once.
const floodWorkers = 64

// floodLoad is the refresh load of the refresh row, driven while 64
// clients — each from its own loopback address (127.0.2.1–64), as an
// attacker with many addresses would — post wrong passwords to /signin
// as fast as they are answered. The row's p99 is the token endpoint's
// during the flood; its peak RSS is the server's (argon2id takes 64 MiB a
// hash: without a bound on concurrent hashes 64 of them take 4 GiB).
func floodLoad(ctx context.Context, b *bench, done map[string]row) (load, error) {
	l, err := refreshLoad(ctx, b, done)
	if err != nil {
		return load{}, err
	}
	l.during = func(ctx context.Context) func() {
		return startFlood(ctx, b.base)
	}
	return l, nil
}

// startFlood starts the flood and returns the function that stops it and
// logs what the flood saw (status counts).
func startFlood(ctx context.Context, base string) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var sent atomic.Int64
	for i := range floodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := floodClient(fmt.Sprintf("127.0.2.%d", i+1))
			defer c.CloseIdleConnections()
			token := ""
			for ctx.Err() == nil {
				if token == "" {
					if token = floodCSRF(ctx, c, base); token == "" {
						time.Sleep(50 * time.Millisecond)
						continue
					}
				}
				form := url.Values{"_csrf": {token}, "username": {"user-" + rand.Text()[:8]}, "password": {"wrong-" + rand.Text()}}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", formType)
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusForbidden {
					token = "" // the CSRF cookie changed: fetch a new token
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		logf("sign-in flood: %d requests, statuses %v", sent.Load(), statuses)
	}
}

// floodClient is a client whose connections come from local (a loopback
// address), with its own cookie jar, following no redirects.
func floodClient(local string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}
	return &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func floodCSRF(ctx context.Context, c *http.Client, base string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/signin", nil)
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}
