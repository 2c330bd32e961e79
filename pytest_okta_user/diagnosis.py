"""An Okta answer or a transport failure becomes the error (from ``errors``) with its fix.

Every mapping from what came back (an ``/api/v1`` error body, an OAuth error, an authn state, an
/authorize page or redirect, an answer that is not Okta's) to the error a user reads lives here;
``client`` and ``flows`` parse and call these. A request that got no answer, or a 429:
``diagnosis_transport``. Fixes name our settings by all their names, taken from the settings table
(``options``).

Messages never contain secrets: callers pass descriptions, never token or password values, and
never a URL (a request URL can carry a sessionToken).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import options
from .errors import (
    AccessDenied,
    AuthenticationError,
    ConfigurationError,
    ConsentRequired,
    CredentialsRefused,
    IdpRedirect,
    InvalidClient,
    InvalidGrant,
    InvalidPasscode,
    InvalidRequest,
    InvalidScope,
    LockedOut,
    LoginRequired,
    MfaEnrollRequired,
    MfaRequired,
    OAuthError,
    OktaRejected,
    OktaUserError,
    PasswordExpired,
    RateLimited,
    RedirectUriNotRegistered,
    ResponseTypeNotEnabled,
    StateMismatch,
    UnauthorizedClient,
    UnexpectedResponse,
    UnknownClient,
)

# Each setting by all its names (command line / environment / ini), as the fixes spell them.
DOMAIN = options.DOMAIN.describe()
AUTH_SERVER = options.AUTH_SERVER.describe()
CLIENT_ID = options.CLIENT_ID.describe()
REDIRECT_URI = options.REDIRECT_URI.describe()
SCOPES = options.SCOPES.describe()
FLOW = options.FLOW.describe()
USER = options.USER.describe()
CLIENT_SECRET = options.CLIENT_SECRET.describe()
PASSWORD = options.PASSWORD.describe()
TOTP_SECRET = options.TOTP_SECRET.describe()
TIMEOUT = options.TIMEOUT.describe()
RATE_LIMIT_WAIT = options.RATE_LIMIT_WAIT.describe()

_GRANT_TYPE_UI = "Okta admin: Applications > your app > General > Edit > Grant type"


# --- an error body, whichever shape it has ------------------------------------------------------


def error_from_body(
    body: Mapping[str, Any],
    *,
    status: int,
    endpoint: str,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    flow: str | None = None,
    grant_type: str | None = None,
    user: str | None = None,
) -> OktaUserError:
    """The error for a JSON error body: OAuth's ``error`` or Okta's ``errorCode`` shape."""
    code = str(body.get("errorCode") or "")
    if "error" in body:
        error, description = body.get("error"), body.get("error_description")
    elif code and not code.startswith("E0"):
        # Some OAuth endpoints answer in the /api/v1 shape with an OAuth code (okta-idx-java#500).
        error, description = code, body.get("errorSummary")
    else:
        return api_error(body, status=status, endpoint=endpoint, user=user)
    return oauth_error(
        str(error),
        str(description or ""),
        status=status,
        endpoint=endpoint,
        flow=flow,
        grant_type=grant_type,
        client_id=client_id,
        redirect_uri=redirect_uri,
        user=user,
    )


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
    if flow == "direct" or grant_type == MFA_OTP_GRANT:
        return f"enable Direct Authentication: {ENABLE_DIRECT}."
    if flow == "interaction_code" or grant_type == "interaction_code":
        return f"enable the Interaction Code flow: {ENABLE_INTERACTION_CODE}."
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
        oie = _oie_access_denied(d, who)
        if oie is not None:
            return AccessDenied(where, oie, **kw)
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
        if "'otp'" in d:
            return InvalidPasscode(
                where,
                f"{TOTP_SECRET} must be the shared secret of the user's enrolled TOTP authenticator"
                " (Google Authenticator or Okta Verify), base32 as shown at enrolment; also check"
                " this machine's clock (codes last 30 s).",
                **kw,
            )
        if "sign on policy" in d or "mfa enabled" in d or "assurance requirements" in d:
            return InvalidGrant(where, _policy_needs_more(d), **kw)
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
            if flow == "direct":
                # A refusal of the user (recorded for the user, never retried by another path).
                return CredentialsRefused(where, fix, **kw)
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
        if flow == "direct":
            return direct_mfa_without_secret(user, description, status=status)
        return MfaRequired(
            where,
            f"the password grant cannot answer MFA: on Okta Identity Engine use the direct {FLOW}"
            f" (password, then a TOTP code) with {TOTP_SECRET}; on Classic, pkce or code with"
            f" {TOTP_SECRET}.",
            **kw,
        )

    if error == "interaction_required":
        return LoginRequired(
            where,
            f"the app signs users in with the Interaction Code flow: set {FLOW} to"
            f" interaction_code (or auto), with {TOTP_SECRET} when its policy asks for MFA.",
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


# --- /authorize answers that are not an answer ----------------------------------------------------


def sign_in_page(status: int, how: str) -> LoginRequired:
    """/authorize showed (or redirected to) the sign-in page: the sessionToken was not enough."""
    return LoginRequired(
        f"Okta's /authorize {how} (HTTP {status}) instead of signing the user in with the"
        " sessionToken.",
        "the app's sign-on/authentication policy (Applications > your app > Sign On) asks for more"
        f" than the sessionToken proved: enrol the user in a TOTP factor and set {TOTP_SECRET},"
        " or let the policy accept a password for this user.",
        code="login_required",
        status=status,
    )


def session_cookie_refused(
    status: int, location: str, redirect_url: str, org_url: str
) -> OktaUserError:
    """``/login/sessionCookieRedirect`` did not start a browser session: to the sign-in page (the
    sessionToken was refused), or an error page (a redirect URL Okta does not trust)."""
    if status in (301, 302, 303, 307) and location:
        return LoginRequired(
            "Okta's /login/sessionCookieRedirect sent the browser to the sign-in page instead of"
            " starting a session: it refused the sessionToken (used or expired).",
            "run again; if it persists, check that nothing else signs in with the same"
            " sessionToken (a sessionToken is valid once, for 5 minutes).",
            code="login_required",
            status=status,
        )
    return OAuthError(
        f"Okta's /login/sessionCookieRedirect refused to send the browser to {redirect_url}"
        f" (HTTP {status}).",
        f"add {redirect_url.rstrip('/') or org_url} as a Trusted Origin with the Redirect type"
        " (Security > API > Trusted Origins), or use a URL on the Okta org itself.",
        status=status,
    )


def idp_redirect(status: int, host: str | None) -> IdpRedirect:
    """/authorize redirected to another host than the redirect URI's and the org's."""
    return IdpRedirect(
        "Okta redirected the sign-in to another identity provider (IdP routing rule)"
        f" instead of answering (HTTP {status} to {host}).",
        "route the test user to Okta in Security > Identity Providers > Routing Rules,"
        " or use a user Okta signs in itself.",
        status=status,
    )


def altered_answer(what: str, *, status: int | None = None) -> UnexpectedResponse:
    """An answer missing what Okta always sends with it (``what`` says which answer, what lacks)."""
    return UnexpectedResponse(
        what, "a proxy may have altered the answer; run again.", status=status
    )


def authorize_unexpected(status: int, content_type: str | None) -> UnexpectedResponse:
    """An /authorize answer of no known kind; ``content_type`` None: a redirect without Location."""
    if content_type is None:
        what = f"Okta's /authorize answered HTTP {status} without a Location header."
        return UnexpectedResponse(
            what, f"check that {DOMAIN} reaches Okta itself, not a proxy.", status=status
        )
    what = f"Okta's /authorize answered HTTP {status} ({content_type or 'no content type'})."
    return UnexpectedResponse(
        what, "Okta or a proxy had a problem; run again later.", status=status
    )


def state_mismatch(*, with_error: bool) -> StateMismatch:
    """/authorize sent back another ``state`` than ours, or an error without ours: Okta echoes it
    on the errors it redirects (RFC 6749, section 4.1.2.1), so such an error may answer another
    sign-in, or none, and is not taken as Okta's verdict on this one."""
    if with_error:
        return StateMismatch(
            "Okta's /authorize answered an error without the state we sent (Okta echoes it on"
            " error redirects).",
            "the answer belongs to another sign-in or was made up (a caching or rewriting"
            " proxy?); run again.",
        )
    return StateMismatch(
        "The state that Okta's /authorize sent back is not the one we sent.",
        "the answer belongs to another sign-in (a caching or rewriting proxy?); run again.",
    )


