"""Client authentication at /token, /introspect and /revoke.

Sources: https://developer.okta.com/docs/reference/api/oidc/#client-authentication-methods (the
methods, and the assertion's claims: `iss` = `sub` = client_id, `aud` = the endpoint called, `exp`
at most an hour ahead, single-use `jti`), RFC 6749 section 2.3.1 (no credentials in the query),
RFC 7523 section 3 (JWT client assertions), RFC 7617 section 2 (the Basic scheme) and RFC 6749
Appendix B (the form-encoding of the Basic scheme's id and secret).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

import jwt

from .errors import ApiShapedOAuthError, OAuthError
from .inputs import OAuthCall, Params
from .model import Org
from .records import App

AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_form(call: OAuthCall) -> Params:
    """The form of a client-authenticated endpoint, once the query and duplicates are checked."""
    for name in ("client_id", "client_secret", "client_assertion"):
        if name in call.query_names:
            raise OAuthError("client_credentials_in_query")
    form = call.params
    if form.duplicated():
        raise OAuthError("duplicate_oauth_params")
    return form


class BasicCredentials(NamedTuple):
    """The Basic header's id and secret, as sent and form-decoded."""

    client_id: str
    secret: str
    decoded_client_id: str
    decoded_secret: str


def basic_credentials(authorization: str) -> BasicCredentials:
    """The client id and secret of an `Authorization: Basic` header.

    RFC 6749 section 2.3.1 has the client form-urlencode (Appendix B) its id and secret before
    base64 (RFC 7617 section 2); openid-client does so (a `-` travels as `%2D`). Other clients
    send them literally, and Okta accepts those too, so both readings are kept: the literal one
    first, the decoded one when the literal one names no client or does not match.
    """
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_basic_auth_creds")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_basic_auth_creds") from None
    user_part, sep, secret_part = decoded.partition(":")
    if not sep or not user_part:
        raise OAuthError("invalid_basic_auth_creds")
    return BasicCredentials(
        user_part, secret_part, unquote_plus(user_part), unquote_plus(secret_part)
    )


def authenticate_client(org: Org, call: OAuthCall, form: Params) -> App:
    """The app the request authenticates as, by the one method its credentials use."""
    basic = basic_credentials(call.authorization) if call.authorization is not None else None
    body_secret = form.get("client_secret")
    assertion = form.get("client_assertion")
    if sum(x is not None for x in (basic, body_secret, assertion)) > 1:
        raise OAuthError("multiple_client_credentials")
    form_client = form.get("client_id")
    if basic is not None:
        client_id, method = basic.client_id, "basic"
        if org.app(client_id) is None and org.app(basic.decoded_client_id) is not None:
            client_id = basic.decoded_client_id
    elif assertion is not None:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise OAuthError("client_assertion_type_invalid")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("client_assertion_invalid_jwt") from None
        client_id, method = str(unverified.get("iss") or form_client or ""), "assertion"
        if not client_id:
            raise OAuthError("client_assertion_invalid_issuer")
    elif body_secret is not None:
        if not form_client:
            raise OAuthError("missing_client_credentials")
        client_id, method = form_client, "post"
    else:
        if not form_client:
            raise OAuthError("missing_client_credentials")
        client_id, method = form_client, "none"
    if form_client is not None and form_client != client_id:
        raise OAuthError("invalid_client")
    app = org.app(client_id)
    if app is None:
        if method == "assertion":
            raise OAuthError("invalid_client")
        # Okta names an unknown client in its /api/v1 shape, not OAuth's (okta/okta-idx-java#500).
        raise ApiShapedOAuthError("invalid_client_id")
    if app.auth_method == "none":
        if method != "none":
            raise OAuthError("invalid_client")
        return app
    if app.auth_method in ("client_secret_basic", "client_secret_post"):
        if method not in ("basic", "post"):
            raise OAuthError("invalid_client")
        expected = (app.client_secret or "").encode()
        given = [basic.secret, basic.decoded_secret] if basic is not None else [body_secret or ""]
        # Every candidate is compared, so the time taken does not tell which form matched.
        matches = [secrets.compare_digest(g.encode(), expected) for g in given]
        if not any(matches):
            raise OAuthError("invalid_client_secret")
        return app
    if method != "assertion" or assertion is None:
        raise OAuthError("invalid_client")
    verify_assertion(org, call, app, assertion)
    return app


def assertion_key(app: App, header: dict[str, Any]) -> tuple[str, Any]:
    """The algorithm and key to check an assertion with: the app's JWKS, or its secret."""
    alg = str(header.get("alg", ""))
    if app.auth_method == "private_key_jwt":
        if alg not in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512"):
            raise OAuthError("client_assertion_invalid_signature_algorithm")
        if not app.jwks:
            raise OAuthError("client_assertion_jwks_not_configured")
        kid = header.get("kid")
        candidates = [k for k in app.jwks if kid is None or k.get("kid") == kid]
        if not candidates:
            raise OAuthError("client_assertion_invalid_kid")
        try:
            return alg, jwt.PyJWK(candidates[0]).key
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            raise OAuthError("client_assertion_invalid_kid") from None
    if alg not in ("HS256", "HS384", "HS512"):
        raise OAuthError("client_assertion_invalid_signature_algorithm")
    if len(app.client_secret or "") < 32:
        raise OAuthError("client_assertion_invalid_secret_length")
    return alg, (app.client_secret or "").encode()


def verify_assertion(org: Org, call: OAuthCall, app: App, assertion: str) -> None:
    """client_secret_jwt / private_key_jwt: signature, then claims, then single use."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise OAuthError("client_assertion_invalid_jwt") from None
    alg, key = assertion_key(app, header)
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=[alg],
            options={
                "verify_exp": False,
                "verify_aud": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise OAuthError("client_assertion_invalid_signature") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise OAuthError("client_assertion_invalid_jwt") from None
    if claims.get("iss") != app.client_id:
        raise OAuthError("client_assertion_invalid_issuer")
    if claims.get("sub") != app.client_id:
        raise OAuthError("client_assertion_invalid_subject")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if call.endpoint_url not in audiences:
        raise OAuthError("client_assertion_invalid_audience")
    now = org.clock.now()
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise OAuthError("client_assertion_expiration_required")
    if exp <= now:
        raise OAuthError("client_assertion_expired_token")
    if exp > now + 3600 + 60:
        raise OAuthError("client_assertion_expires_too_far_in_future")
    iat = claims.get("iat")
    if isinstance(iat, (int, float)) and iat > now + 60:
        raise OAuthError("client_assertion_issued_at_in_future")
    jti = claims.get("jti")
    if jti is not None and not org.use_assertion(f"{app.client_id}:{jti}", float(exp)):
        raise OAuthError("client_assertion_already_used")
