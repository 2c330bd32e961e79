"""Rules of the browser endpoints: /authorize and /logout.

`authorize` answers a `Delivery` (the values to hand to the client's redirect_uri in a response
mode), `SIGN_IN` (Okta's sign-in page) or raises `PageError` (Okta's error page, never redirected).
Sources: https://developer.okta.com/docs/reference/api/oidc/#authorize (parameters, response
modes, the order of the checks: client and redirect_uri first, then every error redirected with
`state`), https://developer.okta.com/docs/guides/session-cookie/main/ (sessionToken and the `sid`
cookie), RFC 7636 section 4.3 (PKCE), https://developer.okta.com/docs/reference/api/oidc/#logout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import OAuthError, PageError
from .inputs import OAuthCall, Params
from .minting import TokenGrant
from .model import Org
from .policies import satisfied
from .records import OPENID_ONLY_SCOPES, App, User

RESPONSE_MODES = ("query", "fragment", "form_post", "okta_post_message")
PKCE_CHARS = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass(frozen=True)
class Delivery:
    """What /authorize hands to the client: `values` for `redirect_uri` in response mode `mode`.

    sid: a new browser session to set as the `sid` cookie along with it.
    """

    mode: str
    redirect_uri: str
    values: dict[str, str]
    sid: str | None = None


class SignIn:
    """Okta's sign-in page: no session, no usable sessionToken and no `prompt=none`."""


SIGN_IN = SignIn()


def check_challenge(method: str | None, challenge: str) -> None:
    """A PKCE code challenge Okta accepts: S256 (without a method RFC 7636 means `plain`, which
    Okta does not support) and 43-128 unreserved characters (RFC 7636 section 4.2)."""
    if method != "S256":
        raise OAuthError("pkce_unsupported_code_challenge_method", "S256")
    if not PKCE_CHARS.fullmatch(challenge):
        raise OAuthError("pkce_invalid_challenge")


def refusal(mode: str, redirect_uri: str, error: OAuthError, state: str | None) -> Delivery:
    values = {"error": error.error, "error_description": error.description}
    if state is not None:
        values["state"] = state
    return Delivery(mode, redirect_uri, values)


def authorize(org: Org, call: OAuthCall) -> Delivery | SignIn:
    """GET or POST /authorize: validate, authenticate (session or sessionToken), then issue."""
    params = call.params
    client_id = params.get("client_id")
    app = org.app(client_id) if client_id else None
    if app is None:
        raise PageError("invalid_client_id")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in app.redirect_uris:
        raise PageError("illegal_redirect_uri")
    state = params.get("state")
    types = set((params.get("response_type") or "").split())
    token_types = types & {"token", "id_token"}
    default_mode = "fragment" if token_types else "query"
    mode = params.get("response_mode") or default_mode
    if mode not in RESPONSE_MODES:
        return refusal(default_mode, redirect_uri, OAuthError("unsupported_response_mode"), state)
    if mode == "query" and token_types:
        error = OAuthError("unsupported_response_mode_query_with_tokens")
        return refusal("fragment", redirect_uri, error, state)
    try:
        return authorize_checked(org, call, app, types, mode, redirect_uri, state)
    except OAuthError as err:
        return refusal(mode, redirect_uri, err, state)


