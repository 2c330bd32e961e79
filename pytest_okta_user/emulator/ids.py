"""Identifiers and opaque values in Okta's shapes (every module that mints something uses them)."""

from __future__ import annotations

import base64
import os
import secrets
import string
import threading

_ID_ALPHABET = string.ascii_letters + string.digits

# Random bytes are drawn from the OS a page at a time and handed out once each. `os.urandom` lets
# the GIL go for its system call, and a sign-in draws six values (sessionToken, sid, code, two
# jtis...): each was a point where the test's own threads took the GIL from the emulator and it
# waited to get it back. The bytes are the OS's CSPRNG output, never reused; a fork drops them.
_PAGE = 4096
_random_lock = threading.Lock()
_random_page = b""
_random_used = 0


def _forget_random() -> None:
    global _random_page, _random_used
    _random_page, _random_used = b"", 0


os.register_at_fork(after_in_child=_forget_random)


def random_bytes(count: int) -> bytes:
    """`count` bytes from the OS's CSPRNG (os.urandom), each handed out once."""
    global _random_page, _random_used
    if count > _PAGE // 4:
        return os.urandom(count)
    with _random_lock:
        if _random_used + count > len(_random_page):
            _random_page, _random_used = os.urandom(_PAGE), 0
        start = _random_used
        _random_used += count
        return _random_page[start : start + count]


def okta_id(prefix: str) -> str:
    """An Okta-style 20-character id after a 3-character type prefix (`00u` user, `0oa` app)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20 - len(prefix)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def opaque_token(nbytes: int = 32) -> str:
    """What `secrets.token_urlsafe(nbytes)` makes, from `random_bytes`."""
    return b64url(random_bytes(nbytes))
