"""The run's emulator as a test sees it (on an xdist worker: its URL and demo settings)."""

from __future__ import annotations


def test_the_tokens_come_from_the_run_emulator(okta_emulator, okta_tokens) -> None:
    assert okta_tokens.id_claims["iss"].startswith(okta_emulator.url)
