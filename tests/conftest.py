"""Shared test fixtures: a clean environment and a fresh emulator over real HTTP on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_okta_user.emulator import OktaEmulator

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the developer's shell or CI must not leak into the tests (or their inner runs).

    PYTEST_XDIST_* come from the outer run's own workers; an inner run must not believe it is one.
    """
    for name in list(os.environ):
        if name.startswith(("OKTA_", "PYTEST_XDIST_")) or name in {
            "PYTEST_ADDOPTS",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",  # requests lets it override Session.verify, as REQUESTS_CA_BUNDLE
            "SSL_CERT_FILE",
        }:
            monkeypatch.delenv(name)


@pytest.fixture
def okta() -> Iterator[OktaEmulator]:
    """A fresh emulator with the seeded demo org, on an ephemeral loopback port."""
    from pytest_okta_user.emulator import OktaEmulator

    with OktaEmulator() as emulator:
        yield emulator
