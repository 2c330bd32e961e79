"""A 429 that does not say when its window resets (issue 14, point 10), against the emulator.

Okta sends X-Rate-Limit-Reset with every 429 (https://developer.okta.com/docs/reference/rate-limits/);
a proxy that answers 429 itself, or drops headers, does not. The client then backs off by doubling,
and its error says that the reset time is unknown instead of presenting the back-off as the window.
"""

from __future__ import annotations

import pytest
import requests
from support.core_helpers import SCOPES, SPA_CREDS, WaitingClock, run, spa

from pytest_okta_user import errors as e
from pytest_okta_user.client import HttpOptions
from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.flows import refresh

UNKNOWN = "the reset time is unknown (the answer has no X-Rate-Limit-Reset or Retry-After header)"


def test_the_fault_leaves_out_the_reset_header(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("keys", reset_header=False)
    answer = requests.get(f"{okta.issuer}/v1/keys")
    assert answer.status_code == 429
    assert answer.json()["errorCode"] == "E0000047"
    assert answer.headers["X-Rate-Limit-Remaining"] == "0"
    assert "X-Rate-Limit-Reset" not in answer.headers


def test_backing_off_past_the_budget_says_the_reset_is_unknown(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authn", times=10, reset_header=False)
    sleep = WaitingClock(okta)
    with pytest.raises(e.RateLimited) as info:
        run(okta, spa(okta), SPA_CREDS, sleep=sleep)
    # Doubling back-off (1, 2, 4, 8 s); the next 16 s would pass the default 30 s budget.
    assert sleep.waits == [1.0, 2.0, 4.0, 8.0]
    message = str(info.value)
    assert message.startswith(f"Okta's rate limit at /api/v1/authn (HTTP 429, E0000047): {UNKNOWN}")
    assert "still limited after 15 s of retries, within the 30 s we wait." in message
    assert "resets in" not in message  # before the fix: "the window resets in 16 s", a guess
    assert info.value.status == 429


def test_a_one_time_credential_is_not_resent_and_the_reset_is_unknown(okta: OktaEmulator) -> None:
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    tokens = run(okta, variant, SPA_CREDS)
    okta.faults.rate_limited("token", reset_header=False)
    before = okta.count("token")
    with pytest.raises(e.RateLimitRestart) as info:
        refresh(
            variant,
            tokens,
            SPA_CREDS,
            clock=okta.clock,
            sleep=WaitingClock(okta),
            http=HttpOptions(max_rate_limit_wait=120),
        )
    assert okta.count("token") == before + 1
    message = str(info.value)
    assert f"(HTTP 429, E0000047): {UNKNOWN}; the request carried a one-time" in message
    assert "resets in" not in message
    assert info.value.wait == 1.0  # the back-off the caller waits before starting over


def test_a_known_reset_is_still_reported(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authn")
    with pytest.raises(e.RateLimited) as info:
        run(okta, spa(okta), SPA_CREDS, sleep=WaitingClock(okta))
    assert "the window resets in 60 s, beyond the 30 s we wait." in str(info.value)
