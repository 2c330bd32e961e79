"""The pytest face against its floors, as ratios of paired, alternating runs.

    .venv/bin/python benchmarks/bench_pytest.py [--long]

start-up: `pytest --collect-only` on an empty folder with the plugin, against the same with
    `-p no:okta_user -p floor_plugin` (benchmarks/floor_plugin.py: the same options, ini keys and
    marker, nothing else). Goal: within 1.05x.
per test: 2000 tests requesting `okta_access_token` with a warm token cache, against 2000 tests
    requesting a trivial session fixture from a conftest (plugin disabled). Goal: within 1.03x.

Every run is a real `pytest` subprocess against a fresh embedded emulator (the warm cache is
filled once before timing). `--long` takes more pairs.

`--instructions` also counts the instructions each side executes, one run each under valgrind's
callgrind (a few minutes; needs `valgrind`): the same count every time, where the CPU time of one
run on a shared two-core machine moves by a tenth from run to run, so a ratio of 1.03 is only
told from 1.05 by many pairs.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _paired import CpuTally, load_average, paired

from pytest_okta_user.emulator import OktaEmulator

HERE = Path(__file__).resolve().parent

TOKEN_TESTS = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_api(okta_access_token, n):
    assert okta_access_token
"""

FLOOR_TESTS = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_api(token, n):
    assert token
"""

FLOOR_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def token():
    return "a-token"
"""


def check_floor_plugin() -> None:
    import floor_plugin

    from pytest_okta_user.options import OPTIONS

    # Names may differ (they cost nothing); what is registered, and how much, must not.
    real = [(o.flag, o.name, bool(o.switch), bool(o.ini)) for o in OPTIONS if o.flag]
    floor = [(flag, name, switch, bool(ini)) for flag, name, switch, ini in floor_plugin.FLAGS]
    extra_ini = [o.ini for o in OPTIONS if o.ini and not o.flag]
    if real != floor or extra_ini:
        sys.exit("benchmarks/floor_plugin.py's FLAGS no longer match options.OPTIONS: update it")


def pytest_run(
    folder: Path,
    env: dict[str, str],
    *args: str,
    cpu: tuple[CpuTally, str] | None = None,
) -> float:
    """The run's wall-clock seconds; with `cpu`, its CPU seconds (user + system) recorded too."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [*command, *args], cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        tally, side = cpu
        tally.record(side, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    if result.returncode not in (0, 5):  # 5: nothing collected (the empty folder)
        sys.exit(f"pytest {' '.join(args)} failed in {folder}:\n{result.stdout}\n{result.stderr}")
    return elapsed


def instruction_counts(
    runs: dict[str, tuple[Path, tuple[str, ...]]], env: dict[str, str]
) -> dict[str, int]:
    """The instructions each pytest run executes (callgrind's "Collected"), the runs side by side
    (one a core). PYTHONHASHSEED is fixed: set and dict orders then repeat, and so do the counts."""
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    env = {**env, "PYTHONHASHSEED": "0"}
    started = {
        name: subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command, *args],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (folder, args) in runs.items()
    }
    counts = {}
    for name, process in started.items():
        _out, err = process.communicate()
        found = re.search(r"Collected : (\d+)", err)
        if process.returncode not in (0, 5) or found is None:
            sys.exit(f"valgrind pytest ({name}) failed:\n{err[-2000:]}")
        counts[name] = int(found.group(1))
    return counts


def instructions_line(label: str, subject: int, floor: int) -> str:
    return (
        f"{label:<44} ratio {subject / floor:5.3f}x  (instructions, valgrind)"
        f"  {subject / 1e9:.3f} G vs floor {floor / 1e9:.3f} G"
    )


def suite(root: Path, name: str, tests: str, conftest: str | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_suite.py").write_text(tests)
    if conftest is not None:
        (folder / "conftest.py").write_text(conftest)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="more pairs (a few minutes)")
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--pairs", type=int, help="pairs of per-test runs (default 4, --long 16)")
    parser.add_argument("--no-startup", action="store_true", help="measure the per-test row only")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each side's instructions under valgrind (deterministic; a few minutes)",
    )
    args = parser.parse_args()
    startup_pairs, per_test_pairs = (60, 16) if args.long else (20, 4)
    per_test_pairs = args.pairs or per_test_pairs
    check_floor_plugin()
    print(f"bench_pytest: Python {sys.version.split()[0]}, {load_average()}")
    root = Path(tempfile.mkdtemp(prefix="bench_pytest-"))
    try:
        with OktaEmulator() as okta:
            env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_")}
            env.pop("PYTEST_ADDOPTS", None)
            # As users run pytest: compiled and assertion-rewritten modules cached (a shell with
            # PYTHONDONTWRITEBYTECODE makes both sides rewrite every plugin's modules each run).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.update(okta.env())
            env["OKTA_TOKEN_CACHE_DIR"] = str(root / "cache")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
            empty = suite(root, "empty", "")
            floor_args = ("--collect-only", "-p", "no:okta_user", "-p", "floor_plugin")
            startup_cpu = CpuTally()
            startup = (
                None
                if args.no_startup
                else paired(
                    "start-up: --collect-only, empty folder",
                    lambda: pytest_run(empty, env, "--collect-only", cpu=(startup_cpu, "subject")),
                    lambda: pytest_run(empty, env, *floor_args, cpu=(startup_cpu, "floor")),
                    startup_pairs,
                )
            )
            if startup is not None:
                print(startup.line("ms", 1000))
                print(startup_cpu.paired("  the same, CPU time (user + system)").line("ms", 1000))
            with_token = suite(root, "token", TOKEN_TESTS.format(count=args.tests))
            floor = suite(root, "floor", FLOOR_TESTS.format(count=args.tests), FLOOR_CONFTEST)
            pytest_run(with_token, env)  # fills the cache: the timed runs sign in zero times
            signed_in = okta.count("authn")
            per_test_cpu = CpuTally()
            per_test = paired(
                f"per test: {args.tests} tests, warm cache",
                lambda: pytest_run(with_token, env, cpu=(per_test_cpu, "subject")),
                lambda: pytest_run(floor, env, "-p", "no:okta_user", cpu=(per_test_cpu, "floor")),
                per_test_pairs,
            )
            print(per_test.line("s"))
            print(per_test_cpu.paired("  the same, CPU time (user + system)").line("s"))
            if args.instructions:
                runs = {"floor": (floor, ("-p", "no:okta_user")), "subject": (with_token, ())}
                if not args.no_startup:
                    runs["startup floor"] = (empty, floor_args)
                    runs["startup"] = (empty, ("--collect-only",))
                counts = instruction_counts(runs, env)
                if not args.no_startup:
                    label = "start-up: --collect-only, empty folder"
                    print(instructions_line(label, counts["startup"], counts["startup floor"]))
                label = f"per test: {args.tests} tests, warm cache"
                print(instructions_line(label, counts["subject"], counts["floor"]))
            if okta.count("authn") != signed_in:
                print("  (warning: the timed runs signed in: the cache was not warm)")
            print(f"  {load_average()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
