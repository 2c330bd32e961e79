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
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from . import masking, options
from .errors import MarkerError, OktaUserDeprecationWarning, SettingError
from .fixtures import (  # noqa: F401  (fixtures register by being names in the plugin module)
    _RUNS,
    REQUEST_FIXTURES,
    RunState,
    _okta_run,
    okta_access_token,
    okta_auth,
    okta_browser_session,
    okta_clock,
    okta_emulator,
    okta_id_token,
    okta_provider,
    okta_session,
    okta_settings,
    okta_storage_state,
    okta_token_factory,
    okta_tokens,
    okta_user,
    okta_variant,
    set_up_request,
)
from .marker import OktaRequest, expand_marker, marker_ids
from .masking_hooks import MaskingHooks, mask_report
from .options import OPTIONS
from .redact import Secret
from .reporting import (  # noqa: F401  (a hook: registers by being a name in the plugin module)
    OktaFailed,
    RunStats,
    header_lines,
    pytest_assertrepr_compare,
    write_summary,
)
from .settings import Settings, can_prompt, check_writable_folder, resolve

if TYPE_CHECKING:
    from .emulator import OktaEmulator
    from .emulator_info import EmulatorInfo
    from .tokens import TokenSet

#: The key of the plugin's part of xdist's workerinput (to the workers) and workeroutput (back).
WORKERINPUT_KEY = "okta_user"
_PAYLOAD_KEY = pytest.StashKey["WorkerPayload"]()
_INTERNED_KEY = pytest.StashKey[dict[OktaRequest, OktaRequest]]()
#: What the workers report back (workeroutput), summed up on the controller.
_WORKER_STATS_KEY = pytest.StashKey[list[RunStats]]()
_MASKING_KEY = pytest.StashKey[MaskingHooks]()
_HAND_OVER_KEY = pytest.StashKey["_RequestHandOver"]()
#: This run's Okta state (the object the fixtures sit on, see fixtures.RunState).
RUN_KEY = pytest.StashKey[RunState]()


