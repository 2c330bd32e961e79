"""Code the stress tests (tests/stress) run in child processes (spawned: importable by name as
support.stress_workers, no pytest needed)."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.provider import TokenProvider
from pytest_okta_user.tokens import TokenSet, Variant

LIFETIME = 3600.0


def variant(label: str) -> Variant:
    return Variant(
        issuer="https://stress.example.com/oauth2/default",
        client_id="0oa-stress",
        user=f"{label}@example.com",
        flow="pkce",
        scopes=("openid", "profile"),
        redirect_uri="http://localhost:8080/callback",
        instance="stress",
    )


def record(counter: Path, line: str) -> None:
    # O_APPEND: each write lands whole at the end, whichever process makes it.
    fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def issue() -> TokenSet:
    now = time.time()
    return TokenSet(
        access_token=f"at-{os.getpid()}-{uuid.uuid4().hex}",
        token_type="Bearer",
        expires_at=now + LIFETIME,
        scopes=("openid", "profile"),
        refresh_token=f"rt-{os.getpid()}",
        obtained_at=now,
    )


def counting_exchange(counter: Path, latency: float) -> Any:
    def exchange(asked: Variant) -> TokenSet:
        record(counter, f"{asked.key} {os.getpid()}")
        # Stands in for the network round trips; it widens the window a broken lock would show in.
        time.sleep(latency)
        return issue()

    return exchange


def race(folder: str, counter: str, rounds: int, barrier: Any, results: Any) -> None:
    """Each round: wait for all, then ask for that round's cold variant with a fresh provider."""
    for number in range(rounds):
        asked = variant(f"round{number}")
        provider = TokenProvider(
            exchange=counting_exchange(Path(counter), latency=0.02),
            refresh=None,
            cache=TokenCache(Path(folder), lock_timeout=30),
        )
        barrier.wait(60)
        tokens = provider.get(asked)
        results.put((number, os.getpid(), tokens.access_token))


def victim(folder: str, counter: str, inside: Any) -> None:
    """Signs in, says so, then hangs inside the exchange until it is killed."""

    def exchange(asked: Variant) -> TokenSet:
        record(Path(counter), f"{asked.key} {os.getpid()}")
        inside.set()
        time.sleep(600)  # never returns in the test: the parent SIGKILLs this process
        return issue()

    provider = TokenProvider(
        exchange=exchange, refresh=None, cache=TokenCache(Path(folder), lock_timeout=30)
    )
    provider.get(variant("killed"))


class SignallingCache(TokenCache):
    """A cache that sets ``waiting`` as it goes to take an entry's lock (then blocks on it)."""

    def __init__(self, folder: Path, waiting: Any, *, lock_timeout: float) -> None:
        super().__init__(folder, lock_timeout=lock_timeout)
        self._waiting = waiting

    @contextlib.contextmanager
    def locked(self, asked: Variant) -> Iterator[None]:
        self._waiting.set()
        with super().locked(asked):
            yield


def survivor(folder: str, counter: str, waiting: Any, results: Any) -> None:
    provider = TokenProvider(
        exchange=counting_exchange(Path(counter), latency=0.0),
        refresh=None,
        cache=SignallingCache(Path(folder), waiting, lock_timeout=60),
    )
    results.put((os.getpid(), provider.get(variant("killed")).access_token))


def rewriter(folder: str, writes: int, done: Any) -> None:
    """Rewrites one entry again and again, with tokens of changing length."""
    cache = TokenCache(Path(folder))
    asked = variant("atomic")
    try:
        for number in range(writes):
            tokens = issue()
            padded = f"{tokens.access_token}-{'x' * (number % 7 * 500)}"
            cache.store(asked, TokenSet.from_dict({**tokens.to_dict(), "access_token": padded}))
    finally:
        done.set()


def reader(folder: str, done: Any, results: Any) -> None:
    """Reads the entry without the lock until the rewriter is done: counts reads and bad ones."""
    import warnings

    cache = TokenCache(Path(folder))
    asked = variant("atomic")
    reads = bad = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        while not done.is_set():
            reads += 1
            if cache.load(asked) is None:
                bad += 1
    results.put((reads, bad, len(caught)))
