"""What a token set is, which request it answers (its variant), and how its tokens are verified.

`Variant` is the cache key: two requests that differ in any field never share tokens.
`TokenSet` holds the secrets; its repr shows only a short fingerprint.
`verify_id_token` / `verify_access_token` check tokens with PyJWT against the issuer's JWKS
(`KeySet`), on an injected clock. `RedactedStr` / `SecretDict` keep secrets out of reprs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from .errors import AUTH_SERVER, CLIENT_ID, DOMAIN, TokenVerificationError

#: Bumped when the serialised shape of a TokenSet or Variant changes; older cache entries are then
#: refetched.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Variant:
    """One distinct way of getting tokens: each variant is exchanged at most once per run."""

    issuer: str
    """The authorization server's issuer: ``https://org`` (org server) or ``https://org/oauth2/{id}``."""
    client_id: str
    user: str | None
    """The login, or None for client_credentials."""
    flow: str
    """``code``, ``pkce``, ``implicit``, ``password`` or ``client_credentials``."""
    scopes: tuple[str, ...]
    redirect_uri: str | None = None
    instance: str = ""
    """Tells emulator instances apart (their signing keys differ), so an earlier emulator's tokens
    are never served."""

    def __post_init__(self) -> None:
        # Scope order never makes a different variant.
        object.__setattr__(self, "scopes", tuple(sorted(set(self.scopes))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "user": self.user,
            "flow": self.flow,
            "scopes": list(self.scopes),
            "redirect_uri": self.redirect_uri,
            "instance": self.instance,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Variant:
        return cls(
            issuer=str(data["issuer"]),
            client_id=str(data["client_id"]),
            user=None if data.get("user") is None else str(data["user"]),
            flow=str(data["flow"]),
            scopes=tuple(str(s) for s in data["scopes"]),
            redirect_uri=None if data.get("redirect_uri") is None else str(data["redirect_uri"]),
            instance=str(data.get("instance", "")),
        )

    @property
    def key(self) -> str:
        """A stable hash of every field: safe for file names and logs (no user name, no secret)."""
        canonical = json.dumps(
            [FORMAT_VERSION, self.to_dict()], sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def describe(self) -> str:
        """A short human label (no secrets): for messages and report lines."""
        who = self.user if self.user is not None else "(client)"
        return (
            f"{self.flow} flow for {who} at {self.issuer}"
            f" (client {self.client_id}, scopes {' '.join(self.scopes)})"
        )


def fingerprint(secret: str | None) -> str:
    """A short, non-reversible tag for telling secrets apart in output (never the secret itself)."""
    if not secret:
        return "-"
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


@dataclass(frozen=True, repr=False)
class TokenSet:
    """The tokens one exchange produced. Never printed in full: see ``__repr__``."""

    access_token: str | None
    token_type: str
    expires_at: float
    """Epoch seconds at which the access token (or, for implicit id_token-only, the ID token)
    expires."""
    scopes: tuple[str, ...]
    id_token: str | None = None
    refresh_token: str | None = None
    access_claims: Mapping[str, Any] = field(default_factory=dict)
    """Decoded (and, where the issuer publishes its key, verified) access-token claims; empty if
    opaque."""
    id_claims: Mapping[str, Any] = field(default_factory=dict)
    """Verified ID-token claims; empty when no ID token was issued."""
    obtained_at: float = 0.0
    user: Mapping[str, Any] = field(default_factory=dict)
    """Who signed in: ``_embedded.user`` of the authn answer (id, profile with login); empty for
    service apps."""

    def expires_in(self, now: float) -> float:
        return self.expires_at - now

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "scopes": list(self.scopes),
            "id_token": self.id_token,
            "refresh_token": self.refresh_token,
            "access_claims": dict(self.access_claims),
            "id_claims": dict(self.id_claims),
            "obtained_at": self.obtained_at,
            "user": dict(self.user),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(
            access_token=data.get("access_token"),
            token_type=str(data.get("token_type", "Bearer")),
            expires_at=float(data["expires_at"]),
            scopes=tuple(str(s) for s in data.get("scopes", ())),
            id_token=data.get("id_token"),
            refresh_token=data.get("refresh_token"),
            access_claims=dict(data.get("access_claims") or {}),
            id_claims=dict(data.get("id_claims") or {}),
            obtained_at=float(data.get("obtained_at", 0.0)),
            user=dict(data.get("user") or {}),
        )

    def __repr__(self) -> str:
        return (
            f"TokenSet(access_token=<{fingerprint(self.access_token)}>,"
            f" id_token=<{fingerprint(self.id_token)}>,"
            f" refresh_token=<{fingerprint(self.refresh_token)}>,"
            f" scopes={' '.join(self.scopes)!r}, expires_at={self.expires_at:.0f})"
        )

    __str__ = __repr__


# --- Secrets in transit ---------------------------------------------------------------------------


class RedactedStr(str):
    """A string that never shows itself in a repr: for secrets held in locals, so tracebacks shown
    with ``--showlocals`` (and any accidental ``%r``) print ``<redacted>`` instead of the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<redacted {fingerprint(self)}>"


class SecretDict(dict[str, Any]):
    """A mapping that carries secrets (tokens, sessionToken): its repr shows the keys only."""

    def __repr__(self) -> str:
        return f"SecretDict(keys={sorted(self)!r})"


# --- Verification ---------------------------------------------------------------------------------

#: Seconds of clock skew tolerated between this machine (or the injected clock) and Okta.
LEEWAY = 30.0


def org_url(issuer: str) -> str:
    """The org URL of an issuer: the issuer minus any ``/oauth2/...`` path."""
    base = issuer.rstrip("/")
    marker = base.find("/oauth2/")
    if marker >= 0:
        return base[:marker]
    if base.endswith("/oauth2"):
        return base[: -len("/oauth2")]
    return base


def is_org_server(issuer: str) -> bool:
    """True for the org authorization server (issuer == org URL): its access tokens are opaque."""
    return org_url(issuer) == issuer.rstrip("/")


def endpoint(issuer: str, name: str) -> str:
    """An issuer's endpoint by name: ``{org}/oauth2/v1/{name}`` or ``{issuer}/v1/{name}``."""
    base = issuer.rstrip("/")
    if is_org_server(base):
        return f"{base}/oauth2/v1/{name}"
    return f"{base}/v1/{name}"


class KeySet:
    """An issuer's JWKS: fetched on first use, and once more when a token names an unknown
    ``kid`` (Okta rotates keys, sometimes in an emergency)."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]]) -> None:
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._refetched = False

    def _load(self) -> dict[str, jwt.PyJWK]:
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in self._fetch().get("keys") or ():
            if not isinstance(jwk, Mapping) or "kid" not in jwk:
                continue
            try:
                keys[str(jwk["kid"])] = jwt.PyJWK(dict(jwk))
            except jwt.PyJWTError:
                continue  # a key type we cannot use (e.g. an encryption key) is simply not ours
        return keys

    def get(self, kid: str) -> jwt.PyJWK | None:
        if self._keys is None:
            self._keys = self._load()
        if kid not in self._keys and not self._refetched:
            self._refetched = True
            self._keys = self._load()
        return self._keys.get(kid)


def _fail(kind: str, issuer: str, reason: str, fix: str) -> TokenVerificationError:
    return TokenVerificationError(f"The {kind} from {issuer} failed verification: {reason}.", fix)


def _check_times(
    claims: Mapping[str, Any], *, kind: str, issuer: str, now: float, leeway: float
) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise _fail(kind, issuer, "it has no 'exp' claim", "report this: Okta always sets 'exp'.")
    if exp < now - leeway:
        raise _fail(
            kind,
            issuer,
            f"it expired {now - exp:.0f} s ago",
            "this machine's clock is off, or the token was held too long; run again"
            " (with --okta-clear-cache if it came from the cache).",
        )
    iat = claims.get("iat")
    if isinstance(iat, (int, float)) and iat > now + leeway:
        raise _fail(
            kind,
            issuer,
            f"it was issued {iat - now:.0f} s in the future",
            "this machine's clock is behind; synchronise it (NTP).",
        )


def _verify(
    token: str,
    *,
    kind: str,
    issuer: str,
    keys: KeySet,
    audience: str | None,
    clock: Callable[[], float],
    leeway: float,
) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _fail(
            kind, issuer, "it is not a JWT", f"check that {DOMAIN} points at Okta."
        ) from None
    kid = str(header.get("kid") or "")
    key = keys.get(kid)
    if key is None:
        raise _fail(
            kind,
            issuer,
            f"its signing key (kid {kid or '-'}) is not in the issuer's JWKS",
            f"check {DOMAIN} and {AUTH_SERVER}: the token must come from the issuer whose keys"
            " we read.",
        )
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            # Time is checked against the injected clock below, so tests can move it.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": audience is not None,
                "require": ["iss", "exp"],
            },
        )
    except jwt.InvalidIssuerError:
        got = jwt.decode(token, options={"verify_signature": False}).get("iss")
        raise _fail(
            kind,
            issuer,
            f"its issuer is {got!r}, not {issuer!r}",
            f"set {DOMAIN} / {AUTH_SERVER} so the issuer is exactly the one Okta names"
            " (a custom URL domain changes it).",
        ) from None
    except jwt.InvalidAudienceError:
        raise _fail(
            kind,
            issuer,
            f"its audience is not client {audience}",
            f"check {CLIENT_ID}.",
        ) from None
    except jwt.InvalidSignatureError:
        raise _fail(
            kind,
            issuer,
            "its signature does not match the issuer's key",
            f"check that {DOMAIN} reaches Okta itself, not a proxy answering in its place.",
        ) from None
    except jwt.PyJWTError as exc:
        reason = type(exc).__name__
        raise _fail(kind, issuer, reason, f"check {DOMAIN} and {AUTH_SERVER}.") from None
    _check_times(claims, kind=kind, issuer=issuer, now=clock(), leeway=leeway)
    return claims


def verify_id_token(
    token: str,
    *,
    issuer: str,
    client_id: str,
    keys: KeySet,
    clock: Callable[[], float],
    nonce: str | None = None,
    access_token: str | None = None,
    code: str | None = None,
    leeway: float = LEEWAY,
) -> dict[str, Any]:
    """The ID token's claims, after checking signature (JWKS), iss, aud, exp and nonce.

    ``access_token`` / ``code``: what came with the ID token in the same answer; when the token
    carries ``at_hash`` / ``c_hash`` (facts 4.2), they must be the hashes of these.
    """
    claims = _verify(
        token,
        kind="ID token",
        issuer=issuer,
        keys=keys,
        audience=client_id,
        clock=clock,
        leeway=leeway,
    )
    if nonce is not None and claims.get("nonce") != nonce:
        raise _fail(
            "ID token",
            issuer,
            "its nonce is not the one we sent",
            "the answer belongs to another sign-in (a replay or a caching proxy); run again.",
        )
    check_token_hashes(claims, issuer=issuer, access_token=access_token, code=code)
    return claims


def half_hash(value: str) -> str:
    """OIDC ``at_hash`` / ``c_hash`` for RS256: base64url (unpadded) of the left half of the
    SHA-256 of the value's ASCII octets."""
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def check_token_hashes(
    id_claims: Mapping[str, Any],
    *,
    issuer: str,
    access_token: str | None = None,
    code: str | None = None,
) -> None:
    """Refuse an ID token whose ``at_hash`` / ``c_hash`` names another access token / code.

    Each hash is checked when the ID token carries it and the value it covers came with it; an ID
    token without the claim is not refused (Okta sets them only alongside those values).
    """
    for claim, value, what in (
        ("at_hash", access_token, "access token"),
        ("c_hash", code, "authorization code"),
    ):
        expected = id_claims.get(claim)
        if expected is None or not value:
            continue
        if not hmac.compare_digest(str(expected).encode(), half_hash(value).encode()):
            raise TokenVerificationError(
                f"The ID token from {issuer} does not belong to the {what} that came with it"
                f" (its {claim} names another one).",
                "the answer was altered or mixed with another sign-in's (a proxy or a mix-up);"
                f" check that {DOMAIN} reaches Okta itself, then run again.",
            )


def verify_access_token(
    token: str,
    *,
    issuer: str,
    keys: KeySet,
    clock: Callable[[], float],
    leeway: float = LEEWAY,
) -> dict[str, Any]:
    """The access token's claims.

    Custom authorization servers publish the signing key: signature, ``iss`` and ``exp`` are
    checked (``aud`` is whatever the server issues, so it is recorded, not checked). The org server
    signs its access tokens with a key it does not publish (they are meant for Okta only), so those
    are decoded without verification; an access token that is not a JWT gives no claims.
    """
    if is_org_server(issuer):
        try:
            return dict(jwt.decode(token, options={"verify_signature": False}))
        except jwt.PyJWTError:
            return {}
    return _verify(
        token,
        kind="access token",
        issuer=issuer,
        keys=keys,
        audience=None,
        clock=clock,
        leeway=leeway,
    )
