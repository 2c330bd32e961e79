"""conftest.py of a realistic suite that tests an API behind Okta with pytest-okta-user.

Copy it to your suite as ``conftest.py``. The plugin loads from its entry point; nothing to import
for the fixtures. Settings (see the README's table) come from the command line, the environment or
the ini file; secrets only from the environment:

    # pytest.ini
    [pytest]
    okta_domain = https://dev-123.okta.com/oauth2/default
    okta_client_id = 0oa1b2c3d4e5f6g7h8i9
    okta_redirect_uri = http://localhost:8080/authorization-code/callback
    okta_user = api-tests@example.com
    okta_scopes = openid profile email offline_access

    # the shell or the CI job
    export OKTA_PASSWORD=...            # the test user's password
    export OKTA_CLIENT_SECRET=...       # web apps (code flow) only
    export OKTA_TOTP_SECRET=...         # only if the sign-on policy asks for Google Authenticator

In CI:
  * Put OKTA_PASSWORD / OKTA_CLIENT_SECRET in the CI's secret store and pass them as environment
    variables. The plugin never prints them (the report header says only "set"), and it never
    prompts when ``CI`` is set: a missing secret fails only the tests that need a token, with one
    message naming every missing setting.
  * ``pytest -n auto``: the workers share one sign-in per variant through the token cache (a folder
    under ``.pytest_cache``; cache that folder between jobs, or not: tokens are renewed when they
    have less than ``okta_min_ttl`` seconds left). Keep it on local disk, not NFS.
  * Pull requests from forks get no secrets: run them with ``--okta-emulator`` instead, which
    starts a local Okta org and signs in its demo user, or skip the API tests.
  * Use a dedicated test user without MFA, or with a TOTP factor whose shared secret you store as
    OKTA_TOTP_SECRET; push and SMS factors cannot be answered headlessly.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pytest_okta_user.tokens import Variant

#: Where the API under test runs. Here the authorization server's own userinfo endpoint stands in
#: for it, so this conftest also works as is against the emulator (--okta-emulator).
API_PATH = "/v1/userinfo"


class ApiClient:
    """The suite's API client: one ``requests.Session`` that sends the user's bearer token.

    The session's auth (``okta_auth``) asks the plugin before every request, so a long run gets a
    renewed token before the old one expires, without the tests noticing.
    """

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url
        self.session = session

    def get(self, path: str = API_PATH, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.get(f"{self.base_url}{path}", **kwargs)


@pytest.fixture(scope="session")
def api(okta_session: requests.Session, okta_variant: Variant) -> ApiClient:
    """One client per token variant for the whole run (per xdist worker).

    Session-scoped fixtures may depend on okta_session, okta_access_token and the rest: a test
    marked ``@pytest.mark.okta(flow="code")`` gets a client whose token came from the code flow,
    unmarked tests share the default one.
    """
    return ApiClient(okta_variant.issuer, okta_session)


# --- tests, as they would sit in tests/test_api.py -----------------------------------------------
# (pytest collects no tests from a conftest.py: move these to a test module. The project's own
# tests run this file as a test module against the emulator.)


def test_the_api_knows_the_signed_in_user(api: ApiClient, okta_user: Any) -> None:
    response = api.get()
    assert response.status_code == 200
    assert response.json()["sub"] == okta_user.id


# One test per flow: the marker runs it once per value, with the ids [code], [pkce], [implicit].
@pytest.mark.okta(flow=["code", "pkce", "implicit"])
def test_every_flow_gives_a_token_the_api_accepts(api: ApiClient, okta_variant: Variant) -> None:
    assert api.get().status_code == 200
    assert okta_variant.flow in ("code", "pkce", "implicit")


@pytest.mark.okta(scopes="openid email")
def test_fewer_scopes(okta_tokens: Any) -> None:
    assert set(okta_tokens.scopes) <= {"openid", "email"}


def test_a_token_from_another_flow(okta_token_factory: Any) -> None:
    # Tokens on demand, e.g. for a second user of the org (same OKTA_PASSWORD):
    # okta_token_factory(user="readonly@example.com"). Each distinct variant signs in once per run.
    tokens = okta_token_factory(flow="password", scopes="openid")
    assert tokens.access_token
