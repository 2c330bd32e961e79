"""What the org stores: users, apps, authorization servers, the demo org's names, runtime records.

Plain dataclasses; `Org` (model.py) is the only code that changes them once they are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .minting import PreparedTokens

# -- the org's configuration ----------------------------------------------------------------------

AppType = Literal["web", "browser", "native", "service"]
AuthMethod = Literal[
    "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"
]

OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "groups")
# Scopes that only make sense for an ID token / userinfo: they need `openid` alongside.
OPENID_ONLY_SCOPES = frozenset({"profile", "email", "address", "phone", "groups"})
KNOWN_GRANTS = ("authorization_code", "implicit", "refresh_token", "password", "client_credentials")
# Identity Engine grants (https://developer.okta.com/docs/guides/configure-direct-auth-grants/,
# https://developer.okta.com/docs/guides/implement-grant-type/interactioncode/): an app or server
# may list them in either engine, but only an Identity Engine org answers them.
MFA_OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"
OTP_GRANT = "urn:okta:params:oauth:grant-type:otp"
INTERACTION_CODE_GRANT = "interaction_code"
OIE_GRANTS = (INTERACTION_CODE_GRANT, MFA_OTP_GRANT, OTP_GRANT)
ORG_SERVER_ID = "org"


@dataclass
class User:
    """A user of the org. `status`: ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, STAGED, ..."""

    id: str
    login: str
    password: str
    status: str = "ACTIVE"
    profile: dict[str, Any] = field(default_factory=dict)
    totp_secret: str | None = None
    factor_id: str | None = None
    # None: assigned to every app (as if through the Everyone group); else these client ids only.
    apps: set[str] | None = None
    groups: list[str] = field(default_factory=list)
    password_changed: float = 0.0
    failed_logins: int = 0
    last_totp_step: int = -1

    def is_assigned(self, client_id: str) -> bool:
        return self.apps is None or client_id in self.apps


@dataclass
class App:
    """An OAuth client; `app_type` is Okta's application_type: web, browser, native, service."""

    client_id: str
    app_type: AppType
    client_secret: str | None
    auth_method: AuthMethod
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    response_types: list[str]
    pkce_required: bool
    refresh_rotation: Literal["ROTATE", "STATIC"]
    refresh_leeway: int
    jwks: list[dict[str, Any]]
    name: str
    # The app's authentication policy on Identity Engine (`policies.POLICIES`).
    policy: str = "password"

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"


@dataclass
class AuthServer:
    """A custom authorization server (or, with id `org`, the org authorization server)."""

    id: str
    audience: str
    scopes: list[str]
    access_token_lifetime: int = 3600
    id_token_lifetime: int = 3600
    refresh_token_lifetime: int | None = None
    grant_types: list[str] = field(default_factory=lambda: list(KNOWN_GRANTS))
    name: str = ""

    @property
    def is_org(self) -> bool:
        return self.id == ORG_SERVER_ID


def origin_of(uri: str) -> str | None:
    """The origin (RFC 6454 section 4) of an http(s) URI, `scheme://host[:port]` lowercased as a
    browser serializes it (default ports dropped); None for other URIs."""
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


CORS = "CORS"
REDIRECT = "REDIRECT"


@dataclass(frozen=True)
class TrustedOrigin:
    """A Trusted Origin: `scheme://host[:port]`, with its scopes (CORS, REDIRECT).

    https://developer.okta.com/docs/api/openapi/okta-management/management/tags/trustedorigin
    """

    origin: str
    scopes: frozenset[str]
    name: str = ""


