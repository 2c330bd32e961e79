"""A process SIGKILLed while it holds an entry's lock, mid-exchange, does not block the others."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import warnings
from pathlib import Path

import pytest
from support import stress_workers as workers

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.errors import CacheLockTimeout

SURVIVORS = 3


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock are POSIX")
def test_a_killed_lock_holder_does_not_block(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    counter = tmp_path / "exchanges.log"
    asked = workers.variant("killed")
    context = multiprocessing.get_context("spawn")
    inside = context.Event()
    results = context.Queue()
    victim = context.Process(target=workers.victim, args=(str(folder), str(counter), inside))
    waiting = [context.Event() for _ in range(SURVIVORS)]
    survivors = [
        context.Process(target=workers.survivor, args=(str(folder), str(counter), event, results))
        for event in waiting
    ]
    victim.start()
    try:
        assert inside.wait(60), "the victim never reached its exchange"
        # The victim really holds the lock (mid-exchange, nothing stored yet).
        with pytest.raises(CacheLockTimeout), TokenCache(folder, lock_timeout=0).locked(asked):
            pass
        assert not TokenCache(folder).entry_path(asked).exists()
        for process in survivors:
            process.start()
        # Every survivor has gone to take the lock, and the victim still holds it: they wait on
        # it (none can have signed in), so the kill is what must free them.
        for event in waiting:
            assert event.wait(60), "a survivor never went for the lock"
        with pytest.raises(CacheLockTimeout), TokenCache(folder, lock_timeout=0).locked(asked):
            pass
        assert counter.read_text().count("\n") == 1  # only the victim's exchange so far
        os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
        victim.join(30)
        assert victim.exitcode == -signal.SIGKILL
        try:
            answers = [results.get(timeout=60) for _ in survivors]
        except queue.Empty:
            pytest.fail("the survivors stayed blocked on the dead process's lock")
        for process in survivors:
            process.join(30)
    finally:
        for process in [victim, *survivors]:
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in survivors] == [0] * SURVIVORS

    calls = [line.split() for line in counter.read_text().splitlines()]
    assert [key for key, _pid in calls] == [asked.key, asked.key]
    assert int(calls[0][1]) == victim.pid
    exchanger = int(calls[1][1])
    assert exchanger in {process.pid for process in survivors}
    [access_token] = {access_token for _pid, access_token in answers}
    assert access_token.startswith(f"at-{exchanger}-")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stored = TokenCache(folder).load(asked)
    assert stored is not None
    assert stored.access_token == access_token
