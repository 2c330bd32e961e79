"""Test ids stay put (issue 10, point 3): a single-value okta marker (``flow="code"``, a class's
``scopes="openid email"``) leaves the id as it is; only list values fan out, with readable ids
naming the listed values only. The tests still get the variant their marker asks for."""

from __future__ import annotations

import pytest

from pytest_okta_user.emulator import OktaEmulator

#: pytest >= 8.4 can hide a parameter from the id (pytest.HIDDEN_PARAM); older ones show its label.
HIDES = hasattr(pytest, "HIDDEN_PARAM")

SUITE = """
import pytest

def test_plain(okta_variant):
    assert okta_variant.flow == "pkce"

@pytest.mark.okta(flow="code")
def test_single(okta_variant, okta_access_token):
    assert okta_variant.flow == "code"

@pytest.mark.okta(scopes="openid email")
class TestScopes:
    def test_x(self, okta_variant):
        assert okta_variant.scopes == ("email", "openid")

    @pytest.mark.okta(flow="code")
    def test_closer_marker(self, okta_variant):
        assert (okta_variant.flow, okta_variant.scopes) == ("code", ("email", "openid"))

@pytest.mark.okta(flow="code")
@pytest.mark.parametrize("n", [1, 2])
def test_with_params(okta_variant, n):
    assert okta_variant.flow == "code"

@pytest.mark.okta(flow=["code", "pkce"], scopes="openid email")
def test_fan_out(okta_variant):
    assert okta_variant.scopes == ("email", "openid")

@pytest.mark.okta(scopes=[["openid"], ["openid", "email"]], flow="code")
def test_scope_sets(okta_variant):
    assert okta_variant.flow == "code"

def test_without_okta():
    pass
"""

SINGLE_IDS = [
    "test_ids_suite.py::test_plain",
    "test_ids_suite.py::test_single",
    "test_ids_suite.py::TestScopes::test_x",
    "test_ids_suite.py::TestScopes::test_closer_marker",
    "test_ids_suite.py::test_with_params[1]",
    "test_ids_suite.py::test_with_params[2]",
]
FANNED_IDS = [
    "test_ids_suite.py::test_fan_out[code]",
    "test_ids_suite.py::test_fan_out[pkce]",
    "test_ids_suite.py::test_scope_sets[openid]",
    "test_ids_suite.py::test_scope_sets[openid+email]",
    "test_ids_suite.py::test_without_okta",
]


def _collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith("test_ids_suite.py::")]


@pytest.mark.skipif(not HIDES, reason="pytest < 8.4 cannot hide a parameter from the id")
def test_single_values_keep_the_ids_and_lists_fan_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ids_suite=SUITE)
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert sorted(_collected(result)) == sorted(SINGLE_IDS + FANNED_IDS)
    # The ids a --deselect list names still select the tests.
    result = pytester.runpytest_subprocess(
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--deselect=test_ids_suite.py::test_single",
        "test_ids_suite.py::TestScopes::test_x",
        "test_ids_suite.py::test_single",
    )
    assert _collected(result) == ["test_ids_suite.py::TestScopes::test_x"]


@pytest.mark.skipif(HIDES, reason="the test above covers pytest >= 8.4")
def test_older_pytest_still_fans_out_readably(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ids_suite=SUITE)
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    collected = _collected(result)
    assert all(test in collected for test in FANNED_IDS), collected


def test_each_test_gets_its_markers_variant_under_xdist(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKTA_FLOW", "pkce")
    pytester.makepyfile(test_ids_suite=SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=len(SINGLE_IDS + FANNED_IDS))
