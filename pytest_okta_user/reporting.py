"""What the plugin prints: the report header, each Okta failure once, the closing line, and
failed comparisons of tokens (by fingerprint).

A test that needs a failed variant (a refused sign-in, a missing or malformed setting) errors with
one short line: the cause, and where its full explanation is. The full message with its fix is
printed once, in a terminal summary section of the plugin's own, whatever the number of tests or
xdist workers that met it: workers hand their failures to the controller through ``workeroutput``
(:class:`RunStats`), and the controller merges them (:func:`merged`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import options
from .errors import ConfigurationError, MissingSettingsError, OktaUserError
from .redact import RedactedStr, fingerprint
from .settings import FROM_EMULATOR, Settings

#: The plugin's summary sections: settings problems, and every other failure to get a token.
SETTINGS_SECTION = "okta-user: settings"
SIGN_IN_SECTION = "okta-user: sign-in refused"


class OktaFailed(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """Fails (errors, at setup) a test that needs Okta; its report shows :attr:`short` only
    (``plugin.pytest_runtest_makereport``), the full message being in the summary section."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.short_line(), pytrace=False)
        self.failure = failure


@dataclass
class Failure:
    """One Okta failure of the run, with the tests it failed (merged across processes)."""

    section: str
    headline: str
    """The cause, on one line: what the short line and ``-ra`` show."""
    message: str
    """The full message with its fix, printed once in the summary."""
    subject: str
    """What failed: a variant's description, or "every Okta test" for a setting; several
    (one a line) when variants failed with the same message."""
    tests: int = 0

    @property
    def key(self) -> str:
        text = "\n".join((self.section, self.message))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def short_line(self) -> str:
        # The cause first: pytest's -ra line keeps the start of it on a narrow terminal.
        return f"{self.headline} [pytest-okta-user: the fix is under '{self.section}' below]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "headline": self.headline,
            "message": self.message,
            "subject": self.subject,
            "tests": self.tests,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Failure:
        return cls(
            str(data["section"]),
            str(data["headline"]),
            str(data["message"]),
            str(data["subject"]),
            int(data.get("tests", 0)),
        )


def failure_of(error: OktaUserError, subject: str) -> Failure:
    """``error`` as the run's record: its section, its one-line cause, its full text."""
    section = SETTINGS_SECTION if isinstance(error, ConfigurationError) else SIGN_IN_SECTION
    return Failure(section, headline(error), str(error), subject)


def headline(error: OktaUserError) -> str:
    """The error's cause on one line (its first line; the settings a variant misses by label)."""
    first = error.what.splitlines()[0].rstrip().rstrip(":") if error.what else type(error).__name__
    if isinstance(error, MissingSettingsError):
        labels = ", ".join(options.by_name(name).label for name in error.missing)
        return f"{first}: {labels}"
    return first


def merged(failures: Iterable[Failure]) -> list[Failure]:
    """The same failure met by several processes, once, with its tests added up; in order met."""
    seen: dict[str, Failure] = {}
    for failure in failures:
        known = seen.get(failure.key)
        if known is None:
            seen[failure.key] = Failure(**failure.to_dict())
            continue
        known.tests += failure.tests
        for subject in failure.subject.splitlines():
            if subject not in known.subject.splitlines():
                known.subject += "\n" + subject
    return list(seen.values())


# ---- comparisons of tokens --------------------------------------------------------------------


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


# ---- the header ---------------------------------------------------------------------------------


def header_lines(
    settings: Settings | None,
    error: OktaUserError | None,
    emulator: object | None,
    *,
    verbose: bool,
) -> list[str]:
    """One line by default (what the Okta tests get, and where it was read); with ``-v`` every
    setting and its source; nothing when no Okta setting is present."""
    if error is not None:
        return [f"okta: {headline(error)}; the Okta tests will error (see '{SETTINGS_SECTION}')"]
    if settings is None or not configured(settings):
        return []
    url = None if emulator is None else str(getattr(emulator, "url", "?"))
    if verbose:
        emulated = []
        if emulator is not None:
            instance = getattr(emulator, "instance_id", "?")
            engine = settings[options.EMULATOR_ENGINE]
            sources = settings[options.EMULATOR].source
            if engine.source != "default":
                sources += f", {engine.source}"
            emulated.append(
                f"okta emulator: {url} ({_ENGINES[engine.value]} org, instance {instance}),"
                f" started for this run ({sources})"
            )
        return emulated + settings.header_lines() + _auto_header(settings)
    return [_one_line(settings, url)]


