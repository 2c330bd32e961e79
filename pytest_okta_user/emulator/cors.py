"""Rules of cross-origin browser calls (CORS): which endpoints answer them, and for which origins.

Sources: https://developer.okta.com/docs/guides/enable-cors/main/ (Okta answers a browser's
cross-origin call only from an origin permitted as a Trusted Origin with the CORS scope, and only on
the APIs marked CORS: /api/v1/authn among them),
https://developer.okta.com/docs/api/openapi/okta-management/management/tags/trustedorigin, and
Okta's own catalogue, whose token-endpoint entries `illegal_origin_browser_request` ("must be part
of at least one whitelisted redirect_uri") and `not_trusted_origin_browser_request` show that the
authorization server's endpoints also answer the origins of the apps' login redirect URIs. The
browser's side: the Fetch standard, section 3.2 (CORS protocol: the preflight, `Vary: Origin`,
credentials). /authorize and /logout are navigations, never CORS calls, so they get no headers.
"""

from __future__ import annotations

from .errors import OAuthError
from .inputs import OAuthCall
from .model import Org
from .records import CORS, origin_of

# The authorization server's endpoints a SPA calls with fetch/XHR (okta-auth-js does for each).
OAUTH_ENDPOINTS = frozenset(
    {
        "token",
        "keys",
        "openid_configuration",
        "oauth_authorization_server",
        "userinfo",
        "introspect",
        "revoke",
        # Identity Engine: the Interaction Code flow's start and Direct Authentication's challenge.
        "interact",
        "challenge",
    }
)
# The Authentication API (the Classic sign-in widget calls it cross-origin), the IDX API (an
# embedded Identity Engine widget or okta-auth-js calls it cross-origin) and the current session
# (okta-auth-js's session.exists() reads it with the cookie).
API_ENDPOINTS = frozenset(
    {"authn", "factor_verify", "change_password", "authn_cancel", "idx", "sessions_me"}
)
CORS_ENDPOINTS = OAUTH_ENDPOINTS | API_ENDPOINTS


def trusted_for_cors(org: Org, origin: str) -> bool:
    trusted = org.trusted_origins.get(origin.lower())
    return trusted is not None and CORS in trusted.scopes


def redirect_origin(org: Org, origin: str) -> bool:
    """True if `origin` is the origin of some app's login redirect URI."""
    wanted = origin.lower()
    return any(origin_of(uri) == wanted for app in org.apps.values() for uri in app.redirect_uris)


def allows(org: Org, endpoint: str, origin: str) -> bool:
    """Whether a browser script on `origin` may read `endpoint`'s answers."""
    if endpoint in API_ENDPOINTS:
        return trusted_for_cors(org, origin)
    if endpoint in OAUTH_ENDPOINTS:
        return trusted_for_cors(org, origin) or redirect_origin(org, origin)
    return False


def check_token_origin(org: Org, call: OAuthCall) -> None:
    """/token from a browser (an `Origin` header) on an origin the org does not trust."""
    origin = call.origin
    if not origin or origin_of(origin) == origin_of(call.base_url):
        return
    if not allows(org, "token", origin):
        raise OAuthError("not_trusted_origin_browser_request")
