"""Test controls (clock, faults, request log, reset, keys), config files and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import requests
from support.emulator_client import Client

from pytest_okta_user.emulator import DEMO, ConfigError, OktaEmulator


def test_clock_advance_set_freeze(okta: OktaEmulator) -> None:
    clock = okta.clock
    assert abs(clock.now() - time.time()) < 5
    clock.freeze()
    frozen = clock.now()
    assert clock.now() == frozen
    clock.advance(100)
    assert clock.now() == frozen + 100
    clock.set(1_000_000_000)
    assert clock.now() == 1_000_000_000
    clock.unfreeze()
    assert clock.now() >= 1_000_000_000
    clock.reset()
    assert abs(clock.now() - time.time()) < 5


def test_tokens_are_minted_on_the_emulator_clock(okta: OktaEmulator, client: Client) -> None:
    okta.clock.set(1_700_000_000)
    okta.clock.freeze()
    access = jwt.decode(client.tokens()["access_token"], options={"verify_signature": False})
    assert access["iat"] == 1_700_000_000
    assert access["exp"] == 1_700_003_600


class TestFaults:
    def test_429_with_rate_limit_headers_then_normal(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        okta.faults.add("authn", status=429, times=2)
        for _ in range(2):
            limited = client.authn()
            assert limited.status_code == 429
            assert limited.json()["errorCode"] == "E0000047"
            assert limited.headers["X-Rate-Limit-Remaining"] == "0"
            assert int(limited.headers["X-Rate-Limit-Reset"]) > okta.clock.now()
        assert client.authn().status_code == 200
        assert okta.count("authn") == 3

    def test_5xx_and_proxy_html(self, okta: OktaEmulator, client: Client) -> None:
        okta.faults.add(
            "token", status=503, body={"errorCode": "E0000009"}, headers={"Retry-After": "1"}
        )
        okta.faults.proxy_error("keys", status=502)
        first = client.token(
            grant_type="password",
            username=DEMO.user_login,
            password=DEMO.user_password,
            scope="openid",
        )
        assert first.status_code == 503
        assert first.headers["Retry-After"] == "1"
        assert first.json() == {"errorCode": "E0000009"}
        proxy = requests.get(f"{okta.issuer}/v1/keys")
        assert proxy.status_code == 502
        assert proxy.headers["Content-Type"].startswith("text/html")
        assert "Bad Gateway" in proxy.text
        assert requests.get(f"{okta.issuer}/v1/keys").status_code == 200

    def test_only_the_chosen_endpoint_is_hit(self, okta: OktaEmulator, client: Client) -> None:
        okta.faults.add("token", status=500)
        assert client.authn().status_code == 200
        assert len(okta.faults.pending) == 1

    def test_delay_then_normal_answer(self, okta: OktaEmulator, client: Client) -> None:
        okta.faults.add("authn", status=None, delay=0.2)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(
                f"{okta.url}/api/v1/authn", json={"username": "a", "password": "b"}, timeout=0.05
            )
        assert client.authn().status_code == 200

    def test_wildcard_and_unknown_endpoint(self, okta: OktaEmulator) -> None:
        okta.faults.add("*", status=418, body="<html>teapot</html>")
        assert requests.get(f"{okta.url}/.well-known/okta-organization").status_code == 418
        with pytest.raises(ValueError, match="unknown endpoint"):
            okta.faults.add("tokens")


def test_request_log_has_no_secrets(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens(scope="openid offline_access")
    client.authn(password="wrong-password-xyz")
    log = okta.requests
    assert [r.endpoint for r in log[:3]] == ["authn", "authorize", "token"]
    assert all(r.method in ("GET", "POST") for r in log)
    assert log[0].status == 200
    assert log[-1].status == 401
    text = repr(log)
    for secret in (
        DEMO.user_password,
        DEMO.web_client_secret,
        "wrong-password-xyz",
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in text
    assert "sessionToken" not in text
    assert "code=" not in text
    assert okta.count("authorize") == 1
    assert okta.count("keys") == 0


def test_reset(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("temp@example.com", "Passw0rd!t")
    okta.faults.add("authn", status=500, times=5)
    okta.clock.advance(10_000)
    instance = okta.instance_id
    okta.reset()
    assert okta.org.user_by_login("temp@example.com") is None
    assert okta.faults.pending == []
    assert okta.requests == []
    assert abs(okta.clock.now() - time.time()) < 5
    assert okta.instance_id == instance
    assert client.authn().status_code == 200


def test_env_carries_the_instance_id(okta: OktaEmulator) -> None:
    # A client's token cache keys entries by it, so a restarted emulator is signed in to afresh.
    assert okta.env()["OKTA_EMULATOR_INSTANCE"] == okta.instance_id


def test_instance_id_differs_unless_keys_are_shared(tmp_path: Path) -> None:
    with OktaEmulator() as one, OktaEmulator() as two:
        assert one.instance_id != two.instance_id
    key_file = tmp_path / "keys.json"
    with OktaEmulator(key_file=key_file) as one, requests.Session() as http:
        token = Client(one, http).tokens()["access_token"]
        instance = one.instance_id
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    with OktaEmulator(key_file=key_file) as two:
        assert two.instance_id == instance
        keys = requests.get(f"{two.issuer}/v1/keys").json()["keys"]
        kid = jwt.get_unverified_header(token)["kid"]
        key = {k["kid"]: jwt.PyJWK(k) for k in keys}[kid]
        jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience="api://default",
            options={"verify_iss": False},
        )


CONFIG_TOML = """
[settings]
rate_limits = false
show_lockout_failures = true

