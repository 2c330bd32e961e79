"""The plugin's fixtures: thin, they ask the provider and never talk HTTP themselves.

Every token fixture is session-scoped, so a user's own session fixture can depend on them. The
variant a test gets is chosen by ``@pytest.mark.okta(...)``: the plugin parametrizes the hidden
session fixture ``_okta_request`` (indirectly) for marked tests, so pytest keeps one instance of
each fixture per distinct marker request, and tests without a marker share the default one. A
user's session fixture built on them follows along the same way. (pytest groups tests by these
parameters; where it cannot, it tears such a fixture down and builds it again. Tokens do not
care: they come from the provider, which signs in once per variant.)

Failures (missing settings, a refused sign-in) become one short message per test, without a
traceback from the plugin's insides, and the tests that need no Okta fixture run normally.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from . import options
from .errors import OktaUserError
from .marker import OktaRequest, build_variant, factory_request
from .settings import Settings

if TYPE_CHECKING:
    import requests

    from .provider import TokenProvider
    from .tokens import TokenSet, Variant

__all__ = [
    "OktaUser",
    "okta_access_token",
    "okta_auth",
    "okta_clock",
    "okta_emulator",
    "okta_id_token",
    "okta_provider",
    "okta_session",
    "okta_settings",
    "okta_token_factory",
    "okta_tokens",
    "okta_user",
    "okta_variant",
]

#: Where the plugin keeps its run state; set in pytest_configure (see plugin.py).
SETTINGS_KEY = pytest.StashKey["Settings"]()
#: The run's emulator: the OktaEmulator where it runs, plugin.EmulatorInfo on xdist workers.
EMULATOR_KEY = pytest.StashKey["object"]()
PROVIDER_KEY = pytest.StashKey["TokenProvider"]()
#: The run's id: the same in the controller and every xdist worker, another in the next run.
RUN_ID_KEY = pytest.StashKey[str]()
#: Keys of the variants this process handed out tokens for (for the run's summary line).
VARIANTS_KEY = pytest.StashKey[set[str]]()


def _fail(exc: OktaUserError) -> NoReturn:
    """Fail the current test with the error's message only (it names the setting and the fix).

    Call it outside the ``except`` block: raised inside it, pytest would print the chained error
    (with the plugin's frames) above the message. No ``__tracebackhide__`` in these frames:
    ``pytrace=False`` already shows no traceback, and hidden frames add a "traceback hidden" line.
    """
    pytest.fail(f"pytest-okta-user: {exc}", pytrace=False)


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


@dataclass(frozen=True)
class OktaUser:
    """Who signed in: the login, Okta's user id, and the profile Okta returned."""

    login: str | None
    id: str | None
    profile: Mapping[str, Any] = field(default_factory=dict)


class OktaAuth:
    """A ``requests`` auth sending the bearer token; asks the provider before every request, so a
    token about to expire (less than ``min_ttl`` left) is renewed first.

    A 401 whose ``WWW-Authenticate`` says ``invalid_token`` (RFC 6750 section 3.1: the token was
    revoked, or expired early) has the provider drop the cached token and renew it, once for every
    process (:meth:`TokenProvider.renew_rejected`), and the request is sent once more with the new
    token. Only once: a second 401 goes back to the test as it is.
    """

    def __init__(self, provider: TokenProvider, variant: Variant, min_ttl: float | None) -> None:
        self._provider = provider
        self.variant = variant
        self._min_ttl = min_ttl

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        try:
            tokens = self._provider.get(self.variant, min_ttl=self._min_ttl)
        except OktaUserError as exc:
            error = exc
        else:
            return self._authorize(request, tokens)
        # A renewal refused inside a test's request: the same short message as the fixtures give,
        # not a traceback through requests and the plugin's frames.
        _fail(error)

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
        _fail(error)

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


@pytest.fixture(scope="session")
def okta_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved settings (each value with its source; secrets redacted)."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def okta_provider(
    pytestconfig: pytest.Config, okta_settings: Settings, okta_clock: Callable[[], float]
) -> TokenProvider:
    """The run's token provider (memory, then the disk cache, then refresh, then sign-in)."""
    from .provider import build_provider

    provider = build_provider(
        okta_settings, clock=okta_clock, run_id=pytestconfig.stash.get(RUN_ID_KEY, "")
    )
    pytestconfig.stash[PROVIDER_KEY] = provider
    return provider


def _get(
    config: pytest.Config, provider: TokenProvider, variant: Variant, ttl: float | None
) -> TokenSet:
    config.stash.setdefault(VARIANTS_KEY, set()).add(variant.key)
    return provider.get(variant, min_ttl=ttl)


@pytest.fixture(scope="session")
def _okta_request(request: pytest.FixtureRequest) -> OktaRequest:
    """What the test's okta marker asks for (the plugin's parametrization); none: the defaults."""
    param = getattr(request, "param", None)
    return param if isinstance(param, OktaRequest) else OktaRequest()