def no_access_token(flow: str) -> UnexpectedResponse:
    what = f"Okta answered the {flow} flow without an access token."
    return UnexpectedResponse(what, f"check {SCOPES} and the app's grant types.")


# --- /api/v1/authn states we cannot finish --------------------------------------------------------


def authn_status_error(
    status: str, user: str, factor_types: Iterable[str] = ()
) -> AuthenticationError:
    """The error for an authn transaction that ended in ``status`` (not SUCCESS; ``factor_types``:
    what MFA_ENROLL offers): https://developer.okta.com/docs/reference/api/authn/#transaction-state"""
    if status == "LOCKED_OUT":
        return LockedOut(
            f"Okta says user {user} is locked out (LOCKED_OUT).",
            "unlock the user (Directory > People > the user > Unlock) or wait for the lockout to"
            f" end; then check {PASSWORD}: wrong passwords lock the account.",
            code=status,
        )
    if status == "PASSWORD_EXPIRED":
        return PasswordExpired(
            f"Okta says the password of user {user} has expired (PASSWORD_EXPIRED).",
            f"change it (sign in once in a browser, or Directory > People > the user > Reset"
            f" password) and update {PASSWORD}; a password policy without expiry suits test users.",
            code=status,
        )
    if status == "MFA_ENROLL":
        factors = ", ".join(sorted(set(factor_types)))
        return MfaEnrollRequired(
            f"Okta asks user {user} to enrol a second factor first (MFA_ENROLL; offers:"
            f" {factors or '-'}).",
            "sign in once in a browser and enrol Google Authenticator (keep its secret in"
            f" {TOTP_SECRET}), or stop requiring enrolment for the test user's group (Security >"
            " Authenticators > Enrollment).",
            code=status,
        )
    if status == "MFA_REQUIRED":
        return MfaRequired(
            f"Okta still asks user {user} for a second factor after the TOTP code (MFA_REQUIRED).",
            "the sign-on policy wants another factor as well; allow TOTP alone for the test user.",
            code=status,
        )
    return AuthenticationError(
        f"Okta's sign-in of user {user} stopped in state {status}, which needs a person.",
        "sign in once in a browser to finish it (e.g. a password warning or recovery), then run"
        " again.",
        code=status,
    )


