"""POST /api/v1/authn and factor verification, over HTTP on loopback."""

from __future__ import annotations

from datetime import datetime

import pyotp
import pytest
import requests
from support.emulator_client import Client

from pytest_okta_user.emulator import DEMO, OktaEmulator

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def assert_api_error(response: requests.Response, status: int, code: str, summary: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["errorCode"] == code
    assert body["errorSummary"] == summary
    assert body["errorLink"] == code
    assert body["errorId"].startswith("oae")
    assert isinstance(body["errorCauses"], list)
    return body


def test_success_returns_a_five_minute_session_token_and_the_user(
    okta: OktaEmulator, client: Client
) -> None:
    okta.clock.freeze()
    response = client.authn()
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS"
    assert body["sessionToken"]
    assert "stateToken" not in body
    expires = datetime.strptime(body["expiresAt"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    assert expires == pytest.approx(okta.clock.now() + 300, abs=1)
    user = body["_embedded"]["user"]
    assert user["id"] == DEMO.user_id
    assert user["profile"]["login"] == DEMO.user_login
    assert set(user["profile"]) >= {"login", "firstName", "lastName", "locale", "timeZone"}


def test_short_name_is_accepted(client: Client) -> None:
    assert client.authn(DEMO.user_login.split("@")[0]).json()["status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("username", "password"),
    [(DEMO.user_login, "wrong"), ("nobody@example.com", DEMO.user_password)],
)
def test_bad_credentials_are_401_e0000004(client: Client, username: str, password: str) -> None:
    assert_api_error(client.authn(username, password), 401, "E0000004", "Authentication failed")


def test_suspended_user_cannot_sign_in(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("sus@example.com", "Passw0rd!x", status="SUSPENDED")
    assert_api_error(
        client.authn("sus@example.com", "Passw0rd!x"), 401, "E0000004", "Authentication failed"
    )


def test_malformed_bodies_get_okta_shaped_errors(okta: OktaEmulator) -> None:
    url = f"{okta.url}/api/v1/authn"
    headers = {"Content-Type": "application/json"}
    for raw in (
        b"{not json",
        b"[1, 2]",
        b"\xff\xfe",
        b'"text"',
        b'{"username": {"a": 1}, "password": "x"}',
    ):
        response = requests.post(url, data=raw, headers=headers)
        assert_api_error(response, 400, "E0000003", "The request body was not well-formed.")
    body = assert_api_error(
        requests.post(url, json={"username": DEMO.user_login}),
        400,
        "E0000001",
        "Api validation failed: password",
    )
    assert body["errorCauses"][0]["errorSummary"].startswith("password")
    assert_api_error(
        requests.post(url, json={}), 400, "E0000001", "Api validation failed: username"
    )


def test_get_is_refused_with_405(okta: OktaEmulator) -> None:
    response = requests.get(f"{okta.url}/api/v1/authn")
    assert_api_error(
        response, 405, "E0000022", "The endpoint does not support the provided HTTP method"
    )


def test_session_token_is_single_use(client: Client) -> None:
    token = client.session_token()
    first = client.authorize(sessionToken=token, prompt="none")
    assert "code" in first.headers["Location"]
    client.http.cookies.clear()
    second = client.authorize(sessionToken=token, prompt="none")
    assert "error=login_required" in second.headers["Location"]


class TestMfa:
    @pytest.fixture
    def mfa_user(self, okta: OktaEmulator) -> str:
        okta.org.add_user("mfa@example.com", "Passw0rd!mfa", totp_secret=TOTP_SECRET)
        okta.clock.freeze()
        return "mfa@example.com"

    def start(self, client: Client, login: str) -> dict:
        response = client.authn(login, "Passw0rd!mfa")
        assert response.status_code == 200
        return dict(response.json())

    def verify(self, client: Client, txn: dict, passcode: str) -> requests.Response:
        factor = txn["_embedded"]["factors"][0]
        href = factor["_links"]["verify"]["href"]
        return client.http.post(href, json={"stateToken": txn["stateToken"], "passCode": passcode})

    def test_mfa_required_lists_the_totp_factor(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        txn = self.start(client, mfa_user)
        assert txn["status"] == "MFA_REQUIRED"
        assert "sessionToken" not in txn
        (factor,) = txn["_embedded"]["factors"]
        assert factor["factorType"] == "token:software:totp"
        assert (
            factor["_links"]["verify"]["href"]
            == f"{okta.url}/api/v1/authn/factors/{factor['id']}/verify"
        )
        assert factor["_links"]["verify"]["hints"]["allow"] == ["POST"]

    def test_correct_code_succeeds_and_its_replay_is_refused(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        code = pyotp.TOTP(TOTP_SECRET).at(okta.clock.now())
        txn = self.start(client, mfa_user)
        response = self.verify(client, txn, code)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "SUCCESS"
        assert response.json()["sessionToken"]
        assert response.json()["_embedded"]["user"]["profile"]["login"] == mfa_user
        again = self.verify(client, self.start(client, mfa_user), code)
        assert_api_error(
            again,
            403,
            "E0000082",
            "Each code can only be used once. Please wait for a new code and try again.",
        )
        okta.clock.advance(30)
        fresh = pyotp.TOTP(TOTP_SECRET).at(okta.clock.now())
        assert (
            self.verify(client, self.start(client, mfa_user), fresh).json()["status"] == "SUCCESS"
        )

    def test_wrong_code_is_e0000068(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        txn = self.start(client, mfa_user)
        good = pyotp.TOTP(TOTP_SECRET).at(okta.clock.now())
        wrong = f"{(int(good) + 1) % 1_000_000:06d}"
        body = assert_api_error(
            self.verify(client, txn, wrong), 403, "E0000068", "Invalid Passcode/Answer"
        )
        assert body["errorCauses"] == [
            {"errorSummary": "Your passcode doesn't match our records. Please try again."}
        ]

    def test_code_from_another_time_window_is_refused(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        txn = self.start(client, mfa_user)
        stale = pyotp.TOTP(TOTP_SECRET).at(okta.clock.now() - 120)
        assert self.verify(client, txn, stale).status_code == 403

    def test_bad_or_expired_state_token_is_e0000011(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        txn = self.start(client, mfa_user)
        code = pyotp.TOTP(TOTP_SECRET).at(okta.clock.now())
        bogus = dict(txn, stateToken="00bogus")
        assert_api_error(
            self.verify(client, bogus, code), 401, "E0000011", "Invalid token provided"
        )
        okta.clock.advance(301)
        assert_api_error(self.verify(client, txn, code), 401, "E0000011", "Invalid token provided")
        resume = client.http.post(f"{okta.url}/api/v1/authn", json={"stateToken": "00nope"})
        assert_api_error(resume, 401, "E0000011", "Invalid token provided")

    def test_state_token_resumes_the_transaction(
        self, okta: OktaEmulator, client: Client, mfa_user: str
    ) -> None:
        txn = self.start(client, mfa_user)
        response = client.http.post(
            f"{okta.url}/api/v1/authn", json={"stateToken": txn["stateToken"]}
        )
        assert response.json()["status"] == "MFA_REQUIRED"

    def test_mfa_comes_before_password_expired(self, okta: OktaEmulator, client: Client) -> None:
        okta.org.add_user(
            "both@example.com", "Passw0rd!mfa", totp_secret=TOTP_SECRET, status="PASSWORD_EXPIRED"
        )
        okta.clock.freeze()
        txn = self.start(client, "both@example.com")
        assert txn["status"] == "MFA_REQUIRED"
        after = self.verify(client, txn, pyotp.TOTP(TOTP_SECRET).at(okta.clock.now()))
        assert after.json()["status"] == "PASSWORD_EXPIRED"


def test_password_expired_then_change_password(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("old@example.com", "Old-Passw0rd", status="PASSWORD_EXPIRED")
    txn = client.authn("old@example.com", "Old-Passw0rd").json()
    assert txn["status"] == "PASSWORD_EXPIRED"
    assert "sessionToken" not in txn
    link = txn["_links"]["next"]
    assert link["name"] == "changePassword"
    wrong = client.http.post(
        link["href"],
        json={
            "stateToken": txn["stateToken"],
            "oldPassword": "nope",
            "newPassword": "New-Passw0rd",
        },
    )
    assert_api_error(wrong, 403, "E0000014", "Update of credentials failed")
    done = client.http.post(
        link["href"],
        json={
            "stateToken": txn["stateToken"],
            "oldPassword": "Old-Passw0rd",
            "newPassword": "New-Passw0rd",
        },
    )
    assert done.json()["status"] == "SUCCESS"
    assert client.authn("old@example.com", "New-Passw0rd").json()["status"] == "SUCCESS"


def test_lockout_is_hidden_as_e0000004_by_default(okta: OktaEmulator, client: Client) -> None:
    okta.org.rate_limits = False
    okta.org.lockout_attempts = 3
    for _ in range(3):
        assert client.authn(password="wrong").status_code == 401
    assert_api_error(client.authn(), 401, "E0000004", "Authentication failed")
    assert okta.org.user(DEMO.user_id).status == "LOCKED_OUT"


def test_lockout_shown_when_configured() -> None:
    config = {
        "settings": {"show_lockout_failures": True, "lockout_attempts": 2, "rate_limits": False}
    }
    with OktaEmulator(config) as okta, requests.Session() as http:
        client = Client(okta, http)
        assert client.authn(password="wrong").status_code == 401
        locked = client.authn(password="wrong")
        assert locked.status_code == 200
        assert locked.json()["status"] == "LOCKED_OUT"
        assert locked.json()["_links"]["next"]["name"] == "unlock"
        assert client.authn().json()["status"] == "LOCKED_OUT"


def test_per_user_rate_limit_is_four_per_second(okta: OktaEmulator, client: Client) -> None:
    okta.clock.freeze()
    for _ in range(4):
        assert client.authn().status_code == 200
    limited = client.authn()
    body = assert_api_error(
        limited, 429, "E0000047", "API call exceeded rate limit due to too many requests."
    )
    assert body["errorCauses"] == []
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(limited.headers["X-Rate-Limit-Reset"]) >= int(okta.clock.now())
    # Another user has a bucket of their own.
    okta.org.add_user("other@example.com", "Passw0rd!o")
    assert client.authn("other@example.com", "Passw0rd!o").status_code == 200
    okta.clock.advance(1.0)
    assert client.authn().status_code == 200


def test_rate_limit_can_be_switched_off(client: Client) -> None:
    with OktaEmulator(rate_limits=False) as okta, requests.Session() as http:
        quiet = Client(okta, http)
        okta.clock.freeze()
        assert all(quiet.authn().status_code == 200 for _ in range(10))


def test_rate_limited_answers_carry_rate_limit_headers(okta: OktaEmulator, client: Client) -> None:
    for response in (
        client.authn(),
        client.authn(password="bad"),
        requests.get(f"{okta.url}/no/such/path"),
    ):
        assert {"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} <= set(
            response.headers
        )


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/v1/keys",
        "/oauth2/default/v1/keys",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oauth2/default/.well-known/openid-configuration",
        "/oauth2/default/.well-known/oauth-authorization-server",
    ],
)
def test_keys_and_metadata_are_not_rate_limited(okta: OktaEmulator, path: str) -> None:
    # The JWKS and both .well-known documents (org and custom) are not rate limited:
    # https://developer.okta.com/docs/reference/rate-limits/
    response = requests.get(f"{okta.url}{path}")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("x-rate-limit-")]


def test_rate_limit_survives_the_clock_going_back(okta: OktaEmulator, client: Client) -> None:
    okta.clock.freeze()
    for _ in range(4):
        assert client.authn().status_code == 200
    okta.clock.advance(-3600)
    assert client.authn().status_code == 200


def test_short_name_and_login_share_one_rate_limit_bucket(
    okta: OktaEmulator, client: Client
) -> None:
    okta.clock.freeze()
    for _ in range(2):
        assert client.authn().status_code == 200
        assert client.authn(DEMO.user_login.split("@")[0]).status_code == 200
    assert client.authn().status_code == 429


def test_cancel_ends_the_transaction(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("mfa@example.com", "Passw0rd!mfa", totp_secret=TOTP_SECRET)
    txn = client.authn("mfa@example.com", "Passw0rd!mfa").json()
    cancel = client.http.post(
        txn["_links"]["cancel"]["href"], json={"stateToken": txn["stateToken"]}
    )
    assert cancel.status_code == 200
    resume = client.http.post(f"{okta.url}/api/v1/authn", json={"stateToken": txn["stateToken"]})
    assert_api_error(resume, 401, "E0000011", "Invalid token provided")
    assert okta.count("authn_cancel") == 1
