package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openidClientDir holds the pinned openid-client (package.json and
// package-lock.json); node_modules is installed there by the test with
// `npm ci` and is git-ignored.
const openidClientDir = "testdata/openid-client"

// needNode returns the npm and node binaries, or skips t (fails under
// CI=true, where they must be there).
func needNode(t *testing.T) (npm, node string) {
	t.Helper()
	npm, err1 := exec.LookPath("npm")
	node, err2 := exec.LookPath("node")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("npm and node are needed for the openid-client test (CI=true)")
		}
		t.Skip("npm or node is missing: the openid-client test is skipped (install Node.js 20+ to run it)")
	}
	return npm, node
}

// installOpenIDClient runs `npm ci` in openidClientDir unless the pinned
// version is installed already.
func installOpenIDClient(t *testing.T, npm string) {
	t.Helper()
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join(openidClientDir, "package-lock.json"))
	if err != nil || json.Unmarshal(b, &lock) != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	want := lock.Packages["node_modules/openid-client"].Version
	var have struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(openidClientDir, "node_modules", "openid-client", "package.json")); err == nil && json.Unmarshal(b, &have) == nil && have.Version == want {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = openidClientDir
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
		t.Skipf("npm ci failed (no registry?): the openid-client test is skipped: %v\n%s", err, out)
	}
}

// TestOIDCWithOpenIDClient drives the code flow with PKCE, nonce and iss,
// ID token verification, userinfo, refresh, introspection, revocation and
// client credentials with panva's openid-client, unchanged.
func TestOIDCWithOpenIDClient(t *testing.T) {
	t.Parallel()
	npm, node := needNode(t)
	installOpenIDClient(t, npm)
	f := newOIDCFixture(t, "")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "flow.mjs")
	cmd.Dir = openidClientDir
	cmd.Env = append(os.Environ(), "ISSUER="+f.ts.URL, "CLIENT_ID="+f.clientID, "CLIENT_SECRET="+f.secret, "REDIRECT_URI="+oidcRedirect)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() map[string]any {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			t.Fatalf("openid-client ended early; stderr:\n%s", stderr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("openid-client printed %q", lines.Text())
		}
		if m["error"] != nil {
			t.Fatalf("openid-client failed: %v (code %v, cause %v)\nstderr:\n%s", m["error"], m["code"], m["cause"], stderr.String())
		}
		return m
	}
	authURL, _ := next()["authorize"].(string)
	q := f.login(t, authURL)
	fmt.Fprintln(stdin, oidcRedirect+"?"+q.Encode())
	res, _ := next()["result"].(map[string]any)
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("openid-client: %v\n%s", err, stderr.String())
	}
	if res["email"] != "alice@example.com" || res["refreshedIdToken"] != true || res["activeBefore"] != true || res["activeAfter"] != false {
		t.Errorf("openid-client saw %v", res)
	}
	if res["userinfoAfter"] != float64(http.StatusUnauthorized) {
		t.Errorf("userinfo after revocation, as openid-client saw it: %v, want 401", res["userinfoAfter"])
	}
	if res["ccScope"] != "vso.work" || !strings.EqualFold(fmt.Sprint(res["ccTokenType"]), "bearer") {
		t.Errorf("client credentials as openid-client saw them: %v", res)
	}
	// The first access token's chain was revoked with the refresh token:
	// /_apis refuses it too.
	if st, _, _ := callAPI(t, f.ts.URL, "/_apis/profile/profiles/me", fmt.Sprint(res["access_token"])); st != http.StatusUnauthorized {
		t.Errorf("/_apis after revocation: %d, want 401", st)
	}
}
