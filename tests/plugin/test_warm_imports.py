"""A warm run imports the HTTP stack only where it makes a request (issue 15): a process served
from the cache, whose issuer's key ids another process of the run fetched, imports no
`requests`. Not timed: what is imported is what costs."""

from __future__ import annotations

import json

import pytest
from support.inner import RunInner

REPORT_REQUESTS = """
import json
import os
import sys


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is not None:
        with open(f"imported-{worker}.json", "w") as file:
            json.dump("requests" in sys.modules, file)
"""

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(8))
def test_token(okta_access_token, n):
    assert okta_access_token
"""


def test_a_worker_served_from_the_cache_imports_no_requests(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    pytester.makeconftest(REPORT_REQUESTS)
    pytester.makepyfile(test_token=TESTS)
    run_inner("-n", "2").assert_outcomes(passed=8)  # the cold run signs in: fills the cache
    for report in pytester.path.glob("imported-*.json"):
        report.unlink()

    run_inner("-n", "2").assert_outcomes(passed=8)

    # Each worker serves the cached token; one of them fetches the issuer's key ids for the run
    # (one JWKS request per issuer per run), the other reads them from the cache folder.
    imported = sorted(json.loads(p.read_text()) for p in pytester.path.glob("imported-*.json"))
    assert imported == [False, True]
