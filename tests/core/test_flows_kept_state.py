"""What a sign-in keeps for the next one in the same process: the issuer's keys (within their
Cache-Control lifetime, refetched once for an unknown kid) and open connections; never cookies.
Against the emulator over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.core_helpers import SPA_CREDS, WEB_CREDS, check_user_tokens, run, spa, web

from pytest_okta_user import client as client_module
from pytest_okta_user import flows
from pytest_okta_user.emulator import OktaEmulator


@pytest.fixture(autouse=True)
def _a_new_process() -> Iterator[None]:
    flows.forget_process_state()
    yield
    flows.forget_process_state()


def connections_opened(okta: OktaEmulator) -> int:
    manager = client_module._kept_session().get_adapter(okta.url).poolmanager
    # urllib3's RecentlyUsedContainer refuses iteration; keys() is its way.
    pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118
    return sum(p.num_connections for p in pools if (p.host, p.port) == ("127.0.0.1", okta.port))


def test_the_second_sign_in_fetches_no_keys_and_opens_no_connection(okta: OktaEmulator) -> None:
    first = run(okta, web(okta), WEB_CREDS)
    assert okta.count("keys") == 1
    second = run(okta, web(okta, "pkce"), WEB_CREDS)
    check_user_tokens(okta, first, web(okta))
    check_user_tokens(okta, second, web(okta, "pkce"))
    assert okta.count("keys") == 1
    assert [okta.count(x) for x in ("authn", "authorize", "token")] == [2, 2, 2]
    # Seven requests over one kept-alive connection.
    assert connections_opened(okta) == 1


def test_no_cookie_outlives_a_sign_in(okta: OktaEmulator) -> None:
    run(okta, spa(okta), SPA_CREDS)
    assert not client_module._kept_session().cookies


def test_keys_are_read_again_once_their_lifetime_is_over(okta: OktaEmulator) -> None:
    run(okta, web(okta), WEB_CREDS)
    # The emulator's /keys says max-age=86400, as Okta's does.
    okta.clock.advance(86_400)
    run(okta, web(okta), WEB_CREDS)
    assert okta.count("keys") == 2


def test_a_restarted_emulator_on_the_same_url_is_met_by_one_refetch() -> None:
    # New keys under the same URL (an emergency rotation, for the client): the cached set lacks
    # the token's kid, so the sign-in reads the JWKS once more and verifies.
    with OktaEmulator() as first:
        port = first.port
        run(first, web(first), WEB_CREDS)
    with OktaEmulator(port=port) as second:
        tokens = run(second, web(second), WEB_CREDS)
        check_user_tokens(second, tokens, web(second))
        assert second.count("keys") == 1


def test_another_thread_has_its_own_connections(okta: OktaEmulator) -> None:
    import threading

    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(client_module._kept_session()))
    worker.start()
    worker.join()
    assert seen[0] is not client_module._kept_session()
