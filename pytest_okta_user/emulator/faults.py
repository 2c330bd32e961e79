"""Test controls over the HTTP layer: injected faults, and the log of answered requests.

Endpoint names (`ENDPOINTS`) are the routing table's (`app.py`): a fault or a count names one.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

ENDPOINTS = (
    "authn",
    "factor_verify",
    "change_password",
    "authn_cancel",
    "authorize",
    "token",
    "keys",
    "openid_configuration",
    "oauth_authorization_server",
    "okta_organization",
    "userinfo",
    "introspect",
    "revoke",
    "logout",
    "signin",
    "session_cookie_redirect",
    "sessions_me",
    "interact",
    "challenge",
    "idx",
    "unknown",
)


@dataclass
class Fault:
    endpoint: str
    status: int | None
    body: bytes | None
    headers: dict[str, str]
    delay: float
    remaining: int
    content_type: str


class Faults:
    """Injected misbehaviour: the next `times` requests to `endpoint` get a chosen answer.

    `status=None` with a `delay` only slows the request down and then answers it normally.
    `endpoint` is one of `ENDPOINTS` or "*" (any).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._clock = clock

    def add(
        self,
        endpoint: str,
        status: int | None = 503,
        body: str | bytes | Mapping[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
        content_type: str | None = None,
    ) -> Fault:
        """Queue a fault. A dict/list body is sent as JSON; a str starting with `<` as HTML.

        Without a body, a 429 gets Okta's E0000047 body and X-Rate-Limit-* headers (reset in 60 s
        on the emulator's clock); any other status an empty body.
        """
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")
        extra = dict(headers or {})
        if isinstance(body, (dict, list)):
            raw: bytes | None = json.dumps(body).encode()
            kind = content_type or "application/json"
        elif isinstance(body, str):
            raw = body.encode()
            kind = content_type or (
                "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain"
            )
        elif isinstance(body, bytes):
            raw = body
            kind = content_type or "application/octet-stream"
        else:
            raw = None
            kind = content_type or "application/json"
        if status == 429 and raw is None:
            raw = json.dumps(ApiError("E0000047").body()).encode()
            reset = str(int(self._clock()) + 60)
            extra = {
                "X-Rate-Limit-Limit": "600",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": reset,
                **extra,
            }
        fault = Fault(endpoint, status, raw, extra, float(delay), int(times), kind)
        with self._lock:
            self._faults.append(fault)
        return fault

    def rate_limited(self, endpoint: str, times: int = 1, *, reset_header: bool = True) -> Fault:
        """Okta's 429 E0000047 with X-Rate-Limit-* headers.

        `reset_header=False` leaves X-Rate-Limit-Reset out, as a proxy that drops headers or
        answers 429 itself does: the client then cannot know when the window resets.
        """
        if reset_header:
            return self.add(endpoint, status=429, times=times)
        return self.add(
            endpoint,
            status=429,
            body=ApiError("E0000047").body(),
            headers={"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0"},
            times=times,
        )

    def proxy_error(self, endpoint: str, status: int = 502, times: int = 1) -> Fault:
        """An HTML error page from a proxy in front of Okta (not Okta-shaped at all)."""
        page = (
            f"<html><head><title>{status} Bad Gateway</title></head><body>"
            f"<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
            "</body></html>"
        )
        return self.add(endpoint, status=status, body=page, times=times)

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "*") and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class RequestRecord:
    """One answered request. Never the query string or body: they carry codes and secrets."""

    method: str
    path: str
    endpoint: str
    status: int
    at: float = field(default=0.0, compare=False)


class RequestLog:
    """The answered requests, shared by the server's threads: the last KEPT of them in order, and
    exact counts of all of them per endpoint (a long run keeps its counts, not every record)."""

    KEPT = 5000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=self.KEPT)
        self._counts: Counter[str] = Counter()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._counts[record.endpoint] += 1

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(self, endpoint: str) -> int:
        with self._lock:
            return self._counts[endpoint]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()
