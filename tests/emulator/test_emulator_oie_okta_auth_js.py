"""Okta's own JavaScript SDK, @okta/okta-auth-js (npm, unpatched), signs in against the emulator in
Identity Engine mode with its IDX client (issue 12, "Must show").

tests/node/okta_auth_js_idx.js runs `idx.authenticate({username, password})` then
`idx.proceed({verificationCode})`, in okta-auth-js 8's step mode (each call names its step) and in
its legacy mode (the 7.x calls as written), for a wrong password, a wrong TOTP code and a right one;
the SDK exchanges the interaction code and verifies the ID token itself (JWKS signature, issuer,
audience, nonce, expiry). This test starts the emulator, passes TOTP codes computed at the
emulator's clock, and checks what the script reports. It needs `node` and `npm ci` in tests/node:
it skips without them, except under `.ci/run`, which installs them and turns the skip into a
failure.
"""

from __future__ import annotations

import json

import pyotp
from support.node import node_with, run_script

from pytest_okta_user.emulator import DEMO, OktaEmulator


def test_okta_auth_js_signs_in_with_idx_and_reports_okta_errors() -> None:
    node = node_with("@okta/okta-auth-js")
    with OktaEmulator(engine="oie") as okta:
        totp = pyotp.TOTP(DEMO.user_totp_secret)
        # Held still while Node runs: the codes below must stay within the emulator's one step of
        # drift, whenever the script gets to send them.
        okta.clock.freeze()
        now = okta.clock.now()
        codes = {}
        # One right code per time step (a step's code is accepted once): the previous step's for
        # the first mode, the current one's for the second (the emulator allows one step of drift).
        for mode, moment in (("step", now - 30), ("legacy", now)):
            right = totp.at(moment)
            codes[mode] = {"right": right, "wrong": f"{(int(right) + 1) % 1_000_000:06d}"}
        settings = {
            "EMULATOR_ISSUER": okta.issuer,
            "CLIENT_ID": DEMO.web_client_id,
            "CLIENT_SECRET": DEMO.web_client_secret,
            "CLIENT_REDIRECT_URI": DEMO.web_redirect_uri,
            "USER_LOGIN": DEMO.user_login,
            "USER_PASSWORD": DEMO.user_password,
            "TOTP_CODES": json.dumps(codes),
        }
        report = run_script(node, "okta_auth_js_idx.js", settings, timeout=120)
        assert okta.internal_errors == []
        exchanged = okta.count("token")
    authentication_failed = {
        "class": "ERROR",
        "message": "Authentication failed",
        "key": "errors.E0000004",
    }
    invalid_code = {
        "class": "ERROR",
        "message": "Invalid code. Try again.",
        "key": "api.authn.error.PASSCODE_INVALID",
    }
    for mode in ("step", "legacy"):
        runs = report[mode]
        assert runs["wrong_password"]["steps"] == [
            {"status": "PENDING", "nextStep": "identify", "messages": [authentication_failed]}
        ]
        assert runs["wrong_code"]["steps"] == [
            {"status": "PENDING", "nextStep": "challenge-authenticator"},
            {
                "status": "PENDING",
                "nextStep": "challenge-authenticator",
                "messages": [invalid_code],
            },
        ]
        for failed in ("wrong_password", "wrong_code"):
            assert runs[failed]["cancel"] == {"status": "CANCELED"}
            assert "tokens" not in runs[failed]
        success = runs["success"]
        assert success["steps"] == [
            {"status": "PENDING", "nextStep": "challenge-authenticator"},
            {"status": "SUCCESS"},
        ]
        assert success["tokens"] == {
            "id_token_sub": DEMO.user_id,
            "id_token_amr": ["mfa", "otp", "pwd"],
            "preferred_username": DEMO.user_login,
            "access_token_uid": DEMO.user_id,
            "access_token_scopes": ["openid", "profile", "email"],
        }
    # Only the two successful sign-ins reached /token (one interaction_code exchange each).
    assert exchanged == 2
