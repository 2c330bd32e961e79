"""A request that got no HTTP answer, or a 429, becomes the error (from ``errors``) with its fix.

The transport and rate-limit half of ``diagnosis`` (which maps what Okta answered): ``client`` calls
these. The same rules hold: fixes name settings by all their names (``diagnosis``'s constants,
from the settings table), and messages never carry secrets or a URL (a request URL can carry a
sessionToken).
"""

from __future__ import annotations

import re

import requests
import urllib3.exceptions as u3

from .diagnosis import DOMAIN, RATE_LIMIT_WAIT, TIMEOUT
from .errors import (
    ConnectionFailed,
    OktaUserError,
    RateLimited,
    RateLimitRestart,
    RequestTimeout,
    TlsError,
)

# --- requests that got no answer (TLS, timeout, DNS, refused, reset) ------------------------------

_SSL_REASON = re.compile(r"\[SSL: ?([A-Z_]+)\] ?([^'\")(]*)")


def transport_error(
    exc: requests.RequestException, host: str, path: str, timeout: float
) -> OktaUserError:
    """The error for a request that got no HTTP answer (TLS, timeout, DNS, refused, reset)."""
    # str(exc) can hold the full URL (with a sessionToken): only fixed texts and the host go out.
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        match = _SSL_REASON.search(text)
        reason = f" ({match.group(1)}: {match.group(2).strip()})" if match else ""
        return TlsError(
            f"TLS with {host} failed{reason}.",
            "if a proxy intercepts TLS (or for the emulator with TLS), trust its CA file:"
            " set REQUESTS_CA_BUNDLE to it (calling the flows from a script:"
            " HttpOptions.ca_bundle); an expired certificate can mean a wrong clock.",
        )
    if isinstance(exc, requests.Timeout):
        return RequestTimeout(
            f"No answer from {host} for {path} within {timeout:g} s.",
            f"check the network, the proxy (HTTPS_PROXY / NO_PROXY) and {DOMAIN}; if Okta or the"
            f" proxy is only slow, raise {TIMEOUT} (calling the flows from a script:"
            " HttpOptions.timeout).",
        )
    if isinstance(exc, requests.ConnectionError):
        cause = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(cause, u3.NameResolutionError) or "Name or service not known" in text:
            what = f"The host name {host} could not be resolved (DNS)."
        elif isinstance(cause, u3.NewConnectionError):
            what = f"Could not connect to {host} (connection refused or unreachable)."
        else:
            what = f"The connection to {host} broke during {path}."
        return ConnectionFailed(
            what, f"check {DOMAIN}, the network and the proxy (HTTPS_PROXY / NO_PROXY)."
        )
    return ConnectionFailed(
        f"The request to {host} for {path} failed ({type(exc).__name__}).",
        f"check {DOMAIN}.",
    )


# --- rate limits (429): https://developer.okta.com/docs/reference/rate-limits/ --------------------

_RATE_LIMIT_FIX = (
    "fewer sign-ins per minute: keep the token cache on so runs and xdist workers share"
    f" tokens, or wait longer: raise {RATE_LIMIT_WAIT} (calling the flows from a script:"
    " HttpOptions.max_rate_limit_wait)."
)


def _rate_limit_said(endpoint: str, code: str, wait: float | None) -> str:
    """What the 429 said; ``wait`` None: it said nothing of when the window resets.

    Okta sends ``X-Rate-Limit-Reset`` with every 429 (the rate-limits page above); a 429 without
    it (a proxy's, or a header stripped on the way) gives no reset time, and a guess is not one.
    """
    said = f", {code}" if code else ""
    if wait is None:
        return (
            f"Okta's rate limit at {endpoint} (HTTP 429{said}): the reset time is unknown (the"
            " answer has no X-Rate-Limit-Reset or Retry-After header)"
        )
    return f"Okta's rate limit at {endpoint} (HTTP 429{said}): the window resets in {wait:.0f} s"


def rate_limited(
    endpoint: str, code: str, wait: float | None, *, budget: float, waited: float = 0.0
) -> RateLimited:
    """A window that resets later than the ``budget`` (seconds) of rate-limit waits allows, or
    one whose reset is unknown (``wait`` None) and outlasted ``waited`` seconds of retries."""
    if wait is None:
        what = f"{_rate_limit_said(endpoint, code, None)}; still limited after {waited:.0f} s"
        what += f" of retries, within the {budget:g} s we wait."
    else:
        what = f"{_rate_limit_said(endpoint, code, wait)}, beyond the {budget:g} s we wait."
    return RateLimited(what, _RATE_LIMIT_FIX, code=code or None, status=429)


def rate_limit_restart(
    endpoint: str, code: str, wait: float, *, reset_known: bool = True
) -> RateLimitRestart:
    """A 429 to a request that carried a one-time or secret credential: start over after
    ``wait`` seconds (with ``reset_known`` False, a back-off, not the window's reset)."""
    what = (
        f"{_rate_limit_said(endpoint, code, wait if reset_known else None)}; the request carried"
        " a one-time or secret credential, so it is not sent again."
    )
    return RateLimitRestart(what, _RATE_LIMIT_FIX, code=code or None, status=429, wait=wait)
