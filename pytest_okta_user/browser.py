"""A user's Okta session in the shapes browsers take: Playwright cookies and storage state, Selenium
cookies, and the ``okta-token-storage`` entry an Okta SPA reads from ``localStorage``.

The session is Okta's browser session cookie (``sid``) that the user's one sign-in of the run
started (``sessions.py``): a browser given it goes through ``/authorize`` without the sign-in page,
as after a sign-in by hand (https://developer.okta.com/docs/guides/session-cookie/main/). An Okta
SPA built on ``@okta/okta-auth-js`` does not look at that cookie before it starts a sign-in: it
reads its tokens from ``localStorage``, so a storage state for such an app also carries them, in
the format the SDK writes them (:func:`okta_token_storage`).

Everything here is as sensitive as the session and the tokens: the dicts' reprs hide the values,
and a file is written 0600 in a 0700 folder (:func:`write_storage_state`). No pytest and no HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .sessions import OktaSession, SessionCookie
    from .tokens import TokenSet

__all__ = [
    "TOKEN_STORAGE_KEY",
    "BrowserSession",
    "StorageState",
    "okta_token_storage",
    "origin_of",
    "playwright_cookies",
    "selenium_cookies",
    "storage_state",
    "write_storage_state",
]

#: The ``localStorage`` key of okta-auth-js's token manager (``TOKEN_STORAGE_NAME`` in
#: okta/okta-auth-js ``lib/constants.ts``; ``storageKey`` of ``lib/oidc/TokenManager.ts``).
TOKEN_STORAGE_KEY = "okta-token-storage"

#: The values SameSite takes in Playwright's cookies (and in WebDriver's), spelled as they take it.
_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


class _Sealed(dict[str, Any]):
    """A cookie or storage dict as a browser library takes it: a plain ``dict`` (JSON, Playwright
    and Selenium accept it as is) whose repr shows no value, so a failing test does not print the
    session or the tokens."""

    def __repr__(self) -> str:
        name = self.get("name")
        shown = f"name={name!r}, " if isinstance(name, str) else ""
        return f"<{type(self).__name__} {shown}keys={sorted(self)!r}>"


class _Cookie(_Sealed):
    pass


class StorageState(_Sealed):
    """A Playwright storage state (``{"cookies": [...], "origins": [...]}``): what
    ``browser.new_context(storage_state=...)`` takes as a dict, or, written by
    :func:`write_storage_state`, as a file."""

    def __repr__(self) -> str:
        cookies = [c.get("name") for c in self.get("cookies", ())]
        origins = [o.get("origin") for o in self.get("origins", ())]
        return f"StorageState(cookies={cookies!r}, origins={origins!r})"


def _same_site(cookie: SessionCookie) -> str:
    """Playwright's and WebDriver's spelling of the cookie's SameSite.

    Unset, a browser treats the cookie as ``Lax`` (Chromium since version 80, and the HTTP
    State Management draft, RFC 6265bis section 5.4.7), and Playwright reads such a cookie back
    as ``Lax``. ``None`` without ``Secure`` is a cookie Chromium refuses to store: held as
    ``Lax`` instead, which still goes with every top-level navigation to Okta (``/authorize``).
    """
    spelled = _SAME_SITE.get((cookie.same_site or "").strip().lower(), "Lax")
    if spelled == "None" and not cookie.secure:
        return "Lax"
    return spelled


def playwright_cookies(session: OktaSession) -> list[dict[str, Any]]:
    """The session's cookies as Playwright's ``context.add_cookies`` and storage state take them:
    ``name``, ``value``, ``domain``, ``path``, ``expires`` (epoch seconds; ``-1`` for a session
    cookie), ``httpOnly``, ``secure``, ``sameSite`` (``"Lax"``, ``"Strict"`` or ``"None"``).

    ``domain`` is the host the cookie came from, without a leading dot: a host-only cookie, as
    Okta sets ``sid`` (Playwright's docs: a leading dot makes it apply to subdomains too).
    """
    return [
        _Cookie(
            name=c.name,
            value=c.value,
            domain=c.domain,
            path=c.path or "/",
            expires=-1 if c.expires is None else float(c.expires),
            httpOnly=c.http_only,
            secure=c.secure,
            sameSite=_same_site(c),
        )
        for c in session.cookies
    ]


def selenium_cookies(session: OktaSession) -> list[dict[str, Any]]:
    """The session's cookies as Selenium's ``driver.add_cookie`` takes them (the WebDriver
    "Add Cookie" command, https://www.w3.org/TR/webdriver2/#add-cookie): ``name``, ``value``,
    ``path``, ``secure``, ``httpOnly``, ``sameSite``, and ``expiry`` (whole epoch seconds) unless
    the cookie ends with the browser session.

    No ``domain``: WebDriver then sets a host-only cookie for the page the browser is on, as Okta
    sets ``sid`` (a given domain makes a cookie for every subdomain too). WebDriver adds cookies
    only for the page's own site ("invalid cookie domain" otherwise), so open a page of the org
    first::

        driver.get(okta_browser_session.org_url + "/robots.txt")
        for cookie in okta_browser_session.selenium_cookies():
            driver.add_cookie(cookie)
    """
    cookies: list[dict[str, Any]] = []
    for c in session.cookies:
        cookie = _Cookie(
            name=c.name,
            value=c.value,
            path=c.path or "/",
            secure=c.secure,
            httpOnly=c.http_only,
            sameSite=_same_site(c),
        )
        if c.expires is not None:
            cookie["expiry"] = int(c.expires)
        cookies.append(cookie)
    return cookies


def origin_of(url: str) -> str:
    """The origin of ``url`` as a browser writes it (``new URL(url).origin``): scheme, host and a
    port other than the scheme's default; ``http://localhost:8080/login/callback`` ->
    ``http://localhost:8080``. Raises ValueError for anything but an http(s) URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL, so it names no app origin")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal, bracketed as in a URL
    port = parts.port
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def _oauth_base(issuer: str) -> str:
    """okta-auth-js's base for an issuer's endpoints: the issuer when it names an authorization
    server (``/oauth2/...``), else the org's ``/oauth2`` (``getOAuthBaseUrl`` in
    okta/okta-auth-js ``lib/oidc/util/oauth.ts``)."""
    issuer = issuer.rstrip("/")
    return issuer if issuer.find("/oauth2") > 0 else f"{issuer}/oauth2"


def okta_token_storage(tokens: TokenSet, *, issuer: str, client_id: str) -> dict[str, Any]:
    """The value okta-auth-js keeps in ``localStorage["okta-token-storage"]`` (parsed JSON) for
    ``tokens``: ``accessToken`` and ``idToken``, each as the SDK's token manager stores it.

    The shape is the one ``handleOAuthResponse`` builds after a sign-in (okta/okta-auth-js
    ``lib/oidc/handleOAuthResponse.ts``; the types in ``lib/oidc/types/Token.ts``), which the
    token manager reads back by its keys (``getTokensSync`` in ``lib/oidc/TokenManager.ts``):

    - ``accessToken``: ``accessToken``, ``claims`` (the SDK adds them with
      ``decodeAccessTokens``; older versions always did), ``expiresAt`` (epoch seconds),
      ``tokenType``, ``scopes``, ``authorizeUrl``, ``userinfoUrl``;
    - ``idToken``: ``idToken``, ``claims``, ``expiresAt`` (the ID token's ``exp``), ``scopes``,
      ``authorizeUrl``, ``issuer``, ``clientId``.

    The refresh token is left out on purpose: an SPA that used it would rotate it, and the token
    cache's copy (which renews the run's tokens) would stop working.
    """
    issuer = issuer.rstrip("/")
    base = _oauth_base(issuer)
    scopes = list(tokens.scopes)
    stored: dict[str, Any] = {}
    if tokens.access_token:
        access: dict[str, Any] = {
            "accessToken": str(tokens.access_token),
            "expiresAt": int(tokens.expires_at),
            "tokenType": tokens.token_type or "Bearer",
            "scopes": scopes,
            "authorizeUrl": f"{base}/v1/authorize",
            "userinfoUrl": f"{base}/v1/userinfo",
        }
        if tokens.access_claims:
            access["claims"] = dict(tokens.access_claims)
        stored["accessToken"] = access
    if tokens.id_token:
        exp = tokens.id_claims.get("exp")
        stored["idToken"] = {
            "idToken": str(tokens.id_token),
            "claims": dict(tokens.id_claims),
            "expiresAt": int(exp) if isinstance(exp, (int, float)) else int(tokens.expires_at),
            "scopes": scopes,
            "authorizeUrl": f"{base}/v1/authorize",
            "issuer": issuer,
            "clientId": client_id,
        }
    return stored


def storage_state(
    session: OktaSession,
    *,
    origin: str | None = None,
    tokens: TokenSet | None = None,
    issuer: str | None = None,
    client_id: str | None = None,
) -> StorageState:
    """A Playwright storage state with the session's cookies, and, given an app's ``origin`` (or
    any URL of it, such as its redirect URI) with ``tokens``, that origin's ``localStorage``
    entry ``okta-token-storage`` (:func:`okta_token_storage`; ``issuer`` and ``client_id`` are
    the ones the app's okta-auth-js is configured with)."""
    origins: list[dict[str, Any]] = []
    if tokens is not None or origin is not None:
        if tokens is None or origin is None:
            raise ValueError("okta-token-storage needs both the app's origin and its tokens")
        if not issuer or not client_id:
            raise ValueError("okta-token-storage needs the issuer and client id the app uses")
        value = json.dumps(okta_token_storage(tokens, issuer=issuer, client_id=client_id))
        entry = _Sealed(name=TOKEN_STORAGE_KEY, value=value)
        origins.append(_Sealed(origin=origin_of(origin), localStorage=[entry]))
    return StorageState(cookies=playwright_cookies(session), origins=origins)


def write_storage_state(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write ``state`` as JSON to ``path``: a 0600 file, replaced atomically (a browser starting
    meanwhile reads the old file or the new one, never half of one). Missing folders are made
    0700; an existing one is used as it is (it may be the user's own)."""
    target = Path(path)
    folder = target.parent
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    # Each one 0700: mkdir(parents=True) would make the parents with the umask's mode.
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".storage-", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file 0600 already; said again for a umask-proof reading.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(state, file)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


@dataclass(frozen=True, repr=False)
class BrowserSession:
    """The user's Okta session for a browser (what the ``okta_browser_session`` fixture gives):
    its cookies, and the shapes Playwright and Selenium take them in."""

    session: OktaSession

    @property
    def login(self) -> str:
        return self.session.user.login

    @property
    def org_url(self) -> str:
        """The Okta org the cookies belong to (``https://dev-123.okta.com``)."""
        return self.session.user.org_url

    @property
    def cookies(self) -> tuple[SessionCookie, ...]:
        """The cookies (name, value, domain, path, expires, secure, http_only, same_site)."""
        return self.session.cookies

    @property
    def started_at(self) -> float:
        """When the sign-in that started the session ran (epoch seconds)."""
        return self.session.started_at

    def cookie_header(self) -> dict[str, str]:
        """name -> value, as ``requests`` takes ``cookies=``."""
        return self.session.cookie_header()

    def playwright_cookies(self) -> list[dict[str, Any]]:
        """For ``context.add_cookies(...)``: see :func:`playwright_cookies`."""
        return playwright_cookies(self.session)

    def selenium_cookies(self) -> list[dict[str, Any]]:
        """For ``driver.add_cookie(...)``, on a page of the org: see :func:`selenium_cookies`."""
        return selenium_cookies(self.session)

    def storage_state(
        self,
        *,
        origin: str | None = None,
        tokens: TokenSet | None = None,
        issuer: str | None = None,
        client_id: str | None = None,
    ) -> StorageState:
        """For ``browser.new_context(storage_state=...)``: see :func:`storage_state`."""
        return storage_state(
            self.session, origin=origin, tokens=tokens, issuer=issuer, client_id=client_id
        )

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self.session.cookies)
        return f"BrowserSession({self.session.user.describe()}, cookies=[{names}])"
