"""Okta Identity Engine sign-ins without a browser: Direct Authentication, the Interaction Code
flow (IDX), and ``auto``, which takes the first path the app allows.

On an Identity Engine org ("pipeline": "idx" in ``/.well-known/okta-organization``) the Classic
sessionToken proves only what the global session policy asks (the password); the app's
authentication policy is checked at ``/authorize``, which answers ``login_required`` when that
policy wants a second factor (okta/okta-auth-js#1454; facts sheet 8.1). Okta documents two
browserless ways past it (facts sheet 8.2 and 8.3, research note Q2 and Q3):

* ``direct``: Direct Authentication. ``POST /token`` with ``grant_type=password``; when the policy
  wants more, Okta answers HTTP 403 ``mfa_required`` with an ``mfa_token``, and
  ``grant_type=http://auth0.com/oauth/grant-type/mfa-otp`` with a TOTP code (``otp``) and the
  ``mfa_token`` gives the tokens (https://developer.okta.com/docs/guides/configure-direct-auth-grants/bmfaotp/main/).
  Two requests, no cookies; no Okta session is started.
* ``interaction_code``: ``POST /v1/interact`` (PKCE, state) gives an interaction handle;
  ``/idp/idx/introspect`` the first IDX state; each state offers remediation forms (``identify``,
  ``select-authenticator-authenticate``, ``challenge-authenticator``...), answered by name and
  field names and posted to the form's own ``href``, until the state holds
  ``successWithInteractionCode``, whose ``interaction_code`` ``/token`` redeems with the PKCE
  verifier (https://developer.okta.com/docs/concepts/interaction-code/; okta-auth-js
  ``lib/idx/``). IDX errors are states with ``messages`` (``class: ERROR``, an ``i18n`` key):
  ``diagnosis.idx_error`` turns each into one error with its fix.

``auto`` tries the Classic path (pkce, or code with a client secret), then ``interaction_code``
(whose Okta session serves the user's other variants), then ``direct``; only the Classic path on a
Classic org. A refused password or code stops it
at once (the password is never sent again after a refusal); "not enabled" and "policy not
satisfied" answers move it on. The path that worked is remembered per issuer and client in the
token cache folder, so the next run goes there first, and reported (:func:`auto_picks`).

Every path goes through the users' sign-in rules (``sessions.SessionStore``): the user's lock, the
recorded refusal, and a TOTP time step no other sign-in of the user used. No pytest here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from . import diagnosis, flows
from .client import IDX_MEDIA_TYPE, OktaClient
from .diagnosis import MFA_OTP_GRANT
from .errors import (
    AccessDenied,
    AuthenticationError,
    IdpRedirect,
    InvalidGrant,
    InvalidPasscode,
    LoginRequired,
    MfaRequired,
    OktaUserError,
    PasswordExpired,
    ResponseTypeNotEnabled,
    UnauthorizedClient,
    UnexpectedResponse,
)
from .flows import ExchangeParts
from .redact import Concealed, Credentials, RedactedStr, SecretDict
from .sessions import TOTP_STEP, OktaSession, SessionCookie, SessionStore, UserKey
from .tokens import TokenSet, Variant

__all__ = [
    "FLOWS",
    "PATHS",
    "AutoChoices",
    "auto_picks",
    "direct",
    "exchange",
    "explain_login_required",
    "interaction_code",
    "pipeline",
]

#: The flows this module signs in for (``options.FLOW_TABLE`` rows).
FLOWS = ("direct", "interaction_code", "auto")
#: What ``auto`` tries, in order (``classic``: the sessionToken path of pkce or code). Where both
#: work, the Interaction Code flow comes before Direct Authentication: the Okta session it starts
#: serves the user's other variants, where ``direct`` asks for a password and a TOTP code for each.
PATHS = ("classic", "interaction_code", "direct")

#: A fresh TOTP code of the user (never one of a time step another sign-in used).
TotpCode = Callable[[], RedactedStr]

#: IDX authenticators answered with a TOTP code (okta-signin-widget playground mocks
#: ``authenticator-verification-google-authenticator.json``, ``...-okta-verify-totp.json``).
_TOTP_KEYS = ("google_otp", "okta_verify")
_TOTP_METHODS = ("otp", "totp")
_PASSWORD_KEY = "okta_password"
#: More IDX round trips than any sign-in this client can finish needs (identify, select,
#: challenge, answer, a skip, a repeated code): a loop ends here, not in a rate limit.
_MAX_STEPS = 10
#: Remediations that ask for an enrolment, a push or another IdP: none a test run can answer.
_ENROLL_STEPS = ("select-authenticator-enroll", "enroll-authenticator", "enroll-profile")
_POLL_STEPS = ("challenge-poll", "enroll-poll", "poll")


class AutoChoices(Protocol):
    """Where ``auto`` remembers which path worked (``cache.TokenCache`` is one)."""

    def load_auto_choice(self, issuer: str, client_id: str) -> str | None: ...

    def store_auto_choice(self, issuer: str, client_id: str, path: str, reason: str) -> None: ...


# --- entry point (flows._exchange_once) ----------------------------------------------------------


def exchange(parts: ExchangeParts) -> TokenSet:
    """Tokens for a ``direct``, ``interaction_code`` or ``auto`` variant (checked by
    ``flows._check``: a user and a password; a redirect URI for the last two)."""
    variant = parts.variant
    assert variant.user is not None
    user = UserKey.of(variant)
    totp = _totp_of(parts.credentials, parts.sessions, user)
    if variant.flow == "auto":
        return auto(parts, totp=totp)
    if variant.flow == "interaction_code":
        reused = _from_session(parts)
        if reused is not None:
            return reused
    return _as_user(parts, user, lambda: _run(variant.flow, parts, totp=totp))


def _from_session(parts: ExchangeParts) -> TokenSet | None:
    """Tokens from the Okta session an earlier sign-in of the user started (an IDX sign-in's
    proves both factors), through ``/authorize?prompt=none`` as the pkce or code flow; None when
    there is none or this app's policy wants more."""
    return flows.tokens_from_session(_as_code_flow(parts))


