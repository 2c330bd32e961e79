"""The plugin's fixtures: thin, they ask the provider and never talk HTTP themselves.

Every token fixture is session-scoped, so a user's own session fixture can depend on them. The
variant a test gets is chosen by ``@pytest.mark.okta(...)``: for a marked test the plugin
parametrizes (indirectly) those of :data:`REQUEST_FIXTURES` the test uses, directly or through its
own fixtures, so pytest keeps one instance of each per distinct marker request, and tests without
a marker share the default one. A user's session fixture built on them follows along the same
way. (pytest groups tests by these parameters; where it cannot, it tears such a fixture down and
builds it again. Tokens do not care: they come from the provider, which signs in once per
variant.)

The token fixtures take no argument at all: pytest resolves every fixture of a test's chain again
for each test, even one served from its cache (about a fourth of what a test costs pytest), so a
``pytestconfig``, ``request`` or private fixture in between would cost every test. The plugin's
``pytest_fixture_setup`` hook (``plugin._RequestHandOver``, gone from a run without markers once
it has the clock) hands a fixture its marker request as it runs (:func:`set_up_request`: the
param, and the ``okta_clock`` fixture, asked for once), and it finds the run's :class:`RunState`
with ``current_run()``.

Failures (a settings problem, a refused sign-in) error only the tests that need Okta, each with one
short line; the full message is printed once, in the plugin's summary section (``reporting.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from . import options
from .errors import OktaUserError, SettingError
from .marker import OktaRequest, build_variant, factory_request
from .reporting import Failure, OktaFailed, failure_of
from .settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    import requests

    from .browser import BrowserSession
    from .provider import TokenProvider
    from .tokens import TokenSet, Variant

__all__ = [
    "OktaUser",
    "okta_access_token",
    "okta_auth",
    "okta_browser_session",
    "okta_clock",
    "okta_emulator",
    "okta_id_token",
    "okta_provider",
    "okta_session",
    "okta_settings",
    "okta_storage_state",
    "okta_token_factory",
    "okta_tokens",
    "okta_user",
    "okta_variant",
]

#: The runs of this process, innermost last (an in-process pytester run nests one in another).
_RUNS: list[RunState] = []


class RunState:
    """One run's Okta state in this process, set up by ``plugin.pytest_configure``: the settings
    (or the settings problem that errors every Okta test), the emulator, the provider (built at the
    first token asked for) and what the summary reports."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.error: SettingError | None = None
        self.run_id = ""
        self.run_shared = True
        """Whether other processes share ``run_id`` (xdist's workers); False for a lone run."""
        self.emulator: object | None = None
        self.clock: Callable[[], float] = time.time
        self.notify: Callable[[str], None] | None = None
        """Says a line on the terminal (a wait for the next TOTP code)."""
        self.clock_set = False
        """Whether ``clock`` is the ``okta_clock`` fixture's (``_clocked_run``)."""
        self.next_request = OktaRequest()
        """The marker request of the fixture of :data:`REQUEST_FIXTURES` that runs next
        (``set_up_request``)."""
        self.provider: TokenProvider | None = None
        self.variants: set[str] = set()
        """Keys of the variants this process handed out tokens for (the closing line)."""
        self.failures: dict[str, Failure] = {}
        self.fixed: dict[tuple[str, OktaRequest], TokenSet] = {}
        """The token set each fixed-value session fixture (by name) was given, per request."""
        self.fixed_until = math.inf
        """A moment before which every token set in ``fixed`` is still fresh."""
        self._handed: dict[OktaRequest, tuple[TokenSet, TokenSet]] = {}
        self._variants: dict[OktaRequest, Variant] = {}

    def failed(self, error: OktaUserError, subject: str) -> OktaFailed:
        """The test's error for ``error`` (one short line), recorded for the summary."""
        failure = failure_of(error, subject)
        known = self.failures.get(failure.key)
        if known is None:
            self.failures[failure.key] = known = failure
        elif subject not in known.subject.splitlines():
            known.subject += "\n" + subject
        return OktaFailed(known)

    def require(self) -> Settings:
        if self.error is not None:
            raise self.failed(self.error, "every Okta test")
        assert self.settings is not None
        return self.settings

    def get_provider(self) -> TokenProvider:
        if self.provider is None:
            from .provider import build_provider

            self.provider = build_provider(
                self.require(),
                clock=self.clock,
                run_id=self.run_id,
                run_shared=self.run_shared,
                notify=self.notify,
            )
        return self.provider

    def variant(self, request: OktaRequest) -> Variant:
        known = self._variants.get(request)
        if known is not None:
            return known
        settings = self.require()
        try:
            variant = build_variant(settings, request)
        except OktaUserError as exc:
            raise self.failed(exc, _subject(settings, request)) from None
        self._variants[request] = variant
        return variant

    def tokens(self, variant: Variant, min_ttl: float | None) -> TokenSet:
        """The provider's tokens for ``variant``, as handed out (tokens redacted in reprs)."""
        provider = self.get_provider()
        self.variants.add(variant.key)
        try:
            return _handed_out(provider.get(variant, min_ttl=min_ttl))
        except OktaUserError as exc:
            raise self.failed(exc, variant.describe()) from None

    def fixed_tokens(self, request: OktaRequest, fixture: str = "") -> TokenSet:
        """The tokens for ``request`` as ``fixture`` (a session fixture whose value is fixed at
        first use) gets them now: recorded under its name, for the check that such a value has
        not outlived ``min_ttl`` (``plugin.pytest_runtest_setup``). The provider's memory
        answers, so one sign-in serves every fixture; one handed-out copy per token set."""
        variant = self.variant(request)
        provider = self.get_provider()
        self.variants.add(variant.key)
        try:
            tokens = provider.get(variant, min_ttl=request.min_ttl)
        except OktaUserError as exc:
            raise self.failed(exc, variant.describe()) from None
        handed = self._handed.get(request)
        if handed is None or handed[0] is not tokens:
            handed = self._handed[request] = (tokens, _handed_out(tokens))
        if fixture:
            self.fixed[fixture, request] = handed[1]
            self.fixed_until = min(
                provider.fresh_until(fixed, min_ttl=asked.min_ttl)
                for (_name, asked), fixed in self.fixed.items()
            )
        return handed[1]


