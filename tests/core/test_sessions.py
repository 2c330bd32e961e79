"""The users' Okta sessions and sign-in rules (sessions.SessionStore): one sign-in per user for
every variant and process, refusals replayed per user, TOTP steps never reused; and the same
against the emulator over HTTP, through the provider."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pytest_okta_user.cache import TokenCache
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.errors import AuthenticationError, ConfigurationError, MissingSettingsError
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.provider import build_provider
from pytest_okta_user.sessions import OktaSession, SessionCookie, SessionStore, UserKey
from pytest_okta_user.settings import resolve

USER = UserKey("https://example.okta.com", "Admin@Example.com")


class Clock:
    def __init__(self, now: float = 1_000_000_005.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def a_session(value: str = "sid-value-0123456789") -> OktaSession:
    cookie = SessionCookie("sid", value, "example.okta.com", secure=True, same_site="None")
    return OktaSession(USER, (cookie,), 1_000_000_000.0, {"id": "00u1", "profile": {}})


def store(
    cache: TokenCache | None, clock: Clock, *, run_id: str = "run-1"
) -> tuple[SessionStore, list[str]]:
    said: list[str] = []
    # What the suite calls the user: the waits say "admin", not the login.
    names = {"admin@example.com": "admin"}
    sessions = SessionStore(
        cache, run_id=run_id, clock=clock, sleep=clock.sleep, notify=said.append, names=names
    )
    return sessions, said


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    return TokenCache(tmp_path / "cache")


def test_a_totp_step_is_never_used_twice_and_the_wait_is_said(cache: TokenCache) -> None:
    clock = Clock()
    sessions, said = store(cache, clock)
    with sessions.signing_in(USER, None):
        first = sessions.totp_step(USER, USER.login)
    assert first == int(clock.now // 30)
    assert clock.slept == []
    with sessions.signing_in(USER, None):
        second = sessions.totp_step(USER, USER.login)
    assert second == first + 1
    # 1_000_000_005 is 15 s into its 30 s step: 15 s to the next one.
    assert clock.slept == [15.0]
    assert said == ["okta: waiting 15 s for the next TOTP code of admin"]


def test_another_process_sees_the_step_a_sign_in_used(cache: TokenCache) -> None:
    clock = Clock()
    one, _ = store(cache, clock)
    with one.signing_in(USER, None):
        used = one.totp_step(USER, "admin")
    other, said = store(cache, clock)
    with other.signing_in(USER, None):
        assert other.totp_step(USER, "admin") == used + 1
    assert len(said) == 1
    # A later step needs no wait.
    clock.now += 30
    third, said = store(cache, clock)
    with third.signing_in(USER, None):
        assert third.totp_step(USER, "admin") == used + 2
    assert said == []


def test_a_session_stored_by_another_process_is_used_instead_of_signing_in(
    cache: TokenCache,
) -> None:
    clock = Clock()
    one, _ = store(cache, clock)
    with one.signing_in(USER, None) as newer:
        assert newer is None  # nothing stored yet: sign in
        one.started(a_session())
    other, _ = store(cache, clock)
    known = other.current(USER)
    assert known is not None
    assert known.cookie_header() == {"sid": "sid-value-0123456789"}
    # Okta refused that session (login_required): the store offers nothing newer than it ...
    with other.signing_in(USER, known) as newer:
        assert newer is None
        other.started(a_session("sid-value-second-session"))
    # ... while a process still holding the first one is offered the second.
    with one.signing_in(USER, a_session()) as newer:
        assert newer is not None
        assert newer.cookie_header() == {"sid": "sid-value-second-session"}
    assert (one.sign_ins, other.sign_ins) == (1, 1)


def test_a_refused_sign_in_is_replayed_to_the_users_variants_in_every_process_of_the_run(
    cache: TokenCache,
) -> None:
    clock = Clock()
    one, _ = store(cache, clock)
    refusal = AuthenticationError("Okta refused the sign-in of user admin.", "fix the password")
    with one.signing_in(USER, None):
        one.refused(USER, refusal)
    with pytest.raises(AuthenticationError, match="refused the sign-in"):
        one.raise_if_refused(USER)
    other, _ = store(cache, clock)
    with (
        pytest.raises(AuthenticationError, match="refused the sign-in"),
        other.signing_in(USER, None),
    ):
        pytest.fail("the refused user was signed in again")
    # Another run asks again; a refusal that is not the user's is not recorded for the user.
    later, _ = store(cache, clock, run_id="run-2")
    with later.signing_in(USER, None) as newer:
        assert newer is None
        later.refused(USER, ConfigurationError("no redirect URI", "set it"))
    later.raise_if_refused(USER)


def test_the_users_record_is_private_keyed_without_the_login_and_cleared(
    cache: TokenCache, tmp_path: Path
) -> None:
    clock = Clock()
    sessions, _ = store(cache, clock)
    with sessions.signing_in(USER, None):
        sessions.started(a_session())
    records = list(cache.folder.glob("*.user"))
    assert len(records) == 1
    assert stat.S_IMODE(os.stat(records[0]).st_mode) == 0o600
    assert "admin" not in records[0].name.lower()
    # Logins are case-insensitive; an emulator instance is another org.
    assert UserKey(USER.org_url, "admin@example.com").key == USER.key
    assert UserKey(USER.org_url, USER.login, "instance-2").key != USER.key
    assert "sid-value" not in repr(a_session())
    cache.clear()
    assert not list(cache.folder.glob("*.user"))
    assert store(cache, clock)[0].current(USER) is None


def test_an_old_users_record_is_pruned(cache: TokenCache) -> None:
    clock = Clock()
    sessions, _ = store(cache, clock)
    with sessions.signing_in(USER, None):
        sessions.started(a_session())
    assert cache.prune(clock.now + 3600) == 0
    assert cache.prune(clock.now + 3 * 86400) == 1
    assert not list(cache.folder.glob("*.user"))


# ---- against the emulator, through the provider -------------------------------------------------


def test_variants_of_a_user_share_one_sign_in_until_okta_ends_the_session(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    variants = [
        build_variant(settings, OktaRequest(user="admin", flow=flow, scopes=scopes))
        for flow in ("code", "pkce", "implicit")
        for scopes in (("openid", "email"), ("openid", "profile"))
    ]
    first = build_provider(settings, clock=okta.clock)
    for variant in variants:
        assert first.get(variant).user["profile"]["login"] == "admin@example.com"
    assert (okta.count("authn"), okta.count("factor_verify"), okta.count("authorize")) == (1, 1, 6)
    assert first.sessions is not None
    assert (first.sessions.sign_ins, first.sessions.sessions_reused) == (1, 5)

    # A new process: its tokens expire, the session has ended (two hours on Okta's clock).
    okta.clock.advance(7200 + 60)
    second = build_provider(settings, clock=okta.clock)
    for variant in variants:
        second.get(variant)
    # One /authorize answered login_required, then one sign-in, then the other five on it.
    assert (okta.count("authn"), okta.count("factor_verify"), okta.count("authorize")) == (2, 2, 13)
    assert second.sessions is not None
    assert second.sessions.sign_ins == 1


def test_without_session_reuse_each_variant_signs_in(okta: OktaEmulator, tmp_path: Path) -> None:
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    provider = build_provider(settings, clock=okta.clock, share_sessions=False)
    for flow in ("code", "pkce"):
        provider.get(build_variant(settings, OktaRequest(flow=flow)))
    assert okta.count("authn") == 2


def test_a_browser_session_is_the_users_session_and_checked_when_another_run_stored_it(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest())
    provider = build_provider(settings, clock=okta.clock, run_id="run-1")
    provider.get(variant)  # the sign-in's /authorize started the session
    session = provider.okta_session(variant)
    assert [c.name for c in session.cookies] == ["sid"]
    assert okta.count("session_cookie_redirect") == 0
    assert okta.count("authn") == 1

    # Another run: the stored session is asked about (alive), not signed in again.
    later = build_provider(settings, clock=okta.clock, run_id="run-2")
    assert later.okta_session(variant).cookie_header() == session.cookie_header()
    assert okta.count("sessions_me") == 1
    assert okta.count("authn") == 1

    # Once Okta has ended it, a new one from a fresh sessionToken.
    okta.clock.advance(7200 + 60)
    third = build_provider(settings, clock=okta.clock, run_id="run-3")
    renewed = third.okta_session(variant)
    assert renewed.cookie_header() != session.cookie_header()
    assert okta.count("authn") == 2
    assert okta.count("session_cookie_redirect") == 1


def test_no_password_is_needed_while_the_users_session_serves(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    # A run with the password leaves the user's Okta session in the cache; a later one without it
    # (a fork's pull request, a shell without OKTA_PASSWORD) gets new variants through the session.
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    build_provider(settings, clock=okta.clock).get(build_variant(settings, OktaRequest()))
    without = {k: v for k, v in env.items() if k != "OKTA_PASSWORD"}
    bare = resolve({}, without, {}, cwd=tmp_path)
    later = build_provider(bare, clock=okta.clock)
    for flow in ("code", "implicit"):
        tokens = later.get(build_variant(bare, OktaRequest(flow=flow)))
        assert tokens.user["profile"]["login"] == DEMO.user_login
    assert okta.count("authn") == 1

    # Once Okta has ended the session, the sign-in it takes asks for the password, naming it.
    okta.clock.advance(7200 + 60)
    third = build_provider(bare, clock=okta.clock)
    with pytest.raises(MissingSettingsError, match="OKTA_PASSWORD"):
        third.get(build_variant(bare, OktaRequest(flow="pkce", scopes=("openid", "email"))))
    assert okta.count("authn") == 1
    # A flow no session answers asks for it at once.
    with pytest.raises(MissingSettingsError, match="OKTA_PASSWORD"):
        later.get(build_variant(bare, OktaRequest(flow="password")))
