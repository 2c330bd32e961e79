"""Fixtures for the plugin's tests: inner pytest runs in subprocesses, as users run the plugin
(their helpers: ``support/inner.py``)."""

from __future__ import annotations

import pytest
from support.inner import FAST, RunInner

from pytest_okta_user.emulator import OktaEmulator


@pytest.fixture
def run_inner(pytester: pytest.Pytester) -> RunInner:
    """``run_inner(*args)``: pytest in a subprocess in the pytester folder (entry points load)."""

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*FAST, *args)

    return run


@pytest.fixture
def emulator_env(okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The outer emulator's demo settings, in the environment the inner runs inherit."""
    env = okta.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # An inner run in CI must still be allowed its prompt where a test asks for one.
    monkeypatch.delenv("CI", raising=False)
    return env