def _subject(settings: Settings, request: OktaRequest) -> str:
    flow = request.flow or settings[options.FLOW].value
    user = request.user or settings[options.USER].value
    return f"{flow} flow" + (f" for {user}" if user else "")


def current_run() -> RunState:
    """This process's innermost run (the plugin registers it at configure time)."""
    if not _RUNS:
        raise RuntimeError("pytest-okta-user: no run configured (is the plugin disabled?)")
    return _RUNS[-1]


def _secret(token: str) -> str:
    from .redact import RedactedStr

    return RedactedStr(token)


def _handed_out(tokens: TokenSet) -> TokenSet:
    """A copy whose tokens are :class:`RedactedStr`: a failing ``assert`` on one of them (or
    ``--showlocals``) shows a fingerprint. Still ``str``s, equal to the tokens, and JSON-able;
    the provider and the cache keep the plain ones."""
    return dataclasses.replace(
        tokens,
        access_token=None if tokens.access_token is None else _secret(tokens.access_token),
        id_token=None if tokens.id_token is None else _secret(tokens.id_token),
        refresh_token=None if tokens.refresh_token is None else _secret(tokens.refresh_token),
    )


class OktaUser(NamedTuple):
    """Who signed in: the login, Okta's user id, and the profile Okta returned. (A NamedTuple: a
    frozen dataclass compiles its methods at every start-up, for a fixture few runs use.)"""

    login: str | None
    id: str | None
    profile: Mapping[str, Any] = MappingProxyType({})


