"""The web app's API tests: those that take ``api`` call it as the signed-in user."""

from __future__ import annotations

import pytest


def test_the_api_knows_the_signed_in_user(api, okta_user) -> None:
    assert api.me()["sub"] == okta_user.id


def test_the_tokens_come_from_the_code_flow(okta_variant, okta_tokens) -> None:
    assert okta_variant.flow == "code"
    # The web app's client secret earned a refresh token (offline_access in pytest.ini).
    assert okta_tokens.refresh_token


def test_the_api_refuses_a_call_without_a_token(api) -> None:
    # auth=lambda r: r sends the request as it is, without the session's Authorization header.
    response = api.session.get(api.me_url, auth=lambda r: r, timeout=10)
    assert response.status_code == 401


@pytest.mark.okta(scopes="openid email")
def test_a_narrower_scope_set(okta_tokens) -> None:
    # A marker asks for another variant: it signs in once per run too, for every worker.
    assert set(okta_tokens.scopes) == {"openid", "email"}


def test_a_test_without_okta_runs_as_usual() -> None:
    assert sorted("okta") == ["a", "k", "o", "t"]
