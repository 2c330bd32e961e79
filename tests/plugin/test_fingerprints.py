"""Fingerprints (issue 9, point 2): an HMAC keyed per run, the same in every xdist worker (the
controller hands its key over in the worker payload), never the unsalted SHA-256 that let a guess
be checked offline."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from support.inner import RunInner

SUITE = """
import pytest


@pytest.mark.parametrize("n", range(6))
def test_shows_the_fingerprint(okta_access_token, n, worker_id):
    print("FINGERPRINT", worker_id, repr(okta_access_token))
"""


def test_one_token_has_one_fingerprint_in_every_worker(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makepyfile(test_fp=SUITE)
    cache = pytester.path / "cache"
    result = run_inner("--okta-emulator", "-n", "2", "-rA", f"--okta-cache-dir={cache}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    shown = re.findall(r"FINGERPRINT (gw\d) <redacted ([0-9a-f]{8})>", result.stdout.str())
    assert {worker for worker, _ in shown} == {"gw0", "gw1"}, result.stdout.str()
    assert len({fingerprint for _, fingerprint in shown}) == 1, shown
    tokens = [
        json.loads(path.read_text()).get("tokens", {}).get("access_token")
        for path in cache.rglob("*.json")
    ]
    token = next(t for t in tokens if t)
    assert shown[0][1] != hashlib.sha256(token.encode()).hexdigest()[:8]