class OktaAuth:
    """A ``requests`` auth sending the bearer token; asks the provider before every request, so a
    token about to expire (less than ``min_ttl`` left) is renewed first.

    A 401 whose ``WWW-Authenticate`` says ``invalid_token`` (RFC 6750 section 3.1: the token was
    revoked, or expired early) has the provider drop the cached token and renew it, once for every
    process (:meth:`TokenProvider.renew_rejected`), and the request is sent once more with the new
    token. Only once: a second 401 goes back to the test as it is.
    """

    def __init__(
        self,
        provider: TokenProvider,
        variant: Variant,
        min_ttl: float | None,
        run: RunState | None = None,
    ) -> None:
        self._provider = provider
        self.variant = variant
        self._min_ttl = min_ttl
        self._run = run
        """Where a failure is recorded for the summary (the plugin's; none: outside a run)."""

    def _failed(self, error: OktaUserError) -> BaseException:
        if self._run is None:
            return pytest.fail.Exception(f"pytest-okta-user: {error}", pytrace=False)
        return self._run.failed(error, self.variant.describe())

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        try:
            tokens = self._provider.get(self.variant, min_ttl=self._min_ttl)
        except OktaUserError as exc:
            error = exc
        else:
            return self._authorize(request, tokens)
        # A renewal refused inside a test's request: the same short line as the fixtures give,
        # not a traceback through requests and the plugin's frames.
        raise self._failed(error)

    def _authorize(
        self, request: requests.PreparedRequest, tokens: TokenSet
    ) -> requests.PreparedRequest:
        if not tokens.access_token:
            raise OktaUserError(
                f"the {self.variant.flow} flow gave no access token for {self.variant.describe()}",
                "ask for an access token (implicit: the response type must include 'token')",
            )
        request.headers["Authorization"] = _bearer(tokens)
        position = _body_position(request.body)

        def on_response(response: requests.Response, **send: Any) -> requests.Response:
            # ``tokens`` is the TokenSet sent (its repr is fingerprints), never the bare string.
            return self._on_response(response, tokens, position, send)

        request.register_hook("response", on_response)  # type: ignore[no-untyped-call]
        return request

    def _on_response(
        self,
        response: requests.Response,
        sent: TokenSet,
        position: int | None,
        send: dict[str, Any],
    ) -> requests.Response:
        if response.status_code != 401 or not _invalid_token(response):
            return response
        try:
            renewed = self._provider.renew_rejected(self.variant, sent, min_ttl=self._min_ttl)
        except OktaUserError as exc:
            error = exc
        else:
            if renewed is None or not renewed.access_token or not _replayable(response, position):
                return response
            return self._retry(response, renewed, position, send)
        raise self._failed(error)

    def _retry(
        self,
        response: requests.Response,
        renewed: TokenSet,
        position: int | None,
        send: dict[str, Any],
    ) -> requests.Response:
        """The request once more with ``renewed`` (as requests' own digest auth answers a 401:
        a copy of the request sent on the same adapter, so no hook, and so no third try)."""
        from requests.cookies import extract_cookies_to_jar

        first = response.request
        # Read and release the first answer, so the retry can reuse its connection.
        response.content  # noqa: B018
        response.close()
        if position is not None:
            first.body.seek(position)  # type: ignore[union-attr]
        again = first.copy()
        jar = again._cookies  # type: ignore[attr-defined]
        extract_cookies_to_jar(jar, first, response.raw)  # type: ignore[no-untyped-call]
        again.prepare_cookies(jar)
        again.headers["Authorization"] = _bearer(renewed)
        # requests builds a redirect from the first request: it must carry the new token too.
        first.headers["Authorization"] = again.headers["Authorization"]
        answer: requests.Response = response.connection.send(again, **send)
        answer.history.append(response)
        answer.request = again
        if answer.status_code == 401 and _invalid_token(answer):
            self._provider.rejected_after_renewal(renewed)
        return answer

    def __repr__(self) -> str:
        return f"OktaAuth({self.variant.describe()})"


