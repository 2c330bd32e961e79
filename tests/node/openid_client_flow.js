// panva's openid-client (v5, its default client_secret_basic) against the emulator: discovery, a
// PKCE code flow, refresh, userinfo, introspect and revoke. Driven by
// tests/emulator/test_openid_client.py, which starts the emulator and reads the JSON this prints.
// The code is obtained without a browser, as the plugin does: a sessionToken from /api/v1/authn,
// then /authorize with prompt=none. Only facts are printed, never a token.
"use strict";

const { Issuer, generators } = require("openid-client");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const orgUrl = env("EMULATOR_URL");
  const issuerUrl = env("EMULATOR_ISSUER");
  const redirectUri = env("CLIENT_REDIRECT_URI");
  const out = {};

  const issuer = await Issuer.discover(issuerUrl);
  out.issuer = issuer.issuer;
  const client = new issuer.Client({
    client_id: env("CLIENT_ID"),
    client_secret: env("CLIENT_SECRET"),
    redirect_uris: [redirectUri],
    response_types: ["code"],
  });
  out.token_endpoint_auth_method = client.token_endpoint_auth_method;

  const authn = await fetch(`${orgUrl}/api/v1/authn`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username: env("USER_LOGIN"), password: env("USER_PASSWORD") }),
  });
  const { sessionToken } = await authn.json();

  const codeVerifier = generators.codeVerifier();
  const state = generators.state();
  const nonce = generators.nonce();
  const authorizeUrl = client.authorizationUrl({
    scope: "openid profile email offline_access",
    code_challenge: generators.codeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    prompt: "none",
    sessionToken,
  });
  const redirect = await fetch(authorizeUrl, { redirect: "manual" });
  const location = redirect.headers.get("location");
  const params = client.callbackParams(location);
  const tokens = await client.callback(redirectUri, params, {
    code_verifier: codeVerifier,
    state,
    nonce,
  });
  const claims = tokens.claims();
  out.code_flow = {
    sub: claims.sub,
    has_refresh_token: Boolean(tokens.refresh_token),
    scope: tokens.scope,
  };

  const refreshed = await client.refresh(tokens.refresh_token);
  out.refresh = {
    sub: refreshed.claims().sub,
    new_access_token: refreshed.access_token !== tokens.access_token,
  };

  const userinfo = await client.userinfo(refreshed.access_token);
  out.userinfo = { sub: userinfo.sub, email: userinfo.email };

  const active = await client.introspect(refreshed.access_token, "access_token");
  out.introspect = { active: active.active, client_id: active.client_id };

  const refreshToken = refreshed.refresh_token || tokens.refresh_token;
  await client.revoke(refreshToken, "refresh_token");
  const revoked = await client.introspect(refreshToken, "refresh_token");
  out.revoke = { active_after: revoked.active };

  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((error) => {
  // openid-client's OPError carries the server's error and description; print those, not stacks.
  const detail = error.error ? `${error.error}: ${error.error_description}` : String(error);
  process.stderr.write(`openid-client failed: ${detail}\n`);
  process.exit(1);
});
