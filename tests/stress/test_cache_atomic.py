"""Readers that skip the lock still never see a half-written entry: writes are atomic renames."""

from __future__ import annotations

import multiprocessing
import queue
from pathlib import Path

import pytest
from support import stress_workers as workers

from pytest_okta_user.cache import TokenCache

READERS = 3
WRITES = 300


@pytest.mark.slow
def test_unlocked_readers_see_whole_entries_only(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    TokenCache(folder).store(workers.variant("atomic"), workers.issue())
    context = multiprocessing.get_context("spawn")
    done = context.Event()
    results = context.Queue()
    readers = [
        context.Process(target=workers.reader, args=(str(folder), done, results))
        for _ in range(READERS)
    ]
    rewriter = context.Process(target=workers.rewriter, args=(str(folder), WRITES, done))
    for process in [*readers, rewriter]:
        process.start()
    try:
        rewriter.join(120)
        assert rewriter.exitcode == 0
        try:
            counts = [results.get(timeout=60) for _ in readers]
        except queue.Empty:
            pytest.fail("the readers did not report")
        for process in readers:
            process.join(30)
    finally:
        for process in [*readers, rewriter]:
            if process.is_alive():
                process.kill()
    assert all(reads > 0 for reads, _, _ in counts)
    assert [(bad, warned) for _, bad, warned in counts] == [(0, 0)] * READERS
