"""Nothing leaked: suites run as users run them, with every switch that shows more, searched for
every secret value the inner run could have seen.

The secrets come from the wire, not from guesses: :class:`Tap` wraps the emulator's WSGI app and
keeps every value of a secret-bearing field that crossed it (passwords, client secrets, stateTokens,
sessionTokens, codes, PKCE verifiers, access, ID and refresh tokens), in requests and in answers
(JSON, redirects, form_post pages, Basic and Bearer headers). :func:`find_leaks` then looks for
each of them in stdout, stderr, the JUnit XML, the log file and the test ids: whole, escaped as
XML/JSON/URL text, across line breaks, and as any 12-character piece of a long one.

The failing suites (every failure the plugin explains) are searched in ``test_failures.py``, which
imports this machinery. Here: a suite of passing tests and tests that fail holding the tokens (and
inside the plugin's own frames), its test ids, the plugin's own emulator under two xdist workers,
and a control run whose deliberate leaks must be found. The runs start together and, under xdist,
run once per outer run (:func:`once`).

Six-digit TOTP codes are not searched (they would match any number in the output, and expire in
30 s); TOTP secrets are.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

import pyotp
import pytest
from filelock import FileLock

from pytest_okta_user.emulator import DEMO, OktaEmulator

#: Every switch that makes pytest show more: the leak search runs over what they print.
LOUD = (
    "-vv",
    "-rA",
    "--showlocals",
    "--tb=long",
    "--log-level=DEBUG",
    "--junitxml=junit.xml",
    "-o",
    "junit_logging=all",
    "--log-file=inner.log",
    "--log-file-level=DEBUG",
)

#: Fields whose values are secrets, wherever they travel (query, form, JSON, HTML inputs).
SECRET_FIELDS = {
    "password": "password",
    "passCode": "TOTP code",
    "stateToken": "stateToken",
    "sessionToken": "sessionToken",
    "code": "authorization code",
    "code_verifier": "PKCE code verifier",
    "access_token": "access token",
    "id_token": "ID token",
    "refresh_token": "refresh token",
    "client_secret": "client secret",
    "token": "token",
}
#: Shorter values are not searched: six-digit TOTP codes would match any number in the output
#: (and a code is worthless after its 30 s step).
MIN_SECRET = 8
#: Pieces of this length of a long secret are searched too: a token may be cut or wrapped.
PIECE = 12


# ---- the tap: every secret that crossed the emulator ---------------------------------------------


class Tap:
    """A WSGI wrapper around an emulator's app, installed before the emulator starts.

    Keeps every secret value that went in or out (:attr:`secrets`: value -> kind), and runs
    per-user actions on the emulator when a request of that user arrives (:attr:`on_authn`,
    :attr:`after_authn`, :attr:`on_code`), so that faults reach the test meant for them whatever
    order pytest runs the inner tests in.
    """

    def __init__(self, okta: OktaEmulator) -> None:
        self.okta = okta
        self.app = okta.app
        self.secrets: dict[str, str] = {}
        self.grants: list[str] = []
        self.on_authn: dict[str, Callable[[], None]] = {}
        self.after_authn: dict[str, Callable[[Mapping[str, Any]], None]] = {}
        self.on_code: dict[str, Callable[[Any], None]] = {}
        self._lock = threading.Lock()
        okta.app = self  # type: ignore[assignment]  # make_server() serves okta.app

    def __getattr__(self, name: str) -> Any:
        # okta.count(), okta.requests and the rest read the wrapped app.
        return getattr(self.app, name)

    def add(self, kind: str, value: str | None) -> None:
        if value and len(value) >= MIN_SECRET:
            with self._lock:
                self.secrets.setdefault(value, kind)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = str(environ.get("PATH_INFO", ""))
        sent = list(_request_fields(environ, body))
        for name, value in sent:
            if name in SECRET_FIELDS:
                self.add(SECRET_FIELDS[name], value)
        fields = dict(sent)
        if fields.get("grant_type"):
            with self._lock:
                self.grants.append(fields["grant_type"])
        login = fields.get("username", "") if path.endswith("/api/v1/authn") else ""
        if login in self.on_authn:
            self.on_authn[login]()
        if path.endswith("/v1/token") and fields.get("code"):
            self._code_action(fields["code"])
        headers: list[tuple[str, str]] = []

        def capture(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> Any:
            headers.extend(response_headers)
            return start_response(status, response_headers, *exc)

        answer = b"".join(self.app(environ, capture))
        answered = list(_response_fields(headers, answer))
        for name, value in answered:
            self.add(SECRET_FIELDS[name], value)
        if login in self.after_authn:
            self.after_authn[login](dict(answered))
        return [answer]

    def _code_action(self, code: str) -> None:
        org = self.okta.org
        with org.lock:
            record = org.codes.get(code)
            user = org.user(record.user_id) if record is not None else None
            action = self.on_code.get(user.login) if user is not None else None
            if action is not None:
                action(record)


def _request_fields(environ: Mapping[str, Any], body: bytes) -> Iterator[tuple[str, str]]:
    yield from parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    kind = str(environ.get("CONTENT_TYPE", ""))
    text = body.decode("utf-8", "replace")
    if "json" in kind:
        yield from _json_fields(_json(text))
    elif "form" in kind:
        yield from parse_qsl(text, keep_blank_values=True)
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "basic":
        decoded = base64.b64decode(credentials + "==").decode("utf-8", "replace")
        yield "client_secret", unquote(decoded.partition(":")[2])
    elif scheme.lower() == "bearer":
        yield "access_token", credentials


def _response_fields(headers: Iterable[tuple[str, str]], body: bytes) -> Iterator[tuple[str, str]]:
    for name, value in headers:
        if name.lower() == "location":
            _, _, rest = value.partition("?")
            query, _, fragment = rest.partition("#")
            if "#" in value and "?" not in value.split("#")[0]:
                query, fragment = "", value.partition("#")[2]
            for part in (query, fragment):
                for key, item in parse_qsl(part, keep_blank_values=True):
                    if key in SECRET_FIELDS:
                        yield key, item
    text = body.decode("utf-8", "replace")
    yield from ((k, v) for k, v in _json_fields(_json(text)) if k in SECRET_FIELDS)
    for tag in re.findall(r"<input\b[^>]*>", text):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        if attrs.get("name") in SECRET_FIELDS:
            yield attrs["name"], html.unescape(attrs.get("value", ""))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_fields(data: Any) -> Iterator[tuple[str, str]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(value, str):
                yield str(key), value
            else:
                yield from _json_fields(value)
    elif isinstance(data, list):
        for item in data:
            yield from _json_fields(item)


# ---- the search ----------------------------------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """How a secret can be written out: as is, or escaped as XML, JSON, a repr or a URL."""
    return {
        secret,
        html.escape(secret, quote=True),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }


def find_leaks(secrets: Mapping[str, str], outputs: Mapping[str, str]) -> list[str]:
    """``"<kind> in <output>"`` for each secret found in an output, whole or as a piece.

    ``secrets``: value -> kind. White space is taken out of the outputs first, so a secret wrapped
    over lines is still found whole; secrets of 16 characters or more are also looked for as each
    of their 12-character pieces.
    """
    found: list[str] = []
    for where, text in outputs.items():
        squeezed = re.sub(r"\s+", "", text)
        pieces = {squeezed[i : i + PIECE] for i in range(len(squeezed) - PIECE + 1)}
        for secret, kind in secrets.items():
            forms = _forms(secret)
            if any(form in squeezed for form in forms):
                found.append(f"{kind} in {where}")
            elif len(secret) >= 16 and any(
                cut[i : i + PIECE] in pieces
                for cut in map(_searched_part, forms)
                for i in range(len(cut) - PIECE + 1)
            ):
                found.append(f"{kind} in {where} (a piece)")
    return found


def _searched_part(secret: str) -> str:
    """What pieces are taken from: a JWT's header is left out (it is the same for every token of
    a key: a leaked access token would otherwise count as a leaked ID token too)."""
    header, dot, rest = secret.partition(".")
    return rest if header.startswith("eyJ") and dot and rest.count(".") == 1 else secret


# ---- inner runs, several at once -----------------------------------------------------------------

_DROPPED = {
    "PYTEST_ADDOPTS",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
    "CI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
}


@dataclass
class Inner:
    """One inner pytest run in its own folder: what it was given and, after :func:`run_all`, what
    it printed and wrote (stdout, stderr, the JUnit XML, the log file)."""

    folder: Path
    files: Mapping[str, str] = field(repr=False)
    settings: Mapping[str, str] = field(repr=False)
    args: tuple[str, ...] = LOUD
    ret: int | None = None
    outputs: dict[str, str] = field(default_factory=dict, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def stdout(self) -> str:
        return self.outputs["stdout"]

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "pytest.ini").write_text("[pytest]\n")
        for name, text in self.files.items():
            (self.folder / name).write_text(textwrap.dedent(text).lstrip())
        env = {
            k: v
            for k, v in os.environ.items()
            if k.upper() not in _DROPPED and not k.startswith(("OKTA_", "PYTEST_"))
        }
        env.update(self.settings)
        command = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", *self.args]
        command.append(f"--okta-cache-dir={self.folder / 'cache'}")
        self._proc = subprocess.Popen(
            command,
            cwd=self.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=(self.folder / "stdout.txt").open("wb"),
            stderr=(self.folder / "stderr.txt").open("wb"),
        )

    def finish(self) -> None:
        assert self._proc is not None
        self.ret = self._proc.wait(timeout=180)
        for name, file in (
            ("stdout", "stdout.txt"),
            ("stderr", "stderr.txt"),
            ("JUnit XML", "junit.xml"),
            ("log file", "inner.log"),
        ):
            path = self.folder / file
            if path.exists():
                self.outputs[name] = path.read_text(errors="replace")

    def outcomes(self) -> dict[str, str]:
        """Test id (``name[param]``) -> passed, failed, error or skipped, from the JUnit XML."""
        result: dict[str, str] = {}
        for case in ET.fromstring(self.outputs["JUnit XML"]).iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("error", "failure", "skipped")]
            outcome = {"error": "error", "failure": "failed", "skipped": "skipped"}
            result[case.get("name", "")] = outcome[kinds[0]] if kinds else "passed"
        return result

    def to_json(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "ret": self.ret, "outputs": self.outputs}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inner:
        return cls(Path(data["folder"]), {}, {}, ret=data["ret"], outputs=dict(data["outputs"]))

    def cached_tokens(self) -> list[dict[str, Any]]:
        """The token sets the run's disk cache holds."""
        found = []
        for path in (self.folder / "cache").rglob("*.json"):
            data = json.loads(path.read_text())
            tokens = data.get("tokens", data)
            if isinstance(tokens, Mapping) and tokens.get("access_token"):
                found.append(dict(tokens))
        return found


