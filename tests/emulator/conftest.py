"""Fixtures for the emulator's tests (helpers live in emulator_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from emulator_helpers import Client

from pytest_okta_user.emulator import OktaEmulator


@pytest.fixture
def client(okta: OktaEmulator) -> Iterator[Client]:
    with requests.Session() as http:
        yield Client(okta, http)
