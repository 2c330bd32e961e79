"""An issuer's JWKS read with the standard library: the one request a warm run makes.

A run served from the token cache asks Okta one thing, once per issuer: whether the key that
signed its cached tokens is still published (``provider.TokenProvider._signed_by_a_withdrawn_key``).
Importing ``requests`` for that one GET cost about 55 ms (urllib3, charset_normalizer, idna,
http.cookiejar) and ten loggers that pytest's log capture walks three times a test; ``http.client``
is about 8 ms. This path takes only the plain case: no proxy in the environment, a ``200`` with a
JSON key set. Anything else answers ``None``, and the caller asks again through ``OktaClient``,
whose retries, proxy handling and diagnosis stay the one place that knows what an answer means.

TLS trusts what requests would: ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` (a file or a folder),
else certifi's bundle (https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification).

No package imports beyond ``__version__``: importing this module must not import requests.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import urlsplit

from . import __version__

__all__ = ["fetch_jwks", "max_age"]

USER_AGENT = f"pytest-okta-user/{__version__} Python/{sys.version_info[0]}.{sys.version_info[1]}"


def max_age(cache_control: str | None) -> float:
    """RFC 9111 section 5.2.2.1's max-age, 0 for no-store / no-cache / nothing usable."""
    directives = [part.strip().lower() for part in (cache_control or "").split(",")]
    if any(d in ("no-store", "no-cache") for d in directives):
        return 0.0
    for directive in directives:
        name, _, value = directive.partition("=")
        if name.strip() == "max-age" and value.strip().strip('"').isdigit():
            return float(value.strip().strip('"'))
    return 0.0


def fetch_jwks(url: str, *, timeout: float) -> tuple[dict[str, Any], float] | None:
    """The JWKS at ``url`` and its Cache-Control lifetime (:func:`max_age`); None when this path
    does not take the request (a proxy is configured, the scheme is neither http nor https, no CA
    bundle can be found) or the answer is not a plain ``200`` with a key set (an error, a
    redirect, a connection failure): the caller then asks through the client."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or _proxy_configured():
        return None
    import http.client
    import json

    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    connection: http.client.HTTPConnection
    try:
        if parts.scheme == "https":
            context = _tls_context()
            if context is None:
                return None
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request(
                "GET", path, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
            )
            answer = connection.getresponse()
            body = answer.read()
            status, cache_control = answer.status, answer.getheader("Cache-Control")
        finally:
            connection.close()
        jwks = json.loads(body)
    except (OSError, ValueError, http.client.HTTPException):
        return None
    if status != 200 or not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return None
    return jwks, max_age(cache_control)


def _proxy_configured() -> bool:
    """Whether requests might send the request through a proxy: a ``*_proxy`` variable in the
    environment (``no_proxy`` aside), or, on macOS and Windows, the system's settings, which
    ``urllib.request.getproxies`` reads as requests does (it is imported only there: it imports
    ``ssl`` and ``email``)."""
    for name, value in os.environ.items():
        lowered = name.lower()
        if value and lowered.endswith("_proxy") and lowered != "no_proxy":
            return True
    if sys.platform in ("darwin", "win32"):
        import urllib.request

        return bool(urllib.request.getproxies())
    return False


def _tls_context() -> Any:
    """An ``ssl.SSLContext`` trusting what requests trusts by default, or None."""
    import ssl

    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        try:
            import certifi
        except ImportError:
            return None
        bundle = certifi.where()
    try:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        return ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError):
        return None