@pytest.fixture(scope="session")
def okta_variant(okta_settings: Settings, _okta_request: OktaRequest) -> Variant:
    """The variant (issuer, client, user, flow, scopes) the Okta fixtures use for this test."""
    try:
        return build_variant(okta_settings, _okta_request)
    except OktaUserError as exc:
        error = exc
    _fail(error)


@pytest.fixture(scope="session")
def okta_tokens(
    pytestconfig: pytest.Config,
    okta_provider: TokenProvider,
    okta_variant: Variant,
    _okta_request: OktaRequest,
) -> TokenSet:
    """The token set of this test's variant: tokens, expiry, scopes and decoded claims."""
    try:
        return _handed_out(_get(pytestconfig, okta_provider, okta_variant, _okta_request.min_ttl))
    except OktaUserError as exc:
        error = exc
    _fail(error)


@pytest.fixture(scope="session")
def okta_access_token(okta_tokens: TokenSet, okta_variant: Variant) -> str:
    """The access token string (a ``str`` whose repr is redacted, so a failing test's output
    and ``--showlocals`` show a fingerprint, not the token)."""
    if not okta_tokens.access_token:
        _fail(OktaUserError(f"no access token from the {okta_variant.describe()}"))
    return _secret(okta_tokens.access_token)


@pytest.fixture(scope="session")
def okta_id_token(okta_tokens: TokenSet, okta_variant: Variant) -> str:
    """The ID token string (ask for the ``openid`` scope)."""
    if not okta_tokens.id_token:
        _fail(
            OktaUserError(
                f"no ID token from the {okta_variant.describe()}", "include 'openid' in the scopes"
            )
        )
    return _secret(okta_tokens.id_token)


@pytest.fixture(scope="session")
def okta_user(okta_tokens: TokenSet) -> OktaUser:
    """Who signed in: login, Okta user id and profile."""
    user = dict(okta_tokens.user)
    profile = dict(user.get("profile") or {})
    claims = okta_tokens.id_claims or okta_tokens.access_claims
    login = profile.get("login") or claims.get("preferred_username") or claims.get("sub")
    user_id = (
        user.get("id") or okta_tokens.access_claims.get("uid") or okta_tokens.id_claims.get("sub")
    )
    return OktaUser(login=login, id=user_id, profile=profile)


@pytest.fixture(scope="session")
def okta_token_factory(
    pytestconfig: pytest.Config,
    okta_provider: TokenProvider,
    okta_settings: Settings,
    _okta_request: OktaRequest,
) -> Callable[..., TokenSet]:
    """``factory(user=..., flow=..., scopes=..., auth_server=..., min_ttl=...) -> TokenSet``; the
    arguments take the okta marker's values (one each), the rest come from the test's marker or
    the settings."""

    def factory(**kwargs: Any) -> TokenSet:
        try:
            merged = factory_request(_okta_request, kwargs)
            variant = build_variant(okta_settings, merged)
            return _handed_out(_get(pytestconfig, okta_provider, variant, merged.min_ttl))
        except OktaUserError as exc:
            error = exc
        _fail(error)

    return factory


@pytest.fixture(scope="session")
def okta_auth(
    okta_provider: TokenProvider,
    okta_variant: Variant,
    _okta_request: OktaRequest,
    okta_tokens: TokenSet,
) -> OktaAuth:
    """A ``requests`` auth (``requests.auth.AuthBase``) sending this test's bearer token,
    renewing it before it expires (checked before every request), and renewing it and sending the
    request once more when the resource answers 401 ``invalid_token`` (a revoked token)."""
    # okta_tokens signs in first, so a refused sign-in errors the test here with its message
    # rather than from inside the test's first request.
    return _auth_class()(okta_provider, okta_variant, _okta_request.min_ttl)


@pytest.fixture(scope="session")
def okta_session(okta_auth: OktaAuth) -> Iterator[requests.Session]:
    """A ``requests.Session`` whose requests carry this test's bearer token (``okta_auth``)."""
    import requests

    with requests.Session() as session:
        session.auth = okta_auth
        yield session


@pytest.fixture(scope="session")
def okta_emulator(pytestconfig: pytest.Config) -> object:
    """The run's emulator (``--okta-emulator``): the ``OktaEmulator`` itself in the process that
    started it, a ``plugin.EmulatorInfo`` (url, instance_id, env()) on xdist workers."""
    emulator = pytestconfig.stash.get(EMULATOR_KEY, None)
    if emulator is None:
        emulator_flag = options.EMULATOR
        pytest.skip(
            f"needs the emulator: run with {emulator_flag.flag} (or {emulator_flag.env[0]}=1)"
        )
    return emulator
