"""The settings table and the flow vocabulary: the one place a setting or a flow is declared.

Each :class:`Option` row holds everything about one setting: its label, command-line flag,
environment names, ini key, help text, default and parser. The plugin registers its options and ini
keys by looping over :data:`OPTIONS`, ``settings.resolve`` reads each row from the command line,
the environment and the ini file, and every message that names a setting spells it with
:meth:`Option.describe`. Adding a setting means adding a row here (and its test and README line).

No pytest and no third-party imports here (``redact`` has none either): every pytest run imports
this module at start-up.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, TypeVar
from urllib.parse import parse_qsl, urlsplit

from .redact import Secret

__all__ = [
    "BROWSER_FLOWS",
    "FLOWS",
    "FLOW_TABLE",
    "OPTIONS",
    "RESPONSE_MODES",
    "SECRET_FLOWS",
    "USER_FLOWS",
    "BadValue",
    "EmptyValue",
    "Flow",
    "Option",
    "OrgDomain",
    "Shown",
    "by_name",
    "normalise_domain",
    "parse_auth_server",
    "parse_scopes",
]

T = TypeVar("T")


# ---- the flow vocabulary -------------------------------------------------------------------------


class Flow(NamedTuple):
    """One way of getting tokens, and what it needs. (A NamedTuple, as `Shown`: a frozen
    dataclass compiles its methods at every start-up.)"""

    name: str
    signs_in_user: bool
    """Signs a user in, so it needs a login and a password."""
    needs_client_secret: bool
    """Authenticates the client with its secret (a web or service app)."""
    response_modes: tuple[str, ...] = ()
    """How /authorize may answer; empty for flows that never go through /authorize (which then
    need no redirect URI). The first is the default."""

    @property
    def uses_authorize(self) -> bool:
        return bool(self.response_modes)


#: Every flow, in the order messages list them.
FLOW_TABLE: dict[str, Flow] = {
    f.name: f
    for f in (
        Flow("code", signs_in_user=True, needs_client_secret=True,
             response_modes=("query", "fragment", "form_post")),
        Flow("pkce", signs_in_user=True, needs_client_secret=False,
             response_modes=("query", "fragment", "form_post")),
        # Implicit tokens must not reach a server's logs: Okta refuses response_mode=query.
        Flow("implicit", signs_in_user=True, needs_client_secret=False,
             response_modes=("fragment", "form_post")),
        Flow("password", signs_in_user=True, needs_client_secret=False),
        # Identity Engine (oie.py). Direct Authentication: the password grant, then a TOTP code.
        Flow("direct", signs_in_user=True, needs_client_secret=False),
        # IDX answers in JSON, never at the redirect URI, but /v1/interact checks the redirect URI
        # against the app's list: the modes make it a flow that needs one, and are not used.
        Flow("interaction_code", signs_in_user=True, needs_client_secret=False,
             response_modes=("query", "fragment", "form_post")),
        # The Classic sessionToken path (pkce, or code with a secret), then direct, then
        # interaction_code: the first that gives tokens, remembered per org and client.
        Flow("auto", signs_in_user=True, needs_client_secret=False,
             response_modes=("query", "fragment", "form_post")),
        Flow("client_credentials", signs_in_user=False, needs_client_secret=True),
    )
}  # fmt: skip
FLOWS = tuple(FLOW_TABLE)
#: Flows that go through /authorize and so need a sign-in redirect URI registered on the app.
BROWSER_FLOWS = frozenset(f.name for f in FLOW_TABLE.values() if f.uses_authorize)
#: Flows that sign a user in (and so need a login and a password).
USER_FLOWS = frozenset(f.name for f in FLOW_TABLE.values() if f.signs_in_user)
#: Flows that authenticate the client with its secret (a web or service app).
SECRET_FLOWS = frozenset(f.name for f in FLOW_TABLE.values() if f.needs_client_secret)
#: Every response mode a flow may use (each flow's own list is in FLOW_TABLE).
RESPONSE_MODES = ("query", "fragment", "form_post")


# ---- parsing one value ---------------------------------------------------------------------------


class BadValue(ValueError):
    """A value that cannot be right: what is wrong with it and, if known, the fix."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


