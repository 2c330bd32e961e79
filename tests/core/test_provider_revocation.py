"""TokenProvider under ``-W error``, with a token's own ``exp``, and after a resource refused a
token: the repair and the storage happen before any warning, a token is served only while both
expiries allow, and a refused token is renewed once for every process sharing the cache."""

from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path
from types import TracebackType

import pytest

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.errors import ShortLivedTokenWarning, TokenCacheWarning
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.provider import TokenProvider, build_provider
from pytest_okta_user.settings import resolve
from pytest_okta_user.tokens import TokenSet, Variant, jwt_expiry

VARIANT = Variant(
    issuer="https://example.okta.com/oauth2/default",
    client_id="0oa-client",
    user="alice@example.com",
    flow="pkce",
    scopes=("openid",),
    redirect_uri="http://localhost:8080/callback",
)
START = 1_800_000_000.0
STORED_SECRET = "eyJ.stored-secret-in-the-corrupt-entry.sig"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def jwt(exp: float | None) -> str:
    """An unsigned JWT-shaped token: only its payload matters here."""
    claims = {"sub": "00u1"} if exp is None else {"sub": "00u1", "exp": exp}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"


class FakeOkta:
    def __init__(self, clock: Clock, *, lifetime: float = 3600.0, jwt_life: float | None = None):
        self.clock = clock
        self.lifetime = lifetime
        self.jwt_life = jwt_life
        self.exchanges = 0

    def exchange(self, variant: Variant) -> TokenSet:
        self.exchanges += 1
        exp = None if self.jwt_life is None else self.clock() + self.jwt_life
        access = jwt(exp) if exp is not None else f"opaque-access-{self.exchanges}"
        return TokenSet(
            access_token=access,
            token_type="Bearer",
            expires_at=self.clock() + self.lifetime,
            scopes=("openid",),
            obtained_at=self.clock(),
            user={"n": self.exchanges},
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    return TokenCache(tmp_path / "cache", lock_timeout=5)


def provider(okta: FakeOkta, cache: TokenCache | None) -> TokenProvider:
    return TokenProvider(exchange=okta.exchange, refresh=None, cache=cache, clock=okta.clock)


def frames(tb: TracebackType | None) -> list[dict[str, object]]:
    found = []
    while tb is not None:
        found.append(dict(tb.tb_frame.f_locals))
        tb = tb.tb_next
    return found


# ---- warnings as errors -------------------------------------------------------------------------


def test_under_w_error_a_corrupt_entry_is_replaced_before_the_warning_raises(
    cache: TokenCache, clock: Clock
) -> None:
    okta = FakeOkta(clock)
    cache.folder.mkdir(parents=True)
    # Truncated: the raw text (with a token in it) is what the old code held in load()'s frame.
    cache.entry_path(VARIANT).write_text(
        f'{{"format": 1, "tokens": {{"access_token": "{STORED_SECRET}'
    )
    tokens = provider(okta, cache)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TokenCacheWarning, match="not valid JSON") as caught:
            tokens.get(VARIANT)
        # The entry was replaced and the tokens remembered before the warning was raised.
        assert cache.load(VARIANT) is not None
        assert tokens.get(VARIANT).user == {"n": 1}
        # Another process (a later run) is served from the repaired entry, without a warning.
        assert provider(okta, cache).get(VARIANT).user == {"n": 1}
    assert okta.exchanges == 1
    for frame in frames(caught.tb):
        for value in frame.values():
            assert STORED_SECRET not in repr(value)
            assert not isinstance(value, bytes)


def test_under_w_error_a_short_lived_token_is_stored_before_the_warning_raises(
    cache: TokenCache, clock: Clock
) -> None:
    okta = FakeOkta(clock, lifetime=30)  # shorter than min_ttl (60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ShortLivedTokenWarning) as caught:
            provider(okta, cache).get(VARIANT)
        stored = cache.load(VARIANT)
        assert stored is not None
        assert stored.user == {"n": 1}
        # The next process is served from the cache (half its lifetime is left), no new sign-in.
        assert provider(okta, cache).get(VARIANT).user == {"n": 1}
    assert okta.exchanges == 1
    for frame in frames(caught.tb):
        for value in frame.values():
            assert "opaque-access" not in (value if isinstance(value, str) else "")


def test_warnings_still_show_with_the_default_filters(cache: TokenCache, clock: Clock) -> None:
    cache.folder.mkdir(parents=True)
    cache.entry_path(VARIANT).write_text("{")
    with pytest.warns(TokenCacheWarning, match="not valid JSON"):
        provider(FakeOkta(clock, lifetime=3600), cache).get(VARIANT)
    with pytest.warns(ShortLivedTokenWarning):
        provider(FakeOkta(clock, lifetime=30), None).get(VARIANT)


# ---- the token's own exp ------------------------------------------------------------------------


