"""Settings: command line, then environment, then ini, then default; each value keeps its source.

No pytest here: the plugin hands in the command-line values, ``os.environ`` and the ini values, so
this module can be used (and tested) from a plain script. Secrets are read only from the environment
(or a prompt the plugin runs) and are held in :class:`Secret`, whose repr is ``'***'``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from .errors import NAMES, ConfigurationError, Names

if TYPE_CHECKING:
    from .tokens import Variant

__all__ = [
    "BROWSER_FLOWS",
    "DEFAULT_MIN_TTL",
    "DEFAULT_RATE_LIMIT_WAIT",
    "DEFAULT_RETRIES",
    "DEFAULT_SCOPES",
    "DEFAULT_TIMEOUT",
    "FLOWS",
    "INSTANCE_ENV",
    "MAX_RETRIES",
    "NAMES",
    "MarkerError",
    "MissingSettingsError",
    "Names",
    "OktaRequest",
    "Secret",
    "SettingError",
    "Settings",
    "Value",
    "build_variant",
    "can_prompt",
    "expand_marker",
    "normalise_domain",
    "parse_flow",
    "parse_min_ttl",
    "parse_rate_limit_wait",
    "parse_retries",
    "parse_scopes",
    "parse_timeout",
    "resolve",
    "resolve_emulator_flag",
    "resolve_flow",
]

T = TypeVar("T")

FLOWS = ("code", "pkce", "implicit", "password", "client_credentials")
#: Flows that go through /authorize and so need a sign-in redirect URI registered on the app.
BROWSER_FLOWS = frozenset({"code", "pkce", "implicit"})
#: Flows that sign a user in (and so need a login and a password).
USER_FLOWS = frozenset({"code", "pkce", "implicit", "password"})
#: Flows that authenticate the client with its secret (a web or service app).
SECRET_FLOWS = frozenset({"code", "client_credentials"})

DEFAULT_SCOPES: tuple[str, ...] = ("openid", "profile", "email")
DEFAULT_FLOW = "pkce"
DEFAULT_AUTH_SERVER = "default"
#: Seconds of life a handed-out token has left at least: room for a slow test's requests, and far
#: below Okta's shortest configurable access-token lifetime (5 minutes).
DEFAULT_MIN_TTL = 60.0
# The transport's defaults, here and not in client.py (whose HttpOptions reads them): client.py
# imports requests, which every pytest run would then pay for at start-up.
#: Seconds for connecting and for each read.
DEFAULT_TIMEOUT = 10.0
#: Extra attempts after a connection error or a 5xx, where repeating the request is safe.
DEFAULT_RETRIES = 2
#: More retries than this only hide an outage: with the doubling backoff, 10 already wait ~8 min.
MAX_RETRIES = 10
#: Longest total wait, in seconds, for a rate-limit window to reset (429); 0: never wait.
DEFAULT_RATE_LIMIT_WAIT = 30.0
#: The instance id of a stand-alone emulator (its keys): part of the variant, hence the cache key.
INSTANCE_ENV = "OKTA_EMULATOR_INSTANCE"
#: The shortest wait for another process's sign-in (the cache lock), whatever the transport says.
MIN_LOCK_TIMEOUT = 120.0
#: Requests one sign-in makes at most: authn, factor verify, authorize, token, keys.
SIGN_IN_CALLS = 5
#: The client's first retry backoff (seconds), doubled per retry (HttpOptions.backoff).
RETRY_BACKOFF = 0.5
#: Room for what no setting bounds: a TOTP code waiting for its next time step, discovery.
LOCK_SLACK = 30.0
#: How /authorize hands back its answer; unset: query for code flows, fragment for implicit.
RESPONSE_MODES = ("query", "fragment", "form_post")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


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


class SettingError(ConfigurationError):
    """A value that cannot be right: names the setting, where it was read, and the fix."""

    def __init__(self, setting: str, source: str, problem: str, fix: str = "") -> None:
        self.setting = setting
        self.source = source
        names = NAMES[setting]
        super().__init__(f"{names.label} ({source}): {problem}", fix or f"set {names.describe()}")

    def __str__(self) -> str:
        # One line: it becomes a pytest.UsageError, which pytest prints as is.
        return self.what if not self.fix else f"{self.what}; fix: {self.fix}"


class MissingSettingsError(ConfigurationError):
    """Settings a variant needs are unset: one message listing each of them with its three names."""

    def __init__(self, flow: str, missing: list[tuple[str, str]]) -> None:
        self.missing = [name for name, _ in missing]
        lines = [f"Okta settings missing for the {flow} flow:"]
        for name, extra in missing:
            names = NAMES[name]
            lines.append(f"  - {names.label}: {names.describe()}{extra}")
        super().__init__(
            "\n".join(lines),
            "set them on the command line, in the environment or in the ini file"
            " (secrets only in the environment), or run with --okta-emulator",
        )


@dataclass(frozen=True)
class Value(Generic[T]):
    """A resolved value and where it came from (``from env OKTA_X``, ``default``, ...)."""

    value: T
    source: str


@dataclass(frozen=True)
class Settings:
    """Everything the plugin was told, resolved and validated. Required values may be ``None``:
    what is missing fails only the tests that need it (see :meth:`missing`)."""

    org_url: Value[str | None]
    auth_server: Value[str]
    client_id: Value[str | None]
    client_secret: Value[Secret | None]
    redirect_uri: Value[str | None]
    scopes: Value[tuple[str, ...]]
    flow: Value[str]
    response_mode: Value[str | None]
    user: Value[str | None]
    password: Value[Secret | None]
    totp_secret: Value[Secret | None]
    cache_dir: Value[Path | None]
    min_ttl: Value[float]
    emulator: Value[bool]
    # Defaults here, so that a Settings built by hand (a script, a test) needs no transport values.
    timeout: Value[float] = Value(DEFAULT_TIMEOUT, "default")
    retries: Value[int] = Value(DEFAULT_RETRIES, "default")
    rate_limit_wait: Value[float] = Value(DEFAULT_RATE_LIMIT_WAIT, "default")
    no_cache: bool = False
    clear_cache: bool = False
    instance: str = ""
    """The emulator's instance id in emulator mode: tokens of one emulator never serve another."""
    password_hint: str = field(default="", compare=False)
    """Why no password prompt happened, added to the missing-password message."""

    def lock_timeout(self) -> float:
        """How long a process waits for another's sign-in (the cache entry's lock): the longest a
        sign-in can take with these transport settings, and never less than 2 minutes."""
        per_call = self.timeout.value * (self.retries.value + 1) + RETRY_BACKOFF * float(
            2**self.retries.value - 1
        )
        longest = SIGN_IN_CALLS * per_call + self.rate_limit_wait.value + LOCK_SLACK
        return max(MIN_LOCK_TIMEOUT, longest)

    def issuer_for(self, auth_server: str | None = None) -> str | None:
        """The issuer of ``auth_server`` (default: the configured one); ``org``: the org server."""
        if self.org_url.value is None:
            return None
        server = auth_server or self.auth_server.value
        if server == "org":
            return self.org_url.value
        return f"{self.org_url.value}/oauth2/{server}"

    @property
    def issuer(self) -> str | None:
        return self.issuer_for()

    def missing(self, flow: str, *, user: str | None = None) -> list[tuple[str, str]]:
        """The settings ``flow`` needs that are unset, each with an extra hint (may be empty)."""
        needed: list[tuple[str, str]] = []
        if self.org_url.value is None:
            needed.append(("domain", ""))
        if self.client_id.value is None:
            needed.append(("client_id", ""))
        if flow in SECRET_FLOWS and self.client_secret.value is None:
            needed.append(("client_secret", " (environment only; the app is confidential)"))
        if flow in BROWSER_FLOWS and self.redirect_uri.value is None:
            needed.append(("redirect_uri", " (a sign-in redirect URI registered on the app)"))
        if flow in USER_FLOWS:
            if (user or self.user.value) is None:
                needed.append(("user", ""))
            if self.password.value is None:
                hint = " (environment only"
                hint += f"; {self.password_hint})" if self.password_hint else ")"
                needed.append(("password", hint))
        return needed

    def require(self, flow: str, *, user: str | None = None) -> None:
        missing = self.missing(flow, user=user)
        if missing:
            raise MissingSettingsError(flow, missing)

    def header_lines(self) -> list[str]:
        """Report header lines: each non-secret value and its source; secrets only as set/unset."""

        def shown(v: Value[Any], text: str | None = None) -> str:
            if v.value is None:
                return "not set"
            return f"{v.value if text is None else text} ({v.source})"

        def secret(v: Value[Secret | None]) -> str:
            return shown(v, "set")

        if all(v.value is None for v in (self.org_url, self.client_id, self.user)):
            # A project with the plugin installed but no Okta in use: one line, not seven.
            return [
                f"okta: not configured (set {NAMES['domain'].describe()} and the rest, or run"
                f" with {NAMES['emulator'].option})"
            ]
        issuer = shown(self.org_url, self.issuer)
        if self.org_url.value is not None and self.auth_server.source != self.org_url.source:
            server = self.auth_server
            by = "by default" if server.source == "default" else server.source
            issuer = f"{issuer[:-1]}; auth server {server.value} {by})"
        if self.no_cache:
            cache = "off (--okta-no-cache)"
        elif self.cache_dir.value is None:
            cache = "off (no writable folder)"
        else:
            cache = shown(self.cache_dir)
            if self.clear_cache:
                cache += ", cleared at start (--okta-clear-cache)"
        lines = [
            f"okta issuer: {issuer}",
            f"okta client: {shown(self.client_id)}, client secret {secret(self.client_secret)}",
            f"okta user: {shown(self.user)}, password {secret(self.password)},"
            f" TOTP secret {secret(self.totp_secret)}",
            f"okta flow: {shown(self.flow)},"
            f" scopes: {shown(self.scopes, ' '.join(self.scopes.value))},"
            f" min TTL: {shown(self.min_ttl, f'{self.min_ttl.value:g}s')}",
            f"okta token cache: {cache}",
            f"okta transport: timeout {shown(self.timeout, f'{self.timeout.value:g}s')},"
            f" retries {shown(self.retries)},"
            f" rate-limit wait {shown(self.rate_limit_wait, f'{self.rate_limit_wait.value:g}s')}",
        ]
        if self.response_mode.value is not None:
            lines.insert(-2, f"okta response mode: {shown(self.response_mode)}")
        if self.redirect_uri.value is not None:
            lines.insert(2, f"okta redirect URI: {shown(self.redirect_uri)}")
        return lines


