"""Settings: command line, then environment, then ini, then default; each value keeps its source.

:func:`resolve` reads every row of the settings table (``options.OPTIONS``) once. No pytest here:
the plugin hands in the command-line values, ``os.environ`` and the ini values, so a plain script
resolves the settings the same way (and builds the same provider, see ``provider.build_provider``).
Secrets are read only from the environment (or a prompt the plugin runs, see
:meth:`Settings.with_password`) and are held in :class:`~pytest_okta_user.redact.Secret`, whose
repr is ``'***'``.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar, cast

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
    empty_env: tuple[str, ...] = ()
    """Environment names that were set but empty, and so counted as unset (a CI secret a fork's
    pull request does not get): the source then says so, e.g. ``not set (env OKTA_PASSWORD is
    empty)``."""


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the plugin was told, resolved and validated: ``settings[options.X]`` is the
    :class:`Value` of row ``X``. Required values may be ``None``: what is missing fails only the
    tests that need it (see :meth:`missing`)."""

    values: Mapping[str, Value[Any]]
    """Setting name -> its value: one for every row of ``options.OPTIONS``."""
    password_hint: str = field(default="", compare=False)
    """Why no password prompt happened, added to the missing-password message."""
    deprecations: tuple[str, ...] = field(default=(), compare=False)
    """One message per deprecated name the settings were read under (an old ini key): the plugin
    warns with each once per run (``errors.OktaUserDeprecationWarning``)."""

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
        return Settings(values, password_hint=why_not, deprecations=self.deprecations)

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

    def names(self, kind: str) -> list[str]:
        """The named users (``kind`` ``user``) or apps (``app``) the settings know, lower case."""
        return sorted({key.split(":")[1] for key in self.values if key.startswith(f"{kind}:")})

    def named(self, kind: str, name: str, part: str) -> Value[Any]:
        """The value of ``part`` of the named user or app (unset when nothing set it)."""
        option = options.named_option(kind, name, part)
        found = self.values.get(option.name)
        return found if found is not None else _unset(option)

    def lock_timeout(self) -> float:
        """How long a process waits for another's sign-in (the cache entry's lock): the longest a
        sign-in can take with these transport settings, and never less than 2 minutes."""
        retries = self[options.RETRIES].value
        per_call = self[options.TIMEOUT].value * (retries + 1) + options.RETRY_BACKOFF * float(
            2**retries - 1
        )
        longest = SIGN_IN_CALLS * per_call + self[options.RATE_LIMIT_WAIT].value + LOCK_SLACK
        return max(MIN_LOCK_TIMEOUT, longest)

    def missing(
        self, flow: str, *, user: str | None = None, secrets: bool = True
    ) -> list[tuple[str, str]]:
        """The settings ``flow`` needs that are unset, each with an extra hint (may be empty).

        ``secrets=False``: only what names the tokens (org, client, redirect URI, user), not the
        password and client secret, which only a sign-in needs: a fresh cached token is handed out
        without them (``marker.build_variant`` checks this much, the provider the rest).
        """
        needs = FLOW_TABLE[flow]
        needed: list[tuple[Option[Any], str]] = []
        if self.org_url.value is None:
            needed.append((options.DOMAIN, self._empty_hint(options.DOMAIN)))
        if self[options.CLIENT_ID].value is None:
            needed.append((options.CLIENT_ID, self._empty_hint(options.CLIENT_ID)))
        if secrets and needs.needs_client_secret and self[options.CLIENT_SECRET].value is None:
            hint = "environment only; the app is confidential"
            needed.append((options.CLIENT_SECRET, self._empty_hint(options.CLIENT_SECRET, hint)))
        if needs.uses_authorize and self[options.REDIRECT_URI].value is None:
            hint = "a sign-in redirect URI registered on the app"
            needed.append((options.REDIRECT_URI, self._empty_hint(options.REDIRECT_URI, hint)))
        if needs.signs_in_user:
            if (user or self[options.USER].value) is None:
                needed.append((options.USER, self._empty_hint(options.USER)))
            if secrets and self[options.PASSWORD].value is None:
                hints = ["environment only"]
                if self.password_hint:
                    hints.append(self.password_hint)
                needed.append((options.PASSWORD, self._empty_hint(options.PASSWORD, *hints)))
        return [(option.name, hint) for option, hint in needed]

    def _empty_hint(self, option: Option[Any], *hints: str) -> str:
        """`` (hint; OKTA_X is set but empty, ...)``: a missing setting's extra words."""
        parts = list(hints)
        empty = self[option].empty_env
        if empty:
            parts.append(
                f"{' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty,"
                " which counts as unset"
            )
        return f" ({'; '.join(parts)})" if parts else ""

    def require(self, flow: str, *, user: str | None = None, secrets: bool = True) -> None:
        """Raise :class:`MissingSettingsError` listing what :meth:`missing` finds unset."""
        missing = self.missing(flow, user=user, secrets=secrets)
        if missing:
            raise MissingSettingsError(flow, missing)

    def prompt_user(self) -> tuple[str | None, str]:
        """The login to ask a password for at the start of a run, from any source (command line,
        environment, ini), or None and why not (for the missing-password message).

        Only the settings' side: whether a terminal is attached and CI unset is
        :func:`can_prompt`'s, whether the cache can serve without a sign-in is
        ``provider.serves_from_cache``'s.
        """
        if self[options.PASSWORD].value is not None:
            return None, ""
        flow = self[options.FLOW].value
        if not FLOW_TABLE[flow].signs_in_user:
            return None, f"not asked: the configured flow is {flow}"
        user = self[options.USER].value
        if user is None:
            return None, f"or set {options.USER.describe()} in a terminal to be asked for it"
        return user, ""

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
        return lines + self._named_lines()

    def _named_lines(self) -> list[str]:
        """A line per named user and app: each value (secrets as set or not) and its source."""
        lines = []
        for kind, parts in (("user", options.USER_PARTS), ("app", options.APP_PARTS)):
            for name in self.names(kind):
                shown = []
                for part in parts:
                    option = options.named_option(kind, name, part)
                    value = self.named(kind, name, part)
                    caption = option.label.split(" of ")[0]
                    if value.value is None:
                        text = value.source if value.source.startswith("not set") else "not set"
                    else:
                        text = f"{'set' if option.secret else value.value} ({value.source})"
                    shown.append(f"{caption} {text}")
                lines.append(f"okta {kind} {name}: {', '.join(shown)}")
        return lines

    def _shown(self, option: Option[Any]) -> str:
        """``caption value (source)``, or ``caption not set``."""
        assert option.header is not None
        value = self[option]
        if value.value is None:
            # "not set", or "not set (env OKTA_PASSWORD is empty)"
            text = value.source if value.source.startswith("not set") else "not set"
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
        by = "by default" if server.source.startswith("default") else server.source
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


