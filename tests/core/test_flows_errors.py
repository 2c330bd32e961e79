"""flows.exchange against the emulator when the sign-in cannot succeed: MFA, and every way an app,
a user or a variant is set up wrong, each with the error class and the fix a user reads.

Expectations come from Okta's documented behaviour, never from the emulator's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from support.core_helpers import (
    MFA_LOGIN,
    MFA_PASSWORD,
    SPA_CREDS,
    mfa_user,
    run,
    spa,
    web,
)

from pytest_okta_user import errors as e
from pytest_okta_user import options
from pytest_okta_user.diagnosis import (
    AUTH_SERVER,
    CLIENT_ID,
    CLIENT_SECRET,
    FLOW,
    PASSWORD,
    REDIRECT_URI,
    TOTP_SECRET,
    USER,
)
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import Variant

# --- MFA ------------------------------------------------------------------------------------------


def test_mfa_with_totp(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    variant = spa(okta, user=MFA_LOGIN)
    tokens = run(okta, variant, Credentials(password=MFA_PASSWORD, totp_secret=secret))
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert okta.count("factor_verify") == 1
    assert {"mfa", "otp", "pwd"} <= set(tokens.id_claims["amr"])


def test_mfa_code_replayed_waits_for_next_step(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    okta.clock.freeze()
    creds = Credentials(password=MFA_PASSWORD, totp_secret=secret)
    variant = spa(okta, user=MFA_LOGIN)
    run(okta, variant, creds)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    # Same 30 s step: Okta refuses the code as replayed; the flow waits for the next step.
    tokens = run(okta, variant, creds, sleep=sleep)
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert len(waits) == 1
    assert 0 < waits[0] <= 31
    assert okta.count("factor_verify") == 3


# --- one table: what is set up wrong -> the error and its fix -------------------------------------


def _nothing(okta: OktaEmulator) -> None:
    pass


@dataclass(frozen=True)
class Misconfigured:
    """One way a sign-in is set up wrong, and the error it must get."""

    variant: Callable[[OktaEmulator], Variant]
    credentials: Credentials
    error: type[e.OktaUserError] | tuple[type[e.OktaUserError], ...]
    says: tuple[str, ...]
    """Each of these is in the message (the fix names the setting or the admin page)."""
    setup: Callable[[OktaEmulator], object] = _nothing
    """What the org (or a fault) holds before the sign-in."""
    code: str | None = None
    status: int | None = None
    hides: tuple[str, ...] = ()
    """None of these (secrets) is in the message."""


def _locked_out_shown(okta: OktaEmulator) -> None:
    # With "show lockout failures" in the password policy, authn answers LOCKED_OUT
    # (https://developer.okta.com/docs/reference/api/authn/#primary-authentication).
    okta.org.show_lockout_failures = True
    okta.org.add_user("locked@example.com", "Locked-Passw0rd!", status="LOCKED_OUT")


def _code_only_app(client_id: str, secret: str) -> Callable[[OktaEmulator], object]:
    def setup(okta: OktaEmulator) -> object:
        return okta.org.add_app(
            client_id,
            app_type="web",
            client_secret=secret,
            redirect_uris=[DEMO.web_redirect_uri],
            grant_types=["authorization_code"],
        )

    return setup


def _authn_answers(body: dict[str, object]) -> Callable[[OktaEmulator], None]:
    def setup(okta: OktaEmulator) -> None:
        okta.faults.add("authn", status=200, body=body)

    return setup


_NO_ROPC_SECRET = "no-ropc-secret-0123456789abcdefghijkl"
_CODE_ONLY_SECRET = "code-only-secret-0123456789abcdefghij"

MISCONFIGURED = [
    pytest.param(
        Misconfigured(
            spa,
            Credentials(password="wrong-password"),
            e.AuthenticationError,
            says=(DEMO.user_login, PASSWORD, USER),
            code="E0000004",
            hides=("wrong-password",),
        ),
        id="wrong_password",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, user="old@example.com"),
            Credentials(password="Old-Passw0rd!"),
            e.PasswordExpired,
            says=(PASSWORD,),
            setup=lambda okta: okta.org.add_user(
                "old@example.com", "Old-Passw0rd!", status="PASSWORD_EXPIRED"
            ),
        ),
        id="password_expired",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, user="locked@example.com"),
            Credentials(password="Locked-Passw0rd!"),
            e.LockedOut,
            says=("Unlock", "locked@example.com", PASSWORD),
            setup=_locked_out_shown,
        ),
        id="locked_out_status_shown",
    ),
    pytest.param(
        Misconfigured(
            spa,
            SPA_CREDS,
            e.MfaEnrollRequired,
            says=(TOTP_SECRET,),
            setup=_authn_answers(
                {
                    "stateToken": "00s",
                    "status": "MFA_ENROLL",
                    "_embedded": {
                        "factors": [{"factorType": "token:software:totp", "provider": "GOOGLE"}]
                    },
                }
            ),
        ),
        id="mfa_enroll",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, user=MFA_LOGIN),
            Credentials(password=MFA_PASSWORD),
            e.MfaRequired,
            says=(TOTP_SECRET, "token:software:totp"),
            setup=mfa_user,
        ),
        id="mfa_without_totp_secret",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, user=MFA_LOGIN),
            Credentials(password=MFA_PASSWORD, totp_secret=pyotp.random_base32()),
            e.InvalidPasscode,
            says=(TOTP_SECRET,),
            setup=mfa_user,
            code="E0000068",
        ),
        id="mfa_with_the_wrong_secret",
    ),
    pytest.param(
        Misconfigured(
            spa,
            Credentials(password=DEMO.user_password, totp_secret=pyotp.random_base32()),
            e.MfaRequired,
            says=("push", "none is TOTP"),
            setup=_authn_answers(
                {
                    "stateToken": "00state",
                    "expiresAt": "2030-01-01T00:00:00.000Z",
                    "status": "MFA_REQUIRED",
                    "_embedded": {
                        "user": {"id": DEMO.user_id, "profile": {"login": DEMO.user_login}},
                        "factors": [{"id": "opf1", "factorType": "push", "provider": "OKTA"}],
                    },
                }
            ),
        ),
        id="mfa_required_without_a_totp_factor",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, redirect_uri="http://localhost:9999/not-registered"),
            SPA_CREDS,
            e.RedirectUriNotRegistered,
            says=("http://localhost:9999/not-registered", REDIRECT_URI, "Sign-in redirect URIs"),
            status=400,
        ),
        id="redirect_uri_not_registered",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, client_id="0oanosuchclient0000"),
            SPA_CREDS,
            e.UnknownClient,
            says=("0oanosuchclient0000", CLIENT_ID),
            status=400,
        ),
        id="unknown_client",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: web(okta, "implicit", client_id="0oacodeonly000000001"),
            Credentials(password=DEMO.user_password, client_secret=_CODE_ONLY_SECRET),
            e.ResponseTypeNotEnabled,
            says=("Implicit (hybrid)",),
            setup=_code_only_app("0oacodeonly000000001", _CODE_ONLY_SECRET),
            code="unsupported_response_type",
        ),
        id="implicit_not_enabled",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, user="loner@example.com"),
            Credentials(password="Loner-Passw0rd!"),
            e.AccessDenied,
            says=("Assignments", "loner@example.com"),
            setup=lambda okta: okta.org.add_user("loner@example.com", "Loner-Passw0rd!", apps=[]),
        ),
        id="user_not_assigned",
    ),
    pytest.param(
        Misconfigured(
            spa,
            SPA_CREDS,
            e.LoginRequired,
            says=("sessionToken",),
            setup=_authn_answers(
                {
                    "status": "SUCCESS",
                    "sessionToken": "20111used0session0token",
                    "_embedded": {
                        "user": {"id": DEMO.user_id, "profile": {"login": DEMO.user_login}}
                    },
                }
            ),
            code="login_required",
        ),
        id="used_session_token_is_login_required",
    ),
    pytest.param(
        Misconfigured(
            web,
            Credentials(password=DEMO.user_password, client_secret="not-the-secret"),
            e.InvalidClient,
            says=(CLIENT_SECRET,),
            status=401,
            hides=("not-the-secret",),
        ),
        id="wrong_client_secret",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: web(okta, "password", client_id="0oanoropc00000000001"),
            Credentials(password=DEMO.user_password, client_secret=_NO_ROPC_SECRET),
            e.UnauthorizedClient,
            says=("Advanced", "Resource Owner Password"),
            setup=_code_only_app("0oanoropc00000000001", _NO_ROPC_SECRET),
        ),
        id="password_grant_not_enabled",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: web(okta, "password"),
            Credentials(password="wrong", client_secret=DEMO.web_client_secret),
            e.InvalidGrant,
            says=(PASSWORD,),
        ),
        id="password_grant_wrong_password",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, scopes=("openid", "no:such:scope")),
            SPA_CREDS,
            e.InvalidScope,
            says=(str(options.SCOPES.flag),),
        ),
        id="unknown_scope",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: spa(okta, issuer=f"{okta.url}/oauth2/nosuchserver"),
            SPA_CREDS,
            e.ConfigurationError,
            says=(AUTH_SERVER,),
        ),
        id="unknown_auth_server",
    ),
    pytest.param(
        # The org server takes client_credentials only with private_key_jwt
        # (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/).
        Misconfigured(
            lambda okta: Variant(
                okta.url, DEMO.service_client_id, None, "client_credentials", ("api:read",)
            ),
            Credentials(client_secret=DEMO.service_client_secret),
            e.InvalidClient,
            says=(AUTH_SERVER,),
            status=401,
        ),
        id="client_credentials_on_org_server",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: Variant(
                okta.issuer, DEMO.service_client_id, None, "client_credentials", ("openid",)
            ),
            Credentials(client_secret=DEMO.service_client_secret),
            e.InvalidScope,
            says=("custom scopes",),
        ),
        id="client_credentials_with_openid",
    ),
    pytest.param(
        # Classic: invalid_grant "...cannot be used with MFA enabled."; Identity Engine:
        # mfa_required.
        Misconfigured(
            lambda okta: web(okta, "password", user="mfa@example.com"),
            Credentials(password="Mfa-Passw0rd!", client_secret=DEMO.web_client_secret),
            (e.InvalidGrant, e.MfaRequired),
            says=(FLOW, TOTP_SECRET),
            setup=lambda okta: okta.org.add_user(
                "mfa@example.com", "Mfa-Passw0rd!", totp_secret=pyotp.random_base32()
            ),
        ),
        id="password_grant_for_an_mfa_user",
    ),
    pytest.param(
        Misconfigured(
            lambda okta: web(okta, "password", user="old@example.com"),
            Credentials(password="Old-Passw0rd!", client_secret=DEMO.web_client_secret),
            e.PasswordExpired,
            says=(PASSWORD,),
            setup=lambda okta: okta.org.add_user(
                "old@example.com", "Old-Passw0rd!", status="PASSWORD_EXPIRED"
            ),
            code="invalid_grant",
        ),
        id="password_grant_with_an_expired_password",
    ),
]


@pytest.mark.parametrize("case", MISCONFIGURED)
def test_sign_in_gets_the_error_with_its_fix(okta: OktaEmulator, case: Misconfigured) -> None:
    case.setup(okta)
    with pytest.raises(case.error) as info:
        run(okta, case.variant(okta), case.credentials)
    message = str(info.value)
    for needle in case.says:
        assert needle in message
    for secret in case.hides:
        assert secret not in message
    if case.code is not None:
        assert info.value.code == case.code
    if case.status is not None:
        assert info.value.status == case.status


# --- errors whose check does not fit the table --------------------------------------------------


def test_locked_out(okta: OktaEmulator) -> None:
    okta.org.add_user("locked@example.com", "Locked-Passw0rd!", status="LOCKED_OUT")
    # Okta's default password policy hides the lockout behind E0000004
    # (https://developer.okta.com/docs/reference/api/authn/#primary-authentication).
    with pytest.raises(e.AuthenticationError) as info:
        run(okta, spa(okta, user="locked@example.com"), Credentials(password="Locked-Passw0rd!"))
    assert "locked" in str(info.value).lower()


def test_confidential_app_without_secret(okta: OktaEmulator) -> None:
    # A Web app used as if it were public: Okta wants its credentials at /token.
    with pytest.raises((e.InvalidClient, e.InvalidRequest)) as info:
        run(okta, web(okta, "pkce"), SPA_CREDS)
    assert CLIENT_SECRET in str(info.value) or FLOW in str(info.value)


@pytest.mark.parametrize("state", [None, "another-sign-in"])
def test_error_redirect_without_our_state_is_not_taken_as_the_answer(
    okta: OktaEmulator, state: str | None
) -> None:
    # Okta echoes state on error redirects (RFC 6749, section 4.1.2.1); one without ours answers
    # something else.
    location = f"{DEMO.spa_redirect_uri}?error=access_denied&error_description=Denied."
    if state:
        location += f"&state={state}"
    okta.faults.add("authorize", status=302, headers={"Location": location})
    with pytest.raises(e.StateMismatch, match="error without the state we sent"):
        run(okta, spa(okta), SPA_CREDS)