def _bearer(tokens: TokenSet) -> str:
    return f"{tokens.token_type or 'Bearer'} {tokens.access_token}"


#: RFC 6750 section 3: ``WWW-Authenticate: Bearer error="invalid_token", ...`` (quoted or not).
_INVALID_TOKEN = re.compile(r'(?:^|[\s,])error\s*=\s*"?invalid_token"?(?:[\s,]|$)', re.IGNORECASE)


def _invalid_token(response: requests.Response) -> bool:
    challenge = response.headers.get("WWW-Authenticate", "")
    return challenge.lower().lstrip().startswith("bearer") and bool(
        _INVALID_TOKEN.search(challenge)
    )


def _body_position(body: object) -> int | None:
    tell = getattr(body, "tell", None)
    if tell is None:
        return None
    try:
        position = tell()
    except OSError:
        return None
    return position if isinstance(position, int) else None


def _replayable(response: requests.Response, position: int | None) -> bool:
    """Whether the request's body can be sent again: none, bytes or text, or a file it can
    rewind (a generator's is spent)."""
    body = response.request.body
    return body is None or isinstance(body, (bytes, str)) or position is not None


@functools.cache
def _auth_class() -> type[OktaAuth]:
    # Deriving from requests.auth.AuthBase here, on first use, keeps ``import requests`` (a fifth of
    # a second) out of the start-up of every pytest run that never uses Okta.
    import requests.auth

    class BearerAuth(OktaAuth, requests.auth.AuthBase):
        __doc__ = OktaAuth.__doc__

    return BearerAuth


@pytest.fixture(scope="session")
def okta_clock() -> Callable[[], float]:
    """The plugin's notion of now (epoch seconds); override it in a conftest to move time."""
    return time.time


def _clocked_run(request: pytest.FixtureRequest) -> RunState:
    """The run, on the ``okta_clock`` fixture (a conftest may override it), taken once per run.
    Asked for here rather than as a parameter, so it is no link pytest re-resolves per test."""
    run = current_run()
    if not run.clock_set:
        run.clock = request.getfixturevalue("okta_clock")
        run.clock_set = True
    return run


@pytest.fixture(scope="session")
def _okta_run(request: pytest.FixtureRequest) -> RunState:
    """The run's Okta state (for the fixtures off the per-test path; see the module's docstring)."""
    return _clocked_run(request)


#: The fixtures whose value depends on the test's okta marker (``plugin.pytest_generate_tests``
#: parametrizes those a marked test uses). Each reads its request with :func:`_marker_request`.
REQUEST_FIXTURES = frozenset(
    {
        "okta_access_token",
        "okta_auth",
        "okta_browser_session",
        "okta_id_token",
        "okta_storage_state",
        "okta_token_factory",
        "okta_tokens",
        "okta_user",
        "okta_variant",
    }
)


def set_up_request(request: pytest.FixtureRequest) -> None:
    """Before a fixture of :data:`REQUEST_FIXTURES` runs (``plugin.pytest_fixture_setup``: once
    per marker request, not for a test served from its cache): the run's clock, and the marker
    request the fixture reads (its param, from the plugin's parametrization; none: the defaults).
    The fixtures take no ``request`` of their own: pytest makes a fixture definition for
    ``request`` whenever a fixture asks for it, for every test (two ``inspect.signature`` calls
    a test)."""
    run = _clocked_run(request)
    param = getattr(request, "param", None)
    run.next_request = param if isinstance(param, OktaRequest) else OktaRequest()


def _marker_request() -> tuple[RunState, OktaRequest]:
    """The run and the marker request of the fixture running now (:func:`set_up_request`)."""
    run = current_run()
    return run, run.next_request


