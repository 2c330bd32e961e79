"""The recipes that turn a user's password into tokens without a browser.

Browser flows (code, pkce, implicit): ``POST /api/v1/authn`` (answering MFA with a TOTP code)
gives a one-time sessionToken; ``GET /authorize`` with ``prompt=none`` and that sessionToken
answers with a code or tokens; code flows then redeem the code at ``/token``. The password and
client_credentials flows go to ``/token`` directly. No pytest here: usable from a script.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyotp
import requests

from .client import CLIENT_AUTH_METHODS, ClientAuth, HttpOptions, OktaClient
from .errors import (
    CLIENT_SECRET,
    FLOW,
    PASSWORD,
    REDIRECT_URI,
    SCOPES,
    TOTP_SECRET,
    USER,
    AuthenticationError,
    ConfigurationError,
    InvalidPasscode,
    LockedOut,
    MfaEnrollRequired,
    MfaRequired,
    PasswordExpired,
    RateLimitRestart,
    StateMismatch,
    UnexpectedResponse,
    oauth_error,
)
from .settings import FLOWS
from .tokens import (
    KeySet,
    RedactedStr,
    SecretDict,
    TokenSet,
    Variant,
    endpoint,
    org_url,
    verify_access_token,
    verify_id_token,
)

__all__ = ["FLOWS", "RESPONSE_MODES", "Credentials", "exchange", "pkce_pair", "refresh"]

RESPONSE_MODES = {
    "code": ("query", "fragment", "form_post"),
    "pkce": ("query", "fragment", "form_post"),
    "implicit": ("fragment", "form_post"),
}
_SECRET_METHODS = tuple(m for m in CLIENT_AUTH_METHODS if m != "none")
_TOTP_FACTOR = "token:software:totp"
_TOTP_STEP = 30


@dataclass(frozen=True, repr=False)
class Credentials:
    """The secrets of one exchange. Held as redacting strings; the repr says only which are set."""

    password: str | None = None
    client_secret: str | None = None
    totp_secret: str | None = None

    def __post_init__(self) -> None:
        for name in ("password", "client_secret", "totp_secret"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, RedactedStr):
                object.__setattr__(self, name, RedactedStr(value))

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "<set>" if value else "<unset>"

        return (
            f"Credentials(password={shown(self.password)},"
            f" client_secret={shown(self.client_secret)}, totp_secret={shown(self.totp_secret)})"
        )

    __str__ = __repr__


def pkce_pair() -> tuple[RedactedStr, str]:
    """A PKCE ``code_verifier`` (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = RedactedStr(secrets.token_urlsafe(48))  # 64 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def totp_code(totp_secret: str, now: float) -> RedactedStr:
    """The RFC 6238 code of a base32 secret at ``now`` (pasted spaces and case are fine)."""
    normalised = RedactedStr("".join(totp_secret.split()).upper())
    try:
        return RedactedStr(pyotp.TOTP(normalised).at(now))
    except (ValueError, TypeError):
        pass
    raise ConfigurationError(
        f"{TOTP_SECRET} is not a base32 TOTP secret.",
        f"set {TOTP_SECRET} to the secret shown (as text, often under the QR code) when the"
        " user's Google Authenticator / Okta Verify factor was enrolled.",
    )


# --- entry points ---------------------------------------------------------------------------------


def exchange(
    variant: Variant,
    credentials: Credentials,
    *,
    http: HttpOptions | None = None,
    clock: Callable[[], float] = time.time,
    response_mode: str | None = None,
    client_auth: str | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenSet:
    """Fresh tokens for ``variant``, by its flow.

    ``response_mode``: ``query`` (default for code flows), ``fragment`` (default for implicit) or
    ``form_post``. ``client_auth``: ``client_secret_basic`` (default with a secret) or
    ``client_secret_post``; clients without a secret are public (``none``).
    ``clock`` is "now" for expiry and token checks; ``sleep`` waits for rate limits and TOTP steps.
    """
    _check(variant, credentials, response_mode, client_auth)
    auth = _client_auth(variant, credentials, client_auth)
    with OktaClient(
        org_url(variant.issuer), http=http, session=session, sleep=sleep, clock=clock
    ) as client:
        while True:
            try:
                return _exchange_once(
                    client,
                    variant,
                    credentials,
                    auth,
                    clock=clock,
                    sleep=sleep,
                    response_mode=response_mode,
                )
            except RateLimitRestart as limited:
                # A 429 answered a request that carried a sessionToken, code, stateToken or
                # password: nothing is resent. Once the window resets, the sign-in starts over
                # from /api/v1/authn (a fresh sessionToken and code). Bounded: the client raises
                # RateLimited instead once the waits would exceed max_rate_limit_wait.
                client.wait_out(limited.wait)


def _exchange_once(
    client: OktaClient,
    variant: Variant,
    credentials: Credentials,
    auth: ClientAuth,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    response_mode: str | None,
) -> TokenSet:
    flow = variant.flow
    if flow == "client_credentials":
        return _token_grant(
            client, variant, auth, _client_credentials_form(variant), clock=clock, user={}
        )
    if flow == "password":
        return _token_grant(
            client, variant, auth, _password_form(variant, credentials), clock=clock, user=None
        )
    session_token, user = _sign_in(client, variant, credentials, clock=clock, sleep=sleep)
    return _browser_flow(
        client, variant, auth, session_token, user, clock=clock, response_mode=response_mode
    )


def refresh(
    variant: Variant,
    tokens: TokenSet,
    credentials: Credentials,
    *,
    http: HttpOptions | None = None,
    clock: Callable[[], float] = time.time,
    client_auth: str | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenSet:
    """New tokens from ``tokens.refresh_token`` (kept when Okta does not rotate it)."""
    if not tokens.refresh_token:
        raise ConfigurationError(
            f"No refresh token to refresh the tokens of the {variant.describe()}.",
            f"add offline_access to {SCOPES} and tick 'Refresh Token' under Applications > your"
            " app > General > Grant type.",
        )
    auth = _client_auth(variant, credentials, client_auth)
    with OktaClient(
        org_url(variant.issuer), http=http, session=session, sleep=sleep, clock=clock
    ) as client:
        started = clock()
        # A 429 here raises RateLimitRestart (a RateLimited) without sending the refresh token
        # again, even after the window: Okta may have processed the request it limited, and once
        # the rotation's grace period has passed a rotated token sent again is reuse, which
        # revokes the whole family. The provider then falls back to a full exchange (as on any
        # OktaUserError from a refresh), which waits for the window within its budget.
        body = client.token(
            endpoint(variant.issuer, "token"),
            _refresh_form(tokens),
            auth,
            flow=variant.flow,
            user=variant.user,
        )
        return _token_set(
            client,
            variant,
            body,
            started=started,
            clock=clock,
            user=dict(tokens.user),
            nonce=None,
            previous=tokens,
        )


# --- checks before talking to Okta ----------------------------------------------------------------


def _check(
    variant: Variant,
    credentials: Credentials,
    response_mode: str | None,
    client_auth: str | None,
) -> None:
    flow = variant.flow
    if flow not in FLOWS:
        raise ConfigurationError(
            f"Unknown flow {flow!r}.", f"set {FLOW} to one of {', '.join(FLOWS)}."
        )
    # ClientAuth refuses unknown methods too, but with a ValueError and accepting "none": here a
    # caller's choice gets a ConfigurationError before any request, and "none" is ours to pick.
    if client_auth is not None and client_auth not in _SECRET_METHODS:
        raise ConfigurationError(
            f"Unknown client authentication {client_auth!r}.",
            "use client_secret_basic or client_secret_post (public clients need none).",
        )
    if flow in ("code", "client_credentials") and not credentials.client_secret:
        raise ConfigurationError(
            f"The {flow} flow needs the client secret of a confidential app.",
            f"set {CLIENT_SECRET} (Applications > your app > General > Client Credentials)"
            + (f", or use the pkce {FLOW} for a public app." if flow == "code" else "."),
        )
    if flow == "client_credentials":
        return
    if not variant.user:
        raise ConfigurationError(
            f"No user to sign in for the {flow} flow.", f"set {USER} to the user's Okta login."
        )
    if not credentials.password:
        raise ConfigurationError(
            f"No password for user {variant.user}.",
            f"set {PASSWORD} in the environment (never on the command line).",
        )
    if flow == "password":
        return
    if not variant.redirect_uri:
        raise ConfigurationError(
            f"The {flow} flow needs a redirect URI.",
            f"set {REDIRECT_URI} to one of the app's Sign-in redirect URIs"
            " (Applications > your app > General).",
        )
    modes = RESPONSE_MODES[flow]
    if response_mode is not None and response_mode not in modes:
        raise ConfigurationError(
            f"The {flow} flow cannot use the {response_mode!r} response mode.",
            f"use one of {', '.join(modes)}.",
        )


def _client_auth(variant: Variant, credentials: Credentials, method: str | None) -> ClientAuth:
    if credentials.client_secret:
        return ClientAuth(
            variant.client_id, credentials.client_secret, method or "client_secret_basic"
        )
    return ClientAuth(variant.client_id, None, "none")


# --- /api/v1/authn --------------------------------------------------------------------------------


def _sign_in(
    client: OktaClient,
    variant: Variant,
    credentials: Credentials,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[RedactedStr, dict[str, Any]]:
    """The sessionToken and ``_embedded.user`` of a successful primary authentication (+ TOTP)."""
    # Both checked in _check.
    assert variant.user is not None
    assert credentials.password is not None
    transaction = client.authn(variant.user, credentials.password)
    if transaction.get("status") == "MFA_REQUIRED":
        transaction = _answer_mfa(
            client, variant, transaction, credentials, clock=clock, sleep=sleep
        )
    status = transaction.get("status")
    if status != "SUCCESS":
        raise _authn_status_error(str(status), transaction, variant.user)
    token = RedactedStr(transaction.get("sessionToken") or "")
    if not token:
        raise UnexpectedResponse(
            "Okta's /api/v1/authn said SUCCESS without a sessionToken.",
            "a proxy may have altered the answer; run again.",
        )
    embedded = transaction.get("_embedded")
    user = embedded.get("user") if isinstance(embedded, Mapping) else None
    return token, dict(user) if isinstance(user, Mapping) else {}


def _factors(transaction: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    embedded = transaction.get("_embedded")
    if not isinstance(embedded, Mapping):
        return []
    # Okta's reference shows the list under "factor"; real answers use "factors" (facts §1.2).
    found = embedded.get("factors", embedded.get("factor"))
    if isinstance(found, Mapping):
        found = [found]
    return [f for f in found or () if isinstance(f, Mapping)]


def _answer_mfa(
    client: OktaClient,
    variant: Variant,
    transaction: SecretDict,
    credentials: Credentials,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> SecretDict:
    factors = _factors(transaction)
    kinds = ", ".join(sorted({str(f.get("factorType")) for f in factors})) or "none listed"
    totp = [f for f in factors if f.get("factorType") == _TOTP_FACTOR]
    if not totp:
        raise MfaRequired(
            f"Okta asks user {variant.user} for a second factor, but none is TOTP"
            f" (MFA_REQUIRED; enrolled: {kinds}).",
            "enrol the user in Google Authenticator or Okta Verify (TOTP) and put its secret in"
            f" {TOTP_SECRET}; push, SMS and email cannot be answered headlessly.",
            code="MFA_REQUIRED",
        )
    if not credentials.totp_secret:
        raise MfaRequired(
            f"Okta asks user {variant.user} for a second factor (MFA_REQUIRED; enrolled: {kinds}).",
            f"set {TOTP_SECRET} to the user's TOTP factor secret (Google Authenticator or Okta"
            " Verify), or exempt the test user's group from MFA in the sign-on policy.",
            code="MFA_REQUIRED",
        )
    factor = totp[0]
    links = factor.get("_links")
    verify = links.get("verify") if isinstance(links, Mapping) else None
    href = verify.get("href") if isinstance(verify, Mapping) else None
    target = str(href or factor.get("id") or "")
    state_token = RedactedStr(str(transaction.get("stateToken") or ""))
    try:
        return client.verify_factor(
            target, state_token, totp_code(credentials.totp_secret, clock())
        )
    except InvalidPasscode as error:
        if error.code != "E0000082":
            raise
    # Another sign-in of this user used this step's code: the next step's code is fresh.
    sleep(_TOTP_STEP - clock() % _TOTP_STEP + 1)
    return client.verify_factor(target, state_token, totp_code(credentials.totp_secret, clock()))


def _authn_status_error(
    status: str, transaction: Mapping[str, Any], user: str
) -> AuthenticationError:
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
        factors = ", ".join(sorted({str(f.get("factorType")) for f in _factors(transaction)}))
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


# --- /authorize (+ /token for code flows) ---------------------------------------------------------


def _browser_flow(
    client: OktaClient,
    variant: Variant,
    auth: ClientAuth,
    session_token: RedactedStr,
    user: dict[str, Any],
    *,
    clock: Callable[[], float],
    response_mode: str | None,
) -> TokenSet:
    flow = variant.flow
    assert variant.redirect_uri is not None  # checked in _check
    state = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(16)
    scope = " ".join(variant.scopes)
    if flow == "implicit":
        response_type = "id_token token" if "openid" in variant.scopes else "token"
        mode = response_mode or "fragment"
    else:
        response_type = "code"
        mode = response_mode or "query"
    params = SecretDict(
        client_id=variant.client_id,
        response_type=response_type,
        response_mode=mode,
        scope=scope,
        redirect_uri=variant.redirect_uri,
        state=state,
        nonce=nonce,
        prompt="none",
        sessionToken=session_token,
    )
    verifier: RedactedStr | None = None
    if flow == "pkce":
        verifier, challenge = pkce_pair()
        params.update(code_challenge=challenge, code_challenge_method="S256")
    started = clock()
    result = client.authorize(
        endpoint(variant.issuer, "authorize"), params, flow=flow, user=variant.user
    )
    answer = result.params
    if "error" in answer and answer.get("state") != state:
        # Facts 2.3: Okta echoes state on the errors it redirects (those it cannot redirect are
        # its HTML error page, raised by the client). An error without our state may answer
        # another sign-in, or none: it is not taken as Okta's verdict on this one.
        raise StateMismatch(
            "Okta's /authorize answered an error without the state we sent (Okta echoes it on"
            " error redirects).",
            "the answer belongs to another sign-in or was made up (a caching or rewriting"
            " proxy?); run again.",
        )
    if "error" in answer:
        raise oauth_error(
            str(answer.get("error")),
            str(answer.get("error_description") or ""),
            status=None,
            endpoint="/authorize",
            flow=flow,
            client_id=variant.client_id,
            redirect_uri=variant.redirect_uri,
            user=variant.user,
        )
    if answer.get("state") != state:
        raise StateMismatch(
            "The state that Okta's /authorize sent back is not the one we sent.",
            "the answer belongs to another sign-in (a caching or rewriting proxy?); run again.",
        )
    if flow == "implicit":
        return _token_set(
            client, variant, answer, started=started, clock=clock, user=user, nonce=nonce
        )
    code = RedactedStr(answer.get("code") or "")
    if not code:
        raise UnexpectedResponse(
            f"Okta's /authorize answered ({result.mode}) without a code.",
            "a proxy may have altered the answer; run again.",
        )
    started = clock()
    body = client.token(
        endpoint(variant.issuer, "token"),
        _code_form(code, variant.redirect_uri, verifier),
        auth,
        flow=flow,
        user=variant.user,
        redirect_uri=variant.redirect_uri,
    )
    return _token_set(client, variant, body, started=started, clock=clock, user=user, nonce=nonce)


# --- /token ---------------------------------------------------------------------------------------
# Forms are built in small helpers so no caller's frame holds a bare secret in a local variable.


def _code_form(code: RedactedStr, redirect_uri: str, verifier: RedactedStr | None) -> SecretDict:
    form = SecretDict(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
    if verifier is not None:
        form["code_verifier"] = verifier
    return form


def _password_form(variant: Variant, credentials: Credentials) -> SecretDict:
    return SecretDict(
        grant_type="password",
        username=variant.user or "",
        password=credentials.password or "",
        scope=" ".join(variant.scopes),
    )


def _client_credentials_form(variant: Variant) -> SecretDict:
    return SecretDict(grant_type="client_credentials", scope=" ".join(variant.scopes))


def _refresh_form(tokens: TokenSet) -> SecretDict:
    return SecretDict(
        grant_type="refresh_token", refresh_token=RedactedStr(tokens.refresh_token or "")
    )


def _token_grant(
    client: OktaClient,
    variant: Variant,
    auth: ClientAuth,
    form: SecretDict,
    *,
    clock: Callable[[], float],
    user: dict[str, Any] | None,
) -> TokenSet:
    started = clock()
    body = client.token(
        endpoint(variant.issuer, "token"), form, auth, flow=variant.flow, user=variant.user
    )
    return _token_set(client, variant, body, started=started, clock=clock, user=user, nonce=None)


def _token_set(
    client: OktaClient,
    variant: Variant,
    body: Mapping[str, Any],
    *,
    started: float,
    clock: Callable[[], float],
    user: dict[str, Any] | None,
    nonce: str | None,
    previous: TokenSet | None = None,
) -> TokenSet:
    """A TokenSet from a token answer (JSON, fragment or form_post), with its tokens verified."""
    access_token = RedactedStr(body.get("access_token") or "")
    if not access_token:
        raise UnexpectedResponse(
            f"Okta answered the {variant.flow} flow without an access token.",
            f"check {SCOPES} and the app's grant types.",
        )
    try:
        expires_in = float(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        expires_in = 3600.0
    scope = body.get("scope")
    scopes = tuple(str(scope).split()) if scope else variant.scopes
    keys = KeySet(lambda: client.keys(endpoint(variant.issuer, "keys")))
    id_token: RedactedStr | None = RedactedStr(body["id_token"]) if body.get("id_token") else None
    id_claims: dict[str, Any] = {}
    if id_token:
        id_claims = verify_id_token(
            id_token,
            issuer=variant.issuer.rstrip("/"),
            client_id=variant.client_id,
            keys=keys,
            clock=clock,
            nonce=nonce,
            # The ID token must name the access token it came with (at_hash). The client never asks
            # for a hybrid answer (code with an ID token), so there is no c_hash to check here.
            access_token=access_token,
        )
    access_claims = verify_access_token(
        access_token, issuer=variant.issuer.rstrip("/"), keys=keys, clock=clock
    )
    if user is None:
        # The password grant has no authn answer: who signed in comes from the tokens.
        login = id_claims.get("preferred_username") or access_claims.get("sub") or variant.user
        uid = access_claims.get("uid") or id_claims.get("sub")
        user = {"id": uid, "profile": {"login": login}} if uid else {"profile": {"login": login}}
    refresh_token = RedactedStr(
        body.get("refresh_token") or (previous.refresh_token if previous else None) or ""
    )
    if previous is not None and not id_token and previous.id_token:
        id_token, id_claims = RedactedStr(previous.id_token), dict(previous.id_claims)
    return TokenSet(
        access_token=str(access_token),
        token_type=str(body.get("token_type") or "Bearer"),
        expires_at=started + expires_in,
        scopes=scopes,
        id_token=None if id_token is None else str(id_token),
        refresh_token=str(refresh_token) if refresh_token else None,
        access_claims=access_claims,
        id_claims=id_claims,
        obtained_at=started,
        user=user,
    )
