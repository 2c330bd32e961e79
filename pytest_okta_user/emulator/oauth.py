"""Rules of the token endpoints: /token (every grant), /introspect, /revoke and /userinfo.

Each function takes the org and an `OAuthCall` and returns the JSON body of the answer (None for
/revoke's empty one) or raises `OAuthError` / `BearerError`. Sources:
https://developer.okta.com/docs/reference/api/oidc/#token (grants, answers, errors),
https://developer.okta.com/docs/guides/refresh-tokens/main/ (rotation, leeway, reuse detection),
RFC 7636 section 4.6 (PKCE), RFC 7662 (introspection), RFC 7009 (revocation), OpenID Connect
Core 1.0 section 5.3 (userinfo).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import direct, idx
from .clientauth import authenticate_client, client_form
from .cors import check_token_origin
from .errors import BearerError, OAuthError
from .grantkit import (
    check_scopes,
    check_user_limit,
    check_verifier,
    required,
    token_answer,
    user_tokens,
)
from .inputs import OAuthCall, Params
from .minting import TokenGrant
from .model import Org
from .policies import is_oie, server_grants
from .records import INTERACTION_CODE_GRANT, OPENID_ONLY_SCOPES, App, User

Grant = Callable[[Org, OAuthCall, App, Params], dict[str, Any]]


def token(org: Org, call: OAuthCall) -> dict[str, Any]:
    """POST /token: the grant's checks after the client's; the token answer."""
    server = call.server
    check_token_origin(org, call)
    form = client_form(call)
    grant_type = form.get("grant_type")
    if not grant_type:
        valid = [g for g in server.grant_types if g != "implicit"]
        raise OAuthError("token_request_missing_grant_type", ", ".join(valid))
    app = authenticate_client(org, call, form)
    allowed = server_grants(org, server)
    if grant_type not in allowed or grant_type not in GRANTS:
        configured = [g for g in allowed if g != "implicit"]
        raise OAuthError("unsupported_grant_type", ", ".join(configured))
    if grant_type not in app.grant_types:
        raise OAuthError(
            "unauthorized_client",
            ", ".join(g for g in app.grant_types if g != "implicit"),
        )
    return GRANTS[grant_type](org, call, app, form)


def grant_code(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    server = call.server
    code = required(form, "code")
    verifier = form.get("code_verifier")
    if call.origin and not verifier:
        raise OAuthError("unsupported_auth_method_browser_request")
    redirect_uri = required(form, "redirect_uri")
    record = org.live_code(code)
    if record is None:
        raise OAuthError("invalid_authorization_code")
    if record.server_id != server.id:
        raise OAuthError("mismatched_authorization_server")
    if record.client_id != app.client_id:
        raise OAuthError("mismatched_client")
    if redirect_uri != record.redirect_uri:
        raise OAuthError("mismatched_redirect_uri")
    if record.code_challenge is not None:
        check_verifier(verifier, record.code_challenge)
    elif verifier:
        raise OAuthError("pkce_missing_challenge_verifier_present")
    user = org.user(record.user_id)
    if user is None or user.status != "ACTIVE":
        raise OAuthError("invalid_authorization_code")
    check_user_limit(org, user.login)
    prepared = org.use_code(record)
    return user_tokens(
        org,
        call,
        app,
        user,
        record.scopes,
        auth_time=record.auth_time,
        amr=record.amr,
        nonce=record.nonce,
        prepared=prepared,
    )


def grant_refresh(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    server = call.server
    refresh_token = required(form, "refresh_token")
    now = org.clock.now()
    record = org.refresh_tokens.get(refresh_token)
    if (
        record is None
        or record.server_id != server.id
        or record.client_id != app.client_id
        or record.family in org.revoked_families
        or (record.expires_at is not None and record.expires_at <= now)
    ):
        raise OAuthError("invalid_refresh_token")
    if record.rotated_at is not None and now - record.rotated_at > app.refresh_leeway:
        # A rotated token replayed after the grace period: Okta's reuse detection.
        org.revoke_family(record.family)
        raise OAuthError("invalid_refresh_token")
    requested = form.get("scope")
    scopes = requested.split() if requested else list(record.scopes)
    denied = [s for s in scopes if s not in record.scopes]
    if denied:
        raise OAuthError("refresh_scopes_denied", ", ".join(denied))
    user = org.user(record.user_id)
    if user is None or user.status != "ACTIVE":
        raise OAuthError("invalid_refresh_token")
    check_user_limit(org, user.login)
    minted = org.mint(
        TokenGrant(call.base_url, server, app, user, scopes, record.auth_time, record.amr),
        want_id="openid" in scopes,
        family=record.family,
    )
    answer = token_answer(minted)
    if app.refresh_rotation == "ROTATE":
        answer["refresh_token"] = org.rotate_refresh_token(record, server, app, user, now=now)
    else:
        answer["refresh_token"] = refresh_token
    return answer


def grant_password(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    server = call.server
    username = required(form, "username")
    password = required(form, "password")
    scopes = (form.get("scope") or "").split()
    check_scopes(server, scopes)
    user = org.user_by_login(username)
    check_user_limit(org, user.login if user else username)
    if user is None or user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
        raise OAuthError("invalid_password_credentials")
    if not org.check_password(user, password):
        raise OAuthError("invalid_password_credentials")
    if user.status == "PASSWORD_EXPIRED":
        raise OAuthError("expired_password_credentials")
    if not is_oie(org) and user.totp_secret:
        raise OAuthError("password_auth_denied_mfa")
    if not user.is_assigned(app.client_id):
        raise OAuthError("user_not_assigned")
    if is_oie(org):
        # Identity Engine: the app's authentication policy decides (Direct Authentication).
        direct.after_password(org, call, app, user, scopes, form)
    return user_tokens(org, call, app, user, scopes, auth_time=org.clock.now(), amr=["pwd"])


def grant_client_credentials(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    server = call.server
    if server.is_org:
        if app.app_type != "service":
            raise OAuthError("invalid_application_type_client_credentials")
        if app.auth_method != "private_key_jwt":
            raise OAuthError("unsupported_auth_method_client_creds")
    scopes = (form.get("scope") or "").split()
    if not scopes:
        raise OAuthError("no_default_scopes")
    if set(scopes) & set(OPENID_ONLY_SCOPES | {"openid", "offline_access"}):
        raise OAuthError("openid_not_allowed_client_creds")
    if server.is_org:
        # The org server's scopes for service apps are Okta's management scopes (`okta.*`).
        known = all(s.startswith("okta.") for s in scopes)
    else:
        known = all(s in server.scopes for s in scopes)
    if not known:
        raise OAuthError("invalid_scope")
    minted = org.mint(TokenGrant(call.base_url, server, app, None, scopes))
    return token_answer(minted)


GRANTS: dict[str, Grant] = {
    "authorization_code": grant_code,
    "refresh_token": grant_refresh,
    "password": grant_password,
    "client_credentials": grant_client_credentials,
    **direct.GRANTS,
    INTERACTION_CODE_GRANT: idx.grant_interaction_code,
}


def introspect(org: Org, call: OAuthCall) -> dict[str, Any]:
    """POST /introspect: an active token's description, or `{"active": false}`."""
    server = call.server
    form = client_form(call)
    authenticate_client(org, call, form)
    token_value = form.get("token")
    if not token_value:
        raise OAuthError("request_missing_token")
    claims = presented_access_token(org, call, token_value)
    if claims is not None:
        user = org.user(str(claims.get("uid", ""))) if claims.get("uid") else None
        answer = {
            "active": True,
            "token_type": "Bearer",
            "scope": " ".join(claims.get("scp", [])),
            "client_id": claims.get("cid"),
            "username": user.login if user else claims.get("sub"),
            "exp": claims.get("exp"),
            "iat": claims.get("iat"),
            "sub": claims.get("sub"),
            "aud": claims.get("aud"),
            "iss": claims.get("iss"),
            "jti": claims.get("jti"),
        }
        if user is not None:
            answer["uid"] = user.id
        return answer
    id_claims = org.verify_id_token(token_value, server)
    if id_claims is not None and id_claims.get("iss") == org.issuer(call.base_url, server):
        id_user = org.user(str(id_claims.get("sub", "")))
        return {
            "active": True,
            "token_type": "Bearer",
            "client_id": id_claims.get("aud"),
            "username": id_user.login if id_user else None,
            "exp": id_claims.get("exp"),
            "iat": id_claims.get("iat"),
            "sub": id_claims.get("sub"),
            "aud": id_claims.get("aud"),
            "iss": id_claims.get("iss"),
            "jti": id_claims.get("jti"),
        }
    record = org.refresh_tokens.get(token_value)
    now = org.clock.now()
    if (
        record is not None
        and record.server_id == server.id
        and record.family not in org.revoked_families
        and (record.expires_at is None or record.expires_at > now)
        and (
            record.rotated_at is None or now - record.rotated_at <= leeway_of(org, record.client_id)
        )
    ):
        refresh_user = org.user(record.user_id)
        answer = {
            "active": True,
            "token_type": "Bearer",
            "scope": " ".join(record.scopes),
            "client_id": record.client_id,
            "username": refresh_user.login if refresh_user else None,
            "sub": refresh_user.login if refresh_user else None,
            "iss": org.issuer(call.base_url, server),
            "uid": record.user_id,
            "device_id": None,
        }
        if record.expires_at is not None:
            answer["exp"] = int(record.expires_at)
        return answer
    return {"active": False}


