// An upstream OpenID Connect provider for oauthdesk's e2e tests:
// panva/node-oidc-provider, unmodified, with one client, a few accounts,
// and interactions that sign in whichever account the test chose
// (POST /test/next?sub=…) and grant what was asked. Two test switches
// reach around the provider, never into it: POST /test/mode?m=tamper
// flips a byte of the next ID token's signature on its way out of the
// token endpoint; m=nonce replaces the nonce of the next authorization
// request before the provider sees it (so the ID token is validly
// signed, for another nonce).
//
// Usage: PORT=… REDIRECT_URI=… node server.mjs; prints "listening" once up.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  'sub-ann': { preferred_username: 'ann@example.com', name: 'Ann Upstream', email: 'ann@example.com', email_verified: true, groups: ['oauthdesk-admins', 'staff'] },
  'sub-ben': { preferred_username: 'ben@example.com', name: 'Ben Upstream', email: 'ben@example.com', email_verified: false, groups: ['staff'] },
  'sub-cyd': { preferred_username: 'cyd@example.com', name: 'Cyd Outsider', email: 'cyd@example.com', email_verified: true, groups: [] },
};

let next = 'sub-ann';
let mode = '';

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'oauthdesk',
    client_secret: 'upstream-client-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
  async findAccount(ctx, sub) {
    const a = accounts[sub];
    if (!a) return undefined;
    return { accountId: sub, async claims() { return { sub, ...a }; } };
  },
  interactions: { url(ctx, interaction) { return `/interaction/${interaction.uid}`; } },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['oauthdesk-e2e-cookie-key'] },
});

provider.use(async (ctx, nextMw) => {
  if (ctx.path === '/test/next' && ctx.method === 'POST') {
    next = ctx.query.sub; ctx.body = 'ok'; return;
  }
  if (ctx.path === '/test/mode' && ctx.method === 'POST') {
    mode = ctx.query.m || ''; ctx.body = 'ok'; return;
  }
  if (ctx.path === '/auth' && mode === 'nonce' && ctx.query.nonce) {
    mode = '';
    const q = { ...ctx.query, nonce: 'not-the-nonce-oauthdesk-sent' };
    ctx.querystring = new URLSearchParams(q).toString();
  }
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: next } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  await nextMw();
  if (ctx.path === '/token' && mode === 'tamper' && ctx.body && ctx.body.id_token) {
    mode = '';
    const t = ctx.body.id_token;
    const i = t.length - 5;
    ctx.body.id_token = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
  }
});

provider.listen(port, '127.0.0.1', () => { console.log('listening'); });