def mfa_unanswerable(
    user: str | None, factor_types: Iterable[str], *, has_totp: bool
) -> MfaRequired:
    """MFA_REQUIRED we cannot answer: no TOTP factor enrolled, or no TOTP secret for it."""
    kinds = ", ".join(sorted(set(factor_types))) or "none listed"
    if not has_totp:
        return MfaRequired(
            f"Okta asks user {user} for a second factor, but none is TOTP"
            f" (MFA_REQUIRED; enrolled: {kinds}).",
            "enrol the user in Google Authenticator or Okta Verify (TOTP) and put its secret in"
            f" {TOTP_SECRET}; push, SMS and email cannot be answered headlessly.",
            code="MFA_REQUIRED",
        )
    return MfaRequired(
        f"Okta asks user {user} for a second factor (MFA_REQUIRED; enrolled: {kinds}).",
        f"set {TOTP_SECRET} to the user's TOTP factor secret (Google Authenticator or Okta"
        " Verify), or exempt the test user's group from MFA in the sign-on policy.",
        code="MFA_REQUIRED",
    )


# --- answers that are not Okta's (requests that got none: diagnosis_transport) --------------------


def not_json(status: int, content_type: str | None, endpoint: str) -> UnexpectedResponse:
    """An answer that is not the JSON Okta's ``endpoint`` always sends (a 5xx, a proxy's page)."""
    shown = content_type or "no content type"
    if status >= 500:
        what = f"Okta's {endpoint} failed with HTTP {status} ({shown})."
        fix = "Okta or a proxy had a problem; run again later (status.okta.com)."
    else:
        what = f"Okta's {endpoint} answered HTTP {status} with {shown} instead of JSON."
        fix = f"a proxy or captive portal answered in Okta's place: check {DOMAIN}, HTTPS_PROXY"
        fix += " and NO_PROXY."
    return UnexpectedResponse(what, fix, status=status)


