"""The recipes that turn a user's password into tokens without a browser.

Browser flows (code, pkce, implicit): ``POST /api/v1/authn`` (answering MFA with a TOTP code)
gives a one-time sessionToken; ``GET /authorize`` with ``prompt=none`` and that sessionToken
answers with a code or tokens; code flows then redeem the code at ``/token``. The password and
client_credentials flows go to ``/token`` directly. Every recipe then fetches the issuer's keys
when its tokens need them and hands them to ``verify``.

What each flow needs (a user, a client secret, a redirect URI, which response modes) is read from
the flow table (``options.FLOW_TABLE``) and checked before any request. The recipe calls the
client once per Okta request, with the URL the variant carries; what an answer means is
``diagnosis``'s. No pytest here: usable from a script.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pyotp
import requests

from . import diagnosis
from .client import (
    CLIENT_AUTH_METHODS,
    AuthorizeResult,
    ClientAuth,
    HttpOptions,
    OktaClient,
    forget_connections,
)
from .diagnosis import CLIENT_SECRET, FLOW, PASSWORD, REDIRECT_URI, SCOPES, TOTP_SECRET, USER
from .errors import (
    ConfigurationError,
    InvalidPasscode,
    LoginRequired,
    OktaUserError,
    RateLimitRestart,
)
from .options import FLOW_TABLE, FLOWS
from .redact import Concealed, Credentials, RedactedStr, SecretDict
from .sessions import TOTP_STEP, OktaSession, SessionStore, UserKey
from .tokens import TokenSet, Variant
from .verify import KeySet, forget_keys, signing_kid, verify_access_token, verify_id_token

__all__ = [
    "ExchangeParts",
    "browser_session",
    "exchange",
    "forget_process_state",
    "pkce_pair",
    "refresh",
]

_SECRET_METHODS = tuple(m for m in CLIENT_AUTH_METHODS if m != "none")
_TOTP_FACTOR = "token:software:totp"


@dataclasses.dataclass(frozen=True, repr=False)
class ExchangeParts:
    """What the steps of one exchange share, handed whole from step to step (here and in
    ``oie``): the client on the variant's org, the variant, its secrets and client
    authentication, the users' Okta sessions and the clock; for the browser flows the response
    mode asked for (None: the flow's own) and ``password_later`` (see :func:`exchange`)."""

    client: OktaClient
    variant: Variant
    credentials: Credentials
    auth: ClientAuth
    sessions: SessionStore
    clock: Callable[[], float]
    response_mode: str | None = None
    password_later: Callable[[], None] | None = None

    def __repr__(self) -> str:
        # What a traceback's locals show: the variant, never the secrets it carries.
        return f"ExchangeParts({self.variant.describe()})"

    def as_flow(self, flow: str) -> ExchangeParts:
        """The same exchange as another flow (``auto`` and IDX take the sessionToken path as
        pkce or code)."""
        return dataclasses.replace(self, variant=dataclasses.replace(self.variant, flow=flow))


def pkce_pair() -> tuple[RedactedStr, str]:
    """A PKCE ``code_verifier`` (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = RedactedStr(secrets.token_urlsafe(48))  # 64 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def totp_code(totp_secret: str, now: float) -> RedactedStr:
    """The RFC 6238 code of a base32 secret at ``now`` (pasted spaces and case are fine)."""
    normalised = Concealed("".join(totp_secret.split()).upper())
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
    sessions: SessionStore | None = None,
    password_later: Callable[[], None] | None = None,
) -> TokenSet:
    """Fresh tokens for ``variant``, by its flow.

    ``response_mode``: ``query`` (default for code flows), ``fragment`` (default for implicit) or
    ``form_post``. ``client_auth``: ``client_secret_basic`` (default with a secret) or
    ``client_secret_post``; clients without a secret are public (``none``).
    ``clock`` is "now" for expiry and token checks; ``sleep`` waits for rate limits and TOTP steps.
    ``sessions``: the users' Okta sessions and sign-in rules, shared by the variants (None: this
    variant signs its user in on its own). ``password_later`` (code, pkce, implicit): the password
    is unset, and the user's Okta session may serve without it; called (to raise) only if the
    user has to sign in after all.
    """
    _check(variant, credentials, response_mode, client_auth, password_later=bool(password_later))
    store = sessions or SessionStore(None, clock=clock, sleep=sleep, reuse=False)
    auth = _client_auth(variant, credentials, client_auth)
    store.exchange_started()
    with OktaClient(
        variant.org_url, http=http, session=session, sleep=sleep, clock=clock
    ) as client:
        parts = ExchangeParts(
            client, variant, credentials, auth, store, clock, response_mode, password_later
        )
        while True:
            try:
                tokens = _exchange_once(parts)
                store.exchange_done()
                return tokens
            except RateLimitRestart as limited:
                # A 429 answered a request that carried a sessionToken, code, stateToken or
                # password: nothing is resent. Once the window resets, the sign-in starts over
                # from /api/v1/authn (a fresh sessionToken and code). Bounded: the client raises
                # RateLimited instead once the waits would exceed max_rate_limit_wait.
                client.wait_out(limited.wait)


def _exchange_once(parts: ExchangeParts) -> TokenSet:
    variant = parts.variant
    if variant.flow == "client_credentials":
        return _token_grant(parts, _client_credentials_form(variant), user={})
    if variant.flow == "password":
        return _token_grant(parts, _password_form(variant, parts.credentials), user=None)
    # Imported here: oie imports this module.
    from . import oie

    if variant.flow in oie.FLOWS:
        return oie.exchange(parts)
    try:
        return _browser_flow(parts)
    except LoginRequired as error:
        # On an Identity Engine org, "requires re-authentication or MFA" names the app's policy
        # and the two flows that get past it (one GET of /.well-known/okta-organization).
        raise oie.explain_login_required(parts.client, error) from None


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
        variant.org_url, http=http, session=session, sleep=sleep, clock=clock
    ) as client:
        started = clock()
        # A 429 here raises RateLimitRestart (a RateLimited) without sending the refresh token
        # again, even after the window: Okta may have processed the request it limited, and once
        # the rotation's grace period has passed a rotated token sent again is reuse, which
        # revokes the whole family. The provider then falls back to a full exchange (as on any
        # OktaUserError from a refresh), which waits for the window within its budget.
        body = client.token(
            variant.token_url,
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
    *,
    password_later: bool = False,
) -> None:
    """What the variant's flow needs (the flow table says), before any request (the password
    only when the sign-in comes, with ``password_later``)."""
    flow = variant.flow
    spec = FLOW_TABLE.get(flow)
    if spec is None:
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
    if spec.needs_client_secret and not credentials.client_secret:
        raise ConfigurationError(
            f"The {flow} flow needs the client secret of a confidential app.",
            f"set {CLIENT_SECRET} (Applications > your app > General > Client Credentials)"
            + (f", or use the pkce {FLOW} for a public app." if spec.uses_authorize else "."),
        )
    if not spec.signs_in_user:
        return
    if not variant.user:
        raise ConfigurationError(
            f"No user to sign in for the {flow} flow.",
            f"set {USER} to the user's Okta login.",
        )
    if not credentials.password and not password_later:
        raise ConfigurationError(
            f"No password for user {variant.user}.",
            f"set {PASSWORD} in the environment (never on the command line).",
        )
    if not spec.uses_authorize:
        return
    if not variant.redirect_uri:
        raise ConfigurationError(
            f"The {flow} flow needs a redirect URI.",
            f"set {REDIRECT_URI} to one of the app's Sign-in redirect URIs"
            " (Applications > your app > General).",
        )
    if response_mode is not None and response_mode not in spec.response_modes:
        raise ConfigurationError(
            f"The {flow} flow cannot use the {response_mode!r} response mode.",
            f"use one of {', '.join(spec.response_modes)}.",
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
    totp_step: Callable[[], int],
) -> tuple[RedactedStr, dict[str, Any]]:
    """The sessionToken and ``_embedded.user`` of a successful primary authentication (+ TOTP).

    ``totp_step``: the TOTP time step to answer with (``SessionStore.totp_step``: never one a
    sign-in of the user already used)."""
    # Both checked in _check.
    assert variant.user is not None
    assert credentials.password is not None
    transaction = client.authn(variant.user, credentials.password)
    if transaction.get("status") == "MFA_REQUIRED":
        transaction = _answer_mfa(client, variant, transaction, credentials, totp_step=totp_step)
    status = transaction.get("status")
    if status != "SUCCESS":
        raise diagnosis.authn_status_error(
            str(status), variant.user, _factor_types(_factors(transaction))
        )
    token = RedactedStr(transaction.get("sessionToken") or "")
    if not token:
        raise diagnosis.altered_answer("Okta's /api/v1/authn said SUCCESS without a sessionToken.")
    embedded = transaction.get("_embedded")
    user = embedded.get("user") if isinstance(embedded, Mapping) else None
    return token, dict(user) if isinstance(user, Mapping) else {}


def _factors(transaction: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    embedded = transaction.get("_embedded")
    if not isinstance(embedded, Mapping):
        return []
    # Okta's reference shows the list under "factor"; real answers use "factors"
    # (https://developer.okta.com/docs/reference/api/authn/#authentication-transaction-object).
    found = embedded.get("factors", embedded.get("factor"))
    if isinstance(found, Mapping):
        found = [found]
    return [f for f in found or () if isinstance(f, Mapping)]


def _factor_types(factors: list[Mapping[str, Any]]) -> list[str]:
    return [str(f.get("factorType")) for f in factors]


def _answer_mfa(
    client: OktaClient,
    variant: Variant,
    transaction: SecretDict,
    credentials: Credentials,
    *,
    totp_step: Callable[[], int],
) -> SecretDict:
    factors = _factors(transaction)
    totp = [f for f in factors if f.get("factorType") == _TOTP_FACTOR]
    if not totp or not credentials.totp_secret:
        raise diagnosis.mfa_unanswerable(variant.user, _factor_types(factors), has_totp=bool(totp))
    factor = totp[0]
    links = factor.get("_links")
    verify = links.get("verify") if isinstance(links, Mapping) else None
    href = verify.get("href") if isinstance(verify, Mapping) else None
    target = str(href or factor.get("id") or "")
    state_token = RedactedStr(str(transaction.get("stateToken") or ""))
    secret = credentials.totp_secret
    try:
        return client.verify_factor(target, state_token, totp_code(secret, totp_step() * TOTP_STEP))
    except InvalidPasscode as error:
        if error.code != "E0000082":
            raise
    # Something outside this run (another tool, a person) used this step's code: the next step's
    # code is fresh (totp_step waits for it, since this one is now recorded as used).
    return client.verify_factor(target, state_token, totp_code(secret, totp_step() * TOTP_STEP))


# --- /authorize (+ /token for code flows) ---------------------------------------------------------


class AuthorizeRequest(NamedTuple):
    """What ``/authorize`` is asked (``params``), and what its answer is checked against."""

    params: SecretDict
    state: str
    nonce: str
    verifier: RedactedStr | None
    """The PKCE code verifier (``pkce`` only), for the code's redemption at /token."""


