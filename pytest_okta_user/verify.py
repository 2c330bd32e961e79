"""Verifying what Okta issued: the issuer's key set, ID and access tokens, and their hashes.

Pure functions over data the caller hands in (the tokens, the JWKS it fetched, a clock): no
network here. The recipe in ``flows`` fetches the issuer's JWKS through the client when a token
names a key the :class:`KeySet` lacks (:meth:`KeySet.wants`), then calls :func:`verify_id_token`
and :func:`verify_access_token`, which check signature, issuer, audience, expiry, nonce and the
``at_hash`` / ``c_hash`` claims with PyJWT, on an injected clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from . import options
from .diagnosis import AUTH_SERVER, CLIENT_ID, DOMAIN
from .errors import TokenVerificationError

__all__ = [
    "LEEWAY",
    "KeySet",
    "check_token_hashes",
    "forget_keys",
    "half_hash",
    "signing_kid",
    "verify_access_token",
    "verify_id_token",
]

#: Seconds of clock skew tolerated between this machine (or the injected clock) and Okta.
LEEWAY = 30.0


class _Published:
    """What one issuer's JWKS held when last fetched, shared by the KeySets made from it."""

    def __init__(self) -> None:
        self.keys: dict[str, jwt.PyJWK] | None = None
        self.raw: dict[str, dict[str, Any]] = {}
        self.fresh_until = 0.0


class KeySet:
    """An issuer's signing keys (its JWKS), as the caller fetched them.

    Fetched on first use, and once more when a token names an unknown ``kid`` (Okta rotates keys,
    sometimes in an emergency: https://developer.okta.com/docs/concepts/key-rotation/).
    :meth:`wants` says when to fetch; :meth:`load` takes what was fetched. A key's ``PyJWK`` is
    built once, when its JWK first appears, and reused by later loads that still publish it.

    :meth:`for_issuer` gives a KeySet sharing what was fetched for that JWKS URL earlier in the
    process, so a later sign-in fetches nothing while its tokens name known keys (Okta: "cache
    the jwks_uri response locally", within its Cache-Control lifetime, same page).
    """

    def __init__(self, published: _Published | None = None) -> None:
        self._published = published if published is not None else _Published()
        self._refetched = False

    @classmethod
    def for_issuer(cls, jwks_uri: str, *, now: float) -> KeySet:
        """A KeySet for one sign-in: the keys this process holds for ``jwks_uri`` (none once
        their Cache-Control lifetime has passed), with its own one refetch for an unknown kid."""
        with _ISSUERS_LOCK:
            published = _ISSUERS.get(jwks_uri)
            if published is None or (published.keys is not None and now >= published.fresh_until):
                published = _ISSUERS[jwks_uri] = _Published()
        return cls(published)

    def wants(self, kid: str | None) -> bool:
        """Whether the JWKS must be fetched (again) before a token signed by ``kid`` is verified:
        nothing loaded yet, or ``kid`` unknown and not yet fetched a second time. ``None`` (a
        token that is not a JWT) wants nothing: it fails verification without a key."""
        if kid is None:
            return False
        keys = self._published.keys
        if keys is None:
            return True
        return kid not in keys and not self._refetched

    def load(self, jwks: Mapping[str, Any], *, fresh_until: float = 0.0) -> None:
        """Take a fetched JWKS; a second load is the one refetch allowed.

        ``fresh_until``: until when (the caller's clock) other sign-ins may reuse these keys."""
        published = self._published
        if published.keys is not None:
            self._refetched = True
        keys: dict[str, jwt.PyJWK] = {}
        raw: dict[str, dict[str, Any]] = {}
        for jwk in jwks.get("keys") or ():
            if not isinstance(jwk, Mapping) or "kid" not in jwk:
                continue
            kid, value = str(jwk["kid"]), dict(jwk)
            known = (published.keys or {}).get(kid)
            if known is not None and published.raw.get(kid) == value:
                keys[kid], raw[kid] = known, value
                continue
            try:
                keys[kid] = jwt.PyJWK(value)
            except jwt.PyJWTError:
                continue  # a key type we cannot use (e.g. an encryption key) is simply not ours
            raw[kid] = value
        # One assignment each: a concurrent reader sees the old set or the new one, never half.
        published.raw = raw
        published.keys = keys
        published.fresh_until = fresh_until

    def get(self, kid: str) -> jwt.PyJWK | None:
        keys = self._published.keys
        return None if keys is None else keys.get(kid)