# --- Okta Identity Engine: the app's authentication policy, Direct Authentication, IDX -----------
# Screens and switches from Okta's guides (okta/okta-developer-docs, packages/@okta/vuepress-site/
# docs/guides/configure-direct-auth-grants/main/ and implement-grant-type/main/interactioncode/).

#: Direct Authentication's second step with a TOTP code (Okta keeps Auth0's grant URI).
MFA_OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"

ENABLE_DIRECT = (
    "Applications > your app > General > Edit > Grant type > Advanced: tick 'Resource Owner"
    " Password' and 'MFA OTP' (super admin); on a custom authorization server also Security > API"
    " > Authorization Servers > your server > Access Policies > the rule: 'Okta direct auth API"
    " grants' > 'MFA OTP'"
)
ENABLE_INTERACTION_CODE = (
    "Settings > Account > Embedded widget sign-in support: tick 'Interaction code' (super"
    " admin); Applications > your app > General > Edit > Grant type > Advanced: tick 'Interaction"
    " Code'; on a custom authorization server also Security > API > Authorization Servers > your"
    " server > Access Policies > the rule: tick 'Interaction Code'"
)
_IC = ENABLE_INTERACTION_CODE
_APP_POLICY = (
    "the app's authentication policy (Applications > your app > Sign On > User authentication,"
    " or Security > Authentication Policies)"
)


def _oie_flows_fix(last: str) -> str:
    """The two flows past an Identity Engine app policy and how to enable each, one line each
    (the fix's own lines), then ``last``."""
    return (
        f"set {FLOW} to direct or to interaction_code (or auto: the first that works), with"
        f" {TOTP_SECRET} set:\n"
        f"    - direct (the password, then a TOTP code; no Okta session): {ENABLE_DIRECT}.\n"
        "    - interaction_code (Okta's embedded sign-in, IDX; starts an Okta session):"
        f" {ENABLE_INTERACTION_CODE}.\n"
        f"    - {last}"
    )


def _policy_needs_more(description: str) -> str:
    """The fix for a grant the app's policy refuses because it needs more than a password."""
    if "assurance requirements" in description:
        return (
            f"{_APP_POLICY} asks for a factor the user cannot answer here: enrol the user in"
            f" Google Authenticator or Okta Verify (TOTP), set {TOTP_SECRET}, and let the policy"
            " accept 'Password + Another factor' with that authenticator."
        )
    return (
        f"{_APP_POLICY} asks for more than a password; on an Identity Engine org, "
        + _oie_flows_fix("or let the policy accept a password only for the test user's group.")
    )


