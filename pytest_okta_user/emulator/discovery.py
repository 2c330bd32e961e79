"""Rules of the public documents: discovery metadata, the JWKS and /.well-known/okta-organization.

Sources: https://developer.okta.com/docs/reference/api/oidc/#well-known-openid-configuration and
#well-known-oauth-authorization-server (fields; the org server lists no bare `token` response
type), OpenID Connect Discovery 1.0 section 3, RFC 8414 section 2, and
https://developer.okta.com/docs/reference/api/oidc/#keys (the JWKS).
"""

from __future__ import annotations

from typing import Any

from .authorize import RESPONSE_MODES
from .clientauth import AUTH_METHODS
from .inputs import OAuthCall
from .model import Org
from .policies import advertised_grants


def metadata(org: Org, call: OAuthCall, *, openid: bool) -> dict[str, Any]:
    """/.well-known/openid-configuration (`openid`) or /.well-known/oauth-authorization-server."""
    server = call.server
    base = call.server_base
    response_types = ["code", "id_token", "code id_token", "code token", "id_token token"]
    response_types.append("code id_token token")
    if not server.is_org:
        response_types.insert(1, "token")
    doc: dict[str, Any] = {
        "issuer": org.issuer(call.base_url, server),
        "authorization_endpoint": f"{base}/v1/authorize",
        "token_endpoint": f"{base}/v1/token",
    }
    if openid:
        doc["userinfo_endpoint"] = f"{base}/v1/userinfo"
    doc.update(
        {
            "registration_endpoint": f"{call.base_url}/oauth2/v1/clients",
            "jwks_uri": f"{base}/v1/keys",
            "response_types_supported": response_types,
            "response_modes_supported": list(RESPONSE_MODES),
            "grant_types_supported": advertised_grants(org, server),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(server.scopes),
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "claims_supported": (
                [
                    "iss",
                    "ver",
                    "sub",
                    "aud",
                    "iat",
                    "exp",
                    "jti",
                    "auth_time",
                    "amr",
                    "idp",
                    "nonce",
                    "name",
                    "nickname",
                    "preferred_username",
                    "given_name",
                    "middle_name",
                    "family_name",
                    "email",
                    "email_verified",
                    "profile",
                    "zoneinfo",
                    "locale",
                    "address",
                    "phone_number",
                    "picture",
                    "website",
                    "gender",
                    "birthdate",
                    "updated_at",
                    "at_hash",
                    "c_hash",
                ]
                if openid
                else ["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"]
            ),
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": f"{base}/v1/introspect",
            "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "revocation_endpoint": f"{base}/v1/revoke",
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "end_session_endpoint": f"{base}/v1/logout",
            # Okta says true (https://developer.okta.com/docs/reference/api/oidc/#well-known-openid-configuration),
            # but this emulator ignores `request` / `request_uri` (signed request objects,
            # PAR): claiming support would make a client send a request object whose
            # parameters then go unread.
            "request_parameter_supported": False,
        }
    )
    return doc


def jwks(org: Org, call: OAuthCall) -> dict[str, Any]:
    return {"keys": org.published_keys(call.server)}


def organization(org: Org, base_url: str) -> dict[str, Any]:
    """Which pipeline the org runs: `v1` (Classic) or `idx` (Identity Engine)."""
    return {
        "id": org.org_id,
        "pipeline": org.pipeline,
        "_links": {"organization": {"href": base_url}},
        "settings": {"analyticsCollectionEnabled": False, "bugReportingEnabled": False},
    }