class EmptyValue(BadValue):
    """A setting given as an empty (or blank) value; the fix names the setting's own names."""

    def __init__(self, problem: str = "is set but empty") -> None:
        super().__init__(problem)


def _nonblank(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise EmptyValue()
    if "{" in value or "}" in value or value.startswith("<") or "yourOktaDomain" in value:
        raise BadValue(
            f"{value!r} is a placeholder from a sample",
            "put in the real value from the Okta Admin Console",
        )
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_AUTH_SERVER_ID = re.compile(r"^[A-Za-z0-9]+$")
_OKTA_ADMIN_HOST = re.compile(
    r"^(.+)-admin\.((?:okta|oktapreview|okta-emea|okta-gov|okta-mil)\.com)$"
)


class OrgDomain(NamedTuple):
    """An Okta domain as pasted, normalised: the org URL and the auth server an issuer names."""

    org_url: str
    auth_server: str | None


def normalise_domain(raw: str) -> OrgDomain:
    """What people paste as their Okta domain.

    Accepts a bare host (``dev-123.okta.com``), an org URL (``https://dev-123.okta.com/``) or an
    issuer (``https://dev-123.okta.com/oauth2/default``, which also names the authorization server).
    ``http://`` only for loopback hosts (the emulator).
    """
    value = _nonblank(raw)
    if "://" not in value:
        # "host:port" without a scheme still means https; another colon is a scheme we refuse.
        if ":" in value.split("/", 1)[0] and not re.match(r"^[^:/]+:\d+", value):
            raise BadValue(f"{value!r} has an unsupported scheme", "use https://")
        value = "https://" + value
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadValue(
            f"scheme {parts.scheme!r} is not supported",
            "use https://dev-123.okta.com (http:// only for a local emulator)",
        )
    try:
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise BadValue(f"{raw.strip()!r} is not a valid URL ({exc})") from None
    if not host:
        raise BadValue(f"{raw.strip()!r} has no host name", "use https://dev-123.okta.com")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BadValue(
            "must not hold a user, a query or a fragment",
            "use the org URL or issuer only, e.g. https://dev-123.okta.com/oauth2/default",
        )
    if scheme == "http" and not _is_loopback(host):
        raise BadValue(
            f"http:// is refused for the remote host {host}"
            " (tokens and passwords would travel in clear)",
            f"use https://{host}",
        )
    admin = _OKTA_ADMIN_HOST.match(host)
    if admin:
        raise BadValue(
            f"{host} is the Admin Console's address, not the org's",
            f"use https://{admin.group(1)}.{admin.group(2)}",
        )
    netloc = f"[{host}]" if ":" in host else host
    # The scheme's default port is the same org: Okta's issuer has none, and tokens are checked
    # against the issuer as a string.
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        netloc += f":{port}"
    org_url = f"{scheme}://{netloc}"
    path = parts.path
    if path in ("", "/"):
        return OrgDomain(org_url, None)
    match = re.match(r"^/oauth2/([^/]+)(/?)$", path)
    if match and _AUTH_SERVER_ID.match(match.group(1)) and match.group(1) != "v1":
        if match.group(2):
            raise BadValue(
                f"the issuer {value!r} ends with '/'; Okta's issuers never do,"
                " and tokens are checked against it",
                f"use {org_url}{path.rstrip('/')}",
            )
        return OrgDomain(org_url, match.group(1))
    raise BadValue(
        f"{value!r} is neither an org URL nor an issuer",
        f"use {org_url} or {org_url}/oauth2/default (the issuer shown under Security > API)",
    )


def parse_auth_server(raw: str) -> str:
    value = _nonblank(raw)
    if value != "org" and not _AUTH_SERVER_ID.match(value):
        raise BadValue(
            f"{value!r} is not an authorization server id",
            "use 'default', 'org' (the org authorization server) or an id such as"
            " aus1a2b3c4d5e6f7g8h9; to give an issuer URL use okta_domain",
        )
    return value


def _parse_flow(raw: str) -> str:
    value = raw.strip()
    if value not in FLOWS:
        raise BadValue(f"unknown flow {value!r}", f"use one of {', '.join(FLOWS)}")
    return value


#: The orgs ``--okta-emulator`` can start (``OktaEmulator(engine=...)``).
EMULATOR_ENGINES = ("classic", "oie")


def _parse_emulator_engine(raw: str) -> str:
    value = raw.strip().lower()
    if value not in EMULATOR_ENGINES:
        raise BadValue(
            f"unknown emulator engine {raw.strip()!r}",
            "use classic (the default) or oie (an Identity Engine org)",
        )
    return value


def _parse_response_mode(raw: str) -> str:
    value = raw.strip()
    if value not in RESPONSE_MODES:
        raise BadValue(
            f"unknown response mode {value!r}",
            f"use one of {', '.join(RESPONSE_MODES)}, or leave it unset",
        )
    return value


def parse_scopes(raw: str) -> tuple[str, ...]:
    if "," in raw:
        raise BadValue(
            f"{raw.strip()!r} separates scopes with commas",
            "separate them with spaces, as OAuth does: 'openid profile email'",
        )
    scopes = tuple(raw.split())
    if not scopes:
        raise BadValue("is set but empty", "give at least one scope, e.g. 'openid'")
    for scope in scopes:
        # RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        if not re.match(r"^[\x21\x23-\x5b\x5d-\x7e]+$", scope):
            raise BadValue(f"{scope!r} is not a valid scope name")
    return scopes


def _seconds(raw: str) -> float | None:
    """A number of seconds, optionally with an ``s`` (``30``, ``0.5``, ``30s``); None if not one."""
    value = raw.strip()
    text = value[:-1] if value.endswith("s") else value
    try:
        seconds = float(text)
    except ValueError:
        return None
    # NaN and infinity parse as floats, but neither is a time to wait (nor to give up after).
    return seconds if math.isfinite(seconds) else None


#: Okta's longest access-token lifetime is a day (Security > API > the rule's "Access token
#: lifetime is", 5 minutes to 1 day): a token never has more left than that.
MAX_MIN_TTL = 86400.0
#: Longer than any proxy keeps a request open; far beyond it, socket timeouts overflow
#: (OKTA_TIMEOUT=1e10 ended in an OverflowError inside urllib3).
MAX_TIMEOUT = 600.0
#: Okta's rate-limit windows are one minute; an hour of waiting is a hung run, not a wait.
MAX_RATE_LIMIT_WAIT = 3600.0


def _at_most(raw: str, seconds: float, limit: float, why: str, example: str) -> float:
    """``seconds``, unless it passes ``limit`` (an out-of-range value would overflow a socket
    timeout or wait for ever)."""
    if seconds > limit:
        raise BadValue(
            f"{raw.strip()!r} is more than {limit:g} seconds ({why})", f"use e.g. {example}"
        )
    return seconds


def _parse_min_ttl(raw: str) -> float:
    seconds = _seconds(raw)
    if seconds is None or seconds < 0:
        raise BadValue(f"{raw.strip()!r} is not a number of seconds", "use e.g. 60")
    if seconds >= MAX_MIN_TTL:
        raise BadValue(
            f"{raw.strip()!r} is not below {MAX_MIN_TTL:g} seconds (Okta's longest access-token"
            " lifetime: no token would ever do)",
            "use e.g. 60",
        )
    return seconds


def _parse_timeout(raw: str) -> float:
    seconds = _seconds(raw)
    # 0 would mean "no timeout" to requests: a hung proxy would then hang the whole run.
    if seconds is None or seconds <= 0:
        raise BadValue(
            f"{raw.strip()!r} is not a number of seconds above 0",
            f"use e.g. {TIMEOUT.default:g}",
        )
    return _at_most(
        raw, seconds, MAX_TIMEOUT, "longer than any proxy waits", f"{TIMEOUT.default:g}"
    )


#: More retries than this only hide an outage: with the doubling backoff, 10 already wait ~8 min.
MAX_RETRIES = 10


def _parse_retries(raw: str) -> int:
    value = raw.strip()
    # Digits only: int() would also take "+2", "1_0" and non-ASCII digits.
    if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) > MAX_RETRIES:
        raise BadValue(
            f"{value!r} is not a whole number from 0 to {MAX_RETRIES}",
            f"use e.g. {RETRIES.default} (0: no retries)",
        )
    return int(value)