# ---- reading one setting ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    value: str
    source: str
    base: Path
    """What a relative path is relative to: cwd for command line and env, else the ini's folder."""


class _Sources:
    def __init__(
        self,
        cli: Mapping[str, object],
        env: Mapping[str, str],
        ini: Mapping[str, object],
        ini_path: Path | None,
        cwd: Path,
    ) -> None:
        self.cli = cli
        self.env = env
        self.ini = ini
        self.ini_path = ini_path
        self.cwd = cwd

    def raw(self, setting: str) -> _Raw | None:
        """The first of command line, environment, ini that is set (ini ``""`` counts as unset)."""
        names = NAMES[setting]
        cli = self.cli.get(setting)
        if names.option and cli is not None:
            return _Raw(str(cli), f"from command line {names.option}", self.cwd)
        for env_name in names.env:
            if env_name in self.env:
                return _Raw(self.env[env_name], f"from env {env_name}", self.cwd)
        ini = self.ini.get(names.ini) if names.ini else None
        # pytest reports an absent ini key as None (8.x+) or "" (7.4): both mean "not set".
        if names.ini and ini not in (None, ""):
            where = f" in {self.ini_path.name}" if self.ini_path else ""
            base = self.ini_path.parent if self.ini_path else self.cwd
            return _Raw(str(ini), f"from ini {names.ini}{where}", base)
        return None