class WorkerPayload(NamedTuple):
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
        sent = data.get("emulator")
        emulator = None
        if sent is not None:
            from .emulator_info import EmulatorInfo

            emulator = EmulatorInfo(sent["url"], sent["instance_id"], sent["env"])
        return cls(
            password=None if password is None else Secret(password),
            password_hint=data.get("password_hint", ""),
            emulator=emulator,
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
            parser.addini(option.ini, help=option.ini_help(), type=option.ini_type, default=None)
            for alias in option.ini_aliases:
                parser.addini(alias, help=option.alias_help(), type=option.ini_type, default=None)


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
    run = config.stash[RUN_KEY] = RunState()
    config.stash[_HAND_OVER_KEY] = _RequestHandOver(config)
    config.pluginmanager.register(config.stash[_HAND_OVER_KEY], "okta_user.request")
    run.notify = lambda message: _say(config, message)
    _RUNS.append(run)
    config.add_cleanup(lambda: _RUNS.remove(run))
    if config.option.help:
        # --help must work whatever the settings say.
        return
    _configure(config, run)


def _say(config: pytest.Config, message: str) -> None:
    """A line on the terminal now, e.g. a wait for the next TOTP code: the controller's terminal
    reporter, or a worker's stderr, which xdist shows on the controller's terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        reporter.ensure_newline()
        reporter.write_line(message)
    else:
        sys.stderr.write(message + "\n")


def _configure(config: pytest.Config, run: RunState) -> None:
    cli = {o.name: getattr(config.option, f"okta_{o.name}", None) for o in OPTIONS if o.flag}
    ini = _ini_values(config)
    worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
    sent = (
        None
        if worker_input is None
        else WorkerPayload.from_dict(worker_input.get(WORKERINPUT_KEY) or {})
    )
    if sent is not None and sent.fingerprint_key:
        masking.set_run_key(sent.fingerprint_key)
    if sent is not None:
        assert worker_input is not None
        # xdist's own id of the run: the same in every worker (and in pytest_configure_node).
        run.run_id = str(worker_input["testrunuid"])
    else:
        run.run_id = uuid.uuid4().hex
        run.run_shared = False

    started: list[EmulatorInfo] = []

    def start_emulator(engine: str) -> Mapping[str, str]:
        # Called by resolve() only in emulator mode, so the flag is read once, with the rest.
        if sent is not None and sent.emulator is not None:
            run.emulator = sent.emulator  # the controller's, of the same engine
            return sent.emulator.env()
        from .emulator_info import EmulatorInfo

        okta = _start_emulator(config, engine)
        run.emulator = okta
        started.append(EmulatorInfo(okta.url, okta.instance_id, okta.env()))
        return okta.env()

    try:
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
    except SettingError as exc:
        # A settings problem errors the tests that need Okta (each with one short line, the
        # message once in the summary); the others run. An empty secret in a fork's pull request
        # must not stop the whole suite.
        run.error = exc
        masking.enable()
        if sent is None:
            config.stash[_PAYLOAD_KEY] = WorkerPayload(
                emulator=started[0] if started else None, fingerprint_key=masking.run_key()
            )
        return
    if sent is not None:
        payload = sent
    else:
        password, why_not = _prompted_password(config, settings, cli)
        payload = WorkerPayload(
            password, why_not, started[0] if started else None, masking.run_key()
        )
    settings = settings.with_password(payload.password, payload.password_hint)
    config.stash[_MASKING_KEY].apply(settings)
    run.settings = settings
    config.stash[_PAYLOAD_KEY] = payload
    if sent is None:
        # Once per run: the workers read the same ini file.
        for message in settings.deprecations:
            config.issue_config_time_warning(OktaUserDeprecationWarning(message), stacklevel=2)
        _prepare_the_cache(config, settings)


def _ini_values(config: pytest.Config) -> dict[str, object]:
    """Every ini key of the settings table (and its old names), as ``getini`` types it; a value
    ``getini`` refuses (``okta_emulator = maybe``) is handed to ``resolve`` as the error, which
    words it as it words any setting."""
    values: dict[str, object] = {}
    for option in OPTIONS:
        for name in (option.ini, *option.ini_aliases) if option.ini else ():
            try:
                values[name] = config.getini(name)
            except (ValueError, TypeError, pytest.UsageError) as exc:
                values[name] = exc
    # Named users' and apps' keys (okta_admin_username, okta_spa_client_id): declared as the file
    # names them, so that pytest neither warns of unknown keys nor refuses them under
    # --strict-config (it checks after collection).
    # pytest 9 keeps the file's keys in _inicfg (its inicfg property warns); 7.4 and 8 in inicfg.
    read = getattr(config, "_inicfg", None)
    read = config.__dict__.get("inicfg", {}) if read is None else read
    for name in options.named_ini_keys(list(read)):
        if name not in config._parser._inidict:
            config._parser.addini(name, help=f"pytest-okta-user: {name}", default=None)
        values[name] = config.getini(name)
    return values


def _prepare_the_cache(config: pytest.Config, settings: Settings) -> None:
    """Only on the controller: a worker clearing it could remove what another worker just stored.

    Clearing (asked for) happens now; pruning waits for the end of a run that used the cache
    (:func:`_prune_the_cache`), so that a run without Okta tests imports no cache (filelock)."""
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
    if folder is not None and clear_cache:
        from .cache import TokenCache

        TokenCache.inside(folder).clear()


def _prune_the_cache(settings: Settings) -> None:
    """Entries whose tokens died long ago (an emulator's, whose instance id changes every run; a
    user no longer tested) would pile up: no run can use them any more. Done at the end of a run
    that asked for a token, on the controller only."""
    folder = settings[options.CACHE_DIR].value
    if folder is None or settings[options.CLEAR_CACHE].value:
        return
    from .cache import TokenCache

    TokenCache.inside(folder).prune(time.time())


def _start_emulator(config: pytest.Config, engine: str) -> OktaEmulator:
    from .emulator import OktaEmulator

    stack = contextlib.ExitStack()
    config.add_cleanup(stack.close)
    try:
        return stack.enter_context(OktaEmulator(engine=engine))
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
    # The user from any source (command line, environment, ini file); the flow signs users in.
    user, why_not = settings.prompt_user()
    if user is None:
        return None, why_not
    return _ask_password(config, user, settings)


def _ask_password(
    config: pytest.Config, user: object, settings: Settings | None = None
) -> tuple[Secret | None, str]:
    """Ask for the password once, on the controller, in a terminal (CI unset), unless the token
    cache can serve the settings' own variant without a sign-in.

    Returns the password (or None) and, when there was none, why (for the missing-password
    message).
    """
    if user is None:
        return None, f"or pass {options.USER.flag} in a terminal to be asked for it"
    # Capture holds stdin (fd 0 is /dev/null meanwhile): release it first (in_=True), as pytest's
    # own --pdb does; only then can we tell whether stdin is a terminal.
    capman = config.pluginmanager.getplugin("capturemanager")
    # At configure time pytest holds its global capture suspended for stdout/stderr (not stdin):
    # put it back that way, or the header and everything up to the first test is captured.
    was_suspended = _capture_state(capman) == "suspended"
    if capman is not None:
        capman.suspend_global_capture(in_=True)
    try:
        allowed, why_not = can_prompt(sys.stdin.isatty(), os.environ)
        if not allowed:
            return None, why_not
        if settings is not None and _served_from_cache(settings):
            return None, (
                f"not asked: the token cache held a fresh token for {user}; run with"
                f" {options.CLEAR_CACHE.flag} to be asked"
            )
        try:
            answer = Secret(getpass.getpass(f"Okta password for {user}: "))
        except EOFError:
            answer = Secret("")
    finally:
        if capman is not None:
            capman.resume_global_capture()
            if was_suspended:
                capman.suspend_global_capture()
    if not answer.reveal():
        return None, "the prompt got an empty answer"
    return answer, ""


def _capture_state(capman: Any) -> str | None:
    """The state of pytest's global capture ("started", "suspended", ...); None: unknown."""
    state = getattr(getattr(capman, "_global_capturing", None), "_state", None)
    return state if isinstance(state, str) else None


def _served_from_cache(settings: Settings) -> bool:
    # Imported only here, in a terminal with a password to ask for: the cache pulls in filelock.
    from .provider import serves_from_cache

    return serves_from_cache(settings)


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
        run = self.config.stash[RUN_KEY]
        run.run_id = str(node.workerinput["testrunuid"])
        run.run_shared = True

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        stats = getattr(node, "workeroutput", {}).get(WORKERINPUT_KEY)
        if stats:
            self.config.stash.setdefault(_WORKER_STATS_KEY, []).append(RunStats.from_dict(stats))


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
    settings = metafunc.config.stash[RUN_KEY].settings
    if settings is not None and len(requests) == 1:
        # A marker that asks for the settings' own values (flow="pkce" when pkce is the default)
        # is the unmarked request: the same fixture instances, not a rebuilt user fixture.
        requests = [_without_defaults(requests[0], settings)]
    names = [name for name in metafunc.fixturenames if name in REQUEST_FIXTURES]
    if not names or requests == [OktaRequest()]:
        return
    # pytest 7 reuses a session fixture's instance only for the *same* param object: intern them.
    interned = metafunc.config.stash.setdefault(_INTERNED_KEY, {})
    params = [interned.setdefault(r, r) for r in requests]
    # Only list values name the tests; a single value leaves the id as it is (pytest >= 8.4 can
    # hide a parameter; older ones show its label).
    hidden = getattr(pytest, "HIDDEN_PARAM", None)
    ids = marker_ids(merged, params) or [hidden or r.label() for r in params]
    metafunc.config.stash[_HAND_OVER_KEY].marked = True
    # Each of the test's marker-dependent fixtures gets the request as its param (one tuple a
    # request): the fixtures themselves, with no private fixture between them and the test.
    metafunc.parametrize(
        names, [(r,) * len(names) for r in params], indirect=True, ids=ids, scope="session"
    )


class _RequestHandOver:
    """Hands a fixture of ``REQUEST_FIXTURES`` that is about to run (once per marker request) its
    marker request, its param, and the run its clock (``fixtures.set_up_request``).

    pluggy calls ``pytest_fixture_setup`` for every fixture every test sets up (ten calls a test
    in a suite with ten function fixtures), so a run whose tests no marker parametrized
    (``marked``, known once collected: fixtures run after) unregisters it as soon as the clock is
    set. Its fixtures all read the default request from then on."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.marked = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> None:
        # fixturedef: pytest.FixtureDef, public only from pytest 8.1.
        if fixturedef.argname not in REQUEST_FIXTURES:
            return
        set_up_request(request)
        if not self.marked:
            # Safe during the call: pluggy goes on with the implementations after this one.
            self.config.pluginmanager.unregister(self)


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

#: Session fixtures whose value is fixed at first use: no request renews it (okta_auth and
#: okta_session renew before every request; okta_user needs no live token).
_FIXED_VALUES = ("okta_access_token", "okta_id_token", "okta_tokens", "okta_storage_state")


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test at setup whose session token (okta_access_token, okta_id_token, okta_tokens)
    has less than min_ttl left: the value was fixed at first use, and a long run outlived it.

    Runs after the runner's own setup (trylast), so the fixtures hold their values.
    """
    # The innermost run is this item's (fixtures.current_run): read without the stash's calls.
    run = _RUNS[-1] if _RUNS else None
    provider = None if run is None else run.provider
    if run is None or provider is None or provider.now() < run.fixed_until:
        return  # every value handed out is still fresh: the one check most tests get
    # item.funcargs holds every fixture the test uses, its own and its fixtures' (the runner
    # fills in the whole closure); each was given the marker request of its param.
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    callspec = getattr(item, "callspec", None)
    params: dict[str, object] = {} if callspec is None else callspec.params
    stale: dict[str, TokenSet] = {}
    request = OktaRequest()
    for name in _FIXED_VALUES:
        if name not in funcargs:
            continue
        param = params.get(name)
        request = param if isinstance(param, OktaRequest) else OktaRequest()
        tokens = run.fixed.get((name, request))
        if tokens is not None and not provider.fresh(tokens, min_ttl=request.min_ttl):
            stale[name] = tokens
    if not stale:
        return
    ttl = provider.min_ttl if request.min_ttl is None else request.min_ttl
    left = min(tokens.expires_at for tokens in stale.values()) - provider.now()
    pytest.fail(
        f"pytest-okta-user: the token handed out for this run ({', '.join(stale)})"
        f" has {max(left, 0):.0f}s left, less than min_ttl ({ttl:g}s); session fixtures keep"
        " the value they got first.\n  fix: use okta_session or okta_auth (they renew the"
        " token before every request) or okta_token_factory(...) (a fresh one per call), or"
        " lengthen the access token lifetime in the authorization server's access policy rule.",
        pytrace=False,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every test report as it is made: a test that needs a failed variant gets the one short
    line (a string, which ``-ra`` shows as is, without pytest's ``Failed:``), counted for the
    summary; then the report is masked (``masking_hooks.mask_report``), so whatever reads it
    afterwards (an xdist worker sending it among them) gets masked text.

    Both in one wrapper: a wrapper costs each of a test's three reports more than either job."""
    report = yield
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, OktaFailed):
        failure = excinfo.value.failure
        failure.tests += 1
        report.longrepr = failure.short_line()
    if report.sections or report.longrepr is not None:  # as mask_report checks, without a call
        mask_report(report)
    return report


# ---- reporting ----------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return []
    return header_lines(run.settings, run.error, run.emulator, verbose=config.option.verbose > 0)


def _local_stats(run: RunState) -> RunStats | None:
    provider = run.provider
    if provider is None and not run.failures:
        return None
    stats = RunStats(variants=sorted(run.variants), failures=list(run.failures.values()))
    if provider is not None:
        stats.exchanges = provider.stats.exchanges
        if provider.sessions is not None:
            stats.session_reuses = provider.sessions.sessions_reused
            stats.browser_sign_ins = provider.sessions.browser_sign_ins
        stats.refreshes = provider.stats.refreshes
        stats.cache_hits = provider.stats.cache_hits
        stats.rejected = provider.stats.rejected
        stats.rejected_again = provider.stats.rejected_after_renewal
    return stats


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    stats = _local_stats(run)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        if stats is not None:
            workeroutput[WORKERINPUT_KEY] = stats.to_dict()
        return
    used_the_cache = run.provider is not None or any(s.variants for s in _from_workers(config))
    if run.settings is not None and used_the_cache:
        _prune_the_cache(run.settings)


def _from_workers(config: pytest.Config) -> list[RunStats]:
    if _WORKER_STATS_KEY not in config.stash:
        return []
    from_workers: list[RunStats] = config.stash[_WORKER_STATS_KEY]
    return from_workers.copy()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    stats = _from_workers(config)
    local = _local_stats(run)
    if local is not None:
        stats.append(local)
    counts = None
    count = getattr(run.emulator, "count", None)
    if count is not None:
        from .emulator_info import EmulatorInfo

        if not isinstance(run.emulator, EmulatorInfo):  # a worker's: the controller counts
            counts = (count("authn"), count("token"))
    write_summary(terminalreporter, stats, counts)
