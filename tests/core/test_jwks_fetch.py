"""``jwks_fetch``: the warm run's key check reads the issuer's JWKS with the standard library, and
leaves every case it does not take plainly (a fault, a proxy, untrusted TLS) to the client."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.jwks_fetch import fetch_jwks, max_age


def test_the_key_set_and_its_cache_lifetime(okta: OktaEmulator) -> None:
    fetched = fetch_jwks(f"{okta.issuer}/v1/keys", timeout=5)

    assert fetched is not None
    jwks, lifetime = fetched
    assert jwks["keys"]
    assert all(key["kty"] == "RSA" and key["kid"] for key in jwks["keys"])
    assert lifetime == 86400  # the emulator's Cache-Control: max-age=86400, must-revalidate
    assert okta.count("keys") == 1


@pytest.mark.parametrize("status", [502, 503])
def test_an_error_answer_is_left_to_the_client(okta: OktaEmulator, status: int) -> None:
    okta.faults.proxy_error("keys", status)

    assert fetch_jwks(f"{okta.issuer}/v1/keys", timeout=5) is None
    assert okta.count("keys") == 1  # asked once; the client's retries are the client's


def test_a_json_answer_without_a_key_set_is_left_to_the_client(okta: OktaEmulator) -> None:
    # The discovery document is JSON with a 200, but holds no "keys".
    assert fetch_jwks(f"{okta.issuer}/.well-known/openid-configuration", timeout=5) is None


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_configured_proxy_is_left_to_the_client(
    okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    assert fetch_jwks(f"{okta.issuer}/v1/keys", timeout=5) is None
    assert okta.count("keys") == 0


def test_no_proxy_alone_or_an_empty_proxy_variable_is_no_proxy(
    okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "example.com")
    monkeypatch.setenv("HTTPS_PROXY", "")

    assert fetch_jwks(f"{okta.issuer}/v1/keys", timeout=5) is not None


def test_nothing_listening_is_left_to_the_client(okta: OktaEmulator) -> None:
    url = f"{okta.issuer}/v1/keys"
    okta.__exit__(None, None, None)

    assert fetch_jwks(url, timeout=5) is None


def test_tls_trusts_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    with OktaEmulator(tls=True) as okta:
        url = f"{okta.issuer}/v1/keys"
        # certifi's bundle does not hold the emulator's own CA: not verified, not read.
        assert fetch_jwks(url, timeout=5) is None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", okta.ca_file)
        fetched = fetch_jwks(url, timeout=5)
        assert fetched is not None
        assert fetched[0]["keys"]
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        monkeypatch.setenv("CURL_CA_BUNDLE", okta.ca_file)
        assert fetch_jwks(url, timeout=5) is not None
        assert okta.count("keys") == 2  # the refused handshake never reached the emulator


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=3832304, must-revalidate", 3832304),  # Okta's, from its key-rotation page
        ('public, MAX-AGE="60"', 60),
        ("no-cache, max-age=60", 0),
        ("no-store", 0),
        ("max-age=soon", 0),
        (None, 0),
    ],
)
def test_max_age(header: str | None, seconds: float) -> None:
    assert max_age(header) == seconds


def test_importing_it_imports_no_http_library() -> None:
    heavy = ("requests", "urllib3", "http.client", "ssl")
    code = (
        "import sys, pytest_okta_user.jwks_fetch;"
        f" print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"
