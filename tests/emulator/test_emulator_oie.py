"""Identity Engine mode (issue 12): the engine switch, app policies at /authorize, Direct
Authentication and the Interaction Code flow, each rule over real HTTP on loopback.

Texts and statuses are Okta's (catalogue entries, and the recorded IDX answers named in
pytest_okta_user/emulator/idx.py); TOTP codes are computed at the emulator's clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
import requests
from support.emulator_client import location_params, pkce_pair

from pytest_okta_user.emulator import DEMO, ConfigError, OktaEmulator

MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
OTP = "urn:okta:params:oauth:grant-type:otp"
ION = "application/ion+json; okta-version=1.0.0"
WEB = (DEMO.web_client_id, DEMO.web_client_secret)
APP_SIGN_ON = (
    "The client specified not to prompt, but the client app requires re-authentication or MFA."
)
INVALID_OTP = "The 'otp' provided is either empty or incorrect. Use the correct OTP and try again."
NOT_ENABLED = (
    "The requested feature (Interaction Code flow) isn't enabled in this environment. Ensure that"
    " you have Okta Identity Engine enabled and the Interaction Code flow enabled for this"
    " application and authorization server."
)


@pytest.fixture
def oie() -> Iterator[OktaEmulator]:
    # The per-user limit (4 requests/s on /token) is tested elsewhere; here it would only pace.
    with OktaEmulator(engine="oie", rate_limits=False) as emulator:
        # Assigned to every app, the ones the tests add too (as through the Everyone group).
        emulator.org.users[DEMO.user_id].apps = None
        yield emulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def code_at(okta: OktaEmulator, secret: str = DEMO.user_totp_secret, shift: int = 0) -> str:
    return pyotp.TOTP(secret).at(okta.clock.now() + shift)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def token(
    okta: OktaEmulator,
    http: requests.Session,
    auth: tuple[str, str] | None = WEB,
    server: str = "default",
    **data: str,
) -> requests.Response:
    base = f"{okta.url}/oauth2/v1" if server == "org" else f"{okta.url}/oauth2/{server}/v1"
    return http.post(f"{base}/token", data=data, auth=auth)


def mfa_token(okta: OktaEmulator, http: requests.Session, **extra: str) -> str:
    response = token(
        okta,
        http,
        grant_type="password",
        username=DEMO.user_login,
        password=DEMO.user_password,
        scope="openid profile",
        **extra,
    )
    assert response.status_code == 403, response.text
    return str(response.json()["mfa_token"])


def authorize(okta: OktaEmulator, http: requests.Session, **params: str) -> requests.Response:
    query = {
        "client_id": DEMO.web_client_id,
        "redirect_uri": DEMO.web_redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": "s1",
    }
    query.update(params)
    return http.get(f"{okta.issuer}/v1/authorize", params=query, allow_redirects=False)


def session_token(okta: OktaEmulator, http: requests.Session) -> str:
    answer = http.post(
        f"{okta.url}/api/v1/authn",
        json={"username": DEMO.user_login, "password": DEMO.user_password},
    ).json()
    assert answer["status"] == "SUCCESS", answer
    return str(answer["sessionToken"])


# -- the engine switch ------------------------------------------------------------------------


def test_oie_mode_announces_the_idx_pipeline_and_the_totp_secret(
    oie: OktaEmulator, okta: OktaEmulator, http: requests.Session
) -> None:
    assert http.get(f"{oie.url}/.well-known/okta-organization").json()["pipeline"] == "idx"
    assert http.get(f"{okta.url}/.well-known/okta-organization").json()["pipeline"] == "v1"
    assert oie.env()["OKTA_TOTP_SECRET"] == DEMO.user_totp_secret
    assert "OKTA_TOTP_SECRET" not in okta.env()


def test_engine_is_a_config_key_checked_like_the_others() -> None:
    with OktaEmulator(config={"settings": {"engine": "oie"}}) as emulator:
        assert emulator.org.pipeline == "idx"
        emulator.reset()
        assert emulator.org.pipeline == "idx"
    with pytest.raises(ConfigError, match=r"settings\.engine: 'idx' is not one of classic, oie"):
        OktaEmulator(config={"settings": {"engine": "idx"}})
    with pytest.raises(ConfigError, match=r"settings\.engine: 'oie' contradicts pipeline 'v1'"):
        OktaEmulator(config={"settings": {"engine": "oie", "pipeline": "v1"}})
    with pytest.raises(ConfigError, match=r"apps\[0\].*\.policy: 'mfa' is not one of"):
        OktaEmulator(config={"apps": [{"client_id": "0oa-x", "policy": "mfa"}]})
    with pytest.raises(ValueError, match="engine must be 'classic' or 'oie'"):
        OktaEmulator(engine="idx")
    with OktaEmulator(config={"settings": {"engine": "oie", "embedded_signin": False}}) as off:
        assert off.org.embedded_signin is False
    with pytest.raises(ConfigError, match=r"settings\.embedded_signin: must be true or false"):
        OktaEmulator(config={"settings": {"embedded_signin": "no"}})
    # The argument wins over the config.
    with OktaEmulator(config={"settings": {"engine": "oie"}}, engine="classic") as emulator:
        assert emulator.org.pipeline == "v1"


def test_command_line_engine_oie_prints_the_totp_enrolled_user() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--port", "0", "--engine", "oie"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        # The settings are flushed to stdout before this line goes to stderr.
        assert "Okta emulator serving" in process.stderr.readline()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    settings = dict(line.partition("=")[::2] for line in out.splitlines())
    assert settings["OKTA_TOTP_SECRET"] == DEMO.user_totp_secret
    assert settings["OKTA_USERNAME"] == DEMO.user_login
    assert settings["OKTA_PASSWORD"] == DEMO.user_password
    assert settings["OKTA_CLIENT_ID"] == DEMO.web_client_id


# -- app policies at /authorize ---------------------------------------------------------------


def test_authn_meets_only_the_global_policy_then_authorize_refuses_the_mfa_app(
    oie: OktaEmulator, http: requests.Session
) -> None:
    response = authorize(oie, http, prompt="none", sessionToken=session_token(oie, http))
    assert location_params(response) == {
        "error": "login_required",
        "error_description": APP_SIGN_ON,
        "state": "s1",
    }
    # Without prompt=none the browser is shown the sign-in page instead.
    page = authorize(oie, http, sessionToken=session_token(oie, http))
    assert page.status_code == 200
    assert "Location" not in page.headers


def test_a_password_only_app_takes_the_sessiontoken(
    oie: OktaEmulator, http: requests.Session
) -> None:
    oie.org.add_app(
        "0oa-password-only",
        app_type="web",
        client_secret="s" * 40,
        redirect_uris=[DEMO.web_redirect_uri],
        policy="password",
    )
    response = authorize(
        oie,
        http,
        client_id="0oa-password-only",
        prompt="none",
        sessionToken=session_token(oie, http),
    )
    assert "code" in location_params(response)


def test_classic_mode_keeps_mfa_in_authn(okta: OktaEmulator, http: requests.Session) -> None:
    okta.org.add_user("mfa@example.com", "Passw0rd!x", totp_secret=DEMO.user_totp_secret)
    answer = http.post(
        f"{okta.url}/api/v1/authn", json={"username": "mfa@example.com", "password": "Passw0rd!x"}
    ).json()
    assert answer["status"] == "MFA_REQUIRED"


# -- Direct Authentication ---------------------------------------------------------------------


def test_password_grant_asks_for_mfa_then_mfa_otp_gives_tokens(
    oie: OktaEmulator, http: requests.Session
) -> None:
    response = token(
        oie,
        http,
        grant_type="password",
        username=DEMO.user_login,
        password=DEMO.user_password,
        scope="openid profile",
    )
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"error", "error_description", "mfa_token"}
    assert body["error"] == "mfa_required"
    assert body["error_description"] == (
        "Verify with an additional authenticator to complete the sign-in process."
    )
    bad = token(oie, http, grant_type=MFA_OTP, mfa_token=body["mfa_token"], otp=wrong(code_at(oie)))
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "invalid_grant", "error_description": INVALID_OTP},
    )
    code = code_at(oie)
    good = token(oie, http, grant_type=MFA_OTP, mfa_token=body["mfa_token"], otp=code)
    assert good.status_code == 200, good.text
    assert set(good.json()) >= {"access_token", "id_token", "token_type", "expires_in", "scope"}
    claims = json.loads(_payload(good.json()["id_token"]))
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["sub"] == DEMO.user_id
    # The mfa_token is spent, and the code's time step cannot be used again.
    again = token(oie, http, grant_type=MFA_OTP, mfa_token=body["mfa_token"], otp=code)
    assert again.status_code == 403
    assert again.json()["error_description"] == (
        "'mfa_token' has expired. Use a new 'mfa_token' and try again."
    )
    replay = token(oie, http, grant_type=MFA_OTP, mfa_token=mfa_token(oie, http), otp=code)
    assert replay.json() == {"error": "invalid_grant", "error_description": INVALID_OTP}


def _payload(jwt: str) -> str:
    import base64

    part = jwt.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def test_mfa_token_expires_and_belongs_to_its_client(
    oie: OktaEmulator, http: requests.Session
) -> None:
    oie.org.add_app(
        "0oa-other",
        app_type="web",
        client_secret="o" * 40,
        grant_types=["password", MFA_OTP],
        policy="password+totp",
    )
    handed = mfa_token(oie, http)
    other = token(oie, http, ("0oa-other", "o" * 40), grant_type=MFA_OTP, mfa_token=handed, otp="1")
    assert (other.status_code, other.json()["error"]) == (401, "invalid_client")
    assert other.json()["error_description"] == (
        f"The client_id '0oa-other' does not match the client_id in the original request"
        f" '{DEMO.web_client_id}'. Use the original client id and try again."
    )
    drift = token(oie, http, grant_type=MFA_OTP, mfa_token=handed, otp=code_at(oie), scope="openid")
    assert drift.json()["error"] == "invalid_scope"
    oie.clock.advance(301)
    late = token(oie, http, grant_type=MFA_OTP, mfa_token=handed, otp=code_at(oie))
    assert (late.status_code, late.json()["error"]) == (403, "access_denied")


def test_password_grant_refusals_name_the_missing_setting(
    oie: OktaEmulator, http: requests.Session
) -> None:
    secret = "n" * 40
    oie.org.add_app(
        "0oa-no-mfa-grant", client_secret=secret, grant_types=["password"], policy="password+totp"
    )
    login = {"username": DEMO.user_login, "password": DEMO.user_password, "scope": "openid"}
    refused = token(oie, http, ("0oa-no-mfa-grant", secret), grant_type="password", **login)
    assert (refused.status_code, refused.json()) == (
        403,
        {
            "error": "access_denied",
            "error_description": (
                "The grant types required to satisfy sign on policy are disabled for the client."
            ),
        },
    )
    declared = token(oie, http, grant_type="password", grant_types_supported=OTP, **login).json()
    assert declared["error"] == "access_denied"
    assert declared["error_description"].startswith(f"The 'grant_types_supported' '{OTP}' are not")
    unknown = token(oie, http, grant_type="password", grant_types_supported="magic", **login)
    assert unknown.json()["error_description"] == (
        "magic is not supported as a 'grant_type'. Remove or replace the value and try again."
    )
    oie.org.add_user("nototp@example.com", "Passw0rd!y", apps=None)
    no_factor = token(
        oie,
        http,
        grant_type="password",
        username="nototp@example.com",
        password="Passw0rd!y",
        scope="openid",
    ).json()
    assert no_factor["error_description"].startswith("The required authenticator cannot be used.")


def test_the_server_policy_must_allow_the_direct_grants(
    oie: OktaEmulator, http: requests.Session
) -> None:
    oie.org.servers["default"].grant_types.remove(MFA_OTP)
    response = token(oie, http, grant_type=MFA_OTP, mfa_token=mfa_token(oie, http), otp="123456")
    assert response.json()["error"] == "unsupported_grant_type"
    assert MFA_OTP not in response.json()["error_description"]


def test_password_only_policy_gives_tokens_to_a_totp_user(
    oie: OktaEmulator, http: requests.Session
) -> None:
    oie.org.apps[DEMO.web_client_id].policy = "password"
    response = token(
        oie,
        http,
        grant_type="password",
        username=DEMO.user_login,
        password=DEMO.user_password,
        scope="openid",
    )
    assert response.status_code == 200, response.text
    assert json.loads(_payload(response.json()["id_token"]))["amr"] == ["pwd"]


def test_otp_grant_signs_in_with_one_factor_where_the_policy_allows(
    oie: OktaEmulator, http: requests.Session
) -> None:
    refused = token(
        oie, http, grant_type=OTP, login_hint=DEMO.user_login, otp=code_at(oie), scope="openid"
    )
    assert refused.json() == {
        "error": "access_denied",
        "error_description": (
            "User couldn't be signed-in through direct authentication because authentication"
            " policy wasn't satisfied."
        ),
    }
    oie.org.apps[DEMO.web_client_id].policy = "any"
    no_hint = token(oie, http, grant_type=OTP, otp="123456", scope="openid")
    assert no_hint.json()["error_description"] == "A 'login_hint' is required for the request."
    good = token(
        oie, http, grant_type=OTP, login_hint=DEMO.user_login, otp=code_at(oie), scope="openid"
    )
    assert good.status_code == 200, good.text
    assert json.loads(_payload(good.json()["id_token"]))["amr"] == ["otp"]


def test_challenge_endpoint_names_the_otp_grant(oie: OktaEmulator, http: requests.Session) -> None:
    handed = mfa_token(oie, http)
    response = http.post(
        f"{oie.issuer}/v1/challenge",
        data={"mfa_token": handed, "challenge_types_supported": MFA_OTP},
        auth=WEB,
    )
    assert response.json() == {"challenge_type": MFA_OTP}
    odd = http.post(
        f"{oie.issuer}/v1/challenge",
        data={"mfa_token": handed, "challenge_types_supported": "sms"},
        auth=WEB,
    )
    assert odd.json()["error_description"] == (
        "sms is not supported as a 'challenge_type'. Try again with another value."
    )


def test_discovery_lists_the_identity_engine_grants_in_oie_mode_only(
    oie: OktaEmulator, okta: OktaEmulator, http: requests.Session
) -> None:
    for server in ("/oauth2/default", ""):
        listed = http.get(f"{oie.url}{server}/.well-known/openid-configuration").json()
        assert {"interaction_code", MFA_OTP, OTP} <= set(listed["grant_types_supported"])
        classic = http.get(f"{okta.url}{server}/.well-known/openid-configuration").json()
        assert not {"interaction_code", MFA_OTP, OTP} & set(classic["grant_types_supported"])


def test_classic_mode_answers_none_of_the_identity_engine_grants(
    okta: OktaEmulator, http: requests.Session
) -> None:
    response = token(okta, http, grant_type=MFA_OTP, mfa_token="x", otp="123456")
    assert response.json()["error"] == "unsupported_grant_type"
    challenge = http.post(f"{okta.issuer}/v1/challenge", data={"mfa_token": "x"}, auth=WEB)
    assert challenge.status_code == 404


# -- the Interaction Code flow -------------------------------------------------------------------


class Idx:
    """A headless IDX client speaking the wire format (interact, introspect, remediations)."""

    def __init__(
        self,
        okta: OktaEmulator,
        http: requests.Session,
        client: tuple[str, str | None] = WEB,
        redirect_uri: str = DEMO.web_redirect_uri,
    ) -> None:
        self.okta, self.http, self.client, self.redirect_uri = okta, http, client, redirect_uri
        self.verifier, self.challenge = pkce_pair()
        self.state_handle = ""

    def interact(self, **override: str) -> requests.Response:
        client_id, secret = self.client
        data = {
            "client_id": client_id,
            "scope": "openid profile",
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "state": "st",
        }
        if secret:
            data["client_secret"] = secret
        data.update(override)
        data = {k: v for k, v in data.items() if v}
        return self.http.post(f"{self.okta.issuer}/v1/interact", data=data)

    def post(self, action: str, body: dict[str, Any]) -> requests.Response:
        response = self.http.post(
            f"{self.okta.url}/idp/idx/{action}",
            data=json.dumps(body),
            headers={"Content-Type": ION, "Accept": ION},
        )
        assert response.headers["Content-Type"] == ION
        if response.status_code != 401 and "stateHandle" in response.json():
            self.state_handle = response.json()["stateHandle"]
        return response

    def start(self) -> dict[str, Any]:
        handle = self.interact().json()["interaction_handle"]
        response = self.post("introspect", {"interactionHandle": handle})
        assert response.status_code == 200
        return dict(response.json())

    def identify(self, password: str = DEMO.user_password) -> requests.Response:
        body = {
            "identifier": DEMO.user_login,
            "credentials": {"passcode": password},
            "stateHandle": self.state_handle,
        }
        return self.post("identify", body)

    def answer(self, code: str) -> requests.Response:
        body = {"credentials": {"passcode": code}, "stateHandle": self.state_handle}
        return self.post("challenge/answer", body)

    def exchange(self, state: dict[str, Any], verifier: str | None = None) -> requests.Response:
        fields = {f["name"]: f.get("value") for f in state["successWithInteractionCode"]["value"]}
        return token(
            self.okta,
            self.http,
            grant_type="interaction_code",
            interaction_code=fields["interaction_code"],
            code_verifier=verifier or self.verifier,
        )


def remediations(state: dict[str, Any]) -> list[str]:
    return [form["name"] for form in state["remediation"]["value"]]


def test_interaction_code_flow_with_password_and_totp(
    oie: OktaEmulator, http: requests.Session
) -> None:
    idx = Idx(oie, http)
    assert remediations(idx.start()) == ["identify"]
    identified = idx.identify()
    assert identified.status_code == 200
    assert remediations(identified.json()) == [
        "challenge-authenticator",
        "select-authenticator-authenticate",
    ]
    assert identified.json()["currentAuthenticatorEnrollment"]["value"]["key"] == "google_otp"
    done = idx.answer(code_at(oie))
    assert done.status_code == 200
    assert {"sid", "idx"} <= set(done.cookies.keys())
    state = done.json()
    assert "remediation" not in state
    issue = state["successWithInteractionCode"]
    assert (issue["name"], issue["href"]) == ("issue", f"{oie.issuer}/v1/token")
    tokens = idx.exchange(state)
    assert tokens.status_code == 200, tokens.text
    claims = json.loads(_payload(tokens.json()["id_token"]))
    assert (claims["sub"], claims["amr"]) == (DEMO.user_id, ["mfa", "otp", "pwd"])
    reused = idx.exchange(state)
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "The interaction code is invalid or has expired.",
    }


def test_the_idx_session_serves_the_users_other_apps_by_their_policy(
    oie: OktaEmulator, http: requests.Session
) -> None:
    idx = Idx(oie, http)
    idx.start()
    idx.identify()
    idx.answer(code_at(oie))
    _, challenge = pkce_pair()
    response = http.get(
        f"{oie.issuer}/v1/authorize",
        params={
            "client_id": DEMO.spa_client_id,
            "redirect_uri": DEMO.spa_redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "s2",
            "prompt": "none",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert "code" in location_params(response), response.headers.get("Location")


def test_a_password_only_session_does_not_serve_an_mfa_app(
    oie: OktaEmulator, http: requests.Session
) -> None:
    oie.org.add_app(
        "0oa-pwd",
        client_secret="p" * 40,
        redirect_uris=[DEMO.web_redirect_uri],
        grant_types=["authorization_code", "interaction_code"],
        policy="password",
    )
    idx = Idx(oie, http, ("0oa-pwd", "p" * 40))
    idx.start()
    identified = idx.identify()
    assert "successWithInteractionCode" in identified.json()
    assert "sid" in identified.cookies
    response = authorize(oie, http, prompt="none")
    assert location_params(response)["error_description"] == APP_SIGN_ON


def test_idx_errors_carry_okta_messages(oie: OktaEmulator, http: requests.Session) -> None:
    idx = Idx(oie, http)
    idx.start()
    refused = idx.identify("not-the-password")
    assert refused.status_code == 400
    assert refused.json()["messages"]["value"] == [
        {"message": "Authentication failed", "i18n": {"key": "errors.E0000004"}, "class": "ERROR"}
    ]
    assert remediations(refused.json()) == ["identify"]
    idx.identify()
    bad = idx.answer(wrong(code_at(oie)))
    assert bad.status_code == 401
    passcode = bad.json()["remediation"]["value"][0]["value"][0]["form"]["value"][0]
    assert passcode["messages"]["value"] == [
        {
            "message": "Invalid code. Try again.",
            "i18n": {"key": "api.authn.error.PASSCODE_INVALID", "params": []},
            "class": "ERROR",
        }
    ]
    # A code whose time step was already used elsewhere is refused as used.
    code = code_at(oie)
    token(oie, http, grant_type=MFA_OTP, mfa_token=mfa_token(oie, http), otp=code)
    used = idx.answer(code)
    assert used.status_code == 401
    passcode = used.json()["remediation"]["value"][0]["value"][0]["form"]["value"][0]
    assert passcode["messages"]["value"][0]["i18n"]["key"] == (
        "authfactor.challenge.soft_token.used_passcode"
    )


def test_an_expired_or_unknown_handle_is_answered_401_session_expired(
    oie: OktaEmulator, http: requests.Session
) -> None:
    idx = Idx(oie, http)
    state = idx.start()
    expired = {
        "version": "1.0.0",
        "messages": {
            "type": "array",
            "value": [
                {
                    "message": "The session has expired.",
                    "i18n": {"key": "idx.session.expired"},
                    "class": "ERROR",
                }
            ],
        },
    }
    unknown = idx.post("introspect", {"stateHandle": "02nope"})
    assert (unknown.status_code, unknown.json()) == (401, expired)
    oie.clock.advance(601)
    late = idx.post("introspect", {"stateHandle": state["stateHandle"]})
    assert (late.status_code, late.json()) == (401, expired)


def test_select_authenticator_then_cancel(oie: OktaEmulator, http: requests.Session) -> None:
    idx = Idx(oie, http)
    idx.start()
    identified = idx.identify().json()
    select = identified["remediation"]["value"][1]
    option = select["value"][0]["options"][0]["value"]["form"]["value"]
    chosen = {field["name"]: field["value"] for field in option}
    response = idx.post("challenge", {"authenticator": chosen, "stateHandle": idx.state_handle})
    assert response.status_code == 200
    assert remediations(response.json())[0] == "challenge-authenticator"
    old = idx.state_handle
    cancelled = idx.post("cancel", {"stateHandle": old})
    assert cancelled.status_code == 200
    assert remediations(cancelled.json()) == ["identify"]
    assert cancelled.json()["stateHandle"] != old
    assert idx.post("introspect", {"stateHandle": old}).status_code == 401


def test_interact_refusals(oie: OktaEmulator, okta: OktaEmulator, http: requests.Session) -> None:
    oie.org.embedded_signin = False
    off = Idx(oie, http).interact()
    assert (off.status_code, off.json()) == (
        400,
        {"error": "access_denied", "error_description": NOT_ENABLED},
    )
    oie.org.embedded_signin = True
    classic = Idx(okta, http).interact()
    assert classic.json()["error_description"] == NOT_ENABLED
    oie.org.add_app("0oa-no-ic", client_secret="q" * 40, redirect_uris=[DEMO.web_redirect_uri])
    no_grant = Idx(oie, http, ("0oa-no-ic", "q" * 40)).interact()
    assert no_grant.json()["error_description"] == NOT_ENABLED
    spa = Idx(oie, http, (DEMO.spa_client_id, None), DEMO.spa_redirect_uri)
    no_pkce = spa.interact(code_challenge="")
    assert no_pkce.json() == {
        "error": "invalid_request",
        "error_description": "PKCE code challenge is required to use the interaction code flow.",
    }
    assert "interaction_handle" in spa.interact().json()
    # An unknown client is answered in Okta's /api/v1 shape (okta/okta-idx-java#500).
    stranger = Idx(oie, http, ("0oa-unknown", None)).interact().json()
    assert stranger["errorCode"] == "invalid_client"
    assert stranger["errorSummary"] == "Invalid value for 'client_id' parameter."


def test_interaction_code_needs_the_verifier(oie: OktaEmulator, http: requests.Session) -> None:
    idx = Idx(oie, http)
    idx.start()
    idx.identify()
    state = idx.answer(code_at(oie)).json()
    other, _ = pkce_pair()
    mismatch = idx.exchange(state, verifier=other)
    assert mismatch.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed.",
    }
    # A failed verifier does not spend the code.
    assert idx.exchange(state).status_code == 200
    assert oie.internal_errors == []