def _parse_rate_limit_wait(raw: str) -> float:
    seconds = _seconds(raw)
    if seconds is None or seconds < 0:
        raise BadValue(
            f"{raw.strip()!r} is not a number of seconds (0 or more)",
            f"use e.g. {RATE_LIMIT_WAIT.default:g} (0: never wait, fail at once)",
        )
    return _at_most(
        raw,
        seconds,
        MAX_RATE_LIMIT_WAIT,
        "Okta's windows are a minute",
        f"{RATE_LIMIT_WAIT.default:g}",
    )


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadValue(f"{raw!r} is not a yes/no value", "use 1 or 0 (true/false)")


def _parse_redirect_uri(raw: str) -> str:
    value = _nonblank(raw)
    parts = urlsplit(value)
    # Native apps register custom schemes (com.example.app:/callback): any scheme, but no fragment
    # (RFC 6749 section 3.1.2).
    if (
        not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or "")
        or parts.fragment
        or not (parts.netloc or parts.path)
    ):
        raise BadValue(
            f"{value!r} is not an absolute URI",
            "use the sign-in redirect URI registered on the app, e.g."
            " http://localhost:8080/authorization-code/callback",
        )
    return value


def _parse_login(raw: str) -> str:
    value = _nonblank(raw)
    if any(c.isspace() for c in value):
        raise BadValue(f"{value!r} contains white space")
    return value


