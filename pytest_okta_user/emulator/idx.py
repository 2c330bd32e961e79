"""Rules of the Interaction Code flow (Identity Engine's IDX API): interact, the `/idp/idx/*`
remediations, and the `interaction_code` grant.

`POST {issuer}/v1/interact` opens a transaction and answers its `interaction_handle`;
`/idp/idx/introspect` turns that into an IDX state (`stateHandle`, `remediation` forms); the
client answers the forms: `identify` (username and password in one form), then, when the app's
policy asks for it, `challenge-authenticator` (`/idp/idx/challenge/answer`, the TOTP code) or
`select-authenticator-authenticate` (`/idp/idx/challenge`); `/idp/idx/cancel` starts over. The
last state carries `successWithInteractionCode`, whose code `/v1/token` exchanges with
`grant_type=interaction_code` and the PKCE verifier. Success also starts an Okta session (the
`sid` cookie, which /authorize?prompt=none honours for the user's other apps, each by its own
policy).

The shapes, statuses and texts follow the recorded answers in Okta's SDK test fixtures
(tests/emulator/fixtures/okta/README.md names each file): okta/okta-mobile-swift
Tests/OktaIdxAuthTests/MockResponses (Passcode/*, identify-single-form-response.json,
introspect-error-response.json: 401 `idx.session.expired`), okta/okta-idx-java
api/src/test/resources (identify-error-response.json: 400 `errors.E0000004` "Authentication
failed"; challenge-error-response.json: 401 `api.authn.error.PASSCODE_INVALID` "Invalid code. Try
again."), okta/okta-signin-widget playground/mocks/data/idp/idx
(authenticator-verification-google-authenticator.json, the `google_otp` authenticator;
error-authenticator-verification-on-google-otp-used-passcode.json; error-400-user-not-assigned.json;
error-unable-to-authenticate-user.json), and Okta's catalogue (`oie_not_enabled_for_interact`,
`pkce_challenge_required`, `invalid_interaction_code`). Guides:
https://developer.okta.com/docs/concepts/interaction-code/ and
https://developer.okta.com/docs/guides/implement-grant-type/interactioncode/main/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .authorize import check_challenge
from .clientauth import authenticate_client, client_form
from .errors import OAuthError
from .grantkit import check_scopes, check_user_limit, check_verifier, required, user_tokens
from .inputs import OAuthCall, Params
from .model import Org
from .policies import amr_of, is_oie, needs_otp, satisfied, server_grants
from .records import INTERACTION_CODE_GRANT, App, IdxTransaction, User

ION = "application/ion+json; okta-version=1.0.0"
JSON_V1 = "application/json; okta-version=1.0.0"
# The org's authenticators (Security > Authenticators), as their ids appear in IDX states.
PASSWORD_AUTHENTICATOR_ID = "autdemo1password0001"
GOOGLE_OTP_AUTHENTICATOR_ID = "autdemo1googleotp001"

SESSION_EXPIRED = ("The session has expired.", "idx.session.expired")
AUTHENTICATION_FAILED = ("Authentication failed", "errors.E0000004")
PASSCODE_INVALID = ("Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID")
PASSCODE_USED = (
    "API error: Each code can only be used once. Please wait for a new code and try again.",
    "authfactor.challenge.soft_token.used_passcode",
)
NOT_ASSIGNED = ("User is not assigned to this application.", "idx.error.user.not.assigned.to.app")
ACCESS_DENIED = (
    "You do not have permission to perform the requested action.",
    "security.access_denied",
)


@dataclass
class IdxAnswer:
    """What an `/idp/idx/*` endpoint answers: an IDX state (or error) as ion+json.

    sid: a new Okta session to set as the `sid` (and `idx`) cookie.
    """

    body: dict[str, Any]
    status: int = 200
    sid: str | None = None


def message(text: str, key: str, params: list[str] | None = None) -> dict[str, Any]:
    i18n: dict[str, Any] = {"key": key}
    if params is not None:
        i18n["params"] = params
    return {"message": text, "i18n": i18n, "class": "ERROR"}


def messages(*values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "value": list(values)}


def expired() -> IdxAnswer:
    return IdxAnswer(
        {"version": "1.0.0", "messages": messages(message(*SESSION_EXPIRED))}, status=401
    )


# -- /v1/interact and the interaction_code grant ----------------------------------------------


def interact(org: Org, call: OAuthCall) -> dict[str, Any]:
    """POST {issuer}/v1/interact: a new transaction's `interaction_handle`."""
    server = call.server
    form = client_form(call)
    app = authenticate_client(org, call, form)
    if (
        not is_oie(org)
        or not org.embedded_signin
        or INTERACTION_CODE_GRANT not in app.grant_types
        or INTERACTION_CODE_GRANT not in server_grants(org, server)
    ):
        raise OAuthError("oie_not_enabled_for_interact")
    redirect_uri = form.get("redirect_uri")
    if not redirect_uri or redirect_uri not in app.redirect_uris:
        raise OAuthError("illegal_redirect_uri")
    scopes = (form.get("scope") or "").split()
    check_scopes(server, scopes)
    challenge = form.get("code_challenge")
    if not challenge:
        raise OAuthError("pkce_challenge_required")
    check_challenge(form.get("code_challenge_method"), challenge)
    txn = org.new_idx_transaction(
        client_id=app.client_id,
        server_id=server.id,
        scopes=scopes,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        state=form.get("state"),
        nonce=form.get("nonce"),
    )
    return {"interaction_handle": txn.interaction_handle}


