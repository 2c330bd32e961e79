"""A warm run imports no HTTP or JWT library (issue 15): a process served from the cache imports
neither `requests` nor `jwt` nor `cryptography`, whether it fetches the issuer's key ids for the
run itself (with the standard library: ``jwks_fetch``) or reads them from the cache folder. A run
without xdist workers imports no `filelock` either: it reads the entry without its lock, and has no
other process to share the key check with. Not timed: what is imported is what costs."""

from __future__ import annotations

import json

import pytest
from support.inner import RunInner

REPORT_IMPORTS = """
import json
import os
import sys


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"imported-{worker}.json", "w") as file:
        heavy = ("requests", "jwt", "cryptography", "filelock")
        json.dump([m for m in heavy if m in sys.modules], file)
"""

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(8))
def test_token(okta_access_token, n):
    assert okta_access_token
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "-n 2"])
def test_a_warm_run_imports_no_http_or_jwt_library(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    workers: tuple[str, ...],
) -> None:
    pytester.makeconftest(REPORT_IMPORTS)
    pytester.makepyfile(test_token=TESTS)
    run_inner(*workers).assert_outcomes(passed=8)  # the cold run signs in: fills the cache
    cold = _imported(pytester)
    # The process that signed in imported both (what this test looks for can be found).
    assert any("requests" in modules and "jwt" in modules for modules in cold.values()), cold
    assert any("filelock" in modules for modules in cold.values()), cold

    run_inner(*workers).assert_outcomes(passed=8)

    # Each process serves the cached token; one of them fetches the issuer's key ids for the run
    # (one JWKS request per issuer per run), the others read them from the cache folder: the
    # workers share that under the cache's lock (filelock), a lone process needs none.
    warm = _imported(pytester)
    if workers:
        assert warm == {"main": [], "gw0": ["filelock"], "gw1": ["filelock"]}, warm
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
