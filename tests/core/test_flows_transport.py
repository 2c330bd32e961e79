"""The transport under flows.exchange / flows.refresh against the emulator: rate limits (429) and
restarts with fresh one-time credentials, 5xx, pages that are not JSON, timeouts.

Expectations come from Okta's documented behaviour, never from the emulator's code.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from support.core_helpers import (
    MFA_LOGIN,
    MFA_PASSWORD,
    SCOPES,
    SPA_CREDS,
    WEB_CREDS,
    Recorder,
    WaitingClock,
    check_user_tokens,
    mfa_user,
    run,
    sent_values,
    spa,
    web,
)

from pytest_okta_user import errors as e
from pytest_okta_user import options
from pytest_okta_user.client import HttpOptions
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.flows import refresh
from pytest_okta_user.redact import Credentials

# --- transport through the flows ------------------------------------------------------------------


def test_rate_limit_waits_then_succeeds(okta: OktaEmulator) -> None:
    okta.clock.freeze(at=float(int(okta.clock())))  # whole seconds, as Okta's reset
    okta.faults.rate_limited("authn")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    run(okta, spa(okta), SPA_CREDS, sleep=sleep, http=HttpOptions(max_rate_limit_wait=120))
    assert waits == [60.0]
    assert okta.count("authn") == 2


def test_rate_limit_beyond_the_wait_budget(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authn")
    waits: list[float] = []
    with pytest.raises(e.RateLimited) as info:
        run(okta, spa(okta), SPA_CREDS, sleep=waits.append)
    assert waits == []
    assert "60 s" in str(info.value) or "resets in" in str(info.value)
    assert info.value.status == 429


def test_rate_limit_waits_add_up_to_the_budget(okta: OktaEmulator) -> None:
    okta.clock.freeze(at=float(int(okta.clock())))  # whole seconds, as Okta's reset
    okta.faults.rate_limited("authn", times=2)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    # Both faults announce the same reset: 60 s, then at least 1 s more, beyond the 60.5 s budget.
    with pytest.raises(e.RateLimited):
        run(okta, spa(okta), SPA_CREDS, sleep=sleep, http=HttpOptions(max_rate_limit_wait=60.5))
    assert waits == [60.0]
    assert okta.count("authn") == 2


def test_rate_limit_without_reset_header_backs_off(okta: OktaEmulator) -> None:
    okta.faults.add("token", status=429, body={"error": "invalid_grant"}, times=2)
    waits: list[float] = []
    tokens = run(okta, spa(okta), SPA_CREDS, sleep=waits.append)
    assert tokens.access_token
    assert waits == [1.0, 2.0]
    assert okta.count("token") == 3


@pytest.mark.parametrize("flow", ["pkce", "implicit"])
def test_rate_limit_at_authorize_starts_over_with_a_fresh_session_token(
    okta: OktaEmulator, flow: str
) -> None:
    okta.faults.rate_limited("authorize")
    sleep = WaitingClock(okta)
    session = Recorder()
    variant = spa(okta) if flow == "pkce" else web(okta, flow)
    creds = SPA_CREDS if flow == "pkce" else WEB_CREDS
    tokens = run(
        okta, variant, creds, sleep=sleep, session=session, http=HttpOptions(max_rate_limit_wait=60)
    )
    assert tokens.access_token
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("authorize")) == (2, 2)
    session_tokens = sent_values(session, "/authorize", "sessionToken")
    assert len(session_tokens) == len(set(session_tokens)) == 2


def test_rate_limit_at_token_starts_over_with_a_fresh_code(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("token")
    sleep = WaitingClock(okta)
    session = Recorder()
    tokens = run(
        okta,
        web(okta),
        WEB_CREDS,
        sleep=sleep,
        session=session,
        http=HttpOptions(max_rate_limit_wait=60),
    )
    check_user_tokens(okta, tokens, web(okta))
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("authorize"), okta.count("token")) == (2, 2, 2)
    codes = sent_values(session, "/token", "code")
    assert len(codes) == len(set(codes)) == 2
    session_tokens = sent_values(session, "/authorize", "sessionToken")
    assert len(session_tokens) == len(set(session_tokens)) == 2


def test_rate_limit_at_factor_verify_starts_over(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    okta.faults.rate_limited("factor_verify")
    sleep = WaitingClock(okta)
    session = Recorder()
    tokens = run(
        okta,
        spa(okta, user=MFA_LOGIN),
        Credentials(password=MFA_PASSWORD, totp_secret=secret),
        sleep=sleep,
        session=session,
        http=HttpOptions(max_rate_limit_wait=60),
    )
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("factor_verify")) == (2, 2)
    state_tokens = [
        json.loads(request.body or b"{}")["stateToken"]
        for request, _ in session.sent
        if urlsplit(request.url or "").path.endswith("/verify")
    ]
    assert len(state_tokens) == len(set(state_tokens)) == 2


def test_rate_limit_restarts_share_one_budget(okta: OktaEmulator) -> None:
    sleep = WaitingClock(okta)
    # Two 429s announcing the same reset: 60 s, then at least 1 s more, beyond the 60.5 s budget.
    okta.faults.rate_limited("token", times=2)
    session = Recorder()
    with pytest.raises(e.RateLimited) as info:
        run(
            okta,
            web(okta),
            WEB_CREDS,
            sleep=sleep,
            session=session,
            http=HttpOptions(max_rate_limit_wait=60.5),
        )
    assert sleep.waits == [60.0]
    assert okta.count("token") == 2
    codes = sent_values(session, "/token", "code")
    assert len(set(codes)) == 2
    assert str(info.value).startswith(
        "Okta's rate limit at /token (HTTP 429, E0000047): the window resets in 1 s,"
        " beyond the 60.5 s we wait."
    )
    assert f"raise {options.RATE_LIMIT_WAIT.describe()}" in str(info.value)


def test_rate_limit_at_authorize_beyond_the_budget_sends_nothing_again(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authorize")
    sleep = WaitingClock(okta)
    with pytest.raises(e.RateLimited, match="beyond the 30 s we wait"):
        run(okta, spa(okta), SPA_CREDS, sleep=sleep)
    assert sleep.waits == []
    assert (okta.count("authn"), okta.count("authorize")) == (1, 1)


def test_rate_limit_on_refresh_does_not_send_the_refresh_token_again(okta: OktaEmulator) -> None:
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    tokens = run(okta, variant, SPA_CREDS)
    okta.faults.rate_limited("token")
    sleep = WaitingClock(okta)
    before = okta.count("token")
    with pytest.raises(e.RateLimited, match="not sent again") as info:
        refresh(
            variant,
            tokens,
            SPA_CREDS,
            clock=okta.clock,
            sleep=sleep,
            http=HttpOptions(max_rate_limit_wait=120),
        )
    assert info.value.status == 429
    assert sleep.waits == []
    assert okta.count("token") - before == 1


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        ({"X-Rate-Limit-Reset": "nan"}, [1.0]),
        ({"X-Rate-Limit-Reset": "inf"}, [1.0]),
        ({"X-Rate-Limit-Reset": "nan", "Retry-After": "7"}, [7.0]),
        ({"X-Rate-Limit-Reset": "-inf", "Retry-After": "nan"}, [1.0]),
    ],
)
def test_rate_limit_reset_that_is_not_a_finite_number(
    okta: OktaEmulator, headers: dict[str, str], waits: list[float]
) -> None:
    # Falls back to Retry-After, then to the backoff, instead of failing on float("nan").
    okta.faults.add("authn", status=429, headers=headers)
    sleep = WaitingClock(okta)
    tokens = run(okta, spa(okta), SPA_CREDS, sleep=sleep)
    assert tokens.access_token
    assert sleep.waits == waits
    assert okta.count("authn") == 2


def test_proxy_page_instead_of_json(okta: OktaEmulator) -> None:
    okta.faults.proxy_error("token")
    with pytest.raises(e.UnexpectedResponse) as info:
        run(okta, spa(okta), SPA_CREDS)
    assert "502" in str(info.value)
    # The authorization code was sent once: never retried after a 5xx.
    assert okta.count("token") == 1


def test_html_instead_of_json_on_authn(okta: OktaEmulator) -> None:
    okta.faults.add("authn", status=200, body="<html><body>Sign in to the proxy</body></html>")
    with pytest.raises(e.UnexpectedResponse, match="instead of JSON"):
        run(okta, spa(okta), SPA_CREDS)


def test_keys_are_retried_after_5xx(okta: OktaEmulator) -> None:
    okta.faults.add("keys", status=503, times=2)
    sleeps: list[float] = []
    run(okta, spa(okta), SPA_CREDS, sleep=sleeps.append)
    assert okta.count("keys") == 3
    assert sleeps == [0.5, 1.0]


def test_5xx_at_authorize_is_not_retried(okta: OktaEmulator) -> None:
    # The sessionToken may have been consumed: sending it again could only fail more obscurely.
    okta.faults.add("authorize", status=503)
    sleeps: list[float] = []
    with pytest.raises(e.UnexpectedResponse, match="503"):
        run(okta, spa(okta), SPA_CREDS, sleep=sleeps.append)
    assert okta.count("authorize") == 1
    assert sleeps == []


def test_timeout(okta: OktaEmulator) -> None:
    okta.faults.add("authn", status=None, delay=0.5)
    session = Recorder()
    with pytest.raises(e.RequestTimeout) as info:
        run(okta, spa(okta), SPA_CREDS, http=HttpOptions(timeout=0.05), session=session)
    assert "0.05 s" in str(info.value)
    assert session.attempts == ["/api/v1/authn"]  # a password once sent is not sent again