def _nonblank(setting: str, raw: _Raw) -> str:
    value = raw.value.strip()
    if not value:
        raise SettingError(
            setting,
            raw.source,
            "is set but empty",
            f"give it a value or unset it ({NAMES[setting].describe()})",
        )
    if "{" in value or "}" in value or value.startswith("<") or "yourOktaDomain" in value:
        raise SettingError(
            setting,
            raw.source,
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


def normalise_domain(raw: str, source: str) -> tuple[str, str | None]:
    """What people paste as their Okta domain, as ``(org URL, auth server or None)``.

    Accepts a bare host (``dev-123.okta.com``), an org URL (``https://dev-123.okta.com/``) or an
    issuer (``https://dev-123.okta.com/oauth2/default``, which also names the authorization server).
    ``http://`` only for loopback hosts (the emulator).
    """
    value = raw.strip()
    if "://" not in value:
        if ":" in value.split("/", 1)[0] and not re.match(r"^[^:/]+:\d+", value):
            raise SettingError(
                "domain", source, f"{value!r} has an unsupported scheme", "use https://"
            )
        value = "https://" + value
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SettingError(
            "domain",
            source,
            f"scheme {parts.scheme!r} is not supported",
            "use https://dev-123.okta.com (http:// only for a local emulator)",
        )
    try:
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise SettingError(
            "domain", source, f"{raw.strip()!r} is not a valid URL ({exc})"
        ) from None
    if not host:
        raise SettingError(
            "domain", source, f"{raw.strip()!r} has no host name", "use https://dev-123.okta.com"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SettingError(
            "domain",
            source,
            "must not hold a user, a query or a fragment",
            "use the org URL or issuer only, e.g. https://dev-123.okta.com/oauth2/default",
        )
    if scheme == "http" and not _is_loopback(host):
        raise SettingError(
            "domain",
            source,
            f"http:// is refused for the remote host {host}"
            " (tokens and passwords would travel in clear)",
            f"use https://{host}",
        )
    admin = re.match(r"^(.+)-admin\.((?:okta|oktapreview|okta-emea|okta-gov|okta-mil)\.com)$", host)
    if admin:
        raise SettingError(
            "domain",
            source,
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
        return org_url, None
    match = re.match(r"^/oauth2/([^/]+)(/?)$", path)
    if match and _AUTH_SERVER_ID.match(match.group(1)) and match.group(1) != "v1":
        if match.group(2):
            raise SettingError(
                "domain",
                source,
                f"the issuer {value!r} ends with '/'; Okta's issuers never do,"
                " and tokens are checked against it",
                f"use {org_url}{path.rstrip('/')}",
            )
        return org_url, match.group(1)
    raise SettingError(
        "domain",
        source,
        f"{value!r} is neither an org URL nor an issuer",
        f"use {org_url} or {org_url}/oauth2/default (the issuer shown under Security > API)",
    )


def parse_auth_server(raw: str, source: str) -> str:
    value = raw.strip()
    if value != "org" and not _AUTH_SERVER_ID.match(value):
        raise SettingError(
            "auth_server",
            source,
            f"{value!r} is not an authorization server id",
            "use 'default', 'org' (the org authorization server) or an id such as"
            " aus1a2b3c4d5e6f7g8h9; to give an issuer URL use okta_domain",
        )
    return value


def parse_flow(raw: str, source: str) -> str:
    value = raw.strip()
    if value not in FLOWS:
        raise SettingError(
            "flow", source, f"unknown flow {value!r}", f"use one of {', '.join(FLOWS)}"
        )
    return value


def parse_response_mode(raw: str, source: str) -> str:
    value = raw.strip()
    if value not in RESPONSE_MODES:
        raise SettingError(
            "response_mode",
            source,
            f"unknown response mode {value!r}",
            f"use one of {', '.join(RESPONSE_MODES)}, or leave it unset",
        )
    return value


def parse_scopes(raw: str, source: str) -> tuple[str, ...]:
    if "," in raw:
        raise SettingError(
            "scopes",
            source,
            f"{raw.strip()!r} separates scopes with commas",
            "separate them with spaces, as OAuth does: 'openid profile email'",
        )
    scopes = tuple(raw.split())
    if not scopes:
        raise SettingError(
            "scopes", source, "is set but empty", "give at least one scope, e.g. 'openid'"
        )
    for scope in scopes:
        if not re.match(r"^[\x21\x23-\x5b\x5d-\x7e]+$", scope):
            raise SettingError("scopes", source, f"{scope!r} is not a valid scope name")
    return scopes


def parse_min_ttl(raw: str, source: str) -> float:
    seconds = _seconds(raw)
    if seconds is None or seconds < 0:
        raise SettingError(
            "min_ttl", source, f"{raw.strip()!r} is not a number of seconds", "use e.g. 60"
        )
    return seconds


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


def parse_timeout(raw: str, source: str) -> float:
    seconds = _seconds(raw)
    # 0 would mean "no timeout" to requests: a hung proxy would then hang the whole run.
    if seconds is None or seconds <= 0:
        raise SettingError(
            "timeout",
            source,
            f"{raw.strip()!r} is not a number of seconds above 0",
            f"use e.g. {DEFAULT_TIMEOUT:g}",
        )
    return seconds


def parse_retries(raw: str, source: str) -> int:
    value = raw.strip()
    # Digits only: int() would also take "+2", "1_0" and non-ASCII digits.
    if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) > MAX_RETRIES:
        raise SettingError(
            "retries",
            source,
            f"{value!r} is not a whole number from 0 to {MAX_RETRIES}",
            f"use e.g. {DEFAULT_RETRIES} (0: no retries)",
        )
    return int(value)


def parse_rate_limit_wait(raw: str, source: str) -> float:
    seconds = _seconds(raw)
    if seconds is None or seconds < 0:
        raise SettingError(
            "rate_limit_wait",
            source,
            f"{raw.strip()!r} is not a number of seconds (0 or more)",
            f"use e.g. {DEFAULT_RATE_LIMIT_WAIT:g} (0: never wait, fail at once)",
        )
    return seconds


def _parse_bool(setting: str, raw: _Raw) -> bool:
    value = raw.value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(
        setting, raw.source, f"{raw.value!r} is not a yes/no value", "use 1 or 0 (true/false)"
    )


def _parse_redirect_uri(raw: _Raw) -> str:
    value = _nonblank("redirect_uri", raw)
    parts = urlsplit(value)
    # Native apps register custom schemes (com.example.app:/callback): any scheme, but no fragment.
    if (
        not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or "")
        or parts.fragment
        or not (parts.netloc or parts.path)
    ):
        raise SettingError(
            "redirect_uri",
            raw.source,
            f"{value!r} is not an absolute URI",
            "use the sign-in redirect URI registered on the app, e.g. http://localhost:8080/authorization-code/callback",
        )
    return value


def _parse_login(setting: str, raw: _Raw) -> str:
    value = _nonblank(setting, raw)
    if any(c.isspace() for c in value):
        raise SettingError(setting, raw.source, f"{value!r} contains white space")
    return value


def _read(
    sources: _Sources,
    setting: str,
    parse: Callable[[_Raw], T],
    default: T,
    default_source: str = "default",
) -> Value[T]:
    """The first source's value, parsed; or the default."""
    raw = sources.raw(setting)
    return Value(default, default_source) if raw is None else Value(parse(raw), raw.source)


def _secret(setting: str, sources: _Sources) -> Value[Secret | None]:
    raw = sources.raw(setting)
    if raw is None:
        return Value(None, "not set")
    # Secrets are not stripped (spaces can be part of a password). Empty is a mistake: an unset CI
    # secret, usually.
    if raw.value == "":
        raise SettingError(
            setting,
            raw.source,
            "is set but empty (a CI secret that is not defined for this job?)",
            f"give it a value or unset {' / '.join(NAMES[setting].env)}",
        )
    return Value(Secret(raw.value), raw.source)


def check_writable_folder(path: Path, source: str) -> Path:
    """Create ``path`` (0700) if needed and prove a file can be written in it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        raise SettingError(
            "cache_dir",
            source,
            f"cannot write to {path} ({exc.strerror or exc})",
            "point --okta-cache-dir / OKTA_TOKEN_CACHE_DIR / okta_cache_dir at a writable local"
            " folder, or run with --okta-no-cache",
        ) from None
    return path


def can_prompt(stdin_isatty: bool, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a password prompt may be shown, and if not, why (for the missing-password hint)."""
    if env.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False, "not asked because CI is set"
    if not stdin_isatty:
        return False, "not asked because stdin is not a terminal"
    return True, ""


def resolve_flow(
    cli: Mapping[str, object],
    env: Mapping[str, str],
    ini: Mapping[str, object],
    ini_path: Path | None = None,
    *,
    cwd: Path | None = None,
) -> Value[str]:
    """Only the configured flow: the plugin needs it before the password prompt."""
    sources = _Sources(cli, env, ini, ini_path, cwd or Path.cwd())
    return _read(sources, "flow", lambda r: parse_flow(r.value, r.source), DEFAULT_FLOW)


def resolve_emulator_flag(
    cli: Mapping[str, object],
    env: Mapping[str, str],
    ini: Mapping[str, object],
    ini_path: Path | None = None,
    *,
    cwd: Path | None = None,
) -> Value[bool]:
    """Only whether emulator mode is on: the plugin needs it first, to start the emulator."""
    sources = _Sources(cli, env, ini, ini_path, cwd or Path.cwd())
    raw = sources.raw("emulator")
    if raw is None:
        return Value(False, "default")
    if raw.source == "from command line --okta-emulator":
        return Value(bool(cli.get("emulator")), raw.source)
    return Value(_parse_bool("emulator", raw), raw.source)


def resolve(
    cli: Mapping[str, object],
    env: Mapping[str, str],
    ini: Mapping[str, object],
    *,
    ini_path: Path | None = None,
    cwd: Path | None = None,
    default_cache_dir: Callable[[], Path | None] = lambda: None,
    emulator_env: Mapping[str, str] | None = None,
    instance: str = "",
    password: Secret | None = None,
    password_hint: str = "",
) -> Settings:
    """Resolve every setting: command line (``cli``, keyed by setting name; ``None`` = not given),
    then ``env``, then ``ini`` (keyed by ini name), then the default.

    ``emulator_env`` (emulator mode): the emulator's demo ``OKTA_*`` values, which replace the org,
    client and user settings. ``password``: a password the plugin prompted for. Raises
    :class:`SettingError` for a value that cannot be right.
    """
    sources = _Sources(cli, env, ini, ini_path, cwd or Path.cwd())
    emulator = resolve_emulator_flag(cli, env, ini, ini_path, cwd=sources.cwd)
    if not instance:
        # A stand-alone emulator (python -m pytest_okta_user.emulator) names its instance, so
        # that tokens cached from an earlier emulator on the same URL are not served.
        instance = env.get(INSTANCE_ENV, "").strip()
    if emulator_env is not None:
        # The emulator's org replaces whatever else names an org: the run must not reach a real one.
        sources_for_org = _Sources({}, dict(emulator_env), {}, None, sources.cwd)
        org_source = "from the emulator"
    else:
        sources_for_org = sources
        org_source = ""

    def relabel(v: Value[T]) -> Value[T]:
        return Value(v.value, org_source) if org_source and v.source != "not set" else v

    # Org URL and, when an issuer was pasted, the auth server it names.
    org_url: Value[str | None] = Value(None, "not set")
    issuer_server: str | None = None
    raw = sources_for_org.raw("domain")
    if raw is not None:
        url, issuer_server = normalise_domain(_nonblank("domain", raw), raw.source)
        org_url = relabel(Value(url, raw.source))

    # The emulator may name its auth server; otherwise the user's choice (e.g. ``org``) applies.
    raw = sources_for_org.raw("auth_server") or sources.raw("auth_server")
    auth_server: Value[str] = Value(DEFAULT_AUTH_SERVER, "default")
    if raw is not None:
        server = parse_auth_server(_nonblank("auth_server", raw), raw.source)
        if issuer_server is not None and server != issuer_server:
            raise SettingError(
                "auth_server",
                raw.source,
                f"is {server!r} but the issuer in {NAMES['domain'].label} ({org_url.source})"
                f" names {issuer_server!r}",
                "give the auth server in one place only",
            )
        auth_server = Value(server, raw.source)
    elif issuer_server is not None:
        # Named by the issuer: the same source, so the header shows it once.
        auth_server = Value(issuer_server, org_url.source)

    # Annotated so that T is "str | None": these settings default to None ("not set").
    client_id: Value[str | None] = _read(
        sources_for_org, "client_id", partial(_parse_login, "client_id"), None, "not set"
    )
    redirect_uri: Value[str | None] = _read(
        sources_for_org, "redirect_uri", _parse_redirect_uri, None, "not set"
    )
    user: Value[str | None] = _read(
        sources_for_org, "user", partial(_parse_login, "user"), None, "not set"
    )
    client_id, redirect_uri, user = relabel(client_id), relabel(redirect_uri), relabel(user)
    client_secret = relabel(_secret("client_secret", sources_for_org))
    if emulator_env is not None:
        pw = relabel(_secret("password", sources_for_org))
    elif password is not None and sources.raw("password") is None:
        pw = Value(password, "from the prompt")
    else:
        pw = _secret("password", sources)
    totp_secret = _secret("totp_secret", sources_for_org if emulator_env is not None else sources)

    scopes = _read(sources, "scopes", lambda r: parse_scopes(r.value, r.source), DEFAULT_SCOPES)
    flow = resolve_flow(cli, env, ini, ini_path, cwd=sources.cwd)
    response_mode: Value[str | None] = _read(
        sources, "response_mode", lambda r: parse_response_mode(r.value, r.source), None, "not set"
    )
    min_ttl = _read(sources, "min_ttl", lambda r: parse_min_ttl(r.value, r.source), DEFAULT_MIN_TTL)
    timeout = _read(sources, "timeout", lambda r: parse_timeout(r.value, r.source), DEFAULT_TIMEOUT)
    retries = _read(sources, "retries", lambda r: parse_retries(r.value, r.source), DEFAULT_RETRIES)
    rate_limit_wait = _read(
        sources,
        "rate_limit_wait",
        lambda r: parse_rate_limit_wait(r.value, r.source),
        DEFAULT_RATE_LIMIT_WAIT,
    )

    no_cache = bool(cli.get("no_cache"))
    raw = sources.raw("cache_dir")
    cache_dir: Value[Path | None]
    if no_cache:
        cache_dir = Value(None, "off (--okta-no-cache)")
    elif raw is not None:
        folder = Path(os.path.expanduser(_nonblank("cache_dir", raw)))
        cache_dir = Value(check_writable_folder(raw.base / folder, raw.source), raw.source)
    else:
        default = default_cache_dir()
        cache_dir = Value(default, "default, under pytest's cache dir" if default else "not set")

    return Settings(
        org_url=org_url,
        auth_server=auth_server,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        scopes=scopes,
        flow=flow,
        response_mode=response_mode,
        user=user,
        password=pw,
        totp_secret=totp_secret,
        cache_dir=cache_dir,
        min_ttl=min_ttl,
        emulator=emulator,
        timeout=timeout,
        retries=retries,
        rate_limit_wait=rate_limit_wait,
        no_cache=no_cache,
        clear_cache=bool(cli.get("clear_cache")),
        instance=instance,
        password_hint=password_hint,
    )


# ---- what a test asks for (the okta marker, the token factory) -----------------------------------

MARKER_KEYWORDS = ("flow", "user", "scopes", "auth_server", "min_ttl")


@dataclass(frozen=True)
class OktaRequest:
    """What one test asks for on top of the settings; ``None`` keeps the configured value."""

    flow: str | None = None
    user: str | None = None
    scopes: tuple[str, ...] | None = None
    auth_server: str | None = None
    min_ttl: float | None = None

    def label(self) -> str:
        """A readable test id part (no secrets: flows, logins, scope and server names only)."""
        parts = [p for p in (self.flow, self.user) if p]
        if self.scopes is not None:
            parts.append("+".join(self.scopes))
        if self.auth_server:
            parts.append(f"as-{self.auth_server}")
        if self.min_ttl is not None:
            parts.append(f"ttl{self.min_ttl:g}")
        return "-".join(parts) or "okta"


class MarkerError(ConfigurationError):
    """Bad arguments to ``@pytest.mark.okta`` (or the token factory)."""


def _marker_one(name: str, value: object) -> object:
    """One (non-list) marker value, checked and normalised."""
    where = f"marker argument {name}"
    if name == "flow":
        if not isinstance(value, str) or value not in FLOWS:
            raise MarkerError(f"flow={value!r} is not a flow", f"use one of {', '.join(FLOWS)}")
        return value
    if name == "user":
        if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
            raise MarkerError(f"user={value!r} is not a login", "use e.g. user='alice@example.com'")
        return value
    if name == "auth_server":
        if not isinstance(value, str):
            raise MarkerError(
                f"auth_server={value!r} is not a string", "use 'default', 'org' or an id"
            )
        try:
            return parse_auth_server(value, where)
        except SettingError as exc:
            raise MarkerError(f"auth_server={value!r}: {exc.what}", exc.fix) from None
    if name == "scopes":
        if isinstance(value, str):
            text = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(s, str) for s in value):
            text = " ".join(value)
        else:
            raise MarkerError(
                f"scopes={value!r} is not a set of scopes",
                "use scopes='openid email' or scopes=['openid', 'email']",
            )
        try:
            return parse_scopes(text, where)
        except SettingError as exc:
            raise MarkerError(f"scopes={value!r}: {exc.what.split(': ', 1)[-1]}", exc.fix) from None
    if name == "min_ttl":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e12:
            raise MarkerError(
                f"min_ttl={value!r} is not a number of seconds", "use e.g. min_ttl=300"
            )
        return float(value)
    raise AssertionError(name)  # expand_marker() let only known names through


