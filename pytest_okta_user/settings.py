"""Settings: command line, then environment, then ini, then default; each value keeps its source.

:func:`resolve` reads every row of the settings table (``options.OPTIONS``) once. No pytest here:
the plugin hands in the command-line values, ``os.environ`` and the ini values, so a plain script
resolves the settings the same way (and builds the same provider, see ``provider.build_provider``).
Secrets are read only from the environment (or a prompt the plugin runs, see
:meth:`Settings.with_password`) and are held in :class:`~pytest_okta_user.redact.Secret`, whose
repr is ``'***'``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from . import options
from .errors import MissingSettingsError, SettingError
from .options import FLOW_TABLE, Option, OrgDomain
from .redact import Secret

__all__ = [
    "Settings",
    "Value",
    "can_prompt",
    "check_writable_folder",
    "resolve",
]

T = TypeVar("T")

#: The shortest wait for another process's sign-in (the cache lock), whatever the transport says.
MIN_LOCK_TIMEOUT = 120.0
#: Requests one sign-in makes at most: authn, factor verify, authorize, token, keys.
SIGN_IN_CALLS = 5
#: Room for what no setting bounds: a TOTP code waiting for its next time step, discovery.
LOCK_SLACK = 30.0
#: The source of a value an emulator handed in (emulator mode).
FROM_EMULATOR = "from the emulator"


@dataclass(frozen=True)
class Value(Generic[T]):
    """A resolved value and where it came from (``from env OKTA_X``, ``default``, ...)."""

    value: T
    source: str


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the plugin was told, resolved and validated: ``settings[options.X]`` is the
    :class:`Value` of row ``X``. Required values may be ``None``: what is missing fails only the
    tests that need it (see :meth:`missing`)."""

    values: Mapping[str, Value[Any]]
    """Setting name -> its value: one for every row of ``options.OPTIONS``."""
    password_hint: str = field(default="", compare=False)
    """Why no password prompt happened, added to the missing-password message."""

    def __getitem__(self, option: Option[T]) -> Value[T]:
        return cast(Value[T], self.values[option.name])

    def __repr__(self) -> str:
        # Secrets are Secret objects, whose repr is '***'.
        shown = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        return f"Settings({shown})"

    def with_password(self, password: Secret | None, why_not: str = "") -> Settings:
        """These settings with a password the plugin prompted for (None: none was asked for, and
        ``why_not`` says why). A password from the environment stays: it wins over the prompt."""
        values = dict(self.values)
        if password is not None and self[options.PASSWORD].value is None:
            values[options.PASSWORD.name] = Value(password, "from the prompt")
        return Settings(values, password_hint=why_not)

    # ---- derived values -------------------------------------------------------------------------

    @property
    def org_url(self) -> Value[str | None]:
        domain = self[options.DOMAIN]
        return Value(None if domain.value is None else domain.value.org_url, domain.source)

    def issuer_for(self, auth_server: str | None = None) -> str | None:
        """The issuer of ``auth_server`` (default: the configured one); ``org``: the org server."""
        org_url = self.org_url.value
        if org_url is None:
            return None
        server = auth_server or self[options.AUTH_SERVER].value
        if server == "org":
            return org_url
        return f"{org_url}/oauth2/{server}"

    @property
    def issuer(self) -> str | None:
        return self.issuer_for()

    def lock_timeout(self) -> float:
        """How long a process waits for another's sign-in (the cache entry's lock): the longest a
        sign-in can take with these transport settings, and never less than 2 minutes."""
        retries = self[options.RETRIES].value
        per_call = self[options.TIMEOUT].value * (retries + 1) + options.RETRY_BACKOFF * float(
            2**retries - 1
        )
        longest = SIGN_IN_CALLS * per_call + self[options.RATE_LIMIT_WAIT].value + LOCK_SLACK
        return max(MIN_LOCK_TIMEOUT, longest)

    def missing(self, flow: str, *, user: str | None = None) -> list[tuple[str, str]]:
        """The settings ``flow`` needs that are unset, each with an extra hint (may be empty)."""
        needs = FLOW_TABLE[flow]
        needed: list[tuple[Option[Any], str]] = []
        if self.org_url.value is None:
            needed.append((options.DOMAIN, ""))
        if self[options.CLIENT_ID].value is None:
            needed.append((options.CLIENT_ID, ""))
        if needs.needs_client_secret and self[options.CLIENT_SECRET].value is None:
            needed.append((options.CLIENT_SECRET, " (environment only; the app is confidential)"))
        if needs.uses_authorize and self[options.REDIRECT_URI].value is None:
            needed.append((options.REDIRECT_URI, " (a sign-in redirect URI registered on the app)"))
        if needs.signs_in_user:
            if (user or self[options.USER].value) is None:
                needed.append((options.USER, ""))
            if self[options.PASSWORD].value is None:
                hint = " (environment only"
                hint += f"; {self.password_hint})" if self.password_hint else ")"
                needed.append((options.PASSWORD, hint))
        return [(option.name, hint) for option, hint in needed]

    def require(self, flow: str, *, user: str | None = None) -> None:
        missing = self.missing(flow, user=user)
        if missing:
            raise MissingSettingsError(flow, missing)

    # ---- the report header ----------------------------------------------------------------------

    def header_lines(self) -> list[str]:
        """Report header lines: each non-secret value and its source; secrets only as set/unset.

        One line per ``Shown.line`` of the table's rows, in the order of the rows; the issuer and
        the token cache lines combine their rows' values (see :data:`_COMBINED_LINES`).
        """
        identity: tuple[Option[Any], ...] = (options.DOMAIN, options.CLIENT_ID, options.USER)
        if all(self[o].value is None for o in identity):
            # A project with the plugin installed but no Okta in use: one line, not seven.
            return [
                f"okta: not configured (set {options.DOMAIN.describe()} and the rest, or run"
                f" with {options.EMULATOR.flag})"
            ]
        rows: dict[str, list[Option[Any]]] = {}
        for option in options.OPTIONS:
            if option.header is not None:
                rows.setdefault(option.header.line, []).append(option)
        lines = []
        for line, on_line in rows.items():
            combined = _COMBINED_LINES.get(line)
            if combined is not None:
                lines.append(f"okta {line}: {combined(self)}")
            elif not all(o.header and o.header.if_set and self[o].value is None for o in on_line):
                lines.append(f"okta {line}: {', '.join(self._shown(o) for o in on_line)}")
        return lines

    def _shown(self, option: Option[Any]) -> str:
        """``caption value (source)``, or ``caption not set``."""
        assert option.header is not None
        value = self[option]
        if value.value is None:
            text = "not set"
        else:
            shown = "set" if option.secret else option.header.text(value.value)
            text = f"{shown} ({value.source})"
        return f"{option.header.caption} {text}" if option.header.caption else text


