"""The Identity Engine flows (oie.py) end to end against the emulator over real HTTP on loopback:
``direct`` (Direct Authentication), ``interaction_code`` (IDX) and ``auto``, each path and each
refusal, in Identity Engine and Classic mode.

Expectations come from Okta's documented behaviour (shared/okta-api-facts.md section 8, the
research note's Q2 and Q3, Okta's error catalogue), never from the emulator's code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from support.core_helpers import SCOPES, Recorder, check_user_tokens, web

from pytest_okta_user import diagnosis as d
from pytest_okta_user import errors as e
from pytest_okta_user import oie
from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import exchange
from pytest_okta_user.provider import is_lasting
from pytest_okta_user.redact import Credentials
from pytest_okta_user.sessions import SessionStore
from pytest_okta_user.tokens import TokenSet, Variant

MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
ION = "application/ion+json; okta-version=1.0.0"
# An app of our own per case, so each refusal comes from one switch (facts sheet 8.2, 8.3).
APP_REDIRECT = "http://localhost:8080/oie/callback"
OIE_GRANTS = ["authorization_code", "password", MFA_OTP, "interaction_code"]


@pytest.fixture
def oie_okta() -> Iterator[OktaEmulator]:
    """The demo org in Identity Engine mode: the demo apps ask for a password and a TOTP code."""
    with OktaEmulator(engine="oie") as emulator:
        yield emulator


def creds(okta: OktaEmulator, **kw: Any) -> Credentials:
    fields: dict[str, Any] = {
        "password": DEMO.user_password,
        "client_secret": DEMO.web_client_secret,
        "totp_secret": okta.env().get("OKTA_TOTP_SECRET"),
    }
    fields.update(kw)
    return Credentials(**fields)


def spa_app(okta: OktaEmulator, *, grants: list[str], policy: str = "password+totp") -> str:
    """A public app with these grants and this authentication policy; its client id."""
    app = okta.org.add_app(
        app_type="spa", redirect_uris=[APP_REDIRECT], grant_types=grants, policy=policy
    )
    user = okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    assert user.apps is not None
    with okta.org.lock:
        user.apps.add(app.client_id)  # assigned, as the demo user is to the demo apps
    return app.client_id


def variant(okta: OktaEmulator, flow: str, client_id: str | None = None) -> Variant:
    if client_id is None:
        return web(okta, flow)
    return web(okta, flow, client_id=client_id, redirect_uri=APP_REDIRECT)


class Run:
    """flows.exchange with the emulator's clock, a shared SessionStore (the run's sign-in rules)
    and a recording session."""

    def __init__(self, okta: OktaEmulator, cache: TokenCache | None = None) -> None:
        self.okta = okta
        self.waits: list[float] = []
        self.sessions = SessionStore(
            cache, clock=okta.clock, sleep=self.sleep, notify=lambda message: None
        )
        self.http = Recorder()

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.okta.clock.advance(seconds)

    def __call__(self, v: Variant, c: Credentials) -> TokenSet:
        return exchange(
            v,
            c,
            clock=self.okta.clock,
            sleep=self.sleep,
            session=self.http,
            sessions=self.sessions,
        )

    def paths(self) -> list[str]:
        return [urlsplit(r.url or "").path for r, _ in self.http.sent]

    def json_bodies(self, path_end: str) -> list[dict[str, Any]]:
        return [
            json.loads(r.body or b"{}")
            for r, _ in self.http.sent
            if urlsplit(r.url or "").path.endswith(path_end)
        ]

    def forms(self, path_end: str) -> list[dict[str, str]]:
        from urllib.parse import parse_qsl

        found = []
        for request, _ in self.http.sent:
            if urlsplit(request.url or "").path.endswith(path_end):
                body = request.body or ""
                found.append(dict(parse_qsl(body if isinstance(body, str) else body.decode())))
        return found


def sent_in_this_or_the_last_step(okta: OktaEmulator, code: str) -> bool:
    """Whether `code` is the demo user's TOTP code of now or of a time step next to it: the run
    that sent it may have ended just after a step boundary (the emulator's clock is real time)."""
    return pyotp.TOTP(DEMO.user_totp_secret).verify(code, for_time=okta.clock(), valid_window=1)


def check_mfa_tokens(okta: OktaEmulator, tokens: TokenSet, v: Variant) -> None:
    check_user_tokens(okta, tokens, v)
    # Two factors: Okta's amr lists both (and mfa).
    assert {"pwd", "otp"} <= set(tokens.id_claims["amr"])


# --- direct ---------------------------------------------------------------------------------------


def test_direct_password_then_totp_code(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    v = variant(oie_okta, "direct")
    tokens = run(v, creds(oie_okta))
    check_mfa_tokens(oie_okta, tokens, v)
    token, keys = "/oauth2/default/v1/token", "/oauth2/default/v1/keys"
    assert run.paths() == [token, token, keys]
    first, second = run.forms("/v1/token")
    assert first["grant_type"] == "password"
    assert first["username"] == DEMO.user_login
    assert set(first["scope"].split()) == set(SCOPES)
    # DD-direct bmfaotp/use-flow.md: the mfa_token of the 403, the code as otp, no password.
    assert second["grant_type"] == MFA_OTP
    assert second["mfa_token"]
    code = second["otp"]
    assert sent_in_this_or_the_last_step(oie_okta, code)
    assert "password" not in second
    statuses = [response.status_code for _, response in run.http.sent]
    assert statuses[:2] == [403, 200]


def test_direct_on_a_password_only_app_takes_one_request(oie_okta: OktaEmulator) -> None:
    client_id = spa_app(oie_okta, grants=OIE_GRANTS, policy="password")
    run = Run(oie_okta)
    tokens = run(variant(oie_okta, "direct", client_id), creds(oie_okta, client_secret=None))
    assert tokens.id_claims["amr"] == ["pwd"]
    assert run.paths().count("/oauth2/default/v1/token") == 1


def test_direct_mfa_required_without_a_totp_secret(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.MfaRequired) as info:
        run(variant(oie_okta, "direct"), creds(oie_okta, totp_secret=None))
    error = info.value
    assert error.code == "mfa_required"
    assert "OKTA_TOTP_SECRET" in error.fix
    assert is_lasting(error)
    assert run.paths() == ["/oauth2/default/v1/token"]


def test_direct_wrong_password_is_lasting_and_sent_once(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    v = variant(oie_okta, "direct")
    with pytest.raises(e.OktaUserError) as info:
        run(v, creds(oie_okta, password="wrong-password"))
    assert is_lasting(info.value)
    assert "OKTA_PASSWORD" in info.value.fix
    # The same user's next variant in the run is refused without asking Okta again.
    with pytest.raises(e.OktaUserError):
        run(variant(oie_okta, "interaction_code"), creds(oie_okta, password="wrong-password"))
    assert run.paths() == ["/oauth2/default/v1/token"]


def test_direct_wrong_totp_code(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.InvalidPasscode) as info:
        run(variant(oie_okta, "direct"), creds(oie_okta, totp_secret=pyotp.random_base32()))
    assert info.value.code == "invalid_grant"
    assert "OKTA_TOTP_SECRET" in info.value.fix
    assert is_lasting(info.value)
    # The password once; the code of this step, then (a used code reads the same) the next's.
    grants = [form["grant_type"] for form in run.forms("/v1/token")]
    assert grants == ["password", MFA_OTP, MFA_OTP]
    codes = [form["otp"] for form in run.forms("/v1/token")[1:]]
    assert codes[0] != codes[1]


def test_direct_used_code_waits_for_the_next_step(oie_okta: OktaEmulator) -> None:
    """Something outside the run used this step's code: the next step's code answers the same
    mfa_token, the password not sent again."""
    oie_okta.clock.freeze(at=float(int(oie_okta.clock() // 30 * 30 + 3)))
    user = oie_okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    assert oie_okta.org.check_totp(user, pyotp.TOTP(DEMO.user_totp_secret).at(oie_okta.clock()))
    run = Run(oie_okta)
    v = variant(oie_okta, "direct")
    check_mfa_tokens(oie_okta, run(v, creds(oie_okta)), v)
    grants = [form["grant_type"] for form in run.forms("/v1/token")]
    assert grants == ["password", MFA_OTP, MFA_OTP]
    assert run.waits == [pytest.approx(27.0)]


def test_direct_grants_not_enabled_names_the_admin_switches(oie_okta: OktaEmulator) -> None:
    client_id = spa_app(oie_okta, grants=["authorization_code", "interaction_code"])
    run = Run(oie_okta)
    with pytest.raises(e.UnauthorizedClient) as info:
        run(variant(oie_okta, "direct", client_id), creds(oie_okta, client_secret=None))
    fix = info.value.fix
    assert "'Resource Owner Password'" in fix
    assert "'MFA OTP'" in fix
    assert "Okta direct auth API grants" in fix


def test_direct_mfa_otp_grant_missing(oie_okta: OktaEmulator) -> None:
    """The password grant alone on an MFA app: Okta cannot prompt for the second factor."""
    client_id = spa_app(oie_okta, grants=["authorization_code", "password"])
    run = Run(oie_okta)
    with pytest.raises(e.AccessDenied) as info:
        run(variant(oie_okta, "direct", client_id), creds(oie_okta, client_secret=None))
    # Okta's catalogue: direct_auth_prompted_grant_type_disabled_for_client (403).
    assert info.value.status == 403
    assert "'MFA OTP'" in info.value.fix
    assert run.paths() == ["/oauth2/default/v1/token"]


# --- interaction_code -----------------------------------------------------------------------------


@pytest.mark.parametrize("public", [False, True], ids=["web-app", "spa"])
def test_interaction_code_walks_identify_and_the_totp_challenge(
    oie_okta: OktaEmulator, public: bool
) -> None:
    run = Run(oie_okta)
    if public:
        v = web(
            oie_okta,
            "interaction_code",
            client_id=DEMO.spa_client_id,
            redirect_uri=DEMO.spa_redirect_uri,
        )
        c = creds(oie_okta, client_secret=None)
    else:
        v, c = variant(oie_okta, "interaction_code"), creds(oie_okta)
    tokens = run(v, c)
    check_mfa_tokens(oie_okta, tokens, v)
    paths = run.paths()
    assert paths[0] == "/oauth2/default/v1/interact"
    assert paths[1] == "/idp/idx/introspect"
    assert "/idp/idx/identify" in paths
    assert "/idp/idx/challenge/answer" in paths
    assert paths[-2:] == ["/oauth2/default/v1/token", "/oauth2/default/v1/keys"]
    interact = run.forms("/v1/interact")[0]
    assert interact["code_challenge_method"] == "S256"
    assert len(interact["code_challenge"]) == 43
    assert interact["redirect_uri"] == v.redirect_uri
    assert interact["state"]
    assert ("client_secret" in interact) is not public
    # IDX speaks its versioned media type (okta-auth-js lib/idx/introspect.ts).
    headers = run.http.sent[1][0].headers
    assert headers["Content-Type"] == ION
    assert headers["Accept"] == ION
    assert run.json_bodies("/introspect")[0].keys() == {"interactionHandle"}
    identify = run.json_bodies("/identify")[0]
    assert identify["identifier"] == DEMO.user_login
    assert identify["credentials"]["passcode"] == DEMO.user_password
    assert identify["stateHandle"]
    answer = run.json_bodies("/challenge/answer")[-1]
    assert sent_in_this_or_the_last_step(oie_okta, answer["credentials"]["passcode"])
    token = run.forms("/v1/token")[-1]
    assert token["grant_type"] == "interaction_code"
    assert token["interaction_code"]
    assert len(token["code_verifier"]) >= 43


def test_interaction_code_wrong_password(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.AuthenticationError) as info:
        run(variant(oie_okta, "interaction_code"), creds(oie_okta, password="wrong-password"))
    error = info.value
    assert error.code == "errors.E0000004"
    assert "Authentication failed" in error.what
    assert "OKTA_PASSWORD" in error.fix
    assert is_lasting(error)
    assert run.paths().count("/idp/idx/identify") == 1
    assert "wrong-password" not in str(error)


def test_interaction_code_wrong_totp_code(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.InvalidPasscode) as info:
        run(
            variant(oie_okta, "interaction_code"),
            creds(oie_okta, totp_secret=pyotp.random_base32()),
        )
    assert info.value.code == "api.authn.error.PASSCODE_INVALID"
    assert "Invalid code" in info.value.what
    assert run.paths().count("/idp/idx/challenge/answer") == 1


def test_interaction_code_used_code_waits_for_the_next_step(oie_okta: OktaEmulator) -> None:
    """Something outside the run used this step's code: Okta says so (used_passcode), and the
    next step's code answers the same challenge, the password not sent again."""
    oie_okta.clock.freeze(at=float(int(oie_okta.clock() // 30 * 30 + 3)))
    user = oie_okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    assert oie_okta.org.check_totp(user, pyotp.TOTP(DEMO.user_totp_secret).at(oie_okta.clock()))
    run = Run(oie_okta)
    tokens = run(variant(oie_okta, "interaction_code"), creds(oie_okta))
    assert tokens.access_token
    assert run.paths().count("/idp/idx/identify") == 1
    assert run.paths().count("/idp/idx/challenge/answer") == 2
    assert run.waits
    assert sum(run.waits) <= 30


def test_interaction_code_without_a_totp_secret(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.MfaRequired) as info:
        run(variant(oie_okta, "interaction_code"), creds(oie_okta, totp_secret=None))
    assert "OKTA_TOTP_SECRET" in info.value.fix
    assert "/idp/idx/challenge/answer" not in run.paths()


def test_interaction_code_not_enabled_names_the_org_switch() -> None:
    with OktaEmulator({"settings": {"engine": "oie", "embedded_signin": False}}) as okta:
        run = Run(okta)
        with pytest.raises(e.AccessDenied) as info:
            run(variant(okta, "interaction_code"), creds(okta))
    assert "Embedded widget sign-in support" in info.value.fix
    assert "'Interaction Code'" in info.value.fix
    assert run.paths() == ["/oauth2/default/v1/interact"]


def test_interaction_code_unknown_user(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    v = web(oie_okta, "interaction_code", user="nobody@example.com")
    with pytest.raises(e.AuthenticationError):
        run(v, creds(oie_okta))


def test_interaction_code_locked_account(oie_okta: OktaEmulator) -> None:
    oie_okta.org.add_user("locked@example.com", "Locked-Passw0rd!", status="LOCKED_OUT")
    run = Run(oie_okta)
    v = web(oie_okta, "interaction_code", user="locked@example.com")
    with pytest.raises(e.AuthenticationError) as info:
        run(v, creds(oie_okta, password="Locked-Passw0rd!"))
    # Identity Engine answers a locked account as a failed sign-in (okta-idx-dotnet
    # mocks/01-basic-login/locked-user-identify-response.json): the fix says where to look.
    assert "locked" in info.value.fix


def test_interaction_code_user_not_enrolled_in_totp(oie_okta: OktaEmulator) -> None:
    oie_okta.org.add_user("plain@example.com", "Plain-Passw0rd!")
    run = Run(oie_okta)
    v = web(oie_okta, "interaction_code", user="plain@example.com")
    with pytest.raises(e.MfaRequired) as info:
        run(v, creds(oie_okta, password="Plain-Passw0rd!"))
    assert "TOTP" in info.value.fix


# --- the Classic path on Identity Engine, explained --------------------------------------------


def test_pkce_on_an_oie_mfa_app_names_the_two_flows(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    v = web(oie_okta, "pkce", client_id=DEMO.spa_client_id, redirect_uri=DEMO.spa_redirect_uri)
    with pytest.raises(e.LoginRequired) as info:
        run(v, creds(oie_okta, client_secret=None))
    error = info.value
    assert error.code == "login_required"
    assert "requires re-authentication or MFA" in error.what
    assert "Identity Engine" in error.what
    for needed in ("direct", "interaction_code", "'MFA OTP'", "Embedded widget sign-in support"):
        assert needed in error.fix


def test_login_required_on_a_classic_org_keeps_its_classic_fix(okta: OktaEmulator) -> None:
    """A Classic org never gets advice about Identity Engine flows."""
    from pytest_okta_user.client import OktaClient

    error = e.LoginRequired(
        "Okta's /authorize answered login_required",
        "classic fix",
        code="login_required",
        description="The client specified not to prompt, but the client app requires"
        " re-authentication or MFA.",
    )
    with OktaClient(okta.url) as client:
        assert oie.pipeline(client) == "v1"
        assert oie.explain_login_required(client, error) is error


# --- auto -----------------------------------------------------------------------------------------


def test_auto_on_classic_takes_the_sessiontoken_path(okta: OktaEmulator, tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    run = Run(okta, cache)
    v = variant(okta, "auto")
    tokens = run(v, creds(okta, totp_secret=None))
    check_user_tokens(okta, tokens, v)
    paths = run.paths()
    assert paths[0] == "/.well-known/okta-organization"
    assert "/api/v1/authn" in paths
    assert "/oauth2/default/v1/interact" not in paths
    assert cache.load_auto_choice(v.issuer, v.client_id) == "classic"
    assert any("flow auto picked classic" in line for line in oie.auto_picks())


def test_auto_on_oie_moves_from_login_required_to_interaction_code(
    oie_okta: OktaEmulator, tmp_path: Path
) -> None:
    # The demo web app allows both paths: the Interaction Code flow first, since the Okta session
    # it starts serves the user's other variants (direct asks for a password and a code each).
    cache = TokenCache(tmp_path)
    run = Run(oie_okta, cache)
    v = variant(oie_okta, "auto")
    tokens = run(v, creds(oie_okta))
    check_mfa_tokens(oie_okta, tokens, v)
    paths = run.paths()
    assert paths.count("/api/v1/authn") == 1
    assert paths.count("/oauth2/default/v1/interact") == 1
    assert cache.load_auto_choice(v.issuer, v.client_id) == "interaction_code"
    line = (
        f"flow auto picked interaction_code for client {v.client_id} at {v.issuer}"
        " (classic: login_required)"
    )
    assert any(line in picked for picked in oie.auto_picks())

    # The next run (its tokens gone) goes straight to the remembered path, which finds the Okta
    # session the IDX sign-in stored: no sign-in at all, one /authorize.
    again = Run(oie_okta, cache)
    again(dataclasses.replace(v, scopes=("openid", "email")), creds(oie_okta))
    assert "/api/v1/authn" not in again.paths()
    assert "/oauth2/default/v1/interact" not in again.paths()
    assert again.paths().count("/oauth2/default/v1/authorize") == 1


def test_auto_moves_on_to_direct_when_interaction_code_is_not_enabled(
    oie_okta: OktaEmulator, tmp_path: Path
) -> None:
    client_id = spa_app(oie_okta, grants=["authorization_code", "password", MFA_OTP])
    cache = TokenCache(tmp_path)
    run = Run(oie_okta, cache)
    v = variant(oie_okta, "auto", client_id)
    tokens = run(v, creds(oie_okta, client_secret=None))
    assert {"pwd", "otp"} <= set(tokens.id_claims["amr"])
    assert cache.load_auto_choice(v.issuer, client_id) == "direct"
    picked = [p for p in oie.auto_picks() if client_id in p]
    assert picked
    assert "classic: login_required" in picked[0]
    assert "interaction_code: " in picked[0]


def test_auto_on_an_oie_password_only_app_keeps_the_classic_path(oie_okta: OktaEmulator) -> None:
    client_id = spa_app(oie_okta, grants=OIE_GRANTS, policy="password")
    run = Run(oie_okta)
    tokens = run(variant(oie_okta, "auto", client_id), creds(oie_okta, client_secret=None))
    assert tokens.id_claims["amr"] == ["pwd"]
    assert "/oauth2/default/v1/interact" not in run.paths()
    assert run.forms("/v1/token")[0]["grant_type"] == "authorization_code"


def test_auto_wrong_password_stops_at_once(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    with pytest.raises(e.AuthenticationError) as info:
        run(variant(oie_okta, "auto"), creds(oie_okta, password="wrong-password"))
    assert is_lasting(info.value)
    paths = run.paths()
    # One password sent: the Classic sign-in's; no Direct Authentication, no IDX after it.
    assert paths.count("/api/v1/authn") == 1
    assert "/oauth2/default/v1/token" not in paths
    assert "/oauth2/default/v1/interact" not in paths


def test_auto_wrong_password_after_a_remembered_path_stops_at_once(
    oie_okta: OktaEmulator, tmp_path: Path
) -> None:
    cache = TokenCache(tmp_path)
    v = variant(oie_okta, "auto")
    cache.store_auto_choice(v.issuer, v.client_id, "interaction_code", "remembered")
    run = Run(oie_okta, cache)
    with pytest.raises(e.AuthenticationError):
        run(v, creds(oie_okta, password="wrong-password"))
    paths = run.paths()
    assert paths.count("/idp/idx/identify") == 1
    assert "/api/v1/authn" not in paths
    assert "/oauth2/default/v1/token" not in paths


def test_auto_with_no_path_enabled_lists_each_refusal() -> None:
    with OktaEmulator({"settings": {"engine": "oie", "embedded_signin": False}}) as okta:
        client_id = spa_app(okta, grants=["authorization_code"])
        run = Run(okta)
        with pytest.raises(e.OktaUserError) as info:
            run(variant(okta, "auto", client_id), creds(okta, client_secret=None))
    what = info.value.what
    assert "Identity Engine" in what
    for path in ("classic: ", "direct: ", "interaction_code: "):
        assert path in what
    assert "direct" in info.value.fix
    assert "interaction_code" in info.value.fix
    assert is_lasting(info.value)


def test_cache_auto_record_is_private_and_per_client(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "c")
    cache.store_auto_choice("https://a.example/oauth2/default", "0oa1", "direct", "why")
    assert cache.load_auto_choice("https://a.example/oauth2/default", "0oa1") == "direct"
    assert cache.load_auto_choice("https://a.example/oauth2/default", "0oa2") is None
    path = cache.auto_path("https://a.example/oauth2/default", "0oa1")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "0oa1" not in path.name
    path.write_text("not json")
    assert cache.load_auto_choice("https://a.example/oauth2/default", "0oa1") is None
    cache.store_auto_choice("https://a.example/oauth2/default", "0oa1", "direct", "why")
    cache.clear()
    assert not path.exists()


# --- one TOTP step per sign-in, secrets out of messages ----------------------------------------


def test_two_flows_of_one_user_never_share_a_totp_step(oie_okta: OktaEmulator) -> None:
    oie_okta.clock.freeze(at=float(int(oie_okta.clock() // 30 * 30 + 1)))
    run = Run(oie_okta)
    run(variant(oie_okta, "direct"), creds(oie_okta))
    run(variant(oie_okta, "interaction_code"), creds(oie_okta))
    codes = [run.forms("/v1/token")[1]["otp"]]
    codes += [b["credentials"]["passcode"] for b in run.json_bodies("/challenge/answer")]
    assert len(codes) == len(set(codes)) == 2
    # The second sign-in waited for the next step instead of sending a used code.
    assert run.waits == [pytest.approx(29.0)]
    assert run.paths().count("/idp/idx/challenge/answer") == 1


@pytest.mark.parametrize("flow", ["direct", "interaction_code", "auto"])
def test_refusals_never_show_a_secret(oie_okta: OktaEmulator, flow: str) -> None:
    run = Run(oie_okta)
    totp = pyotp.random_base32()
    with pytest.raises(e.OktaUserError) as info:
        run(variant(oie_okta, flow), creds(oie_okta, totp_secret=totp))
    shown = f"{info.value!s} {info.value!r}"
    for secret in (DEMO.user_password, DEMO.web_client_secret, totp):
        assert secret not in shown


# --- the walker on Identity Engine shapes the emulator does not serve -----------------------------


def _form(name: str, href: str, *fields: dict[str, Any]) -> dict[str, Any]:
    state_handle = {"name": "stateHandle", "required": True, "value": "02sh", "mutable": False}
    return {
        "rel": ["create-form"],
        "name": name,
        "href": f"https://org.example{href}",
        "method": "POST",
        "accepts": "application/json; okta-version=1.0.0",
        "value": [*fields, state_handle],
    }


# Okta Verify offers a push and a code (okta-signin-widget playground mocks
# authenticator-verification-select-authenticator.json, ...-okta-verify-totp.json).
def _authenticator(key: str, id_: str, name: str, *methods: str) -> dict[str, Any]:
    return {"key": key, "id": id_, "displayName": name, "methods": [{"type": m} for m in methods]}


_AUTHENTICATORS = {
    "type": "array",
    "value": [
        _authenticator("okta_password", "autpw", "Password", "password"),
        _authenticator("okta_verify", "autov", "Okta Verify", "push", "totp"),
    ],
}
_METHODS = [{"label": "Push", "value": "push"}, {"label": "Code", "value": "totp"}]
_SELECT = _form(
    "select-authenticator-authenticate",
    "/idp/idx/challenge",
    {
        "name": "authenticator",
        "type": "object",
        "options": [
            {
                "label": "Password",
                "value": {"form": {"value": [{"name": "id", "value": "autpw", "mutable": False}]}},
                "relatesTo": "$.authenticators.value[0]",
            },
            {
                "label": "Okta Verify",
                "value": {"form": {"value": [
                    {"name": "id", "value": "autov", "mutable": False},
                    {"name": "methodType", "options": _METHODS},
                ]}},
                "relatesTo": "$.authenticators.value[1]",
            },
        ],
    },
)  # fmt: skip
_CHALLENGE = _form(
    "challenge-authenticator",
    "/idp/idx/challenge/answer",
    {"name": "credentials", "form": {"value": [{"name": "passcode", "secret": True}]}},
)


def _state(*forms: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "stateHandle": "02sh",
        "remediation": {"type": "array", "value": list(forms)},
        "authenticators": _AUTHENTICATORS,
        **extra,
    }


class _ScriptedIdx:
    """Answers each IDX post with the next state of a script, and keeps what was posted."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states
        self.posted: list[tuple[str, dict[str, Any]]] = []

    def idx(
        self, href: str, body: dict[str, Any], *, content_type: str, endpoint: str
    ) -> tuple[int, Any, tuple[()]]:
        from pytest_okta_user.redact import SecretDict

        self.posted.append((urlsplit(href).path, json.loads(json.dumps(body))))
        return 200, SecretDict(self.states.pop(0)), ()


def test_walker_identifier_first_then_password_then_okta_verify_code() -> None:
    current = lambda key: {"type": "object", "value": {"key": key, "displayName": key}}  # noqa: E731
    success = {
        "name": "issue",
        "href": "https://org.example/oauth2/default/v1/token",
        "value": [
            {"name": "grant_type", "value": "interaction_code"},
            {"name": "interaction_code", "value": "ic-123"},
        ],
    }
    client = _ScriptedIdx(
        [
            _state(_SELECT),
            _state(_CHALLENGE, currentAuthenticatorEnrollment=current("okta_password")),
            _state(_SELECT),
            _state(_CHALLENGE, currentAuthenticatorEnrollment=current("okta_verify")),
            {"version": "1.0.0", "successWithInteractionCode": success,
             "user": {"type": "object", "value": {"id": "00u1", "identifier": "a@example.com"}}},
        ]
    )  # fmt: skip
    identify = _form("identify", "/idp/idx/identify", {"name": "identifier", "label": "Username"})
    walk = oie._Walk(
        client,  # type: ignore[arg-type]
        Variant(issuer="https://org.example/oauth2/default", client_id="0oa1", user="a@example.com",
                flow="interaction_code", scopes=("openid",), redirect_uri="http://localhost/cb"),
        Credentials(password="pw-1"),
        lambda: __import__("pytest_okta_user.redact").redact.RedactedStr("123456"),
    )  # fmt: skip
    from pytest_okta_user.redact import SecretDict

    code, user = walk.run(200, SecretDict(_state(identify)))
    assert code == "ic-123"
    assert user == {"id": "00u1", "profile": {"login": "a@example.com"}}
    paths = [path for path, _ in client.posted]
    assert paths == [
        "/idp/idx/identify",
        "/idp/idx/challenge",
        "/idp/idx/challenge/answer",
        "/idp/idx/challenge",
        "/idp/idx/challenge/answer",
    ]
    bodies = [body for _, body in client.posted]
    assert bodies[0] == {"identifier": "a@example.com", "stateHandle": "02sh"}
    assert bodies[1] == {"authenticator": {"id": "autpw"}, "stateHandle": "02sh"}
    assert bodies[2]["credentials"] == {"passcode": "pw-1"}
    # The password is sent: the TOTP method of Okta Verify is chosen, never the push.
    assert bodies[3]["authenticator"] == {"id": "autov", "methodType": "totp"}
    assert bodies[4]["credentials"] == {"passcode": "123456"}


def test_walker_refuses_a_push_only_choice() -> None:
    only_push = json.loads(json.dumps(_SELECT).replace('"totp"', '"push"'))
    only_push["value"][0]["options"] = only_push["value"][0]["options"][1:]
    client = _ScriptedIdx([])
    walk = oie._Walk(
        client,  # type: ignore[arg-type]
        Variant(issuer="https://org.example/oauth2/default", client_id="0oa1", user="a@example.com",
                flow="interaction_code", scopes=("openid",), redirect_uri="http://localhost/cb"),
        Credentials(password="pw-1", totp_secret="JBSWY3DPEHPK3PXP"),
        None,
    )  # fmt: skip
    walk.password_sent = True
    from pytest_okta_user.redact import SecretDict

    authenticators = {
        "type": "array",
        "value": [_authenticator("okta_verify", "autov", "Okta Verify", "push")],
    }
    with pytest.raises(e.MfaRequired) as info:
        walk.run(200, SecretDict(_state(only_push, authenticators=authenticators)))
    assert "Okta Verify" in info.value.what
    assert client.posted == []


# --- the Okta session an IDX sign-in starts -----------------------------------------------------


def test_the_idx_session_serves_the_users_other_variants(oie_okta: OktaEmulator) -> None:
    """IDX starts an Okta session with the factors it verified (password and code): the user's
    pkce variant gets its tokens through /authorize?prompt=none with it, without signing in."""
    run = Run(oie_okta)
    run(variant(oie_okta, "interaction_code"), creds(oie_okta))
    pkce = web(oie_okta, "pkce", client_id=DEMO.spa_client_id, redirect_uri=DEMO.spa_redirect_uri)
    tokens = run(pkce, creds(oie_okta, client_secret=None))
    assert {"pwd", "otp"} <= set(tokens.id_claims["amr"])
    assert "/api/v1/authn" not in run.paths()
    assert run.sessions.sign_ins == 1
    assert run.sessions.sessions_reused == 1


def test_direct_authentication_starts_no_session(oie_okta: OktaEmulator) -> None:
    run = Run(oie_okta)
    run(variant(oie_okta, "direct"), creds(oie_okta))
    pkce = web(oie_okta, "pkce", client_id=DEMO.spa_client_id, redirect_uri=DEMO.spa_redirect_uri)
    with pytest.raises(e.LoginRequired):
        run(pkce, creds(oie_okta, client_secret=None))
    assert run.paths().count("/api/v1/authn") == 1


# --- each Identity Engine refusal: one error with its fix (Okta's catalogue and IDX keys) -------

# (error, description verbatim from shared/okta-catalogue/oauth2-error-codes.json, flow,
#  class, needles in the fix)
OIE_OAUTH_CASES = [
    ("access_denied", "User couldn't be signed-in through direct authentication because"
     " authentication policy wasn't satisfied.", "direct", e.AccessDenied,
     ["Password + Another factor", "interaction_code"]),
    ("access_denied", "The grant types required to satisfy sign on policy are disabled for the"
     " client.", "direct", e.AccessDenied, ["'MFA OTP'"]),
    ("access_denied", "The required authenticator cannot be used. Check if it is required by"
     " policy and the user is enrolled in the authenticator and try again.", "direct",
     e.AccessDenied, ["Google Authenticator", "OKTA_TOTP_SECRET"]),
    ("access_denied", "The requested feature (Interaction Code flow) isn't enabled in this"
     " environment. Ensure that you have Okta Identity Engine enabled and the Interaction Code"
     " flow enabled for this application and authorization server.", "interaction_code",
     e.AccessDenied, ["Embedded widget sign-in support", "'Interaction Code'"]),
    ("unauthorized_client", "The client is not authorized to use the provided grant type."
     " Configured grant types: [authorization_code].", "interaction_code", e.UnauthorizedClient,
     ["'Interaction Code'"]),
    ("invalid_grant", "The 'otp' provided is either empty or incorrect. Use the correct OTP and"
     " try again.", "direct", e.InvalidPasscode, ["OKTA_TOTP_SECRET"]),
    ("invalid_grant", "The credentials provided were invalid.", "direct", e.CredentialsRefused,
     ["OKTA_PASSWORD"]),
    ("invalid_grant", "Resource owner password credentials authentication denied by sign on"
     " policy.", "password", e.InvalidGrant, ["direct", "interaction_code"]),
    ("invalid_grant", "Additional user authentication is required but the assurance requirements"
     " cannot be met with the allowed authenticators. Check the authenticator and assurance"
     " configuration for the user and client.", "interaction_code", e.InvalidGrant,
     ["OKTA_TOTP_SECRET"]),
    ("mfa_required", "Verify with an additional authenticator to complete the sign-in process.",
     "direct", e.MfaRequired, ["OKTA_TOTP_SECRET"]),
    ("mfa_required", "Verify with an additional authenticator to complete the sign-in process.",
     "password", e.MfaRequired, ["direct"]),
    ("interaction_required", "Your client is configured to use the interaction code flow and"
     " user interaction is required to complete the request.", "pkce", e.LoginRequired,
     ["interaction_code"]),
]  # fmt: skip


@pytest.mark.parametrize(("error", "description", "flow", "cls", "needles"), OIE_OAUTH_CASES)
def test_identity_engine_oauth_errors(
    error: str, description: str, flow: str, cls: type, needles: list[str]
) -> None:
    raised = d.oauth_error(
        error, description, status=400, endpoint="/token", flow=flow, user="u@example.com"
    )
    assert type(raised) is cls
    assert raised.code == error
    for needle in needles:
        assert needle in raised.fix, raised.fix
    assert is_lasting(raised)


def test_the_cases_are_okta_texts() -> None:
    """Okta's own texts (its catalogue, where lists read ``[en]``), so the mapping meets real
    answers."""
    catalogue = Path("/work/shared/okta-catalogue/oauth2-error-codes.json")
    if not catalogue.exists():
        pytest.skip("catalogue not available")
    known = {
        (entry.get("errorCode"), entry.get("errorDescription"))
        for entry in json.loads(catalogue.read_text())["errors"]
    }
    for error, description, *_ in OIE_OAUTH_CASES:
        assert (error, re.sub(r"\[[^\]]*\]", "[en]", description)) in known, description


# (i18n key, message, class, needle in the fix): keys from Okta's SDK fixtures (research note Q3).
IDX_CASES = [
    ("errors.E0000004", "Authentication failed", e.AuthenticationError, "OKTA_PASSWORD"),
    ("incorrectPassword", "Password is incorrect", e.AuthenticationError, "OKTA_PASSWORD"),
    ("api.authn.error.PASSCODE_INVALID", "Invalid code. Try again.", e.InvalidPasscode,
     "OKTA_TOTP_SECRET"),
    ("authfactor.challenge.soft_token.used_passcode", "API error: Each code can only be used"
     " once. Please wait for a new code and try again.", e.InvalidPasscode, "once"),
    ("authfactor.challenge.suspended_factor", "Factor suspended", e.LockedOut, "unlocks"),
    ("idx.error.user.not.assigned.to.app", "User is not assigned to this application.",
     e.AccessDenied, "Assignments"),
    ("idx.unknown.user", "There is no account with the Username nobody.", e.AuthenticationError,
     "OKTA_USERNAME"),
    ("oie.assurance.unsatisfiable", 'Unable to login to "app" at this time.', e.MfaRequired,
     "OKTA_TOTP_SECRET"),
    ("idx.session.expired", "The session has expired.", e.OktaRejected, "run again"),
    ("tooManyRequests", "Too many requests", e.RateLimited, "token cache"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "message", "cls", "needle"), IDX_CASES)
def test_idx_messages(key: str, message: str, cls: type, needle: str) -> None:
    raised = d.idx_error([(key, message, "ERROR")], status=400, user="u@example.com", step="x")
    assert type(raised) is cls
    assert raised.code == key
    assert message in raised.what
    assert needle in raised.fix
