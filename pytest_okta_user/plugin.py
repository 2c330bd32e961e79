"""pytest-okta-user's hooks: options, the okta marker, settings, the report header, xdist wiring and
emulator mode. The fixtures live in ``fixtures.py``; the Okta work in modules that import no pytest.

Under xdist the controller does what must happen once per run (ask for the password, start the
emulator, clear the cache) and hands the results to the workers through ``workerinput``, never
through argv or the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import sys
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import masking, options
from .errors import MarkerError, SettingError
from .fixtures import (  # noqa: F401  (fixtures register by being names in the plugin module)
    EMULATOR_KEY,
    PROVIDER_KEY,
    RUN_ID_KEY,
    SETTINGS_KEY,
    VARIANTS_KEY,
    _okta_request,
    okta_access_token,
    okta_auth,
    okta_clock,
    okta_emulator,
    okta_id_token,
    okta_provider,
    okta_session,
    okta_settings,
    okta_token_factory,
    okta_tokens,
    okta_user,
    okta_variant,
)
from .marker import OktaRequest, expand_marker
from .masking_hooks import MaskingHooks
from .options import FLOW_TABLE, OPTIONS
from .redact import RedactedStr, Secret, fingerprint
from .settings import Settings, can_prompt, check_writable_folder, resolve

if TYPE_CHECKING:
    from .emulator import OktaEmulator

#: The key of the plugin's part of xdist's workerinput (to the workers) and workeroutput (back).
WORKERINPUT_KEY = "okta_user"
_PAYLOAD_KEY = pytest.StashKey["WorkerPayload"]()
_INTERNED_KEY = pytest.StashKey[dict[OktaRequest, OktaRequest]]()
#: What the workers report back (workeroutput), summed up on the controller.
_WORKER_STATS_KEY = pytest.StashKey[list[dict[str, Any]]]()
_MASKING_KEY = pytest.StashKey[MaskingHooks]()


@dataclass(frozen=True, repr=False)
class EmulatorInfo:
    """What an xdist worker knows of the run's emulator (it runs in the controller process)."""

    url: str
    instance_id: str
    settings: Mapping[str, str]
    """The demo org's ``OKTA_*`` values (including its demo password and client secret)."""

    def env(self) -> dict[str, str]:
        return dict(self.settings)

    def __repr__(self) -> str:
        return f"EmulatorInfo(url={self.url!r}, instance_id={self.instance_id!r})"


@dataclass(frozen=True)
class WorkerPayload:
    """What the controller hands each xdist worker: the prompted password (or why there was
    none) and the emulator it started. It travels in ``workerinput``, over execnet's channel, so
    the password never shows in a worker's argv or environment."""

    password: Secret | None = None
    password_hint: str = ""
    emulator: EmulatorInfo | None = None
    fingerprint_key: str = ""
    """The run's fingerprint key (hex, ``masking.run_key()``): one label per token in every
    process."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values for execnet; the one place the password leaves its :class:`Secret`."""
        emulator = self.emulator
        return {
            "password": None if self.password is None else self.password.reveal(),
            "password_hint": self.password_hint,
            "emulator": None
            if emulator is None
            else {"url": emulator.url, "instance_id": emulator.instance_id, "env": emulator.env()},
            "fingerprint_key": self.fingerprint_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerPayload:
        password = data.get("password")
        emulator = data.get("emulator")
        return cls(
            password=None if password is None else Secret(password),
            password_hint=data.get("password_hint", ""),
            emulator=None
            if emulator is None
            else EmulatorInfo(emulator["url"], emulator["instance_id"], emulator["env"]),
            fingerprint_key=data.get("fingerprint_key", ""),
        )


# ---- options and ini keys -----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    # Help texts follow pytest's rules: a capital first letter; a single phrase has no final period.
    group = parser.getgroup("okta-user", "Okta user tokens (pytest-okta-user)")
    for option in OPTIONS:
        if option.flag and option.switch:
            group.addoption(
                option.flag,
                dest=f"okta_{option.name}",
                action="store_true",
                # None: not given, so the environment and the ini file may still switch it on.
                default=None if option.env or option.ini else False,
                help=option.option_help(),
            )
        elif option.flag:
            group.addoption(
                option.flag,
                dest=f"okta_{option.name}",
                default=None,
                metavar=option.name.upper(),
                help=option.option_help(),
            )
        if option.ini:
            parser.addini(option.ini, help=option.ini_help(), default=None)


# ---- configuration ------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "okta(flow=..., user=..., scopes=..., auth_server=..., min_ttl=...): the Okta variant the"
        " okta_* fixtures give this test; a list value (flow=['code', 'pkce']) runs the test once"
        " per value. The closest marker wins, per argument.",
    )
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(config), "okta_user.xdist")
    # Masking (masking_hooks.py) is on from here; the settings may switch it off in _configure.
    config.stash[_MASKING_KEY] = MaskingHooks(config)
    config.pluginmanager.register(config.stash[_MASKING_KEY], "okta_user.masking")
    if config.option.help:
        # --help must work whatever the settings say.
        return
    try:
        _configure(config)
    except SettingError as exc:
        raise pytest.UsageError(f"pytest-okta-user: {exc}") from None


