"""Token minting and verification: what the org signs, records and later recognises.

`TokenMinting` is a part of `Org` (model.py), split out by subject: it writes only the token
records (`access_tokens`, `refresh_tokens`, `revoked_families`), and only through these methods.

Claims follow Okta's token reference,
https://developer.okta.com/docs/reference/api/oidc/#tokens-and-claims: access tokens carry
`ver jti iss aud iat exp cid uid scp sub auth_time`, ID tokens `sub ver iss aud iat exp jti amr idp
auth_time nonce at_hash c_hash` plus the claims the granted scopes release.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jwt

from .ids import b64url, opaque_token
from .keys import Clock, KeyStore, SigningKey
from .records import AccessRecord, App, AuthServer, MintedTokens, RefreshRecord, User

THIN_ID_TOKEN_CLAIMS = frozenset({"email", "name", "preferred_username"})


@dataclass(frozen=True)
class TokenGrant:
    """Whom one grant's tokens are for, from which server and app, with what: what `plan`,
    `prepare` and `mint` take, so that the grants (code, implicit, refresh, ...) name it once."""

    base_url: str
    server: AuthServer
    app: App
    user: User | None
    scopes: list[str]
    auth_time: float | None = None
    amr: list[str] | None = None
    nonce: str | None = None


@dataclass(frozen=True)
class TokenPlan:
    """A grant's tokens before they are signed: their claims (the ID token's without `at_hash`,
    which needs the signed access token) and the keys to sign them with."""

    now: int
    access_claims: dict[str, Any] | None
    access_key: SigningKey | None
    id_claims: dict[str, Any] | None
    id_key: SigningKey | None
    c_hash: str | None

    def signs_like(self, other: TokenPlan) -> bool:
        """Whether both would sign the same tokens but for their random `jti`s: same claims
        (iat/exp, so the same clock second; scopes, nonce, auth_time, profile, issuer...), the
        same keys (a rotation in between changes them)."""
        return (
            self.access_key is other.access_key
            and self.id_key is other.id_key
            and self.c_hash == other.c_hash
            and _but_jti(self.access_claims) == _but_jti(other.access_claims)
            and _but_jti(self.id_claims) == _but_jti(other.id_claims)
        )


def _but_jti(claims: dict[str, Any] | None) -> dict[str, Any] | None:
    if claims is None:
        return None
    return {k: v for k, v in claims.items() if k != "jti"}


def _rs256(claims: dict[str, Any], key: SigningKey | None) -> str:
    assert key is not None
    return key.sign_jwt(claims)


def sign_plan(plan: TokenPlan) -> tuple[str, str | None]:
    """The access token (empty when none is wanted) and the ID token (or None), signed. One after
    the other: the ID token's `at_hash` is a hash of the signed access token."""
    access_token = _rs256(plan.access_claims, plan.access_key) if plan.access_claims else ""
    id_token = None
    if plan.id_claims is not None:
        claims = dict(plan.id_claims)
        if access_token:
            claims["at_hash"] = half_hash(access_token)
        if plan.c_hash:
            claims["c_hash"] = plan.c_hash
        id_token = _rs256(claims, plan.id_key)
    return access_token, id_token


class PreparedTokens:
    """A grant's tokens being signed ahead, on a background thread (OpenSSL signs with the GIL
    released, so this runs beside the request threads): an issued code's tokens, signed while its
    client reads the redirect and sends /token. Two RS256 signatures (~1 ms each) leave the
    critical path of a sign-in.

    Sound only when they are exactly what /token would sign: `take` compares the claims and keys
    /token would use with the prepared ones (the clock's second, scopes, nonce, profile, keys...),
    and hands out nothing otherwise. Nothing is recorded until the tokens are handed out (`mint`
    records them as it does freshly signed ones), and they are dropped with their code.
    """

    #: Signing jobs queued or running, across emulators: past this, codes are issued without
    #: preparing (each then signs at /token, as before), so codes never redeemed cannot pile work.
    MAX_PENDING = 8
    _pool: ThreadPoolExecutor | None = None
    _pending = 0
    _lock = threading.Lock()

    __slots__ = ("_future", "_pid", "plan")

    def __init__(self, plan: TokenPlan, future: Future[tuple[str, str | None]]) -> None:
        self.plan = plan
        self._future = future
        # A forked child has no signing thread: what was being signed then never ends there.
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return "PreparedTokens(...)"

    @classmethod
    def start(cls, plan: TokenPlan) -> PreparedTokens | None:
        with cls._lock:
            if cls._pending >= cls.MAX_PENDING:
                return None
            cls._pending += 1
            if cls._pool is None:
                # Process-wide, threads made on demand: an emulator started and stopped per test
                # leaves no threads of its own behind.
                workers = max(1, min(4, os.cpu_count() or 1))
                cls._pool = ThreadPoolExecutor(workers, thread_name_prefix="okta-emulator-sign")
            pool = cls._pool
        try:
            future = pool.submit(sign_plan, plan)
        except RuntimeError:  # the interpreter is shutting down
            cls._done()
            return None
        # Called once the job has run or been cancelled, whichever comes.
        future.add_done_callback(cls._done)
        return cls(plan, future)

    @classmethod
    def _done(cls, _: object = None) -> None:
        with cls._lock:
            cls._pending -= 1

    def take(self, plan: TokenPlan) -> tuple[str, str | None] | None:
        """The prepared tokens if `plan` (what would be signed now) signs like them, else None
        (and the work is dropped). A job not begun yet is cancelled: signing on the request's
        thread is as quick as waiting for it."""
        future = self._future
        if not self.plan.signs_like(plan) or self._pid != os.getpid():
            future.cancel()
            return None
        if future.cancel():
            return None
        return self.wait()

    def wait(self) -> tuple[str, str | None] | None:
        """The tokens once signed (None if the signing failed or was cancelled)."""
        if self._pid != os.getpid():
            return None
        try:
            return self._future.result()
        except Exception:  # CancelledError included
            return None


