"""The example suite's conftest: a small API client built once per run on the plugin's session.

Run it against the local emulator (no Okta org needed), with two xdist workers sharing one sign-in:

    pytest examples -n 2 --okta-emulator

"Our API" here is the authorization server's userinfo endpoint: it answers only a valid bearer
token, like any API behind Okta would.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pytest_okta_user.tokens import Variant

# web_app/ is a project of its own, with its own pytest.ini (the code flow): run it as
# `pytest examples/web_app`. Collected from here it would run under this folder's pytest.ini,
# without its settings, and change the output the README quotes for `pytest examples`.
collect_ignore = ["web_app"]


class ApiClient:
    """What a suite's own API client looks like: a base URL and a session that sends the token."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url
        self.session = session

    def me(self) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/v1/userinfo", timeout=10)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def api(okta_session: requests.Session, okta_variant: Variant) -> ApiClient:
    # Session-scoped and built on okta_session: one client per token variant in use, shared by
    # every test of this worker that uses that variant.
    return ApiClient(okta_variant.issuer, okta_session)
