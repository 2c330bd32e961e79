"""A full working configuration, as it would come from the environment, and ``resolve`` over it
(settings and marker tests, no pytest in the loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_okta_user.settings import Settings, resolve

ORG = "https://dev-123.okta.com"
ENV = {
    "OKTA_DOMAIN": "dev-123.okta.com",
    "OKTA_CLIENT_ID": "0oa_env",
    "OKTA_CLIENT_SECRET": "client-secret-value",
    "OKTA_REDIRECT_URI": "http://localhost:8080/callback",
    "OKTA_USERNAME": "env@example.com",
    "OKTA_PASSWORD": "pass word ",
}


def run(
    cli: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    ini: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Settings:
    """``resolve`` with empty sources by default, from a folder that does not exist (so nothing
    relative to the real cwd can leak in)."""
    kwargs.setdefault("cwd", Path("/nonexistent-cwd"))
    return resolve(cli or {}, env or {}, ini or {}, **kwargs)