# NamedTuples, not frozen dataclasses: making a dataclass at import costs ~0.5 ms of each
# pytest start-up (its methods are compiled from generated source); these are never compared.
class _Raw(NamedTuple):
    text: str
    source: str
    """Empty when no source set a value but an environment name was empty (``empty_env``)."""
    base: Path
    """What a relative path is relative to: cwd for command line and env, else the ini's folder."""
    switched: bool = False
    """A switch given on the command line: on, whatever its parser would say of the text."""
    empty_env: tuple[str, ...] = ()
    """Environment names passed over because they were empty (see :attr:`Value.empty_env`)."""


class _Sources(NamedTuple):
    cli: Mapping[str, object]
    env: Mapping[str, str]
    ini: Mapping[str, object]
    ini_path: Path | None
    cwd: Path
    deprecations: list[str]
    """Filled by :meth:`raw`: a message per deprecated ini name read."""

    def raw(self, option: Option[Any]) -> _Raw | None:
        """The first of command line, environment, ini that is set.

        An empty environment value counts as unset (GitHub Actions gives a fork's pull request
        empty strings for the secrets it withholds); it is recorded, so the header and the
        missing-settings message can say so. An ini key pytest reports as absent (None in pytest
        8+, ``""`` or ``[]`` in 7.4) counts as unset too; an old ini name (``Option.ini_aliases``)
        is read after the current one, with a deprecation message.
        """
        given = self.cli.get(option.name)
        # A switch (store_true) can only say yes: False or None is "not given".
        if option.flag and not option.secret and given not in (None, False):
            return _Raw(str(given), f"from command line {option.flag}", self.cwd, option.switch)
        empty: list[str] = []
        for env_name in option.env:
            if env_name not in self.env:
                continue
            text = self.env[env_name]
            # Secrets are not stripped (a password may hold spaces); other values are.
            if (text if option.secret else text.strip()) == "":
                empty.append(env_name)
                continue
            return _Raw(text, f"from env {env_name}", self.cwd, empty_env=tuple(empty))
        found = None if option.secret else self._ini(option)
        if found is None:
            return _Raw("", "", self.cwd, empty_env=tuple(empty)) if empty else None
        return found._replace(empty_env=tuple(empty))

    def _ini(self, option: Option[Any]) -> _Raw | None:
        if not option.ini:
            return None
        where = f" in {self.ini_path.name}" if self.ini_path else ""
        base = self.ini_path.parent if self.ini_path else self.cwd
        names = (option.ini, *option.ini_aliases)
        given = {name: self.ini.get(name) for name in names}
        set_names = [name for name in names if not _ini_unset(given[name])]
        for old in set_names:
            if old == option.ini:
                continue
            if option.ini in set_names:
                self.deprecations.append(
                    f"pytest-okta-user: the ini key {old} is deprecated and ignored, since"
                    f" {option.ini} is set too{where}; remove {old}"
                )
            else:
                self.deprecations.append(
                    f"pytest-okta-user: the ini key {old} is deprecated; rename it to"
                    f" {option.ini}{where} (the value stays the same)"
                )
        if not set_names:
            return None
        name = set_names[0]
        source = f"from ini {name}{where}"
        return _Raw(_ini_text(option, given[name], source), source, base)