def leeway_of(org: Org, client_id: str) -> int:
    app = org.app(client_id)
    return app.refresh_leeway if app else 0


def revoke(org: Org, call: OAuthCall) -> None:
    """POST /revoke: the client's own token dies; unknown tokens are no error (RFC 7009 2.2)."""
    server = call.server
    form = client_form(call)
    app = authenticate_client(org, call, form)
    token_value = form.get("token")
    if not token_value:
        raise OAuthError("request_missing_token")
    claims = org.verify_access_token(token_value, server)
    if claims is not None and claims.get("cid") == app.client_id:
        org.revoke_access_token(str(claims["jti"]))
    record = org.refresh_tokens.get(token_value)
    if record is not None and record.client_id == app.client_id and record.server_id == server.id:
        org.revoke_family(record.family)


def presented_access_token(org: Org, call: OAuthCall, token: str) -> dict[str, Any] | None:
    """The claims of an active access token minted for this very issuer and audience, else None.

    A token minted under another Host (another issuer, and for the org server another `aud`) is
    not this server's token, as RFC 9068 section 4 and RFC 7662 section 2.2 have resource servers
    and introspection treat it: refused like any invalid token.
    """
    claims = org.verify_access_token(token, call.server)
    if claims is None:
        return None
    audience = call.base_url if call.server.is_org else call.server.audience
    if claims.get("iss") != org.issuer(call.base_url, call.server) or claims.get("aud") != audience:
        return None
    return claims


def userinfo(org: Org, call: OAuthCall) -> dict[str, Any]:
    """GET or POST /userinfo with a bearer access token carrying `openid`.

    Every refusal is an empty body with the error in `WWW-Authenticate` (RFC 6750 section 3), as
    Okta answers (okta/okta-auth-js test/support/xhr/error-userinfo-invalid-token.js and
    error-userinfo-insufficient-scope.js), the token in the query string included
    (goauthentik/authentik#1910: Okta's 400 carries `error="invalid_request",
    error_description="The access token cannot be presented in a query string."` in that header).
    """
    if "access_token" in call.query_names:
        raise BearerError("access_token_in_query")
    scheme, _, bearer = (call.authorization or "").partition(" ")
    claims = (
        presented_access_token(org, call, bearer.strip())
        if scheme.lower() == "bearer" and bearer.strip()
        else None
    )
    if claims is None:
        raise BearerError("access_token_invalid")
    scopes = list(claims.get("scp", []))
    user: User | None = org.user(str(claims.get("uid", "")))
    if user is None or "openid" not in scopes:
        raise BearerError("access_token_insufficient_scopes")
    return {"sub": user.id, **org.user_claims(user, scopes)}
