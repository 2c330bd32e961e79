"""Emulator sign-ins per second against a bare werkzeug app answering the same three requests
(benchmarks/bare_server.py), as ratios of paired, alternating runs (above 1.0: faster than it).

    .venv/bin/python benchmarks/bench_emulator.py [--long] [--threads 4]

One sign-in: POST /api/v1/authn, GET /authorize (sessionToken, prompt=none, PKCE S256), POST
/token, each client thread on its own requests.Session (keep-alive where the server allows it).
Okta's per-user rate limit (4/s) is off (`rate_limits=False`), otherwise it alone would cap the
figure at 4 sign-ins per second. Goal: at or above 1.0x, aiming at 1.2x.

`--unsigned` adds a diagnostic row: the emulator with its two signatures replaced by a constant
string (tokens that verify nowhere), against the bare floor: what is left once the RSA work is
taken away, so what the signatures themselves cost.

`--switch-interval S` adds two more, 1 client thread: the emulator's sign-ins per second with
`sys.setswitchinterval(S)` against the same at the interpreter's default (0.005 s), then the bare
floor's the same way, as a control. The emulator signs a code's tokens ahead on another thread,
which needs the GIL for a moment between its two signatures; with client and server in one
process it waits for the client's thread to let go of it. A short interval shows what that wait
costs. The emulator itself never changes the interval: it runs inside the user's test process.

A second floor, `BareServer(signing=True)`, also signs the access and ID tokens (RS256, RSA-2048,
as Okta does): the two signatures every emulator sign-in needs (each token is new, so none can be
cached) cost about as much CPU as a bare sign-in's three answers, and this row shows the
emulator's overhead once both sides pay them.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from _paired import CpuTally, load_average, paired
from _signin import Target, bare_sign_in
from bare_server import BareServer

from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.emulator.keys import SigningKey


def rate(
    target: Target, sign_ins: int, threads: int, cpu: tuple[CpuTally, str] | None = None
) -> float:
    """Sign-ins per second; with `cpu`, this process's CPU seconds per sign-in recorded too
    (client and server both run here: the client's share is the same on both sides)."""
    per_thread = max(1, sign_ins // threads)
    sessions = [requests.Session() for _ in range(threads)]
    for http in sessions:
        bare_sign_in(target, http)  # connections open, keys generated: not timed

    def worker(http: requests.Session) -> None:
        for _ in range(per_thread):
            bare_sign_in(target, http)

    workers = [threading.Thread(target=worker, args=(http,)) for http in sessions]
    began, cpu_began = time.perf_counter(), time.process_time()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - began
    if cpu is not None:
        tally, side = cpu
        tally.record(side, (time.process_time() - cpu_began) / (per_thread * threads))
    for http in sessions:
        http.close()
    return per_thread * threads / elapsed


@contextlib.contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """The interpreter's GIL switch interval set to `seconds` (restored after)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def at_interval(seconds: float, target: Target, sign_ins: int) -> float:
    """`rate` with 1 client thread, the GIL switch interval set to `seconds` meanwhile."""
    with switch_interval(seconds):
        return rate(target, sign_ins, 1)


@contextlib.contextmanager
def unsigned() -> Iterator[None]:
    """The emulator's tokens left unsigned: a constant where the RS256 JWS would be."""
    sign_jwt = SigningKey.sign_jwt

    def constant(self: SigningKey, claims: dict[str, Any]) -> str:
        return "eyJhbGciOiJSUzI1NiJ9.e30.dW5zaWduZWQ"

    SigningKey.sign_jwt = constant  # type: ignore[method-assign]
    try:
        yield
    finally:
        SigningKey.sign_jwt = sign_jwt  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="more pairs, longer runs")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pairs", type=int, help="pairs per row (default 8, --long 20)")
    parser.add_argument(
        "--unsigned", action="store_true", help="also the emulator without its two signatures"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        metavar="S",
        help="also both sides with sys.setswitchinterval(S), e.g. 0.0002",
    )
    args = parser.parse_args()
    pairs, sign_ins = (20, 400) if args.long else (8, 160)
    pairs = args.pairs or pairs
    print(f"bench_emulator: Python {sys.version.split()[0]}, {load_average()}")
    with (
        OktaEmulator(rate_limits=False) as okta,
        BareServer() as bare,
        BareServer(signing=True) as signing,
    ):
        for floor, name in ((bare, "bare"), (signing, "bare+2 sigs")):
            for threads in (1, args.threads):
                cpu = CpuTally()
                result = paired(
                    f"sign-ins/s, {threads} thread(s) vs {name}",
                    functools.partial(rate, okta, sign_ins, threads, (cpu, "subject")),
                    functools.partial(rate, floor, sign_ins, threads, (cpu, "floor")),
                    pairs,
                )
                print(result.line("/s"))
                # CPU per sign-in: below 1.0 the emulator costs less than the floor.
                print(cpu.paired("  CPU per sign-in (client + server)").line("ms", 1000))
        if args.unsigned:
            with unsigned():
                for threads in (1, args.threads):
                    result = paired(
                        f"unsigned, {threads} thread(s) vs bare",
                        functools.partial(rate, okta, sign_ins, threads),
                        functools.partial(rate, bare, sign_ins, threads),
                        pairs,
                    )
                    print(result.line("/s"))
        if args.switch_interval:
            interval = args.switch_interval
            for target, name in ((okta, "emulator"), (bare, "bare")):
                result = paired(
                    f"{name}, switch interval {interval:g} s vs default",
                    functools.partial(at_interval, interval, target, sign_ins),
                    functools.partial(rate, target, sign_ins, 1),
                    pairs,
                )
                print(result.line("/s"))
        assert okta.internal_errors == []
    print(f"  {load_average()}")


if __name__ == "__main__":
    main()