def _ini_unset(value: object) -> bool:
    # pytest reports an absent ini key as None (8.x+), or as "" (string) or [] (paths) in 7.4.
    return value is None or (isinstance(value, (str, list)) and len(value) == 0)


def _ini_text(option: Option[Any], value: object, source: str) -> str:
    """An ini value as ``getini`` typed it (``Option.ini_type``), or as a plain reader read it
    (the ``okta-user`` command: text), back to the text the row's parser takes."""
    if isinstance(value, BaseException):
        # getini refused the value (pytest's own check of the declared type): the plugin hands the
        # error in, so that it reads like any other setting's.
        raise SettingError(option.name, source, str(value), _ini_fix(option))
    if isinstance(value, bool):
        return "1" if value else "0"
    if option.ini_type == "paths":
        # pytest's paths type: shell-like words, each relative to the ini file's folder.
        paths = shlex.split(value) if isinstance(value, str) else list(cast(list[Any], value))
        if len(paths) != 1:
            raise SettingError(
                option.name,
                source,
                f"names {len(paths)} folders; the token cache is one folder",
                "give one folder (quote a path with spaces)",
            )
        return _home_relative(str(paths[0]))
    return str(value)


def _home_relative(path: str) -> str:
    """A path pytest's paths type made relative to the ini file's folder although it started with
    ``~``: back to ``~/...``, which the parser expands as on the command line and in the env."""
    parts = Path(path).parts
    if "~" in parts:
        return str(Path(*parts[parts.index("~") :]))
    return path