def _parse_folder(raw: str) -> Path:
    """A folder as given (``~`` expanded); relative ones are resolved by where they were read."""
    return Path(os.path.expanduser(_nonblank(raw)))


def _parse_secret(raw: str) -> Secret:
    # Secrets are not stripped (spaces can be part of a password). Empty is a mistake: an unset CI
    # secret, usually.
    if raw == "":
        raise EmptyValue("is set but empty (a CI secret that is not defined for this job?)")
    return Secret(raw)


#: What Okta's TOTP factors (Google Authenticator, Okta Verify) use, and so all the client computes:
#: RFC 6238 with SHA1, 6 digits, 30-second steps.
_TOTP_DEFAULTS = {"algorithm": "SHA1", "digits": "6", "period": "30"}


def _parse_totp_secret(raw: str) -> Secret:
    """A base32 TOTP secret, or the ``otpauth://totp/...`` URI a QR code holds, whose ``secret``
    parameter is the base32 secret (Key URI Format:
    https://github.com/google/google-authenticator/wiki/Key-Uri-Format). Messages never quote the
    value: it is the secret."""
    # Registered for masking as given too: the whole URI holds the secret.
    given = _parse_secret(raw)
    text = raw.strip()
    if not text.lower().startswith("otpauth:"):
        return given
    parts = urlsplit(text)
    kind = parts.netloc.lower()
    if kind != "totp":
        raise BadValue(
            f"is an otpauth://{kind or '?'}/ URI; only time-based (otpauth://totp/) factors"
            " can be answered",
            "enrol a TOTP factor (Google Authenticator or Okta Verify) and paste its secret or"
            " its otpauth://totp/ URI",
        )
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name.lower(), []).append(value)
    secrets = query.get("secret", [])
    if len(secrets) != 1 or not secrets[0].strip():
        raise BadValue(
            "is an otpauth://totp/ URI without one secret= parameter",
            "paste the whole URI from the QR code, or the secret (base32 text) alone",
        )
    for name, expected in _TOTP_DEFAULTS.items():
        given_values = query.get(name)
        if given_values and any(v.strip().upper() != expected for v in given_values):
            raise BadValue(
                f"is an otpauth://totp/ URI with {name}={given_values[0]}; Okta's TOTP factors"
                f" use {name}={expected}, and so does the client",
                "enrol an Okta TOTP factor (Google Authenticator or Okta Verify) and use its URI",
            )
    return Secret(secrets[0].strip())


def _parse_instance(raw: str) -> str:
    return raw.strip()


# ---- the table -----------------------------------------------------------------------------------


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g}s"


def _scopes_text(scopes: tuple[str, ...]) -> str:
    return " ".join(scopes)


class Shown(NamedTuple):
    """Where the report header shows a setting: the line (``okta <line>: ...``; lines come in the
    order of their first row in :data:`OPTIONS`), the caption before the value on that line (none
    for a line's first value) and how the value reads. Secrets read ``set``, never their value."""

    line: str
    caption: str = ""
    text: Callable[[Any], str] = str
    if_set: bool = False
    """The line is left out while every value on it is unset (settings only some flows use)."""


