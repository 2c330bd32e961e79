"""--okta-clear-cache empties the token cache before the run (on the controller only); long-dead
entries are pruned at the end of every run that asked for a token (so that a run without Okta
tests imports no cache code at start-up)."""

from __future__ import annotations

import json
import time

import pytest
from support.inner import RunInner

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import OktaEmulator


def test_clear_cache_makes_the_next_run_sign_in_again(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str], okta: OktaEmulator
) -> None:
    pytester.makepyfile(
        test_one="def test_token(okta_access_token):\n    assert okta_access_token\n"
    )
    run_inner().assert_outcomes(passed=1)
    run_inner().assert_outcomes(passed=1)
    assert okta.count("authn") == 1  # the second run read the cache

    result = run_inner("--okta-clear-cache")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["okta: * token cache cleared at start (--okta-clear-cache) *"])
    assert okta.count("authn") == 2


def test_emulator_runs_leave_no_dead_entries_behind(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    # Each --okta-emulator run has a new instance id, hence new entries; a later run removes the
    # ones whose tokens died more than a day ago (and their lock files), and keeps the rest.
    pytester.makepyfile(
        test_one="def test_token(okta_access_token):\n    assert okta_access_token\n"
    )
    folder = pytester.path / "tokens"
    run_inner("--okta-emulator", "--okta-cache-dir", str(folder)).assert_outcomes(passed=1)
    cache = TokenCache.inside(folder)
    [entry] = sorted(cache.folder.glob("*.json"))
    data = json.loads(entry.read_text())
    data["tokens"]["expires_at"] = time.time() - 2 * 86400
    entry.write_text(json.dumps(data))

    run_inner("--okta-emulator", "--okta-cache-dir", str(folder)).assert_outcomes(passed=1)

    left = sorted(p.name for p in cache.folder.iterdir())
    assert entry.name not in left
    assert entry.with_suffix(".lock").name not in left
    assert len([name for name in left if name.endswith(".json")]) == 1  # this run's
