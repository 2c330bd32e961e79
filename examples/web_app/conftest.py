"""The conftest of a web app's API suite: one API client per run, built on the plugin's session.

The plugin loads from its entry point: nothing to import for its fixtures. The settings live in
``pytest.ini`` beside this file (the code flow, the scopes, your org's values); the secrets in the
environment, never in a file:

    export OKTA_PASSWORD=...         # the test user's password
    export OKTA_CLIENT_SECRET=...    # the web app's client secret (General > Client Credentials)
    pytest -n auto

Without an org, ``pytest --okta-emulator`` runs the same suite against a local Okta emulator.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from pytest_okta_user.tokens import Variant

#: The endpoint of your API that tells who is calling. Unset, the authorization server's userinfo
#: endpoint stands in: like any API behind Okta, it answers only a valid bearer token.
ME_URL = os.environ.get("API_ME_URL", "")


class ApiClient:
    """The suite's API client: a ``requests.Session`` whose auth sends the user's bearer token.

    The session's auth (the plugin's ``okta_auth``) checks the token before every request and
    renews it when it is about to expire, so a long run never sends an expired one.
    """

    def __init__(self, me_url: str, session: requests.Session) -> None:
        self.me_url = me_url
        self.session = session

    def me(self) -> dict[str, Any]:
        response = self.session.get(self.me_url, timeout=10)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def api(okta_session: requests.Session, okta_variant: Variant) -> ApiClient:
    # Session-scoped: built once per token variant and shared by the tests of each xdist worker.
    return ApiClient(ME_URL or f"{okta_variant.issuer}/v1/userinfo", okta_session)