def _configure(config: pytest.Config) -> None:
    cli = {o.name: getattr(config.option, f"okta_{o.name}", None) for o in OPTIONS if o.flag}
    ini = {o.ini: config.getini(o.ini) for o in OPTIONS if o.ini}
    worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
    sent = (
        None
        if worker_input is None
        else WorkerPayload.from_dict(worker_input.get(WORKERINPUT_KEY) or {})
    )
    if sent is not None and sent.fingerprint_key:
        masking.set_run_key(sent.fingerprint_key)

    started: list[EmulatorInfo] = []

    def start_emulator() -> Mapping[str, str]:
        # Called by resolve() only in emulator mode, so the flag is read once, with the rest.
        if sent is not None and sent.emulator is not None:
            config.stash[EMULATOR_KEY] = sent.emulator
            return sent.emulator.env()
        okta = _start_emulator(config)
        config.stash[EMULATOR_KEY] = okta
        started.append(EmulatorInfo(okta.url, okta.instance_id, okta.env()))
        return okta.env()

    settings = resolve(
        cli,
        os.environ,
        ini,
        ini_path=config.inipath,
        cwd=config.invocation_params.dir,
        default_cache_dir=lambda: _default_cache_dir(config),
        # A worker whose controller started none starts none either.
        emulator=None if sent is not None and sent.emulator is None else start_emulator,
    )
    if sent is not None:
        assert worker_input is not None
        # xdist's own id of the run: the same in every worker (and in pytest_configure_node).
        run_id = str(worker_input["testrunuid"])
        payload = sent
    else:
        run_id = uuid.uuid4().hex
        password, why_not = _prompted_password(config, settings, cli)
        payload = WorkerPayload(
            password, why_not, started[0] if started else None, masking.run_key()
        )
    settings = settings.with_password(payload.password, payload.password_hint)
    config.stash[_MASKING_KEY].apply(settings)
    config.stash[SETTINGS_KEY] = settings
    config.stash[_PAYLOAD_KEY] = payload
    config.stash[RUN_ID_KEY] = run_id
    if sent is None:
        _prepare_the_cache(config, settings)


def _prepare_the_cache(config: pytest.Config, settings: Settings) -> None:
    """Only on the controller: a worker clearing it could remove what another worker just stored."""
    no_cache, clear_cache = settings[options.NO_CACHE].value, settings[options.CLEAR_CACHE].value
    if clear_cache and no_cache:
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"pytest-okta-user: {options.CLEAR_CACHE.flag} does nothing with"
                f" {options.NO_CACHE.flag} (no cache folder is used); drop {options.NO_CACHE.flag}"
                " to clear the token cache"
            ),
            stacklevel=3,
        )
    folder = settings[options.CACHE_DIR].value
    if folder is not None:
        from .cache import TokenCache

        cache = TokenCache.inside(folder)
        if clear_cache:
            cache.clear()
        else:
            # Entries whose tokens died long ago (an emulator's, whose instance id changes every
            # run; a user no longer tested) would pile up: no run can use them any more.
            cache.prune(time.time())


def _start_emulator(config: pytest.Config) -> OktaEmulator:
    from .emulator import OktaEmulator

    stack = contextlib.ExitStack()
    config.add_cleanup(stack.close)
    try:
        return stack.enter_context(OktaEmulator())
    except OSError as exc:
        raise pytest.UsageError(
            f"pytest-okta-user: could not start the emulator: {exc}\n  fix: free a local port"
            f" for it (or the file it names), or run without it: drop"
            f" {options.EMULATOR.describe()} and set the Okta settings"
        ) from None


#: pytest options under which no test runs, so no password is needed.
_NO_RUN_OPTIONS = {
    "collectonly": "--collect-only",
    "markers": "--markers",
    "showfixtures": "--fixtures",
    "show_fixtures_per_test": "--fixtures-per-test",
    "version": "--version",
}