def test_jwt_expiry_reads_the_payload_only() -> None:
    assert jwt_expiry(jwt(START)) == START
    assert jwt_expiry(jwt(None)) is None
    for not_a_jwt in (None, "", "opaque", "a.b", "a.!!!.c", "a.b.c.d.e", f"a.{'e30'}.c"):
        assert jwt_expiry(not_a_jwt) is None
    assert jwt_expiry("x." + base64.urlsafe_b64encode(b'{"exp": true}').decode() + ".y") is None


def test_a_jwt_whose_exp_passed_is_not_served_whatever_the_stored_expiry(
    cache: TokenCache, clock: Clock
) -> None:
    okta = FakeOkta(clock, lifetime=3600, jwt_life=600)  # the entry says an hour, exp 10 minutes
    first = provider(okta, cache).get(VARIANT)
    assert first.valid_until == START + 600
    clock.now += 600 - 60  # exactly min_ttl left by exp: still served
    assert provider(okta, cache).get(VARIANT) == first
    clock.now += 1
    second = provider(okta, cache).get(VARIANT)
    assert second != first
    assert okta.exchanges == 2


def test_a_stored_expiry_earlier_than_exp_still_decides(cache: TokenCache, clock: Clock) -> None:
    okta = FakeOkta(clock, lifetime=600, jwt_life=3600)
    first = provider(okta, cache).get(VARIANT)
    clock.now += 600 - 59
    assert provider(okta, cache).get(VARIANT) != first


def test_an_edited_entry_outliving_the_emulators_token_is_not_served(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    # A real token whose entry claims a day more than its exp (an edited or stale entry).
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest())
    tokens = build_provider(settings, clock=okta.clock).get(variant)
    cache = TokenCache.inside(tmp_path / "cache")
    cache.store(
        variant, TokenSet.from_dict({**tokens.to_dict(), "expires_at": okta.clock() + 86400})
    )
    okta.clock.advance(3600)  # the access token's exp (an hour) has passed; the entry says not
    again = build_provider(settings, clock=okta.clock)
    assert again.get(variant).access_token != tokens.access_token
    assert again.stats.cache_hits == 0
    # Exchanged again, through the user's Okta session (it lives two hours): no new sign-in.
    assert (okta.count("authorize"), okta.count("authn")) == (2, 1)


# ---- a refused token: renewed once for every process --------------------------------------------


def test_a_refused_token_is_renewed_once_across_processes(cache: TokenCache, clock: Clock) -> None:
    okta = FakeOkta(clock)
    one, two = provider(okta, cache), provider(okta, cache)  # two workers sharing the cache
    revoked = one.get(VARIANT)
    assert two.get(VARIANT) == revoked
    assert okta.exchanges == 1

    renewed = one.renew_rejected(VARIANT, revoked)
    assert renewed is not None
    assert renewed.access_token != revoked.access_token
    # The second worker got the same 401 for the same token: it finds the entry changed.
    assert two.renew_rejected(VARIANT, revoked) == renewed
    assert okta.exchanges == 2
    assert two.stats.exchanges == 0
    assert (one.stats.rejected, two.stats.rejected) == (1, 1)
    assert two.get(VARIANT) == renewed


def test_a_refused_token_is_dropped_even_if_the_renewal_fails(
    cache: TokenCache, clock: Clock
) -> None:
    okta = FakeOkta(clock)
    tokens = provider(okta, cache)
    revoked = tokens.get(VARIANT)

    class Down(Exception):
        pass

    def refuse(variant: Variant) -> TokenSet:
        raise Down

    failing = TokenProvider(exchange=refuse, refresh=None, cache=cache, clock=clock)
    with pytest.raises(Down):
        failing.renew_rejected(VARIANT, revoked)
    assert cache.load(VARIANT) is None  # never served again


def test_memory_only_renewal_once_per_process(clock: Clock) -> None:
    okta = FakeOkta(clock)
    tokens = provider(okta, None)
    revoked = tokens.get(VARIANT)
    renewed = tokens.renew_rejected(VARIANT, revoked)
    assert renewed is not None
    assert tokens.renew_rejected(VARIANT, revoked) is renewed  # another thread's late 401
    assert tokens.get(VARIANT) is renewed
    assert okta.exchanges == 2


def test_a_token_refused_right_after_its_renewal_is_not_renewed_again(
    cache: TokenCache, clock: Clock
) -> None:
    okta = FakeOkta(clock)
    tokens = provider(okta, cache)
    renewed = tokens.renew_rejected(VARIANT, tokens.get(VARIANT))
    assert renewed is not None
    tokens.rejected_after_renewal(renewed)
    # The resource refuses fresh tokens too (another audience): signing in again cannot help.
    assert tokens.renew_rejected(VARIANT, renewed) is None
    assert okta.exchanges == 2
    assert tokens.stats.rejected_after_renewal == 1