def _issuer_line(settings: Settings) -> str:
    """The issuer, and where the auth server came from when that is not where the org did."""
    org_url, server = settings.org_url, settings[options.AUTH_SERVER]
    if org_url.value is None:
        return "not set"
    shown = f"{settings.issuer} ({org_url.source}"
    if server.source != org_url.source:
        by = "by default" if server.source == "default" else server.source
        shown += f"; auth server {server.value} {by}"
    return shown + ")"


def _cache_line(settings: Settings) -> str:
    folder = settings[options.CACHE_DIR]
    if settings[options.NO_CACHE].value:
        return f"off ({options.NO_CACHE.flag})"
    if folder.value is None:
        return "off (no writable folder)"
    shown = f"{folder.value} ({folder.source})"
    if settings[options.CLEAR_CACHE].value:
        shown += f", cleared at start ({options.CLEAR_CACHE.flag})"
    return shown


#: Header lines whose rows read as one value.
_COMBINED_LINES: dict[str, Callable[[Settings], str]] = {
    "issuer": _issuer_line,
    "token cache": _cache_line,
}


# ---- reading the rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    text: str
    source: str
    base: Path
    """What a relative path is relative to: cwd for command line and env, else the ini's folder."""
    switched: bool = False
    """A switch given on the command line: on, whatever its parser would say of the text."""


@dataclass(frozen=True)
class _Sources:
    cli: Mapping[str, object]
    env: Mapping[str, str]
    ini: Mapping[str, object]
    ini_path: Path | None
    cwd: Path

    def raw(self, option: Option[Any]) -> _Raw | None:
        """The first of command line, environment, ini that is set (ini ``""`` counts as unset;
        an empty environment value counts as set, and is then refused by the parser)."""
        given = self.cli.get(option.name)
        # A switch (store_true) can only say yes: False or None is "not given".
        if option.flag and not option.secret and given not in (None, False):
            return _Raw(str(given), f"from command line {option.flag}", self.cwd, option.switch)
        for env_name in option.env:
            if env_name in self.env:
                return _Raw(self.env[env_name], f"from env {env_name}", self.cwd)
        ini = self.ini.get(option.ini) if option.ini and not option.secret else None
        # pytest reports an absent ini key as None (8.x+) or "" (7.4): both mean "not set".
        if option.ini and ini not in (None, ""):
            where = f" in {self.ini_path.name}" if self.ini_path else ""
            base = self.ini_path.parent if self.ini_path else self.cwd
            return _Raw(str(ini), f"from ini {option.ini}{where}", base)
        return None


