"""Where pytest's output is masked (:func:`masking.mask`): the reports, the terminal, the log file,
the ``--debug`` file, warnings, and the reprs of a keyboard interrupt or an internal error.

Reports are masked where they are made (a test's by the plugin's ``pytest_runtest_makereport``
wrapper, which calls :func:`mask_report`; a collector's by ``pytest_make_collect_report``), so
everything that reads them afterwards gets masked text: the terminal in every ``--tb`` style with
``-l`` locals and assertion explanations, ``-rA`` summaries, captured stdout/stderr/log sections,
JUnit XML, and, under xdist, the copy a worker sends to the controller (a worker masks with the
secrets it handled, before the report is serialised). They are masked again as they are logged,
for reports other plugins make. The terminal's own stream, the log file's and live logging's
formatters and the ``--debug`` writer are wrapped as a last net for text that is no report (a
keyboard interrupt's traceback, an internal error, a header line).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Generator
from typing import Any

import pytest

from . import masking, options
from .settings import Settings

#: Strings inside these are rewritten; anything else in a report (paths as objects, the node id
#: xdist matches reports by) is left alone.
_REPR_MODULES = ("_pytest.", "pytest_timeout", "xdist.")


def _scrub(value: Any, seen: set[int]) -> Any:
    """``value`` with every string in it masked: strings, lists and dicts in place, tuples and
    pytest's repr objects (``ExceptionChainRepr``, ``ReprEntry``, ``ReprLocals``, ...) walked."""
    if isinstance(value, str):
        return masking.mask(value)
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [_scrub(item, seen) for item in value]
        return value
    if isinstance(value, tuple):
        items = tuple(_scrub(item, seen) for item in value)
        if hasattr(value, "_fields"):  # a named tuple
            return type(value)(*items)
        return items
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _scrub(value[key], seen)
        return value
    if type(value).__module__.startswith(_REPR_MODULES) and hasattr(value, "__dict__"):
        for name, item in list(vars(value).items()):
            scrubbed = _scrub(item, seen)
            if scrubbed is not item:
                object.__setattr__(value, name, scrubbed)
    return value


def mask_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Mask a report's failure text and captured sections, in place."""
    if not report.sections and report.longrepr is None:
        return  # a passing test's usual report: nothing to mask (checked first: it runs per report)
    if not masking.enabled():
        return
    seen: set[int] = set()
    if report.longrepr is not None:
        report.longrepr = _scrub(report.longrepr, seen)
    report.sections = [(title, masking.mask(text)) for title, text in report.sections]


