"""OktaClient: the HTTP calls of a headless sign-in, over one ``requests.Session``.

One method per Okta request (``authn``, ``verify_factor``, ``authorize``, ``token``, ``keys``,
``discovery``), each given the URL it calls; the transport under them retries, waits for rate
limits (429) and reads /authorize's answers (redirect, fragment, form_post page). What an error
answer or a failed connection means for the user is ``diagnosis``'s to say.

Retries are limited to requests that are safe to send twice: a sessionToken, an authorization code
or a refresh token, once it may have reached Okta, is never sent again blindly. Secrets travel in
objects whose repr is redacted, and the only log lines are method, path and status.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3.exceptions as u3

from . import __version__, diagnosis, diagnosis_transport, options
from .errors import OktaUserError
from .jwks_fetch import max_age
from .masking import register_basic
from .redact import (
    Concealed,
    RedactedStr,
    RedactedUrl,
    Sealed,
    SecretDict,
    install_log_redaction,
)
from .sessions import SessionCookie

log = logging.getLogger("pytest_okta_user")

USER_AGENT = f"pytest-okta-user/{__version__} python-requests/{requests.__version__}"
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
#: The media type of Okta's IDX API (okta-auth-js ``lib/idx/introspect.ts``, facts sheet 8.2).
IDX_MEDIA_TYPE = "application/ion+json; okta-version=1.0.0"

# Keys that mark an /authorize answer (redirect or form_post) as meant for the client.
_AUTHORIZE_KEYS = frozenset(
    {"code", "state", "error", "error_description", "access_token", "id_token", "token_type"}
)


@dataclass(frozen=True)
class HttpOptions:
    """How the client talks to Okta."""

    timeout: float = options.TIMEOUT.default
    """Seconds for connecting and for each read."""
    retries: int = options.RETRIES.default
    """Extra attempts after a connection error or a 5xx, for requests that are safe to repeat."""
    max_rate_limit_wait: float = options.RATE_LIMIT_WAIT.default
    """Longest total wait for rate-limit windows to reset (429) before giving up, over all the
    requests of one client (one exchange or refresh)."""
    ca_bundle: str | None = None
    """CA file to trust instead of the default (a TLS-intercepting proxy's, the emulator's)."""
    backoff: float = options.RETRY_BACKOFF
    """First retry delay in seconds; doubled on each further retry."""


@dataclass(frozen=True, repr=False)
class ClientAuth:
    """How the client authenticates at /token.

    ``method``: ``client_secret_basic``, ``client_secret_post`` or ``none`` (public client).
    """

    client_id: str
    client_secret: str | None = None
    method: str = "client_secret_basic"

    def __post_init__(self) -> None:
        if self.method not in CLIENT_AUTH_METHODS:
            raise ValueError(f"client auth method must be one of {CLIENT_AUTH_METHODS}")
        if self.method == "none" and self.client_secret:
            raise ValueError("a public client (method 'none') sends no client secret")
        if self.method != "none" and not self.client_secret:
            raise ValueError(
                f"client auth method {self.method!r} needs a client secret (a public client uses"
                " 'none')"
            )
        if self.client_secret is not None:
            object.__setattr__(self, "client_secret", Concealed(self.client_secret))
            # The Basic header requests builds from it lands in urllib3's locals: masked too.
            register_basic(self.client_id, self.client_secret)

    def __repr__(self) -> str:
        secret = "<redacted>" if self.client_secret else None
        return (
            f"ClientAuth(client_id={self.client_id!r}, client_secret={secret},"
            f" method={self.method!r})"
        )


@dataclass(frozen=True, repr=False)
class AuthorizeResult:
    """What /authorize sent back to the redirect URI, and how (query, fragment, form_post)."""

    params: SecretDict
    mode: str
    cookies: tuple[SessionCookie, ...] = ()
    """What Okta set with the answer: the Okta session (``sid``) a sessionToken started."""

    def __repr__(self) -> str:
        return f"AuthorizeResult(mode={self.mode!r}, keys={sorted(self.params)!r})"


install_log_redaction()


# --- HTML: form_post pages, the sign-in page, the error page --------------------------------------


class _PageParser(HTMLParser):
    """Forms with their inputs, the title and the visible text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], list[dict[str, str]]]] = []
        self.text: list[str] = []
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append((values, []))
        elif tag == "input" and self.forms:
            self.forms[-1][1].append(values)
        if tag in {"script", "style", "title"}:
            self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style", "title"}:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            if data.strip():
                self.text.append(data.strip())
        elif self._in[-1] == "title":
            self.title += data.strip()


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def form_post_params(html: str) -> SecretDict | None:
    """The hidden inputs of a ``form_post`` page (Okta's ``appForm`` idiom, or any form carrying
    OAuth response keys), or None when the page holds no such form."""
    page = parse_page(html)
    candidates = sorted(page.forms, key=lambda f: f[0].get("id") != "appForm")
    for attrs, inputs in candidates:
        hidden = SecretDict(
            (i["name"], i.get("value", ""))
            for i in inputs
            if i.get("type", "").lower() == "hidden" and i.get("name")
        )
        if hidden and (attrs.get("id") == "appForm" or _AUTHORIZE_KEYS & hidden.keys()):
            return hidden
    return None


