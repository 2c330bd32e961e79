"""``--okta-user`` without OKTA_PASSWORD in a terminal: asked once, on the controller, and the xdist
workers sign in with it without it passing through their argv or environment."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
import warnings
from pathlib import Path

import pytest

from pytest_okta_user.emulator import DEMO, OktaEmulator

INNER_TEST = f"""
import os

def test_signed_in_on_each_worker(okta_access_token, okta_user):
    assert okta_user.login == "{DEMO.user_login}"
    assert "OKTA_PASSWORD" not in os.environ
    assert "{DEMO.user_password}" not in os.environ.values()
    with open("/proc/self/cmdline", "rb") as cmdline:
        assert b"{DEMO.user_password}" not in cmdline.read()
"""


def run_in_terminal(
    argv: list[str], cwd: Path, answer: bytes, prompt: bytes, limit: float = 120.0
) -> tuple[int, bytes]:
    """Run ``argv`` on a new pseudo-terminal, type ``answer`` at ``prompt``; (exit code, output).

    ``limit`` only guards against a hang (the run takes a few seconds).
    """
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads (the emulator's); the child
        # only execs.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        os.execv(argv[0], argv)
    output = b""
    answered = False
    deadline = time.monotonic() + limit
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"no end after {limit}s; output so far:\n{output.decode()}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and prompt in output:
                os.write(fd, answer + b"\n")
                answered = True
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty and /proc: Linux")
def test_the_password_is_asked_once_and_reaches_the_workers(
    pytester: pytest.Pytester,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OKTA_PASSWORD")
    monkeypatch.delenv("OKTA_USERNAME")
    pytester.makepyfile(test_prompted=INNER_TEST)
    argv = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", "-n", "2"]
    # --dist each: the test runs on both workers; --okta-no-cache: each signs in on its own.
    argv += ["--dist", "each", "--okta-no-cache", "--okta-user", DEMO.user_login]
    argv += ["-v"]  # the header's full table

    code, output = run_in_terminal(
        argv, pytester.path, DEMO.user_password.encode(), b"Okta password for"
    )

    text = output.decode(errors="replace")
    assert code == 0, text
    assert text.count(f"Okta password for {DEMO.user_login}: ") == 1
    assert "password set (from the prompt)" in text
    assert "2 passed" in text
    assert DEMO.user_password not in text
    assert okta.count("authn") == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty: Linux")
@pytest.mark.parametrize(
    "args",
    [
        ["--collect-only"],
        ["--markers"],
        ["--fixtures"],
        ["--fixtures-per-test"],
        ["--okta-flow", "client_credentials"],
    ],
    ids=lambda args: args[-1],
)
def test_no_prompt_where_no_password_is_needed(
    pytester: pytest.Pytester,
    emulator_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    monkeypatch.delenv("OKTA_PASSWORD")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    argv = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", *args]
    argv += ["--okta-user", DEMO.user_login]

    code, output = run_in_terminal(argv, pytester.path, b"answered", b"Okta password for")

    text = output.decode(errors="replace")
    assert "Okta password for" not in text
    assert code == 0, text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty: Linux")
def test_a_user_from_the_ini_file_is_asked_for_and_a_warm_cache_asks_nothing(
    pytester: pytest.Pytester,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 10, point 2: the user from any source (here the ini file, as the README's setup has
    # it), and no prompt while the cache holds a fresh token for it.
    monkeypatch.delenv("OKTA_PASSWORD")
    monkeypatch.delenv("OKTA_USERNAME")
    pytester.makefile(".ini", pytest=f"[pytest]\nokta_username = {DEMO.user_login}\n")
    pytester.makepyfile(test_token="def test_token(okta_access_token):\n    pass\n")
    argv = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest"]
    argv += ["--okta-cache-dir", str(pytester.path / "tokens")]

    code, output = run_in_terminal(
        argv, pytester.path, DEMO.user_password.encode(), b"Okta password for"
    )
    text = output.decode(errors="replace")
    assert code == 0, text
    assert text.count(f"Okta password for {DEMO.user_login}: ") == 1

    code, output = run_in_terminal(argv, pytester.path, b"not asked", b"Okta password for")
    text = output.decode(errors="replace")
    assert code == 0, text
    assert "Okta password for" not in text
    assert okta.count("authn") == 1

    # No token cached for the run's own variant (other scopes), but the user's Okta session,
    # stored by the first run, answers its /authorize: no password asked, no sign-in.
    monkeypatch.setenv("OKTA_SCOPES", "openid email")
    code, output = run_in_terminal(argv, pytester.path, b"not asked", b"Okta password for")
    text = output.decode(errors="replace")
    assert code == 0, text
    assert "Okta password for" not in text
    assert okta.count("authn") == 1
    assert okta.count("authorize") == 2