def expand_marker(kwargs: Mapping[str, object]) -> list[OktaRequest]:
    """The requests a marker's keyword arguments stand for: one, or one per combination when a
    value is a list (``flow=["code", "pkce"]``; for scopes, a list of scope sets)."""
    choices: dict[str, list[object]] = {}
    for name, value in kwargs.items():
        if name not in MARKER_KEYWORDS:
            raise MarkerError(
                f"unknown argument {name}={value!r}",
                f"the okta marker takes {', '.join(MARKER_KEYWORDS)}",
            )
        fan_out = isinstance(value, list) and (
            name != "scopes" or any(isinstance(v, (list, tuple)) for v in value)
        )
        if name == "min_ttl" and isinstance(value, list):
            raise MarkerError("min_ttl takes one value, not a list", "use e.g. min_ttl=300")
        if fan_out:
            assert isinstance(value, list)
            if not value:
                raise MarkerError(f"{name}=[] is empty", f"give at least one {name}")
            values = [_marker_one(name, v) for v in value]
            if len(set(values)) != len(values):
                raise MarkerError(f"{name}={value!r} lists a value twice", "list each value once")
            choices[name] = values
        else:
            choices[name] = [_marker_one(name, value)]
    requests = [OktaRequest()]
    for name, values in choices.items():
        requests = [_with(r, name, v) for r in requests for v in values]
    return requests


def _with(request: OktaRequest, name: str, value: object) -> OktaRequest:
    changes: dict[str, Any] = {name: value}
    return replace(request, **changes)


def build_variant(settings: Settings, request: OktaRequest) -> Variant:
    """The variant ``request`` asks for under ``settings``; raises :class:`MissingSettingsError`."""
    # Imported here: tokens pulls in PyJWT and cryptography, which plain pytest runs never need.
    from .tokens import Variant

    flow = request.flow or settings.flow.value
    settings.require(flow, user=request.user)
    issuer = settings.issuer_for(request.auth_server)
    # require() has checked both.
    assert issuer is not None
    assert settings.client_id.value is not None
    return Variant(
        issuer=issuer,
        client_id=settings.client_id.value,
        user=None if flow not in USER_FLOWS else (request.user or settings.user.value),
        flow=flow,
        scopes=request.scopes if request.scopes is not None else settings.scopes.value,
        redirect_uri=settings.redirect_uri.value if flow in BROWSER_FLOWS else None,
        instance=settings.instance,
    )