def _location_params(location: str) -> tuple[SecretDict, SecretDict]:
    """The fragment's and the query's parameters of a redirect (kept out of callers' locals)."""
    parts = urlsplit(location)
    return (
        SecretDict(parse_qsl(parts.fragment, keep_blank_values=True)),
        SecretDict(parse_qsl(parts.query, keep_blank_values=True)),
    )


def _same_target(location: str, redirect_uri: str) -> bool:
    a, b = urlsplit(location), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _on_okta(location: str, org_url: str | None) -> bool:
    """True for a redirect to a page of the org itself (relative, or on its host)."""
    netloc = urlsplit(location).netloc.lower()
    return not netloc or (org_url is not None and netloc == urlsplit(org_url).netloc.lower())


def parse_authorize_response(
    status: int,
    headers: Mapping[str, str],
    text: str,
    *,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    flow: str | None = None,
    user: str | None = None,
    org_url: str | None = None,
) -> AuthorizeResult:
    """What /authorize answered: the redirect's query or fragment, a form_post page, or an error.

    ``org_url``: the scheme and host /authorize was asked at; a redirect there (or a relative one)
    that is not to ``redirect_uri`` is Okta's sign-in page, a redirect to any other host another
    identity provider.
    """
    location = RedactedUrl(headers.get("Location") or headers.get("location") or "")
    if location and 300 <= status < 400:
        if redirect_uri and not _same_target(location, redirect_uri):
            # Not the answer: another IdP's request also carries state, client_id, ...
            if _on_okta(location, org_url):
                raise diagnosis.sign_in_page(status, "redirected to a sign-in page")
            raise diagnosis.idp_redirect(status, urlsplit(location).hostname)
        fragment, query = _location_params(location)
        if _AUTHORIZE_KEYS & fragment.keys():
            return AuthorizeResult(fragment, "fragment")
        if _AUTHORIZE_KEYS & query.keys():
            return AuthorizeResult(query, "query")
        raise diagnosis.altered_answer(
            f"Okta's /authorize redirected (HTTP {status}) to the redirect URI without a code,"
            " tokens or an error.",
            status=status,
        )
    content_type = headers.get("Content-Type") or headers.get("content-type") or ""
    if 300 <= status < 400:
        raise diagnosis.authorize_unexpected(status, None)
    if "json" in content_type:
        body = _json_or_none(text)
        if isinstance(body, Mapping):
            raise diagnosis.error_from_body(
                body,
                status=status,
                endpoint="/authorize",
                client_id=client_id,
                redirect_uri=redirect_uri,
                flow=flow,
                user=user,
            )
    if status == 200:
        params = form_post_params(text)
        if params is not None:
            return AuthorizeResult(params, "form_post")
        raise diagnosis.sign_in_page(status, "answered with its sign-in page")
    if 400 <= status < 500:
        page = parse_page(text)
        return_text = " ".join(page.text) or page.title
        raise diagnosis.authorize_error_page(
            return_text, status=status, client_id=client_id, redirect_uri=redirect_uri
        )
    raise diagnosis.authorize_unexpected(status, content_type)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# --- Transport ------------------------------------------------------------------------------------


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (no connection was made)."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", None)
        return isinstance(reason, (u3.NewConnectionError, u3.NameResolutionError))
    return False