def run_all(inners: Iterable[Inner]) -> None:
    """Start the runs together (they are independent), then wait for each."""
    started = list(inners)
    for inner in started:
        inner.start()
    for inner in started:
        inner.finish()


def once(
    factory: pytest.TempPathFactory, name: str, compute: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """``compute(folder)`` once per outer run, even when xdist spreads a module's tests over
    workers (they share the parent of their base temp folder); its result must be JSON."""
    base = factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        base = base.parent
    done = base / f"{name}.json"
    with FileLock(str(base / f"{name}.lock"), timeout=600):
        if not done.exists():
            done.write_text(json.dumps(compute(base / name)))
    result: dict[str, Any] = json.loads(done.read_text())
    return result


_HEADER = re.compile(r"^_+ (?:ERROR at setup of )?(\S+) _+$")
_SECTION = re.compile(r"^(_+ .* _+|=+ .* =+|-+ .* -+|- generated xml file: .*)$")


def message_of(output: str, test: str) -> list[str]:
    """The lines pytest printed for ``test``'s error or failure (without its captured output)."""
    lines = output.splitlines()
    for start, line in enumerate(lines):
        match = _HEADER.match(line)
        if match and match.group(1) == test:
            block = []
            for text in lines[start + 1 :]:
                if _SECTION.match(text):
                    break
                block.append(text)
            while block and not block[-1].strip():
                block.pop()
            return block
    raise AssertionError(f"no error or failure of {test} in the output:\n{output}")


def random_password() -> str:
    return "Pw-" + pyotp.random_base32()[:16].lower() + "-9!"


# ---- the check of the checker --------------------------------------------------------------------


def test_the_search_finds_secrets_whole_escaped_wrapped_and_cut() -> None:
    token = "eyJraWQiOiJrMSJ9." + "A1b2C3d4E5f6G7h8I9j0" * 4 + ".sig-Part_xyz0123456789"
    password = "p&ss<w0rd>!'\"x"
    secrets = {token: "access token", password: "password", "Short-Secret": "client secret"}
    wrapped = "\n    ".join(textwrap.wrap(token, 30))
    outputs = {
        "wrapped": f"E   assert {wrapped} == 1",
        "cut": f"... {token[40:60]} ...",
        "xml": f'<failure message="{html.escape(password, quote=True)}"/>',
        "url": f"GET /x?p={quote_plus(password)}",
        "json": json.dumps({"value": password}),
        "clean": "TokenSet(access_token=<1a2b3c4d>) Short-Secre... p&ss",
    }
    assert sorted(find_leaks(secrets, outputs)) == [
        "access token in cut (a piece)",
        "access token in wrapped",
        "password in json",
        "password in url",
        "password in xml",
    ]


def test_the_tap_keeps_secrets_from_bodies_headers_redirects_and_form_posts() -> None:
    basic = base64.b64encode(b"0oaclient:the-client-secret").decode()
    environ = {
        "QUERY_STRING": "client_id=0oa&sessionToken=20111sessiontoken&state=abc",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_AUTHORIZATION": f"Basic {basic}",
    }
    sent = dict(_request_fields(environ, b"grant_type=authorization_code&code_verifier=verifier-1"))
    assert sent["sessionToken"] == "20111sessiontoken"
    assert sent["code_verifier"] == "verifier-1"
    assert sent["client_secret"] == "the-client-secret"
    page = b'<form id="appForm"><input type="hidden" name="code" value="the-c&amp;de"/></form>'
    redirect = [("Location", "http://cb/#access_token=at-123456789&state=s")]
    answered = list(_response_fields(redirect, page))
    assert ("code", "the-c&de") in answered
    assert ("access_token", "at-123456789") in answered


# ---- a passing suite, and a suite that fails on the tokens --------------------------------------

CONFTEST = """
import time

import pytest


class ShiftedClock:
    shift = 0.0

    def __call__(self):
        return time.time() + self.shift


@pytest.fixture(scope="session")
def okta_clock():
    return ShiftedClock()
"""

PASSING_AND_FAILING = """
import dataclasses
import logging

import pytest

log = logging.getLogger("inner.suite")


def test_access_token(okta_access_token):
    assert okta_access_token.count(".") == 2


def test_prints_and_logs_the_token_set(okta_tokens, okta_user):
    print(repr(okta_tokens))
    print(okta_tokens)
    log.debug("tokens %r for %s", okta_tokens, okta_user.login)


def test_session_calls_userinfo(okta_session, okta_variant):
    answer = okta_session.get(okta_variant.issuer + "/v1/userinfo")
    assert answer.status_code == 200
    log.info("userinfo answered %s", answer.status_code)


def test_renewed_with_the_refresh_token(okta_session, okta_variant, okta_tokens, okta_clock):
    # 20 s of life left on the plugin's clock: the next request refreshes first.
    okta_clock.shift = okta_tokens.expires_at - okta_clock() - 20
    try:
        assert okta_session.get(okta_variant.issuer + "/v1/userinfo").status_code == 200
    finally:
        okta_clock.shift = 0.0


@pytest.mark.okta(flow=["code", "pkce", "implicit"], user="plain@example.com")
def test_each_browser_flow(okta_tokens, okta_id_token, okta_user):
    assert okta_user.login


@pytest.mark.okta(flow="password", user="password@example.com", scopes="openid email")
def test_password_flow(okta_access_token, okta_user):
    assert okta_user.login == "password@example.com"


def test_factory(okta_token_factory):
    print(okta_token_factory(user="factory@example.com", scopes="openid email"))


def test_fails_inside_the_provider(okta_provider, okta_variant, okta_clock):
    # Two hours on, new tokens look expired: the error comes up through the plugin's frames
    # (provider, flows, tokens), whose locals --showlocals prints.
    variant = dataclasses.replace(okta_variant, user="provider@example.com", scopes=("openid",))
    okta_clock.shift = 7200
    try:
        okta_provider.get(variant)
    finally:
        okta_clock.shift = 0.0


@pytest.mark.okta(user="renewal@example.com", scopes="openid offline_access")
def test_fails_inside_the_plugin_when_renewal_fails(okta_session, okta_variant, okta_clock):
    # Two hours on, the refreshed and the new tokens look expired.
    okta_clock.shift = 7200
    try:
        okta_session.get(okta_variant.issuer + "/v1/userinfo")
    finally:
        okta_clock.shift = 0.0


def test_fails_on_the_token_set(okta_tokens):
    assert okta_tokens.scopes == ("nothing",)


def test_fails_holding_every_okta_fixture(
    okta_settings, okta_provider, okta_variant, okta_tokens, okta_user, okta_auth, okta_session,
    okta_token_factory,
):
    assert okta_tokens is None
"""

CONTROL = """
import logging
import os
import textwrap


def test_leaks_on_purpose(okta_tokens):
    # str() takes the plain text out of the redacting string, deliberately. Wrapped over lines,
    # logged at DEBUG, cut into the failure message: each must be found.
    print("\\n".join(textwrap.wrap(str(okta_tokens.access_token), 50)))
    logging.getLogger("inner.control").debug("the password is %s", os.environ["OKTA_PASSWORD"])
    raise AssertionError(str(okta_tokens.refresh_token)[3:20])
"""


USER_FRAME = """
import dataclasses


def test_compares_the_token_strings(okta_access_token, okta_id_token):
    assert okta_access_token == okta_id_token


def test_compares_a_token_of_the_set(okta_tokens):
    assert okta_tokens.access_token == "nope"


def test_asks_the_id_token_to_be_none(okta_tokens):
    assert okta_tokens.id_token is None


def test_compares_two_token_sets(okta_tokens):
    assert okta_tokens == dataclasses.replace(okta_tokens, access_token="other")


def test_compares_what_the_factory_gave(okta_token_factory, okta_tokens):
    assert okta_token_factory().refresh_token == okta_tokens.access_token
"""

#: What the user-frame tests must have failed on (a typo in them would make the search vacuous).
USER_FRAME_FAILURES = {
    "test_compares_the_token_strings",
    "test_compares_a_token_of_the_set",
    "test_asks_the_id_token_to_be_none",
    "test_compares_two_token_sets",
    "test_compares_what_the_factory_gave",
}

EMULATED = """
import pytest


def test_access_token(okta_access_token):
    assert okta_access_token


def test_prints_the_token_set_and_the_emulator(okta_tokens, okta_emulator):
    print(repr(okta_tokens), repr(okta_emulator))


@pytest.mark.okta(flow=["code", "pkce", "implicit", "password"])
def test_each_flow(okta_tokens, okta_session, okta_user):
    assert okta_user.login


def test_fails_holding_the_emulator(okta_emulator, okta_settings, okta_tokens, okta_session):
    assert okta_tokens is None
"""


@dataclass
class Runs:
    secrets: dict[str, str]
    """Every secret the runs could have seen: value -> kind."""
    grants: list[str]
    factor_verifies: int
    rate_limited: int
    suite: Inner
    ids: Inner
    control: Inner
    emulated: Inner
    user_frame: Inner


def _run_leak_suites(root: Path) -> dict[str, Any]:
    """The passing/failing suite (loud), its test ids (--collect-only -q) and the control run,
    all at once against one tapped emulator: an MFA user (signed in once), a plain user,
    offline_access, the confidential app."""
    okta = OktaEmulator()
    tap = Tap(okta)
    with okta:
        password, totp = random_password(), pyotp.random_base32()
        okta.org.add_user("mfa@example.com", password, totp_secret=totp)
        # One user per sign-in or two: Okta's (and the emulator's) 4 sign-ins per second and user.
        for name in ("plain", "password", "factory", "provider", "renewal", "control", "frame"):
            okta.org.add_user(f"{name}@example.com", password)
        settings = {
            **okta.env(),
            "OKTA_USERNAME": "mfa@example.com",
            "OKTA_PASSWORD": password,
            "OKTA_TOTP_SECRET": totp,
            "OKTA_SCOPES": "openid profile email offline_access",
        }
        files = {"conftest.py": CONFTEST, "test_suite.py": PASSING_AND_FAILING}
        suite = Inner(root / "suite", files, settings)
        ids = Inner(root / "ids", files, settings, args=("--collect-only", "-q"))
        # The other runs sign in other users: a second sign-in of the MFA user within 30 s would
        # wait for a fresh code.
        control = Inner(
            root / "control",
            {"test_control.py": CONTROL},
            {**settings, "OKTA_USERNAME": "control@example.com"},
        )
        # The plugin's own emulator, two xdist workers: the demo org's secrets travel to them.
        emulated = Inner(
            root / "emulated",
            {"test_emulated.py": EMULATED},
            {"OKTA_SCOPES": "openid profile email offline_access"},
            args=(*LOUD, "--okta-emulator", "-n", "2"),
        )
        user_frame = Inner(
            root / "user frame",
            {"test_user_frame.py": USER_FRAME},
            {**settings, "OKTA_USERNAME": "frame@example.com"},
        )
        run_all([suite, ids, control, emulated, user_frame])
        static = {
            password: "password",
            totp: "TOTP secret",
            DEMO.web_client_secret: "client secret",
            DEMO.user_password: "password",
        }
        return {
            "secrets": {**tap.secrets, **static},
            "grants": tap.grants,
            "factor_verifies": okta.count("factor_verify"),
            "rate_limited": sum(r.status == 429 for r in okta.requests),
            "suite": suite.to_json(),
            "ids": ids.to_json(),
            "control": control.to_json(),
            "emulated": emulated.to_json(),
            "user frame": user_frame.to_json(),
        }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    data = once(tmp_path_factory, "leaks", _run_leak_suites)
    return Runs(
        secrets=data["secrets"],
        grants=data["grants"],
        factor_verifies=data["factor_verifies"],
        rate_limited=data["rate_limited"],
        suite=Inner.from_json(data["suite"]),
        ids=Inner.from_json(data["ids"]),
        control=Inner.from_json(data["control"]),
        emulated=Inner.from_json(data["emulated"]),
        user_frame=Inner.from_json(data["user frame"]),
    )


def test_the_suite_ran_every_flow_mfa_and_a_refresh(runs: Runs) -> None:
    outcomes = runs.suite.outcomes()
    failed = sorted(name for name, outcome in outcomes.items() if outcome != "passed")
    assert failed == [
        "test_fails_holding_every_okta_fixture",
        "test_fails_inside_the_plugin_when_renewal_fails[renewal@example.com-openid+offline_access]",
        "test_fails_inside_the_provider",
        "test_fails_on_the_token_set",
    ], runs.suite.stdout
    assert len(outcomes) == 13
    # Every kind of secret crossed the wire, so the search below had each kind to look for.
    assert set(runs.secrets.values()) >= {
        "password",
        "client secret",
        "stateToken",
        "sessionToken",
        "authorization code",
        "PKCE code verifier",
        "access token",
        "ID token",
        "refresh token",
    }
    assert "refresh_token" in runs.grants
    assert "password" in runs.grants
    assert runs.factor_verifies == 1
    assert runs.rate_limited == 0  # no sign-in waited for Okta's per-user limit
    # What the run kept is what the tap saw: the search looks for the very tokens it held.
    cached = runs.suite.cached_tokens()
    assert cached
    for tokens in cached:
        for name in ("access_token", "id_token", "refresh_token"):
            if tokens.get(name):
                assert tokens[name] in runs.secrets


def test_the_failures_show_fingerprints_not_tokens(runs: Runs) -> None:
    out = runs.suite.stdout
    assert "TokenSet(access_token=<" in out
    # The deliberate failures printed their locals (--showlocals) and the assertion's operands.
    assert "okta_tokens = TokenSet(access_token=<" in out
    assert "okta_settings = Settings(" in out
    # The plugin's own frames, with their locals, holding the credentials and tokens.
    inside = "\n".join(message_of(out, "test_fails_inside_the_provider"))
    for frame in ("pytest_okta_user/provider.py:", "pytest_okta_user/flows.py:"):
        assert frame in inside
    credentials = (
        "credentials = Credentials(password=<set>, client_secret=<set>, totp_secret=<set>)"
    )
    assert credentials in inside
    assert "Captured stdout call" in out  # -rA showed the passing tests' output
    assert "DEBUG" in out  # and their logs


def test_no_secret_in_any_output_of_a_passing_and_failing_suite(runs: Runs) -> None:
    secrets = runs.secrets
    outputs = {
        **runs.suite.outputs,
        "test ids": runs.ids.outputs["stdout"],
        "test ids (stderr)": runs.ids.outputs["stderr"],
    }
    assert set(runs.suite.outputs) == {"stdout", "stderr", "JUnit XML", "log file"}
    assert "test_each_browser_flow[code-plain@example.com]" in outputs["test ids"]
    assert len(secrets) >= 20
    assert find_leaks(secrets, outputs) == []


def test_the_control_run_leaks_and_the_search_finds_it(runs: Runs) -> None:
    assert runs.control.outcomes() == {"test_leaks_on_purpose": "failed"}
    found = set(find_leaks(runs.secrets, runs.control.outputs))
    assert found >= {
        "access token in stdout",
        "access token in JUnit XML",
        "password in stdout",
        "password in log file",
        "password in JUnit XML",
        "refresh token in stdout (a piece)",
    }
    # Found whole: only what the control leaked whole. (A piece of the access token can also be a
    # piece of another token of the same issuer: base64 of the same claims.)
    whole = {f.split(" in ")[0] for f in found if not f.endswith("(a piece)")}
    assert whole == {"access token", "password"}, found


def test_no_secret_in_emulator_mode_under_xdist(runs: Runs) -> None:
    # The emulator runs inside the inner run: its tokens are known from the run's token cache.
    outcomes = runs.emulated.outcomes()
    assert outcomes.pop("test_fails_holding_the_emulator") == "failed", runs.emulated.stdout
    assert set(outcomes.values()) == {"passed"}, runs.emulated.stdout
    assert "okta_emulator = " in runs.emulated.stdout  # --showlocals printed it (on a worker)
    cached = runs.emulated.cached_tokens()
    assert len(cached) == 4, cached  # the default variant and the code, implicit, password flows
    secrets = {
        DEMO.user_password: "password",
        DEMO.web_client_secret: "client secret",
        DEMO.service_client_secret: "client secret",
    }
    for tokens in cached:
        for name in ("access_token", "id_token", "refresh_token"):
            if tokens.get(name):
                secrets[tokens[name]] = name.replace("_", " ")
    assert "refresh token" in secrets.values()
    assert find_leaks(secrets, runs.emulated.outputs) == []


def test_the_test_taking_the_token_strings_failed_as_written(runs: Runs) -> None:
    assert runs.user_frame.outcomes() == dict.fromkeys(USER_FRAME_FAILURES, "failed")
    out = runs.user_frame.stdout
    # Each failed on its assert, explained by fingerprints (the plugin's assertrepr hook).
    assert "<redacted " in out
    assert "TokenSet fields differ: access_token" in out


def test_no_token_string_in_the_output_of_a_failing_test_that_takes_it(runs: Runs) -> None:
    assert find_leaks(runs.secrets, runs.user_frame.outputs) == []


def test_a_renewal_failing_inside_a_request_fails_the_test_with_the_short_message(
    runs: Runs,
) -> None:
    test = (
        "test_fails_inside_the_plugin_when_renewal_fails[renewal@example.com-openid+offline_access]"
    )
    text = "\n".join(message_of(runs.suite.stdout, test))
    assert text.startswith("pytest-okta-user: The ID token"), text
    assert "\n  fix: " in text
    assert "pytest_okta_user/" not in text
