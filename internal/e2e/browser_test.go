package e2e

// Browser test helpers. They drive Debian's Chromium in headless mode through
// chromedp v0.23, so that a test reads like the session of a person:
//
//	ctx := newBrowser(t)
//	navigate(t, ctx, srv.URL+"/login")
//	fill(t, ctx, `input[name="username"]`, "ada")
//	clickAndWait(t, ctx, `[data-testid="login-submit"]`)
//	if got := textOf(t, ctx, `[data-testid="welcome"]`); got != "Welcome, ada" { ... }
//
// Every helper takes a CSS selector, such as `[data-testid="result"]` or
// `input[name="username"]`, and waits until the element is there (and, for a
// person's action, visible). A helper that fails calls t.Fatalf, so call the
// helpers from the test goroutine only. No helper waits for ever: the context
// of newBrowser ends after browserTestTimeout, and the test then fails, with
// a screenshot of the page.
//
// The browser is /usr/bin/chromium, or the path in OAUTHDESK_CHROMIUM. When it
// is missing the test skips, except under CI=true, where it fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// defaultChromium is the path of Debian's chromium package.
	defaultChromium = "/usr/bin/chromium"

	// browserTestTimeout bounds the time of a test with one browser: the
	// context of newBrowser ends this long after newBrowser, and every action
	// with it then fails. A hung browser or a wait for an element that never
	// shows up fails the test instead of hanging it.
	browserTestTimeout = 60 * time.Second

	// browserCloseTimeout bounds the graceful close of the browser.
	browserCloseTimeout = 10 * time.Second
)

// chromiumPath returns the browser that the tests run: $OAUTHDESK_CHROMIUM,
// or Debian's /usr/bin/chromium.
func chromiumPath() string {
	if p := os.Getenv("OAUTHDESK_CHROMIUM"); p != "" {
		return p
	}
	return defaultChromium
}

// underCI reports whether the tests run under CI (CI=true), where a browser
// test must run and must not skip.
func underCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// requireChromium returns the path of the browser. When the browser is
// missing, it skips the test, or fails it under CI=true.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		err = errors.New("is a directory")
	} else if err == nil && info.Mode().Perm()&0o111 == 0 {
		err = errors.New("is not executable")
	}
	if err == nil {
		return path
	}
	if underCI() {
		t.Fatalf("chromium not found at %s (%v), and CI=true: browser tests must run under CI; install Debian's chromium (.ci/ensure-chromium does it as root)", path, err)
	}
	t.Skipf("browser tests skipped: chromium not found at %s; install Debian's chromium", path)
	return ""
}

// newBrowser starts a fresh headless Chromium for the test and returns the
// context of its tab. Pass the context to the other helpers.
//
// Each call gives an isolated browser: its own process and its own user data
// directory in t.TempDir(), so its own cookies, storage and cache. Two calls
// in one test are two people.
//
// The browser reaches only loopback hosts: 127.0.0.1, ::1 and localhost.
// Every other host name fails to resolve, and the background services of
// Chromium (updates, sync, metrics and so on) are off.
//
// The returned context ends after browserTestTimeout, or shortly before the
// deadline of `go test -timeout` if that comes first; an action that is still
// waiting then fails the test. When the test ends, a cleanup saves a
// screenshot of the page if the test failed (see screenshot), logs the end of
// the browser's output if the test failed, closes the browser and waits until
// its process has exited. The browser is killed in any case, and the profile
// directory removed, even when the test fails or is skipped later.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserTimeout(t, browserTestTimeout)
}

// newBrowserTimeout is newBrowser with another bound than
// browserTestTimeout, for a test that visits many pages (the page sweep).
func newBrowserTimeout(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	execPath := requireChromium(t)

	// Make the profile directory before the cleanup below is registered:
	// cleanups run last in, first out, so the browser is gone before the
	// testing package removes the directory.
	userDataDir := t.TempDir()

	if deadline, ok := t.Deadline(); ok {
		// Fail with a clear error, and not with the panic of go test.
		if left := time.Until(deadline) - 5*time.Second; left < timeout {
			timeout = max(left, time.Second)
		}
	}

	output := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// No network besides loopback: every host, IP literals too, fails
		// to resolve, except localhost, 127.0.0.1 and ::1.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.WindowSize(1280, 1024),
		chromedp.CombinedOutput(output),
	)
	// The browser lives in browserCtx, which has no deadline, so that it
	// still answers after the time of the test ran out, for the screenshot
	// of the failure. The test gets ctx, a child with the deadline: every
	// action that runs with it fails when the time runs out. The chromedp
	// docs (example 21 in docs/API.md) describe this split.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	ctx, cancelActions := context.WithTimeout(browserCtx, timeout)
	started := false

	t.Cleanup(func() {
		cancelActions()
		// Run no action when the browser did not start: chromedp v0.23
		// would start it again, and then panic with "close of closed
		// channel".
		if t.Failed() && started {
			if path, err := saveScreenshot(t, browserCtx, failureScreenshotName(t)); err != nil {
				t.Logf("no screenshot of the failed test: %v", err)
			} else {
				t.Logf("screenshot of the failed test: %s%s", path, screenshotNote())
			}
			if out := output.tail(8 << 10); out != "" {
				t.Logf("chromium output (end):\n%s", out)
			}
		}
		// Close the browser gracefully, so that its helper processes end
		// before the testing package removes the profile directory. Then
		// kill what is left and wait until the browser process has exited.
		closeCtx, cancelClose := context.WithTimeout(browserCtx, browserCloseTimeout)
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("closing chromium: %v", err)
		}
		cancelClose()
		cancelBrowser()
		cancelAlloc()
	})

	// Start the browser and open the tab now, so that a browser that does
	// not start fails here with its own error. The first action binds the
	// life of the browser to the context that it gets, so start it with
	// browserCtx, and kill it if it does not start in time.
	killSlowStart := time.AfterFunc(timeout, cancelBrowser)
	err := chromedp.Do(browserCtx)
	if !killSlowStart.Stop() {
		t.Fatalf("start chromium %s: it did not start within %s: %v", execPath, timeout.Round(time.Second), err)
	}
	if err != nil {
		t.Fatalf("start chromium %s: %v", execPath, err)
	}
	started = true
	return ctx
}