def _ini_fix(option: Option[Any]) -> str:
    if option.ini_type == "bool":
        return f"set {option.ini} to true or false (1 or 0)"
    return f"fix {option.ini} in the ini file"


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
    emulator: Callable[[str], Mapping[str, str]] | None = None,
) -> Settings:
    """Resolve every setting once: command line (``cli``, keyed by setting name; ``None`` = not
    given), then ``env``, then ``ini`` (keyed by ini name), then the default.

    ``emulator``: called once if emulator mode is on (``options.EMULATOR``), with the engine
    (``options.EMULATOR_ENGINE``), to start the emulator (or, on an xdist worker, to hand in the
    controller's): its demo ``OKTA_*`` values (as ``OktaEmulator.env()``) come first for every
    setting, and are the only source of the org, app and user settings (``Option.emulated``), so
    that such a run never reaches a real org, however the environment names one. Without it the
    flag is only recorded (a script starts its own). An engine set while emulator mode is off is
    an error: the run would reach the org the settings name instead.
    ``default_cache_dir``: asked only when no cache folder is set and the cache is on.

    Raises :class:`SettingError` for a value that cannot be right.
    """
    sources = _Sources(cli, env, ini, ini_path, cwd or Path.cwd(), [])
    # Read first: it decides where the org's settings come from.
    emulator_on = _value(options.EMULATOR, sources.raw(options.EMULATOR))
    engine_raw = sources.raw(options.EMULATOR_ENGINE)
    engine = _value(options.EMULATOR_ENGINE, engine_raw)
    if not emulator_on.value and engine_raw is not None and engine_raw.source:
        # An engine with no emulator to start: the run would reach the org the settings name.
        raise SettingError(
            options.EMULATOR_ENGINE.name,
            engine.source,
            "is set, but emulator mode is off",
            f"add {options.EMULATOR.flag} (or {options.EMULATOR.env[0]}=1), or unset"
            f" {options.EMULATOR_ENGINE.describe()}",
        )
    emulated: _Sources | None = None
    if emulator_on.value and emulator is not None:
        emulated = _Sources({}, dict(emulator(engine.value)), {}, None, sources.cwd, [])

    def read(option: Option[Any]) -> Value[Any]:
        raw = None
        if emulated is not None:
            raw = emulated.raw(option)
            raw = raw if raw is None else raw._replace(source=FROM_EMULATOR)
        if raw is None and (emulated is None or not option.emulated):
            raw = sources.raw(option)
        return _value(option, raw)

    values: dict[str, Value[Any]] = {
        options.EMULATOR.name: emulator_on,
        options.EMULATOR_ENGINE.name: engine,
    }
    for option in options.OPTIONS:
        if option.name not in values:
            values[option.name] = read(option)
    # Named users and apps: whatever names the sources set something for (OKTA_ADMIN_USERNAME,
    # okta_spa_client_id, ...), each read like the default user's and app's settings.
    env_names = [*(emulated.env if emulated is not None else ()), *env]
    users, apps = options.names_in(env_names, ini)
    for kind, names in (("user", users), ("app", apps)):
        for name in sorted(names):
            for option in options.named_options(kind, name):
                values[option.name] = read(option)

    _agree_on_the_auth_server(values)
    values[options.CACHE_DIR.name] = _cache_folder(values, default_cache_dir)
    return Settings(values, deprecations=tuple(dict.fromkeys(sources.deprecations)))


def _value(option: Option[T], raw: _Raw | None) -> Value[T]:
    """The row's value as read (``raw``), or its default when no source set it (an empty
    environment value counts as unset: its source says so)."""
    if raw is None:
        return _unset(option)
    if not raw.source:
        unset = _unset(option)
        names = " and ".join(f"env {name}" for name in raw.empty_env)
        verb = "is" if len(raw.empty_env) == 1 else "are"
        return Value(unset.value, f"{unset.source} ({names} {verb} empty)", raw.empty_env)
    return Value(_parse(option, raw), raw.source, raw.empty_env)


def _agree_on_the_auth_server(values: dict[str, Value[Any]]) -> None:
    """An issuer given as the domain names the auth server: the auth server setting then may only
    repeat it, and when unset takes it (with the domain's source, so the header shows it once)."""
    domain: Value[OrgDomain | None] = values[options.DOMAIN.name]
    named = None if domain.value is None else domain.value.auth_server
    if named is None:
        return
    server: Value[str] = values[options.AUTH_SERVER.name]
    if server.source.startswith("default"):  # also "default (env OKTA_AUTH_SERVER_ID is empty)"
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
