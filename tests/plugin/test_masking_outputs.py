"""Masking reaches every way pytest reports (issue 9, point 1): each ``--tb`` style with ``-l``,
live logging, the warnings summary, a keyboard interrupt's traceback under ``--full-trace``, an
internal error, and a collection error. The secret here is the password the environment gives
(registered when the settings read it): what the tests print is user code, not the plugin's."""

from __future__ import annotations

import pytest
from support.inner import RunInner

PASSWORD = "Masked-Everywhere-Passw0rd!"

SUITE = """
import logging
import os
import warnings


def test_holds_prints_logs_warns_and_fails():
    password = os.environ["OKTA_PASSWORD"]
    print("printed:", password)
    logging.getLogger("inner").warning("logged: %s", password)
    warnings.warn(f"warned: {password}")
    assert password == f"{password[:4]}-nope"
"""

INTERRUPTED = """
import os


def test_interrupted_holding_the_password():
    password = os.environ["OKTA_PASSWORD"]
    raise KeyboardInterrupt(f"stopped with {password}")
"""

INTERNAL_ERROR = """
import os


def pytest_runtest_logreport(report):
    password = os.environ["OKTA_PASSWORD"]
    raise RuntimeError(f"a broken hook holding {password}")
"""

COLLECT_ERROR = """
import os

raise ImportError("cannot import with " + os.environ["OKTA_PASSWORD"])
"""


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("OKTA_PASSWORD", PASSWORD)


@pytest.mark.parametrize("style", ["long", "short", "native", "line", "auto"])
@pytest.mark.usefixtures("password_env")
def test_each_traceback_style_with_locals_logs_and_warnings(
    pytester: pytest.Pytester, run_inner: RunInner, style: str
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = run_inner("-l", "-rA", f"--tb={style}", "--log-cli-level=WARNING", "-W", "always")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "<masked>" in out
    assert "warned: <masked>" in out  # the warnings summary
    assert "logged: <masked>" in out  # live logging
    assert "Passw0rd" not in out, out


@pytest.mark.usefixtures("password_env")
def test_what_a_test_prints_without_capture(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = run_inner("-s", "-l")
    out = result.stdout.str() + result.stderr.str()
    assert "printed: <masked>" in out
    assert "Passw0rd" not in out, out


@pytest.mark.usefixtures("password_env")
def test_a_keyboard_interrupt_with_full_trace(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makepyfile(test_interrupted=INTERRUPTED)
    result = run_inner("-l", "--full-trace")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "KeyboardInterrupt" in out
    assert "stopped with <masked>" in out
    assert "Passw0rd" not in out, out


@pytest.mark.usefixtures("password_env")
def test_a_collection_error(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile(test_collect=COLLECT_ERROR)
    result = run_inner("-l", "--junitxml=junit.xml", "-o", "junit_logging=all")
    out = result.stdout.str() + result.stderr.str() + (pytester.path / "junit.xml").read_text()
    assert "cannot import with <masked>" in out
    assert "Passw0rd" not in out, out


@pytest.mark.usefixtures("password_env")
def test_an_internal_error(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makeconftest(INTERNAL_ERROR)
    pytester.makepyfile(test_fine="def test_fine():\n    pass\n")
    result = run_inner("-l")
    out = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" in out
    assert "a broken hook holding <masked>" in out
    assert "Passw0rd" not in out, out


REPORT_READER = """
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # What conftests that keep item.rep_call (screenshots on failure, Allure) do: read the
    # report as it is made, before it is logged.
    report = yield
    if report.failed:
        with open("seen-at-makereport.txt", "a") as seen:
            seen.write(report.longreprtext + "\\n")
    return report
"""


@pytest.mark.usefixtures("password_env")
def test_a_conftests_makereport_wrapper_reads_the_report_masked(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    """Reports are masked as they are made, inside a conftest's wrapper (registered after the
    plugin, so around it), not only when they are logged."""
    pytester.makeconftest(REPORT_READER)
    pytester.makepyfile(test_suite=SUITE)
    result = run_inner("-l")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    seen = (pytester.path / "seen-at-makereport.txt").read_text()
    assert "<masked>" in seen
    assert "Passw0rd" not in seen, seen


SUBTESTS = """
import os


def test_with_subtests(subtests):
    password = os.environ["OKTA_PASSWORD"]
    with subtests.test(msg="prints"):
        print("subtest printed:", password)
        assert False
"""

# A reporting plugin of the user's own: it writes each report's captured output to a file.
WRITES_SECTIONS = """
def pytest_runtest_logreport(report):
    with open("sections.txt", "a") as file:
        for _title, text in report.sections:
            file.write(text)
"""


@pytest.mark.skipif(
    int(pytest.__version__.split(".")[0]) < 9, reason="pytest's own subtests came in pytest 9"
)
@pytest.mark.usefixtures("password_env")
def test_what_a_subtest_prints(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    """pytest's subtests add a subtest's captured output to its report after
    pytest_runtest_makereport has made it (the plugin's wrapper masked it by then). The terminal
    is masked as it is written; a hook that reads the report gets it masked from the plugin's
    pytest_runtest_logreport, which runs first."""
    pytester.makeconftest(WRITES_SECTIONS)
    pytester.makepyfile(test_suite=SUBTESTS)
    result = run_inner("-rA")
    out = result.stdout.str() + result.stderr.str()
    written = (pytester.path / "sections.txt").read_text()
    assert "subtest printed: <masked>" in out, out
    assert "subtest printed: <masked>" in written, written
    assert "Passw0rd" not in out + written
