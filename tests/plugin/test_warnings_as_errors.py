"""The token cache as users' runs meet it: ``-W error`` / ``filterwarnings = error`` never stop its
repair, and files planted in its folder (a FIFO, a link to /dev/zero, a huge file) neither hang nor
exhaust the start-up."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_okta_user.cache import SUBFOLDER
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.settings import resolve

SUITE = """
def test_token(okta_access_token):
    assert okta_access_token
"""


def entry_path(env: dict[str, str], cache: Path) -> Path:
    """Where the inner run keeps its default variant's entry (the same settings, the same key)."""
    variant = build_variant(resolve({}, env, {}), OktaRequest())
    return cache / SUBFOLDER / f"{variant.key}.json"


@pytest.fixture
def run(pytester: pytest.Pytester, emulator_env: dict[str, str]) -> Callable[..., pytest.RunResult]:
    pytester.makepyfile(test_suite=SUITE)
    cache = pytester.path / "cache"

    def inner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:hypothesispytest", f"--okta-cache-dir={cache}", *args, timeout=120
        )

    return inner


def test_w_error_replaces_a_corrupt_entry_and_the_next_run_is_served_from_it(
    run: Callable[..., pytest.RunResult],
    okta: OktaEmulator,
    pytester: pytest.Pytester,
    emulator_env: dict[str, str],
) -> None:
    entry = entry_path(emulator_env, pytester.path / "cache")
    entry.parent.mkdir(parents=True, mode=0o700)
    # Truncated just after an access token: what a crash or a full disk may leave.
    old_token = "eyJhbGciOiJSUzI1NiJ9.planted-in-the-corrupt-entry.c2lnbmF0dXJl"
    entry.write_text(f'{{"format": 1, "tokens": {{"access_token": "{old_token}", "exp')

    repaired = run("-W", "error", "-l", "--tb=long")

    # The warning is an error, as the filter says; the entry was replaced before it was raised.
    repaired.assert_outcomes(errors=1)
    output = repaired.stdout.str()
    assert "TokenCacheWarning" in output
    assert "not valid JSON" in output
    assert old_token not in output
    assert old_token not in repaired.stderr.str()
    new_token = json.loads(entry.read_text())["tokens"]["access_token"]
    assert new_token != old_token
    assert new_token not in output
    assert okta.count("authn") == 1

    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    served = run()
    served.assert_outcomes(passed=1)
    assert okta.count("authn") == 1  # from the repaired entry, no sign-in
    assert "warning" not in served.stdout.str().lower()
    assert "invalid_token" not in served.stdout.str()  # no refusal seen: no revocation hint


def test_files_planted_in_the_cache_folder_neither_hang_nor_exhaust_the_start_up(
    run: Callable[..., pytest.RunResult],
    okta: OktaEmulator,
    pytester: pytest.Pytester,
    emulator_env: dict[str, str],
) -> None:
    entry = entry_path(emulator_env, pytester.path / "cache")
    folder = entry.parent
    folder.mkdir(parents=True, mode=0o700)
    # The run's own entry is a FIFO: opened for reading, it would wait for a writer for ever.
    os.mkfifo(entry)
    os.mkfifo(entry.with_suffix(".failed"))
    # Pruning reads every entry at start-up, before any lock or timeout.
    (folder / f"{'a' * 32}.json").symlink_to("/dev/zero")
    with (folder / f"{'b' * 32}.json").open("wb") as huge:
        huge.truncate(300 * 1024 * 1024)  # sparse: no disk used
    os.mkfifo(folder / f"{'c' * 32}.json")

    result = run("-W", "always::pytest_okta_user.errors.TokenCacheWarning")

    result.assert_outcomes(passed=1)
    assert "it is a FIFO, not a regular file" in result.stdout.str()
    assert entry.is_file()
    assert json.loads(entry.read_text())["tokens"]["access_token"]
    assert okta.count("authn") == 1
