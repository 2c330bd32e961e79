"""Pieces every token grant shares: required parameters, the per-user limit, scope checks, the PKCE
verifier and the token answer (`oauth.py`, `direct.py` and `idx.py` build their grants on them).

Sources: https://developer.okta.com/docs/reference/api/oidc/#token (the answer),
https://developer.okta.com/docs/reference/rl-best-practices/ (the per-user limit on /token).
"""

from __future__ import annotations

import secrets
from typing import Any

from .authorize import PKCE_CHARS
from .errors import OAuthError
from .inputs import OAuthCall, Params
from .minting import PreparedTokens, TokenGrant, pkce_challenge
from .model import Org
from .ratelimits import user_limit_headers
from .records import OPENID_ONLY_SCOPES, App, AuthServer, MintedTokens, User


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


def check_verifier(verifier: str | None, challenge: str) -> None:
    """The PKCE `code_verifier` of a code (or interaction code) whose request carried `challenge`
    (RFC 7636 section 4.6: S256, the only method Okta supports)."""
    if not verifier:
        raise OAuthError("pkce_missing_verifier")
    if not PKCE_CHARS.fullmatch(verifier) or not secrets.compare_digest(
        pkce_challenge(verifier), challenge
    ):
        raise OAuthError("pkce_verification_failed")


def user_tokens(
    org: Org,
    call: OAuthCall,
    app: App,
    user: User,
    scopes: list[str],
    *,
    auth_time: float,
    amr: list[str],
    nonce: str | None = None,
    prepared: PreparedTokens | None = None,
) -> dict[str, Any]:
    """The answer of a grant that signed `user` in: an access token, an ID token with `openid`,
    and a refresh token where the app, the server and the scopes allow one.

    prepared: the tokens /authorize began signing for this grant (`Org.prepare`).
    """
    server = call.server
    minted = org.mint(
        TokenGrant(call.base_url, server, app, user, scopes, auth_time, amr, nonce),
        want_id="openid" in scopes,
        want_refresh=wants_refresh(app, server, scopes),
        prepared=prepared,
    )
    return token_answer(minted)
