"""Every type that keeps a secret out of output, and the log filter.

Secrets (passwords, client secrets, sessionTokens, codes, tokens) are wrapped from the moment they
are read, so that reprs, ``--showlocals`` tracebacks, logs and error messages show a fingerprint or
``***`` instead: :class:`Secret` (a setting's secret, ``reveal()`` to use it),
:class:`RedactedStr` (a ``str`` whose repr is a fingerprint), :class:`SecretDict` and
:class:`Sealed` (mappings whose repr shows keys only), :class:`Credentials` (the secrets of one
exchange) and :class:`RedactQuery` (drops query strings, which can carry a sessionToken, from
urllib3's and requests' log lines).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Credentials",
    "RedactQuery",
    "RedactedStr",
    "Sealed",
    "Secret",
    "SecretDict",
    "fingerprint",
    "install_log_redaction",
]


class Secret:
    """A secret string that never prints itself: repr and str are ``***``; ``reveal()`` gives it.

    Kept in this wrapper from the moment it is read, so that ``--showlocals``, reprs of settings and
    error messages cannot show it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    def __str__(self) -> str:
        return "***"

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the value somewhere we do not control (a cache, a worker's log).
        raise TypeError("a Secret is not picklable; pass secret.reveal() deliberately")


def fingerprint(secret: str | None) -> str:
    """A short, non-reversible tag for telling secrets apart in output (never the secret itself)."""
    if not secret:
        return "-"
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


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


class Sealed(dict[str, Any]):
    """The keyword arguments of one request (bodies, auth, query): repr shows the keys only."""

    def __repr__(self) -> str:
        return f"<request {sorted(self)!r}>"


class RedactQuery(logging.Filter):
    """urllib3 logs each request line with its query string, which can carry a sessionToken."""

    _query = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = self._query.sub("?<redacted>", message)
            record.args = ()
        return True


def install_log_redaction() -> None:
    for name in ("urllib3.connectionpool", "urllib3.connection", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuery) for f in logger.filters):
            logger.addFilter(RedactQuery())


@dataclass(frozen=True, repr=False)
class Credentials:
    """The secrets of one exchange. Held as redacting strings; the repr says only which are set."""

    password: str | None = None
    client_secret: str | None = None
    totp_secret: str | None = None

    def __post_init__(self) -> None:
        for name in ("password", "client_secret", "totp_secret"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, RedactedStr):
                object.__setattr__(self, name, RedactedStr(value))

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "<set>" if value else "<unset>"

        return (
            f"Credentials(password={shown(self.password)},"
            f" client_secret={shown(self.client_secret)}, totp_secret={shown(self.totp_secret)})"
        )

    __str__ = __repr__
