"""A warm run imports no HTTP or JWT library (issue 15): a process served from the cache imports
neither `requests` nor `jwt` nor `cryptography`, whether it fetches the issuer's key ids for the
run itself (with the standard library: ``jwks_fetch``) or reads them from the cache folder. A run
without xdist workers imports no `filelock` either: it reads the entry without its lock, and has no
other process to share the key check with, and none at all checks the keys of an emulator known by
its instance id. Nor does a warm run import the plugin's session code (`sessions`): the Okta
sessions are for sign-ins. Not timed: what is imported is what costs."""

from __future__ import annotations

import json

import pytest
from support.inner import RunInner

from pytest_okta_user.emulator import OktaEmulator

REPORT_IMPORTS = """
import json
import os
import sys


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"imported-{worker}.json", "w") as file:
        heavy = ("requests", "jwt", "cryptography", "filelock", "pytest_okta_user.sessions")
        json.dump([m for m in heavy if m in sys.modules], file)
"""

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(8))
def test_token(okta_access_token, n):
    assert okta_access_token
"""


@pytest.mark.parametrize("instance", [True, False], ids=["instance id", "no instance id"])
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "-n 2"])
def test_a_warm_run_imports_no_http_or_jwt_library(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    okta: OktaEmulator,
    emulator_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    workers: tuple[str, ...],
    instance: bool,
) -> None:
    if not instance:
        # The README's fixed-port recipe: the emulator is known by its URL alone, so a cached
        # token's key is checked against its JWKS (a restarted emulator signs with new keys).
        monkeypatch.delenv("OKTA_EMULATOR_INSTANCE")
    pytester.makeconftest(REPORT_IMPORTS)
    pytester.makepyfile(test_token=TESTS)
    run_inner(*workers).assert_outcomes(passed=8)  # the cold run signs in: fills the cache
    cold = _imported(pytester)
    # The process that signed in imported both (what this test looks for can be found).
    assert any("requests" in modules and "jwt" in modules for modules in cold.values()), cold
    assert any("filelock" in modules for modules in cold.values()), cold
    assert any("pytest_okta_user.sessions" in modules for modules in cold.values()), cold

    key_sets_read = okta.count("keys")
    run_inner(*workers).assert_outcomes(passed=8)

    # Each process serves the cached token. Without an instance id one of them fetches the
    # issuer's key ids for the run (one JWKS request per issuer per run, with the standard
    # library), and xdist's workers share it under the cache's lock (filelock); a lone process
    # needs no lock. An instance id tells the emulator's keys apart already: no request at all.
    warm = _imported(pytester)
    assert okta.count("keys") - key_sets_read == (0 if instance else 1)
    shared = [] if instance else ["filelock"]
    if workers:
        assert warm == {"main": [], "gw0": shared, "gw1": shared}, warm
    else:
        assert warm == {"main": []}, warm


def _imported(pytester: pytest.Pytester) -> dict[str, list[str]]:
    """What each process of the last run had imported at its end, by worker name ("main": the
    run without xdist, or xdist's controller); the reports are removed."""
    found = {}
    for report in pytester.path.glob("imported-*.json"):
        found[report.stem.removeprefix("imported-")] = json.loads(report.read_text())
        report.unlink()
    return found