// navigate opens url in the tab and waits until the page has loaded.
// An HTTP error status is not a failure: the test sees the page that a
// person would see. A page that does not load (for example connection
// refused) fails the test.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate to %s: %v", url, why(err))
	}
}

// fill replaces the text of the input or textarea sel with value, as a person
// who selects the field and types: it waits until the field is visible,
// clears it, focuses it and types value key by key, so the page gets key and
// input events. A "\n" in value presses Enter.
func fill(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("fill %s with %q: %v", sel, value, why(err))
	}
	// Clear the field in the page. chromedp.SetValue(sel, "") cannot do it:
	// in chromedp v0.23 it sets the value "undefined", because the empty
	// string argument does not reach the page.
	cleared, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		if (!el || !("value" in el)) return false;
		el.value = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`))
	if err != nil {
		t.Fatalf("fill %s with %q: clear the field: %v", sel, value, why(err))
	}
	if !cleared {
		t.Fatalf("fill %s with %q: the element is not a form field", sel, value)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), value)); err != nil {
		t.Fatalf("fill %s with %q: %v", sel, value, why(err))
	}
}

// click waits until the element sel is visible, scrolls it into view and
// clicks its center with the mouse. It does not wait for a page load that the
// click starts: use clickAndWait for a link or a submit button, or wait for
// the element that the click shows with waitVisible.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, why(err))
	}
}

// clickAndWait clicks the element sel, as click does, and waits until the
// page that the click opens has loaded, after any redirects. It returns the
// HTTP status of that page. The click must start a navigation; otherwise the
// test fails when the browser timeout ends.
func clickAndWait(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("click %s and wait for the next page: %v", sel, why(err))
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// waitVisible waits until the element sel is on the page and visible.
func waitVisible(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("wait until %s is visible: %v", sel, why(err))
	}
}

// textOf waits until the element sel is visible and returns the text that a
// person sees in it (its innerText), without leading and trailing space.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("read the text of %s: %v", sel, why(err))
	}
	return strings.TrimSpace(text)
}

// valueOf waits until the form field sel is on the page and returns its
// current value, such as the text in an input.
func valueOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	value, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read the value of %s: %v", sel, why(err))
	}
	return value
}

// countOf returns how many elements on the page match sel, now and without
// waiting. Use it to check that something is absent, after the page is
// ready (after navigate, clickAndWait or waitVisible).
func countOf(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		t.Fatalf("count %s: %v", sel, why(err))
	}
	return n
}

// currentURL returns the URL of the page in the tab.
func currentURL(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the current URL: %v", why(err))
	}
	return u
}

// screenshot saves a PNG of the whole page, beyond the viewport, logs its
// path and returns it. A relative path goes in $OAUTHDESK_SCREENSHOT_DIR when
// it is set, or else in t.TempDir(), which the testing package removes when
// the test ends. newBrowser takes one by itself when a test fails.
func screenshot(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	saved, err := saveScreenshot(t, ctx, path)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, why(err))
	}
	t.Logf("screenshot: %s%s", saved, screenshotNote())
	return saved
}

// saveScreenshot is screenshot without the log, for the cleanup of a failed
// test. It gives up after a few seconds, because the browser can be hung or
// gone when a test fails.
func saveScreenshot(t *testing.T, ctx context.Context, path string) (string, error) {
	if !filepath.IsAbs(path) {
		dir := os.Getenv("OAUTHDESK_SCREENSHOT_DIR")
		if dir == "" {
			dir = t.TempDir()
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		path = filepath.Join(dir, path)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// why explains an error of a helper when the time of the test ran out.
func why(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: the browser time limit of the test ran out (browserTestTimeout, at most %s); was the page or the element ever there?", err, browserTestTimeout)
	}
	return err
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always encodes
	}
	return string(b)
}

// failureScreenshotName returns the file name of the screenshot of a failed
// test, made from the name of the test.
func failureScreenshotName(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, t.Name())
	return fmt.Sprintf("%s-failed-%s.png", name, time.Now().Format("20060102-150405"))
}

// screenshotNote tells where to keep screenshots when they go in t.TempDir().
func screenshotNote() string {
	if os.Getenv("OAUTHDESK_SCREENSHOT_DIR") != "" {
		return ""
	}
	return " (removed after the test; set OAUTHDESK_SCREENSHOT_DIR to keep screenshots)"
}

// lockedBuffer collects the output of the browser, which chromedp writes from
// another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n bytes of the output, without the lines about
// D-Bus, which a container has not, and which Chromium logs by the dozen.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var kept []string
	for line := range strings.Lines(b.buf.String()) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			kept = append(kept, line)
		}
	}
	out := strings.Join(kept, "")
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.TrimSpace(out)
}
