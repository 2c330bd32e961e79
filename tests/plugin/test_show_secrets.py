"""--okta-show-secrets: masking off on a developer's machine, ignored (with a one-line notice)
when CI is set; and what a test prints is masked by default (issue 9, point 1)."""

from __future__ import annotations

import pytest
from support.inner import RunInner

PASSWORD = "Shown-Or-Not-Passw0rd!"

PRINTS = """
import os


def test_prints_the_password():
    print("the password:", os.environ["OKTA_PASSWORD"])
    assert False
"""


@pytest.mark.parametrize(
    ("env", "args", "shown", "notice"),
    [
        ({}, (), False, None),
        ({"OKTA_SHOW_SECRETS": "1"}, (), True, "okta secrets: SHOWN, not masked (from env"),
        ({}, ("--okta-show-secrets",), True, "okta secrets: SHOWN, not masked"),
        (
            {"CI": "true"},
            ("--okta-show-secrets",),
            False,
            "okta secrets: masked (from command line --okta-show-secrets: ignored, CI is set)",
        ),
    ],
)
def test_show_secrets_is_honoured_only_outside_ci(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: tuple[str, ...],
    shown: bool,
    notice: str | None,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("OKTA_PASSWORD", PASSWORD)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_prints=PRINTS)
    result = run_inner("-rA", *args)
    out = result.stdout.str()
    assert "the password:" in out
    assert (PASSWORD in out) is shown
    if not shown:
        assert "the password: <masked>" in out
    if notice is None:
        assert "okta secrets:" not in out
    else:
        assert notice in out