def _parse(option: Option[T], raw: _Raw) -> T:
    """``raw`` through the row's parser; a refused value becomes a :class:`SettingError` naming
    the setting and where it was read."""
    if raw.switched:
        return cast(T, True)
    try:
        value = option.parse(raw.text)
    except options.EmptyValue as exc:
        unset = (
            f"unset {' / '.join(option.env)}"
            if option.secret
            else f"unset it ({option.describe()})"
        )
        raise SettingError(
            option.name, raw.source, exc.problem, f"give it a value or {unset}"
        ) from None
    except options.BadValue as exc:
        raise SettingError(option.name, raw.source, exc.problem, exc.fix) from None
    if isinstance(value, Path) and not value.is_absolute():
        return cast(T, raw.base / value)
    return value


def _unset(option: Option[T]) -> Value[T]:
    return Value(option.default, "not set" if option.default is None else "default")


def check_writable_folder(path: Path, source: str) -> Path:
    """Create ``path`` (0700) if needed and prove a file can be written in it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        raise SettingError(
            options.CACHE_DIR.name,
            source,
            f"cannot write to {path} ({exc.strerror or exc})",
            f"point {options.CACHE_DIR.describe()} at a writable local folder, or run with"
            f" {options.NO_CACHE.flag}",
        ) from None
    return path


def can_prompt(stdin_isatty: bool, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a password prompt may be shown, and if not, why (for the missing-password hint)."""
    if env.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False, "not asked because CI is set"
    if not stdin_isatty:
        return False, "not asked because stdin is not a terminal"
    return True, ""


def resolve(
    cli: Mapping[str, object],
    env: Mapping[str, str],
    ini: Mapping[str, object],
    *,
    ini_path: Path | None = None,
    cwd: Path | None = None,
    default_cache_dir: Callable[[], Path | None] = lambda: None,
    emulator: Callable[[], Mapping[str, str]] | None = None,
) -> Settings:
    """Resolve every setting once: command line (``cli``, keyed by setting name; ``None`` = not
    given), then ``env``, then ``ini`` (keyed by ini name), then the default.

    ``emulator``: called once if emulator mode is on (``options.EMULATOR``), to start the emulator
    (or, on an xdist worker, to hand in the controller's): its demo ``OKTA_*`` values (as
    ``OktaEmulator.env()``) come first for every setting, and are the only source of the org, app
    and user settings (``Option.emulated``), so that such a run never reaches a real org, however
    the environment names one. Without it the flag is only recorded (a script starts its own).
    ``default_cache_dir``: asked only when no cache folder is set and the cache is on.

    Raises :class:`SettingError` for a value that cannot be right.
    """
    sources = _Sources(cli, env, ini, ini_path, cwd or Path.cwd())
    # Read first: it decides where the org's settings come from.
    emulator_on = _value(options.EMULATOR, sources.raw(options.EMULATOR))
    emulated: _Sources | None = None
    if emulator_on.value and emulator is not None:
        emulated = _Sources({}, dict(emulator()), {}, None, sources.cwd)

    values: dict[str, Value[Any]] = {options.EMULATOR.name: emulator_on}
    for option in options.OPTIONS:
        if option.name in values:
            continue
        raw = None
        if emulated is not None:
            raw = emulated.raw(option)
            raw = raw if raw is None else dataclasses.replace(raw, source=FROM_EMULATOR)
        if raw is None and (emulated is None or not option.emulated):
            raw = sources.raw(option)
        values[option.name] = _value(option, raw)

    _agree_on_the_auth_server(values)
    values[options.CACHE_DIR.name] = _cache_folder(values, default_cache_dir)
    return Settings(values)


def _value(option: Option[T], raw: _Raw | None) -> Value[T]:
    """The row's value as read (``raw``), or its default when no source set it."""
    return _unset(option) if raw is None else Value(_parse(option, raw), raw.source)


def _agree_on_the_auth_server(values: dict[str, Value[Any]]) -> None:
    """An issuer given as the domain names the auth server: the auth server setting then may only
    repeat it, and when unset takes it (with the domain's source, so the header shows it once)."""
    domain: Value[OrgDomain | None] = values[options.DOMAIN.name]
    named = None if domain.value is None else domain.value.auth_server
    if named is None:
        return
    server: Value[str] = values[options.AUTH_SERVER.name]
    if server.source == "default":
        values[options.AUTH_SERVER.name] = Value(named, domain.source)
    elif server.value != named:
        raise SettingError(
            options.AUTH_SERVER.name,
            server.source,
            f"is {server.value!r} but the issuer in {options.DOMAIN.label} ({domain.source})"
            f" names {named!r}",
            "give the auth server in one place only",
        )


def _cache_folder(
    values: Mapping[str, Value[Any]], default_cache_dir: Callable[[], Path | None]
) -> Value[Path | None]:
    """The cache folder, proven writable; none with the cache off."""
    folder: Value[Path | None] = values[options.CACHE_DIR.name]
    if values[options.NO_CACHE.name].value:
        return Value(None, f"off ({options.NO_CACHE.flag})")
    if folder.value is not None:
        return Value(check_writable_folder(folder.value, folder.source), folder.source)
    default = default_cache_dir()
    return Value(default, "default, under pytest's cache dir" if default else "not set")