_ISSUERS: dict[str, _Published] = {}
_ISSUERS_LOCK = threading.Lock()


def forget_keys() -> None:
    """Forget every issuer's keys (what a new process would know: nothing)."""
    with _ISSUERS_LOCK:
        _ISSUERS.clear()


def signing_kid(token: str) -> str | None:
    """The ``kid`` a JWT names in its header ("" if none), or None when it is not a JWT."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    return str(header.get("kid") or "")


def _rejected(kind: str, issuer: str, reason: str, fix: str) -> TokenVerificationError:
    """The error for a token that failed verification (returned: the caller raises it)."""
    return TokenVerificationError(f"The {kind} from {issuer} failed verification: {reason}.", fix)


def _check_times(
    claims: Mapping[str, Any], *, kind: str, issuer: str, now: float, leeway: float
) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise _rejected(
            kind, issuer, "it has no 'exp' claim", "report this: Okta always sets 'exp'."
        )
    if exp < now - leeway:
        raise _rejected(
            kind,
            issuer,
            f"it expired {now - exp:.0f} s ago",
            "this machine's clock is off, or the token was held too long; run again"
            f" (with {options.CLEAR_CACHE.flag} if it came from the cache).",
        )
    iat = claims.get("iat")
    if isinstance(iat, (int, float)) and iat > now + leeway:
        raise _rejected(
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
    kid = signing_kid(token)
    if kid is None:
        raise _rejected(kind, issuer, "it is not a JWT", f"check that {DOMAIN} points at Okta.")
    key = keys.get(kid)
    if key is None:
        raise _rejected(
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
        raise _rejected(
            kind,
            issuer,
            f"its issuer is {got!r}, not {issuer!r}",
            f"set {DOMAIN} / {AUTH_SERVER} so the issuer is exactly the one Okta names"
            " (a custom URL domain changes it).",
        ) from None
    except jwt.InvalidAudienceError:
        raise _rejected(
            kind,
            issuer,
            f"its audience is not client {audience}",
            f"check {CLIENT_ID}.",
        ) from None
    except jwt.InvalidSignatureError:
        raise _rejected(
            kind,
            issuer,
            "its signature does not match the issuer's key",
            f"check that {DOMAIN} reaches Okta itself, not a proxy answering in its place.",
        ) from None
    except jwt.PyJWTError as exc:
        reason = type(exc).__name__
        raise _rejected(kind, issuer, reason, f"check {DOMAIN} and {AUTH_SERVER}.") from None
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
    carries ``at_hash`` / ``c_hash`` (OpenID Connect Core 1.0, sections 3.2.2.10 and 3.3.2.11:
    https://openid.net/specs/openid-connect-core-1_0.html#HybridIDToken), they must be the
    hashes of these.
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
        raise _rejected(
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
    org_server: bool,
    leeway: float = LEEWAY,
) -> dict[str, Any]:
    """The access token's claims.

    Custom authorization servers publish the signing key: signature, ``iss`` and ``exp`` are
    checked (``aud`` is whatever the server issues, so it is recorded, not checked). The org server
    (``org_server``) signs its access tokens with a key it does not publish (they are meant for
    Okta only: https://developer.okta.com/docs/guides/validate-access-tokens/main/), so those are
    decoded without verification; an access token that is not a JWT gives no claims.
    """
    if org_server:
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