_ENGINES = {"classic": "Classic", "oie": "Identity Engine"}


def _auto_header(settings: Settings) -> list[str]:
    """With ``flow=auto``: the path an earlier run found working for this issuer and client (the
    token cache remembers it), which this run tries first."""
    if settings[options.FLOW].value != "auto":
        return []
    order = "classic (pkce or code), interaction_code, direct"
    folder = settings[options.CACHE_DIR].value
    issuer, client_id = settings.issuer, settings[options.CLIENT_ID].value
    remembered = None
    if folder is not None and not settings[options.NO_CACHE].value and issuer and client_id:
        from .cache import TokenCache

        remembered = TokenCache.inside(folder).load_auto_choice(issuer, client_id)
    if remembered:
        return [
            f"okta: flow auto: {remembered} worked for client {client_id} in an earlier run"
            f" (remembered in the token cache), tried first; then {order}"
        ]
    return [f"okta: flow auto: tries {order}, and keeps the first that gives tokens"]


def configured(settings: Settings) -> bool:
    """Whether any Okta setting was given (on the command line, in the environment or the ini
    file, by the emulator): a suite that does not use Okta gets no header line."""
    return any(_given(value.source) for value in settings.values.values())


def _given(source: str) -> bool:
    return source.startswith("from ")


def _one_line(settings: Settings, emulator_url: str | None) -> str:
    flow = settings[options.FLOW].value
    user = settings[options.USER].value
    who = f" for {user}" if user and options.FLOW_TABLE[flow].signs_in_user else ""
    issuer = settings.issuer or "no issuer set"
    if settings[options.NO_CACHE].value or settings[options.CACHE_DIR].value is None:
        cache = "no token cache"
    elif settings[options.CLEAR_CACHE].value:
        cache = f"token cache cleared at start ({options.CLEAR_CACHE.flag})"
    else:
        cache = "token cache on"
    where = _sources(settings)
    place = issuer
    if emulator_url:
        engine = settings[options.EMULATOR_ENGINE].value
        kind = "" if engine == "classic" else f"{_ENGINES[engine]}, "
        place = f"the emulator at {emulator_url} ({kind}started for this run)"
    return f"okta: {flow} flow{who} at {place}, {cache} ({where}; -v shows each setting)"


def _sources(settings: Settings) -> str:
    """Where the given settings came from, each place once, in precedence order."""
    kinds: list[str] = []
    for value in settings.values.values():
        source = value.source
        if source == FROM_EMULATOR:
            kind = "the emulator"
        elif source.startswith("from command line"):
            kind = "command line"
        elif source.startswith("from env"):
            kind = "environment"
        elif source.startswith("from ini"):
            kind = source.split(" in ", 1)[1] if " in " in source else "ini file"
        elif source == "from the prompt":
            kind = "prompt"
        else:
            continue
        if kind not in kinds:
            kinds.append(kind)
    order = ["the emulator", "command line", "environment", "prompt"]
    kinds.sort(key=lambda k: order.index(k) if k in order else len(order))
    return "from " + ", ".join(kinds)


# ---- the summary --------------------------------------------------------------------------------


