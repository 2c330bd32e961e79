"""The emulated Okta org: users, apps, authorization servers, keys, clock and token minting.

No HTTP here (moto style): `app.py` turns requests into calls on `Org` and `Org`'s answers into
Okta-shaped responses. Every expiry and the per-user rate limiter read `Org.clock`, so a test moves
time with `clock.advance()` instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import string
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jwt
import pyotp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# -- identifiers ----------------------------------------------------------------------------------

_ID_ALPHABET = string.ascii_letters + string.digits


def okta_id(prefix: str) -> str:
    """An Okta-style 20-character id after a 3-character type prefix (`00u` user, `0oa` app)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20 - len(prefix)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def opaque_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


# -- clock ----------------------------------------------------------------------------------------


class Clock:
    """The emulator's notion of now: real time plus an offset, or a frozen instant.

    `advance(s)` moves it forward (expire codes, tokens, rate-limit windows) without sleeping;
    `set(t)` jumps to an absolute epoch time (and keeps ticking unless frozen); `freeze()` stops it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None

    def now(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen = float(epoch_seconds)
            else:
                self._offset = float(epoch_seconds) - time.time()

    def freeze(self, at: float | None = None) -> None:
        current = self.now() if at is None else float(at)
        with self._lock:
            self._frozen = current

    def unfreeze(self) -> None:
        current = self.now()
        with self._lock:
            self._frozen = None
            self._offset = current - time.time()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def reset(self) -> None:
        """Back to real time, ticking."""
        with self._lock:
            self._offset = 0.0
            self._frozen = None


# -- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey

    @classmethod
    def from_private_key(cls, private_key: RSAPrivateKey) -> SigningKey:
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Okta's kids are 43-character base64url strings: a SHA-256 digest has exactly that length.
        return cls(kid=b64url(hashlib.sha256(der).digest()), private_key=private_key)

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "kid": self.kid,
            "use": "sig",
            "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        }

    def pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


class KeyStore:
    """RSA signing keys by name, generated on first use (about 50 ms each) or read from a key file.

    With `key_file`, keys and the instance id persist in that JSON file, so emulators (and runs)
    sharing the file issue tokens that verify against each other's JWKS. Names: `org` (published
    on the org server), `org-access` (the org server's access-token key, never published, as in
    Okta), `as:<id>` per custom authorization server, and `next:<name>` for the published key
    that would sign after the next rotation (it signs nothing).
    """

    def __init__(self, key_file: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._by_kid: dict[str, SigningKey] = {}
        self._key_file = Path(key_file) if key_file is not None else None
        self.instance_id = secrets.token_hex(8)
        if self._key_file is not None:
            stored = self._update_file(None)
            self.instance_id = str(stored["instance_id"])

    def get(self, name: str) -> SigningKey:
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                key = self._create(name)
                self._keys[name] = key
                self._by_kid[key.kid] = key
            return key

    def by_kid(self, kid: str) -> SigningKey | None:
        with self._lock:
            return self._by_kid.get(kid)

    def _create(self, name: str) -> SigningKey:
        if self._key_file is None:
            return SigningKey.from_private_key(
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
            )
        stored = self._update_file(name)
        pem = str(stored["keys"][name]).encode("ascii")
        private_key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private_key, RSAPrivateKey):
            raise ValueError(f"key {name!r} in {self._key_file} is not an RSA key")
        return SigningKey.from_private_key(private_key)

    def _update_file(self, name: str | None) -> dict[str, Any]:
        """Read the key file, adding `name` (and the instance id) if missing; atomic and locked."""
        from filelock import FileLock

        assert self._key_file is not None
        self._key_file.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._key_file) + ".lock", timeout=60):
            stored: dict[str, Any] = {}
            if self._key_file.exists():
                try:
                    stored = json.loads(self._key_file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    stored = {}
            if not isinstance(stored, dict) or not isinstance(stored.get("keys"), dict):
                stored = {"keys": {}}
            changed = False
            if not isinstance(stored.get("instance_id"), str):
                stored["instance_id"] = secrets.token_hex(8)
                changed = True
            if name is not None and name not in stored["keys"]:
                fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                stored["keys"][name] = SigningKey.from_private_key(fresh).pem()
                changed = True
            if changed:
                fd, tmp = tempfile.mkstemp(dir=self._key_file.parent, prefix=".okta-keys-")
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(stored, out)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self._key_file)
            return stored


# -- the org's configuration ----------------------------------------------------------------------

AppType = Literal["web", "browser", "native", "service"]
AuthMethod = Literal[
    "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"
]

OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "groups")
# Scopes that only make sense for an ID token / userinfo: they need `openid` alongside.
OPENID_ONLY_SCOPES = frozenset({"profile", "email", "address", "phone", "groups"})
KNOWN_GRANTS = ("authorization_code", "implicit", "refresh_token", "password", "client_credentials")
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


@dataclass(frozen=True)
class DemoOrg:
    """Names of the seeded demo org (see `DEMO`)."""

    user_login: str = "tester@example.com"
    user_password: str = "Emulated-Passw0rd!"
    user_id: str = "00udemo1tester0user1"
    user_first_name: str = "Test"
    user_last_name: str = "User"
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


DEMO = DemoOrg()


# -- runtime records ------------------------------------------------------------------------------


@dataclass
class Transaction:
    """An /api/v1/authn transaction (stateToken) that is waiting for MFA or a password change."""

    user_id: str
    status: str
    expires_at: float


@dataclass
class SessionToken:
    user_id: str
    expires_at: float
    amr: list[str]
    auth_time: float
    used: bool = False


@dataclass
class Session:
    """A browser session (the `sid` cookie)."""

    user_id: str
    auth_time: float
    amr: list[str]
    expires_at: float


@dataclass
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


@dataclass
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


@dataclass
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


# -- the org --------------------------------------------------------------------------------------


class RateLimiter:
    """Okta's per-user limit: `limit` requests per user per `window` seconds, on the org clock."""

    def __init__(self, clock: Clock, limit: int = 4, window: float = 1.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, bucket: str, user: str) -> tuple[bool, float]:
        """Count one request; return (allowed, epoch second at which the window resets)."""
        now = self.clock.now()
        key = (bucket, user.lower())
        # Also forget hits "in the future": a test may set the clock back.
        hits = deque(t for t in self._hits.get(key, ()) if now - self.window < t <= now)
        self._hits[key] = hits
        if len(hits) >= self.limit:
            return False, hits[0] + self.window
        hits.append(now)
        return True, hits[0] + self.window

    def clear(self) -> None:
        self._hits.clear()


