"""Okta's rate limits: the per-user limit that refuses requests, and the org-wide per-minute buckets
that only show in the X-Rate-Limit-* headers.

Sources: https://developer.okta.com/docs/reference/rl-global-enduser/ (per user: 4 requests per
second on /api/v1/authn and on /token) and https://developer.okta.com/docs/reference/rate-limits/
(the headers; the per-minute numbers are the Workforce column of the org-wide table).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol

# Org-wide per-minute buckets (Okta's Workforce column), reported in X-Rate-Limit-* headers.
MINUTE_LIMITS = {"authn": 500, "factor_verify": 500, "authorize": 2000, "token": 2000}
DEFAULT_MINUTE_LIMIT = 600
# The JWKS and both .well-known documents (org and custom servers) are not rate limited:
# https://developer.okta.com/docs/reference/rl2-limits/
NOT_RATE_LIMITED = frozenset({"keys", "openid_configuration", "oauth_authorization_server"})


class _Clock(Protocol):
    def now(self) -> float: ...


class RateLimiter:
    """Okta's per-user limit: `limit` requests per user per `window` seconds, on the org clock."""

    def __init__(self, clock: _Clock, limit: int = 4, window: float = 1.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, bucket: str, user: str) -> tuple[bool, float]:
        """Count one request; return (allowed, epoch second at which the window resets)."""
        now = self.clock.now()
        key = (bucket, user.lower())
        # Also forget hits "in the future": a test may set the clock back.
        hits = deque(t for t in self._hits.get(key, ()) if now - self.window < t <= now)
        self._hits[key] = hits
        if len(hits) >= self.limit:
            return False, hits[0] + self.window
        hits.append(now)
        return True, hits[0] + self.window

    def clear(self) -> None:
        self._hits.clear()


def user_limit_headers(limit: int, reset: float) -> dict[str, str]:
    """The headers of a per-user 429: the reset rounded up to the next whole second."""
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(int(reset) + (0 if reset == int(reset) else 1)),
    }


class MinuteBuckets:
    """The org-wide per-minute counters behind the X-Rate-Limit-* headers of every answer.

    They never refuse a request (a test injects a 429 with `faults.rate_limited`); they only make
    the headers count down as Okta's do.
    """

    def __init__(self, clock: _Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def headers(self, endpoint: str) -> dict[str, str]:
        """Count one answer of `endpoint`; its headers (none where Okta never limits)."""
        if endpoint in NOT_RATE_LIMITED:
            return {}
        now = self._clock.now()
        limit = MINUTE_LIMITS.get(endpoint, DEFAULT_MINUTE_LIMIT)
        with self._lock:
            start, used = self._windows.get(endpoint, (now, 0))
            if now - start >= 60 or now < start:
                start, used = now, 0
            used += 1
            self._windows[endpoint] = (start, used)
        return {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(max(0, limit - used)),
            "X-Rate-Limit-Reset": str(int(start + 60)),
        }

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
