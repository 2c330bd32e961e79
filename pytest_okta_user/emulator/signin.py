"""Rules of Okta's browser sign-in: the sign-in page's form, /login/sessionCookieRedirect and
/api/v1/sessions/me.

The sign-in page is the Classic sign-in widget reduced to a plain HTML form: its username and
password go through the very rules of /api/v1/authn (`authn.primary`, so a wrong password counts
toward lockout and the per-user rate limit exactly as there), a user enrolled in TOTP gets a second
step verified by `authn.verify_factor` (a replayed step is refused as there), and success redeems
the sessionToken at once into an Okta session (the `sid` cookie) before sending the browser back to
`fromURI`, as the widget does through sessionCookieRedirect. The texts shown are the widget's own
(okta/okta-signin-widget `packages/@okta/i18n/src/properties/login.properties` at 5225c54).

Sources: https://developer.okta.com/docs/guides/session-cookie/main/ ("Retrieve a session cookie
by visiting a session redirect link": the redirect URL must be a Trusted Origin, the token is used
once, an existing session cookie wins over a sessionToken), the Sessions API reference
(okta/okta-developer-docs at 4bcae26f46~1, `docs/reference/api/sessions/index.md`: "Get current
Session", "Close current Session", the Session object, 404 when there is no session), and
https://developer.okta.com/docs/guides/customize-authz-server/main/ (the org's sign-in page is
`/login/login.htm?fromURI=...`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

from . import authn
from .errors import ApiError, PageError
from .model import Org
from .records import REDIRECT, Session, User, origin_of

SIGN_IN_PATH = "/login/login.htm"

# The widget's texts (login.properties keys in brackets).
UNABLE_TO_SIGN_IN = "Unable to sign in"  # errors.E0000004
USERNAME_REQUIRED = "Please enter a username"  # error.username.required
PASSWORD_REQUIRED = "Please enter a password"  # error.password.required
RATE_LIMITED = "You exceeded the maximum number of requests. Try again in a while."  # E0000047
LOCKED_OUT = "Your account is locked. Please contact your administrator."  # error.auth.lockedOut
PASSWORD_EXPIRED = "Your password has expired"  # password.expired.title.generic
SESSION_EXPIRED = "Your session has expired. Please try to sign in again."  # error.expired.session
CODE_REQUIRED = "This field cannot be left blank"  # model.validation.field.blank
CODE_REPLAYED = "Each code can only be used once. Please wait for a new code and try again."
# The widget shows E0000068's errorCauses, which /api/v1/authn words so (authn.verify_factor).
CODE_INVALID = "Your passcode doesn't match our records. Please try again."

SIGN_IN_ERRORS = {"E0000047": RATE_LIMITED}
CODE_ERRORS = {"E0000068": CODE_INVALID, "E0000082": CODE_REPLAYED, "E0000001": CODE_REQUIRED}

# Parameters a resumed /authorize must not repeat: the sessionToken was spent (or was no good),
# and prompt=login and max_age were satisfied by the sign-in that just happened (Okta keeps the
# original request server-side under `okta_key` instead of replaying its URL).
SPENT_PARAMS = frozenset({"sessionToken", "max_age"})


@dataclass(frozen=True)
class Form:
    """A sign-in page to show: the `password` step or the `totp` step, with the widget's error."""

    step: Literal["password", "totp"]
    from_uri: str
    error: str | None = None
    username: str = ""
    state_token: str = ""


@dataclass(frozen=True)
class Redirect:
    """A 302 to `location`; `sid`: a new Okta session to set as the `sid` cookie with it."""

    location: str
    sid: str | None = None


# -- where the browser may be sent ----------------------------------------------------------------


def redirect_allowed(org: Org, base_url: str, url: str) -> bool:
    """Whether Okta would send a browser to `url` after signing it in.

    A path on the org itself, the org's own origin, a Trusted Origin with the REDIRECT scope, or an
    app's login redirect URI (compared without its query): anything else would make Okta an open
    redirector.
    """
    if url.startswith("/"):
        return not url.startswith("//") and "\\" not in url
    origin = origin_of(url)
    if origin is None:
        return False
    if origin == origin_of(base_url):
        return True
    trusted = org.trusted_origins.get(origin)
    if trusted is not None and REDIRECT in trusted.scopes:
        return True
    parts = urlsplit(url)
    bare = parts._replace(query="", fragment="").geturl()
    return any(bare == uri or url == uri for app in org.apps.values() for uri in app.redirect_uris)


