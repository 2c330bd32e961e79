"""TokenProvider: memory -> disk -> refresh -> exchange, min_ttl, isolation, failures, threads."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_okta_user import options
from pytest_okta_user.cache import TokenCache
from pytest_okta_user.errors import (
    AuthenticationError,
    CacheLockTimeout,
    InvalidClient,
    OktaUserError,
    RateLimited,
    RequestTimeout,
    ShortLivedTokenWarning,
    TokenCacheWarning,
)
from pytest_okta_user.provider import TokenProvider
from pytest_okta_user.tokens import TokenSet, Variant

VARIANT = Variant(
    issuer="https://example.okta.com/oauth2/default",
    client_id="0oa-client",
    user="alice@example.com",
    flow="code",
    scopes=("openid", "offline_access"),
    redirect_uri="http://localhost:8080/callback",
    instance="emu-1",
)
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeOkta:
    """Counts exchanges and refreshes; each answer is a new, distinguishable token set."""

    def __init__(self, clock: Clock, *, lifetime: float = 3600.0, refresh_tokens: bool = True):
        self.clock = clock
        self.lifetime = lifetime
        self.refresh_tokens = refresh_tokens
        self.exchanges: Counter[Variant] = Counter()
        self.refreshes: list[str | None] = []
        self.exchange_error: BaseException | None = None
        self.refresh_error: BaseException | None = None
        self.issued = 0

    def _issue(self, kind: str) -> TokenSet:
        self.issued += 1
        return TokenSet(
            access_token=f"{kind}-access-{self.issued}",
            token_type="Bearer",
            expires_at=self.clock() + self.lifetime,
            scopes=("openid",),
            refresh_token=f"{kind}-refresh-{self.issued}" if self.refresh_tokens else None,
            obtained_at=self.clock(),
        )

    def exchange(self, variant: Variant) -> TokenSet:
        self.exchanges[variant] += 1
        if self.exchange_error is not None:
            raise self.exchange_error
        return self._issue("exchanged")

    def refresh(self, variant: Variant, tokens: TokenSet) -> TokenSet:
        self.refreshes.append(tokens.refresh_token)
        if self.refresh_error is not None:
            raise self.refresh_error
        return self._issue("refreshed")

    @property
    def total(self) -> int:
        return sum(self.exchanges.values())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def okta(clock: Clock) -> FakeOkta:
    return FakeOkta(clock)


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    return TokenCache(tmp_path / "cache", lock_timeout=5)


def provider(
    okta: FakeOkta,
    cache: TokenCache | None,
    *,
    refresh: bool = True,
    min_ttl: float = options.MIN_TTL.default,
) -> TokenProvider:
    return TokenProvider(
        exchange=okta.exchange,
        refresh=okta.refresh if refresh else None,
        cache=cache,
        min_ttl=min_ttl,
        clock=okta.clock,
    )


def test_without_min_ttl_the_default_decides_when_to_renew(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = TokenProvider(exchange=okta.exchange, refresh=None, cache=cache, clock=clock)
    first = tokens.get(VARIANT)
    clock.advance(3600 - options.MIN_TTL.default)  # exactly the default left: still handed out
    assert tokens.get(VARIANT) is first
    clock.advance(1)
    assert tokens.get(VARIANT) is not first
    assert okta.total == 2


def test_cold_then_memory(okta: FakeOkta, cache: TokenCache) -> None:
    tokens = provider(okta, cache)
    first = tokens.get(VARIANT)
    assert first.access_token == "exchanged-access-1"
    assert tokens.get(VARIANT) is first
    assert okta.total == 1
    assert cache.load(VARIANT).access_token == first.access_token  # type: ignore[union-attr]
    assert (tokens.stats.exchanges, tokens.stats.memory_hits) == (1, 1)


def test_memory_hit_does_not_touch_the_disk(okta: FakeOkta, cache: TokenCache) -> None:
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    cache.entry_path(VARIANT).write_text("corrupt")
    tokens.get(VARIANT)
    assert okta.total == 1


def test_a_later_run_finds_the_entry_and_signs_in_zero_times(
    okta: FakeOkta, cache: TokenCache
) -> None:
    first = provider(okta, cache).get(VARIANT)
    later = provider(okta, TokenCache(cache.folder))
    assert later.get(VARIANT).access_token == first.access_token
    assert okta.total == 1
    assert later.stats.exchanges == 0
    assert later.stats.cache_hits == 1


def test_an_entry_close_to_expiry_is_renewed_by_the_later_run(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    provider(okta, cache, refresh=False).get(VARIANT)
    clock.advance(3600 - options.MIN_TTL.default + 1)
    renewed = provider(okta, cache, refresh=False).get(VARIANT)
    assert renewed.access_token == "exchanged-access-2"
    assert cache.load(VARIANT).access_token == "exchanged-access-2"  # type: ignore[union-attr]


def test_min_ttl_boundary(okta: FakeOkta, cache: TokenCache, clock: Clock) -> None:
    tokens = provider(okta, cache, min_ttl=60)
    tokens.get(VARIANT)
    clock.advance(3600 - 60)  # exactly 60 s left: still good
    assert tokens.get(VARIANT).access_token == "exchanged-access-1"
    clock.advance(0.5)
    assert tokens.get(VARIANT).access_token == "refreshed-access-2"
    assert okta.refreshes == ["exchanged-refresh-1"]
    assert okta.total == 1


def test_per_call_min_ttl_overrides_the_default(okta: FakeOkta, clock: Clock) -> None:
    tokens = provider(okta, None, refresh=False)
    tokens.get(VARIANT)
    clock.advance(1000)
    assert tokens.get(VARIANT).access_token == "exchanged-access-1"
    assert tokens.get(VARIANT, min_ttl=3000).access_token == "exchanged-access-2"
    assert tokens.get(VARIANT).access_token == "exchanged-access-2"
    assert okta.total == 2


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), None, "60"])
def test_min_ttl_must_be_finite(okta: FakeOkta, bad: object) -> None:
    with pytest.raises(ValueError, match="min_ttl"):
        provider(okta, None, min_ttl=bad)  # type: ignore[arg-type]
    if bad is not None:
        with pytest.raises(ValueError, match="min_ttl"):
            provider(okta, None).get(VARIANT, min_ttl=bad)  # type: ignore[arg-type]


def test_refresh_uses_the_stored_refresh_token(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    provider(okta, cache).get(VARIANT)
    clock.advance(3590)
    later = provider(okta, cache)
    assert later.get(VARIANT).access_token == "refreshed-access-2"
    assert okta.refreshes == ["exchanged-refresh-1"]
    assert okta.total == 1
    assert later.stats.refreshes == 1
    assert cache.load(VARIANT).access_token == "refreshed-access-2"  # type: ignore[union-attr]


def test_refresh_uses_the_memory_copy_when_the_entry_is_gone(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    cache.clear()
    clock.advance(3590)
    assert tokens.get(VARIANT).access_token == "refreshed-access-2"
    assert okta.total == 1


def test_a_refresh_answer_without_refresh_token_keeps_the_old_one(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    okta.refresh_tokens = False
    clock.advance(3590)
    assert tokens.get(VARIANT).refresh_token == "exchanged-refresh-1"
    clock.advance(3590)
    tokens.get(VARIANT)
    assert okta.refreshes == ["exchanged-refresh-1", "exchanged-refresh-1"]
    assert okta.total == 1


def test_a_failed_refresh_falls_back_to_an_exchange(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    okta.refresh_error = OktaUserError("invalid_grant: The refresh token is invalid or expired.")
    clock.advance(3590)
    assert tokens.get(VARIANT).access_token == "exchanged-access-2"
    assert okta.total == 2
    # A refresh failure is not an exchange failure: nothing is remembered against the variant.
    clock.advance(3590)
    assert tokens.get(VARIANT).access_token == "exchanged-access-3"


def test_an_unexpected_refresh_error_propagates(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    okta.refresh_error = KeyError("bug")
    clock.advance(3590)
    with pytest.raises(KeyError):
        tokens.get(VARIANT)
    assert okta.total == 1


def test_no_refresh_function_means_exchange(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    tokens = provider(okta, cache, refresh=False)
    tokens.get(VARIANT)
    clock.advance(3590)
    assert tokens.get(VARIANT).access_token == "exchanged-access-2"
    assert okta.refreshes == []


def test_no_refresh_token_means_exchange(okta: FakeOkta, cache: TokenCache, clock: Clock) -> None:
    okta.refresh_tokens = False
    tokens = provider(okta, cache)
    tokens.get(VARIANT)
    clock.advance(3590)
    assert tokens.get(VARIANT).access_token == "exchanged-access-2"
    assert okta.refreshes == []


def test_an_expired_entry_is_not_served(okta: FakeOkta, cache: TokenCache, clock: Clock) -> None:
    provider(okta, cache, refresh=False).get(VARIANT)
    clock.advance(10 * 3600)
    assert provider(okta, cache, refresh=False, min_ttl=0).get(VARIANT).access_token == (
        "exchanged-access-2"
    )


def test_renewal_happens_once_for_all_workers(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    workers = [provider(okta, TokenCache(cache.folder)) for _ in range(4)]
    first = {worker.get(VARIANT).access_token for worker in workers}
    assert first == {"exchanged-access-1"}
    clock.advance(3590)  # the run outlives the token
    renewed = {worker.get(VARIANT).access_token for worker in workers}
    assert renewed == {"refreshed-access-2"}
    assert okta.total == 1
    assert len(okta.refreshes) == 1


FIELDS = [
    {"issuer": "https://example.okta.com"},
    {"client_id": "0oa-other"},
    {"user": "bob@example.com"},
    {"flow": "pkce"},
    {"scopes": ("openid",)},
    {"redirect_uri": None},
    {"instance": "emu-2"},
]


@pytest.mark.parametrize("change", FIELDS, ids=lambda change: next(iter(change)))
@pytest.mark.parametrize("with_cache", [True, False], ids=["disk", "memory"])
def test_each_variant_field_gets_its_own_tokens(
    okta: FakeOkta, cache: TokenCache, change: dict[str, object], with_cache: bool
) -> None:
    tokens = provider(okta, cache if with_cache else None)
    other = dataclasses.replace(VARIANT, **change)  # type: ignore[arg-type]
    mine = tokens.get(VARIANT)
    theirs = tokens.get(other)
    assert theirs.access_token != mine.access_token
    assert okta.exchanges == Counter({VARIANT: 1, other: 1})
    if with_cache:
        fresh = provider(okta, TokenCache(cache.folder))
        assert fresh.get(other).access_token == theirs.access_token
        assert fresh.get(VARIANT).access_token == mine.access_token
        assert okta.total == 2


def test_scope_order_is_the_same_variant(okta: FakeOkta) -> None:
    tokens = provider(okta, None)
    tokens.get(VARIANT)
    tokens.get(dataclasses.replace(VARIANT, scopes=("offline_access", "openid")))
    assert okta.total == 1


def test_memory_only_mode(okta: FakeOkta, tmp_path: Path) -> None:
    workers = [provider(okta, None) for _ in range(3)]
    for worker in workers:
        worker.get(VARIANT)
        worker.get(VARIANT)
    # Without a cache each process signs in at most once, and nothing reaches the disk.
    assert okta.total == 3
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_entry_is_replaced(okta: FakeOkta, cache: TokenCache) -> None:
    cache.folder.mkdir(parents=True)
    cache.entry_path(VARIANT).write_text('{"format": 1, "variant": {"iss')
    with pytest.warns(TokenCacheWarning, match="not valid JSON"):
        tokens = provider(okta, cache).get(VARIANT)
    assert okta.total == 1
    assert cache.load(VARIANT).access_token == tokens.access_token  # type: ignore[union-attr]


def test_the_entry_is_reread_under_the_lock(okta: FakeOkta, cache: TokenCache) -> None:
    # Another process stores a fresh entry while this one waits for the lock: use it, no exchange.
    other_process = FakeOkta(okta.clock)

    class RacedCache(TokenCache):
        @contextlib.contextmanager
        def locked(self, variant: Variant) -> Iterator[None]:
            TokenCache(self.folder).store(variant, other_process.exchange(variant))
            with super().locked(variant):
                yield

    tokens = provider(okta, RacedCache(cache.folder))
    assert tokens.get(VARIANT).access_token == "exchanged-access-1"
    assert okta.total == 0
    assert other_process.total == 1


class Rejected(OktaUserError):
    pass


def test_a_failed_exchange_is_tried_once_per_process(okta: FakeOkta, cache: TokenCache) -> None:
    okta.exchange_error = Rejected(
        "Okta refused the sign-in for alice@example.com (E0000004: Authentication failed)",
        f"check {options.PASSWORD.env[0]}",
    )
    tokens = provider(okta, cache)
    with pytest.raises(Rejected) as first:
        tokens.get(VARIANT)
    with pytest.raises(Rejected) as second:
        tokens.get(VARIANT)
    assert second.value is first.value
    assert str(second.value) == str(first.value)
    assert okta.total == 1
    assert tokens.stats.failures_replayed == 1
    # The memo is per variant: another one still signs in.
    okta.exchange_error = None
    assert tokens.get(dataclasses.replace(VARIANT, user="bob@example.com")).access_token
    with pytest.raises(Rejected):
        tokens.get(VARIANT)
    assert okta.exchanges[VARIANT] == 1


def run_provider(okta: FakeOkta, cache: TokenCache | None, run_id: str) -> TokenProvider:
    """Another process of a run: its own provider (no shared memory), the same cache folder."""
    return TokenProvider(
        exchange=okta.exchange, refresh=None, cache=cache, clock=okta.clock, run_id=run_id
    )


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError(
            "Okta refused the sign-in for alice@example.com (E0000004)",
            f"check {options.PASSWORD.env[0]}",
        ),
        InvalidClient("invalid_client: no such client", f"check {options.CLIENT_ID.env[0]}"),
    ],
)
def test_a_lasting_failure_is_shared_with_the_other_processes_of_the_run(
    okta: FakeOkta, cache: TokenCache, error: OktaUserError
) -> None:
    okta.exchange_error = error
    with pytest.raises(type(error)):
        run_provider(okta, cache, "run-1").get(VARIANT)
    assert stat.S_IMODE(cache.failure_path(VARIANT).stat().st_mode) == 0o600
    for _worker in range(3):
        with pytest.raises(type(error)) as replayed:
            run_provider(okta, cache, "run-1").get(VARIANT)
        assert (replayed.value.what, replayed.value.fix) == (error.what, error.fix)
        assert str(replayed.value) == str(error)
    assert okta.total == 1
    # The next run asks Okta again (the password may have been fixed) and drops the old record.
    okta.exchange_error = None
    assert run_provider(okta, cache, "run-2").get(VARIANT).access_token
    assert okta.total == 2
    assert not cache.failure_path(VARIANT).exists()


@pytest.mark.parametrize(
    "error", [RequestTimeout("Okta did not answer in 10s"), RateLimited("429 on /authn")]
)
def test_a_passing_failure_is_not_shared(
    okta: FakeOkta, cache: TokenCache, error: OktaUserError
) -> None:
    okta.exchange_error = error
    for _worker in range(2):
        with pytest.raises(type(error)):
            run_provider(okta, cache, "run-1").get(VARIANT)
    assert okta.total == 2
    assert not cache.failure_path(VARIANT).exists()


def test_without_a_run_id_or_a_cache_failures_stay_in_the_process(
    okta: FakeOkta, cache: TokenCache
) -> None:
    okta.exchange_error = AuthenticationError("refused", f"check {options.PASSWORD.env[0]}")
    for shared in (cache, None):
        for run_id in ("", "run-1") if shared is None else ("",):
            with pytest.raises(AuthenticationError):
                run_provider(okta, shared, run_id).get(VARIANT)
    assert okta.total == 3
    assert not cache.failure_path(VARIANT).exists()


def test_an_unreadable_failure_record_is_ignored(okta: FakeOkta, cache: TokenCache) -> None:
    cache.folder.mkdir(parents=True)
    cache.failure_path(VARIANT).write_text("{not json")
    assert run_provider(okta, cache, "run-1").get(VARIANT).access_token
    assert not cache.failure_path(VARIANT).exists()


def test_an_unexpected_exchange_error_is_not_remembered(okta: FakeOkta) -> None:
    okta.exchange_error = ConnectionResetError("flaky")
    tokens = provider(okta, None)
    with pytest.raises(ConnectionResetError):
        tokens.get(VARIANT)
    okta.exchange_error = None
    assert tokens.get(VARIANT).access_token == "exchanged-access-1"
    assert okta.total == 2


@pytest.mark.parametrize("error", [Rejected("denied"), ConnectionResetError("flaky")])
def test_a_failed_exchange_keeps_the_existing_entry(
    okta: FakeOkta, cache: TokenCache, clock: Clock, error: BaseException
) -> None:
    provider(okta, cache, refresh=False).get(VARIANT)
    before = cache.entry_path(VARIANT).read_bytes()
    clock.advance(3590)
    okta.exchange_error = error
    with pytest.raises(type(error)):
        provider(okta, cache, refresh=False).get(VARIANT)
    assert cache.entry_path(VARIANT).read_bytes() == before
    assert sorted(os.listdir(cache.folder)) == [f"{VARIANT.key}.json", f"{VARIANT.key}.lock"]


def test_a_fresh_memory_token_beats_a_remembered_failure(okta: FakeOkta, clock: Clock) -> None:
    tokens = provider(okta, None, refresh=False)
    good = tokens.get(VARIANT)
    clock.advance(2000)
    okta.exchange_error = Rejected("denied")
    with pytest.raises(Rejected):
        tokens.get(VARIANT, min_ttl=3000)  # more life than the token has left
    assert tokens.get(VARIANT) is good


def test_a_short_lived_token_is_handed_out_once_with_a_warning(
    okta: FakeOkta, cache: TokenCache, clock: Clock
) -> None:
    okta.lifetime = 30  # the whole lifetime is shorter than min_ttl
    tokens = provider(okta, cache, refresh=False, min_ttl=60)
    with pytest.warns(ShortLivedTokenWarning, match="30s left, less than the 60s") as caught:
        first = tokens.get(VARIANT)
    assert "alice@example.com" in str(caught[0].message)
    assert "exchanged-access" not in str(caught[0].message)
    ttl = options.MIN_TTL
    for name in (ttl.flag, ttl.env[0], ttl.ini, "min_ttl="):
        assert name is not None
        assert name in str(caught[0].message)
    assert tokens.get(VARIANT) is first
    assert provider(okta, cache, refresh=False, min_ttl=60).get(VARIANT) == first
    clock.advance(15)  # half its lifetime gone: renewed, not looped on before
    assert tokens.get(VARIANT) is first
    clock.advance(0.1)
    with pytest.warns(ShortLivedTokenWarning):
        assert tokens.get(VARIANT).access_token == "exchanged-access-2"
    assert okta.total == 2


def test_an_unknown_obtained_at_is_filled_in(okta: FakeOkta, clock: Clock) -> None:
    def exchange(variant: Variant) -> TokenSet:
        okta.exchanges[variant] += 1
        return TokenSet("at", "Bearer", expires_at=clock() + 30, scopes=())

    tokens = TokenProvider(exchange=exchange, refresh=None, cache=None, clock=clock)
    with pytest.warns(ShortLivedTokenWarning):
        assert tokens.get(VARIANT).obtained_at == START
    assert tokens.get(VARIANT).access_token == "at"
    assert okta.total == 1


def test_a_failed_write_still_hands_out_the_tokens(
    okta: FakeOkta, cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.warns(TokenCacheWarning, match="could not write") as caught:
        tokens = provider(okta, cache).get(VARIANT)
    assert tokens.access_token == "exchanged-access-1"
    assert "exchanged" not in str(caught[0].message)


def _asked_while_locked(cache: TokenCache, tokens: TokenProvider) -> TokenSet | BaseException:
    """What ``tokens.get(VARIANT)`` gives, or raises, asked from another thread while ``cache``
    holds the entry's lock (an flock on a file handle of its own: it waits as another process
    would)."""
    outcome: list[TokenSet | BaseException] = []

    def ask() -> None:
        try:
            outcome.append(tokens.get(VARIANT))
        except BaseException as exc:
            outcome.append(exc)

    with cache.locked(VARIANT):
        thread = threading.Thread(target=ask)
        thread.start()
        thread.join()
    return outcome[0]


def test_a_lock_timeout_is_raised_and_not_remembered(okta: FakeOkta, cache: TokenCache) -> None:
    tokens = provider(okta, TokenCache(cache.folder, lock_timeout=0.01))
    assert isinstance(_asked_while_locked(cache, tokens), CacheLockTimeout)
    assert okta.total == 0
    assert tokens.get(VARIANT).access_token == "exchanged-access-1"


def test_a_fresh_entry_is_read_without_waiting_for_its_lock(
    okta: FakeOkta, cache: TokenCache
) -> None:
    """A warm run reads a fresh entry without taking its lock: a process holding it (renewing a
    refused token, say) holds up no process that only reads."""
    stored = provider(okta, cache).get(VARIANT)
    reader = provider(okta, TokenCache(cache.folder, lock_timeout=0.01))
    served = _asked_while_locked(cache, reader)
    assert isinstance(served, TokenSet)
    assert served.access_token == stored.access_token
    assert (okta.total, reader.stats.cache_hits) == (1, 1)


@pytest.mark.parametrize("with_cache", [True, False], ids=["disk", "memory"])
def test_threads_share_one_exchange(okta: FakeOkta, cache: TokenCache, with_cache: bool) -> None:
    inside = threading.Event()
    release = threading.Event()
    real_exchange = okta.exchange

    def slow_exchange(variant: Variant) -> TokenSet:
        inside.set()
        assert release.wait(10)
        return real_exchange(variant)

    tokens = TokenProvider(
        exchange=slow_exchange,
        refresh=None,
        cache=cache if with_cache else None,
        clock=okta.clock,
    )
    start = threading.Barrier(9)
    results: list[str | None] = []

    def ask() -> None:
        start.wait(10)
        results.append(tokens.get(VARIANT).access_token)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    start.wait(10)
    assert inside.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == ["exchanged-access-1"] * 8
    assert okta.total == 1
