"""Fixtures for the emulator's tests (the client they use is `support.emulator_client`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.emulator_client import Client

from pytest_okta_user.emulator import OktaEmulator


@pytest.fixture
def client(okta: OktaEmulator) -> Iterator[Client]:
    with requests.Session() as http:
        yield Client(okta, http)