def absolute(base_url: str, url: str) -> str:
    return base_url + url if url.startswith("/") else url


def target(org: Org, base_url: str, from_uri: str | None) -> str:
    """Where a sign-in leads: `fromURI` when Okta would redirect there, else the org's root."""
    if from_uri and redirect_allowed(org, base_url, from_uri):
        return from_uri
    return "/"


def resume_uri(path: str, params: Iterable[tuple[str, str]]) -> str:
    """The /authorize request to come back to after signing in (the sign-in form's `fromURI`)."""
    kept: list[tuple[str, str]] = []
    for name, value in params:
        if name in SPENT_PARAMS:
            continue
        if name == "prompt":
            rest = [p for p in value.split() if p != "login"]
            if not rest:
                continue
            value = " ".join(rest)
        kept.append((name, value))
    return path + ("?" + urlencode(kept) if kept else "")


# -- the sign-in page -----------------------------------------------------------------------------


def show(org: Org, base_url: str, sid: str, from_uri: str | None) -> Form | Redirect:
    """GET of the sign-in page: with a live session and somewhere to go, Okta goes there at once."""
    goal = target(org, base_url, from_uri)
    if from_uri and live_user(org, sid) is not None:
        return Redirect(absolute(base_url, goal))
    return Form("password", goal)


def sign_in(org: Org, base_url: str, form: Mapping[str, str]) -> Form | Redirect:
    """POST of the sign-in page: the password step, or (with a stateToken) the TOTP step."""
    goal = target(org, base_url, form.get("fromURI"))
    state_token = form.get("stateToken", "")
    if state_token:
        return verify_code(org, base_url, goal, state_token, form.get("passCode", ""))
    username, password = form.get("username", ""), form.get("password", "")
    if not username:
        return Form("password", goal, USERNAME_REQUIRED)
    if not password:
        return Form("password", goal, PASSWORD_REQUIRED, username)
    try:
        answer = authn.primary(org, {"username": username, "password": password}, base_url)
    except ApiError as err:
        return Form("password", goal, SIGN_IN_ERRORS.get(err.code, UNABLE_TO_SIGN_IN), username)
    user = org.user_by_login(username)
    if answer.get("status") == "SUCCESS" and org.pipeline == "idx" and user and user.totp_secret:
        # Identity Engine: /api/v1/authn answers the global session policy alone (the password),
        # but the sign-in widget goes on to the second factor an app's authentication policy asks
        # for (the demo apps: password + TOTP), so the session it starts satisfies the app. The
        # unspent sessionToken simply expires.
        answer = authn.new_transaction(org, base_url, user, "MFA_REQUIRED")
    return after_authn(org, base_url, goal, answer, username)


def verify_code(
    org: Org, base_url: str, goal: str, state_token: str, passcode: str
) -> Form | Redirect:
    txn = org.transaction(state_token)
    user = org.user(txn.user_id) if txn is not None else None
    if txn is None or user is None or user.factor_id is None:
        return Form("password", goal, SESSION_EXPIRED)
    body = {"stateToken": state_token, "passCode": passcode}
    try:
        answer = authn.verify_factor(org, body, user.factor_id, base_url)
    except ApiError as err:
        if err.code not in CODE_ERRORS:
            return Form("password", goal, SESSION_EXPIRED, user.login)
        return Form("totp", goal, CODE_ERRORS[err.code], user.login, state_token)
    return after_authn(org, base_url, goal, answer, user.login)


def after_authn(
    org: Org, base_url: str, goal: str, answer: Mapping[str, Any], username: str
) -> Form | Redirect:
    """The next page for an /api/v1/authn answer, as the widget turns it into one."""
    status = answer.get("status")
    if status == "SUCCESS":
        record = org.redeem_session_token(str(answer["sessionToken"]))
        if record is None:
            return Form("password", goal, SESSION_EXPIRED, username)
        sid = org.new_session(record.user_id, record.auth_time, record.amr)
        return Redirect(absolute(base_url, goal), sid)
    if status in authn.MFA_STATES:
        return Form("totp", goal, None, username, str(answer["stateToken"]))
    if status == "LOCKED_OUT":
        return Form("password", goal, LOCKED_OUT, username)
    if status == "PASSWORD_EXPIRED":
        # Changing the password is left to /api/v1/authn: the form does not offer it.
        org.end_transaction(str(answer["stateToken"]))
        return Form("password", goal, PASSWORD_EXPIRED, username)
    return Form("password", goal, UNABLE_TO_SIGN_IN, username)


