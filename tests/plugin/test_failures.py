"""Every failure explained, as users meet it: suites that fail in each way a headless sign-in can
fail, run through pytest (subprocesses, with every switch that shows more).

Each failure comes from the emulator's state (users, apps, statuses) or its fault injection; the
few faults that must reach one test only are queued by the :class:`~support.leaks.Tap` when that
test's user reaches the emulator, so pytest's test order does not matter. For each failure: the
test errors with a short message that says what to change, nothing of the plugin's insides shows,
and the tests that need no Okta still pass. Then the outputs of all the runs are searched for every
secret that crossed the emulator (``support/leaks.py`` holds the search, ``test_leak_search.py``
its own checks).

Six inner runs, started together: what differs between them is what the plugin takes once per run
(the org, the client and its secret, the redirect URI, the TOTP secret).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from support.inner import LOUD, Inner, message_of, once, random_password, run_all, section_of
from support.leaks import Tap, find_leaks

from pytest_okta_user.emulator import DEMO, OktaEmulator

#: The users run's --okta-timeout (the default is 10 s): short, so that the emulator's delayed
#: answer times out quickly; long enough for every other request of that run.
TIMEOUT = 2.0

# One test per failure, each with its own user or flow, so each is its own sign-in.
USERS_SUITE = """
import pytest


def test_plain():
    pass


def test_signed_in(okta_tokens):
    print(okta_tokens)


@pytest.mark.okta(user="wrong@example.com")
def test_bad_credentials(okta_access_token):
    pass


@pytest.mark.okta(user="locked@example.com")
def test_locked_out(okta_tokens):
    pass


@pytest.mark.okta(user="expired@example.com")
def test_password_expired(okta_session):
    pass


@pytest.mark.okta(user="totp@example.com")
def test_wrong_totp_code(okta_user):
    pass


@pytest.mark.okta(user="loner@example.com")
def test_not_assigned(okta_auth):
    pass


@pytest.mark.okta(scopes="openid api:nope")
def test_unknown_scope(okta_id_token):
    pass


@pytest.mark.okta(flow="password", user="wrong@example.com")
def test_password_grant_bad_credentials(okta_access_token):
    pass


@pytest.mark.okta(flow="client_credentials", scopes="api:read")
def test_client_credentials_not_enabled(okta_access_token):
    pass


@pytest.mark.okta(user="stale@example.com")
def test_login_required(okta_access_token):
    pass


@pytest.mark.okta(user="late@example.com")
def test_code_expired(okta_access_token):
    pass


@pytest.mark.okta(user="tampered@example.com")
def test_pkce_mismatch(okta_access_token):
    pass


@pytest.mark.okta(user="busy@example.com")
def test_rate_limited(okta_access_token):
    pass


@pytest.mark.okta(user="captive@example.com")
def test_html_instead_of_json(okta_access_token):
    pass


@pytest.mark.okta(user="gateway@example.com")
def test_proxy_error_page(okta_access_token):
    pass


@pytest.mark.okta(user="slow@example.com")
def test_timeout(okta_access_token):
    pass


def test_factory_bad_credentials(okta_token_factory):
    okta_token_factory(user="wrong@example.com", scopes="openid")
"""

APP_SUITE = """
import pytest


def test_plain():
    pass


@pytest.mark.okta(flow="implicit")
def test_implicit_not_enabled(okta_access_token):
    pass


@pytest.mark.okta(user="totp@example.com")
def test_mfa_without_totp_secret(okta_access_token):
    pass


@pytest.mark.okta(flow="code")
def test_wrong_client_secret(okta_access_token):
    pass


@pytest.mark.okta(user="locked@example.com")
def test_locked_out_hidden(okta_access_token):
    pass
"""

UNKNOWN_CLIENT_SUITE = """
def test_plain():
    pass


def test_unknown_client(okta_access_token):
    pass
"""

REDIRECT_SUITE = """
import pytest


def test_plain():
    pass


def test_redirect_uri_not_registered(okta_access_token):
    pass


@pytest.mark.okta(flow="password")
def test_password_grant_not_enabled(okta_access_token):
    pass
