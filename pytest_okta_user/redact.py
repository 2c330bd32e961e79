"""Every type that keeps a secret out of output, and the log filter.

Secrets (passwords, client secrets, sessionTokens, codes, tokens) are wrapped from the moment they
are read, so that reprs, ``--showlocals`` tracebacks, logs and error messages show a fingerprint or
``***`` instead: :class:`Secret` (a setting's secret, ``reveal()`` to use it),
:class:`RedactedStr` (a ``str`` whose repr is a fingerprint), :class:`Concealed` (one whose repr
says only that it is set: passwords and client secrets get no fingerprint), :class:`SecretDict`
and :class:`Sealed` (mappings whose repr shows keys only), :class:`Credentials` (the secrets of one
exchange) and :class:`RedactQuery` (drops query strings, which can carry a sessionToken, from
urllib3's and requests' log lines).

Creating any of them registers the secret with :mod:`masking` (the registration is here, at the
type level, so that no call site has to remember it): whatever later prints the plain text (a
stranger's frame, a test's ``print``, an f-string) is masked in pytest's output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import masking

__all__ = [
    "SECRET_KEYS",
    "Concealed",
    "Credentials",
    "RedactQuery",
    "RedactedStr",
    "RedactedUrl",
    "Sealed",
    "Secret",
    "SecretDict",
    "fingerprint",
    "install_log_redaction",
    "register_tokens",
]


class Secret:
    """A secret string that never prints itself: repr and str are ``***``; ``reveal()`` gives it.

    Kept in this wrapper from the moment it is read, so that ``--showlocals``, reprs of settings and
    error messages cannot show it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        masking.register(value, fingerprinted=False)

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
    """A short tag for telling tokens apart in output: 8 hex digits of an HMAC keyed per run
    (:func:`masking.fingerprint`), so it verifies nothing offline. Never used for passwords or
    client secrets (:class:`Concealed`, :class:`Credentials` show ``<set>``)."""
    if not secret:
        return "-"
    return masking.fingerprint(secret)


class RedactedStr(str):
    """A string that never shows itself in a repr: for secrets held in locals, so tracebacks shown
    with ``--showlocals`` (and any accidental ``%r``) print ``<redacted>`` instead of the value.
    Creating one registers the value for masking."""

    __slots__ = ()

    def __new__(cls, value: object = "") -> RedactedStr:
        made = super().__new__(cls, value)
        if cls._registered:
            masking.register(made, fingerprinted=cls._fingerprinted)
        return made

    _fingerprinted = True
    _registered = True

    def __repr__(self) -> str:
        return f"<redacted {fingerprint(self)}>"


class Concealed(RedactedStr):
    """A password, client secret or TOTP secret held as a string: its repr says only that it is
    set. A fingerprint of a password would let a guess be checked against it."""

    __slots__ = ()
    _fingerprinted = False

    def __repr__(self) -> str:
        return "<redacted: set>" if self else "<redacted: empty>"


class RedactedUrl(RedactedStr):
    """A URL that may carry secrets (a redirect with a code or tokens): its repr is redacted, but
    it is not registered for masking whole (every piece of it would be masked, the redirect URI
    and ``authorization-code`` among them); its secret parameters are, once parsed into a
    :class:`SecretDict`."""

    __slots__ = ()
    _registered = False


#: Keys whose values are secrets wherever they travel (JSON bodies, forms, queries, fragments).
SECRET_KEYS = frozenset(
    {
        "password",
        "passCode",
        "stateToken",
        "sessionToken",
        "recoveryToken",
        "code",
        "code_verifier",
        "device_code",
        "access_token",
        "id_token",
        "refresh_token",
        "client_secret",
        "client_assertion",
        "assertion",
        "token",
    }
)


def _register_items(items: Iterable[tuple[object, object]]) -> None:
    for key, value in items:
        if key in SECRET_KEYS:
            masking.register(value, fingerprinted=key not in ("password", "client_secret"))


def register_tokens(*tokens: str | None) -> None:
    """Mask these tokens from now on, however they came (a sign-in, a refresh, the disk cache)."""
    for token in tokens:
        masking.register(token)


class SecretDict(dict[str, Any]):
    """A mapping that carries secrets (tokens, sessionToken): its repr shows the keys only. The
    values of its :data:`SECRET_KEYS` are registered for masking as they are put in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _register_items(self.items())

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        _register_items([(key, value)])

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        _register_items(self.items())

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
            if value is not None and not isinstance(value, Concealed):
                object.__setattr__(self, name, Concealed(value))

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "<set>" if value else "<unset>"

        return (
            f"Credentials(password={shown(self.password)},"
            f" client_secret={shown(self.client_secret)}, totp_secret={shown(self.totp_secret)})"
        )

    __str__ = __repr__