[[auth_servers]]
id = "payments"
audience = "api://payments"
scopes = ["payments:read"]
access_token_lifetime = 900

[[apps]]
client_id = "0oaconfigapp"
type = "web"
client_secret = "config-secret"
redirect_uris = ["http://localhost:3000/cb"]

[[users]]
login = "cfg@example.com"
password = "Passw0rd!c"
first_name = "Con"
apps = ["0oaconfigapp"]
"""


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(CONFIG_TOML)
    with OktaEmulator(config=path) as okta:
        assert okta.org.rate_limits is False
        assert okta.org.show_lockout_failures is True
        assert okta.org.server("payments").access_token_lifetime == 900
        app = okta.org.app("0oaconfigapp")
        assert app.client_secret == "config-secret"
        user = okta.org.user_by_login("cfg@example.com")
        assert user.is_assigned("0oaconfigapp")
        assert not user.is_assigned(DEMO.web_client_id)
        assert okta.org.user_by_login(DEMO.user_login) is not None  # demo seeded too
        with requests.Session() as http:
            assert (
                Client(okta, http).authn("cfg@example.com", "Passw0rd!c").json()["status"]
                == "SUCCESS"
            )
        okta.org.add_user("extra@example.com", "x" * 10)
        okta.reset()
        assert okta.org.user_by_login("extra@example.com") is None
        assert okta.org.user_by_login("cfg@example.com") is not None


def test_json_config_without_demo(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(
        json.dumps(
            {
                "settings": {"demo": False},
                "users": [{"login": "j@example.com", "password": "p" * 9}],
            }
        )
    )
    with OktaEmulator(config=path) as okta:
        assert okta.org.user_by_login(DEMO.user_login) is None
        assert okta.org.app(DEMO.web_client_id) is None
        assert okta.org.user_by_login("j@example.com") is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[settings]\nrate_limit = false\n", "unknown setting 'rate_limit'"),
        ("[settings]\nlockout_attempts = 'ten'\n", "must be int"),
        ("[[users]]\nlogin = 'x'\n", "needs login and password"),
        ("[[apps]]\ntype = 'robot'\n", "app_type"),
        ("[nope]\n", "unknown section"),
        ("not toml at all [", "not valid"),
    ],
)
def test_config_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        OktaEmulator(config=path)
    assert str(path) in str(info.value)


def test_command_line_prints_settings_and_serves(tmp_path: Path) -> None:
    config = tmp_path / "org.toml"
    config.write_text(CONFIG_TOML)
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--port", "0", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )
    try:
        assert process.stdout is not None
        settings = {}
        for _ in range(14):
            name, _, value = process.stdout.readline().strip().partition("=")
            settings[name] = value
        assert set(settings) == {
            "OKTA_DOMAIN",
            "OKTA_CLIENT_ID",
            "OKTA_CLIENT_SECRET",
            "OKTA_REDIRECT_URI",
            "OKTA_USERNAME",
            "OKTA_PASSWORD",
            "OKTA_ADMIN_USERNAME",
            "OKTA_ADMIN_PASSWORD",
            "OKTA_ADMIN_TOTP_SECRET",
            "OKTA_SPA_CLIENT_ID",
            "OKTA_SPA_REDIRECT_URI",
            "OKTA_SERVICE_CLIENT_ID",
            "OKTA_SERVICE_CLIENT_SECRET",
            "OKTA_EMULATOR_INSTANCE",
        }
        assert len(settings["OKTA_EMULATOR_INSTANCE"]) >= 8
        assert settings["OKTA_CLIENT_ID"] == DEMO.web_client_id
        response = requests.post(
            f"{settings['OKTA_DOMAIN']}/api/v1/authn",
            json={"username": settings["OKTA_USERNAME"], "password": settings["OKTA_PASSWORD"]},
        )
        assert response.json()["status"] == "SUCCESS"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_command_line_reports_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[nope]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown section" in result.stderr
    assert "Traceback" not in result.stderr


def test_command_line_tls_prints_the_ca_file() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().partition("=")[::2] for _ in range(16))
        assert settings["OKTA_DOMAIN"].startswith("https://127.0.0.1:")
        assert settings["SSL_CERT_FILE"] == settings["REQUESTS_CA_BUNDLE"]
        assert Path(settings["SSL_CERT_FILE"]).exists()
        doc = requests.get(
            f"{settings['OKTA_DOMAIN']}/oauth2/default/.well-known/openid-configuration",
            verify=settings["SSL_CERT_FILE"],
        )
        assert doc.json()["issuer"] == f"{settings['OKTA_DOMAIN']}/oauth2/default"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert not Path(settings["SSL_CERT_FILE"]).exists()  # removed at exit


def test_concurrent_exchanges_are_all_answered() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with OktaEmulator(rate_limits=False) as okta:

        def sign_in(_: int) -> str:
            with requests.Session() as http:
                return str(Client(okta, http).tokens()["access_token"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            tokens = list(pool.map(sign_in, range(16)))
        assert len(set(tokens)) == 16
        assert okta.count("token") == 16
        assert okta.internal_errors == []