def _forget_signers() -> None:
    """A forked child starts with no signing thread and nothing pending (the parent's pool object
    would queue jobs no thread runs)."""
    PreparedTokens._pool = None
    PreparedTokens._pending = 0
    PreparedTokens._lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_signers)


class TokenMinting:
    """Signing, recording, revoking and verifying tokens; mixed into `Org`, which owns the state."""

    clock: Clock
    keys: KeyStore
    org_id: str
    access_tokens: dict[str, AccessRecord]
    refresh_tokens: dict[str, RefreshRecord]
    revoked_families: set[str]
    servers: dict[str, AuthServer]

    def _added(self) -> None: ...

    def issuer(self, base_url: str, server: AuthServer) -> str:
        return base_url if server.is_org else f"{base_url}/oauth2/{server.id}"

    def signing_key(self, server: AuthServer, *, access_token: bool) -> SigningKey:
        if server.is_org:
            return self.keys.get("org-access" if access_token else "org")
        return self.keys.get(f"as:{server.id}")

    def first_sign_in_keys(self) -> list[str]:
        """The keys a first sign-in at the default custom server needs: its signing key and the
        next one (both in its JWKS). The org server's and other servers' keys are made on first
        use: making every key ahead would take CPU from the sign-ins of a busy machine."""
        default = self.servers.get("default")
        if default is None or default.is_org:
            return []
        return [f"as:{default.id}", f"next:as:{default.id}"]

    def published_keys(self, server: AuthServer) -> list[dict[str, str]]:
        """The server's JWKS: 2 keys, the signing key and the next one, generated ahead of rotation
        and not signing yet. Okta publishes 2-3 keys in no meaningful order
        (https://developer.okta.com/docs/concepts/key-rotation/); the unused key comes first, so a
        client that takes a key without matching the token's `kid` fails here as with Okta."""
        current = self.signing_key(server, access_token=False)
        upcoming = self.keys.get(f"next:{'org' if server.is_org else f'as:{server.id}'}")
        return [upcoming.public_jwk(), current.public_jwk()]

    def mint(
        self,
        grant: TokenGrant,
        *,
        want_access: bool = True,
        want_id: bool = False,
        want_refresh: bool = False,
        family: str | None = None,
        code: str | None = None,
        thin_id_token: bool = False,
        prepared: PreparedTokens | None = None,
    ) -> MintedTokens:
        """Sign the tokens of one grant; records them for introspect, revoke and reuse detection.

        prepared: tokens `prepare` began signing for this grant; handed out instead only if they
        hold exactly what would be signed now (see `PreparedTokens.take`).
        """
        plan = self.plan(
            grant, want_access=want_access, want_id=want_id, code=code, thin_id_token=thin_id_token
        )
        signed = None
        if prepared is not None:
            signed = prepared.take(plan)
            if signed is not None:
                plan = prepared.plan  # what was signed: the same claims, its own jti
        if signed is None:
            signed = sign_plan(plan)
        access_token, id_token = signed
        now = plan.now
        server, app, user = grant.server, grant.app, grant.user
        lifetime = server.access_token_lifetime
        refreshing = want_refresh and user is not None
        if refreshing and family is None:
            # The family exists before the access token: reuse detection revokes every access
            # token issued since the user authenticated, the first one included
            # (https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-reuse-detection).
            family = opaque_token(12)
        if plan.access_claims is not None:
            # Recorded only now, when handed out: a prepared token never handed out (its code
            # not redeemed, or redeemed when its claims no longer held) was never issued.
            self.access_tokens[plan.access_claims["jti"]] = AccessRecord(
                server.id, app.client_id, user.id if user else None, family, now + lifetime
            )
            self._added()
        refresh_token = None
        if refreshing and user is not None:
            refresh_token = self.issue_refresh_token(
                server,
                app,
                user,
                grant.scopes,
                grant.auth_time or now,
                grant.amr or ["pwd"],
                family,
            )
        return MintedTokens(access_token, lifetime, list(grant.scopes), id_token, refresh_token)

    def prepare(self, grant: TokenGrant, *, want_id: bool) -> PreparedTokens | None:
        """Begin signing, off the request's thread, the tokens a grant is expected to hand out
        soon (an issued code's, at /token, with an access token). Nothing is recorded; None when
        the signers are busy (the grant then signs as it always did)."""
        return PreparedTokens.start(self.plan(grant, want_id=want_id))

    def plan(
        self,
        grant: TokenGrant,
        *,
        want_access: bool = True,
        want_id: bool = False,
        code: str | None = None,
        thin_id_token: bool = False,
    ) -> TokenPlan:
        """What the grant's tokens hold (their claims and keys), before they are signed."""
        base_url, server, app, user, scopes = (
            grant.base_url,
            grant.server,
            grant.app,
            grant.user,
            grant.scopes,
        )
        auth_time, amr, nonce = grant.auth_time, grant.amr, grant.nonce
        now = int(self.clock.now())
        issuer = self.issuer(base_url, server)
        access_claims: dict[str, Any] | None = None
        access_key: SigningKey | None = None
        if want_access:
            lifetime = server.access_token_lifetime
            access_claims = {
                "ver": 1,
                "jti": "AT." + opaque_token(32),
                "iss": issuer,
                "aud": base_url if server.is_org else server.audience,
                "iat": now,
                "exp": now + lifetime,
                "cid": app.client_id,
            }
            if user is not None:
                access_claims["uid"] = user.id
            access_claims["scp"] = list(scopes)
            if user is not None:
                access_claims["auth_time"] = int(auth_time if auth_time is not None else now)
                access_claims["sub"] = user.login
            else:
                access_claims["sub"] = app.client_id
            access_key = self.signing_key(server, access_token=True)
        id_claims: dict[str, Any] | None = None
        id_key: SigningKey | None = None
        if want_id and user is not None:
            id_claims = self._id_claims(
                issuer, server, app, user, scopes, auth_time, amr, nonce, now, thin=thin_id_token
            )
            id_key = self.signing_key(server, access_token=False)
        return TokenPlan(
            now, access_claims, access_key, id_claims, id_key, half_hash(code) if code else None
        )

    def _id_claims(
        self,
        issuer: str,
        server: AuthServer,
        app: App,
        user: User,
        scopes: list[str],
        auth_time: float | None,
        amr: list[str] | None,
        nonce: str | None,
        now: int,
        *,
        thin: bool = False,
    ) -> dict[str, Any]:
        """An ID token's claims but `at_hash` and `c_hash` (added as it is signed)."""
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
            # The org server's ID token sent with an access token (response_type with both
            # id_token and token) gets only these profile claims; the rest via /userinfo
            # (https://developer.okta.com/docs/reference/api/oidc/#scope-dependent-claims-not-always-returned).
            released = {k: v for k, v in released.items() if k in THIN_ID_TOKEN_CLAIMS}
        claims.update(released)
        return claims

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
        self._added()
        return token

    def rotate_refresh_token(
        self, record: RefreshRecord, server: AuthServer, app: App, user: User, *, now: float
    ) -> str:
        """A successor for a refresh token of a ROTATE app: same family and absolute expiry; the
        old token keeps working for the app's leeway, counted from its first rotation (`now`)."""
        if record.rotated_at is None:
            record.rotated_at = now
        return self.issue_refresh_token(
            server,
            app,
            user,
            record.scopes,
            record.auth_time,
            record.amr,
            record.family,
            expires_at=record.expires_at,
        )

    def revoke_access_token(self, jti: str) -> None:
        record = self.access_tokens.get(jti)
        if record is not None:
            record.revoked = True

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


def half_hash(value: str) -> str:
    """OIDC at_hash / c_hash: base64url of the left half of SHA-256."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 section 4.2, S256: base64url(SHA-256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())