class Org:
    """All state of the emulated org; the HTTP layer holds `lock` for each request.

    Configure with `add_user`, `add_app`, `add_auth_server` and the settings attributes
    (`rate_limits`, `show_lockout_failures`, `lockout_attempts`, `pipeline`).
    """

    SESSION_TOKEN_LIFETIME = 300
    STATE_TOKEN_LIFETIME = 300
    CODE_LIFETIME = 300
    SESSION_LIFETIME = 7200
    ORG_REFRESH_LIFETIME = 90 * 24 * 3600

    def __init__(self, clock: Clock, keys: KeyStore) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.keys = keys
        self.org_id = DEMO.org_id
        self.rate_limits = True
        self.show_lockout_failures = False
        self.lockout_attempts = 10
        self.pipeline = "v1"
        self.users: dict[str, User] = {}
        self.apps: dict[str, App] = {}
        self.servers: dict[str, AuthServer] = {}
        self.limiter = RateLimiter(clock)
        self._clear_runtime()
        self.add_auth_server(
            ORG_SERVER_ID,
            audience="",
            scopes=list(OIDC_SCOPES),
            refresh_token_lifetime=self.ORG_REFRESH_LIFETIME,
            name="Org Authorization Server",
        )

    def _clear_runtime(self) -> None:
        self.transactions: dict[str, Transaction] = {}
        self.session_tokens: dict[str, SessionToken] = {}
        self.sessions: dict[str, Session] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.revoked_families: set[str] = set()
        self.access_tokens: dict[str, AccessRecord] = {}
        self.used_assertions: dict[str, float] = {}
        self.limiter.clear()

    def clear(self) -> None:
        """Forget every user, app, custom server, session and token (the org server stays)."""
        with self.lock:
            self.users.clear()
            self.apps.clear()
            org_server = self.servers[ORG_SERVER_ID]
            self.servers.clear()
            self.servers[ORG_SERVER_ID] = org_server
            self._clear_runtime()

    # -- configuration ----------------------------------------------------------------------------

    def add_user(
        self,
        login: str,
        password: str,
        *,
        first_name: str = "Test",
        last_name: str = "User",
        email: str | None = None,
        status: str = "ACTIVE",
        totp_secret: str | None = None,
        apps: Iterable[str] | None = None,
        groups: Iterable[str] = (),
        user_id: str | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> User:
        """Add (or replace) a user.

        login: the Okta username (also `sub` of access tokens and `preferred_username`).
        status: ACTIVE, PASSWORD_EXPIRED (authn answers PASSWORD_EXPIRED), LOCKED_OUT, SUSPENDED...
        totp_secret: base32 RFC 6238 secret; the user is then enrolled in `token:software:totp`
            and authn answers MFA_REQUIRED.
        apps: client ids the user is assigned to; None (default) assigns every app, as the
            Everyone group would; `[]` none (authorize then answers `access_denied`).
        groups: group names for the `groups` claim. profile: extra profile attributes.
        """
        if totp_secret is not None:
            pyotp.TOTP(totp_secret).now()  # fail here, not at sign-in, on a bad base32 secret
        with self.lock:
            user_profile: dict[str, Any] = {
                "login": login,
                "firstName": first_name,
                "lastName": last_name,
                "email": email or login,
                "locale": "en_US",
                "timeZone": "America/Los_Angeles",
            }
            user_profile.update(profile or {})
            user = User(
                id=user_id or okta_id("00u"),
                login=login,
                password=password,
                status=status.upper(),
                profile=user_profile,
                totp_secret=totp_secret,
                factor_id=okta_id("uft") if totp_secret else None,
                apps=set(apps) if apps is not None else None,
                groups=list(groups),
                password_changed=self.clock.now(),
            )
            for existing in [u for u in self.users.values() if u.login.lower() == login.lower()]:
                del self.users[existing.id]
            self.users[user.id] = user
            return user

    def add_app(
        self,
        client_id: str | None = None,
        *,
        app_type: str = "web",
        client_secret: str | None = None,
        auth_method: str | None = None,
        redirect_uris: Iterable[str] = (),
        post_logout_redirect_uris: Iterable[str] = (),
        grant_types: Iterable[str] | None = None,
        response_types: Iterable[str] | None = None,
        pkce_required: bool | None = None,
        refresh_rotation: str | None = None,
        refresh_leeway: int = 30,
        jwks: Iterable[Mapping[str, Any]] = (),
        name: str = "",
    ) -> App:
        """Add (or replace) an OAuth client.

        app_type: `web` (confidential), `spa`/`browser` (public, PKCE), `native` (public, PKCE),
            `service` (client_credentials).
        auth_method: token_endpoint_auth_method; default `client_secret_basic` for web and service
            (a secret app accepts both basic and post, as Okta does), `none` for spa/native.
        client_secret: generated for secret-based methods when not given.
        grant_types: default web `[authorization_code, refresh_token]`, spa/native
            `[authorization_code, refresh_token]`, service `[client_credentials]`. Add `implicit`
            to allow `token`/`id_token` response types, `password` for the ROPC grant.
        response_types: default `code` plus `token`/`id_token` when `implicit` is granted.
        pkce_required: default True for public clients, False otherwise.
        refresh_rotation: ROTATE (default for spa) or STATIC (default otherwise); with
            `refresh_leeway` seconds of grace for the previous token (0..60, default 30).
        jwks: public JWKs (dicts) for `private_key_jwt`.
        """
        kind: AppType
        if app_type in ("spa", "browser"):
            kind = "browser"
        elif app_type in ("web", "native", "service"):
            kind = app_type  # type: ignore[assignment]
        else:
            raise ValueError(f"app_type must be web, spa, browser, native or service: {app_type!r}")
        method = auth_method or ("none" if kind in ("browser", "native") else "client_secret_basic")
        if method not in (
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ):
            raise ValueError(f"unknown auth_method {method!r}")
        if method in ("client_secret_basic", "client_secret_post", "client_secret_jwt"):
            secret = client_secret or secrets.token_urlsafe(30)
        else:
            secret = None
        grants = list(
            grant_types
            if grant_types is not None
            else (
                ["client_credentials"]
                if kind == "service"
                else ["authorization_code", "refresh_token"]
            )
        )
        for grant in grants:
            if grant not in KNOWN_GRANTS:
                raise ValueError(f"unknown grant type {grant!r}; known: {', '.join(KNOWN_GRANTS)}")
        if response_types is None:
            types = []
            if "authorization_code" in grants:
                types.append("code")
            if "implicit" in grants:
                types += ["token", "id_token"]
        else:
            types = list(response_types)
        rotation = (refresh_rotation or ("ROTATE" if kind == "browser" else "STATIC")).upper()
        if rotation not in ("ROTATE", "STATIC"):
            raise ValueError("refresh_rotation must be ROTATE or STATIC")
        app = App(
            client_id=client_id or okta_id("0oa"),
            app_type=kind,
            client_secret=secret,
            auth_method=method,  # type: ignore[arg-type]
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(post_logout_redirect_uris),
            grant_types=grants,
            response_types=types,
            pkce_required=(method == "none") if pkce_required is None else pkce_required,
            refresh_rotation=rotation,  # type: ignore[arg-type]
            refresh_leeway=max(0, min(60, int(refresh_leeway))),
            jwks=[dict(k) for k in jwks],
            name=name or (client_id or "app"),
        )
        with self.lock:
            self.apps[app.client_id] = app
        return app

    def add_auth_server(
        self,
        server_id: str,
        *,
        audience: str | None = None,
        scopes: Iterable[str] = OIDC_SCOPES,
        access_token_lifetime: int = 3600,
        id_token_lifetime: int = 3600,
        refresh_token_lifetime: int | None = None,
        grant_types: Iterable[str] = KNOWN_GRANTS,
        name: str = "",
    ) -> AuthServer:
        """Add (or replace) a custom authorization server, served under /oauth2/{server_id}.

        audience: the access tokens' `aud` (default `api://{server_id}`).
        scopes: the scopes it knows; the OIDC scopes are always added.
        access_token_lifetime: seconds (Okta: 300..86400, default 3600).
        refresh_token_lifetime: seconds, None for unlimited (Okta's default rule).
        grant_types: the grants its access policy allows.
        """
        all_scopes = list(OIDC_SCOPES) + [s for s in scopes if s not in OIDC_SCOPES]
        server = AuthServer(
            id=server_id,
            audience=audience if audience is not None else f"api://{server_id}",
            scopes=all_scopes,
            access_token_lifetime=int(access_token_lifetime),
            id_token_lifetime=int(id_token_lifetime),
            refresh_token_lifetime=refresh_token_lifetime,
            grant_types=list(grant_types),
            name=name or server_id,
        )
        with self.lock:
            self.servers[server_id] = server
        return server

    def seed_demo(self) -> None:
        """The demo org that the README uses (names in `DEMO`)."""
        self.add_auth_server(
            DEMO.auth_server_id,
            audience=DEMO.audience,
            scopes=list(OIDC_SCOPES) + list(DEMO.custom_scopes),
            name="default",
        )
        self.add_app(
            DEMO.web_client_id,
            app_type="web",
            client_secret=DEMO.web_client_secret,
            redirect_uris=[DEMO.web_redirect_uri],
            post_logout_redirect_uris=[DEMO.web_post_logout_redirect_uri],
            grant_types=["authorization_code", "implicit", "refresh_token", "password"],
            name="Demo web app",
        )
        self.add_app(
            DEMO.spa_client_id,
            app_type="spa",
            redirect_uris=[DEMO.spa_redirect_uri],
            post_logout_redirect_uris=[DEMO.web_post_logout_redirect_uri],
            grant_types=["authorization_code", "implicit", "refresh_token"],
            name="Demo SPA",
        )
        self.add_app(
            DEMO.service_client_id,
            app_type="service",
            client_secret=DEMO.service_client_secret,
            name="Demo service",
        )
        self.add_user(
            DEMO.user_login,
            DEMO.user_password,
            first_name=DEMO.user_first_name,
            last_name=DEMO.user_last_name,
            user_id=DEMO.user_id,
            apps=[DEMO.web_client_id, DEMO.spa_client_id],
            groups=["Everyone"],
        )

    # -- lookups ----------------------------------------------------------------------------------

    def user_by_login(self, login: str) -> User | None:
        wanted = login.lower()
        for user in self.users.values():
            # Okta accepts the short name (before the @) as well as the full login.
            if user.login.lower() == wanted or user.login.lower().split("@")[0] == wanted:
                return user
        return None

    def check_password(self, user: User, password: str) -> bool:
        """True for the user's password. A wrong one counts toward lockout: at
        ``lockout_attempts`` failures in a row the user becomes LOCKED_OUT (authn and the
        password grant share the count, as Okta's password policy does)."""
        if secrets.compare_digest(user.password.encode(), password.encode()):
            user.failed_logins = 0
            return True
        user.failed_logins += 1
        if user.failed_logins >= self.lockout_attempts:
            user.status = "LOCKED_OUT"
        return False

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def app(self, client_id: str) -> App | None:
        return self.apps.get(client_id)

    def server(self, server_id: str) -> AuthServer | None:
        return self.servers.get(server_id)

    # -- authentication ---------------------------------------------------------------------------

    def new_transaction(self, user: User, status: str) -> str:
        token = "00" + opaque_token(30)
        self.transactions[token] = Transaction(
            user.id, status, self.clock.now() + self.STATE_TOKEN_LIFETIME
        )
        return token

    def transaction(self, state_token: str) -> Transaction | None:
        txn = self.transactions.get(state_token)
        if txn is None or txn.expires_at <= self.clock.now():
            return None
        # Okta's stateToken expiry slides with every request.
        txn.expires_at = self.clock.now() + self.STATE_TOKEN_LIFETIME
        return txn

    def issue_session_token(self, user: User, amr: list[str]) -> tuple[str, float]:
        token = "20111" + opaque_token(30)
        expires_at = self.clock.now() + self.SESSION_TOKEN_LIFETIME
        self.session_tokens[token] = SessionToken(user.id, expires_at, amr, self.clock.now())
        return token, expires_at

    def redeem_session_token(self, token: str) -> SessionToken | None:
        """Single use: a second redemption, or one after 5 minutes, finds nothing."""
        record = self.session_tokens.get(token)
        if record is None or record.used or record.expires_at <= self.clock.now():
            return None
        record.used = True
        return record

    def new_session(self, user_id: str, auth_time: float, amr: list[str]) -> str:
        sid = "102" + opaque_token(18)
        self.sessions[sid] = Session(
            user_id, auth_time, amr, self.clock.now() + self.SESSION_LIFETIME
        )
        return sid

    def session(self, sid: str) -> Session | None:
        record = self.sessions.get(sid)
        if record is None or record.expires_at <= self.clock.now():
            return None
        if self.users.get(record.user_id) is None:
            return None
        return record

    def check_totp(self, user: User, passcode: str) -> Literal["ok", "invalid", "replayed"]:
        """RFC 6238 with one step of drift either way; each step's code is accepted once."""
        if not user.totp_secret or not (passcode.isascii() and passcode.isdigit()):
            return "invalid"
        totp = pyotp.TOTP(user.totp_secret)
        now = self.clock.now()
        step_now = int(now // totp.interval)
        for step in (step_now, step_now - 1, step_now + 1):
            if secrets.compare_digest(totp.at(step * totp.interval).encode(), passcode.encode()):
                if step <= user.last_totp_step:
                    return "replayed"
                user.last_totp_step = step
                return "ok"
        return "invalid"

    # -- codes and tokens -------------------------------------------------------------------------

    def issue_code(self, **fields: Any) -> str:
        code = opaque_token(32)
        self.codes[code] = AuthCode(expires_at=self.clock.now() + self.CODE_LIFETIME, **fields)
        return code

    def issuer(self, base_url: str, server: AuthServer) -> str:
        return base_url if server.is_org else f"{base_url}/oauth2/{server.id}"

    def signing_key(self, server: AuthServer, *, access_token: bool) -> SigningKey:
        if server.is_org:
            return self.keys.get("org-access" if access_token else "org")
        return self.keys.get(f"as:{server.id}")

    def published_keys(self, server: AuthServer) -> list[dict[str, str]]:
        """The server's JWKS: 2 keys (facts 4.6: 2-3, order meaningless), the signing key and the
        next one, generated ahead of rotation and not signing yet. The unused key comes first, so
        a client that takes a key without matching the token's `kid` fails here as with Okta."""
        current = self.signing_key(server, access_token=False)
        upcoming = self.keys.get(f"next:{'org' if server.is_org else f'as:{server.id}'}")
        return [upcoming.public_jwk(), current.public_jwk()]

    def mint(
        self,
        *,
        base_url: str,
        server: AuthServer,
        app: App,
        user: User | None,
        scopes: list[str],
        auth_time: float | None = None,
        amr: list[str] | None = None,
        nonce: str | None = None,
        want_access: bool = True,
        want_id: bool = False,
        want_refresh: bool = False,
        family: str | None = None,
        code: str | None = None,
        thin_id_token: bool = False,
    ) -> MintedTokens:
        """Sign the tokens of one grant; records them for introspect, revoke and reuse detection."""
        now = int(self.clock.now())
        issuer = self.issuer(base_url, server)
        access_token = ""
        lifetime = server.access_token_lifetime
        refreshing = want_refresh and user is not None
        if refreshing and family is None:
            # The family exists before the access token: reuse detection revokes every access
            # token issued since the user authenticated, the first one included (facts 3.5).
            family = opaque_token(12)
        if want_access:
            jti = "AT." + opaque_token(32)
            claims: dict[str, Any] = {
                "ver": 1,
                "jti": jti,
                "iss": issuer,
                "aud": base_url if server.is_org else server.audience,
                "iat": now,
                "exp": now + lifetime,
                "cid": app.client_id,
            }
            if user is not None:
                claims["uid"] = user.id
            claims["scp"] = list(scopes)
            if user is not None:
                claims["auth_time"] = int(auth_time if auth_time is not None else now)
                claims["sub"] = user.login
            else:
                claims["sub"] = app.client_id
            key = self.signing_key(server, access_token=True)
            access_token = jwt.encode(
                claims, key.private_key, "RS256", headers={"kid": key.kid, "typ": None}
            )
            self.access_tokens[jti] = AccessRecord(
                server.id, app.client_id, user.id if user else None, family, now + lifetime
            )
        id_token = None
        if want_id and user is not None:
            id_token = self._mint_id_token(
                issuer,
                server,
                app,
                user,
                scopes,
                auth_time,
                amr,
                nonce,
                access_token,
                code,
                now,
                thin=thin_id_token,
            )
        refresh_token = None
        if refreshing and user is not None:
            refresh_token = self.issue_refresh_token(
                server, app, user, scopes, auth_time or now, amr or ["pwd"], family
            )
        return MintedTokens(access_token, lifetime, list(scopes), id_token, refresh_token)

    def _mint_id_token(
        self,
        issuer: str,
        server: AuthServer,
        app: App,
        user: User,
        scopes: list[str],
        auth_time: float | None,
        amr: list[str] | None,
        nonce: str | None,
        access_token: str,
        code: str | None,
        now: int,
        *,
        thin: bool = False,
    ) -> str:
        claims: dict[str, Any] = {
            "sub": user.id,
            "ver": 1,
            "iss": issuer,
            "aud": app.client_id,
            "iat": now,
            "exp": now + server.id_token_lifetime,
            "jti": "ID." + opaque_token(32),
            "amr": list(amr or ["pwd"]),
            "idp": self.org_id,
            "auth_time": int(auth_time if auth_time is not None else now),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        released = self.user_claims(user, scopes)
        if thin:
            # Facts 4.2: the org server's ID token sent with an access token (response_type with
            # both id_token and token) gets only these profile claims; the rest via /userinfo.
            released = {k: v for k, v in released.items() if k in THIN_ID_TOKEN_CLAIMS}
        claims.update(released)
        if access_token:
            claims["at_hash"] = half_hash(access_token)
        if code:
            claims["c_hash"] = half_hash(code)
        key = self.signing_key(server, access_token=False)
        return jwt.encode(claims, key.private_key, "RS256", headers={"kid": key.kid, "typ": None})

    def user_claims(self, user: User, scopes: Iterable[str]) -> dict[str, Any]:
        """The OIDC claims a user's granted scopes release (ID token and userinfo)."""
        granted = set(scopes)
        profile = user.profile
        claims: dict[str, Any] = {}
        if "profile" in granted:
            claims.update(
                {
                    "name": f"{profile.get('firstName', '')} {profile.get('lastName', '')}".strip(),
                    "given_name": profile.get("firstName"),
                    "family_name": profile.get("lastName"),
                    "preferred_username": user.login,
                    "locale": profile.get("locale"),
                    "zoneinfo": profile.get("timeZone"),
                    "updated_at": int(user.password_changed),
                }
            )
        if "email" in granted:
            claims["email"] = profile.get("email", user.login)
            claims["email_verified"] = True
        if "phone" in granted and profile.get("mobilePhone"):
            claims["phone_number"] = profile["mobilePhone"]
        if "address" in granted:
            claims["address"] = {
                k: profile[v]
                for k, v in (
                    ("street_address", "streetAddress"),
                    ("locality", "city"),
                    ("region", "state"),
                    ("postal_code", "zipCode"),
                    ("country", "countryCode"),
                )
                if profile.get(v)
            }
        if "groups" in granted:
            claims["groups"] = list(user.groups)
        return claims

    def issue_refresh_token(
        self,
        server: AuthServer,
        app: App,
        user: User,
        scopes: list[str],
        auth_time: float,
        amr: list[str],
        family: str | None,
        expires_at: float | None = None,
    ) -> str:
        token = opaque_token(32)
        now = self.clock.now()
        if expires_at is None and server.refresh_token_lifetime is not None:
            expires_at = now + server.refresh_token_lifetime
        self.refresh_tokens[token] = RefreshRecord(
            family=family or opaque_token(12),
            server_id=server.id,
            client_id=app.client_id,
            user_id=user.id,
            scopes=list(scopes),
            auth_time=auth_time,
            amr=list(amr),
            issued_at=now,
            expires_at=expires_at,
        )
        return token

    def revoke_family(self, family: str) -> None:
        """Reuse detected: the whole chain of refresh tokens and their access tokens dies."""
        self.revoked_families.add(family)
        for record in self.access_tokens.values():
            if record.family == family:
                record.revoked = True

    def verify_access_token(self, token: str, server: AuthServer) -> dict[str, Any] | None:
        """The claims of an access token this server issued that is still active, else None."""
        claims = self._verified_claims(token, server, access_token=True)
        if claims is None or not str(claims.get("jti", "")).startswith("AT."):
            return None
        record = self.access_tokens.get(str(claims["jti"]))
        if record is None or record.revoked or record.server_id != server.id:
            return None
        if record.family is not None and record.family in self.revoked_families:
            return None
        if float(claims.get("exp", 0)) <= self.clock.now():
            return None
        return claims

    def verify_id_token(
        self, token: str, server: AuthServer, *, check_expiry: bool = True
    ) -> dict[str, Any] | None:
        claims = self._verified_claims(token, server, access_token=False)
        if claims is None or not str(claims.get("jti", "")).startswith("ID."):
            return None
        if check_expiry and float(claims.get("exp", 0)) <= self.clock.now():
            return None
        return claims

    def _verified_claims(
        self, token: str, server: AuthServer, *, access_token: bool
    ) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        key = self.keys.by_kid(str(header.get("kid", "")))
        if key is None or key is not self.signing_key(server, access_token=access_token):
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        return claims


THIN_ID_TOKEN_CLAIMS = frozenset({"email", "name", "preferred_username"})


def half_hash(value: str) -> str:
    """OIDC at_hash / c_hash: base64url of the left half of SHA-256."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


def pkce_challenge(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())
