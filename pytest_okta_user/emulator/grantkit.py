"""Pieces every token grant shares: required parameters, the per-user limit, scope checks and
the token answer (`oauth.py`, `direct.py` and `idx.py` build their grants on them).

Sources: https://developer.okta.com/docs/reference/api/oidc/#token (the answer),
https://developer.okta.com/docs/reference/rl-best-practices/ (the per-user limit on /token).
"""

from __future__ import annotations

from typing import Any

from .errors import OAuthError
from .inputs import Params
from .model import Org
from .ratelimits import user_limit_headers
from .records import OPENID_ONLY_SCOPES, App, AuthServer, MintedTokens


def required(form: Params, name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError("missing_token_request_parameter", name)
    return value


def check_user_limit(org: Org, user: str) -> None:
    """Okta's per-user limit on /token: a 429 `invalid_grant` with the limit's headers."""
    reset = org.user_limit_reset("token", user)
    if reset is not None:
        headers = user_limit_headers(org.limiter.limit, reset)
        raise OAuthError("user_rate_limited", headers=headers)


def token_answer(minted: MintedTokens) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": minted.expires_in,
        "access_token": minted.access_token,
        "scope": " ".join(minted.scopes),
    }
    if minted.refresh_token:
        answer["refresh_token"] = minted.refresh_token
    if minted.id_token:
        answer["id_token"] = minted.id_token
    return answer


def wants_refresh(app: App, server: AuthServer, scopes: list[str]) -> bool:
    """A refresh token needs `offline_access` and the refresh_token grant on app and server."""
    return (
        "offline_access" in scopes
        and "refresh_token" in app.grant_types
        and "refresh_token" in server.grant_types
    )


def check_scopes(server: AuthServer, scopes: list[str]) -> None:
    if not scopes:
        raise OAuthError("missing_scopes")
    if any(s not in server.scopes for s in scopes):
        raise OAuthError("invalid_scope")
    if "openid" not in scopes and OPENID_ONLY_SCOPES & set(scopes):
        raise OAuthError("openid_scope_required")