def _as_code_flow(parts: ExchangeParts) -> ExchangeParts:
    """The exchange as the sessionToken path takes it: pkce for a public client, code with a
    client secret."""
    return parts.as_flow("pkce" if parts.auth.method == "none" else "code")


def _run(path: str, parts: ExchangeParts, *, totp: TotpCode | None) -> SignedIn:
    if path == "direct":
        return direct(parts, totp=totp), ()
    return _interaction_code(parts, totp=totp)


#: A path's tokens, and the cookies of the Okta session it started (IDX; none for Direct
#: Authentication, which starts none: research note 1.3).
SignedIn = tuple[TokenSet, tuple[SessionCookie, ...]]


def _as_user(parts: ExchangeParts, user: UserKey, sign_in: Callable[[], SignedIn]) -> TokenSet:
    """``sign_in`` under the user's sign-in rules: one at a time for the user in every process, a
    refusal recorded for the user (and raised to later variants without asking Okta again). The
    Okta session an IDX sign-in starts serves the user's other variants (``/authorize`` with
    ``prompt=none``, each app by its own policy), as the Classic path's does."""
    sessions = parts.sessions
    sessions.raise_if_refused(user)
    with sessions.signing_in(user, None):
        try:
            tokens, cookies = sign_in()
        except OktaUserError as exc:
            if not isinstance(exc, MfaRequired):
                # A second factor this app's policy asks for and the run cannot give is the
                # app's matter: the user's other apps may ask for the password only.
                sessions.refused(user, exc)
            raise
        if cookies:
            sessions.started(OktaSession(user, cookies, parts.clock(), dict(tokens.user)))
        else:
            sessions.signed_in_without_session(user)
        return tokens