"""

TLS_SUITE = """
def test_plain():
    pass


def test_tls(okta_access_token):
    pass
"""

REFUSED_SUITE = """
def test_plain():
    pass


def test_connection_refused(okta_access_token):
    pass
"""

UNKNOWN_CLIENT = "0oanosuchclient00001"
SIGN_IN = "okta-user: sign-in refused"
UNREGISTERED = "http://localhost:8080/not/registered"

#: failure -> (run, test, what the message must say, in order: what happened, then the fix).
FAILURES: dict[str, tuple[str, str, list[str]]] = {
    "bad credentials": (
        "users",
        "test_bad_credentials[wrong@example.com]",
        [
            "Okta refused the sign-in of user wrong@example.com at /api/v1/authn: E0000004",
            "fix: check the login in --okta-user / OKTA_USERNAME / okta_username and the password"
            " in OKTA_PASSWORD",
        ],
    ),
    "bad credentials (token factory)": (
        "users",
        "test_factory_bad_credentials",
        ["Okta refused the sign-in of user wrong@example.com", "fix: check the login in"],
    ),
    "locked out": (
        "users",
        "test_locked_out[locked@example.com]",
        [
            "Okta says user locked@example.com is locked out (LOCKED_OUT)",
            "fix: unlock the user (Directory > People > the user > Unlock)",
        ],
    ),
    "locked out, hidden by the password policy": (
        "app",
        "test_locked_out_hidden[locked@example.com]",
        ["E0000004", "the account may be locked", "Directory > People > the user"],
    ),
    "password expired": (
        "users",
        "test_password_expired[expired@example.com]",
        [
            "the password of user expired@example.com has expired (PASSWORD_EXPIRED)",
            "Reset password) and update OKTA_PASSWORD",
        ],
    ),
    "MFA required without a TOTP secret": (
        "app",
        "test_mfa_without_totp_secret[totp@example.com]",
        [
            "Okta asks user totp@example.com for a second factor (MFA_REQUIRED",
            "fix: set OKTA_TOTP_SECRET to the user's TOTP factor secret",
        ],
    ),
    "wrong TOTP code": (
        "users",
        "test_wrong_totp_code[totp@example.com]",
        ["Okta refused the TOTP code: E0000068", "fix: OKTA_TOTP_SECRET must be the shared secret"],
    ),
    "redirect URI not registered (the HTML page)": (
        "redirect",
        "test_redirect_uri_not_registered",
        [
            f"Okta's /authorize refused the redirect URI {UNREGISTERED} with its error page",
            "Sign-in redirect URIs, or set --okta-redirect-uri / OKTA_REDIRECT_URI /"
            " okta_redirect_uri",
        ],
    ),
    "unknown client": (
        "unknown client",
        "test_unknown_client",
        [
            f"no active app has client id {UNKNOWN_CLIENT}",
            "fix: check --okta-client-id / OKTA_CLIENT_ID / okta_client_id against Applications",
        ],
    ),
    "response type not enabled (implicit)": (
        "app",
        "test_implicit_not_enabled[implicit]",
        ["unsupported_response_type", "tick 'Implicit (hybrid)'"],
    ),
    "login_required": (
        "users",
        "test_login_required[stale@example.com]",
        ["login_required", "fix: the one-time sessionToken was refused"],
    ),
    "access_denied (not assigned)": (
        "users",
        "test_not_assigned[loner@example.com]",
        [
            "access_denied",
            "fix: assign user loner@example.com to the app (Applications > your app > Assignments)",
        ],
    ),
    "invalid_grant (password grant, bad credentials)": (
        "users",
        "test_password_grant_bad_credentials[password-wrong@example.com]",
        ["/token answered invalid_grant", "fix: check the login in --okta-user"],
    ),
    "invalid_grant (code expired)": (
        "users",
        "test_code_expired[late@example.com]",
        ["/token answered invalid_grant", "fix: a code works once and for 5 minutes"],
    ),
    "invalid_grant (PKCE verifier)": (
        "users",
        "test_pkce_mismatch[tampered@example.com]",
        ["/token answered invalid_grant", "fix: the code_verifier did not match"],
    ),
    "invalid_client (wrong client secret)": (
        "app",
        "test_wrong_client_secret[code]",
        ["/token answered invalid_client", "and OKTA_CLIENT_SECRET (Applications > your app"],
    ),
    "unauthorized_client (client_credentials)": (
        "users",
        "test_client_credentials_not_enabled[client_credentials-api:read]",
        ["/token answered unauthorized_client", "tick 'Client Credentials'"],
    ),
    "unauthorized_client (password grant)": (
        "redirect",
        "test_password_grant_not_enabled[password]",
        ["/token answered unauthorized_client", "tick 'Resource Owner Password'"],
    ),
    "invalid_scope": (
        "users",
        "test_unknown_scope[openid+api:nope]",
        ["answered invalid_scope", "--okta-scopes / OKTA_SCOPES / okta_scopes"],
    ),
    "rate limited": (
        "users",
        "test_rate_limited[busy@example.com]",
        [
            "Okta's rate limit at /api/v1/authn (HTTP 429, E0000047)",
            "keep the token cache on",
            "raise --okta-rate-limit-wait / OKTA_RATE_LIMIT_WAIT / okta_rate_limit_wait",
        ],
    ),
    "a non-JSON answer (HTML from a captive portal)": (
        "users",
        "test_html_instead_of_json[captive@example.com]",
        ["/api/v1/authn answered HTTP 200 with text/html", "instead of JSON", "HTTPS_PROXY"],
    ),
    "a non-JSON answer (a proxy's 502 page)": (
        "users",
        "test_proxy_error_page[gateway@example.com]",
        ["Okta's /token failed with HTTP 502 (text/html", "run again later"],
    ),
    "TLS failure": (
        "TLS",
        "test_tls",
        ["TLS with 127.0.0.1:", "CERTIFICATE_VERIFY_FAILED", "REQUESTS_CA_BUNDLE"],
    ),
    "connection failure": (
        "refused",
        "test_connection_refused",
        [
            "Could not connect to 127.0.0.1:",
            "fix: check --okta-domain / OKTA_ISSUER or OKTA_DOMAIN / okta_domain, the network"
            " and the proxy",
        ],
    ),
    "timeout": (
        "users",
        "test_timeout[slow@example.com]",
        [
            f"No answer from 127.0.0.1:PORT for /api/v1/authn within {TIMEOUT:g} s",
            "fix: check the network, the proxy (HTTPS_PROXY / NO_PROXY) and --okta-domain",
            "raise --okta-timeout / OKTA_TIMEOUT / okta_timeout",
        ],
    ),
}


def _id(test: str, outcomes: dict[str, str]) -> str:
    """The test's id as the run has it: a marker's single values may or may not be in it."""
    return test if test in outcomes else test.split("[")[0]


@dataclass
class Failing:
    runs: dict[str, Inner]
    ids: Inner
    secrets: dict[str, str]
    """Every secret the runs could have seen: value -> kind."""
    users_port: int


def _users_org(okta: OktaEmulator, tap: Tap, password: str) -> None:
    """Users in every state, and the faults that wait for their user's request."""
    org = okta.org
    org.show_lockout_failures = True
    for login in (
        "main",
        "stale",
        "late",
        "tampered",
        "busy",
        "captive",
        "gateway",
        "slow",
    ):
        org.add_user(f"{login}@example.com", password)
    org.add_user("wrong@example.com", random_password())
    org.add_user("locked@example.com", password, status="LOCKED_OUT")
    org.add_user("expired@example.com", password, status="PASSWORD_EXPIRED")
    org.add_user("totp@example.com", password, totp_secret=pyotp.random_base32())
    org.add_user("loner@example.com", password, apps=[])

    def used_up(answer: dict[str, str]) -> None:
        # Its sessionToken was redeemed before ours reached /authorize (e.g. a retrying proxy).
        with org.lock:
            assert org.redeem_session_token(answer["sessionToken"]) is not None

    def expired(code: object) -> None:
        code.expires_at = okta.clock() - 1  # type: ignore[attr-defined]  # held too long

    def tampered(code: object) -> None:
        code.code_challenge = "A" * 43  # type: ignore[attr-defined]  # altered on the way

    tap.after_authn["stale@example.com"] = used_up
    tap.on_code["late@example.com"] = expired
    tap.on_code["tampered@example.com"] = tampered
    tap.on_code["gateway@example.com"] = lambda code: okta.faults.proxy_error("token")
    tap.on_authn["busy@example.com"] = lambda: okta.faults.rate_limited("authn")
    tap.on_authn["captive@example.com"] = lambda: okta.faults.add(
        "authn",
        status=200,
        body="<html><head><title>Guest Wi-Fi</title></head><body>Accept the terms</body></html>",
    )
    tap.on_authn["slow@example.com"] = lambda: okta.faults.add(
        "authn", status=None, delay=3 * TIMEOUT
    )


