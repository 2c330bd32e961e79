"""One exception family. Every error says what happened, the likely cause, and the fix.

Messages never contain secrets: callers pass descriptions, never token or password values, and
never a URL (a request URL can carry a sessionToken).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# ---- the settings' names: one table that settings.py, the plugin's options and every fix read ----


@dataclass(frozen=True)
class Names:
    """The three names of a setting (any may be absent): used in every message about it."""

    label: str
    option: str | None
    env: tuple[str, ...]
    ini: str | None

    def describe(self) -> str:
        parts = []
        if self.option:
            parts.append(self.option)
        if self.env:
            parts.append(" or ".join(self.env))
        if self.ini:
            parts.append(self.ini)
        return " / ".join(parts)


NAMES: dict[str, Names] = {
    # OKTA_ISSUER is read first: it is the more specific of the two (it also names the auth server).
    "domain": Names(
        "Okta org or issuer", "--okta-domain", ("OKTA_ISSUER", "OKTA_DOMAIN"), "okta_domain"
    ),
    "auth_server": Names(
        "authorization server", "--okta-auth-server", ("OKTA_AUTH_SERVER_ID",), "okta_auth_server"
    ),
    "client_id": Names("client id", "--okta-client-id", ("OKTA_CLIENT_ID",), "okta_client_id"),
    "client_secret": Names("client secret", None, ("OKTA_CLIENT_SECRET",), None),
    "redirect_uri": Names(
        "redirect URI", "--okta-redirect-uri", ("OKTA_REDIRECT_URI",), "okta_redirect_uri"
    ),
    "scopes": Names("scopes", "--okta-scopes", ("OKTA_SCOPES",), "okta_scopes"),
    "flow": Names("flow", "--okta-flow", ("OKTA_FLOW",), "okta_flow"),
    "response_mode": Names(
        "response mode", "--okta-response-mode", ("OKTA_RESPONSE_MODE",), "okta_response_mode"
    ),
    "user": Names("user (login)", "--okta-user", ("OKTA_USERNAME",), "okta_user"),
    "password": Names("password", None, ("OKTA_PASSWORD",), None),
    "totp_secret": Names("TOTP shared secret", None, ("OKTA_TOTP_SECRET",), None),
    "cache_dir": Names(
        "token cache folder", "--okta-cache-dir", ("OKTA_TOKEN_CACHE_DIR",), "okta_cache_dir"
    ),
    "min_ttl": Names("minimum token lifetime", "--okta-min-ttl", ("OKTA_MIN_TTL",), "okta_min_ttl"),
    "emulator": Names("emulator", "--okta-emulator", ("OKTA_EMULATOR",), "okta_emulator"),
    # How the client talks to Okta (client.HttpOptions).
    "timeout": Names("request timeout", "--okta-timeout", ("OKTA_TIMEOUT",), "okta_timeout"),
    "retries": Names("retries", "--okta-retries", ("OKTA_RETRIES",), "okta_retries"),
    "rate_limit_wait": Names(
        "rate-limit wait",
        "--okta-rate-limit-wait",
        ("OKTA_RATE_LIMIT_WAIT",),
        "okta_rate_limit_wait",
    ),
}


# Each setting by all its names (command line / environment / ini), as the fixes spell them.
DOMAIN = NAMES["domain"].describe()
AUTH_SERVER = NAMES["auth_server"].describe()
CLIENT_ID = NAMES["client_id"].describe()
REDIRECT_URI = NAMES["redirect_uri"].describe()
SCOPES = NAMES["scopes"].describe()
FLOW = NAMES["flow"].describe()
USER = NAMES["user"].describe()
CLIENT_SECRET = NAMES["client_secret"].describe()
PASSWORD = NAMES["password"].describe()
TOTP_SECRET = NAMES["totp_secret"].describe()
TIMEOUT = NAMES["timeout"].describe()
RATE_LIMIT_WAIT = NAMES["rate_limit_wait"].describe()

_GRANT_TYPE_UI = "Okta admin: Applications > your app > General > Edit > Grant type"


class OktaUserError(Exception):
    """Base of every error the plugin raises on purpose.

    ``what``: what happened (with Okta's code and description when there is one).
    ``fix``: what to change, naming the Okta admin setting or our setting (by its command-line,
    env and ini names).
    ``code``/``description``/``status``: Okta's error code, description and HTTP status, when
    Okta answered.
    """

    def __init__(
        self,
        what: str,
        fix: str = "",
        *,
        code: str | None = None,
        description: str | None = None,
        status: int | None = None,
    ) -> None:
        self.what = what
        self.fix = fix
        self.code = code
        self.description = description
        self.status = status
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps what/fix/code apart when the error crosses a process boundary (pickle).
        state = {"code": self.code, "description": self.description, "status": self.status}
        return (self.__class__, (self.what, self.fix), state)


class ConfigurationError(OktaUserError):
    """Our settings are missing or contradict each other."""


class AuthenticationError(OktaUserError):
    """The user could not sign in (bad login or password, or an authn state we cannot finish)."""


class LockedOut(AuthenticationError):
    """The user's account (or factor) is locked."""


class PasswordExpired(AuthenticationError):
    """The user must change the password before signing in."""


class MfaRequired(AuthenticationError):
    """The sign-on policy asks for a second factor that we cannot answer."""


class MfaEnrollRequired(MfaRequired):
    """The sign-on policy asks the user to enrol a factor first."""


class InvalidPasscode(AuthenticationError):
    """Okta refused the TOTP code computed from OKTA_TOTP_SECRET."""


class OAuthError(OktaUserError):
    """An OAuth 2.0 error from /authorize or /token; the subclasses say which."""


class RedirectUriNotRegistered(OAuthError):
    """/authorize showed its error page: the redirect URI is not registered with the app."""


class UnknownClient(OAuthError):
    """/authorize showed its error page: no active app has this client id."""


class ResponseTypeNotEnabled(OAuthError):
    """The app does not allow the response type of the flow (e.g. implicit not ticked)."""


class LoginRequired(OAuthError):
    """/authorize would not sign the user in without a prompt."""


class IdpRedirect(LoginRequired):
    """/authorize sent the sign-in to another identity provider (an IdP routing rule)."""


class AccessDenied(OAuthError):
    """The user or the client is not allowed (assignment, access policy, consent)."""


class ConsentRequired(AccessDenied):
    """The app requires user consent, which a headless sign-in cannot give."""


class InvalidGrant(OAuthError):
    """/token refused the grant (code, PKCE verifier, redirect URI, refresh token, password)."""


class InvalidClient(OAuthError):
    """/token refused the client's credentials."""


class UnauthorizedClient(OAuthError):
    """The grant type is not enabled for the app or the authorization server."""


class InvalidScope(OAuthError):
    """A requested scope is unknown, not allowed, or missing (openid)."""


class InvalidRequest(OAuthError):
    """Okta found the request malformed (PKCE, nonce, response mode, ...)."""


class OktaRejected(OktaUserError):
    """Okta answered with an error we have no specific advice for; its code and text are kept."""


class StateMismatch(OktaUserError):
    """The ``state`` returned by /authorize is not the one we sent."""


class TokenVerificationError(OktaUserError):
    """A token failed verification (signature, issuer, audience, expiry, nonce)."""


class RateLimited(OktaUserError):
    """Okta answered 429 and the window resets later than we are willing to wait."""


class RateLimitRestart(RateLimited):
    """Okta answered 429 to a request that carried a one-time or secret credential (sessionToken,
    code, refresh token, password, stateToken with passcode).

    Such a request is never sent again as is: the caller waits ``wait`` seconds (the client has
    checked it fits the rate-limit budget) and starts the sign-in over with fresh credentials.
    Raised to callers that cannot start over (a refresh), it reads as the rate limit it is.
    """

    def __init__(self, what: str, fix: str = "", *, wait: float = 0.0, **kw: Any) -> None:
        super().__init__(what, fix, **kw)
        self.wait = wait

    def __reduce__(self) -> tuple[Any, ...]:
        cls, args, state = super().__reduce__()
        return (cls, args, {**state, "wait": self.wait})


class UnexpectedResponse(OktaUserError):
    """An answer Okta would not give: HTML or garbage from a proxy, a 5xx, a missing field."""


class TransportError(OktaUserError):
    """The request did not get an HTTP answer."""


class TlsError(TransportError):
    """The TLS handshake or certificate check failed."""


class ConnectionFailed(TransportError):
    """No connection (DNS, refused, reset)."""


class RequestTimeout(TransportError):
    """No answer within the timeout."""


# --- Okta's /api/v1 errors (errorCode E0000xxx) ---------------------------------------------------


def api_error(
    body: Mapping[str, Any], *, status: int, endpoint: str, user: str | None = None
) -> OktaUserError:
    """The error for an ``/api/v1/*`` error body (``errorCode``, ``errorSummary``, causes)."""
    code = str(body.get("errorCode") or "")
    summary = str(body.get("errorSummary") or "")
    causes = [
        str(c.get("errorSummary"))
        for c in body.get("errorCauses") or ()
        if isinstance(c, Mapping) and c.get("errorSummary") and c.get("errorSummary") != summary
    ]
    said = f"{code} {summary}".strip() + (f" ({'; '.join(causes)})" if causes else "")
    kw: dict[str, Any] = {"code": code or None, "description": summary or None, "status": status}
    if code in {"E0000004", "E0000207"}:
        return AuthenticationError(
            f"Okta refused the sign-in of {f'user {user}' if user else 'the user'} at {endpoint}:"
            f" {said}.",
            f"check the login in {USER} and the password in {PASSWORD}. If they are right, the"
            " account may be locked (Okta hides lockouts unless the password policy shows them:"
            " Directory > People > the user) or a sign-on policy denies it.",
            **kw,
        )
    if code == "E0000011":
        return AuthenticationError(
            f"Okta no longer knows the sign-in transaction (stateToken) at {endpoint}: {said}.",
            "it expired or was cancelled while answering MFA; run again.",
            **kw,
        )
    if code == "E0000068":
        return InvalidPasscode(
            f"Okta refused the TOTP code: {said}.",
            f"{TOTP_SECRET} must be the shared secret of the user's enrolled TOTP factor (Google"
            " Authenticator or Okta Verify), base32 as shown at enrolment; also check this"
            " machine's clock (codes last 30 s).",
            **kw,
        )
    if code == "E0000082":
        return InvalidPasscode(
            f"Okta refused the TOTP code as already used: {said}.",
            "each TOTP code works once; another sign-in of the same user used it. Run again after"
            " 30 s, or give parallel runs different users.",
            **kw,
        )
    if code == "E0000083":
        return InvalidPasscode(
            f"Okta refused the TOTP code as out of its time window: {said}.",
            "this machine's clock is off; synchronise it (NTP).",
            **kw,
        )
    if code == "E0000069":
        return LockedOut(
            f"The user's factor is locked: {said}.",
            "too many wrong codes; an admin resets the factor (Directory > People > the user >"
            f" Reset Multifactor), then check {TOTP_SECRET}.",
            **kw,
        )
    if code == "E0000064":
        return PasswordExpired(
            f"The user's password has expired: {said}.",
            f"change it (sign in once in a browser, or Directory > People > the user > Reset"
            f" password) and update {PASSWORD}.",
            **kw,
        )
    if code == "E0000047" or status == 429:
        return RateLimited(
            f"Okta's rate limit at {endpoint}: {said}.",
            "fewer sign-ins per minute: keep the token cache on so runs and workers share tokens.",
            **kw,
        )
    if code == "E0000007":
        return ConfigurationError(
            f"Okta found no such resource at {endpoint}: {said}.",
            f"check {DOMAIN} and {AUTH_SERVER} (an authorization server id as listed under"
            " Security > API > Authorization Servers, 'default', or 'org').",
            **kw,
        )
    if status >= 500:
        return UnexpectedResponse(
            f"Okta's {endpoint} failed with HTTP {status}: {said or 'no error code'}.",
            "Okta had a problem; run again later (status.okta.com).",
            **kw,
        )
    return OktaRejected(
        f"Okta refused the request at {endpoint} (HTTP {status}): {said or 'no error code'}.",
        "see Okta's error code reference for this code; the System Log (Reports > System Log)"
        " shows the reason.",
        **kw,
    )


# --- OAuth 2.0 errors (/authorize redirects, /token JSON) ---------------------------------------


def _grant_fix(grant_type: str | None, flow: str | None) -> str:
    if grant_type == "password":
        return (
            f"enable the password grant, hidden in the admin UI: {_GRANT_TYPE_UI} > Advanced >"
            " tick 'Resource Owner Password'; also allow it in the authorization server's access"
            f" policy rule. Or use another {FLOW}."
        )
    if grant_type == "client_credentials":
        return (
            f"{_GRANT_TYPE_UI}: tick 'Client Credentials' (API Services or Web app), and use a"
            f" custom authorization server ({AUTH_SERVER}) whose access policy rule allows it."
        )
    if grant_type == "refresh_token":
        return (
            f"{_GRANT_TYPE_UI}: tick 'Refresh Token' (and allow it in the access policy rule), or"
            f" drop offline_access from {SCOPES}."
        )
    if grant_type == "authorization_code" or flow in {"code", "pkce"}:
        return f"{_GRANT_TYPE_UI}: tick 'Authorization Code'."
    if flow == "implicit":
        return f"{_GRANT_TYPE_UI}: tick 'Implicit (hybrid)'."
    return f"{_GRANT_TYPE_UI}: tick the grant type of {FLOW}."


def oauth_error(
    error: str,
    description: str,
    *,
    status: int | None,
    endpoint: str,
    flow: str | None = None,
    grant_type: str | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    user: str | None = None,
) -> OktaUserError:
    """The error for an OAuth ``error``/``error_description`` pair, with the fix that matches it."""
    said = f"{error}: {description}" if description else error
    where = f"Okta's {endpoint} answered {said}"
    kw: dict[str, Any] = {"code": error, "description": description or None, "status": status}
    d = description.lower()
    client = f"client {client_id}" if client_id else "the client"
    who = f"user {user}" if user else "the user"

    if error == "invalid_client":
        if "no client credentials" in d:
            fix = (
                f"this app is confidential (a Web app): set {CLIENT_SECRET}, or use a public app"
                f" (SPA or Native) with the pkce flow ({FLOW})."
            )
        elif "org authorization server" in d or "'service'" in d:
            fix = (
                f"client_credentials needs a custom authorization server: set {AUTH_SERVER}"
                " to 'default' or your server's id."
            )
        elif "client_id" in d:
            return UnknownClient(
                where,
                f"check {CLIENT_ID} against Applications > your app > General > Client ID, in the"
                f" org of {DOMAIN}.",
                **kw,
            )
        else:
            fix = (
                f"check {CLIENT_ID} and {CLIENT_SECRET} (Applications > your app > General > Client"
                f" Credentials). A Web app needs its secret; SPA/Native apps have none: unset"
                f" {CLIENT_SECRET} and use the pkce flow."
            )
        return InvalidClient(where, fix, **kw)

    if error == "unsupported_response_type":
        if flow == "implicit":
            fix = (
                f"{_GRANT_TYPE_UI}: tick 'Implicit (hybrid)' with 'Allow ID Token' and 'Allow"
                f" Access Token', or choose another {FLOW}."
            )
        else:
            fix = f"{_GRANT_TYPE_UI}: tick 'Authorization Code', or choose another {FLOW}."
        return ResponseTypeNotEnabled(where, fix, **kw)

    if error == "login_required":
        if "re-authentication or mfa" in d:
            fix = (
                "the app's sign-on/authentication policy (Applications > your app > Sign On) asks"
                " for more than the password: enrol the user in a TOTP factor and set"
                f" {TOTP_SECRET}, or let the policy accept a password for this user's group."
            )
        else:
            fix = (
                "the one-time sessionToken was refused (already used, older than 5 minutes, or"
                " minted before an org upgrade); run again. If it persists, check that"
                f" {DOMAIN} and {AUTH_SERVER} name the org where the user signs in."
            )
        return LoginRequired(where, fix, **kw)

    if error == "consent_required":
        return ConsentRequired(
            where,
            "Applications > your app > General > User Consent: untick 'Require consent', or"
            " have the user grant consent once in a browser.",
            **kw,
        )

    if error == "access_denied":
        if "not assigned" in d:
            fix = (
                f"assign {who} to the app (Applications > your app > Assignments), directly or"
                " through a group."
            )
        elif "policy" in d or "scope" in d:
            fix = (
                "Security > API > Authorization Servers > your server > Access Policies: add a"
                f" policy covering {client} and a rule allowing this grant type, user and the"
                f" scopes in {SCOPES}."
            )
        else:
            fix = f"check that {who} is assigned to the app and its sign-on policy allows access."
        return AccessDenied(where, fix, **kw)

    if error == "invalid_scope":
        if "client credentials" in d:
            fix = (
                f"client_credentials gets no OpenID scopes: put only the authorization server's"
                f" custom scopes in {SCOPES}."
            )
        elif "'openid' scope" in d:
            fix = f"add openid to {SCOPES}."
        else:
            fix = (
                f"request only scopes the authorization server has ({SCOPES}); custom scopes"
                " must exist under Security > API > Authorization Servers > your server > Scopes."
            )
        return InvalidScope(where, fix, **kw)

    if error in {"unauthorized_client", "unsupported_grant_type"}:
        if error == "unsupported_grant_type" and "custom authorization server" in d:
            fix = f"client_credentials needs a custom authorization server: set {AUTH_SERVER}."
        elif error == "unsupported_grant_type":
            fix = (
                "Security > API > Authorization Servers > your server > Access Policies > the"
                f" rule: tick this grant type. {_grant_fix(grant_type, flow)}"
            )
        else:
            fix = _grant_fix(grant_type, flow)
        return UnauthorizedClient(where, fix, **kw)

    if error == "invalid_grant":
        if "rate limit" in d:
            return RateLimited(
                where, "fewer sign-ins of this user per second: keep the token cache on.", **kw
            )
        if "authorization code" in d or "interaction code" in d:
            fix = (
                "a code works once and for 5 minutes: something redeemed it already or held it too"
                " long (a retrying proxy, a paused debugger); run again."
            )
        elif "pkce" in d:
            fix = (
                "the code_verifier did not match the code_challenge: something between us and Okta"
                " altered the request; run again, and report it if it persists."
            )
        elif "redirect_uri" in d:
            fix = (
                f"{REDIRECT_URI} must be the same at /authorize and /token; check for proxies"
                " rewriting it."
            )
        elif "another client" in d:
            fix = f"one {CLIENT_ID} must be used for the whole sign-in."
        elif "refresh token" in d:
            fix = (
                "the refresh token was revoked, expired or already rotated; clear the token cache"
                " (--okta-clear-cache) and run again."
            )
        elif "password has expired" in d:
            return PasswordExpired(
                where,
                f"change the password (sign in once in a browser) and update {PASSWORD}.",
                **kw,
            )
        elif "mfa" in d:
            fix = (
                f"the password grant cannot answer MFA: use the pkce or code {FLOW} with"
                f" {TOTP_SECRET}, or exempt the user from MFA in the sign-on policy."
            )
        elif "credentials" in d:
            fix = (
                f"check the login in {USER} and the password in {PASSWORD}; the account may"
                " also be locked out."
            )
        else:
            fix = "run again; if it persists, Reports > System Log shows Okta's reason."
        return InvalidGrant(where, fix, **kw)

    if error == "invalid_request":
        if "redirect_uri" in d or "redirect uri" in d:
            return RedirectUriNotRegistered(where, _redirect_fix(redirect_uri), **kw)
        if "pkce" in d and "required" in d:
            fix = f"this app requires PKCE: set {FLOW} to 'pkce'."
        elif "nonce" in d:
            fix = "the request lacked a nonce; report this as a bug of pytest-okta-user."
        else:
            fix = f"check {FLOW}, {SCOPES} and {REDIRECT_URI}."
        return InvalidRequest(where, fix, **kw)

    if error == "unsupported_response_mode":
        return InvalidRequest(
            where,
            "the implicit flow needs the fragment or form_post response mode; code flows accept"
            " query, fragment and form_post.",
            **kw,
        )

    if error == "mfa_required":
        return MfaRequired(
            where,
            f"the password grant cannot answer MFA: use the pkce or code {FLOW} with"
            f" {TOTP_SECRET}.",
            **kw,
        )

    if error == "interaction_required":
        return LoginRequired(
            where,
            f"the app requires the Interaction Code flow for sign-in; use an app or {AUTH_SERVER}"
            " without it for tests.",
            **kw,
        )

    if error in {"server_error", "temporarily_unavailable"}:
        return UnexpectedResponse(
            where, "Okta had a problem; run again later (status.okta.com).", **kw
        )

    return OktaRejected(
        where,
        "Reports > System Log in the Okta admin console shows the reason.",
        **kw,
    )


def _redirect_fix(redirect_uri: str | None) -> str:
    shown = f" ({redirect_uri})" if redirect_uri else ""
    return (
        f"add the redirect URI{shown} to Applications > your app > General > Sign-in redirect"
        f" URIs, or set {REDIRECT_URI} to one listed there (exactly, including the trailing slash)."
    )


def authorize_error_page(
    text: str, *, status: int, client_id: str | None, redirect_uri: str | None
) -> OktaUserError:
    """The error for Okta's HTML error page at /authorize (unknown client or redirect URI)."""
    low = text.lower()
    if "redirect_uri" in low or "redirect uri" in low:
        return RedirectUriNotRegistered(
            f"Okta's /authorize refused the redirect URI {redirect_uri or ''} with its error page:"
            " it is not a Sign-in redirect URI of the app.",
            _redirect_fix(redirect_uri),
            code="invalid_request",
            status=status,
        )
    if "client_id" in low or "invalid_client" in low:
        return UnknownClient(
            f"Okta's /authorize showed its error page: no active app has client id {client_id}.",
            f"check {CLIENT_ID} against Applications > your app > General > Client ID, and that"
            f" {DOMAIN} is the org the app lives in (and that the app is active).",
            code="invalid_client",
            status=status,
        )
    return UnexpectedResponse(
        f"Okta's /authorize showed an HTML error page (HTTP {status}) without redirecting.",
        f"check {CLIENT_ID}, {REDIRECT_URI} and {AUTH_SERVER}; the page text was: {text[:160]!r}",
        status=status,
    )