# -- /login/sessionCookieRedirect -----------------------------------------------------------------


def session_cookie_redirect(
    org: Org, base_url: str, sid: str, token: str | None, redirect_url: str | None
) -> Redirect:
    """GET (or POST, form parameters) /login/sessionCookieRedirect?token=...&redirectUrl=...

    An untrusted `redirectUrl` is refused on Okta's error page before the token is looked at, so
    the token stays usable. A browser that already has a session keeps it and the token is ignored
    (Classic ignores a sessionToken beside a session cookie). A bad, used or expired token sends
    the browser to the sign-in page, with no cookie, to come back to `redirectUrl` after signing in
    (UNVERIFIED against a real org: no public recording of this answer was found).
    """
    if not redirect_url or not redirect_allowed(org, base_url, redirect_url):
        # No catalogue entry names this check. `illegal_redirect_uri` points at an app's settings
        # (the wrong fix: Trusted Origins decide here) and E0000212 "Origin validation failed." is
        # the API's check of an `Origin` header, answered as JSON; the generic `invalid_request`
        # ("Invalid request") on Okta's error page says what is wrong without a wrong fix.
        raise PageError("invalid_request")
    location = absolute(base_url, redirect_url)
    if live_user(org, sid) is not None:
        return Redirect(location)
    record = org.redeem_session_token(token) if token else None
    user = org.user(record.user_id) if record is not None else None
    if record is None or user is None or user.status != "ACTIVE":
        return Redirect(f"{base_url}{SIGN_IN_PATH}?fromURI={quote(redirect_url, safe='')}")
    return Redirect(location, org.new_session(user.id, record.auth_time, record.amr))


# -- /api/v1/sessions/me --------------------------------------------------------------------------


def live_user(org: Org, sid: str) -> User | None:
    session = org.session(sid) if sid else None
    user = org.user(session.user_id) if session is not None else None
    return user if user is not None and user.status == "ACTIVE" else None


def current(org: Org, sid: str) -> tuple[Session, User]:
    session = org.session(sid) if sid else None
    user = org.user(session.user_id) if session is not None else None
    if session is None or user is None:
        raise ApiError("E0000007", "Resource not found: me (Session)")
    return session, user


def session_me(org: Org, base_url: str, sid: str) -> dict[str, Any]:
    """GET /api/v1/sessions/me: the Session object of the browser's `sid` cookie."""
    session, user = current(org, sid)
    me = f"{base_url}/api/v1/sessions/me"
    name = " ".join(
        str(part) for part in (user.profile.get("firstName"), user.profile.get("lastName")) if part
    )
    return {
        "id": sid,
        "login": user.login,
        "userId": user.id,
        "status": "ACTIVE",
        "createdAt": authn.iso(session.created_at),
        "expiresAt": authn.iso(session.expires_at),
        "lastPasswordVerification": authn.iso(session.auth_time) if "pwd" in session.amr else None,
        "lastFactorVerification": authn.iso(session.auth_time) if "otp" in session.amr else None,
        "amr": list(session.amr),
        "idp": {"id": org.org_id, "type": "OKTA"},
        "mfaActive": user.totp_secret is not None,
        "_links": {
            "refresh": {"href": f"{me}/lifecycle/refresh", "hints": {"allow": ["POST"]}},
            "self": {"href": me, "hints": {"allow": ["GET", "DELETE"]}},
            "user": {
                "name": name,
                "href": f"{base_url}/api/v1/users/me",
                "hints": {"allow": ["GET"]},
            },
        },
    }


def close_me(org: Org, sid: str) -> None:
    """DELETE /api/v1/sessions/me: this session ends (204); none to end is a 404."""
    current(org, sid)
    org.end_session(sid)