# --- Connections kept between sign-ins -----------------------------------------------------------

_KEPT = threading.local()


class _KeptSession(requests.Session):
    """A session that reads the environment's proxy and CA settings once per sign-in, not once
    per request: requests scans every environment variable for each request (``no_proxy`` and
    ``*_proxy`` lookups), a tenth of a sign-in's client time. Proxies depend on the scheme and
    host only; `fresh_environment` (each new OktaClient) makes a changed environment count."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], Any] = {}

    def fresh_environment(self) -> None:
        self._environment.clear()

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        parts = urlsplit(str(url))
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify,
            cert,
        )
        merged = self._environment.get(key)
        if merged is None:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = merged
        return dict(merged)

    def resolve_redirects(self, resp: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("yield_requests"):
            # Session.send asks for this only to fill ``Response.next`` when redirects are not
            # followed (the client follows none): building that next request scanned the proxy
            # environment again (``rebuild_proxies``), parsed the cookies again and read the
            # netrc: 4% of a sign-in's CPU time. The client never reads ``.next``.
            return iter(())
        return super().resolve_redirects(resp, req, *args, **kwargs)


def _kept_session() -> requests.Session:
    """This thread's session: its open connections serve the next request to the same host, in
    this sign-in and the next ones (a new TCP and TLS handshake per request was most of a sign-in's
    time). Per thread, since a requests.Session is not safe to share between threads; per process
    (a forked child opens its own connections). Cookies never outlive one sign-in (see close)."""
    kept: _KeptSession | None = getattr(_KEPT, "session", None)
    if kept is None or getattr(_KEPT, "pid", None) != os.getpid():
        kept = _KeptSession()
        _KEPT.session, _KEPT.pid = kept, os.getpid()
    kept.fresh_environment()
    return kept


def forget_connections() -> None:
    """Close this thread's kept connections (the next sign-in opens new ones)."""
    kept: requests.Session | None = getattr(_KEPT, "session", None)
    _KEPT.session = None
    if kept is not None:
        kept.close()


# --- The client -----------------------------------------------------------------------------------


