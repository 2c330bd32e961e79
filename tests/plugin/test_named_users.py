"""Several users and apps in one suite, and one sign-in per user: the Okta session the first
sign-in starts serves every other variant of that user, in every worker and in later runs.

The emulator's request log is the witness: ``authn`` counts sign-ins, ``factor_verify`` TOTP codes,
``authorize`` the variants exchanged.
"""

from __future__ import annotations

import re

import pytest

from pytest_okta_user.emulator import OktaEmulator

FLOWS = '["code", "pkce", "implicit"]'
SCOPE_SETS = '[["openid", "profile", "email"], ["openid", "email"]]'

SUITE = f"""
import pytest

@pytest.mark.okta(flow={FLOWS}, scopes={SCOPE_SETS})
def test_default_user(okta_user):
    assert okta_user.login == "tester@example.com"

@pytest.mark.okta(user="admin", flow={FLOWS}, scopes={SCOPE_SETS})
def test_admin(okta_user, okta_access_token):
    assert okta_user.login == "admin@example.com"

@pytest.mark.okta(app="spa", flow="pkce")
def test_spa(okta_tokens):
    assert okta_tokens.access_claims["cid"] == "0oademo1spa0client01"

@pytest.mark.okta(app="service", flow="client_credentials", scopes="api:read")
def test_service(okta_tokens):
    assert okta_tokens.scopes == ("api:read",)
"""

#: The inner run's clock follows the emulator's: the outer test says how far it moved it.
CLOCK_CONFTEST = """
import os
import time

import pytest

@pytest.fixture(scope="session")
def okta_clock():
    offset = float(os.environ.get("NAMED_USERS_CLOCK_OFFSET", "0"))
    return lambda: time.time() + offset
"""

VARIANTS = 6 + 6 + 1 + 1


def answered(okta: OktaEmulator, endpoint: str) -> list[int]:
    return [r.status for r in okta.requests if r.endpoint == endpoint]


@pytest.fixture
def suite(pytester: pytest.Pytester, emulator_env: dict[str, str]) -> pytest.Pytester:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CLOCK_CONFTEST)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:hypothesispytest", "-n", "4", *args)


def test_one_sign_in_per_user_cold_none_warm_and_one_again_once_the_session_ends(
    suite: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = run(suite)
    cold.assert_outcomes(passed=VARIANTS)
    # Two users, one sign-in each, whatever the flows, scopes, apps and workers; admin's TOTP
    # code once, never refused as reused (E0000082), and never waited for.
    assert answered(okta, "authn") == [200, 200]
    assert answered(okta, "factor_verify") == [200]
    assert "waiting" not in cold.stdout.str()
    # Every variant exchanged once: a token grant each but the four implicit ones (their tokens
    # come with /authorize's answer), an /authorize each but the service app's
    # client_credentials (a grant that meets the per-user rate limit, 429, starts over from
    # /authorize, so /authorize may count more).
    assert answered(okta, "token").count(200) == VARIANTS - 4
    assert len(answered(okta, "authorize")) >= VARIANTS - 1
    assert re.search(
        rf"okta-user: {VARIANTS} token variants in \d processes: 3 sign-ins, 11 from Okta sessions",
        cold.stdout.str(),
    ), cold.stdout.str()

    warm = run(suite)
    warm.assert_outcomes(passed=VARIANTS)
    assert len(answered(okta, "authn")) == 2
    assert answered(okta, "token").count(200) == VARIANTS - 4

    # Past the tokens' hour and the Okta sessions' two hours, on both clocks: every variant is
    # exchanged again, the sessions answer login_required, and each user signs in once more.
    okta.clock.advance(7200 + 60)
    monkeypatch.setenv("NAMED_USERS_CLOCK_OFFSET", str(7200 + 60))
    expired = run(suite)
    expired.assert_outcomes(passed=VARIANTS)
    assert answered(okta, "authn") == [200] * 4
    assert answered(okta, "factor_verify") == [200] * 2


def test_a_wrong_password_reaches_okta_once_for_all_the_users_variants_and_workers(
    suite: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKTA_ADMIN_PASSWORD", "not-the-password")

    result = run(suite, "-rE")

    result.assert_outcomes(passed=VARIANTS - 6, errors=6)
    # One refused authn for admin, one accepted for the default user: the refusal is recorded for
    # the user and replayed to its other five variants in every worker.
    assert sorted(answered(okta, "authn")) == [200, 401]
    admin = okta.org.user_by_login("admin@example.com")
    assert admin is not None
    assert admin.failed_logins == 1
    output = result.stdout.str()
    assert output.count("ERROR test_suite.py::test_admin") == 6
    assert "OKTA_ADMIN_PASSWORD" in output
    assert "not-the-password" not in output


def test_a_name_without_settings_is_one_line_naming_its_variables(
    pytester: pytest.Pytester, emulator_env: dict[str, str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.okta(user="reader")
        def test_reader(okta_access_token):
            pass

        @pytest.mark.okta(app="mobile")
        def test_mobile(okta_access_token):
            pass

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:hypothesispytest", "-rE")
    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    assert "OKTA_READER_USERNAME" in output
    assert "OKTA_READER_PASSWORD" in output
    assert "OKTA_READER_TOTP_SECRET" in output
    assert "OKTA_MOBILE_CLIENT_ID" in output
    assert "Traceback" not in output


def test_named_users_and_apps_come_from_the_ini_file_and_show_in_the_header(
    pytester: pytest.Pytester,
    okta: OktaEmulator,
    emulator_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The login and the client in the ini file, the secrets in the environment.
    monkeypatch.delenv("OKTA_ADMIN_USERNAME")
    monkeypatch.delenv("OKTA_SPA_CLIENT_ID")
    monkeypatch.delenv("OKTA_SPA_REDIRECT_URI")
    pytester.makeini(
        f"""
        [pytest]
        okta_admin_username = admin@example.com
        okta_spa_client_id = {emulator_env["OKTA_SPA_CLIENT_ID"]}
        okta_spa_redirect_uri = {emulator_env["OKTA_SPA_REDIRECT_URI"]}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.okta(user="admin", app="spa")
        def test_admin_on_the_spa(okta_user, okta_tokens):
            assert okta_user.login == "admin@example.com"
            assert okta_tokens.access_claims["cid"] == "0oademo1spa0client01"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:hypothesispytest", "-v", "--strict-config", "-W", "error"
    )
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert "okta user admin: login admin@example.com (from ini okta_admin_username" in output
    assert "password set (from env OKTA_ADMIN_PASSWORD)" in output
    assert "okta app spa: client id 0oademo1spa0client01 (from ini okta_spa_client_id" in output
    assert "Unknown config option" not in output
