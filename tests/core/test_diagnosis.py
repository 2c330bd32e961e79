"""diagnosis: each Okta answer maps to the error class (from errors) and the fix a user needs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from pytest_okta_user import diagnosis as d
from pytest_okta_user import errors as e
from pytest_okta_user import options

CATALOGUE = Path("/work/shared/okta-catalogue")


def _catalogue_texts(error: str) -> set[str]:
    path = CATALOGUE / "oauth2-error-codes.json"
    if not path.exists():
        return set()
    entries = json.loads(path.read_text())["errors"]
    return {x["errorDescription"] for x in entries if x["errorCode"] == error}


def test_message_is_what_then_fix() -> None:
    error = e.OktaUserError("It broke.", "do this", code="x", status=400)
    assert str(error) == "It broke.\n  fix: do this"
    assert (error.what, error.fix, error.code, error.status) == ("It broke.", "do this", "x", 400)
    assert str(e.OktaUserError("Only what.")) == "Only what."


@pytest.mark.parametrize(
    ("code", "status", "cls", "needles"),
    [
        ("E0000004", 401, e.AuthenticationError, [d.USER, d.PASSWORD, "Authentication failed"]),
        ("E0000068", 403, e.InvalidPasscode, [d.TOTP_SECRET]),
        ("E0000082", 403, e.InvalidPasscode, ["once", "30 s"]),
        ("E0000083", 403, e.InvalidPasscode, ["clock"]),
        ("E0000069", 403, e.LockedOut, ["Reset Multifactor"]),
        ("E0000064", 401, e.PasswordExpired, [d.PASSWORD]),
        ("E0000047", 429, e.RateLimited, ["cache"]),
        ("E0000007", 404, e.ConfigurationError, [d.AUTH_SERVER, d.DOMAIN]),
        ("E0000011", 401, e.AuthenticationError, ["run again"]),
        ("E0000999", 400, e.OktaRejected, ["E0000999", "System Log"]),
        ("E0000009", 500, e.UnexpectedResponse, ["HTTP 500", "later"]),
    ],
)
def test_api_errors(code: str, status: int, cls: type, needles: list[str]) -> None:
    body = {
        "errorCode": code,
        "errorSummary": "Authentication failed" if code == "E0000004" else "Something",
        "errorLink": code,
        "errorId": "oae123",
        "errorCauses": [],
    }
    error = d.api_error(body, status=status, endpoint="/api/v1/authn")
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    for needle in needles:
        assert needle in str(error)


def test_api_error_keeps_causes() -> None:
    body = {
        "errorCode": "E0000068",
        "errorSummary": "Invalid Passcode/Answer",
        "errorCauses": [{"errorSummary": "Your passcode doesn't match our records."}],
    }
    assert "doesn't match our records" in str(d.api_error(body, status=403, endpoint="verify"))


OAUTH_CASES = [
    # (error, description, context, class, needles in the message)
    ("invalid_client", "No client credentials found.", {}, e.InvalidClient, [d.CLIENT_SECRET]),
    (
        "invalid_client",
        "Client authentication failed. Either the client or the client credentials are invalid.",
        {},
        e.InvalidClient,
        [d.CLIENT_ID, d.CLIENT_SECRET],
    ),
    (
        "invalid_client",
        "Client Credentials requests to the Org Authorization Server must use the"
        " private_key_jwt token_endpoint_auth_method.",
        {},
        e.InvalidClient,
        [d.AUTH_SERVER],
    ),
    (
        "invalid_client",
        "Invalid value for 'client_id' parameter.",
        {},
        e.UnknownClient,
        [d.CLIENT_ID],
    ),
    (
        "unsupported_response_type",
        "The response type is not supported by the authorization server. Configured response"
        " types: [code].",
        {"flow": "implicit"},
        e.ResponseTypeNotEnabled,
        ["Implicit (hybrid)", d.FLOW, "Configured response types: [code]"],
    ),
    (
        "login_required",
        "The client specified not to prompt, but the user is not logged in.",
        {},
        e.LoginRequired,
        ["sessionToken", "5 minutes"],
    ),
    (
        "login_required",
        "The client specified not to prompt, but the client app requires re-authentication or MFA.",
        {},
        e.LoginRequired,
        ["Sign On", d.TOTP_SECRET],
    ),
    (
        "access_denied",
        "User is not assigned to the client application.",
        {"user": "tester@example.com"},
        e.AccessDenied,
        ["Assignments", "tester@example.com"],
    ),
    (
        "access_denied",
        "Policy evaluation failed for this request, please check the policy configurations.",
        {"client_id": "0oa1"},
        e.AccessDenied,
        ["Access Policies", "0oa1"],
    ),
    (
        "consent_required",
        "The following scopes require user consent: [api:read].",
        {},
        e.ConsentRequired,
        ["Require consent"],
    ),
    (
        "invalid_scope",
        "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the"
        " resource owner.",
        {},
        e.InvalidScope,
        [d.SCOPES],
    ),
    (
        "unauthorized_client",
        "The client is not authorized to use the provided grant type. Configured grant types:"
        " [authorization_code].",
        {"grant_type": "password"},
        e.UnauthorizedClient,
        ["Advanced", "Resource Owner Password", "Grant type"],
    ),
    (
        "unauthorized_client",
        "The client is not authorized to use the provided grant type. Configured grant types:"
        " [password].",
        {"grant_type": "authorization_code"},
        e.UnauthorizedClient,
        ["Authorization Code"],
    ),
    (
        "unauthorized_client",
        "The client is not authorized to use the provided grant type.",
        {"grant_type": "refresh_token"},
        e.UnauthorizedClient,
        ["Refresh Token", d.SCOPES],
    ),
    (
        "unsupported_grant_type",
        "'client_credentials' grant type can only be used with a custom authorization server.",
        {"grant_type": "client_credentials"},
        e.UnauthorizedClient,
        [d.AUTH_SERVER],
    ),
    (
        "invalid_grant",
        "The authorization code is invalid or has expired.",
        {},
        e.InvalidGrant,
        ["5 minutes"],
    ),
    ("invalid_grant", "PKCE verification failed.", {}, e.InvalidGrant, ["code_verifier"]),
    (
        "invalid_grant",
        "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        {},
        e.InvalidGrant,
        [d.REDIRECT_URI],
    ),
    (
        "invalid_grant",
        "The refresh token is invalid or expired.",
        {},
        e.InvalidGrant,
        [str(options.CLEAR_CACHE.flag)],
    ),
    (
        "invalid_grant",
        "The credentials provided were invalid.",
        {},
        e.InvalidGrant,
        [d.USER, d.PASSWORD],
    ),
    ("invalid_grant", "Password has expired.", {}, e.PasswordExpired, [d.PASSWORD]),
    (
        "invalid_grant",
        "Resource owner password credentials cannot be used with MFA enabled.",
        {},
        e.InvalidGrant,
        [d.FLOW, d.TOTP_SECRET],
    ),
    (
        "invalid_grant",
        "API call exceeded rate limit due to too many requests.",
        {},
        e.RateLimited,
        ["cache"],
    ),
    (
        "invalid_request",
        "PKCE code challenge is required by the application.",
        {},
        e.InvalidRequest,
        [d.FLOW, "pkce"],
    ),
    (
        "invalid_request",
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
        {"redirect_uri": "http://localhost/cb"},
        e.RedirectUriNotRegistered,
        ["http://localhost/cb", d.REDIRECT_URI, "Sign-in redirect URIs"],
    ),
    ("server_error", "boom", {}, e.UnexpectedResponse, ["later"]),
    ("weird_error", "A new thing.", {}, e.OktaRejected, ["weird_error", "A new thing."]),
]


@pytest.mark.parametrize(("error", "description", "context", "cls", "needles"), OAUTH_CASES)
def test_oauth_errors(
    error: str, description: str, context: dict[str, str], cls: type, needles: list[str]
) -> None:
    raised = d.oauth_error(error, description, status=400, endpoint="/token", **context)
    assert type(raised) is cls
    assert raised.code == error
    assert raised.description == description
    text = str(raised)
    assert f"{error}: {description}" in text
    for needle in needles:
        assert needle in text, text
    assert "\n  fix: " in text


def test_oauth_cases_use_okta_texts() -> None:
    """The descriptions above are Okta's own (catalogue), so the mapping matches real answers."""
    if not (CATALOGUE / "oauth2-error-codes.json").exists():
        pytest.skip("catalogue not available")
    ours = {"server_error", "weird_error"}
    for error, description, *_ in OAUTH_CASES:
        if error in ours or error == "consent_required":
            continue
        texts = _catalogue_texts(error)
        # The catalogue writes variable parts as "en".
        normalised = {t.replace("[en]", "[]") for t in texts}
        candidate = description.split(" Configured")[0]
        assert any(candidate in t for t in texts | normalised), (error, description)


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        (
            "Identity Provider: Unknown Error Code: invalid_request Description: The 'redirect_uri'"
            " parameter must be a Login redirect URI in the client app settings.",
            e.RedirectUriNotRegistered,
        ),
        (
            "Error Code: invalid_client Description: Invalid value for 'client_id' parameter.",
            e.UnknownClient,
        ),
        ("Something else entirely", e.UnexpectedResponse),
    ],
)
def test_authorize_error_page(text: str, cls: type) -> None:
    raised = d.authorize_error_page(
        text, status=400, client_id="0oa1", redirect_uri="http://localhost/cb"
    )
    assert type(raised) is cls
    assert raised.status == 400
    if cls is e.RedirectUriNotRegistered:
        assert "http://localhost/cb" in str(raised)
        assert d.REDIRECT_URI in str(raised)
    if cls is e.UnknownClient:
        assert "0oa1" in str(raised)
        assert d.CLIENT_ID in str(raised)


def test_every_class_is_an_okta_user_error() -> None:
    # errors.py also holds the plugin's warning classes (UserWarning): they are not raised.
    for name in dir(e):
        obj = getattr(e, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, e.OktaUserError), name


def test_errors_survive_pickling() -> None:
    error = d.oauth_error(
        "invalid_grant", "PKCE verification failed.", status=400, endpoint="/token"
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is e.InvalidGrant
    assert (again.what, again.fix, again.code, again.status) == (
        error.what,
        error.fix,
        error.code,
        error.status,
    )
    assert str(again) == str(error)


def test_rate_limit_restart_keeps_its_wait_when_pickled() -> None:
    error = e.RateLimitRestart("Okta's rate limit at /token.", "wait.", status=429, wait=12.0)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is e.RateLimitRestart
    assert isinstance(again, e.RateLimited)
    assert (again.what, again.status, again.wait) == (error.what, 429, 12.0)