@pytest.fixture(scope="session")
def okta_settings(_okta_run: RunState) -> Settings:
    """The resolved settings (each value with its source; secrets redacted)."""
    return _okta_run.require()


@pytest.fixture(scope="session")
def okta_provider(_okta_run: RunState) -> TokenProvider:
    """The run's token provider (memory, then the disk cache, then refresh, then sign-in)."""
    return _okta_run.get_provider()


@pytest.fixture(scope="session")
def okta_variant() -> Variant:
    """The variant (issuer, client, user, flow, scopes) the Okta fixtures use for this test."""
    run, request = _marker_request()
    return run.variant(request)


@pytest.fixture(scope="session")
def okta_tokens() -> TokenSet:
    """The token set of this test's variant: tokens, expiry, scopes and decoded claims."""
    run, request = _marker_request()
    return run.fixed_tokens(request, "okta_tokens")


@pytest.fixture(scope="session")
def okta_access_token() -> str:
    """The access token string (a ``str`` whose repr is redacted, so a failing test's output
    and ``--showlocals`` show a fingerprint, not the token)."""
    run, request = _marker_request()
    tokens = run.fixed_tokens(request, "okta_access_token")
    if not tokens.access_token:
        variant = run.variant(request)
        error = OktaUserError(f"no access token from the {variant.describe()}")
        raise run.failed(error, variant.describe())
    return tokens.access_token


@pytest.fixture(scope="session")
def okta_id_token() -> str:
    """The ID token string (ask for the ``openid`` scope)."""
    run, request = _marker_request()
    tokens = run.fixed_tokens(request, "okta_id_token")
    if not tokens.id_token:
        variant = run.variant(request)
        error = OktaUserError(
            f"no ID token from the {variant.describe()}", "include 'openid' in the scopes"
        )
        raise run.failed(error, variant.describe())
    return tokens.id_token


@pytest.fixture(scope="session")
def okta_user() -> OktaUser:
    """Who signed in: login, Okta user id and profile."""
    run, request = _marker_request()
    tokens = run.fixed_tokens(request)
    user = dict(tokens.user)
    profile = dict(user.get("profile") or {})
    claims = tokens.id_claims or tokens.access_claims
    login = profile.get("login") or claims.get("preferred_username") or claims.get("sub")
    user_id = user.get("id") or tokens.access_claims.get("uid") or tokens.id_claims.get("sub")
    return OktaUser(login=login, id=user_id, profile=profile)


@pytest.fixture(scope="session")
def okta_token_factory() -> Callable[..., TokenSet]:
    """``factory(user=..., flow=..., scopes=..., auth_server=..., min_ttl=...) -> TokenSet``; the
    arguments take the okta marker's values (one each), the rest come from the test's marker or
    the settings."""
    run, request = _marker_request()

    def factory(**kwargs: Any) -> TokenSet:
        settings = run.require()
        try:
            merged = factory_request(request, kwargs)
            variant = build_variant(settings, merged)
        except OktaUserError as exc:
            raise run.failed(exc, "the token factory") from None
        return run.tokens(variant, merged.min_ttl)

    return factory


@pytest.fixture(scope="session")
def okta_auth() -> OktaAuth:
    """A ``requests`` auth (``requests.auth.AuthBase``) sending this test's bearer token,
    renewing it before it expires (checked before every request), and renewing it and sending the
    request once more when the resource answers 401 ``invalid_token`` (a revoked token)."""
    run, request = _marker_request()
    # Signs in first, so a refused sign-in errors the test here with its short line rather than
    # from inside the test's first request.
    run.fixed_tokens(request)
    variant = run.variant(request)
    return _auth_class()(run.get_provider(), variant, request.min_ttl, run)


@pytest.fixture(scope="session")
def okta_session(okta_auth: OktaAuth) -> Iterator[requests.Session]:
    """A ``requests.Session`` whose requests carry this test's bearer token (``okta_auth``)."""
    import requests

    with requests.Session() as session:
        session.auth = okta_auth
        yield session