def _totp_of(credentials: Credentials, sessions: SessionStore, user: UserKey) -> TotpCode | None:
    secret = credentials.totp_secret
    if not secret:
        return None

    def code() -> RedactedStr:
        # totp_step: the current step, or the next one when a sign-in of the user used it
        # (waiting for it): Okta refuses a code used once.
        return flows.totp_code(secret, sessions.totp_step(user, user.login) * TOTP_STEP)

    return code


# --- Direct Authentication ------------------------------------------------------------------------


def direct(parts: ExchangeParts, *, totp: TotpCode | None) -> TokenSet:
    """Direct Authentication: the password grant, then (on ``mfa_required``) the MFA OTP grant
    with a TOTP code. DD@468de9c ``docs/guides/configure-direct-auth-grants/main/bmfaotp/
    use-flow.md``; errors from Okta's catalogue (research note 2.4)."""
    client, variant, auth, clock = parts.client, parts.variant, parts.auth, parts.clock
    started = clock()
    body = client.token(
        variant.token_url,
        flows._password_form(variant, parts.credentials),
        auth,
        flow="direct",
        user=variant.user,
        mfa_required_answers=True,
    )
    if body.get("error") == "mfa_required":
        mfa_token = RedactedStr(str(body.get("mfa_token") or ""))
        if not mfa_token:
            raise diagnosis.altered_answer(
                "Okta's /token answered mfa_required without an mfa_token.", status=403
            )
        # okta-mobile-swift's mock (token-mfa_required.json) lists what the second step may be.
        offered = str(body.get("supported_challenge_types") or "")
        if offered and MFA_OTP_GRANT not in offered.split():
            raise diagnosis.direct_no_otp_challenge(variant.user, offered)
        if totp is None:
            raise diagnosis.direct_mfa_without_secret(
                variant.user, str(body.get("error_description") or "") or None
            )
        form = _mfa_otp_form(variant, mfa_token, totp())
        started = clock()  # after any wait for a fresh TOTP step
        try:
            body = client.token(
                variant.token_url,
                form,
                auth,
                flow="direct",
                user=variant.user,
            )
        except InvalidPasscode as refused:
            # Okta's catalogue has no text for a code used once already on this grant: a code
            # another sign-in used (another tool, a run a moment ago) reads as incorrect. The
            # next time step's code (totp waits for it) tells the two apart, without sending the
            # password again; a second refusal is the secret's.
            form = _mfa_otp_form(variant, mfa_token, totp())
            started = clock()
            try:
                body = client.token(
                    variant.token_url,
                    form,
                    auth,
                    flow="direct",
                    user=variant.user,
                )
            except InvalidPasscode:
                raise
            except OktaUserError:
                raise refused from None
    return flows._token_set(
        client, variant, body, started=started, clock=clock, user=None, nonce=None
    )


def _mfa_otp_form(variant: Variant, mfa_token: RedactedStr, otp: RedactedStr) -> SecretDict:
    return SecretDict(
        grant_type=MFA_OTP_GRANT, otp=otp, mfa_token=mfa_token, scope=" ".join(variant.scopes)
    )


# --- Interaction Code (IDX) -----------------------------------------------------------------------


def interact_url(variant: Variant) -> str:
    """``{issuer}/v1/interact`` (the org server's: ``{org}/oauth2/v1/interact``), beside /token."""
    return variant.token_url.rsplit("/", 1)[0] + "/interact"


def interaction_code(parts: ExchangeParts, *, totp: TotpCode | None) -> TokenSet:
    """The Interaction Code flow: interact, introspect, the remediations, then /token with
    ``grant_type=interaction_code`` and the PKCE verifier (facts sheet 8.2)."""
    return _interaction_code(parts, totp=totp)[0]


