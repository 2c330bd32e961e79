"""What the token cache saves and what it costs, measured against the embedded emulator.

    .venv/bin/python benchmarks/bench_cache.py [--repeat 5] [--quick]

(a) Okta sign-ins and token grants per run of a 200-test suite under ``-n 4``, cold and warm: the
    plugin, beside a naive session fixture (one sign-in per worker) and beside pytest-xdist's
    documented recipe (a ``FileLock`` around a JSON file under ``getbasetemp().parent``).
(b) The cost of requesting ``okta_access_token`` in 2000 tests with a warm cache: wall time of the
    suite, as a ratio to the same suite whose tests do not request it (one process, no xdist).
(c) Start-up: ``pytest --collect-only`` on an empty suite, as a ratio to ``-p no:okta_user``.
(d) A cache lock wait: how long after the holder releases an entry's lock the waiting process's
    ``TokenCache.locked`` wakes (median and spread), beside filelock's default 50 ms polling,
    alternating the two.

Every run is a real ``pytest`` subprocess; times are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from filelock import FileLock

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.tokens import Variant

PLUGIN_TEST = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_api(okta_access_token, n):
    assert okta_access_token
"""

PLAIN_TEST = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_api(n):
    assert n >= 0
"""

SIGN_IN = """
import json
import os

import pytest
from filelock import FileLock

from pytest_okta_user import flows
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import Variant


def sign_in():
    variant = Variant(
        issuer=os.environ["OKTA_DOMAIN"] + "/oauth2/default",
        client_id=os.environ["OKTA_CLIENT_ID"],
        user=os.environ["OKTA_USERNAME"],
        flow="pkce",
        scopes=("openid", "profile", "email"),
        redirect_uri=os.environ["OKTA_REDIRECT_URI"],
    )
    credentials = Credentials(
        password=os.environ["OKTA_PASSWORD"], client_secret=os.environ["OKTA_CLIENT_SECRET"]
    )
    return flows.exchange(variant, credentials).access_token
"""

#: The naive way: a session fixture that signs in (once per xdist worker, every run).
NAIVE_CONFTEST = (
    SIGN_IN
    + """

@pytest.fixture(scope="session")
def okta_access_token():
    return sign_in()
"""
)

#: pytest-xdist's how-to, "Making session-scoped fixtures execute only once", applied to sign-in.
XDIST_RECIPE_CONFTEST = (
    SIGN_IN
    + """

@pytest.fixture(scope="session")
def okta_access_token(tmp_path_factory, worker_id):
    if worker_id == "master":
        return sign_in()
    root_tmp_dir = tmp_path_factory.getbasetemp().parent
    fn = root_tmp_dir / "data.json"
    with FileLock(str(fn) + ".lock"):
        if fn.is_file():
            data = json.loads(fn.read_text())
        else:
            data = sign_in()
            fn.write_text(json.dumps(data))
    return data