@dataclass
class RunStats:
    """What one process did (its provider's counters), as sent by xdist workers."""

    variants: list[str] = field(default_factory=list)
    exchanges: int = 0
    session_reuses: int = 0
    """Exchanges that a user's Okta session answered, without a sign-in."""
    browser_sign_ins: int = 0
    """Sign-ins made for a browser session alone (``okta_browser_session``)."""
    refreshes: int = 0
    cache_hits: int = 0
    rejected: int = 0
    rejected_again: int = 0
    failures: list[Failure] = field(default_factory=list)
    auto_picks: list[str] = field(default_factory=lambda: _auto_picks_here())
    """What ``flow=auto`` picked in this process and why (``oie.auto_picks``), one line each."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "auto_picks": self.auto_picks,
            "variants": self.variants,
            "exchanges": self.exchanges,
            "session_reuses": self.session_reuses,
            "browser_sign_ins": self.browser_sign_ins,
            "refreshes": self.refreshes,
            "cache_hits": self.cache_hits,
            "rejected": self.rejected,
            "rejected_again": self.rejected_again,
            "failures": [f.to_dict() for f in self.failures],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunStats:
        return cls(
            variants=list(data.get("variants", [])),
            exchanges=int(data.get("exchanges", 0)),
            session_reuses=int(data.get("session_reuses", 0)),
            browser_sign_ins=int(data.get("browser_sign_ins", 0)),
            refreshes=int(data.get("refreshes", 0)),
            cache_hits=int(data.get("cache_hits", 0)),
            rejected=int(data.get("rejected", 0)),
            rejected_again=int(data.get("rejected_again", 0)),
            failures=[Failure.from_dict(f) for f in data.get("failures", [])],
            auto_picks=[str(line) for line in data.get("auto_picks", [])],
        )


def _auto_picks_here() -> list[str]:
    """This process's ``flow=auto`` picks; none when no auto sign-in ran (oie never imported,
    so a run without it imports nothing more)."""
    oie = sys.modules.get("pytest_okta_user.oie")
    return list(oie.auto_picks()) if oie is not None else []


def write_summary(
    terminalreporter: Any, stats: list[RunStats], emulator_counts: tuple[int, int] | None
) -> None:
    failures = merged(f for s in stats for f in s.failures if f.tests)
    for section in (SETTINGS_SECTION, SIGN_IN_SECTION):
        mine = [f for f in failures if f.section == section]
        if not mine:
            continue
        terminalreporter.write_sep("=", section)
        for failure in mine:
            *others, last = failure.subject.splitlines()
            for subject in others:
                terminalreporter.write_line(f"{subject},")
            terminalreporter.write_line(f"{last} ({_n(failure.tests, 'test')}):")
            for line in failure.message.splitlines():
                terminalreporter.write_line(f"  {line}")
    used = [s for s in stats if s.variants or s.exchanges or s.cache_hits or s.browser_sign_ins]
    refused = sum(len(f.subject.splitlines()) for f in failures if f.section == SIGN_IN_SECTION)
    if used:
        variants = len({key for s in used for key in s.variants})
        reused = sum(s.session_reuses for s in used)
        terminalreporter.write_line(
            f"okta-user: {_n(variants, 'token variant')} in {_n(len(used), 'process', 'es')}:"
            f" {_n(sum(s.exchanges + s.browser_sign_ins for s in used) - reused, 'sign-in')}"
            + (f" ({refused} refused, explained above)" if refused else "")
            + (f", {reused} from Okta sessions" if reused else "")
            + f", {_n(sum(s.refreshes for s in used), 'refresh', 'es')},"
            f" {sum(s.cache_hits for s in used)} read from the token cache"
        )
        _revocation_hint(terminalreporter, used)
    for line in dict.fromkeys(line for s in stats for line in s.auto_picks):
        terminalreporter.write_line(line)
    if emulator_counts is not None:
        authn, token = emulator_counts
        terminalreporter.write_line(
            f"okta emulator: {_n(authn, 'sign-in')} (authn requests), {_n(token, 'token request')}"
        )


def _revocation_hint(terminalreporter: Any, stats: list[RunStats]) -> None:
    """okta_session renews a token a resource refused (401 invalid_token); the values of
    okta_access_token / okta_tokens, fixed at first use, cannot be: say how to start afresh."""
    rejected = sum(s.rejected for s in stats)
    if not rejected:
        return
    again = sum(s.rejected_again for s in stats)
    terminalreporter.write_line(
        f"okta-user: {_n(rejected, 'request')} refused as invalid_token (revoked?) through"
        " okta_session/okta_auth; renewed and the request sent once more"
        + (f" ({again} refused again, returned as is)" if again else "")
        + ". Tests holding okta_access_token, okta_id_token or okta_tokens keep the value they"
        f" got first: run again with {options.CLEAR_CACHE.flag} to start from a new sign-in."
    )


def _n(count: int, noun: str, plural: str = "s") -> str:
    return f"{count} {noun}{'' if count == 1 else plural}"