def _interaction_code(parts: ExchangeParts, *, totp: TotpCode | None) -> SignedIn:
    client, variant, auth = parts.client, parts.variant, parts.auth
    assert variant.redirect_uri is not None  # flows._check
    verifier, challenge = flows.pkce_pair()
    nonce = secrets.token_urlsafe(16)
    answer = client.interact(
        interact_url(variant),
        SecretDict(
            scope=" ".join(variant.scopes),
            redirect_uri=variant.redirect_uri,
            code_challenge=challenge,
            code_challenge_method="S256",
            state=secrets.token_urlsafe(16),
            nonce=nonce,
        ),
        auth,
        user=variant.user,
    )
    handle = RedactedStr(str(answer.get("interaction_handle") or ""))
    if not handle:
        raise diagnosis.altered_answer(
            "Okta's /v1/interact answered without an interaction_handle."
        )
    walk = _Walk(client, variant, parts.credentials, totp)
    status, state = walk.post(
        f"{variant.org_url}/idp/idx/introspect",
        {"interactionHandle": handle},
        content_type=IDX_MEDIA_TYPE,
        endpoint="/idp/idx/introspect",
    )
    code, user = walk.run(status, state)
    started = parts.clock()
    body = client.token(
        variant.token_url,
        SecretDict(grant_type="interaction_code", interaction_code=code, code_verifier=verifier),
        auth,
        flow="interaction_code",
        user=variant.user,
    )
    tokens = flows._token_set(
        client, variant, body, started=started, clock=parts.clock, user=user, nonce=nonce
    )
    return tokens, tuple(walk.cookies.values())


@dataclasses.dataclass
class _Option:
    """One authenticator a ``select-authenticator-authenticate`` form offers."""

    key: str
    label: str
    fields: dict[str, Any]
    """What to send as ``authenticator`` (``id``, ``methodType``...)."""
    methods: tuple[str, ...]