def authorize_request(
    variant: Variant, *, response_mode: str | None, session_token: RedactedStr | None = None
) -> AuthorizeRequest:
    """The ``/authorize`` request of ``variant``'s flow with ``prompt=none``: with a
    ``session_token``, the sign-in's; without one, a probe that an app Okta accepts answers with
    ``login_required`` (``okta-user check``)."""
    assert variant.redirect_uri is not None  # checked in _check / build_variant
    state = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(16)
    if variant.flow == "implicit":
        response_type = "id_token token" if "openid" in variant.scopes else "token"
    else:
        response_type = "code"
    # The flow's first response mode is its default (query for code flows, fragment for implicit).
    mode = response_mode or FLOW_TABLE[variant.flow].response_modes[0]
    params = SecretDict(
        client_id=variant.client_id,
        response_type=response_type,
        response_mode=mode,
        scope=" ".join(variant.scopes),
        redirect_uri=variant.redirect_uri,
        state=state,
        nonce=nonce,
        prompt="none",
    )
    if session_token is not None:
        params["sessionToken"] = session_token
    verifier: RedactedStr | None = None
    if variant.flow == "pkce":
        verifier, challenge = pkce_pair()
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return AuthorizeRequest(params, state, nonce, verifier)


def _browser_flow(parts: ExchangeParts) -> TokenSet:
    started = parts.clock()
    asked, result, user = _authorize_as_user(parts)
    return _redeemed(parts, asked, result, user, started=started)


