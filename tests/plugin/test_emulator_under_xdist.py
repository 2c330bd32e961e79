"""okta_emulator reads the same under xdist (issue 10, why 8): a worker gets the controller's
emulator's url, instance_id and env(), and what needs the emulator's own process (count(), clock,
org, faults) says so with the fix, instead of an AttributeError."""

from __future__ import annotations

import pytest
from support.inner import RunInner

SUITE = """
import pytest


def test_reads_the_emulator(okta_emulator, okta_access_token):
    assert okta_emulator.url.startswith("http://127.0.0.1:")
    assert okta_emulator.env()["OKTA_DOMAIN"] == okta_emulator.url
    assert okta_emulator.instance_id


def test_counts(okta_emulator, okta_access_token, worker_id):
    if worker_id == "master":
        assert okta_emulator.count("authn") >= 1
        return
    with pytest.raises(RuntimeError) as raised:
        okta_emulator.count("authn")
    with open("count_says.txt", "w") as file:
        file.write(str(raised.value))
    with pytest.raises(RuntimeError, match="clock needs the emulator's own process"):
        okta_emulator.clock
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_okta_emulator_has_one_interface_with_and_without_xdist(
    pytester: pytest.Pytester, run_inner: RunInner, workers: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_emulator=SUITE)

    result = run_inner("--okta-emulator", *workers)

    result.assert_outcomes(passed=2)
    assert "AttributeError" not in result.stdout.str()
    if workers:
        said = (pytester.path / "count_says.txt").read_text()
        assert said.startswith(
            "pytest-okta-user: okta_emulator.count('authn') needs the emulator's own process;"
            " under xdist it runs in the controller"
        )
        assert "\n  fix: run the tests that read or move the emulator's state without -n" in said