class _Walk:
    """The remediations of one IDX transaction, answered by name until Okta issues the code."""

    def __init__(
        self,
        client: OktaClient,
        variant: Variant,
        credentials: Credentials,
        totp: TotpCode | None,
    ) -> None:
        self.client = client
        self.variant = variant
        self.credentials = credentials
        self.totp = totp
        self.identified = False
        self.password_sent = False
        self.codes_sent = 0
        self.cookies: dict[str, SessionCookie] = {}
        """What Okta set along the way (the session a finished sign-in starts), by name."""

    def post(
        self, href: str, body: Mapping[str, Any], *, content_type: str, endpoint: str
    ) -> tuple[int, SecretDict]:
        status, state, cookies = self.client.idx(
            href, body, content_type=content_type, endpoint=endpoint
        )
        for cookie in cookies:
            self.cookies[cookie.name] = cookie
        return status, state

    def run(self, status: int, state: SecretDict) -> tuple[RedactedStr, dict[str, Any] | None]:
        """The interaction code and who signed in (the state's ``user``), or the error."""
        step = "introspect"
        for _ in range(_MAX_STEPS):
            again = self._failed(status, state, step)
            success = state.get("successWithInteractionCode")
            if not again and isinstance(success, Mapping):
                return _interaction_code_of(success), _user_of(state, self.variant.user)
            forms = _forms(state)
            step, href, accepts, body = self._answer(forms, state, step)
            status, state = self.post(
                href, body, content_type=accepts, endpoint=f"/idp/idx ({step})"
            )
        raise UnexpectedResponse(
            f"Okta's Identity Engine did not finish the sign-in of user {self.variant.user} in"
            f" {_MAX_STEPS} steps.",
            "run again; if it persists, Reports > System Log shows what the policy asked for.",
        )

    def _failed(self, status: int, state: SecretDict, step: str) -> bool:
        """Raise the error ``state`` carries; True for a code used already, which the next
        answer replaces with the next step's code (once)."""
        messages = _messages(state)
        errors = [m for m in messages if m[2] == "ERROR"]
        if errors:
            if "used_passcode" in errors[0][0] and self.codes_sent == 1 and _forms(state):
                return True
            raise diagnosis.idx_error(errors, status=status, user=self.variant.user, step=step)
        if status >= 400:
            if "error" in state or "errorCode" in state:
                raise diagnosis.error_from_body(
                    state,
                    status=status,
                    endpoint=f"/idp/idx ({step})",
                    client_id=self.variant.client_id,
                    flow="interaction_code",
                    user=self.variant.user,
                )
            raise diagnosis.altered_answer(
                f"Okta's Identity Engine answered the {step} step with HTTP {status} and no"
                " message.",
                status=status,
            )
        return False

    def _answer(
        self, forms: dict[str, Mapping[str, Any]], state: SecretDict, previous: str
    ) -> tuple[str, str, str, dict[str, Any]]:
        """The next form to post: its name, href, media type and body."""
        user = self.variant.user
        if "identify" in forms:
            if self.identified:
                # Okta shows the identify form again, with an INFO message (idx.unknown.user).
                raise diagnosis.idx_error(
                    _messages(state) or [("", "the username was not accepted", "ERROR")],
                    status=200,
                    user=user,
                    step="identify",
                )
            form = forms["identify"]
            body = _fixed_values(form, state)
            body["identifier"] = user or ""
            if _field(form, "credentials") is not None:
                body["credentials"] = {"passcode": self._password()}
            self.identified = True
            return self._post("identify", form, body)
        if "challenge-authenticator" in forms:
            form = forms["challenge-authenticator"]
            key, label, methods = _current_authenticator(state)
            body = _fixed_values(form, state)
            if key == _PASSWORD_KEY or "password" in methods:
                body["credentials"] = {"passcode": self._password()}
            elif key in _TOTP_KEYS or any(m in _TOTP_METHODS for m in methods):
                body["credentials"] = {"passcode": self._code(label)}
            else:
                raise diagnosis.idx_unanswerable("challenge-authenticator", label, user)
            return self._post("challenge-authenticator", form, body)
        if "select-authenticator-authenticate" in forms:
            form = forms["select-authenticator-authenticate"]
            options = _options(form, state)
            chosen = self._choose(options)
            body = _fixed_values(form, state)
            body["authenticator"] = chosen.fields
            return self._post("select-authenticator-authenticate", form, body)
        if "reenroll-authenticator" in forms:
            raise PasswordExpired(
                f"Okta's Identity Engine says the password of user {user} has expired"
                " (reenroll-authenticator).",
                f"change it (sign in once in a browser) and update {diagnosis.PASSWORD}; a"
                " password policy without expiry suits test users.",
                code="reenroll-authenticator",
            )
        if "skip" in forms:
            # An optional enrolment offered after the sign-in: not now.
            return self._post("skip", forms["skip"], _fixed_values(forms["skip"], state))
        for name in forms:
            if name in _ENROLL_STEPS or name.startswith("select-enroll"):
                raise diagnosis.idx_unanswerable(name, _labels(forms[name]), user)
            if name in _POLL_STEPS:
                raise diagnosis.idx_unanswerable(name, "a push or an email link", user)
        if "redirect-idp" in forms:
            raise IdpRedirect(
                f"Okta's Identity Engine sends user {user} to another identity provider"
                " (redirect-idp) instead of asking for a password.",
                "route the test user to Okta in Security > Identity Providers > Routing Rules,"
                " or use a user Okta signs in itself.",
                code="redirect-idp",
            )
        raise UnexpectedResponse(
            f"Okta's Identity Engine answered the {previous} step of user {user} with no step a"
            f" test run can take (offered: {', '.join(forms) or 'nothing'}).",
            "Reports > System Log shows what the app's authentication policy asked for.",
        )

    def _post(
        self, name: str, form: Mapping[str, Any], body: dict[str, Any]
    ) -> tuple[str, str, str, dict[str, Any]]:
        href = str(form.get("href") or "")
        if not href:
            raise diagnosis.altered_answer(f"Okta's IDX form {name} has no href.")
        accepts = str(form.get("accepts") or "application/json; okta-version=1.0.0")
        return name, href, accepts, body

    def _password(self) -> Concealed:
        if self.password_sent:
            # Okta asking again means it refused the first one without saying so: never twice.
            raise AuthenticationError(
                f"Okta's Identity Engine asked for the password of user {self.variant.user} a"
                " second time.",
                f"check the password in {diagnosis.PASSWORD}; the account may be locked"
                " (Directory > People > the user). The password is not sent again in this run.",
                code="password",
            )
        self.password_sent = True
        return Concealed(self.credentials.password or "")

    def _code(self, label: str) -> RedactedStr:
        if self.totp is None:
            raise diagnosis.idx_without_totp_secret(self.variant.user, label or "a TOTP code")
        if self.codes_sent >= 2:
            raise InvalidPasscode(
                f"Okta's Identity Engine asked user {self.variant.user} for a TOTP code again"
                " after two.",
                f"check {diagnosis.TOTP_SECRET} and this machine's clock.",
                code="challenge-authenticator",
            )
        self.codes_sent += 1
        return self.totp()

    def _choose(self, options: list[_Option]) -> _Option:
        """The password first (when not sent yet), then a TOTP authenticator."""
        if not self.password_sent:
            for option in options:
                if option.key == _PASSWORD_KEY or "password" in option.methods:
                    return option
        for option in options:
            if option.key in _TOTP_KEYS or any(m in _TOTP_METHODS for m in option.methods):
                if self.totp is None:
                    raise diagnosis.idx_without_totp_secret(self.variant.user, option.label)
                return option
        labels = ", ".join(o.label for o in options)
        raise diagnosis.idx_unanswerable(
            "select-authenticator-authenticate", labels, self.variant.user
        )


