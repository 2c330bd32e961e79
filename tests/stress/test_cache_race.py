"""Eight processes race for one cold entry, twenty times: one exchange per round, no bad file."""

from __future__ import annotations

import multiprocessing
import queue
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from support import stress_workers as workers

from pytest_okta_user.cache import TokenCache

PROCESSES = 8
ROUNDS = 20


@pytest.mark.slow
def test_one_exchange_per_round_across_processes(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    counter = tmp_path / "exchanges.log"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(
            target=workers.race, args=(str(folder), str(counter), ROUNDS, barrier, results)
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=60) for _ in range(PROCESSES * ROUNDS)]
        for process in processes:
            process.join(30)
    except queue.Empty:
        pytest.fail("the racing processes did not all answer within 60 s")
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * PROCESSES

    calls = [line.split() for line in counter.read_text().splitlines()]
    per_variant = Counter(key for key, _pid in calls)
    keys = {workers.variant(f"round{number}").key: number for number in range(ROUNDS)}
    assert per_variant == Counter(dict.fromkeys(keys, 1)), "exactly one exchange per round"

    handed_out: dict[int, set[str]] = defaultdict(set)
    for number, _pid, access_token in answers:
        handed_out[number].add(access_token)
    exchanger = {keys[key]: pid for key, pid in calls}
    cache = TokenCache(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a corrupt or truncated entry would warn
        for number in range(ROUNDS):
            [access_token] = handed_out[number]  # every process got the same token
            assert access_token.startswith(f"at-{exchanger[number]}-")
            stored = cache.load(workers.variant(f"round{number}"))
            assert stored is not None
            assert stored.access_token == access_token
    # No temporary file left behind: every write finished with its rename.
    assert Counter(path.suffix for path in folder.iterdir()) == {".json": ROUNDS, ".lock": ROUNDS}