def _prompted_password(
    config: pytest.Config, settings: Settings, cli: Mapping[str, object]
) -> tuple[Secret | None, str]:
    """The password typed at the prompt, or None and why there was no prompt (for the
    missing-password message). Asked only when the settings give none (emulator mode gives the
    demo user's)."""
    if settings[options.PASSWORD].value is not None:
        return None, ""
    for dest, option in _NO_RUN_OPTIONS.items():
        if getattr(config.option, dest, False):
            return None, f"not asked with {option}"
    flow = settings[options.FLOW].value
    if not FLOW_TABLE[flow].signs_in_user:
        return None, f"not asked: the configured flow is {flow}"
    return _ask_password(config, cli.get(options.USER.name))


def _ask_password(config: pytest.Config, user: object) -> tuple[Secret | None, str]:
    """Ask for the password once, on the controller, if ``--okta-user`` was given interactively.

    Returns the password (or None) and, when there was none, why (for the missing-password
    message).
    """
    if user is None:
        return None, f"or pass {options.USER.flag} in a terminal to be asked for it"
    # Capture holds stdin (fd 0 is /dev/null meanwhile): release it first (in_=True), as pytest's
    # own --pdb does; only then can we tell whether stdin is a terminal.
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.suspend_global_capture(in_=True)
    try:
        allowed, why_not = can_prompt(sys.stdin.isatty(), os.environ)
        if not allowed:
            return None, why_not
        try:
            answer = Secret(getpass.getpass(f"Okta password for {user}: "))
        except EOFError:
            answer = Secret("")
    finally:
        if capman is not None:
            capman.resume_global_capture()
    if not answer.reveal():
        return None, "the prompt got an empty answer"
    return answer, ""


def _default_cache_dir(config: pytest.Config) -> Path | None:
    """``okta-user`` under pytest's cache dir; with ``-p no:cacheprovider``, the same place by hand.

    A folder that cannot be written turns the disk cache off with a warning: the run still works,
    only each process signs in on its own.
    """
    try:
        if hasattr(config, "cache"):
            folder = Path(config.cache.mkdir("okta-user"))
        else:
            folder = config.rootpath / ".pytest_cache" / "d" / "okta-user"
        return check_writable_folder(folder, "default")
    except (OSError, SettingError) as exc:
        warnings.warn(
            pytest.PytestConfigWarning(
                f"pytest-okta-user: no token cache: {exc}; to share tokens between processes"
                f" and runs, set {options.CACHE_DIR.describe()} to a writable local folder"
            ),
            stacklevel=2,
        )
        return None


class _XdistHooks:
    """Registered only when xdist is installed (its hook names are unknown otherwise)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        payload = self.config.stash.get(_PAYLOAD_KEY, WorkerPayload())
        node.workerinput[WORKERINPUT_KEY] = payload.to_dict()
        # The workers' run id (see _configure); the controller's too, for one id per run.
        self.config.stash[RUN_ID_KEY] = node.workerinput["testrunuid"]

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        stats = getattr(node, "workeroutput", {}).get(WORKERINPUT_KEY)
        if stats:
            self.config.stash.setdefault(_WORKER_STATS_KEY, []).append(stats)


# ---- markers ------------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    markers = list(metafunc.definition.iter_markers("okta"))
    if not markers:
        return
    where = f"{metafunc.definition.nodeid}: @pytest.mark.okta"
    merged: dict[str, object] = {}
    for marker in markers:  # closest first: its values win, argument by argument
        if marker.args:
            raise pytest.Collector.CollectError(
                f"{where}: takes keyword arguments only, got {marker.args!r};"
                " fix: write e.g. @pytest.mark.okta(flow='code')"
            )
        for name, value in marker.kwargs.items():
            merged.setdefault(name, value)
    try:
        requests = expand_marker(merged)
    except MarkerError as exc:
        raise pytest.Collector.CollectError(
            f"{where}: {exc.what}" + (f"; fix: {exc.fix}" if exc.fix else "")
        ) from None
    settings: Settings | None = metafunc.config.stash.get(SETTINGS_KEY, None)
    if settings is not None and len(requests) == 1:
        # A marker that asks for the settings' own values (flow="pkce" when pkce is the default)
        # is the unmarked request: the same fixture instances, not a rebuilt user fixture.
        requests = [_without_defaults(requests[0], settings)]
    if "_okta_request" not in metafunc.fixturenames or requests == [OktaRequest()]:
        return
    # pytest 7 reuses a session fixture's instance only for the *same* param object: intern them.
    interned = metafunc.config.stash.setdefault(_INTERNED_KEY, {})
    params = [interned.setdefault(r, r) for r in requests]
    metafunc.parametrize(
        "_okta_request",
        params,
        indirect=True,
        ids=[r.label() for r in params],
        scope="session",
    )


def _without_defaults(request: OktaRequest, settings: Settings) -> OktaRequest:
    """``request`` with the values equal to the settings' set back to None (unchanged)."""
    scopes = settings[options.SCOPES].value
    same = {
        "flow": request.flow == settings[options.FLOW].value,
        "user": request.user is not None and request.user == settings[options.USER].value,
        "scopes": request.scopes is not None and sorted(set(request.scopes)) == sorted(set(scopes)),
        "auth_server": request.auth_server == settings[options.AUTH_SERVER].value,
        "min_ttl": request.min_ttl == settings[options.MIN_TTL].value,
    }
    changes: dict[str, Any] = {name: None for name, equal in same.items() if equal}
    return dataclasses.replace(request, **changes)