@dataclass(frozen=True)
class Option(Generic[T]):
    """One setting: its names, help, default and parser.

    ``parse`` turns the text read from the command line, the environment or the ini file into the
    value, raising :class:`BadValue` (a ``ValueError``) for one that cannot be right.
    """

    name: str
    """The setting's name in code: ``Settings`` fields, messages' keys."""
    label: str
    """How messages and the report header call it."""
    flag: str | None
    env: tuple[str, ...]
    """Environment names, the first set one wins (an empty value counts as set)."""
    ini: str | None
    help: str
    """The command-line help (pytest's rules: a capital first letter, no final period)."""
    default: T
    parse: Callable[[str], T]
    secret: bool = False
    """Read only from the environment (or the plugin's prompt), never shown."""
    switch: bool = False
    """A command-line flag without a value (``store_true``)."""
    header: Shown | None = None
    """Its place in the report header; None: not shown there."""
    emulated: bool = False
    """Names the org, its app or its user: in emulator mode only the emulator's value counts, so
    that such a run never reaches a real org."""
    ini_aliases: tuple[str, ...] = ()
    """Earlier ini names, still read (after ``ini``) with a deprecation warning naming ``ini``."""
    ini_type: Literal["string", "bool", "paths"] = "string"
    """How pytest declares and reads the ini key: one of the types pytest 7.4 knows (``string``,
    ``bool``, ``paths``); ``settings`` accepts what ``getini`` gives for each."""

    def describe(self) -> str:
        """Every name the setting goes by: ``--okta-x / OKTA_X / okta_x``."""
        parts = []
        if self.flag:
            parts.append(self.flag)
        if self.env:
            parts.append(" or ".join(self.env))
        if self.ini:
            parts.append(self.ini)
        return " / ".join(parts)

    def option_help(self) -> str:
        """The command-line help with the other names the setting goes by."""
        if self.switch:
            names = [f"Env: {self.env[0]}=1"] if self.env else []
        else:
            names = [f"Env: {', '.join(self.env)}"] if self.env else []
        if self.ini:
            names.append(f"ini: {self.ini}")
        return f"{self.help}. {'; '.join(names)}." if names else self.help

    def ini_help(self) -> str:
        return f"pytest-okta-user: {self.label} (or {self.flag}, {', '.join(self.env)})"

    def alias_help(self) -> str:
        return f"pytest-okta-user: deprecated name of {self.ini}"


def _no_parse(raw: str) -> bool:
    raise AssertionError("a switch is only given on the command line")