def grant_interaction_code(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    """/v1/token with `grant_type=interaction_code`: one use, the transaction's client and
    server, and the PKCE verifier of the challenge sent to /v1/interact."""
    server = call.server
    code = required(form, "interaction_code")
    txn = org.idx_transactions.get("c:" + code)
    if (
        txn is None
        or txn.code_used
        or txn.expires_at <= org.clock.now()
        or txn.client_id != app.client_id
        or txn.server_id != server.id
    ):
        raise OAuthError("invalid_interaction_code")
    check_verifier(form.get("code_verifier"), txn.code_challenge)
    user = org.user(txn.user_id or "")
    if user is None or user.status != "ACTIVE":
        raise OAuthError("invalid_interaction_code")
    check_user_limit(org, user.login)
    org.redeem_interaction_code(code)
    return user_tokens(
        org,
        call,
        app,
        user,
        txn.scopes,
        auth_time=txn.auth_time,
        amr=amr_of(txn.amr),
        nonce=txn.nonce,
    )


# -- /idp/idx/* -------------------------------------------------------------------------------


def introspect(org: Org, base_url: str, body: dict[str, Any]) -> IdxAnswer:
    """The state of a transaction, by its `interactionHandle` or `stateHandle`."""
    handle = body.get("interactionHandle")
    state = body.get("stateHandle") or body.get("stateToken")
    txn = None
    if isinstance(handle, str) and handle:
        txn = org.idx_transaction(handle=handle)
    elif isinstance(state, str) and state:
        txn = org.idx_transaction(state=state)
    if txn is None:
        return expired()
    return IdxAnswer(render(org, txn, base_url))


def current(org: Org, body: dict[str, Any]) -> IdxTransaction | None:
    state = body.get("stateHandle")
    return org.idx_transaction(state=state) if isinstance(state, str) and state else None


def passcode_of(body: dict[str, Any]) -> str:
    credentials = body.get("credentials")
    value = credentials.get("passcode") if isinstance(credentials, dict) else None
    return value if isinstance(value, str) else ""


def identify(org: Org, base_url: str, body: dict[str, Any]) -> IdxAnswer:
    """`identify` with the username and the password (`credentials.passcode`) in one form."""
    txn = current(org, body)
    if txn is None:
        return expired()
    if txn.step != "identify":
        return IdxAnswer(render(org, txn, base_url, top=message(*ACCESS_DENIED)), status=403)
    identifier = body.get("identifier")
    user = org.user_by_login(identifier) if isinstance(identifier, str) and identifier else None
    # One answer for an unknown user, a wrong password and a user who cannot sign in, so the
    # answer does not tell which logins exist.
    if user is None or user.status != "ACTIVE" or not org.check_password(user, passcode_of(body)):
        return IdxAnswer(render(org, txn, base_url, top=message(*AUTHENTICATION_FAILED)), 400)
    if not user.is_assigned(txn.client_id):
        return IdxAnswer(render(org, txn, base_url, top=message(*NOT_ASSIGNED)), 400)
    txn.user_id = user.id
    txn.auth_time = org.clock.now()
    txn.amr = ["pwd"]
    return advance(org, txn, user, base_url)


def advance(org: Org, txn: IdxTransaction, user: User, base_url: str) -> IdxAnswer:
    """After a verified factor: success when the app's policy is met, else the TOTP challenge."""
    app = org.app(txn.client_id)
    if app is None:
        return expired()
    if satisfied(org, app, txn.amr):
        org.issue_interaction_code(txn)
        sid = org.new_session(user.id, txn.auth_time, amr_of(txn.amr))
        return IdxAnswer(render(org, txn, base_url), sid=sid)
    if needs_otp(org, app) and user.totp_secret and "otp" not in txn.amr:
        txn.step = "challenge"
        return IdxAnswer(render(org, txn, base_url))
    # The policy asks for a factor the user has not enrolled, and this org offers no enrollment.
    unsatisfiable = message(
        f'Unable to login to "{app.name}" at this time. For assistance, please contact your'
        " administrator.",
        "oie.assurance.unsatisfiable",
        [app.name],
    )
    txn.step = "identify"
    return IdxAnswer(render(org, txn, base_url, top=unsatisfiable), 400)


def challenge(org: Org, base_url: str, body: dict[str, Any]) -> IdxAnswer:
    """`select-authenticator-authenticate`: choose the TOTP authenticator (the only second one)."""
    txn = current(org, body)
    if txn is None:
        return expired()
    authenticator = body.get("authenticator")
    chosen = authenticator.get("id") if isinstance(authenticator, dict) else None
    if txn.step != "challenge" or chosen != GOOGLE_OTP_AUTHENTICATOR_ID:
        return IdxAnswer(render(org, txn, base_url, top=message(*ACCESS_DENIED)), status=403)
    return IdxAnswer(render(org, txn, base_url))


def answer(org: Org, base_url: str, body: dict[str, Any]) -> IdxAnswer:
    """`challenge-authenticator`: the TOTP code; each time step's code is accepted once."""
    txn = current(org, body)
    if txn is None:
        return expired()
    user = org.user(txn.user_id or "")
    if txn.step != "challenge" or user is None:
        return IdxAnswer(render(org, txn, base_url, top=message(*ACCESS_DENIED)), status=403)
    check = org.check_totp(user, passcode_of(body))
    if check == "ok":
        txn.amr = [*txn.amr, "otp"]
        return advance(org, txn, user, base_url)
    wrong = PASSCODE_USED if check == "replayed" else PASSCODE_INVALID
    params: list[str] | None = [] if check == "invalid" else None
    return IdxAnswer(render(org, txn, base_url, field=message(*wrong, params)), status=401)


def cancel(org: Org, base_url: str, body: dict[str, Any]) -> IdxAnswer:
    """Ends the transaction; the answer is a fresh one's first state (a new stateHandle), as in
    okta/okta-mobile-swift RestartTransaction/06-cancel-response.json."""
    txn = current(org, body)
    if txn is None:
        return expired()
    txn.step = "cancelled"
    fresh = org.new_idx_transaction(
        client_id=txn.client_id,
        server_id=txn.server_id,
        scopes=txn.scopes,
        redirect_uri=txn.redirect_uri,
        code_challenge=txn.code_challenge,
        state=txn.state,
        nonce=txn.nonce,
    )
    return IdxAnswer(render(org, fresh, base_url))


# -- rendering an IDX state -------------------------------------------------------------------


def state_field(txn: IdxTransaction) -> dict[str, Any]:
    return {
        "name": "stateHandle",
        "required": True,
        "value": txn.state_handle,
        "visible": False,
        "mutable": False,
    }


def form(name: str, href: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"rel": ["create-form"], "name": name}
    body.update(extra)
    body.update(
        {
            "href": href,
            "method": "POST",
            "produces": ION,
            "value": fields,
            "accepts": JSON_V1,
        }
    )
    return body


def passcode_field(label: str, error: dict[str, Any] | None, *, secret: bool) -> dict[str, Any]:
    passcode: dict[str, Any] = {"name": "passcode", "label": label}
    if secret:
        passcode["secret"] = True
    if error is not None:
        passcode["messages"] = messages(error)
    credentials = {"name": "credentials", "type": "object", "form": {"value": [passcode]}}
    return {**credentials, "required": True}


def google_otp(authenticator_id: str) -> dict[str, Any]:
    return {
        "type": "app",
        "key": "google_otp",
        "id": authenticator_id,
        "displayName": "Google Authenticator",
        "methods": [{"type": "otp"}],
    }


def password_authenticator(authenticator_id: str) -> dict[str, Any]:
    return {
        "type": "password",
        "key": "okta_password",
        "id": authenticator_id,
        "displayName": "Password",
        "methods": [{"type": "password"}],
    }


def expires_at(txn: IdxTransaction) -> str:
    moment = dt.datetime.fromtimestamp(txn.expires_at, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def render(
    org: Org,
    txn: IdxTransaction,
    base_url: str,
    *,
    top: dict[str, Any] | None = None,
    field: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The IDX state of `txn`: `top` is a message for the whole answer, `field` one for the
    passcode field of the current form."""
    idx = f"{base_url}/idp/idx"
    server = org.server(txn.server_id)
    app = org.app(txn.client_id)
    user = org.user(txn.user_id or "")
    state: dict[str, Any] = {
        "version": "1.0.0",
        "stateHandle": txn.state_handle,
        "expiresAt": expires_at(txn),
        "intent": "LOGIN",
    }
    if txn.step == "challenge" and user is not None:
        enrollment = google_otp(user.factor_id or GOOGLE_OTP_AUTHENTICATOR_ID)
        option = {
            "label": "Google Authenticator",
            "value": {
                "form": {
                    "value": [
                        {
                            "name": "id",
                            "required": True,
                            "value": GOOGLE_OTP_AUTHENTICATOR_ID,
                            "mutable": False,
                        },
                        {"name": "methodType", "required": False, "value": "otp", "mutable": False},
                    ]
                }
            },
            "relatesTo": "$.authenticatorEnrollments.value[0]",
        }
        authenticator = {"name": "authenticator", "type": "object", "options": [option]}
        state["remediation"] = {
            "type": "array",
            "value": [
                form(
                    "challenge-authenticator",
                    f"{idx}/challenge/answer",
                    [passcode_field("Enter code", field, secret=False), state_field(txn)],
                    relatesTo=["$.currentAuthenticatorEnrollment"],
                ),
                form(
                    "select-authenticator-authenticate",
                    f"{idx}/challenge",
                    [authenticator, state_field(txn)],
                ),
            ],
        }
        state["currentAuthenticatorEnrollment"] = {"type": "object", "value": enrollment}
        state["authenticators"] = {
            "type": "array",
            "value": [google_otp(GOOGLE_OTP_AUTHENTICATOR_ID)],
        }
        state["authenticatorEnrollments"] = {
            "type": "array",
            "value": [enrollment, password_authenticator("lae" + user.id[3:])],
        }
    elif txn.step == "success" and server is not None and txn.interaction_code:
        issuer = org.issuer(base_url, server)
        fields: list[dict[str, Any]] = [
            {"name": "grant_type", "required": True, "value": "interaction_code"},
            {"name": "interaction_code", "required": True, "value": txn.interaction_code},
            {"name": "client_id", "required": True, "value": txn.client_id},
        ]
        if app is not None and not app.is_public:
            fields.append({"name": "client_secret", "required": True})
        fields.append({"name": "code_verifier", "required": True})
        state["successWithInteractionCode"] = {
            "rel": ["create-form"],
            "name": "issue",
            "href": f"{issuer}/v1/token",
            "method": "POST",
            "value": fields,
            "accepts": "application/x-www-form-urlencoded",
        }
    else:
        identify_form = form(
            "identify",
            f"{idx}/identify",
            [
                {"name": "identifier", "label": "Username"},
                passcode_field("Password", field, secret=True),
                {"name": "rememberMe", "type": "boolean", "label": "Remember this device"},
                state_field(txn),
            ],
        )
        state["remediation"] = {"type": "array", "value": [identify_form]}
        state["currentAuthenticator"] = {
            "type": "object",
            "value": password_authenticator(PASSWORD_AUTHENTICATOR_ID),
        }
    if top is not None:
        state["messages"] = messages(top)
    if user is not None and txn.step in ("challenge", "success"):
        state["user"] = {"type": "object", "value": {"id": user.id, "identifier": user.login}}
    state["cancel"] = form("cancel", f"{idx}/cancel", [state_field(txn)])
    if app is not None:
        state["app"] = {
            "type": "object",
            "value": {"name": "oidc_client", "label": app.name, "id": app.client_id},
        }
    return state


ACTIONS = {
    "introspect": introspect,
    "identify": identify,
    "challenge": challenge,
    "challenge/answer": answer,
    "cancel": cancel,
}