def _oie_access_denied(d: str, who: str) -> str | None:
    """The fix for an Identity Engine ``access_denied`` (Direct Authentication's policy texts, the
    Interaction Code flow switched off); None for the others."""
    if "interaction code flow" in d:
        return f"the Interaction Code flow is off for this org, app or server: {_IC}."
    if "grant types required" in d or "grant_types_supported" in d:
        return (
            "the app's authentication policy needs a second factor whose grant the app lacks:"
            f" {ENABLE_DIRECT}."
        )
    mismatch = ("cannot be used", "not challenged", "no supported auth", "unable to prompt")
    if any(text in d for text in mismatch):
        return (
            f"{who} must be enrolled in Google Authenticator or Okta Verify (TOTP), which"
            f" {_APP_POLICY} must accept as the second factor ('Password + Another factor'); set"
            f" {TOTP_SECRET} to its secret."
        )
    if "direct authentication" in d:
        return (
            f"{_APP_POLICY} cannot be satisfied by a password and a TOTP code for {who}: let it"
            " accept 'Password + Another factor' with Google Authenticator or Okta Verify, or"
            f" set {FLOW} to interaction_code."
        )
    return None


def login_required_on_idx(error: OktaUserError) -> LoginRequired:
    """``login_required`` ("...requires re-authentication or MFA.") on an Identity Engine org: the
    sessionToken proves the global session policy only; the app's authentication policy, checked
    at /authorize, wants more (okta-auth-js #1454; facts sheet 8.1)."""
    return LoginRequired(
        f"{error.what} This org runs Okta Identity Engine: the Classic sessionToken proves only"
        " the password (the global session policy), and the app's authentication policy asks for"
        " more at /authorize.",
        _oie_flows_fix(f"or let {_APP_POLICY} accept a password only for the test user's group."),
        code=error.code or "login_required",
        description=error.description,
        status=error.status,
    )


def direct_mfa_without_secret(
    user: str | None, description: str | None = None, *, status: int | None = 403
) -> MfaRequired:
    """Direct Authentication's ``mfa_required`` with no TOTP secret to answer it."""
    who = f"user {user}" if user else "the user"
    return MfaRequired(
        f"Okta accepted the password of {who} and asks for a second factor (mfa_required:"
        f" {description or 'Verify with an additional authenticator'}), but no TOTP secret is set.",
        f"set {TOTP_SECRET} (environment only) to the secret of the user's Google Authenticator or"
        " Okta Verify enrolment (the text under the QR code), or exempt the test user's group from"
        f" MFA in {_APP_POLICY}.",
        code="mfa_required",
        description=description,
        status=status,
    )


def direct_no_otp_challenge(user: str | None, offered: str) -> MfaRequired:
    """``mfa_required`` that offers no OTP challenge (push or SMS only)."""
    return MfaRequired(
        f"Okta asks user {user} for a second factor it offers only out of band ({offered}),"
        " which a test run cannot answer.",
        f"{ENABLE_DIRECT}; enrol the user in Google Authenticator or Okta Verify (TOTP) and set"
        f" {TOTP_SECRET}.",
        code="mfa_required",
        status=403,
    )


