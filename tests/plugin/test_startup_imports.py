"""Start-up costs only pytest and the plugin's own small modules: no HTTP, JWT, crypto, lock or
emulator library is imported until a test asks for a token (issue 15). Not timed: what is
imported is what costs, and that is what these tests look at."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.inner import RunInner

HEAVY = (
    "jwt",
    "cryptography",
    "filelock",
    "requests",
    "werkzeug",
    # The plugin's own modules that only a sign-in or an emulator needs (their dataclasses are
    # compiled at import).
    "pytest_okta_user.sessions",
    "pytest_okta_user.emulator_info",
)

REPORT_HEAVY = f"""
import json
import sys

HEAVY = {HEAVY!r}


def pytest_sessionfinish(session):
    loaded = sorted(name for name in HEAVY if name in sys.modules)
    with open("imported.json", "w") as file:
        json.dump(loaded, file)
"""


def test_importing_the_plugin_imports_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "import pytest_okta_user.plugin\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(answer.stdout) == []


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_a_plain_suite_with_okta_configured_imports_no_heavy_library(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    monkeypatch: pytest.MonkeyPatch,
    workers: tuple[str, ...],
) -> None:
    # Okta configured (so the settings are resolved and the cache folder is prepared), but no
    # test asks for a token: nothing of the token machinery may be loaded, not even to prune.
    monkeypatch.setenv("OKTA_DOMAIN", "dev-123.okta.com")
    monkeypatch.setenv("OKTA_CLIENT_ID", "0oaplain")
    monkeypatch.setenv("OKTA_USERNAME", "me@example.com")
    pytester.makeconftest(REPORT_HEAVY)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")

    result = run_inner(*workers)

    result.assert_outcomes(passed=1)
    assert json.loads((pytester.path / "imported.json").read_text()) == []


def test_a_token_run_does_load_them(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    # The check above can fail: a run that asks for a token does import the HTTP stack.
    pytester.makeconftest(REPORT_HEAVY)
    pytester.makepyfile(test_token="def test_token(okta_access_token):\n    pass\n")

    result = run_inner()

    result.assert_outcomes(passed=1)
    assert "requests" in json.loads((pytester.path / "imported.json").read_text())
