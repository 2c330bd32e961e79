"""Each flow against the emulator, through the okta marker, with and without xdist; a user's
session-scoped fixture built on the plugin's fixtures follows the marker."""

from __future__ import annotations

import json

import pytest
from support.inner import RunInner
from support.marker_ids import single

from pytest_okta_user.emulator import DEMO, OktaEmulator

SUITE = """
import hashlib
import json
import os

import pytest

def fingerprint(token):
    return hashlib.sha256(token.encode()).hexdigest()[:12]

@pytest.fixture(scope="session")
def api(okta_access_token, okta_variant):
    # A user's own session fixture on the plugin's: log each time pytest builds it.
    with open(os.environ["SESSION_LOG"], "a") as log:
        log.write(json.dumps([okta_variant.flow, fingerprint(okta_access_token)]) + "\\n")
    return okta_variant.flow, okta_access_token

def test_default(api, okta_access_token, okta_variant):
    assert okta_variant.flow == "pkce"
    assert api == ("pkce", okta_access_token)

@pytest.mark.okta(flow=["code", "pkce", "implicit"])
def test_flow(api, okta_variant, okta_tokens, okta_id_token, okta_user, okta_session):
    flow, token = api
    assert flow == okta_variant.flow
    assert token == okta_tokens.access_token
    assert okta_id_token == okta_tokens.id_token
    assert okta_tokens.id_claims["sub"] == okta_user.id == "{user_id}"
    assert okta_user.login == "{login}"
    response = okta_session.get(okta_variant.issuer + "/v1/userinfo", timeout=10)
    assert response.status_code == 200
    assert response.json()["sub"] == okta_user.id

@pytest.mark.okta(flow="code")
class TestClassMarker:
    def test_class_marker_applies(self, okta_variant):
        assert okta_variant.flow == "code"

    @pytest.mark.okta(scopes="openid email")
    def test_closest_marker_wins_per_argument(self, okta_variant, okta_tokens):
        assert (okta_variant.flow, okta_variant.scopes) == ("code", ("email", "openid"))
        assert okta_tokens.id_claims["email"] == "{login}"

def test_without_okta():
    assert True
""".replace("{user_id}", DEMO.user_id).replace("{login}", DEMO.user_login)


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["one-process", "xdist"])
def test_each_flow_signs_in_once_and_feeds_session_fixtures(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
    xdist: tuple[str, ...],
) -> None:
    log = pytester.path / "session.log"
    monkeypatch.setenv("SESSION_LOG", str(log))
    pytester.makepyfile(test_suite=SUITE)

    result = run_inner("-v", *xdist)

    result.assert_outcomes(passed=7)
    output = result.stdout.str()
    for test_id in ("test_flow[code]", "test_flow[pkce]", "test_flow[implicit]"):
        # -v prints "<id> PASSED", and under xdist "PASSED <id>".
        assert f"{test_id} PASSED" in output or f"PASSED test_suite.py::{test_id}" in output
    # Variants: pkce (default), code, implicit, code with fewer scopes: one /authorize each,
    # however many processes asked, and one sign-in for the user: the Okta session it started
    # serves the other three.
    assert okta.count("authn") == 1
    assert "1 sign-in, 3 from Okta sessions" in output
    # Default response modes (query for code and pkce, fragment for implicit) redirect: 302.
    assert [r.status for r in okta.requests if r.endpoint == "authorize"] == [302] * 4
    assert "okta-user: 4 token variants" in output
    # The user's session fixture: built for each variant in use; one token per variant.
    built = [json.loads(line) for line in log.read_text().splitlines()]
    assert {flow for flow, _ in built} == {"pkce", "code", "implicit"}
    tokens = {flow: {fp for f, fp in built if f == flow} for flow in ("pkce", "code", "implicit")}
    assert all(len(fps) == 1 for fps in tokens.values()), tokens
    assert len({fp for _, fp in built}) == 3
    # No secret reaches the output.
    for secret in (emulator_env["OKTA_PASSWORD"], emulator_env["OKTA_CLIENT_SECRET"]):
        assert secret not in output


MODES_SUITE = """
import pytest

@pytest.mark.okta(flow=["code", "pkce", "implicit"])
def test_flow(okta_tokens, okta_user):
    assert okta_tokens.access_token
    assert okta_tokens.id_token
    assert okta_user.login == "{login}"
""".replace("{login}", DEMO.user_login)


