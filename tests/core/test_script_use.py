"""A script gets what the plugin's fixtures get, from the same three calls the plugin makes:
``settings.resolve`` -> ``provider.build_provider`` -> ``marker.build_variant``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.provider import build_provider
from pytest_okta_user.settings import resolve

if TYPE_CHECKING:
    from pytest_okta_user.emulator import OktaEmulator


def test_a_script_signs_in_once_and_shares_the_token_cache(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest(flow="code"))

    tokens = build_provider(settings).get(variant)

    assert tokens.access_token
    assert tokens.id_claims["iss"] == f"{okta.url}/oauth2/default"
    # A second process (another provider over the same cache) reads what the first stored.
    again = build_provider(settings)
    assert again.get(variant).access_token == tokens.access_token
    assert again.stats.cache_hits == 1
    assert okta.count("authn") == 1