def tokens_from_session(parts: ExchangeParts) -> TokenSet | None:
    """Tokens for ``variant`` (a pkce or code flow) from its user's existing Okta session alone,
    or None when there is none, Okta has ended it, or this app's policy wants more than it
    proved: the caller then signs in its own way (an IDX sign-in, whose session serves the next
    variant)."""
    sessions = parts.sessions
    assert parts.variant.user is not None
    known = sessions.current(UserKey.of(parts.variant))
    if known is None:
        return None
    started = parts.clock()
    outcome = _authorize_with_session(parts, known)
    if outcome is None:
        sessions.ended(known)
        return None
    asked, result, user = outcome
    if "error" in result.params:
        return None
    sessions.reused()
    return _redeemed(parts, asked, result, user, started=started)


def _redeemed(
    parts: ExchangeParts,
    asked: AuthorizeRequest,
    result: AuthorizeResult,
    user: dict[str, Any],
    *,
    started: float,
) -> TokenSet:
    """The tokens of an ``/authorize`` answer: its own (implicit), or its code's at /token."""
    client, variant, clock = parts.client, parts.variant, parts.clock
    flow = variant.flow
    assert variant.redirect_uri is not None  # checked in _check
    _params, state, nonce, verifier = asked
    answer = result.params
    if "error" in answer and answer.get("state") != state:
        raise diagnosis.state_mismatch(with_error=True)
    if "error" in answer:
        raise diagnosis.oauth_error(
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
        raise diagnosis.state_mismatch(with_error=False)
    if flow == "implicit":
        return _token_set(
            client, variant, answer, started=started, clock=clock, user=user, nonce=nonce
        )
    code = RedactedStr(answer.get("code") or "")
    if not code:
        raise diagnosis.altered_answer(
            f"Okta's /authorize answered ({result.mode}) without a code."
        )
    started = clock()
    body = client.token(
        variant.token_url,
        _code_form(code, variant.redirect_uri, verifier),
        parts.auth,
        flow=flow,
        user=variant.user,
        redirect_uri=variant.redirect_uri,
    )
    return _token_set(client, variant, body, started=started, clock=clock, user=user, nonce=nonce)


def _authorize_as_user(
    parts: ExchangeParts,
) -> tuple[AuthorizeRequest, AuthorizeResult, dict[str, Any]]:
    """``/authorize`` for ``variant`` as its user, signing the user in only when no Okta session
    of theirs serves: the request, Okta's answer and who the user is (``_embedded.user``).

    The user's session (the ``sid`` cookie the first sign-in's ``/authorize`` set) answers with
    ``prompt=none`` for any app, flow and scopes. When Okta says ``login_required`` the session
    has ended: the user signs in once more, under the user's lock, so that one process signs in
    and the others use the session it stores.
    """
    client, variant, sessions = parts.client, parts.variant, parts.sessions
    assert variant.user is not None  # checked in _check
    user = UserKey.of(variant)
    sessions.raise_if_refused(user)
    known = sessions.current(user)
    if known is not None:
        outcome = _authorize_with_session(parts, known)
        if outcome is not None:
            sessions.reused()
            return outcome
        sessions.ended(known)
    with sessions.signing_in(user, known) as newer:
        if newer is not None:
            outcome = _authorize_with_session(parts, newer)
            if outcome is not None:
                sessions.reused()
                return outcome
            sessions.ended(newer)
        if parts.password_later is not None:
            parts.password_later()  # the session did not serve: the sign-in needs the password
        try:
            session_token, info = _sign_in(
                client,
                variant,
                parts.credentials,
                totp_step=lambda: sessions.totp_step(user, user.login),
            )
        except OktaUserError as exc:
            sessions.refused(user, exc)
            raise
        asked = authorize_request(
            variant, response_mode=parts.response_mode, session_token=session_token
        )
        result = client.authorize(
            variant.authorize_url, asked.params, flow=variant.flow, user=variant.user
        )
        if result.cookies and "error" not in result.params:
            sessions.started(OktaSession(user, result.cookies, parts.clock(), info))
        else:
            sessions.signed_in_without_session(user)
        return asked, result, info


def _authorize_with_session(
    parts: ExchangeParts, session: OktaSession
) -> tuple[AuthorizeRequest, AuthorizeResult, dict[str, Any]] | None:
    """``/authorize`` with the user's Okta session; None when Okta no longer knows it."""
    variant = parts.variant
    asked = authorize_request(variant, response_mode=parts.response_mode)
    result = parts.client.authorize(
        variant.authorize_url,
        asked.params,
        flow=variant.flow,
        user=variant.user,
        cookies=session.cookie_header(),
    )
    answer = result.params
    if answer.get("error") == "login_required" and answer.get("state") == asked.state:
        return None
    return asked, result, dict(session.user_info)


def browser_session(
    variant: Variant,
    credentials: Credentials,
    sessions: SessionStore,
    *,
    http: HttpOptions | None = None,
    clock: Callable[[], float] = time.time,
    password_later: Callable[[], None] | None = None,
) -> OktaSession:
    """The Okta session of ``variant``'s user, for a browser: the one the user's sign-in started
    when Okta still knows it, else a new one from a fresh sessionToken through
    ``/login/sessionCookieRedirect`` (one sign-in per user for every process, as for tokens).
    ``password_later``: the password is not needed unless the stored session does not serve;
    called (and raising when it is missing) just before the sign-in."""
    if not FLOW_TABLE[variant.flow].signs_in_user or variant.user is None:
        raise ConfigurationError(
            f"The {variant.flow} flow signs no user in, so it has no browser session.",
            f"give the test a flow that signs a user in (the okta marker's flow=, or {FLOW}).",
        )
    _check(variant, credentials, None, None, password_later=password_later is not None)
    user = UserKey.of(variant)
    sessions.raise_if_refused(user)
    with OktaClient(variant.org_url, http=http, clock=clock) as client:
        known = sessions.current(user)
        if known is not None and _alive(client, sessions, known):
            return known
        with sessions.signing_in(user, known) as newer:
            if newer is not None and _alive(client, sessions, newer):
                return newer
            if password_later is not None:
                password_later()  # no session serves: the sign-in needs the password
            try:
                session_token, info = _sign_in(
                    client,
                    variant,
                    credentials,
                    totp_step=lambda: sessions.totp_step(user, user.login),
                )
            except OktaUserError as exc:
                sessions.refused(user, exc)
                raise
            # The org's own URL needs no Trusted Origin: the browser lands on Okta, signed in.
            cookies = client.session_cookie_redirect(session_token, f"{variant.org_url}/")
            session = OktaSession(user, cookies, clock(), info)
            sessions.started(session, for_browser=True)
            return session


def _alive(client: OktaClient, sessions: SessionStore, session: OktaSession) -> bool:
    """Whether to hand ``session`` to a browser: one this run started, or one Okta still knows
    (``/api/v1/sessions/me``; an org that does not say gets the benefit of the doubt)."""
    if sessions.started_this_run(session):
        return True
    return client.session_alive(session.cookie_header()) is not False


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
    parts: ExchangeParts, form: SecretDict, *, user: dict[str, Any] | None
) -> TokenSet:
    client, variant = parts.client, parts.variant
    started = parts.clock()
    body = client.token(variant.token_url, form, parts.auth, flow=variant.flow, user=variant.user)
    return _token_set(
        client, variant, body, started=started, clock=parts.clock, user=user, nonce=None
    )


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
        raise diagnosis.no_access_token(variant.flow)
    try:
        expires_in = float(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        expires_in = 3600.0
    scope = body.get("scope")
    scopes = tuple(str(scope).split()) if scope else variant.scopes
    issuer = variant.issuer.rstrip("/")
    # The keys this process already read for the issuer; refetched (once) for an unknown kid.
    keys = KeySet.for_issuer(variant.keys_url, now=clock())
    id_token: RedactedStr | None = RedactedStr(body["id_token"]) if body.get("id_token") else None
    id_claims: dict[str, Any] = {}
    if id_token:
        _fetch_keys_for(client, variant, keys, id_token, clock)
        id_claims = verify_id_token(
            id_token,
            issuer=issuer,
            client_id=variant.client_id,
            keys=keys,
            clock=clock,
            nonce=nonce,
            # The ID token must name the access token it came with (at_hash). The client never asks
            # for a hybrid answer (code with an ID token), so there is no c_hash to check here.
            access_token=access_token,
        )
    if not variant.is_org_server:
        _fetch_keys_for(client, variant, keys, access_token, clock)
    access_claims = verify_access_token(
        access_token, issuer=issuer, keys=keys, clock=clock, org_server=variant.is_org_server
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


def _fetch_keys_for(
    client: OktaClient, variant: Variant, keys: KeySet, token: str, clock: Callable[[], float]
) -> None:
    """Fetch the issuer's JWKS into ``keys`` if ``token`` is signed with a key they lack: on first
    use in this process (or once the last fetch's Cache-Control lifetime is over), and once more
    for an unknown ``kid`` (a rotation). A sign-in whose tokens need no key (the org server's
    opaque access token alone, or keys already held) fetches nothing."""
    if keys.wants(signing_kid(token)):
        started = clock()
        jwks, lifetime = client.keys_with_lifetime(variant.keys_url)
        keys.load(jwks, fresh_until=started + lifetime)


def forget_process_state() -> None:
    """Forget the issuers' keys and close this thread's kept connections: the state a new
    process starts without (for benchmarks and tests that measure or need a cold start)."""
    forget_keys()
    forget_connections()