class OktaClient:
    """The HTTP side of a headless Okta sign-in.

    ``sleep`` and ``clock`` are injectable so rate-limit waits and retry backoff need no real time
    in tests; ``clock`` must be on the same scale as Okta's ``X-Rate-Limit-Reset`` (epoch seconds).

    Rate limits (429): requests that are safe to repeat wait for the window and go again. Any other
    request carried a one-time or secret credential: it is never sent again, ``RateLimitRestart``
    tells the caller how long to wait (``wait_out``) before starting over with fresh ones. All the
    waits of one client share the ``max_rate_limit_wait`` budget; beyond it, ``RateLimited``.
    """

    def __init__(
        self,
        org_url: str,
        *,
        http: HttpOptions | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.http = http or HttpOptions()
        self._kept = session is None
        self.session = session or _kept_session()
        self._sleep = sleep
        self._clock = clock
        self._rate_limit_hits = 0
        self._rate_limit_waited = 0.0

    def close(self) -> None:
        if self._kept:
            # The connections stay open for the next sign-in; what Okta set for this one does not.
            self.session.cookies.clear()

    def __enter__(self) -> OktaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OktaClient({self.org_url!r})"

    # -- transport --

    def _send(
        self,
        method: str,
        url: str,
        request: Sealed,
        *,
        endpoint: str,
        safe: bool,
        accept: str | None = "application/json",
        content_type: str | None = None,
    ) -> requests.Response:
        """One logical request: retries (only when ``safe`` or nothing was sent) and 429 waits."""
        headers = {"User-Agent": USER_AGENT}
        if accept:
            # Not for /authorize: it is a browser endpoint and answers browsers' Accept.
            headers["Accept"] = accept
        if content_type:
            # IDX's versioned media type; requests' own (json=, data=) otherwise.
            headers["Content-Type"] = content_type
        parts = urlsplit(url)
        host, path = parts.netloc, parts.path
        attempt = 0
        while True:
            failure: OktaUserError | None = None
            sent = True
            retryable = True
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=self.http.timeout,
                    allow_redirects=False,
                    # Per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override
                    # Session.verify, but never an explicit argument.
                    verify=self.http.ca_bundle or self.session.verify,
                    headers=headers,
                    **request,
                )
            except requests.RequestException as exc:
                failure = diagnosis_transport.transport_error(exc, host, path, self.http.timeout)
                sent = not _never_sent(exc)
                retryable = not isinstance(exc, requests.exceptions.SSLError)
            if failure is not None:
                log.debug("%s %s -> %s", method, path, type(failure).__name__)
                if retryable and (safe or not sent) and attempt < self.http.retries:
                    self._sleep(self.http.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise failure
            log.debug("%s %s -> %s", method, path, response.status_code)
            if response.status_code == 429:
                wait, known = self._rate_limit_wait(response, self._rate_limit_hits)
                self._rate_limit_hits += 1
                code = _rate_limit_code(response)
                if (
                    self._rate_limit_waited + wait > self.http.max_rate_limit_wait
                    or self._rate_limit_hits > 20
                ):
                    raise diagnosis_transport.rate_limited(
                        endpoint,
                        code,
                        wait if known else None,
                        budget=self.http.max_rate_limit_wait,
                        waited=self._rate_limit_waited,
                    )
                if not safe:
                    # Whether Okta processed the request before limiting it cannot be told from
                    # here: a sessionToken, code or refresh token that may have been spent is
                    # never resent (a replayed rotated refresh token even revokes its family).
                    raise diagnosis_transport.rate_limit_restart(
                        endpoint, code, wait, reset_known=known
                    )
                self.wait_out(wait)
                continue
            if response.status_code >= 500 and safe and attempt < self.http.retries:
                self._sleep(self.http.backoff * 2**attempt)
                attempt += 1
                continue
            return response

    def wait_out(self, wait: float) -> None:
        """Wait for a rate-limit window (``RateLimitRestart.wait``), counted against the budget."""
        self._sleep(wait)
        self._rate_limit_waited += wait

    def _rate_limit_wait(self, response: requests.Response, limited: int) -> tuple[float, bool]:
        """Seconds to wait, and whether the answer said so (else a doubling back-off, a guess)."""
        # At least a second: Okta's reset is whole seconds and a past reset must not spin. Only
        # finite numbers count: "nan" or "inf" from a proxy fall through to the next source.
        reset = _finite(response.headers.get("X-Rate-Limit-Reset"))
        if reset is not None:
            return max(reset - self._clock(), 1.0), True
        retry_after = _finite(response.headers.get("Retry-After"))
        if retry_after is not None:
            return max(retry_after, 1.0), True
        return float(2**limited), False

    def _json(self, response: requests.Response, endpoint: str) -> SecretDict:
        body = _json_or_none(response.text)
        if not isinstance(body, Mapping):
            raise diagnosis.not_json(
                response.status_code, response.headers.get("Content-Type"), endpoint
            )
        return SecretDict(body)

    # -- /api/v1/authn --

    def authn(self, username: str, password: str) -> SecretDict:
        """``POST /api/v1/authn``: the authn transaction (any status), or an error for 4xx."""
        return self._authn_call(
            f"{self.org_url}/api/v1/authn",
            Sealed(json={"username": username, "password": Concealed(password)}),
            endpoint="/api/v1/authn",
            user=username,
        )

    def verify_factor(self, href_or_id: str, state_token: str, passcode: str) -> SecretDict:
        """``POST`` a passcode to a factor's ``_links.verify.href``.

        A bare factor id means ``/api/v1/authn/factors/{id}/verify``.
        """
        if "/" in href_or_id:
            url = href_or_id
            if urlsplit(url).netloc != urlsplit(self.org_url).netloc:
                # Only the org gets the stateToken and passcode, whatever the answer's links say.
                url = f"{self.org_url}{urlsplit(url).path}"
        else:
            url = f"{self.org_url}/api/v1/authn/factors/{href_or_id}/verify"
        return self._authn_call(
            url,
            Sealed(
                json={"stateToken": RedactedStr(state_token), "passCode": RedactedStr(passcode)}
            ),
            endpoint="factor verify",
        )

    def _authn_call(
        self, url: str, request: Sealed, *, endpoint: str, user: str | None = None
    ) -> SecretDict:
        response = self._send("POST", url, request, endpoint=endpoint, safe=False)
        body = self._json(response, endpoint)
        if response.status_code != 200:
            raise diagnosis.error_from_body(
                body, status=response.status_code, endpoint=endpoint, user=user
            )
        return body

    # -- /authorize --

    def authorize(
        self,
        authorize_url: str,
        params: Mapping[str, str],
        *,
        flow: str | None = None,
        user: str | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> AuthorizeResult:
        """``GET /authorize`` without following redirects; the answer's parameters, any mode.

        ``cookies``: the user's Okta session (``sid``), sent instead of a sessionToken. Errors Okta
        redirects with (``error``, ``error_description``) are returned in the result; the caller
        checks ``state`` first and raises them. Error pages and sign-in pages raise here.
        """
        # A session cookie from an earlier sign-in makes Okta ignore the sessionToken (Classic) and
        # answer for whoever that session belongs to: every authorize starts with the cookies it is
        # given and no others.
        self.session.cookies.clear()
        request = Sealed(params=dict(params))
        if cookies:
            request["cookies"] = dict(cookies)
        response = self._send(
            "GET", authorize_url, request, endpoint="/authorize", safe=False, accept=None
        )
        result = parse_authorize_response(
            response.status_code,
            response.headers,
            response.text,
            client_id=params.get("client_id"),
            redirect_uri=params.get("redirect_uri"),
            flow=flow,
            user=user,
            org_url=f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}",
        )
        return replace(result, cookies=set_cookies(response, authorize_url))

    # -- Okta sessions --

    def session_cookie_redirect(
        self, session_token: str, redirect_url: str
    ) -> tuple[SessionCookie, ...]:
        """``GET /login/sessionCookieRedirect``: the Okta session a sessionToken starts, as the
        cookies a browser would get (https://developer.okta.com/docs/guides/session-cookie/)."""
        self.session.cookies.clear()
        url = f"{self.org_url}/login/sessionCookieRedirect"
        request = Sealed(params={"token": session_token, "redirectUrl": redirect_url})
        response = self._send(
            "GET", url, request, endpoint="/login/sessionCookieRedirect", safe=False, accept=None
        )
        cookies = set_cookies(response, url)
        location = response.headers.get("Location") or ""
        if response.status_code in (301, 302, 303, 307) and location == redirect_url and cookies:
            return cookies
        raise diagnosis.session_cookie_refused(
            response.status_code, location, redirect_url, self.org_url
        )

    def session_alive(self, cookies: Mapping[str, str]) -> bool | None:
        """Whether Okta still knows the session (``GET /api/v1/sessions/me`` with its cookie):
        None when the answer tells neither (an org or proxy that does not serve it)."""
        self.session.cookies.clear()
        url = f"{self.org_url}/api/v1/sessions/me"
        try:
            response = self._send(
                "GET", url, Sealed(cookies=dict(cookies)), endpoint="/api/v1/sessions/me", safe=True
            )
        except OktaUserError:
            return None
        finally:
            self.session.cookies.clear()
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        return None

    # -- /token --

    def token(
        self,
        token_url: str,
        form: Mapping[str, str],
        client_auth: ClientAuth,
        *,
        flow: str | None = None,
        user: str | None = None,
        redirect_uri: str | None = None,
        mfa_required_answers: bool = False,
    ) -> SecretDict:
        """``POST /token`` with the form and client authentication; the token JSON or an error.

        Only client_credentials is retried: a code, refresh token or password is sent once (a 429
        raises ``RateLimitRestart``). ``mfa_required_answers``: Okta's 403 ``mfa_required`` (Direct
        Authentication's first step) is returned as the answer, with its ``mfa_token``.
        """
        grant_type = form.get("grant_type")
        response = self._send(
            "POST",
            token_url,
            _token_request(form, client_auth),
            endpoint="/token",
            safe=grant_type == "client_credentials",
        )
        body = self._json(response, "/token")
        mfa_required = response.status_code == 403 and body.get("error") == "mfa_required"
        if response.status_code != 200 and not (mfa_required_answers and mfa_required):
            raise diagnosis.error_from_body(
                body,
                status=response.status_code,
                endpoint="/token",
                client_id=client_auth.client_id,
                redirect_uri=redirect_uri,
                flow=flow,
                grant_type=grant_type,
                user=user,
            )
        return body

    # -- metadata and keys (safe to retry) --

    def discovery(self, issuer: str) -> SecretDict:
        """``{issuer}/.well-known/openid-configuration``."""
        return self._get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration", "discovery")

    def keys(self, jwks_uri: str) -> SecretDict:
        """The JWKS at ``jwks_uri``."""
        return self.keys_with_lifetime(jwks_uri)[0]

    def keys_with_lifetime(self, jwks_uri: str) -> tuple[SecretDict, float]:
        """The JWKS at ``jwks_uri``, and how many seconds it may be reused: its Cache-Control
        max-age (Okta sends one: https://developer.okta.com/docs/concepts/key-rotation/), 0 when
        the answer says not to keep it or says nothing."""
        response = self._get("GET", jwks_uri, "/keys")
        return self._json_ok(response, "/keys"), max_age(response.headers.get("Cache-Control"))

    def _get_json(self, url: str, endpoint: str) -> SecretDict:
        return self._json_ok(self._get("GET", url, endpoint), endpoint)

    def _get(self, method: str, url: str, endpoint: str) -> requests.Response:
        return self._send(method, url, Sealed(), endpoint=endpoint, safe=True)

    def _json_ok(self, response: requests.Response, endpoint: str) -> SecretDict:
        body = self._json(response, endpoint)
        if response.status_code != 200:
            raise diagnosis.error_from_body(body, status=response.status_code, endpoint=endpoint)
        return body

    # -- Identity Engine: /.well-known/okta-organization, Direct Authentication, IDX (oie.py) --

    def organization(self) -> SecretDict | None:
        """``GET /.well-known/okta-organization``: the org's ``pipeline`` (``v1``: Classic,
        ``idx``: Identity Engine; https://developer.okta.com/docs/guides/oie-upgrade-overview/);
        None when the org (or a proxy) does not serve it."""
        url = f"{self.org_url}/.well-known/okta-organization"
        try:
            response = self._get("GET", url, "/.well-known/okta-organization")
        except OktaUserError:
            return None
        body = _json_or_none(response.text)
        if response.status_code != 200 or not isinstance(body, Mapping):
            return None
        return SecretDict(body)

    def interact(
        self,
        interact_url: str,
        form: Mapping[str, str],
        client_auth: ClientAuth,
        *,
        user: str | None = None,
    ) -> SecretDict:
        """``POST /v1/interact``: ``{"interaction_handle": ...}``, or an error. The client
        authenticates in the body, as Okta's SDKs do (okta-auth-js ``lib/idx/interact.ts``)."""
        data = SecretDict(form)
        data["client_id"] = client_auth.client_id
        if client_auth.client_secret:
            data["client_secret"] = client_auth.client_secret
        response = self._send(
            "POST", interact_url, Sealed(data=data), endpoint="/interact", safe=False
        )
        body = self._json(response, "/interact")
        if response.status_code != 200:
            raise diagnosis.error_from_body(
                body,
                status=response.status_code,
                endpoint="/interact",
                client_id=client_auth.client_id,
                redirect_uri=form.get("redirect_uri"),
                flow="interaction_code",
                grant_type="interaction_code",
                user=user,
            )
        return body

    def idx(
        self, href: str, body: Mapping[str, Any], *, content_type: str, endpoint: str
    ) -> tuple[int, SecretDict, tuple[SessionCookie, ...]]:
        """``POST`` one IDX form (introspect, identify, challenge, answer, skip): the HTTP status,
        the JSON answer, error or not (an IDX error is a state with ``messages``:
        ``diagnosis.idx_error`` reads it), and the cookies it set (the Okta session a finished
        sign-in starts). Only the org gets the state handle and passcodes, whatever the answer's
        ``href`` says."""
        url = href
        if urlsplit(url).netloc != urlsplit(self.org_url).netloc:
            url = f"{self.org_url}{urlsplit(url).path}"
        response = self._send(
            "POST",
            url,
            Sealed(json=body),
            endpoint=endpoint,
            safe=False,
            accept=IDX_MEDIA_TYPE,
            content_type=content_type,
        )
        answer = self._json(response, endpoint)
        return response.status_code, answer, set_cookies(response, url)


def set_cookies(response: requests.Response, url: str) -> tuple[SessionCookie, ...]:
    """The cookies a response set, with the attributes a browser keeps (read from the raw
    ``Set-Cookie`` headers: requests folds several into one line, and its jar renames
    dot-less hosts such as ``localhost``)."""
    raw: Any = getattr(response.raw, "headers", None)
    lines: list[str] = list(raw.getlist("Set-Cookie")) if hasattr(raw, "getlist") else []
    host = urlsplit(url).hostname or ""
    found: list[SessionCookie] = []
    for line in lines:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(line)
        except CookieError:
            continue
        for name, morsel in jar.items():
            if not morsel.value or morsel["max-age"] in ("0", "-1"):
                continue  # a deletion
            found.append(
                SessionCookie(
                    name=name,
                    value=morsel.value,
                    domain=(morsel["domain"] or host).lstrip("."),
                    path=morsel["path"] or "/",
                    expires=_cookie_expiry(morsel["expires"], morsel["max-age"]),
                    secure=bool(morsel["secure"]),
                    http_only=bool(morsel["httponly"]),
                    same_site=morsel["samesite"] or None,
                )
            )
    return tuple(found)


def _cookie_expiry(expires: str, max_age: str) -> float | None:
    if max_age.strip().isdigit():
        return time.time() + int(max_age)
    if expires:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError):
            return None
    return None


def _finite(value: str | None) -> float | None:
    """A header's value as a finite number, else None."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _rate_limit_code(response: requests.Response) -> str:
    body = _json_or_none(response.text)
    if isinstance(body, Mapping):
        return str(body.get("errorCode") or body.get("error") or "")
    return ""


def _token_request(form: Mapping[str, str], client_auth: ClientAuth) -> Sealed:
    # A SecretDict: its repr shows keys only, and it registers the secret values (code, verifier,
    # refresh token, password) for masking without registering grant_type, scope or client_id.
    data = SecretDict(form)
    if client_auth.method == "client_secret_basic":
        return Sealed(data=data, auth=(client_auth.client_id, client_auth.client_secret))
    data["client_id"] = client_auth.client_id
    if client_auth.method == "client_secret_post" and client_auth.client_secret:
        data["client_secret"] = client_auth.client_secret
    return Sealed(data=data)
