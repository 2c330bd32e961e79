"""The whole config is validated at load (issue 14, point 9): each mistake named by its key path.

Through the command line as users start it (a subprocess serving on loopback), and through
`OktaEmulator(config=...)`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pytest_okta_user.emulator import DEMO, ConfigError, OktaEmulator


def load_error(tmp_path: Path, content: str) -> str:
    path = tmp_path / "org.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        OktaEmulator(config=path)
    message = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '[[users]]\nlogin = "a@example.com"\npassword = "Passw0rd!a"\nstatus = "WEIRD"\n',
            "users[0] (login 'a@example.com').status: 'WEIRD' is not one of ACTIVE,",
        ),
        (
            '[[apps]]\nclient_id = "0oa-x"\nclient_secret = 5\n',
            "apps[0] (client_id '0oa-x').client_secret: must be a string (in quotes), "
            "not an integer 5",
        ),
        (
            '[[apps]]\nclient_id = "0oa-x"\nredirect_uris = ["localhost:3000/cb", "not a uri"]\n',
            "apps[0] (client_id '0oa-x').redirect_uris: item 1: 'not a uri' is not an absolute URI",
        ),
        (
            '[[apps]]\nclient_id = "0oa-x"\nredirect_uris = ["http:///cb"]\n',
            "apps[0] (client_id '0oa-x').redirect_uris: item 0: 'http:///cb' has no valid host",
        ),
        (
            '[[users]]\nlogin = "a@example.com"\npassword = "Passw0rd!a"\n'
            '[[users]]\nlogin = "mfa@example.com"\npassword = "Passw0rd!m"\n'
            'totp_secret = "not-base32!"\n',
            "users[1] (login 'mfa@example.com').totp_secret: is not base32",
        ),
        (
            '[[auth_servers]]\nid = "payments"\naccess_token_lifetime = 10\n',
            "auth_servers[0] (id 'payments').access_token_lifetime: must be from 300 to 86400",
        ),
        (
            '[[apps]]\nclient_id = "0oa-x"\nredirect_uri = "http://localhost/cb"\n',
            "apps[0] (client_id '0oa-x').redirect_uri: unknown key 'redirect_uri'; known:",
        ),
        (
            '[[trusted_origins]]\norigin = "http://localhost:3000/"\n',
            "trusted_origins[0] (origin 'http://localhost:3000/').origin: "
            "'http://localhost:3000/' is not an origin",
        ),
        ('[settings]\npipeline = "oie"\n', "settings.pipeline: 'oie' is not one of v1, idx"),
        ("[settings]\ndemo = 1\n", "settings.demo: must be true or false, not 1"),
        ("[[auth_servers]]\naudience = 'x'\n", "every [[auth_servers]] entry needs an id"),
    ],
)
def test_a_mistake_is_named_by_its_key_path(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in load_error(tmp_path, content)


def test_every_mistake_is_listed_each_on_its_own_line(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        '[settings]\nlockout_attempts = 0\n[[users]]\nlogin = "a@example.com"\n'
        'password = "Passw0rd!a"\nstatus = "WEIRD"\ntotp_secret = "1"\n',
    )
    lines = message.splitlines()
    assert len(lines) == 3, message
    assert "settings.lockout_attempts: must be from 1 to 100, not 0" in lines[0]
    assert "users[0] (login 'a@example.com').status" in lines[1]
    assert "users[0] (login 'a@example.com').totp_secret" in lines[2]


def test_a_valid_config_still_loads_and_serves(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(
        '[[apps]]\nclient_id = "0oa-native"\ntype = "native"\n'
        'redirect_uris = ["com.example.app:/callback", "http://127.0.0.1:3000/cb"]\n'
        '[[users]]\nlogin = "mfa@example.com"\npassword = "Passw0rd!m"\n'
        'status = "active"\ntotp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"\n'
        '[[trusted_origins]]\norigin = "http://localhost:3000"\nscopes = ["cors"]\n'
    )
    with OktaEmulator(config=path) as okta:
        response = requests.post(
            f"{okta.url}/api/v1/authn",
            json={"username": "mfa@example.com", "password": "Passw0rd!m"},
        )
        assert response.json()["status"] == "MFA_REQUIRED"
        assert okta.org.app(DEMO.web_client_id) is not None


def test_the_command_line_names_the_key_path(tmp_path: Path) -> None:
    config = tmp_path / "org.toml"
    config.write_text('[[apps]]\nclient_id = "0oa-x"\nclient_secret = 5\n')
    result = subprocess.run(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{config}: apps[0] (client_id '0oa-x').client_secret: must be a string" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