def _run_failing_suites(root: Path) -> dict[str, Any]:
    """The six failing runs (and the users run's test ids), all at once."""
    users, apps = OktaEmulator(), OktaEmulator()
    tls = OktaEmulator(tls=True)
    taps = [Tap(users), Tap(apps), Tap(tls)]
    # Bound but not listening: connecting is refused, and no other process can take the port.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    with users, apps, tls, closed:
        password, app_password = random_password(), random_password()
        totp_secret = pyotp.random_base32()
        _users_org(users, taps[0], password)
        users_settings = {
            **users.env(),
            "OKTA_USERNAME": "main@example.com",
            "OKTA_PASSWORD": password,
            "OKTA_TOTP_SECRET": totp_secret,
        }

        code_only = apps.org.add_app(
            "0oacodeonly000000001",
            app_type="web",
            redirect_uris=[DEMO.web_redirect_uri],
            grant_types=["authorization_code"],
        )
        apps.org.add_user("main@example.com", app_password)
        apps.org.add_user("locked@example.com", app_password, status="LOCKED_OUT")
        apps.org.add_user("totp@example.com", app_password, totp_secret=pyotp.random_base32())
        wrong_secret = random_password()
        app_settings = {
            "OKTA_DOMAIN": apps.url,
            "OKTA_CLIENT_ID": code_only.client_id,
            "OKTA_CLIENT_SECRET": wrong_secret,
            "OKTA_REDIRECT_URI": DEMO.web_redirect_uri,
            "OKTA_USERNAME": "main@example.com",
            "OKTA_PASSWORD": app_password,
        }
        unknown_settings = {**app_settings, "OKTA_CLIENT_ID": UNKNOWN_CLIENT}
        redirect_settings = {
            **app_settings,
            "OKTA_CLIENT_SECRET": str(code_only.client_secret),
            "OKTA_REDIRECT_URI": UNREGISTERED,
        }
        tls_settings = {
            k: v for k, v in tls.env().items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
        }
        refused_settings = {
            **users.env(),
            "OKTA_DOMAIN": f"http://127.0.0.1:{closed.getsockname()[1]}",
        }

        users_files = {"test_users.py": USERS_SUITE}
        runs = {
            "users": Inner(
                root / "users",
                users_files,
                users_settings,
                args=(*LOUD, f"--okta-timeout={TIMEOUT:g}"),
            ),
            "app": Inner(root / "app", {"test_app.py": APP_SUITE}, app_settings),
            "unknown client": Inner(
                root / "unknown", {"test_unknown.py": UNKNOWN_CLIENT_SUITE}, unknown_settings
            ),
            "redirect": Inner(
                root / "redirect", {"test_redirect.py": REDIRECT_SUITE}, redirect_settings
            ),
            "TLS": Inner(root / "tls", {"test_tls.py": TLS_SUITE}, tls_settings),
            "refused": Inner(
                root / "refused", {"test_refused.py": REFUSED_SUITE}, refused_settings
            ),
        }
        ids = Inner(root / "ids", users_files, users_settings, args=("--collect-only", "-q"))
        run_all([*runs.values(), ids])
        static = {
            password: "password",
            app_password: "password",
            totp_secret: "TOTP secret",
            wrong_secret: "client secret",
            str(code_only.client_secret): "client secret",
            DEMO.web_client_secret: "client secret",
            DEMO.user_password: "password",
        }
        for okta in (users, apps):
            for user in okta.org.users.values():
                static[user.password] = "password"
                if user.totp_secret:
                    static[user.totp_secret] = "TOTP secret"
        for tap in taps:
            static.update(tap.secrets)
        return {
            "runs": {name: run.to_json() for name, run in runs.items()},
            "ids": ids.to_json(),
            "secrets": static,
            "users_port": users.port,
        }


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Failing:
    data = once(tmp_path_factory, "failures", _run_failing_suites)
    return Failing(
        runs={name: Inner.from_json(run) for name, run in data["runs"].items()},
        ids=Inner.from_json(data["ids"]),
        secrets=data["secrets"],
        users_port=data["users_port"],
    )


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_each_failure_errors_with_a_short_message_naming_the_fix(
    failing: Failing, failure: str
) -> None:
    run_name, test, needles = FAILURES[failure]
    run = failing.runs[run_name]
    expected = "failed" if test == "test_factory_bad_credentials" else "error"
    outcomes = run.outcomes()
    test = _id(test, outcomes)
    assert outcomes[test] == expected, run.stdout
    # The test's own report: one line, the cause and where the fix is.
    [line] = message_of(run.stdout, test)
    pointer = f" [pytest-okta-user: the fix is under '{SIGN_IN}' below]"
    assert line.endswith(pointer), line
    cause = line.removesuffix(pointer)
    # The full message, once, in the plugin's summary section: what happened, then the fix.
    text = "\n".join(section_of(run.stdout, SIGN_IN))
    assert run.stdout.count(f"  {cause}\n") == 1, run.stdout
    at = text.index(f"  {cause}\n")
    for needle in needles:
        needle = needle.replace("PORT", str(failing.users_port))
        found = text.find(needle, at)
        assert found >= 0, f"{needle!r} not in (or out of order in):\n{text}"
        at = found
    assert "\n    fix: " in text, text
    # Nothing of the plugin's insides: no traceback, no source line, no file or line of ours.
    insides = re.compile(r"Traceback|pytest_okta_user|\.py:\d|^(>|E )|Error: ", re.M)
    assert not insides.search(text), text
    assert not insides.search(line), line