# The flows' defaults (query for code and pkce, fragment for implicit) run in the test above.
@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_each_browser_flow_in_each_response_mode(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    monkeypatch.setenv("OKTA_RESPONSE_MODE", mode)
    pytester.makepyfile(test_modes=MODES_SUITE)

    result = run_inner("-v")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"okta response mode: {mode} (from env OKTA_RESPONSE_MODE)"])
    authorize = [r.status for r in okta.requests if r.endpoint == "authorize"]
    # /authorize redirects (302) with a query or fragment, and answers form_post with a form (200).
    assert authorize == [200 if mode == "form_post" else 302] * 3


MARKER_ARGS_SUITE = """
import pytest

@pytest.mark.okta(user=["{second}", "{first}"], flow="password")
def test_user(okta_user, okta_variant):
    assert okta_user.login == okta_variant.user

@pytest.mark.okta(auth_server="org", scopes="openid")
def test_org_server(okta_tokens, okta_variant):
    assert okta_variant.issuer == okta_tokens.id_claims["iss"]
    assert "/oauth2/" not in okta_variant.issuer

def test_factory(okta_token_factory):
    tokens = okta_token_factory(user="{second}", flow="code")
    assert tokens.user["profile"]["login"] == "{second}"
""".replace("{first}", DEMO.user_login).replace("{second}", "second@example.com")


#: Brackets are fnmatch's character sets: matched as any character.
_ANY = str.maketrans("[]", "??")


def test_marker_user_and_auth_server_and_the_token_factory_reach_the_exchange(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
) -> None:
    # A second user of the demo apps, with the same password (OKTA_PASSWORD serves every user).
    okta.org.add_user(
        "second@example.com",
        emulator_env["OKTA_PASSWORD"],
        apps=[DEMO.web_client_id, DEMO.spa_client_id],
    )
    pytester.makepyfile(test_args=MARKER_ARGS_SUITE)

    result = run_inner("-v")

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines_random(
        [
            # Only the listed values name the tests (issue 10, point 3).
            "*test_user?second@example.com? PASSED*",
            f"*test_user?{DEMO.user_login}? PASSED*",
            "*" + single("test_org_server", "openid-as-org").translate(_ANY) + " PASSED*",
        ]
    )


def test_a_marker_asking_for_the_defaults_shares_the_unmarked_fixtures(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    # pkce and these scopes are the defaults: a user's session fixture is built once, not again
    # for the marked tests; a marker that changes something still gets its own.
    pytester.makeconftest(
        """
        import pytest

        BUILT = []

        @pytest.fixture(scope="session")
        def api_client(okta_access_token, okta_variant):
            BUILT.append(okta_variant.flow)
            return object()

        def pytest_sessionfinish(session):
            print("\\nbuilt:", BUILT)
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_unmarked(api_client):
            pass

        @pytest.mark.okta(flow="pkce", scopes="email openid profile", min_ttl=60)
        def test_marked_with_the_defaults(api_client):
            pass

        @pytest.mark.okta(flow="code")
        def test_marked_otherwise(api_client):
            pass
        """
    )
    result = run_inner("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["built: ['pkce', 'code']"])


HAND_OVER = """
import pytest

def test_1_first_token(okta_access_token):
    assert okta_access_token

def test_2_a_fixture_first_set_up_later(okta_variant, okta_id_token, request):
    # The default request, whether the hand-over hook handed it or has left already.
    assert okta_variant.flow == "pkce"
    assert okta_id_token
    assert request.config.pluginmanager.has_plugin("okta_user.request") is {kept}
"""

MARKED = """
@pytest.mark.okta(flow="code")
def test_3_marked(okta_variant, okta_access_token):
    assert okta_variant.flow == "code"
"""


@pytest.mark.parametrize("marked", [False, True], ids=["no marker", "a marked test"])
def test_the_request_hand_over_leaves_a_run_without_markers(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str], marked: bool
) -> None:
    """pluggy calls the hand-over's pytest_fixture_setup for every fixture of every test: a run
    whose tests no marker parametrized unregisters it once its first fixture has the clock, and
    the fixtures set up after it get the default request all the same."""
    suite = HAND_OVER.replace("{kept}", str(marked)) + (MARKED if marked else "")
    pytester.makepyfile(test_suite=suite)
    run_inner("-p", "no:randomly").assert_outcomes(passed=3 if marked else 2)