# OKTA_ISSUER is read first: it is the more specific of the two (it also names the auth server).
DOMAIN: Option[OrgDomain | None] = Option(
    "domain", "Okta org or issuer", "--okta-domain", ("OKTA_ISSUER", "OKTA_DOMAIN"), "okta_domain",
    "Okta org URL, bare host or issuer (e.g. https://dev-123.okta.com/oauth2/default)",
    None, normalise_domain, header=Shown("issuer"), emulated=True,
)  # fmt: skip
AUTH_SERVER: Option[str] = Option(
    "auth_server", "authorization server", "--okta-auth-server", ("OKTA_AUTH_SERVER_ID",),
    "okta_auth_server_id",
    "Authorization server id: 'default' (the default), 'org' or an id like aus1a2b3",
    "default", parse_auth_server, header=Shown("issuer"), ini_aliases=("okta_auth_server",),
)  # fmt: skip
CLIENT_ID: Option[str | None] = Option(
    "client_id", "client id", "--okta-client-id", ("OKTA_CLIENT_ID",), "okta_client_id",
    "Client id of the Okta app the tests sign in with", None, _parse_login,
    header=Shown("client"), emulated=True,
)  # fmt: skip
CLIENT_SECRET: Option[Secret | None] = Option(
    "client_secret", "client secret", None, ("OKTA_CLIENT_SECRET",), None,
    "The app's client secret (confidential apps)", None, _parse_secret, secret=True,
    header=Shown("client", "client secret"), emulated=True,
)  # fmt: skip
REDIRECT_URI: Option[str | None] = Option(
    "redirect_uri", "redirect URI", "--okta-redirect-uri", ("OKTA_REDIRECT_URI",),
    "okta_redirect_uri",
    "Sign-in redirect URI registered on the app (code, pkce and implicit flows)",
    None, _parse_redirect_uri, header=Shown("redirect URI", if_set=True), emulated=True,
)  # fmt: skip
PASSWORD: Option[Secret | None] = Option(
    "password", "password", None, ("OKTA_PASSWORD",), None,
    "The user's password", None, _parse_secret, secret=True,
    header=Shown("user", "password"), emulated=True,
)  # fmt: skip
USER: Option[str | None] = Option(
    "user", "user (login)", "--okta-user", ("OKTA_USERNAME",), "okta_username",
    f"Login of the user to sign in as; asks for the password when {PASSWORD.env[0]} is unset",
    None, _parse_login, header=Shown("user"), emulated=True, ini_aliases=("okta_user",),
)  # fmt: skip
TOTP_SECRET: Option[Secret | None] = Option(
    "totp_secret", "TOTP shared secret", None, ("OKTA_TOTP_SECRET",), None,
    "The shared secret of the user's TOTP factor (base32, or an otpauth://totp/ URI)", None,
    _parse_totp_secret, secret=True,
    header=Shown("user", "TOTP secret"), emulated=True,
)  # fmt: skip
FLOW: Option[str] = Option(
    "flow", "flow", "--okta-flow", ("OKTA_FLOW",), "okta_flow",
    "Default flow: " + ", ".join(f"{f} (the default)" if f == "pkce" else f for f in FLOWS[:-1])
    + f" or {FLOWS[-1]}", "pkce", _parse_flow, header=Shown("flow"),
)  # fmt: skip
SCOPES: Option[tuple[str, ...]] = Option(
    "scopes", "scopes", "--okta-scopes", ("OKTA_SCOPES",), "okta_scopes",
    "Scopes to ask for, separated by spaces (default: 'openid profile email')",
    ("openid", "profile", "email"), parse_scopes, header=Shown("flow", "scopes:", _scopes_text),
)  # fmt: skip
#: Seconds of life a handed-out token has left at least: room for a slow test's requests, and far
#: below Okta's shortest configurable access-token lifetime (5 minutes).
MIN_TTL: Option[float] = Option(
    "min_ttl", "minimum token lifetime", "--okta-min-ttl", ("OKTA_MIN_TTL",), "okta_min_ttl",
    "Seconds of life a handed-out token has left at least (default: 60)", 60.0, _parse_min_ttl,
    header=Shown("flow", "min TTL:", _seconds_text),
)  # fmt: skip
#: How /authorize hands back its answer; unset: each flow's first response mode.
RESPONSE_MODE: Option[str | None] = Option(
    "response_mode", "response mode", "--okta-response-mode", ("OKTA_RESPONSE_MODE",),
    "okta_response_mode",
    "How /authorize answers: query, fragment or form_post (default: the flow's)",
    None, _parse_response_mode, header=Shown("response mode", if_set=True),
)  # fmt: skip
CACHE_DIR: Option[Path | None] = Option(
    "cache_dir", "token cache folder", "--okta-cache-dir", ("OKTA_TOKEN_CACHE_DIR",),
    "okta_token_cache_dir", "Token cache folder (default: okta-user under pytest's cache dir)",
    None, _parse_folder, header=Shown("token cache"), ini_aliases=("okta_cache_dir",),
    ini_type="paths",
)  # fmt: skip
NO_CACHE: Option[bool] = Option(
    "no_cache", "token cache off", "--okta-no-cache", (), None,
    "Keep tokens in memory only (each xdist worker then signs in on its own)",
    False, _no_parse, switch=True, header=Shown("token cache"),
)  # fmt: skip
CLEAR_CACHE: Option[bool] = Option(
    "clear_cache", "token cache cleared", "--okta-clear-cache", (), None,
    "Remove the cached tokens before the run", False, _no_parse, switch=True,
    header=Shown("token cache"),
)  # fmt: skip
TIMEOUT: Option[float] = Option(
    "timeout", "request timeout", "--okta-timeout", ("OKTA_TIMEOUT",), "okta_timeout",
    "Seconds to wait for Okta to connect and to answer each request (default: 10)",
    10.0, _parse_timeout, header=Shown("transport", "timeout", _seconds_text),
)  # fmt: skip
#: Extra attempts after a connection error or a 5xx, where repeating the request is safe.
RETRIES: Option[int] = Option(
    "retries", "retries", "--okta-retries", ("OKTA_RETRIES",), "okta_retries",
    f"Retries after a connection error or a 5xx, where a retry is safe: 0 to {MAX_RETRIES}"
    " (default: 2)", 2, _parse_retries, header=Shown("transport", "retries"),
)  # fmt: skip
#: Longest total wait, in seconds, for a rate-limit window to reset (429); 0: never wait.
RATE_LIMIT_WAIT: Option[float] = Option(
    "rate_limit_wait", "rate-limit wait", "--okta-rate-limit-wait", ("OKTA_RATE_LIMIT_WAIT",),
    "okta_rate_limit_wait",
    "Longest wait in seconds for Okta's rate limit to reset (429); 0: fail at once (default: 30)",
    30.0, _parse_rate_limit_wait, header=Shown("transport", "rate-limit wait", _seconds_text),
)  # fmt: skip
EMULATOR: Option[bool] = Option(
    "emulator", "emulator", "--okta-emulator", ("OKTA_EMULATOR",), "okta_emulator",
    "Start a local Okta emulator for the run and use its demo app and user",
    False, _parse_bool, switch=True, ini_type="bool",
)  # fmt: skip
#: Which org the emulator of emulator mode is; read only in emulator mode.
EMULATOR_ENGINE: Option[str] = Option(
    "emulator_engine", "emulator engine", "--okta-emulator-engine", ("OKTA_EMULATOR_ENGINE",),
    "okta_emulator_engine",
    "The org --okta-emulator starts: classic (the default) or oie (Identity Engine: its demo apps"
    " ask for a password and a TOTP code)", "classic", _parse_emulator_engine,
)  # fmt: skip
#: Masking (masking.py) off, for debugging on one's own machine; ignored when CI is set.
SHOW_SECRETS: Option[bool] = Option(
    "show_secrets", "secrets shown", "--okta-show-secrets", ("OKTA_SHOW_SECRETS",),
    "okta_show_secrets",
    "Show secrets in pytest's output instead of masking them, to debug locally (ignored when CI"
    " is set)", False, _parse_bool, switch=True, ini_type="bool",
)  # fmt: skip
#: A stand-alone emulator's instance id (its keys): part of the variant, hence the cache key, so a
#: restarted emulator on the same URL is signed in to again instead of getting the old one's tokens.
EMULATOR_INSTANCE: Option[str] = Option(
    "emulator_instance", "emulator instance", None, ("OKTA_EMULATOR_INSTANCE",), None,
    "The instance id a stand-alone emulator prints", "", _parse_instance, emulated=True,
)  # fmt: skip

