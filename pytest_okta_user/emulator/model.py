"""The emulated Okta org: all its state, and the only code that writes it.

No HTTP here (moto style): the rules modules (`authn.py`, `authorize.py`, `clientauth.py`,
`oauth.py`, `discovery.py`) read `Org` and change it through its methods; `app.py` turns
requests into calls on the rules. Every expiry and the per-user rate limiter read `Org.clock`, so a
test moves time with `clock.advance()` instead of sleeping. The records live in `records.py`, the
clock and keys in `keys.py`, token minting in `minting.py` (a part of `Org`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pyotp

from .ids import okta_id, opaque_token
from .keys import Clock, KeyStore
from .minting import PreparedTokens, TokenMinting
from .policies import POLICIES
from .ratelimits import RateLimiter
from .records import (
    CORS,
    DEMO,
    KNOWN_GRANTS,
    OIDC_SCOPES,
    OIE_GRANTS,
    ORG_SERVER_ID,
    REDIRECT,
    AccessRecord,
    App,
    AppType,
    AuthCode,
    AuthServer,
    IdxTransaction,
    MfaToken,
    RefreshRecord,
    Session,
    SessionToken,
    Transaction,
    TrustedOrigin,
    User,
    origin_of,
)


class Org(TokenMinting):
    """All state of the emulated org; the HTTP layer holds `lock` for each request.

    Configure with `add_user`, `add_app`, `add_auth_server` and the settings attributes
    (`rate_limits`, `show_lockout_failures`, `lockout_attempts`, `pipeline`).
    """

    SESSION_TOKEN_LIFETIME = 300
    STATE_TOKEN_LIFETIME = 300
    CODE_LIFETIME = 300
    SESSION_LIFETIME = 7200
    ORG_REFRESH_LIFETIME = 90 * 24 * 3600
    #: Records added between two sweeps of what has expired or been used (`_sweep`): memory stays
    #: proportional to the records still alive, whatever the number of sign-ins.
    SWEEP_EVERY = 256

    def __init__(self, clock: Clock, keys: KeyStore) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.keys = keys
        self.org_id = DEMO.org_id
        self.rate_limits = True
        self.show_lockout_failures = False
        self.lockout_attempts = 10
        self.pipeline = "v1"
        # Identity Engine's "Embedded widget sign-in support" (the Interaction Code flow).
        self.embedded_signin = True
        self.users: dict[str, User] = {}
        self.apps: dict[str, App] = {}
        self.servers: dict[str, AuthServer] = {}
        self.trusted_origins: dict[str, TrustedOrigin] = {}
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
        self.mfa_tokens: dict[str, MfaToken] = {}
        self.idx_transactions: dict[str, IdxTransaction] = {}
        self._added_since_sweep = 0
        self.limiter.clear()

    def _added(self) -> None:
        """Count a new runtime record; every SWEEP_EVERY of them, drop the dead ones."""
        self._added_since_sweep += 1
        if self._added_since_sweep >= self.SWEEP_EVERY:
            self._sweep()

    def _sweep(self) -> None:
        """Drop records that can no longer change an answer: expired ones, used codes and
        sessionTokens (a used one and an unknown one are answered alike), and revoked refresh
        families none of whose tokens is left. Called with `lock` held, as every writer is."""
        self._added_since_sweep = 0
        now = self.clock.now()
        for store in (
            self.transactions,
            self.sessions,
            self.access_tokens,
            self.mfa_tokens,
            self.idx_transactions,
        ):
            for key in [k for k, r in store.items() if r.expires_at <= now]:
                del store[key]
        for key in [k for k, r in self.session_tokens.items() if r.used or r.expires_at <= now]:
            del self.session_tokens[key]
        for key in [k for k, r in self.codes.items() if r.used or r.expires_at <= now]:
            del self.codes[key]
        for key in [
            k
            for k, r in self.refresh_tokens.items()
            if r.expires_at is not None and r.expires_at <= now
        ]:
            del self.refresh_tokens[key]
        if self.revoked_families:
            alive = {r.family for r in self.refresh_tokens.values()}
            alive |= {r.family for r in self.access_tokens.values() if r.family is not None}
            self.revoked_families &= alive

    def record_counts(self) -> dict[str, int]:
        """How many records each runtime store holds (tests check they stay bounded)."""
        with self.lock:
            return {
                "transactions": len(self.transactions),
                "session_tokens": len(self.session_tokens),
                "sessions": len(self.sessions),
                "codes": len(self.codes),
                "refresh_tokens": len(self.refresh_tokens),
                "revoked_families": len(self.revoked_families),
                "access_tokens": len(self.access_tokens),
                "used_assertions": len(self.used_assertions),
            }

    def clear(self) -> None:
        """Forget every user, app, custom server, session and token (the org server stays)."""
        with self.lock:
            self.users.clear()
            self.apps.clear()
            self.trusted_origins.clear()
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
        policy: str = "password",
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
        policy: the app's authentication policy on Identity Engine: `password`, `password+totp`
            or `any` (one factor); see `policies.py`.
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
            if grant not in KNOWN_GRANTS + OIE_GRANTS:
                known = ", ".join(KNOWN_GRANTS + OIE_GRANTS)
                raise ValueError(f"unknown grant type {grant!r}; known: {known}")
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}: {policy!r}")
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
            policy=policy,
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

    def add_trusted_origin(
        self, origin: str, *, scopes: Iterable[str] = (CORS, REDIRECT), name: str = ""
    ) -> TrustedOrigin:
        """Add (or replace) a Trusted Origin.

        origin: `scheme://host[:port]`, exactly as a browser sends it in `Origin` (no path, no
            trailing slash: Okta matches origins exactly).
        scopes: CORS (browser JavaScript may call Okta's APIs from it) and/or REDIRECT.
        """
        wanted = {str(scope).upper() for scope in scopes}
        if not wanted or not wanted <= {CORS, REDIRECT}:
            raise ValueError(f"scopes must be CORS and/or REDIRECT: {sorted(wanted)}")
        canonical = origin_of(origin)
        if canonical is None or canonical != origin.lower():
            raise ValueError(
                f"origin must be scheme://host[:port] with no path, as browsers send it: {origin!r}"
            )
        trusted = TrustedOrigin(canonical, frozenset(wanted), name or canonical)
        with self.lock:
            self.trusted_origins[canonical] = trusted
        return trusted

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
        # The Admin Console adds an SPA's redirect-URI origin as a CORS Trusted Origin when it
        # creates the app (Okta's answer in okta/samples-js-react#57).
        self.add_trusted_origin(str(origin_of(DEMO.spa_redirect_uri)), name="Demo SPA")
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
        self.add_user(
            DEMO.admin_login,
            DEMO.admin_password,
            first_name=DEMO.admin_first_name,
            last_name=DEMO.admin_last_name,
            user_id=DEMO.admin_id,
            totp_secret=DEMO.admin_totp_secret,
            apps=[DEMO.web_client_id, DEMO.spa_client_id],
            groups=["Everyone", "Admins"],
        )
        if self.pipeline == "idx":
            self.seed_identity_engine()

    def seed_identity_engine(self) -> None:
        """The demo org on Identity Engine: the demo apps ask for password + TOTP and have the
        Interaction Code and Direct Authentication grants (as does the `default` server's policy
        rule), and the demo user is enrolled in TOTP."""
        with self.lock:
            for client_id in (DEMO.web_client_id, DEMO.spa_client_id):
                app = self.apps[client_id]
                app.policy = "password+totp"
                app.grant_types += [g for g in OIE_GRANTS if g not in app.grant_types]
            server = self.servers[DEMO.auth_server_id]
            server.grant_types += [g for g in OIE_GRANTS if g not in server.grant_types]
            user = self.users[DEMO.user_id]
            user.totp_secret = DEMO.user_totp_secret
            user.factor_id = user.factor_id or okta_id("uft")

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

    def set_password(self, user: User, password: str) -> None:
        """A changed password, which ends PASSWORD_EXPIRED: the user is ACTIVE again."""
        user.password = password
        user.status = "ACTIVE"
        user.password_changed = self.clock.now()

    def user_limit_reset(self, bucket: str, who: str) -> float | None:
        """Count a request against Okta's per-user limit (when `rate_limits` is on): None while the
        user is within it, else the epoch second at which the window resets."""
        if not self.rate_limits:
            return None
        allowed, reset = self.limiter.hit(bucket, who)
        return None if allowed else reset

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
        self._added()
        return token

    def end_transaction(self, state_token: str) -> None:
        self.transactions.pop(state_token, None)

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
        self._added()
        return token, expires_at

    def redeem_session_token(self, token: str) -> SessionToken | None:
        """Single use: a second redemption, or one after 5 minutes, finds nothing."""
        # Gone once used: a used sessionToken and an unknown one are answered alike.
        record = self.session_tokens.pop(token, None)
        if record is None or record.used or record.expires_at <= self.clock.now():
            return None
        record.used = True
        return record

    def new_session(self, user_id: str, auth_time: float, amr: list[str]) -> str:
        sid = "102" + opaque_token(18)
        now = self.clock.now()
        self.sessions[sid] = Session(user_id, auth_time, amr, now + self.SESSION_LIFETIME, now)
        self._added()
        return sid

    def session(self, sid: str) -> Session | None:
        record = self.sessions.get(sid)
        if record is None or record.expires_at <= self.clock.now():
            return None
        if self.users.get(record.user_id) is None:
            return None
        return record

    def end_sessions(self, user_id: Any, sid: str) -> None:
        """Log out every session of `user_id`, and the browser's own `sid` whoever it belongs to."""
        for other in [s for s, record in self.sessions.items() if record.user_id == user_id]:
            del self.sessions[other]
        self.sessions.pop(sid, None)

    def end_session(self, sid: str) -> None:
        """Close this one session (DELETE /api/v1/sessions/me), the user's others stay."""
        self.sessions.pop(sid, None)

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
        self._added()
        return code

    def live_code(self, code: str) -> AuthCode | None:
        """The code's record while it can still be redeemed: issued, unused and unexpired."""
        record = self.codes.get(code)
        if record is None or record.used or record.expires_at <= self.clock.now():
            return None
        return record

    def use_code(self, record: AuthCode) -> PreparedTokens | None:
        """Mark the code used; its prepared tokens (if any) are the caller's, no longer its."""
        record.used = True
        prepared, record.prepared = record.prepared, None
        return prepared

    def use_assertion(self, marker: str, until: float) -> bool:
        """Record a client assertion's `jti` until it expires; False if it was seen already."""
        now = self.clock.now()
        for old in [k for k, expiry in self.used_assertions.items() if expiry <= now]:
            del self.used_assertions[old]
        if marker in self.used_assertions:
            return False
        self.used_assertions[marker] = until
        return True

    # -- Identity Engine: Direct Authentication and Interaction Code ------------------------------

    #: Undocumented by Okta (only its expiry error is, `direct_auth_expired_token`); 5 minutes, as
    #: a Classic stateToken lives.
    MFA_TOKEN_LIFETIME = 300
    #: An IDX transaction's life, renewed by each request (the `expiresAt` of Okta's IDX states).
    IDX_LIFETIME = 600

    def new_mfa_token(self, user: User, client_id: str, server_id: str, scopes: list[str]) -> str:
        token = opaque_token(20)
        now = self.clock.now()
        self.mfa_tokens[token] = MfaToken(
            user.id, client_id, server_id, scopes, now, now + self.MFA_TOKEN_LIFETIME
        )
        self._added()
        return token

    def live_mfa_token(self, token: str) -> MfaToken | None:
        record = self.mfa_tokens.get(token)
        if record is None or record.expires_at <= self.clock.now():
            return None
        return record

    def end_mfa_token(self, token: str) -> None:
        self.mfa_tokens.pop(token, None)

    def new_idx_transaction(self, **fields: Any) -> IdxTransaction:
        """A transaction reachable by its interaction handle and its state handle (one record
        under both keys, `h:` and `s:`), and later by its interaction code (`c:`)."""
        txn = IdxTransaction(
            interaction_handle=opaque_token(32),
            state_handle="02" + opaque_token(30),
            expires_at=self.clock.now() + self.IDX_LIFETIME,
            **fields,
        )
        self.idx_transactions["h:" + txn.interaction_handle] = txn
        self.idx_transactions["s:" + txn.state_handle] = txn
        self._added()
        return txn

    def idx_transaction(self, *, handle: str = "", state: str = "") -> IdxTransaction | None:
        """The live transaction of an interaction handle or a state handle; each use renews it."""
        key = "h:" + handle if handle else "s:" + state
        txn = self.idx_transactions.get(key) if (handle or state) else None
        now = self.clock.now()
        if txn is None or txn.expires_at <= now or txn.step == "cancelled":
            return None
        txn.expires_at = now + self.IDX_LIFETIME
        return txn

    def issue_interaction_code(self, txn: IdxTransaction) -> str:
        code = opaque_token(32)
        txn.step = "success"
        txn.interaction_code = code
        self.idx_transactions["c:" + code] = txn
        return code

    def redeem_interaction_code(self, code: str) -> IdxTransaction | None:
        """The transaction an unused, unexpired interaction code came from, now used."""
        txn = self.idx_transactions.pop("c:" + code, None)
        if txn is None or txn.code_used or txn.expires_at <= self.clock.now():
            return None
        txn.code_used = True
        return txn
