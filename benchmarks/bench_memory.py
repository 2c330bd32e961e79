"""Emulator memory per sign-in: memory held after N sign-ins against after 100.

    .venv/bin/python benchmarks/bench_memory.py [--sign-ins 10000] [--tick 1.0]

Sign-ins go straight to the emulator's WSGI app (werkzeug's test client: no sockets, so the
figure is the org's stores and request log, not the server's buffers). The emulator's clock moves
`--tick` seconds per sign-in (1.0: a sign-in a second, far busier than a test suite), so records
expire as they would in a real run: what stays is what is still alive (an access token lives an
hour, so memory should level off after 3600 sign-ins at one a second, not keep growing). Memory
is what tracemalloc sees allocated since the 1st sign-in, after a collection, at 100, half-way
and at the end.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

from _paired import load_average

# The same in-process sign-in the emulator's memory test uses.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.emulator_client import sign_in_wsgi
from werkzeug.test import Client

from pytest_okta_user.emulator import OktaEmulator


def held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sign-ins", type=int, default=10_000)
    parser.add_argument("--tick", type=float, default=1.0)
    args = parser.parse_args()
    print(f"bench_memory: Python {sys.version.split()[0]}, {load_average()}")
    okta = OktaEmulator(rate_limits=False)
    http = Client(okta.app)
    sign_in_wsgi(okta, http)  # keys, caches, first-use allocations: before the baseline
    tracemalloc.start()
    baseline = held()
    done = 0
    figures = {}
    marks = (100, args.sign_ins // 2, args.sign_ins)
    for mark in marks:
        while done < mark:
            sign_in_wsgi(okta, http)
            okta.clock.advance(args.tick)
            done += 1
        figures[mark] = held() - baseline
        http = Client(okta.app)  # the test client's cookie jar is not the emulator's memory
    small, half, large = (figures[mark] for mark in marks)
    second_half = (large - half) / (args.sign_ins - marks[1])
    label = "memory held after " + " / ".join(str(mark) for mark in marks) + " sign-ins"
    print(
        f"{label:<44} {small / 1024:.0f} / {half / 1024:.0f} / {large / 1024:.0f} KiB"
        f"  (second half: {second_half:+.0f} bytes per sign-in;"
        f" end/100: {large / max(small, 1):.1f}x)"
    )
    print(f"  {load_average()}")


if __name__ == "__main__":
    main()
