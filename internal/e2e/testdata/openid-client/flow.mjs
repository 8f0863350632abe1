// Drives oauthdesk with openid-client, unchanged. The Go test
// (internal/e2e/oidc_node_test.go) plays the browser: this script prints
// {"authorize": URL} on stdout, reads the redirect URL the browser was
// sent to from stdin, then runs the rest and prints {"result": …}.
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI.
import * as client from 'openid-client';
import * as readline from 'node:readline';
import { webcrypto } from 'node:crypto';

// Node 18 (Debian's, installed by .ci/ensure-node) has WebCrypto but not as
// a global; openid-client reaches for globalThis.crypto when called.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const { ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  // Discovery; the test server speaks http on 127.0.0.1.
  const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined,
    { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access vso.work',
    code_challenge: challenge, code_challenge_method: 'S256', nonce, state,
  });
  out({ authorize: url.href });

  const rl = readline.createInterface({ input: process.stdin });
  const callback = await new Promise((resolve) => rl.once('line', resolve));
  rl.close();

  // Checks iss (RFC 9207), state, the code, PKCE, the ID token's
  // signature (from the JWKS), iss, aud, nonce, at_hash.
  const tokens = await client.authorizationCodeGrant(config, new URL(callback),
    { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const before = await client.tokenIntrospection(config, refreshed.access_token);
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
  const after = await client.tokenIntrospection(config, refreshed.access_token);
  let userinfoAfter = 'accepted';
  try {
    await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  } catch (e) {
    userinfoAfter = e.status ?? e.cause?.status ?? String(e);
  }
  const cc = await client.clientCredentialsGrant(config, { scope: 'vso.work' });
  out({ result: {
    sub: claims.sub, nonce: claims.nonce, email: userinfo.email, refreshedIdToken: !!refreshed.id_token,
    activeBefore: before.active, activeAfter: after.active, userinfoAfter,
    ccScope: cc.scope, ccTokenType: cc.token_type,
    access_token: tokens.access_token,
  } });
}

main().catch((e) => {
  out({ error: String(e), code: e.code, cause: e.cause ? JSON.stringify(e.cause) : undefined });
  process.exit(1);
});