#: Every setting, in the order of the report header and the help.
OPTIONS: tuple[Option[Any], ...] = (
    DOMAIN, AUTH_SERVER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USER, PASSWORD, TOTP_SECRET,
    FLOW, SCOPES, MIN_TTL, RESPONSE_MODE, CACHE_DIR, NO_CACHE, CLEAR_CACHE, TIMEOUT, RETRIES,
    RATE_LIMIT_WAIT, EMULATOR, EMULATOR_ENGINE, EMULATOR_INSTANCE, SHOW_SECRETS,
)  # fmt: skip
_BY_NAME = {o.name: o for o in OPTIONS}


def by_name(name: str) -> Option[Any]:
    """The row of the setting called ``name`` (``KeyError`` for an unknown one); a named user's or
    app's setting (``user:admin:password``) is made from its name."""
    if name.startswith(("user:", "app:")):
        kind, who, part = name.split(":")
        return named_option(kind, who, part)
    return _BY_NAME[name]


# ---- named users and apps -----------------------------------------------------------------------
# ``@pytest.mark.okta(user="admin")`` reads OKTA_ADMIN_USERNAME, OKTA_ADMIN_PASSWORD and
# OKTA_ADMIN_TOTP_SECRET (ini okta_admin_username), the same shape as the default user's settings;
# ``app="spa"`` reads OKTA_SPA_CLIENT_ID, OKTA_SPA_CLIENT_SECRET, OKTA_SPA_REDIRECT_URI.