@dataclass(frozen=True)
class DemoOrg:
    """Names of the seeded demo org (see `DEMO`)."""

    user_login: str = "tester@example.com"
    user_password: str = "Emulated-Passw0rd!"
    user_id: str = "00udemo1tester0user1"
    user_first_name: str = "Test"
    user_last_name: str = "User"
    # The second user, enrolled in TOTP (issue 11: named users, each with its own secrets).
    admin_login: str = "admin@example.com"
    admin_password: str = "Emulated-Adm1n-Passw0rd!"
    admin_id: str = "00udemo1admin00user1"
    admin_first_name: str = "Ada"
    admin_last_name: str = "Admin"
    # Base32 (RFC 4648 section 6), 160 bits: what an authenticator app would be given.
    admin_totp_secret: str = "DEMOADMINTOTPSECRETJBSWY3DPEHPK3"
    web_client_id: str = "0oademo1web0client01"
    web_client_secret: str = "demo-web-secret-0123456789abcdefghijklmnopqrstuv"
    web_redirect_uri: str = "http://localhost:8080/authorization-code/callback"
    web_post_logout_redirect_uri: str = "http://localhost:8080/"
    spa_client_id: str = "0oademo1spa0client01"
    spa_redirect_uri: str = "http://localhost:8080/login/callback"
    service_client_id: str = "0oademo1svc0client01"
    service_client_secret: str = "demo-service-secret-0123456789abcdefghijklmno"
    auth_server_id: str = "default"
    audience: str = "api://default"
    custom_scopes: tuple[str, ...] = ("api:read", "api:write")
    org_id: str = "00odemo1org00000001x"
    # The demo user's TOTP secret, enrolled in Identity Engine mode only.
    user_totp_secret: str = "JBSWY3DPEHPK3PXPOKTAEMULATORDEMO"


DEMO = DemoOrg()


# -- runtime records ------------------------------------------------------------------------------


@dataclass(slots=True)
class Transaction:
    """An /api/v1/authn transaction (stateToken) that is waiting for MFA or a password change."""

    user_id: str
    status: str
    expires_at: float


@dataclass(slots=True)
class SessionToken:
    user_id: str
    expires_at: float
    amr: list[str]
    auth_time: float
    used: bool = False


@dataclass(slots=True)
class Session:
    """A browser session (the `sid` cookie)."""

    user_id: str
    auth_time: float
    amr: list[str]
    expires_at: float
    created_at: float = 0.0


@dataclass(slots=True)
class AuthCode:
    client_id: str
    server_id: str
    redirect_uri: str
    code_challenge: str | None
    scopes: list[str]
    nonce: str | None
    user_id: str
    auth_time: float
    amr: list[str]
    expires_at: float
    used: bool = False
    #: The tokens /token would hand out for it, being signed ahead (`minting.PreparedTokens`).
    prepared: PreparedTokens | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class RefreshRecord:
    family: str
    server_id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_time: float
    amr: list[str]
    issued_at: float
    expires_at: float | None
    rotated_at: float | None = None


@dataclass(slots=True)
class AccessRecord:
    server_id: str
    client_id: str
    user_id: str | None
    family: str | None
    expires_at: float
    revoked: bool = False


@dataclass
class MintedTokens:
    access_token: str
    expires_in: int
    scopes: list[str]
    id_token: str | None = None
    refresh_token: str | None = None


@dataclass(slots=True)
class MfaToken:
    """A Direct Authentication `mfa_token`: the password was right, a second factor is due."""

    user_id: str
    client_id: str
    server_id: str
    scopes: list[str]
    auth_time: float
    expires_at: float


@dataclass(slots=True)
class IdxTransaction:
    """An Interaction Code transaction: the `interaction_handle`, then the IDX `stateHandle`.

    step: `identify`, `challenge` (the TOTP is due), `success` (an interaction code is out) or
    `cancelled`.
    """

    interaction_handle: str
    state_handle: str
    client_id: str
    server_id: str
    scopes: list[str]
    redirect_uri: str
    code_challenge: str
    state: str | None
    nonce: str | None
    expires_at: float
    step: str = "identify"
    user_id: str | None = None
    amr: list[str] = field(default_factory=list)
    auth_time: float = 0.0
    interaction_code: str | None = None
    code_used: bool = False
