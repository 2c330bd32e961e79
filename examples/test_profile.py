"""Tests that need a signed-in user: spread over the workers, they share one sign-in."""

from __future__ import annotations

import pytest

from pytest_okta_user.emulator import DEMO


def test_the_user_who_signed_in(okta_user) -> None:
    assert okta_user.login == DEMO.user_login
    assert okta_user.id == DEMO.user_id


def test_the_id_token_names_the_user(okta_tokens) -> None:
    assert okta_tokens.id_claims["sub"] == DEMO.user_id
    assert "openid" in okta_tokens.scopes


def test_the_api_knows_who_calls(api) -> None:
    assert api.me()["sub"] == DEMO.user_id


def test_the_api_refuses_a_call_without_the_token(api) -> None:
    response = api.session.get(f"{api.base_url}/v1/userinfo", auth=lambda r: r, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize("claim", ["email", "name", "preferred_username"])
def test_profile_claims_reach_the_api(api, claim: str) -> None:
    assert api.me()[claim]


def test_a_test_without_okta_runs_as_usual() -> None:
    assert sum(range(4)) == 6
