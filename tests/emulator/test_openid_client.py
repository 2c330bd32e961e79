"""panva's openid-client (Node) completes every standard flow against the emulator (issue 14).

tests/node/openid_client_flow.js does discovery, a PKCE code flow with openid-client's default
`client_secret_basic` (which form-urlencodes the id and secret, RFC 6749 section 2.3.1), refresh,
userinfo, introspect and revoke; this test starts the emulator and checks what it reports. It needs
`node` and `npm ci` in tests/node: it skips without them, except under `.ci/run`, which installs
them and turns the skip into a failure.
"""

from __future__ import annotations

from support.node import node_with, run_script

from pytest_okta_user.emulator import DEMO, OktaEmulator

CLIENT_ID = "0oa-openid-client"
# A standard-base64 secret: `+`, `/` and `=` are what openid-client's encodeURIComponent changes
# before base64 (`%2B`, `%2F`, `%3D`), so the emulator must decode per RFC 6749 Appendix B.
CLIENT_SECRET = "oidc+client/secret=0123456789abcdefghijklmnopqrstuvwxyzABCD"
LOGIN, PASSWORD = "node@example.com", "Node-Passw0rd!"


def test_openid_client_completes_every_flow(okta: OktaEmulator) -> None:
    node = node_with("openid-client")
    okta.org.add_app(
        CLIENT_ID,
        app_type="web",
        client_secret=CLIENT_SECRET,
        redirect_uris=[DEMO.web_redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
    )
    user = okta.org.add_user(LOGIN, PASSWORD)  # assigned to every app
    settings = {
        "EMULATOR_URL": okta.url,
        "EMULATOR_ISSUER": f"{okta.url}/oauth2/default",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "CLIENT_REDIRECT_URI": DEMO.web_redirect_uri,
        "USER_LOGIN": LOGIN,
        "USER_PASSWORD": PASSWORD,
    }
    report = run_script(node, "openid_client_flow.js", settings, timeout=60)
    assert report["issuer"] == f"{okta.url}/oauth2/default"
    assert report["token_endpoint_auth_method"] == "client_secret_basic"
    assert report["code_flow"] == {
        "sub": user.id,
        "has_refresh_token": True,
        "scope": "openid profile email offline_access",
    }
    assert report["refresh"] == {"sub": user.id, "new_access_token": True}
    assert report["userinfo"] == {"sub": user.id, "email": LOGIN}
    assert report["introspect"] == {"active": True, "client_id": CLIENT_ID}
    assert report["revoke"] == {"active_after": False}
    assert okta.internal_errors == []