@pytest.fixture(scope="session")
def okta_emulator() -> object:
    """The run's emulator (``--okta-emulator``): the ``OktaEmulator`` itself in the process that
    started it; on an xdist worker an ``emulator_info.EmulatorInfo`` with the same ``url``,
    ``instance_id``, ``env()`` and ``count()`` (the latter, ``clock``, ``org`` and ``faults``
    say they need the emulator's own process: it runs in the controller)."""
    emulator = current_run().emulator
    if emulator is None:
        emulator_flag = options.EMULATOR
        pytest.skip(
            f"needs the emulator: run with {emulator_flag.flag} (or {emulator_flag.env[0]}=1)"
        )
    return emulator


# ---- browsers (issue 13) ------------------------------------------------------------------------


def _browser_session(run: RunState, request: OktaRequest) -> BrowserSession:
    """The Okta session of ``request``'s user, from the provider: the user's one sign-in of the
    run (a token exchange's, or a sessionToken turned into the session cookie), for every
    process through the token cache."""
    from .browser import BrowserSession

    variant = run.variant(request)
    if variant.user is None:
        error = OktaUserError(
            f"the {variant.flow} flow signs no user in, so there is no Okta browser session",
            "use a flow that signs a user in (pkce, code, ...) in this test's okta marker",
        )
        raise run.failed(error, variant.describe())
    provider = run.get_provider()
    try:
        session = provider.okta_session(variant)
    except OktaUserError as exc:
        raise run.failed(exc, variant.describe()) from None
    return BrowserSession(session)


@pytest.fixture(scope="session")
def okta_browser_session() -> BrowserSession:
    """The user's Okta browser session (``@pytest.mark.okta(user=...)`` picks the user): its
    cookies (``.cookies``), as Playwright (``.playwright_cookies()``) and Selenium
    (``.selenium_cookies()``) take them, and as a storage state (``.storage_state(...)``). Made
    once per user per run for every process; cookie values are masked in every report."""
    return _browser_session(*_marker_request())


@pytest.fixture(scope="session")
def okta_storage_state() -> Iterator[Path]:
    """A Playwright storage-state file (``browser.new_context(storage_state=...)``) holding the
    user's Okta session cookies; with ``@pytest.mark.okta(app="NAME")`` also the
    ``localStorage`` entry ``okta-token-storage`` that ``@okta/okta-auth-js`` reads, with that
    app's tokens, for the origin of its redirect URI (``OKTA_NAME_REDIRECT_URI``), so an Okta
    SPA starts signed in. The file is 0600 in a private folder, removed at the end of the run."""
    import shutil
    import tempfile
    from pathlib import Path

    from .browser import origin_of, write_storage_state

    run, request = _marker_request()
    browser = _browser_session(run, request)
    origin = issuer = client_id = None
    tokens = None
    if request.app is not None:
        variant = run.variant(request)
        try:
            origin = origin_of(variant.redirect_uri or "")
        except ValueError:
            error = OktaUserError(
                f"app {request.app!r} has no web redirect URI for the {variant.flow} flow,"
                " so no origin to keep its tokens for in the storage state",
                f"set OKTA_{request.app.upper()}_REDIRECT_URI to the SPA's http(s) callback"
                " and use a browser flow (flow='pkce')",
            )
            raise run.failed(error, variant.describe()) from None
        # Recorded as this fixture's value: a long run outliving the tokens fails at setup.
        tokens = run.fixed_tokens(request, "okta_storage_state")
        issuer, client_id = variant.issuer, variant.client_id
    state = browser.storage_state(origin=origin, tokens=tokens, issuer=issuer, client_id=client_id)
    # mkdtemp: a new folder, 0700, with a random name (no login or token in the path).
    folder = Path(tempfile.mkdtemp(prefix="okta-user-browser-"))
    try:
        yield write_storage_state(folder / "storage-state.json", state)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
