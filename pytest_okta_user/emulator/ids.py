"""Identifiers and opaque values in Okta's shapes (every module that mints something uses them)."""

from __future__ import annotations

import base64
import secrets
import string

_ID_ALPHABET = string.ascii_letters + string.digits


def okta_id(prefix: str) -> str:
    """An Okta-style 20-character id after a 3-character type prefix (`00u` user, `0oa` app)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20 - len(prefix)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def opaque_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