# ---- session token values outliving their life ---------------------------------------------------

#: Session fixtures whose value is fixed at first use: no request renews it.
_FIXED_VALUES = ("okta_access_token", "okta_id_token", "okta_tokens")
#: The plugin's fixtures that take okta_tokens and renew (okta_auth) or need no live token.
_RENEWING_OR_TIMELESS = frozenset({"okta_auth", "okta_user", "okta_access_token", "okta_id_token"})


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test at setup whose session token (okta_access_token, okta_id_token, okta_tokens)
    has less than min_ttl left: the value was fixed at first use, and a long run outlived it.

    Runs after the runner's own setup (trylast), so the fixtures hold their values.
    """
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    tokens = funcargs.get("okta_tokens")
    provider = item.config.stash.get(PROVIDER_KEY, None)
    if tokens is None or provider is None or not _uses_a_fixed_value(item):
        return
    request: OktaRequest = funcargs.get("_okta_request", OktaRequest())
    if provider.fresh(tokens, min_ttl=request.min_ttl):
        return
    ttl = provider.min_ttl if request.min_ttl is None else request.min_ttl
    left = tokens.expires_at - provider.now()
    pytest.fail(
        f"pytest-okta-user: the token handed out for this run ({', '.join(_fixed_in(item))})"
        f" has {max(left, 0):.0f}s left, less than min_ttl ({ttl:g}s); session fixtures keep"
        " the value they got first.\n  fix: use okta_session or okta_auth (they renew the"
        " token before every request) or okta_token_factory(...) (a fresh one per call), or"
        " lengthen the access token lifetime in the authorization server's access policy rule.",
        pytrace=False,
    )


def _fixed_in(item: pytest.Item) -> list[str]:
    names = getattr(item, "fixturenames", ())
    return [name for name in _FIXED_VALUES if name in names]


def _uses_a_fixed_value(item: pytest.Item) -> bool:
    """Whether the test, or a fixture it uses, takes one of the fixed session token values
    (okta_tokens reached only through okta_auth/okta_session does not count: that renews)."""
    names = getattr(item, "fixturenames", ())
    if "okta_access_token" in names or "okta_id_token" in names:
        return True
    if "okta_tokens" not in names:
        return False
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # pytest's internals moved: assume the value is used
        return True
    if "okta_tokens" in info.argnames:
        return True
    for name, defs in info.name2fixturedefs.items():
        if name not in _RENEWING_OR_TIMELESS and defs and "okta_tokens" in defs[-1].argnames:
            return True
    return False


# ---- reporting ----------------------------------------------------------------------------------


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """Explain a failed comparison involving a token by fingerprints.

    pytest's own explanation of two strings is a diff of their text, which would print the token.
    """
    # Not imported for this: without a token handed out, no TokenSet can be compared.
    tokens = sys.modules.get("pytest_okta_user.tokens")
    if (
        tokens is not None
        and isinstance(left, tokens.TokenSet)
        and isinstance(right, tokens.TokenSet)
    ):
        return _explain_token_sets(op, left, right)
    if not isinstance(left, RedactedStr) and not isinstance(right, RedactedStr):
        return None

    def shown(value: object) -> str:
        if isinstance(value, str):
            return f"<redacted {fingerprint(value)}>"
        return type(value).__name__

    return [f"{shown(left)} {op} {shown(right)}", _FINGERPRINT_NOTE]


_FINGERPRINT_NOTE = (
    "(pytest-okta-user shows tokens by fingerprint: 8 hex digits of an HMAC keyed per run)"
)

#: TokenSet fields shown by fingerprint only.
_TOKEN_FIELDS = ("access_token", "id_token", "refresh_token")


def _explain_token_sets(op: str, left: Any, right: Any) -> list[str]:
    """Two token sets: their reprs (fingerprints) and the fields that differ, tokens by
    fingerprint (pytest's own dataclass explanation would print the fields' values)."""
    import dataclasses

    lines = [f"{left!r} {op} {right!r}"]
    differ = [
        f.name for f in dataclasses.fields(left) if getattr(left, f.name) != getattr(right, f.name)
    ]
    if not differ:
        lines.append("TokenSet fields are all equal")
        return lines
    lines.append(f"TokenSet fields differ: {', '.join(differ)}")
    for name in differ:
        a, b = getattr(left, name), getattr(right, name)
        if name in _TOKEN_FIELDS:
            shown = f"<{fingerprint(a)}> != <{fingerprint(b)}>"
        elif name in ("access_claims", "id_claims", "user"):
            keys = sorted(set(a) ^ set(b)) or sorted(k for k in a if a.get(k) != b.get(k))
            shown = f"differ in {', '.join(map(str, keys))}"
        else:
            shown = f"{a!r} != {b!r}"
        lines.append(f"  {name}: {shown}")
    lines.append(_FINGERPRINT_NOTE)
    return lines


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings: Settings | None = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return []
    lines = settings.header_lines()
    emulator = config.stash.get(EMULATOR_KEY, None)
    if emulator is not None:
        url = getattr(emulator, "url", "?")
        instance = getattr(emulator, "instance_id", "?")
        lines.insert(
            0,
            f"okta emulator: {url} (instance {instance}), started for this run"
            f" ({settings[options.EMULATOR].source})",
        )
    return lines


def _local_stats(config: pytest.Config) -> dict[str, Any] | None:
    provider = config.stash.get(PROVIDER_KEY, None)
    if provider is None:
        return None
    variants: set[str] = config.stash.get(VARIANTS_KEY, set())
    return {
        "variants": sorted(variants),
        "exchanges": provider.stats.exchanges,
        "refreshes": provider.stats.refreshes,
        "cache_hits": provider.stats.cache_hits,
        "rejected": provider.stats.rejected,
        "rejected_again": provider.stats.rejected_after_renewal,
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    stats = _local_stats(session.config)
    if workeroutput is not None and stats is not None:
        workeroutput[WORKERINPUT_KEY] = stats


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from_workers: list[dict[str, Any]] = config.stash.get(_WORKER_STATS_KEY, [])
    stats = list(from_workers)
    local = _local_stats(config)
    if local is not None:
        stats.append(local)
    if stats:
        variants = len({key for s in stats for key in s["variants"]})
        terminalreporter.write_line(
            f"okta-user: {_n(variants, 'token variant')} in {_n(len(stats), 'process', 'es')}:"
            f" {_n(sum(s['exchanges'] for s in stats), 'sign-in')},"
            f" {_n(sum(s['refreshes'] for s in stats), 'refresh', 'es')},"
            f" {sum(s['cache_hits'] for s in stats)} read from the token cache"
        )
        _revocation_hint(terminalreporter, stats)
    emulator = config.stash.get(EMULATOR_KEY, None)
    count = getattr(emulator, "count", None)
    if count is not None:
        terminalreporter.write_line(
            f"okta emulator: {_n(count('authn'), 'sign-in')} (authn requests),"
            f" {_n(count('token'), 'token request')}"
        )


def _revocation_hint(terminalreporter: Any, stats: list[dict[str, Any]]) -> None:
    """okta_session renews a token a resource refused (401 invalid_token); the values of
    okta_access_token / okta_tokens, fixed at first use, cannot be: say how to start afresh."""
    rejected = sum(s.get("rejected", 0) for s in stats)
    if not rejected:
        return
    again = sum(s.get("rejected_again", 0) for s in stats)
    terminalreporter.write_line(
        f"okta-user: {_n(rejected, 'request')} refused as invalid_token (revoked?) through"
        " okta_session/okta_auth; renewed and the request sent once more"
        + (f" ({again} refused again, returned as is)" if again else "")
        + ". Tests holding okta_access_token, okta_id_token or okta_tokens keep the value they"
        f" got first: run again with {options.CLEAR_CACHE.flag} to start from a new sign-in."
    )


def _n(count: int, noun: str, plural: str = "s") -> str:
    return f"{count} {noun}{'' if count == 1 else plural}"
