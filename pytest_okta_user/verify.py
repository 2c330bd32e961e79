"""Verifying what Okta issued: the issuer's key set, ID and access tokens, and their hashes.

Pure functions over data the caller hands in (the tokens, the JWKS it fetched, a clock): no
network here. The recipe in ``flows`` fetches the issuer's JWKS through the client when a token
names a key the :class:`KeySet` lacks (:meth:`KeySet.wants`), then calls :func:`verify_id_token`
and :func:`verify_access_token`, which check signature, issuer, audience, expiry, nonce and the
``at_hash`` / ``c_hash`` claims with PyJWT, on an injected clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import options
from .diagnosis import AUTH_SERVER, CLIENT_ID, DOMAIN
from .errors import TokenVerificationError

if TYPE_CHECKING:
    import jwt

# PyJWT (and cryptography under it, ~60 ms) is imported by the functions that verify, not here:
# a warm run's check of a cached token's key (``offer_keys``, ``usable_kids``) verifies nothing.

__all__ = [
    "LEEWAY",
    "KeySet",
    "check_token_hashes",
    "forget_keys",
    "half_hash",
    "offer_keys",
    "signing_kid",
    "usable_kids",
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
        self.pending: Mapping[str, Any] | None = None
        """A JWKS offered by ``offer_keys``, not yet built into keys (the first sign-in does)."""

    @property
    def held(self) -> bool:
        return self.keys is not None or self.pending is not None


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
            if published is None or (published.held and now >= published.fresh_until):
                published = _ISSUERS[jwks_uri] = _Published()
            keys = cls(published)
            if published.pending is not None:
                # Built under the lock: a sign-in beside this one finds the keys, not a gap.
                pending, published.pending = published.pending, None
                keys.load(pending, fresh_until=published.fresh_until)
        return keys

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
        import jwt

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


def offer_keys(jwks_uri: str, jwks: Mapping[str, Any], *, fresh_until: float) -> None:
    """Keep a JWKS fetched outside a sign-in (the provider's check of a cached token's key) as
    this process's keys for ``jwks_uri`` until ``fresh_until``, as a sign-in's own fetch is
    kept: a sign-in that follows fetches it no second time. Kept as fetched; its keys are built
    (PyJWT, cryptography) only when a sign-in asks for them (:meth:`KeySet.for_issuer`)."""
    published = _Published()
    published.pending = jwks
    published.fresh_until = fresh_until
    with _ISSUERS_LOCK:
        _ISSUERS[jwks_uri] = published


def usable_kids(jwks: Mapping[str, Any]) -> frozenset[str]:
    """The ids of the keys in ``jwks`` a token's signature can be checked with here: RSA keys
    (``kty`` RSA, ``n`` and ``e`` given) for RS256 (``alg`` RS256 or unset), the one algorithm
    :func:`_verify` accepts and the one Okta signs with
    (https://developer.okta.com/docs/guides/validate-access-tokens/main/). Read from the JWKS as
    it is, without building the keys, so no JWT library is imported for it."""
    kids = []
    for jwk in jwks.get("keys") or ():
        if not isinstance(jwk, Mapping) or "kid" not in jwk:
            continue
        if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
            continue
        if not all(isinstance(jwk.get(name), str) and jwk.get(name) for name in ("n", "e")):
            continue
        kids.append(str(jwk["kid"]))
    return frozenset(kids)


def forget_keys() -> None:
    """Forget every issuer's keys (what a new process would know: nothing)."""
    with _ISSUERS_LOCK:
        _ISSUERS.clear()


def signing_kid(token: str) -> str | None:
    """The ``kid`` a JWT names in its header ("" if none), or None when it is not a JWT.

    Only the header is read (RFC 7515 section 7.1: three dot-separated base64url parts, the
    first a JSON object): PyJWT's ``get_unverified_header`` checks the alphabet of every part,
    character by character, which is a sign-in's costliest step after the HTTP requests and
    was done four times per sign-in. The signature and the rest are checked by ``jwt.decode``.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    part = token[: token.index(".")]
    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None
    if not isinstance(header, dict):
        return None
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None  # as PyJWT: "Key ID header parameter must be a string"
    return kid or ""


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
    import jwt

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
        import jwt

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
