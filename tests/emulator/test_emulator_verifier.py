"""Okta's own verifier (okta-jwt-verifier, unpatched) against the emulator served over --tls.

The verifier runs in a child process, as a resource server would: aiohttp builds its TLS context
when imported, so SSL_CERT_FILE (the emulator's CA) must be in its environment from the start.
Expiry: PyJWT inside the verifier reads the real clock, so the expired tokens are minted with the
emulator's clock set two hours behind real time (their `exp` is an hour in the real past, beyond
the verifier's 120 s leeway).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.emulator_client import Client, location_params

from pytest_okta_user.emulator import DEMO, OktaEmulator

if importlib.util.find_spec("okta_jwt_verifier") is None:  # not imported here: the child does
    pytest.skip("okta-jwt-verifier is not installed", allow_module_level=True)

VERIFY_SCRIPT = r"""
import asyncio, json, sys
from okta_jwt_verifier import AccessTokenVerifier, IDTokenVerifier

cases = json.load(sys.stdin)

def outcome(call):
    try:
        call()
        return "accepted"
    except Exception as err:
        return f"rejected: {type(err).__name__}: {err}"

async def run_async():
    results = {}
    for case in cases:
        if case["kind"] == "access":
            verifier = AccessTokenVerifier(issuer=case["issuer"], audience=case["audience"])
            coro = verifier.verify(case["token"])
        else:
            verifier = IDTokenVerifier(issuer=case["issuer"], client_id=case["client_id"])
            coro = verifier.verify(case["token"], nonce=case.get("nonce"))
        try:
            await coro
            results[case["name"]] = "accepted"
        except Exception as err:
            results[case["name"]] = f"rejected: {type(err).__name__}: {err}"
    return results

def run_sync():
    results = {}
    for case in cases:
        if case["kind"] == "access":
            verifier = AccessTokenVerifier(issuer=case["issuer"], audience=case["audience"])
            results[case["name"]] = outcome(lambda: verifier.verify_sync(case["token"]))
        else:
            verifier = IDTokenVerifier(issuer=case["issuer"], client_id=case["client_id"])
            results[case["name"]] = outcome(
                lambda: verifier.verify_sync(case["token"], nonce=case.get("nonce"))
            )
    return results

print(json.dumps({"async": asyncio.run(run_async()), "sync": run_sync()}))
"""


@pytest.fixture(scope="module")
def tls_okta() -> Iterator[OktaEmulator]:
    with OktaEmulator(tls=True) as okta:
        yield okta


def implicit_tokens(okta: OktaEmulator, server: str, nonce: str) -> dict[str, str]:
    with requests.Session() as http:
        client = Client(okta, http)
        response = client.authorize(
            server,
            response_type="id_token token",
            scope="openid profile email",
            nonce=nonce,
            sessionToken=client.session_token(),
            prompt="none",
        )
        assert response.status_code == 302, response.text
        return location_params(response)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.fixture(scope="module")
def verdicts(tls_okta: OktaEmulator) -> dict[str, dict[str, str]]:
    okta = tls_okta
    assert okta.url.startswith("https://")
    with requests.Session() as http:
        code_tokens = Client(okta, http).tokens()
    fresh = implicit_tokens(okta, "default", "nonce-fresh")
    org = implicit_tokens(okta, "org", "nonce-org")
    okta.clock.set(time.time() - 7200)
    stale = implicit_tokens(okta, "default", "nonce-stale")
    okta.clock.reset()
    cases: list[dict[str, Any]] = [
        {"name": "code_access", "kind": "access", "token": code_tokens["access_token"]},
        {"name": "code_id", "kind": "id", "token": code_tokens["id_token"]},
        {"name": "implicit_access", "kind": "access", "token": fresh["access_token"]},
        {"name": "implicit_id", "kind": "id", "token": fresh["id_token"], "nonce": "nonce-fresh"},
        {"name": "expired_access", "kind": "access", "token": stale["access_token"]},
        {"name": "expired_id", "kind": "id", "token": stale["id_token"], "nonce": "nonce-stale"},
        {"name": "tampered_access", "kind": "access", "token": tampered(fresh["access_token"])},
        {"name": "wrong_nonce", "kind": "id", "token": fresh["id_token"], "nonce": "other"},
        {
            "name": "org_id",
            "kind": "id",
            "token": org["id_token"],
            "nonce": "nonce-org",
            "issuer": okta.url,
        },
        {
            "name": "org_access",
            "kind": "access",
            "token": org["access_token"],
            "issuer": okta.url,
            "audience": okta.url,
        },
    ]
    for case in cases:
        case.setdefault("issuer", okta.issuer)
        case.setdefault("audience", "api://default")
        case["client_id"] = DEMO.web_client_id
    env = {**os.environ, **okta.env()}
    result = subprocess.run(
        [sys.executable, "-c", VERIFY_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("mode", ["async", "sync"])
@pytest.mark.parametrize(
    "name", ["code_access", "code_id", "implicit_access", "implicit_id", "org_id"]
)
def test_verifier_accepts_emulator_tokens(
    verdicts: dict[str, dict[str, str]], mode: str, name: str
) -> None:
    assert verdicts[mode][name] == "accepted"


@pytest.mark.parametrize("mode", ["async", "sync"])
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("expired_access", "expired"),
        ("expired_id", "expired"),
        ("tampered_access", "Signature verification failed"),
        ("wrong_nonce", "nonce"),
        ("org_access", "No matching JWK"),  # as with real Okta: org-server access tokens are opaque
    ],
)
def test_verifier_rejects(
    verdicts: dict[str, dict[str, str]], mode: str, name: str, reason: str
) -> None:
    assert verdicts[mode][name].startswith("rejected"), verdicts[mode][name]
    assert reason in verdicts[mode][name]


def test_tls_env_and_certificate(tls_okta: OktaEmulator) -> None:
    env = tls_okta.env()
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == tls_okta.ca_file
    assert tls_okta.ca_file is not None
    assert os.path.exists(tls_okta.ca_file)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{tls_okta.url}/.well-known/okta-organization", verify=True)
    localhost = tls_okta.url.replace("127.0.0.1", "localhost")
    doc = requests.get(
        f"{localhost}/oauth2/default/.well-known/openid-configuration", verify=tls_okta.ca_file
    )
    assert doc.json()["issuer"].startswith("https://localhost:")


def test_introspect_goes_inactive_after_clock_advance(tls_okta: OktaEmulator) -> None:
    with requests.Session() as http:
        tokens = Client(tls_okta, http).tokens()
    auth = (DEMO.web_client_id, DEMO.web_client_secret)
    url = f"{tls_okta.issuer}/v1/introspect"
    data = {"token": tokens["access_token"]}
    ca = tls_okta.ca_file
    assert requests.post(url, data=data, auth=auth, verify=ca).json()["active"] is True
    tls_okta.clock.advance(3601)
    try:
        assert requests.post(url, data=data, auth=auth, verify=ca).json() == {"active": False}
    finally:
        tls_okta.clock.reset()
