"""Emulator sign-ins per second against a bare werkzeug app answering the same three requests
(benchmarks/bare_server.py), as ratios of paired, alternating runs (above 1.0: faster than it).

    .venv/bin/python benchmarks/bench_emulator.py [--long] [--threads 4]

One sign-in: POST /api/v1/authn, GET /authorize (sessionToken, prompt=none, PKCE S256), POST
/token, each client thread on its own requests.Session (keep-alive where the server allows it).
Okta's per-user rate limit (4/s) is off (`rate_limits=False`), otherwise it alone would cap the
figure at 4 sign-ins per second. Goal: at or above 1.0x, aiming at 1.2x.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import requests
from _paired import load_average, paired
from _signin import Target, bare_sign_in
from bare_server import BareServer

from pytest_okta_user.emulator import OktaEmulator


def rate(target: Target, sign_ins: int, threads: int) -> float:
    per_thread = max(1, sign_ins // threads)
    sessions = [requests.Session() for _ in range(threads)]
    for http in sessions:
        bare_sign_in(target, http)  # connections open, keys generated: not timed

    def worker(http: requests.Session) -> None:
        for _ in range(per_thread):
            bare_sign_in(target, http)

    workers = [threading.Thread(target=worker, args=(http,)) for http in sessions]
    began = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - began
    for http in sessions:
        http.close()
    return per_thread * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="more pairs, longer runs")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    pairs, sign_ins = (20, 400) if args.long else (8, 160)
    print(f"bench_emulator: Python {sys.version.split()[0]}, {load_average()}")
    with OktaEmulator(rate_limits=False) as okta, BareServer() as bare:
        for threads in (1, args.threads):
            result = paired(
                f"sign-ins/s, {threads} client thread(s)",
                lambda threads=threads: rate(okta, sign_ins, threads),  # type: ignore[misc]
                lambda threads=threads: rate(bare, sign_ins, threads),  # type: ignore[misc]
                pairs,
            )
            print(result.line("/s"))
        assert okta.internal_errors == []
    print(f"  {load_average()}")


if __name__ == "__main__":
    main()