class _MaskedFile:
    """A text stream that masks what is written to it (the terminal writer's file)."""

    def __init__(self, file: Any) -> None:
        self._file = file
        # Called after every write (the terminal's progress): the file's own, not through
        # __getattr__ nor a frame of ours.
        self.flush: Callable[[], None] = file.flush

    def write(self, text: str) -> int:
        # The progress dots, a write each per test, are shorter than anything masked.
        self._file.write(masking.mask(text) if len(text) >= masking.MIN_LENGTH else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class _MaskedFormatter(logging.Formatter):
    """Formats with the handler's own formatter, then masks (the record itself is left alone, so
    ``caplog`` still sees what the test logged)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return masking.mask(self.inner.format(record))


def _mask_handler(handler: Any) -> None:
    formatter = getattr(handler, "formatter", None)
    if handler is not None and not isinstance(formatter, _MaskedFormatter):
        handler.setFormatter(_MaskedFormatter(formatter))


def _ci(env: Any) -> bool:
    return str(env.get("CI", "")).strip().lower() not in ("", "0", "false")


class MaskingHooks:
    """Registered by the plugin at configure time (``okta_user.masking``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.notice = ""
        self._streams: dict[str, Any] = {}
        _protect_debug_file(config)

    # -- the switch -----------------------------------------------------------------------------

    def apply(self, settings: Settings) -> None:
        """``--okta-show-secrets``: honoured on a developer's machine, ignored when CI is set (a
        setting carried into a CI job by an ini file or a shared environment must not unmask
        its logs; the run still goes on, with a one-line notice in the header)."""
        client_id, secret = settings[options.CLIENT_ID].value, settings[options.CLIENT_SECRET].value
        if client_id and secret is not None:
            # A process whose tokens all come from the cache builds no Basic header itself, but a
            # test may (or print one): registered from the settings, not only from a sign-in.
            masking.register_basic(client_id, secret.reveal())
        shown = settings[options.SHOW_SECRETS]
        if not shown.value:
            masking.enable()
            return
        if _ci(os.environ):
            masking.enable()
            self.notice = f"okta secrets: masked ({shown.source}: ignored, CI is set)"
            return
        masking.disable()
        self.notice = f"okta secrets: SHOWN, not masked ({shown.source})"

    def pytest_report_header(self) -> list[str]:
        return [self.notice] if self.notice else []

    # -- streams that are no report -------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        file = getattr(writer, "_file", None)
        if file is not None and not isinstance(file, _MaskedFile):
            writer._file = _MaskedFile(file)  # type: ignore[union-attr]
        logs = self.config.pluginmanager.get_plugin("logging-plugin")
        for name in ("log_file_handler", "log_cli_handler"):
            _mask_handler(getattr(logs, name, None))
        if getattr(self.config.option, "capture", None) == "no":
            # -s: what a test prints goes straight to the terminal, past the reports.
            for name in ("stdout", "stderr"):
                stream = getattr(sys, name)
                if not isinstance(stream, _MaskedFile):
                    self._streams[name] = stream
                    setattr(sys, name, _MaskedFile(stream))

    def pytest_unconfigure(self) -> None:
        for name, stream in self._streams.items():
            if isinstance(getattr(sys, name), _MaskedFile):
                setattr(sys, name, stream)
        self._streams.clear()

    # -- reports --------------------------------------------------------------------------------

    # A test's reports are masked by the plugin's own pytest_runtest_makereport wrapper (one
    # wrapper for its two jobs). New-style wrappers (pluggy >= 1.2): the old style's result
    # object and shim cost more.
    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self) -> Generator[None, Any, Any]:
        report = yield
        if report is not None:
            mask_report(report)
        return report

    # And once more as each report is logged, before any other hook reads it: pytest's subtests
    # add a subtest's captured output to its report after makereport made it.
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.sections or report.longrepr is not None:  # as mask_report checks, without a call
            mask_report(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        mask_report(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_warning_recorded(self, warning_message: Any) -> None:
        message = getattr(warning_message, "message", None)
        if isinstance(message, Warning) and masking.enabled():
            text = str(message)
            masked = masking.mask(text)
            if masked != text:
                message.args = (masked,)

    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        memo = getattr(reporter, "_keyboardinterrupt_memo", None)
        if memo is not None and masking.enabled():
            _scrub(memo, set())

    @pytest.hookimpl(tryfirst=True)
    def pytest_internalerror(self, excrepr: Any) -> None:
        if masking.enabled():
            _scrub(excrepr, set())


def _protect_debug_file(config: pytest.Config) -> None:
    """``--debug``: pytest's trace writes every hook's arguments and results (fixture values
    among them) through ``str()`` to a file created with the default mode (0644 under the usual
    umask). The writer is wrapped to mask, and the file made readable by its owner only."""
    root = getattr(config.trace, "root", None)
    writer: Callable[[str], object] | None = getattr(root, "_writer", None)
    if root is None or writer is None or getattr(writer, "okta_masked", False):
        return
    file = getattr(writer, "__self__", None)
    fileno = getattr(file, "fileno", None)
    if fileno is not None:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            os.fchmod(fileno(), 0o600)

    def masked(text: str) -> object:
        return writer(masking.mask(text))

    masked.okta_masked = True  # type: ignore[attr-defined]
    root.setwriter(masked)