def authorize_checked(
    org: Org,
    call: OAuthCall,
    app: App,
    types: set[str],
    mode: str,
    redirect_uri: str,
    state: str | None,
) -> Delivery | SignIn:
    """Everything after the client and its redirect_uri are known: errors here are redirected."""
    server = call.server
    params = call.params
    if params.duplicated():
        raise OAuthError("duplicate_oauth_params")
    if app.app_type == "service":
        raise OAuthError("invalid_client_application_type", "authorize")
    configured = ", ".join(app.response_types)
    if not types or not types <= {"code", "token", "id_token"}:
        raise OAuthError("unsupported_response_type", configured)
    if not types <= set(app.response_types):
        raise OAuthError("unsupported_response_type", configured)
    if ("code" in types and "authorization_code" not in app.grant_types) or (
        types & {"token", "id_token"} and "implicit" not in app.grant_types
    ):
        raise OAuthError("unsupported_response_type", configured)
    scopes = (params.get("scope") or "").split()
    if not scopes:
        raise OAuthError("missing_scopes")
    if any(s not in server.scopes for s in scopes):
        raise OAuthError("invalid_scope")
    if "openid" not in scopes and ("id_token" in types or OPENID_ONLY_SCOPES & set(scopes)):
        raise OAuthError("openid_scope_required")
    nonce = params.get("nonce")
    if types & {"token", "id_token"} and not nonce:
        raise OAuthError("invalid_nonce")
    prompts = set((params.get("prompt") or "").split())
    if not prompts <= {"none", "login", "consent"} or ("none" in prompts and len(prompts) > 1):
        raise OAuthError("invalid_prompt", "none, login, consent, login consent, consent login")
    max_age: int | None = None
    raw_age = params.get("max_age")
    if raw_age is not None:
        if not raw_age.isdigit() or int(raw_age) > 2**31 - 1:
            raise OAuthError("invalid_max_age")
        max_age = int(raw_age)
    if params.get("idp") is not None and params.get("idp") != org.org_id:
        raise OAuthError("unknown_idp")
    challenge = params.get("code_challenge")
    if "code" in types:
        if challenge is None:
            if app.pkce_required or app.is_public:
                raise OAuthError("pkce_missing_challenge")
        else:
            check_challenge(params.get("code_challenge_method"), challenge)
    # Authentication. As in Okta Classic, an existing session (the sid cookie) wins and a
    # sessionToken sent alongside is ignored, not consumed; prompt=login, or a session older
    # than max_age, sets the session aside.
    now = org.clock.now()
    user: User | None = None
    auth_time = now
    amr = ["pwd"]
    new_sid: str | None = None
    if "login" not in prompts:
        session = org.session(call.sid)
        if session is not None and (max_age is None or now - session.auth_time <= max_age):
            user = org.user(session.user_id)
            auth_time, amr = session.auth_time, session.amr
    session_token = params.get("sessionToken")
    if user is None and session_token:
        redeemed = org.redeem_session_token(session_token)
        if redeemed is not None:
            user = org.user(redeemed.user_id)
            auth_time, amr = redeemed.auth_time, redeemed.amr
            if user is not None:
                new_sid = org.new_session(user.id, auth_time, amr)
    if user is None or user.status not in ("ACTIVE",):
        if "none" in prompts:
            raise OAuthError("login_required")
        return SIGN_IN
    if not user.is_assigned(app.client_id):
        raise OAuthError("user_not_assigned")
    if not satisfied(org, app, amr):
        # Identity Engine: the sign-in met the global session policy, not this app's policy.
        if "none" in prompts:
            raise OAuthError("app_sign_on_required")
        return SIGN_IN
    answer: dict[str, str] = {}
    code = None
    grant = TokenGrant(call.base_url, server, app, user, scopes, auth_time, amr, nonce)
    if "code" in types:
        code = org.issue_code(
            client_id=app.client_id,
            server_id=server.id,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            scopes=scopes,
            nonce=nonce,
            user_id=user.id,
            auth_time=auth_time,
            amr=amr,
            # The tokens /token will hand out for this code (`grantkit.user_tokens`), signed while
            # the client follows the redirect; /token uses them only if nothing they hold changed.
            prepared=org.prepare(grant, want_id="openid" in scopes),
        )
        answer["code"] = code
    if types & {"token", "id_token"}:
        minted = org.mint(
            grant,
            want_access="token" in types,
            want_id="id_token" in types,
            code=code,
            thin_id_token=server.is_org and {"token", "id_token"} <= types,
        )
        if "token" in types:
            answer.update(
                access_token=minted.access_token,
                token_type="Bearer",
                expires_in=str(minted.expires_in),
                scope=" ".join(scopes),
            )
        if minted.id_token:
            answer["id_token"] = minted.id_token
    if state is not None:
        answer["state"] = state
    return Delivery(mode, redirect_uri, answer, new_sid)


def logout(org: Org, call: OAuthCall) -> str:
    """GET or POST /logout: end the user's sessions; the Location to send the browser to."""
    params: Params = call.params
    hint = params.get("id_token_hint")
    if not hint:
        raise PageError("invalid_request")
    claims = org.verify_id_token(hint, call.server, check_expiry=False)
    if claims is None:
        raise PageError("id_token_invalid")
    app = org.app(str(claims.get("aud", "")))
    if app is None:
        raise PageError("id_token_invalid")
    target = params.get("post_logout_redirect_uri")
    if target is not None and target not in app.post_logout_redirect_uris:
        raise PageError("illegal_post_logout_redirect_uri")
    org.end_sessions(claims.get("sub"), call.sid)
    if target is None:
        return f"{call.base_url}/login/default"
    state = params.get("state")
    query = urlencode({"state": state}) if state is not None else ""
    return target + (("&" if "?" in target else "?") + query if query else "")