def idx_error(
    messages: list[tuple[str, str, str]], *, status: int, user: str | None, step: str
) -> OktaUserError:
    """The error for an IDX answer's messages (``(i18n key, message, class)``; facts sheet 8.2,
    research note Q3): Okta's key decides the class and the fix. ``step``: the remediation we
    answered (``identify``, ``challenge-authenticator``...)."""
    key, message, _cls = messages[0]
    said = "; ".join(f"{m} ({k})" if k else m for k, m, _ in messages)
    who = f"user {user}" if user else "the user"
    where = f"Okta's Identity Engine refused the {step} step of {who}: {said}"
    kw: dict[str, Any] = {"code": key or None, "description": message or None, "status": status}
    low = key.lower()
    refused = {"errors.e0000004", "incorrectpassword", "security.access_denied"}
    if low in refused or "password" in low:
        return AuthenticationError(
            where,
            f"check the login in {USER} and the password in {PASSWORD}. Identity Engine answers a"
            " locked or suspended account the same way: Directory > People > the user shows it"
            " (Unlock). The password is not sent again in this run.",
            **kw,
        )
    if low == "idx.unknown.user" or "unknown" in low:
        return AuthenticationError(
            where, f"no such user in this org: check {USER} (the user's Okta login).", **kw
        )
    if "not.assigned" in low or "not assigned" in message.lower():
        return AccessDenied(
            where,
            f"assign {who} to the app (Applications > your app > Assignments), directly or through"
            " a group.",
            **kw,
        )
    if "used_passcode" in low:
        return InvalidPasscode(
            where,
            "each TOTP code works once; another sign-in of the same user used it. Give parallel"
            " runs different users, or run again after 30 s.",
            **kw,
        )
    if "passcode" in low or "otp" in low:
        return InvalidPasscode(
            where,
            f"{TOTP_SECRET} must be the shared secret of the user's enrolled TOTP authenticator"
            " (Google Authenticator or Okta Verify), base32 as shown at enrolment; also check"
            " this machine's clock (codes last 30 s).",
            **kw,
        )
    if "suspended" in low or "locked" in low or "too_many" in low or "toomany" in low:
        if "toomanyrequests" in low:
            return RateLimited(
                where, "fewer sign-ins of this user per second: keep the token cache on.", **kw
            )
        return LockedOut(
            where,
            "too many wrong answers: an admin unlocks the user or resets the factor (Directory >"
            f" People > the user), then check {PASSWORD} and {TOTP_SECRET}.",
            **kw,
        )
    if "session.expired" in low:
        return OktaRejected(
            where,
            "the sign-in transaction expired before it finished (a paused debugger, a slow"
            " proxy); run again.",
            **kw,
        )
    if "assurance" in low or "unsatisfiable" in low:
        return MfaRequired(where, _policy_needs_more("assurance requirements"), **kw)
    return AuthenticationError(
        where, "Reports > System Log in the Okta admin console shows the reason.", **kw
    )


def idx_unanswerable(step: str, offered: str, user: str | None) -> MfaRequired:
    """IDX asks for something a test run cannot give (a push, an email, an enrolment)."""
    who = f"user {user}" if user else "the user"
    if step.startswith("enroll") or "enroll" in step:
        return MfaEnrollRequired(
            f"Okta's Identity Engine asks {who} to enrol an authenticator first ({step}:"
            f" {offered or '-'}).",
            "sign in once in a browser and enrol Google Authenticator (keep its secret in"
            f" {TOTP_SECRET}), or stop requiring enrolment for the test user's group (Security >"
            " Authenticators > Enrollment).",
            code=step,
        )
    return MfaRequired(
        f"Okta's Identity Engine asks {who} for an authenticator a test run cannot answer"
        f" ({step}: {offered or 'none offered'}).",
        "enrol the user in Google Authenticator or Okta Verify (TOTP), set"
        f" {TOTP_SECRET}, and let {_APP_POLICY} accept it; push, SMS and email cannot be"
        " answered headlessly.",
        code=step,
    )


def idx_without_totp_secret(user: str | None, offered: str) -> MfaRequired:
    """IDX asks for a TOTP code and no secret is set."""
    return MfaRequired(
        f"Okta's Identity Engine accepted the password of user {user} and asks for a second"
        f" factor ({offered}), but no TOTP secret is set.",
        f"set {TOTP_SECRET} (environment only) to the secret of the user's Google Authenticator or"
        f" Okta Verify enrolment, or exempt the test user's group from MFA in {_APP_POLICY}.",
        code="challenge-authenticator",
    )


def auto_exhausted(tried: list[tuple[str, OktaUserError]], pipeline: str | None) -> OktaUserError:
    """``flow=auto`` tried every path the org has and Okta refused each for its settings."""
    lines = "; ".join(f"{path}: {headline_of(error)}" for path, error in tried)
    engine = {"idx": "Identity Engine", "v1": "Classic Engine"}.get(pipeline or "", "unknown")
    return UnauthorizedClient(
        f"flow auto found no sign-in path this app allows (org pipeline: {engine}): {lines}.",
        _oie_flows_fix("what each path lacks is in the list above."),
        code=tried[-1][1].code if tried else None,
    )


def headline_of(error: OktaUserError) -> str:
    """An error's first line, without its trailing stop (for one-line lists)."""
    return (error.what.splitlines()[0] if error.what else type(error).__name__).rstrip(".")