# -- reading IDX states (shapes: facts sheet 8.2; okta-auth-js test/spec/idx/idxState/mocks) --


def _value_list(node: Any) -> list[Mapping[str, Any]]:
    """The items of an Ion collection (``{"type": "array", "value": [...]}``) or a plain list."""
    if isinstance(node, Mapping):
        node = node.get("value")
    return (
        [item for item in node or () if isinstance(item, Mapping)] if isinstance(node, list) else []
    )


def _forms(state: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    forms: dict[str, Mapping[str, Any]] = {}
    for form in _value_list(state.get("remediation")):
        name = form.get("name")
        if isinstance(name, str):
            forms.setdefault(name, form)
    return forms


def _field(form: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for field in _value_list(form.get("value")):
        if field.get("name") == name:
            return field
    return None


def _fixed_values(form: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """The values a form carries that the client must send back as they are (``stateHandle``)."""
    body: dict[str, Any] = {}
    for field in _value_list(form.get("value")):
        name = field.get("name")
        if isinstance(name, str) and "value" in field and field.get("mutable") is False:
            value = field["value"]
            body[name] = RedactedStr(value) if isinstance(value, str) else value
    if "stateHandle" not in body and state.get("stateHandle"):
        body["stateHandle"] = RedactedStr(str(state["stateHandle"]))
    return body


def _messages(state: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every message of the state, top level first, then those inside the remediation forms'
    fields (a wrong passcode's sits on ``credentials.passcode``): ``(i18n key, text, class)``."""
    found: list[tuple[str, str, str]] = []

    def visit(node: Any) -> Iterator[Mapping[str, Any]]:
        if isinstance(node, Mapping):
            messages = node.get("messages")
            yield from _value_list(messages)
            for key, child in node.items():
                if key != "messages":
                    yield from visit(child)
        elif isinstance(node, list):
            for child in node:
                yield from visit(child)

    for item in [*_value_list(state.get("messages")), *visit(state.get("remediation"))]:
        i18n = item.get("i18n")
        key = str(i18n.get("key") or "") if isinstance(i18n, Mapping) else ""
        found.append((key, str(item.get("message") or ""), str(item.get("class") or "ERROR")))
    return found


def _authenticators(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        *_value_list(state.get("authenticators")),
        *_value_list(state.get("authenticatorEnrollments")),
    ]


def _methods(authenticator: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(m.get("type") or m.get("methodType") or "")
        for m in authenticator.get("methods") or ()
        if isinstance(m, Mapping)
    )


def _current_authenticator(state: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    """The key, label and methods of the authenticator a ``challenge-authenticator`` is for."""
    for name in ("currentAuthenticatorEnrollment", "currentAuthenticator"):
        node = state.get(name)
        value = node.get("value") if isinstance(node, Mapping) else None
        if isinstance(value, Mapping):
            key = str(value.get("key") or "")
            label = str(value.get("displayName") or key)
            return key, label, _methods(value)
    return "", "", ()


def _resolve(state: Mapping[str, Any], path: Any) -> Mapping[str, Any] | None:
    """A ``relatesTo`` JSONPath such as ``$.authenticators.value[2]`` (the only form Okta uses)."""
    if isinstance(path, list):
        path = path[0] if path else None
    if not isinstance(path, str) or not path.startswith("$."):
        return None
    name, _, rest = path[2:].partition(".value[")
    items = _value_list(state.get(name))
    index = rest.rstrip("]")
    return items[int(index)] if index.isdigit() and int(index) < len(items) else None


def _options(form: Mapping[str, Any], state: Mapping[str, Any]) -> list[_Option]:
    field = _field(form, "authenticator") or {}
    options: list[_Option] = []
    for option in field.get("options") or ():
        if not isinstance(option, Mapping):
            continue
        value = option.get("value")
        inner = value.get("form") if isinstance(value, Mapping) else None
        fields: dict[str, Any] = {}
        method_choices: list[str] = []
        for item in _value_list(inner.get("value") if isinstance(inner, Mapping) else None):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if "value" in item:
                fields[name] = item["value"]
            elif name == "methodType":
                method_choices = [
                    str(o.get("value")) for o in item.get("options") or () if isinstance(o, Mapping)
                ]
        related = _resolve(state, option.get("relatesTo"))
        if related is None:
            related = next(
                (
                    a
                    for a in _authenticators(state)
                    if fields.get("id") in (a.get("id"), a.get("authenticatorId"))
                ),
                {},
            )
        methods = tuple(dict.fromkeys([*_methods(related), *method_choices]))
        if "methodType" in fields:
            methods = (str(fields["methodType"]), *methods)
        elif method_choices:
            # Okta Verify offers push and a code: the code is the one a test run can give.
            fields["methodType"] = next(
                (m for m in method_choices if m in _TOTP_METHODS), method_choices[0]
            )
        options.append(
            _Option(
                key=str(related.get("key") or ""),
                label=str(option.get("label") or related.get("displayName") or ""),
                fields=fields,
                methods=methods,
            )
        )
    return options


def _labels(form: Mapping[str, Any]) -> str:
    field = _field(form, "authenticator") or {}
    return ", ".join(
        str(o.get("label")) for o in field.get("options") or () if isinstance(o, Mapping)
    )


def _interaction_code_of(success: Mapping[str, Any]) -> RedactedStr:
    for field in _value_list(success.get("value")):
        if field.get("name") == "interaction_code" and field.get("value"):
            return RedactedStr(str(field["value"]))
    raise diagnosis.altered_answer("Okta's successWithInteractionCode carried no interaction_code.")


def _user_of(state: Mapping[str, Any], login: str | None) -> dict[str, Any] | None:
    """Who signed in, as ``_embedded.user`` reads (id, profile.login); None: from the tokens."""
    node = state.get("user")
    value = node.get("value") if isinstance(node, Mapping) else None
    if not isinstance(value, Mapping) or not value.get("id"):
        return None
    shown = value.get("identifier") or login
    return {"id": str(value["id"]), "profile": {"login": str(shown)}}


# --- the pipeline, and the OIE reading of login_required ---------------------------------------


def pipeline(client: OktaClient) -> str | None:
    """``v1`` (Classic), ``idx`` (Identity Engine), or None when the org does not say."""
    body = client.organization()
    value = body.get("pipeline") if body is not None else None
    return value if isinstance(value, str) else None


def explain_login_required(client: OktaClient, error: LoginRequired) -> OktaUserError:
    """``login_required`` ("...requires re-authentication or MFA.") explained for an Identity
    Engine org (its app policy, and the two flows that get past it); the error as is elsewhere."""
    said = (error.description or error.what).lower()
    if isinstance(error, IdpRedirect) or "re-authentication or mfa" not in said:
        return error
    if pipeline(client) != "idx":
        return error
    return diagnosis.login_required_on_idx(error)


# --- auto -----------------------------------------------------------------------------------------

_PICKS: list[str] = []
_PICKS_LOCK = threading.Lock()


def auto_picks() -> list[str]:
    """What ``auto`` picked in this process, one line each (for the run's summary)."""
    with _PICKS_LOCK:
        return list(_PICKS)


def _picked(line: str) -> None:
    with _PICKS_LOCK:
        if line not in _PICKS:
            _PICKS.append(line)


def auto(parts: ExchangeParts, *, totp: TotpCode | None) -> TokenSet:
    """The first path that gives tokens: Classic (pkce or code), then ``direct``, then
    ``interaction_code`` (on a Classic org, Classic only); remembered in ``sessions.cache``."""
    variant = parts.variant
    org_pipeline = pipeline(parts.client)
    choices: AutoChoices | None = parts.sessions.cache
    remembered = None
    if choices is not None:
        remembered = choices.load_auto_choice(variant.issuer, variant.client_id)
    order = ["classic"] if org_pipeline == "v1" else list(PATHS)
    if remembered in order:
        order.remove(remembered)
        order.insert(0, remembered)
    assert variant.user is not None
    user = UserKey.of(variant)
    tried: list[tuple[str, OktaUserError]] = []
    for path in order:
        try:
            if path == "classic":
                # The sessionToken path, as the pkce flow (a public client) or the code flow.
                tokens = flows._browser_flow(_as_code_flow(parts))
            else:
                reused = _from_session(parts) if path == "interaction_code" else None
                sign_in = functools.partial(_run, path, parts, totp=totp)
                tokens = reused or _as_user(parts, user, sign_in)
        except OktaUserError as error:
            if len(order) == 1 or not _moves_on(path, error):
                raise
            tried.append((path, error))
        else:
            _remember(choices, variant, path, tried, remembered=path == remembered and not tried)
            return tokens
    raise diagnosis.auto_exhausted(tried, org_pipeline)


def _moves_on(path: str, error: OktaUserError) -> bool:
    """Whether ``auto`` tries the next path after ``error``: yes for "not enabled here" and "the
    app's policy wants more"; never after a refused password or code, a locked account, an
    unknown client or user, or a failure of the network or of Okta."""
    if isinstance(error, IdpRedirect):
        return False
    if isinstance(error, AuthenticationError):
        # Classic on Identity Engine may meet MFA it cannot answer where IDX can.
        return path == "classic" and type(error) is MfaRequired
    if isinstance(error, (LoginRequired, UnauthorizedClient, ResponseTypeNotEnabled)):
        return True
    said = (error.description or error.what).lower()
    if isinstance(error, AccessDenied):
        return "not assigned" not in said
    if isinstance(error, InvalidGrant):
        return "policy" in said or "mfa enabled" in said or "assurance" in said
    return error.code == "interaction_required"


def _remember(
    choices: AutoChoices | None,
    variant: Variant,
    path: str,
    tried: list[tuple[str, OktaUserError]],
    *,
    remembered: bool,
) -> None:
    why = "; ".join(f"{p}: {_short(e)}" for p, e in tried)
    reason = why or ("remembered from an earlier run" if remembered else "the first path tried")
    _picked(
        f"okta-user: flow auto picked {path} for client"
        f" {variant.client_id} at {variant.issuer} ({reason})"
    )
    if choices is not None:
        # Only the shortcut is lost if it cannot be written: the next run tries them in order.
        with contextlib.suppress(OSError):
            choices.store_auto_choice(variant.issuer, variant.client_id, path, reason)


def _short(error: OktaUserError) -> str:
    """An error's Okta code and a few words: ``unauthorized_client``, ``login_required``..."""
    if error.code:
        return error.code
    return diagnosis.headline_of(error)[:60]