@pytest.mark.parametrize(
    "run_name", ["users", "app", "unknown client", "redirect", "TLS", "refused"]
)
def test_tests_that_need_no_okta_pass_and_no_okta_test_passes(
    failing: Failing, run_name: str
) -> None:
    run = failing.runs[run_name]
    outcomes = run.outcomes()
    assert outcomes.pop("test_plain") == "passed", run.stdout
    if run_name == "users":
        # A sign-in that works still works among the failing ones.
        assert outcomes.pop("test_signed_in") == "passed", run.stdout
    assert outcomes, run.stdout
    assert set(outcomes.values()) <= {"error", "failed"}, run.stdout
    assert run.ret == 1, run.stdout  # tests failed: no internal or usage error
    # Every failing test of the run is one of the failures above.
    covered = {_id(test, outcomes) for name, test, _ in FAILURES.values() if name == run_name}
    assert set(outcomes) == covered
    assert "Traceback" not in run.stdout
    assert "INTERNALERROR" not in run.stdout + run.outputs["stderr"]


def test_no_secret_in_any_output_of_the_failing_suites(failing: Failing) -> None:
    secrets = failing.secrets
    # The sign-ins got far enough for each kind of secret to cross the wire.
    kinds = set(secrets.values())
    assert kinds >= {
        "password",
        "client secret",
        "TOTP secret",
        "stateToken",
        "sessionToken",
        "authorization code",
        "PKCE code verifier",
        "access token",
        "ID token",
    }, kinds
    outputs = {
        f"{where} of the {name} run": text
        for name, run in failing.runs.items()
        for where, text in run.outputs.items()
    }
    outputs["test ids"] = failing.ids.stdout
    assert len(outputs) == 6 * 4 + 1
    assert find_leaks(secrets, outputs) == []
