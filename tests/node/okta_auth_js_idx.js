// Okta's own JavaScript SDK, @okta/okta-auth-js (unpatched), signs in against the emulator in
// Identity Engine mode with its IDX client: idx.authenticate({ username, password }), then
// idx.proceed({ verificationCode }), then the interaction_code exchange and its own token
// verification. Driven by tests/emulator/test_emulator_oie_okta_auth_js.py, which starts the
// emulator, passes the TOTP codes (computed at the emulator's clock) and reads the JSON this
// prints: facts only, never a token.
//
// In Node, okta-auth-js keeps its transaction in its server storage (lib/server/serverStorage.ts,
// an in-memory node-cache), and fetches with Node's own fetch (Node 18+), as its jest.server.js
// test environment does.
"use strict";

const { OktaAuth, IdxStatus } = require("@okta/okta-auth-js");

const env = (name) => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
};

// okta-auth-js 8 runs IDX in "step mode" (each call names its remediation, `step`), or, with
// `idx: { enableLegacyMode: true }`, as 7.x did (the SDK picks the remediation from the values
// given). Both are run: https://github.com/okta/okta-auth-js/blob/master/docs/idx.md
function client(legacy) {
  return new OktaAuth({
    issuer: env("EMULATOR_ISSUER"),
    clientId: env("CLIENT_ID"),
    clientSecret: process.env.CLIENT_SECRET || undefined,
    redirectUri: env("CLIENT_REDIRECT_URI"),
    scopes: ["openid", "profile", "email"],
    // The emulator serves plain http on loopback.
    devMode: false,
    // okta-auth-js 8 leaves access tokens undecoded unless asked (its 7.x to 8.x notes).
    decodeAccessTokens: true,
    idx: { enableLegacyMode: legacy },
  });
}

// What a transaction says, without its tokens or state handles.
function describe(transaction) {
  const out = { status: transaction.status };
  if (transaction.nextStep) out.nextStep = transaction.nextStep.name;
  if (transaction.messages && transaction.messages.length) {
    out.messages = transaction.messages.map((m) => ({
      class: m.class,
      message: m.message,
      key: m.i18n && m.i18n.key,
    }));
  }
  if (transaction.error) out.error = String(transaction.error.errorSummary || transaction.error);
  return out;
}

async function signIn(legacy, password, codes) {
  const authClient = client(legacy);
  // The server storage is shared by every OktaAuth in the process: start from no transaction.
  authClient.transactionManager.clear();
  const steps = [];
  const identify = { username: env("USER_LOGIN"), password };
  let transaction = await authClient.idx.authenticate(
    legacy ? identify : { step: "identify", ...identify },
  );
  steps.push(describe(transaction));
  for (const code of codes) {
    if (transaction.status !== IdxStatus.PENDING) break;
    const answer = { verificationCode: code };
    transaction = await authClient.idx.proceed(
      legacy ? answer : { step: transaction.nextStep.name, ...answer },
    );
    steps.push(describe(transaction));
  }
  const result = { steps };
  if (transaction.status === IdxStatus.PENDING) {
    // Left half-way (a wrong answer): cancel it, as an app's "Back to sign in" does.
    result.cancel = describe(await authClient.idx.cancel());
  }
  if (transaction.status === IdxStatus.SUCCESS) {
    const { accessToken, idToken } = transaction.tokens;
    // okta-auth-js verified the ID token already (signature from the JWKS, iss, aud, nonce,
    // expiry); verify it again explicitly, and read what the tokens say.
    await authClient.token.verify(idToken);
    result.tokens = {
      id_token_sub: idToken.claims.sub,
      id_token_amr: idToken.claims.amr,
      preferred_username: idToken.claims.preferred_username,
      access_token_uid: accessToken.claims.uid,
      access_token_scopes: accessToken.scopes,
    };
  }
  return result;
}

async function main() {
  const out = {};
  // Each mode gets its own right code (one per TOTP time step: the emulator refuses a replay).
  const codes = JSON.parse(env("TOTP_CODES"));
  for (const [mode, legacy] of [["step", false], ["legacy", true]]) {
    out[mode] = {
      wrong_password: await signIn(legacy, env("USER_PASSWORD") + "-wrong", []),
      wrong_code: await signIn(legacy, env("USER_PASSWORD"), [codes[mode].wrong]),
      success: await signIn(legacy, env("USER_PASSWORD"), [codes[mode].right]),
    };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
