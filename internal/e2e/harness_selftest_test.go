package e2e

import (
	"bytes"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// harnessPage is the tiny app that TestBrowserHarness drives: a form that
// posts a name back, a button that shows a hidden note with JavaScript, and a
// cookie that the post sets, so that the test can see two isolated browsers.
var harnessPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Harness</title></head>
<body>
  {{if .Greeting}}<p data-testid="result">{{.Greeting}}</p>{{end}}
  <p data-testid="visitor">{{if .Visitor}}Welcome back, {{.Visitor}}{{else}}Hello, stranger{{end}}</p>
  <form method="post" action="/greet">
    <label>Your name <input name="username" value="someone"></label>
    <button type="submit" data-testid="submit">Say hello</button>
  </form>
  <button type="button" data-testid="reveal" onclick="document.getElementById('note').hidden = false">Show note</button>
  <p id="note" data-testid="note" hidden>The note is shown</p>
</body>
</html>`))

func newHarnessServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	render := func(w http.ResponseWriter, r *http.Request, greeting string) {
		var visitor string
		if c, err := r.Cookie("visitor"); err == nil {
			visitor = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := harnessPage.Execute(w, struct{ Greeting, Visitor string }{greeting, visitor}); err != nil {
			t.Errorf("render the page: %v", err)
		}
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, "")
	})
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		name := r.PostFormValue("username")
		http.SetCookie(w, &http.Cookie{Name: "visitor", Value: strings.ReplaceAll(name, " ", "_"), Path: "/"})
		render(w, r, "Hello, "+name+"!")
	})
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserHarness proves the browser helpers on a tiny page: a person
// opens the page, types a name, submits the form and reads the greeting.
func TestBrowserHarness(t *testing.T) {
	ctx := newBrowser(t)
	srv := newHarnessServer(t)

	navigate(t, ctx, srv.URL)
	if got := textOf(t, ctx, `[data-testid="visitor"]`); got != "Hello, stranger" {
		t.Errorf("first visit: visitor text = %q, want %q", got, "Hello, stranger")
	}
	if n := countOf(t, ctx, `[data-testid="result"]`); n != 0 {
		t.Errorf("before the form is sent: %d result elements, want none", n)
	}

	// A click that does not navigate: the note appears.
	click(t, ctx, `[data-testid="reveal"]`)
	waitVisible(t, ctx, `[data-testid="note"]`)
	if got := textOf(t, ctx, `[data-testid="note"]`); got != "The note is shown" {
		t.Errorf("note text = %q, want %q", got, "The note is shown")
	}

	// fill replaces the text that is already in the field.
	fill(t, ctx, `input[name="username"]`, "Ada <Lovelace>")
	if got := valueOf(t, ctx, `input[name="username"]`); got != "Ada <Lovelace>" {
		t.Errorf("after fill: field value = %q, want %q", got, "Ada <Lovelace>")
	}

	if status := clickAndWait(t, ctx, `[data-testid="submit"]`); status != http.StatusOK {
		t.Errorf("submit: status %d, want %d", status, http.StatusOK)
	}
	waitVisible(t, ctx, `[data-testid="result"]`)
	if got, want := textOf(t, ctx, `[data-testid="result"]`), "Hello, Ada <Lovelace>!"; got != want {
		t.Errorf("result text = %q, want %q", got, want)
	}
	if got, want := currentURL(t, ctx), srv.URL+"/greet"; got != want {
		t.Errorf("current URL = %q, want %q", got, want)
	}

	// The cookie stays in this browser.
	navigate(t, ctx, srv.URL)
	if got, want := textOf(t, ctx, `[data-testid="visitor"]`), "Welcome back, Ada_<Lovelace>"; got != want {
		t.Errorf("second visit: visitor text = %q, want %q", got, want)
	}

	// A second browser is another person, with no cookies.
	other := newBrowser(t)
	navigate(t, other, srv.URL)
	if got := textOf(t, other, `[data-testid="visitor"]`); got != "Hello, stranger" {
		t.Errorf("second browser: visitor text = %q, want %q (the browsers share cookies)", got, "Hello, stranger")
	}

	path := screenshot(t, ctx, "harness.png")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s is not a PNG", path)
	}
}