"""
)


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args]


def run(folder: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        pytest_cmd(*args), cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    # 5: no tests collected (the empty suite of part c).
    if result.returncode not in (0, 5):
        sys.exit(f"pytest {' '.join(args)} failed in {folder}:\n{result.stdout}\n{result.stderr}")
    return elapsed


def make_suite(root: Path, name: str, test: str, conftest: str | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_suite.py").write_text(textwrap.dedent(test))
    if conftest is not None:
        (folder / "conftest.py").write_text(conftest)
    return folder


def answered(okta: OktaEmulator) -> tuple[int, int]:
    """(sign-ins, token grants) answered 200 so far; rate-limit retries are not extra sign-ins."""
    endpoints = [record.endpoint for record in okta.requests if record.status == 200]
    return endpoints.count("authn"), endpoints.count("token")


def requests_per_run(root: Path, okta: OktaEmulator, env: dict[str, str], tests: int) -> None:
    print(f"\n(a) Okta requests per run: {tests} tests, -n 4 (sign-ins / token grants)")
    print(f"    {'approach':<44} {'cold run':>10} {'warm run':>10}")
    approaches = [
        ("pytest-okta-user (file-locked token cache)", PLUGIN_TEST, None, ()),
        ("naive session fixture", PLUGIN_TEST, NAIVE_CONFTEST, ("-p", "no:okta_user")),
        (
            "xdist recipe (FileLock + basetemp JSON)",
            PLUGIN_TEST,
            XDIST_RECIPE_CONFTEST,
            ("-p", "no:okta_user"),
        ),
    ]
    for index, (label, test, conftest, extra) in enumerate(approaches):
        folder = make_suite(root, f"a{index}", test.format(count=tests), conftest)
        figures = []
        for _ in ("cold", "warm"):
            before = answered(okta)
            run(folder, env, "-n", "4", *extra)
            after = answered(okta)
            figures.append(f"{after[0] - before[0]} / {after[1] - before[1]}")
        print(f"    {label:<44} {figures[0]:>10} {figures[1]:>10}")


def median_time(folder: Path, env: dict[str, str], repeat: int, *args: str) -> float:
    return statistics.median(run(folder, env, *args) for _ in range(repeat))


def fixture_cost(root: Path, env: dict[str, str], tests: int, repeat: int) -> None:
    with_token = make_suite(root, "b-token", PLUGIN_TEST.format(count=tests))
    without = make_suite(root, "b-plain", PLAIN_TEST.format(count=tests))
    run(with_token, env)  # warms the cache: the timed runs sign in zero times
    # Interleaved, so a change in machine load hits both sides alike.
    token_times, plain_times = [], []
    for _ in range(repeat):
        token_times.append(run(with_token, env))
        plain_times.append(run(without, env))
    token, plain = statistics.median(token_times), statistics.median(plain_times)
    print(f"\n(b) {tests} tests requesting okta_access_token, warm cache, one process")
    print(f"    with the fixture   {token:7.2f} s")
    print(f"    without it         {plain:7.2f} s")
    # The difference includes one-time costs (importing PyJWT/requests, reading the entry).
    print(f"    ratio              {token / plain:7.2f}x  (+{token - plain:.2f} s for the run)")


def startup_cost(root: Path, env: dict[str, str], repeat: int) -> None:
    empty = make_suite(root, "c-empty", "")
    loaded_times, disabled_times = [], []
    for _ in range(repeat):
        loaded_times.append(run(empty, env, "--collect-only"))
        disabled_times.append(run(empty, env, "--collect-only", "-p", "no:okta_user"))
    loaded, disabled = statistics.median(loaded_times), statistics.median(disabled_times)
    print("\n(c) start-up: pytest --collect-only on an empty suite")
    print(f"    plugin loaded      {loaded:7.3f} s")
    print(f"    -p no:okta_user    {disabled:7.3f} s")
    print(
        f"    ratio              {loaded / disabled:7.2f}x  (+{(loaded - disabled) * 1000:.0f} ms)"
    )


def _wake_delay(
    lock_path: Path, acquire_waiting: Callable[[], AbstractContextManager[object]]
) -> float:
    """Seconds from the release of ``lock_path`` (held here) to ``acquire_waiting`` returning in a
    waiting thread (flock locks are per open file, so a thread waits as a process would)."""
    holder = FileLock(str(lock_path), timeout=5)
    holder.acquire()
    waiting, woke = threading.Event(), []

    def waiter() -> None:
        waiting.set()
        with acquire_waiting():
            woke.append(time.perf_counter())

    thread = threading.Thread(target=waiter)
    thread.start()
    waiting.wait()
    time.sleep(0.01 + random.random() * 0.02)  # let it poll a while, released at a random phase
    released = time.perf_counter()
    holder.release()
    thread.join()
    return woke[0] - released


def lock_wake(root: Path, repeat: int) -> None:
    cache = TokenCache(root / "d-cache", lock_timeout=5)
    variant = Variant("https://example.okta.com/oauth2/default", "0oa1", "u", "code", ("openid",))
    with cache.locked(variant):  # the folder and the lock file are made on first use
        pass
    lock_path = cache.lock_path(variant)
    plugin: list[float] = []
    default: list[float] = []
    for _ in range(repeat):  # alternating, so load changes hit both alike
        plugin.append(_wake_delay(lock_path, lambda: cache.locked(variant)))
        default.append(
            _wake_delay(lock_path, lambda: FileLock(str(lock_path), timeout=5))  # 50 ms polls
        )

    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        p10, p90 = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
        median = statistics.median(values)
        return f"median {median * 1000:6.1f} ms  (p10 {p10 * 1000:.1f}, p90 {p90 * 1000:.1f})"

    print(f"\n(d) a cache lock wait: wake-up after the holder's release, {repeat} paired waits")
    print(f"    TokenCache.locked           {spread(plugin)}")
    print(f"    filelock default (50 ms)    {spread(default)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="smaller suites, fewer repeats")
    parser.add_argument("--only-lock", action="store_true", help="only (d), the lock wake-up")
    args = parser.parse_args(argv)
    tests_a, tests_b, repeat = (40, 400, 3) if args.quick else (200, 2000, args.repeat)

    machine = f"{platform.system()}, {os.cpu_count()} CPUs"
    print(f"bench_cache: Python {platform.python_version()}, pytest-xdist -n 4, {machine}")
    root = Path(tempfile.mkdtemp(prefix="bench_cache-"))
    if args.only_lock:
        try:
            lock_wake(root, 20 if args.quick else 100)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    try:
        with OktaEmulator() as okta:
            env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_")}
            env.pop("PYTEST_ADDOPTS", None)
            env.update(okta.env())
            requests_per_run(root, okta, env, tests_a)
            fixture_cost(root, env, tests_b, repeat)
            startup_cost(root, env, repeat)
            lock_wake(root, 20 if args.quick else 100)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