#: What a user or app name may be: it becomes part of environment and ini names.
NAME = re.compile(r"[A-Za-z0-9_]+")
USER_PARTS = ("username", "password", "totp_secret")
APP_PARTS = ("client_id", "client_secret", "redirect_uri")
_NAMED_ENV = re.compile(
    r"OKTA_([A-Z0-9_]+?)_(USERNAME|PASSWORD|TOTP_SECRET|CLIENT_ID|CLIENT_SECRET|REDIRECT_URI)"
)
_NAMED_INI = re.compile(r"okta_([a-z0-9_]+?)_(username|client_id|redirect_uri)")
#: Setting names that end like a named one but belong to the table above.
_NOT_NAMES = {"auth_server", "token_cache", "emulator"}


class _NamedPart(NamedTuple):
    caption: str
    """What the part is (``login``): its label is ``<caption> of <kind> <name>``."""
    help: str
    """The help text, ``{name}`` standing for the name."""
    parse: Callable[[str], Any]
    secret: bool = False
    """Read from the environment only (no ini key), never shown."""


_NAMED_PARTS: dict[tuple[str, str], _NamedPart] = {
    ("user", "username"): _NamedPart("login", "Login of the user named {name}", _parse_login),
    ("user", "password"): _NamedPart(
        "password", "The password of the user named {name}", _parse_secret, secret=True
    ),
    ("user", "totp_secret"): _NamedPart(
        "TOTP secret",
        "The TOTP shared secret of the user named {name}",
        _parse_totp_secret,
        secret=True,
    ),
    ("app", "client_id"): _NamedPart(
        "client id", "Client id of the app named {name}", _parse_login
    ),
    ("app", "client_secret"): _NamedPart(
        "client secret", "The client secret of the app named {name}", _parse_secret, secret=True
    ),
    ("app", "redirect_uri"): _NamedPart(
        "redirect URI", "Sign-in redirect URI of the app named {name}", _parse_redirect_uri
    ),
}


def named_option(kind: str, name: str, part: str) -> Option[Any]:
    """The setting ``part`` of the user or app ``name`` (``kind`` ``user`` or ``app``): the
    environment name ``OKTA_<NAME>_<PART>`` and, for what is not a secret, the ini key
    ``okta_<name>_<part>``."""
    spec = _NAMED_PARTS[(kind, part)]
    low = name.lower()
    return Option(
        f"{kind}:{low}:{part}",
        f"{spec.caption} of {kind} {low}",
        None,
        (f"OKTA_{name.upper()}_{part.upper()}",),
        None if spec.secret else f"okta_{low}_{part}",
        spec.help.format(name=low),
        None,
        spec.parse,
        secret=spec.secret,
        emulated=True,
    )


def named_options(kind: str, name: str) -> tuple[Option[Any], ...]:
    return tuple(named_option(kind, name, p) for p in (USER_PARTS if kind == "user" else APP_PARTS))


def names_in(env_names: Iterable[str], ini_names: Iterable[str]) -> tuple[set[str], set[str]]:
    """The user and app names that environment and ini names set something for (lower case)."""
    users: set[str] = set()
    apps: set[str] = set()
    found = [m.groups() for m in map(_NAMED_ENV.fullmatch, env_names) if m]
    found += [m.groups() for m in map(_NAMED_INI.fullmatch, ini_names) if m]
    for name, part in found:
        low = name.lower()
        if low in _NOT_NAMES:
            continue
        (users if part.lower() in USER_PARTS else apps).add(low)
    return users, apps


def named_ini_keys(ini_names: Iterable[str]) -> list[str]:
    """The ini keys of named users and apps among ``ini_names`` (the plugin declares them)."""
    keys = []
    for key in ini_names:
        match = _NAMED_INI.fullmatch(key)
        if match and match.group(1) not in _NOT_NAMES:
            keys.append(key)
    return keys


# ---- transport constants that are not settings --------------------------------------------------
# Here and not in client.py: client.py imports requests, which every pytest run would then pay for
# at start-up, and settings.lock_timeout() needs them.

#: The client's first retry backoff (seconds), doubled per retry.
RETRY_BACKOFF = 0.5
