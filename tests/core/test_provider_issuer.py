"""The provider without secrets and with a changed issuer (issue 10, points 2 and 7): a cached
token is served without the password or client secret, which only a sign-in asks for; a cached
token whose signing key its issuer no longer publishes is not served, at the cost of one JWKS
request per issuer per run (shared through the cache), none for tokens this run signed in for."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from pytest_okta_user import options
from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.errors import MissingSettingsError, RequestTimeout
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.provider import TokenProvider, build_provider, serves_from_cache
from pytest_okta_user.sessions import SESSION_TRUSTED_FOR, OktaSession, SessionCookie, UserKey
from pytest_okta_user.settings import resolve
from pytest_okta_user.tokens import TokenSet, Variant

ISSUER = "https://example.okta.com/oauth2/default"
VARIANT = Variant(ISSUER, "0oa-client", "alice@example.com", "code", ("openid",), "http://x/cb")
NOW = 1_800_000_000.0


def _jwt(kid: str, serial: int) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': kid})}.{part({'n': serial})}.c2ln"


class Issuer:
    """Signs with ``kid`` and publishes ``published``; counts sign-ins and JWKS requests."""

    def __init__(self) -> None:
        self.kid = "key-1"
        self.published = {"key-1"}
        self.signed_in = 0
        self.jwks_requests = 0
        self.down = False

    def exchange(self, variant: Variant) -> TokenSet:
        self.signed_in += 1
        return TokenSet(
            _jwt(self.kid, self.signed_in), "Bearer", NOW + 3600, ("openid",), obtained_at=NOW
        )

    def keys(self, variant: Variant) -> Iterable[str]:
        self.jwks_requests += 1
        if self.down:
            raise RequestTimeout("no answer from /keys")
        return set(self.published)


def _provider(issuer: Issuer, cache: TokenCache, run_id: str) -> TokenProvider:
    return TokenProvider(
        exchange=issuer.exchange,
        refresh=None,
        cache=cache,
        clock=lambda: NOW,
        run_id=run_id,
        published_keys=issuer.keys,
    )


def test_a_token_signed_with_a_withdrawn_key_is_not_served(tmp_path: Path) -> None:
    issuer, cache = Issuer(), TokenCache(tmp_path)
    first = _provider(issuer, cache, "run-1").get(VARIANT)
    # The issuer restarted with another key (or rotated its key away).
    issuer.kid, issuer.published = "key-2", {"key-2"}
    provider = _provider(issuer, cache, "run-2")
    second = provider.get(VARIANT)
    assert second.access_token != first.access_token
    assert (issuer.signed_in, issuer.jwks_requests) == (2, 1)
    assert provider.stats.withdrawn_keys == 1
    # The new token was stored by this run: served without another JWKS request.
    assert _provider(issuer, cache, "run-2").get(VARIANT).access_token == second.access_token
    assert issuer.jwks_requests == 1


def test_one_jwks_request_per_issuer_per_run_for_every_process(tmp_path: Path) -> None:
    issuer, cache = Issuer(), TokenCache(tmp_path)
    _provider(issuer, cache, "run-1").get(VARIANT)
    other = Variant(ISSUER, "0oa-client", "bob@example.com", "code", ("openid",), "http://x/cb")
    _provider(issuer, cache, "run-1").get(other)
    assert issuer.jwks_requests == 0  # signed in this run: nothing to check
    # The next run's "workers": separate providers over the same cache, each reading both entries.
    workers = [_provider(issuer, cache, "run-2") for _ in range(3)]
    for worker in workers:
        worker.get(VARIANT)
        worker.get(other)
    assert issuer.jwks_requests == 1
    assert issuer.signed_in == 2
    assert sum(w.stats.cache_hits for w in workers) == 6


def test_an_issuer_that_cannot_be_asked_gets_the_benefit_of_the_doubt(tmp_path: Path) -> None:
    issuer, cache = Issuer(), TokenCache(tmp_path)
    token = _provider(issuer, cache, "run-1").get(VARIANT)
    issuer.down = True
    assert _provider(issuer, cache, "run-2").get(VARIANT) == token
    assert issuer.signed_in == 1


def test_the_key_record_is_removed_by_clear(tmp_path: Path) -> None:
    issuer, cache = Issuer(), TokenCache(tmp_path)
    _provider(issuer, cache, "run-1").get(VARIANT)
    _provider(issuer, cache, "run-2").get(VARIANT)
    assert cache.keys_path(ISSUER).exists()
    cache.clear()
    assert not any(tmp_path.iterdir())


# ---- secrets only for a sign-in, against the emulator -------------------------------------------


def test_a_cached_token_needs_no_secrets_and_a_sign_in_names_them(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = {**okta.env(), "OKTA_FLOW": "code"}
    settings = resolve({}, {**env, "OKTA_TOKEN_CACHE_DIR": str(tmp_path)}, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest())
    assert not serves_from_cache(settings)
    tokens = build_provider(settings, run_id="run-1").get(variant)

    bare = resolve(
        {},
        {
            **env,
            "OKTA_PASSWORD": "",
            "OKTA_CLIENT_SECRET": "",
            "OKTA_TOKEN_CACHE_DIR": str(tmp_path),
        },
        {},
        cwd=tmp_path,
    )
    assert bare[options.PASSWORD].value is None
    assert serves_from_cache(bare)
    # Built without the secrets: they are no part of the cache key.
    assert build_variant(bare, OktaRequest()) == variant
    provider = build_provider(bare, run_id="run-2")
    assert provider.get(variant).access_token == tokens.access_token
    assert okta.count("authn") == 1
    assert okta.count("keys") >= 1  # the check of the cached token's key

    new_variant = build_variant(bare, OktaRequest(scopes=("openid", "email")))
    with pytest.raises(MissingSettingsError) as info:
        provider.get(new_variant)
    # The user's Okta session serves the new variant: only the client secret (for /token).
    assert "OKTA_CLIENT_SECRET" in str(info.value)
    assert "OKTA_PASSWORD" not in str(info.value)
    # Without the session (cleared), the sign-in needs both, and says the password was empty.
    TokenCache.inside(tmp_path).clear()
    with pytest.raises(MissingSettingsError) as info:
        build_provider(bare, run_id="run-3").get(new_variant)
    message = str(info.value)
    assert "OKTA_PASSWORD (environment only; OKTA_PASSWORD is set but empty" in message
    assert "OKTA_CLIENT_SECRET" in message
    assert okta.count("authn") == 1


@pytest.mark.parametrize(
    ("flow", "started_ago", "serves"),
    [
        ("pkce", 60.0, True),
        ("code", SESSION_TRUSTED_FOR - 60, True),
        ("pkce", SESSION_TRUSTED_FOR + 60, False),  # Okta may have ended it: ask
        ("password", 60.0, False),  # a session answers no password grant
    ],
)
def test_a_stored_okta_session_of_the_user_serves_without_the_password(
    tmp_path: Path, flow: str, started_ago: float, serves: bool
) -> None:
    now = 1_900_000_000.0
    env = {
        "OKTA_DOMAIN": "https://dev-1.okta.com",
        "OKTA_CLIENT_ID": "0oaweb",
        "OKTA_CLIENT_SECRET": "web-secret-value",
        "OKTA_REDIRECT_URI": "http://localhost:8080/callback",
        "OKTA_USERNAME": "tester@example.com",
        "OKTA_FLOW": flow,
        "OKTA_TOKEN_CACHE_DIR": str(tmp_path),
    }
    settings = resolve({}, env, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest())
    assert variant.user is not None
    assert not serves_from_cache(settings, clock=lambda: now)  # nothing stored yet

    user = UserKey(variant.org_url, variant.user, variant.instance)
    cookie = SessionCookie("sid", "102-a-stored-session-cookie", "dev-1.okta.com")
    session = OktaSession(user, (cookie,), started_at=now - started_ago)
    TokenCache.inside(tmp_path).store_user(user, session, -1, now=now)

    assert serves_from_cache(settings, clock=lambda: now) is serves
