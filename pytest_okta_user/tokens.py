"""What a token set is and which request it answers (its variant), with the variant's endpoints.

`Variant` is the cache key: two requests that differ in any field never share tokens. It also
carries its authorization server's URLs (``org_url``, ``authorize_url``, ``token_url``,
``keys_url``, ``is_org_server``), computed once when it is made, so the recipes in ``flows`` read
them off the variant instead of rebuilding them.
`TokenSet` holds the secrets; its repr shows only a short fingerprint.
Verifying the tokens is ``verify``'s job; no network and no JWT library here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .redact import fingerprint, register_tokens

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

    # The authorization server's endpoints, derived from the issuer once, at construction (not
    # part of the key: the issuer is). Okta's URL scheme, "Composing your base URL" in
    # https://developer.okta.com/docs/reference/api/oidc/: the org server's endpoints are
    # {org}/oauth2/v1/*, a custom server's {issuer}/v1/*.
    org_url: str = field(init=False, repr=False, compare=False)
    """The org URL: the issuer minus any ``/oauth2/...`` path."""
    is_org_server: bool = field(init=False, repr=False, compare=False)
    """The org authorization server (issuer == org URL): it signs its access tokens with a key it
    does not publish."""
    authorize_url: str = field(init=False, repr=False, compare=False)
    token_url: str = field(init=False, repr=False, compare=False)
    keys_url: str = field(init=False, repr=False, compare=False)
    """The issuer's JWKS (``jwks_uri``)."""

    def __post_init__(self) -> None:
        # Scope order never makes a different variant.
        object.__setattr__(self, "scopes", tuple(sorted(set(self.scopes))))
        issuer = self.issuer.rstrip("/")
        org_url = _org_url(issuer)
        base = f"{issuer}/oauth2/v1" if org_url == issuer else f"{issuer}/v1"
        for name, value in (
            ("org_url", org_url),
            ("is_org_server", org_url == issuer),
            ("authorize_url", f"{base}/authorize"),
            ("token_url", f"{base}/token"),
            ("keys_url", f"{base}/keys"),
        ):
            object.__setattr__(self, name, value)

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


def _unverified_part(token: str | None, index: int) -> dict[str, Any] | None:
    """A JWS compact token's header (0) or payload (1), decoded without verifying it (RFC 7515
    section 7.1: three dot-separated base64url parts); None: not such a token, or not a JSON
    object. Only ever to serve a token less long or not at all, never to trust it."""
    if not token or token.count(".") != 2:
        return None
    part = token.split(".")[index]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


def jwt_expiry(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT (RFC 7519 section 4.1.4), read from its payload without
    verifying it; None: not a JWT, or no numeric ``exp``."""
    claims = _unverified_part(token, 1)
    value = claims.get("exp") if claims is not None else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def jwt_kid(token: str | None) -> str | None:
    """The ``kid`` in a JWT's header (RFC 7515 section 4.1.4), read without verifying and without
    PyJWT (a warm run imports no JWT library); None: not a JWT, or no ``kid``."""
    header = _unverified_part(token, 0)
    kid = header.get("kid") if header is not None else None
    return kid if isinstance(kid, str) and kid else None


def _org_url(issuer: str) -> str:
    marker = issuer.find("/oauth2/")
    if marker >= 0:
        return issuer[:marker]
    if issuer.endswith("/oauth2"):
        return issuer[: -len("/oauth2")]
    return issuer


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

    def __post_init__(self) -> None:
        # Masked in pytest's output however the tokens came: sign-in, refresh or the disk cache.
        register_tokens(self.access_token, self.id_token, self.refresh_token)

    def expires_in(self, now: float) -> float:
        return self.expires_at - now

    @functools.cached_property
    def valid_until(self) -> float:
        """The earlier of ``expires_at`` and the ``exp`` of the token it describes (the access
        token, else the ID token), when that is a JWT: a stored expiry that says more than the
        token itself (an edited or stale entry) never keeps a dead token in use."""
        own = jwt_expiry(self.access_token if self.access_token else self.id_token)
        return self.expires_at if own is None else min(self.expires_at, own)

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
