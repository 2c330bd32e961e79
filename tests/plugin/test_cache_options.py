"""--okta-clear-cache empties the token cache before the run (on the controller only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_okta_user.emulator import OktaEmulator

RunInner = Callable[..., pytest.RunResult]


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
    result.stdout.fnmatch_lines(["okta token cache: * cleared at start (--okta-clear-cache)"])
    assert okta.count("authn") == 2
