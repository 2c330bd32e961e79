"""One sign-in per user: a 12-variant suite, cold and warm, with and without the Okta session's
reuse.

    .venv/bin/python benchmarks/bench_sessions.py [--workers N]

The suite: two users (the demo user, and `admin`, who answers a TOTP step) x three flows (code,
pkce, implicit) x two scope sets, under `pytest -n N` (default 4) against a fresh embedded
emulator. "before" switches the reuse off (each variant signs its user in, as before issue 11);
"after" is the plugin as shipped. Printed per configuration: the authn and TOTP requests the
emulator answered, and the wall time of the cold run (empty token cache) and of the warm run
(the same cache again). Before, every admin variant needs a TOTP code of its own: they wait for
30-second steps one after another.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_okta_user.emulator import OktaEmulator

SUITE = """
import pytest

FLOWS = ["code", "pkce", "implicit"]
SCOPES = [["openid", "profile", "email"], ["openid", "email"]]

@pytest.mark.okta(flow=FLOWS, scopes=SCOPES)
def test_default_user(okta_access_token):
    assert okta_access_token

@pytest.mark.okta(user="admin", flow=FLOWS, scopes=SCOPES)
def test_admin(okta_access_token):
    assert okta_access_token
"""

#: "before": every variant signs its user in on its own.
CONFTEST = """
import functools
import os

import pytest_okta_user.provider as provider

if os.environ.get("BENCH_SESSION_REUSE") == "off":
    provider.build_provider = functools.partial(provider.build_provider, share_sessions=False)
"""


def run_suite(folder: Path, env: dict[str, str], workers: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the suite failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return elapsed


def measure(reuse: str, workers: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, OktaEmulator() as okta:
        folder = Path(tmp)
        (folder / "test_suite.py").write_text(SUITE)
        (folder / "conftest.py").write_text(CONFTEST)
        env = {
            **os.environ,
            **okta.env(),
            "OKTA_TOKEN_CACHE_DIR": str(folder / "cache"),
            "BENCH_SESSION_REUSE": reuse,
        }
        cold = run_suite(folder, env, workers)
        cold_authn, cold_totp = okta.count("authn"), okta.count("factor_verify")
        warm = run_suite(folder, env, workers)
        return {
            "cold_s": cold,
            "cold_authn": cold_authn,
            "cold_totp": cold_totp,
            "warm_s": warm,
            "warm_authn": okta.count("authn") - cold_authn,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="4")
    args = parser.parse_args()
    print(f"12 variants (2 users x 3 flows x 2 scope sets), pytest -n {args.workers}")
    print(f"{'':8} {'cold':>8} {'authn':>6} {'TOTP':>5} {'warm':>8} {'authn':>6}")
    for label, reuse in (("before", "off"), ("after", "on")):
        m = measure(reuse, args.workers)
        print(
            f"{label:8} {m['cold_s']:7.1f}s {m['cold_authn']:6.0f} {m['cold_totp']:5.0f}"
            f" {m['warm_s']:7.1f}s {m['warm_authn']:6.0f}"
        )


if __name__ == "__main__":
    main()
