"""OktaClient without a server: parsing /authorize answers, client auth, and transport faults that
the emulator cannot produce (DNS failure, a connection dropped after sending)."""

from __future__ import annotations

import contextlib
import html
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import urllib3.exceptions as u3
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from pytest_okta_user import diagnosis as d
from pytest_okta_user import errors as e
from pytest_okta_user.client import (
    ClientAuth,
    HttpOptions,
    OktaClient,
    _token_request,
    form_post_params,
    parse_authorize_response,
)

REDIRECT = "http://localhost:8080/callback"


def parse(status: int, text: str = "", **headers: str) -> Any:
    return parse_authorize_response(
        status,
        CaseInsensitiveDict(headers),
        text,
        client_id="0oa1",
        redirect_uri=REDIRECT,
        org_url="https://dev-1.okta.com",
    )


# --- /authorize answers ---------------------------------------------------------------------------


def test_query_redirect() -> None:
    result = parse(302, Location=f"{REDIRECT}?code=abc&state=s1")
    assert result.mode == "query"
    assert dict(result.params) == {"code": "abc", "state": "s1"}
    assert "abc" not in repr(result)


def test_fragment_redirect_with_tokens() -> None:
    location = (
        f"{REDIRECT}#access_token=at.x&token_type=Bearer&expires_in=3600"
        "&scope=openid+profile&id_token=id.y&state=s1"
    )
    result = parse(302, Location=location)
    assert result.mode == "fragment"
    assert result.params["scope"] == "openid profile"
    assert result.params["id_token"] == "id.y"


def test_redirect_uri_with_its_own_query_keeps_fragment_answer() -> None:
    result = parse(302, Location=f"{REDIRECT}?tenant=1#code=abc&state=s1")
    assert result.mode == "fragment"
    assert result.params["code"] == "abc"


def test_error_redirect_is_returned_not_raised() -> None:
    result = parse(
        302,
        Location=f"{REDIRECT}?error=access_denied"
        "&error_description=User+is+not+assigned+to+the+client+application.&state=s1",
    )
    assert result.params["error"] == "access_denied"
    assert result.params["error_description"] == "User is not assigned to the client application."


APP_FORM = """<!DOCTYPE html><html><head><title>Redirecting</title></head>
<body onload="document.getElementById('appForm').submit()">
<form id="appForm" method="POST" action="http://localhost:8080/callback">
<input type="hidden" name="code" value="c&amp;d"/>
<input type="hidden" name="state" value="s1"/>
</form><script>document.getElementById('appForm').submit();</script></body></html>"""


def test_form_post_app_form() -> None:
    result = parse(200, APP_FORM, **{"Content-Type": "text/html"})
    assert result.mode == "form_post"
    assert dict(result.params) == {"code": "c&d", "state": "s1"}


def test_form_post_any_form_with_oauth_fields() -> None:
    html = (
        "<html><body><form action='x' method='post'><input type='text' name='q' value='v'>"
        "</form><form method=post action=cb><INPUT TYPE=HIDDEN NAME=error VALUE=login_required>"
        "<input type=hidden name=state value=s1></form></body></html>"
    )
    assert form_post_params(html) == {"error": "login_required", "state": "s1"}


SIGN_IN_PAGE = """<html><head><title>Example - Sign In</title></head><body>
<form id="form19" action="/login/do-login" method="post">
<input type="hidden" name="fromURI" value="/oauth2/v1/authorize/redirect?okta_key=1"/>
<input type="text" name="username"/></form>
<script>var okta = {widget: true};</script></body></html>"""


def test_sign_in_page_is_login_required() -> None:
    with pytest.raises(e.LoginRequired) as info:
        parse(200, SIGN_IN_PAGE, **{"Content-Type": "text/html"})
    assert "sign-in page" in str(info.value)
    assert d.TOTP_SECRET in str(info.value)


def test_redirect_to_okta_sign_in_is_login_required() -> None:
    with pytest.raises(e.LoginRequired):
        parse(302, Location="https://dev-1.okta.com/login/login.htm?fromURI=%2Fx")


def test_relative_redirect_to_okta_sign_in_is_login_required() -> None:
    with pytest.raises(e.LoginRequired) as info:
        parse(302, Location="/login/login.htm?fromURI=%2Fx")
    assert not isinstance(info.value, e.IdpRedirect)


@pytest.mark.parametrize(
    "location",
    [
        # An OIDC IdP (Google): its own authorize request carries state, client_id, redirect_uri.
        "https://accounts.google.com/o/oauth2/v2/auth?client_id=123.apps.googleusercontent.com"
        "&redirect_uri=https%3A%2F%2Fdev-1.okta.com%2Foauth2%2Fv1%2Fauthorize%2Fcallback"
        "&response_type=code&scope=openid+email&state=okta-state-1&nonce=n1",
        # Another Okta org as an IdP (org2org): a code-shaped key must not pass for the answer.
        "https://other.okta.com/oauth2/v1/authorize#code=x&state=okta-state-1",
        # A SAML IdP.
        "https://idp.example.com/adfs/ls/?SAMLRequest=fZJNb9swDIbv&RelayState=abc",
        # Whatever the Location carries before the host stays out of the message.
        "https://okta-state-1:SAMLRequest@idp.example.com/sso",
    ],
)
def test_redirect_to_another_identity_provider(location: str) -> None:
    with pytest.raises(e.IdpRedirect) as info:
        parse(302, Location=location)
    message = str(info.value)
    assert message.startswith(
        "Okta redirected the sign-in to another identity provider (IdP routing rule) instead of"
        " answering"
    )
    assert "route the test user to Okta in Security > Identity Providers > Routing Rules" in message
    assert "or use a user Okta signs in itself" in message
    assert "okta-state-1" not in message
    assert "SAMLRequest" not in message


ERROR_PAGE = """<html><head><title>Example - Error</title></head><body>
<div class="content"><h1>400 Bad Request</h1>
<p>Identity Provider: Unknown</p><p>Error Code: invalid_request</p>
<p>Description: The 'redirect_uri' parameter must be a Login redirect URI in the client app
settings: https://dev-1-admin.okta.com/admin/app/oidc_client/instance/0oa1#tab-general</p>
</div></body></html>"""


def test_error_page_redirect_uri() -> None:
    with pytest.raises(e.RedirectUriNotRegistered) as info:
        parse(400, ERROR_PAGE, **{"Content-Type": "text/html"})
    assert REDIRECT in str(info.value)
    assert d.REDIRECT_URI in str(info.value)


def test_error_page_unknown_client() -> None:
    page = ERROR_PAGE.replace("invalid_request", "invalid_client").replace(
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app\nsettings:",
        "Invalid value for 'client_id' parameter.",
    )
    with pytest.raises(e.UnknownClient, match="0oa1"):
        parse(400, page, **{"Content-Type": "text/html"})


def test_json_error_at_authorize() -> None:
    body = (
        '{"errorCode":"E0000007",'
        '"errorSummary":"Not found: Resource not found: nope (AuthorizationServer)"}'
    )
    with pytest.raises(e.ConfigurationError, match="AuthorizationServer"):
        parse(404, body, **{"Content-Type": "application/json"})


def test_server_error_at_authorize() -> None:
    with pytest.raises(e.UnexpectedResponse, match="HTTP 502"):
        parse(502, "<html>Bad gateway</html>", **{"Content-Type": "text/html"})


# --- client authentication ------------------------------------------------------------------------


def test_client_auth_shapes_and_repr() -> None:
    basic = ClientAuth("0oa1", "s3cr3t-value")
    assert "s3cr3t" not in repr(basic)
    request = _token_request({"grant_type": "client_credentials"}, basic)
    assert request["auth"] == ("0oa1", "s3cr3t-value")
    assert "client_secret" not in request["data"]
    assert "s3cr3t" not in repr(request)

    post = _token_request(
        {"grant_type": "x"}, ClientAuth("0oa1", "s3cr3t-value", "client_secret_post")
    )
    assert post["data"]["client_id"] == "0oa1"
    assert post["data"]["client_secret"] == "s3cr3t-value"
    assert "auth" not in post

    public = _token_request({"grant_type": "x"}, ClientAuth("0oa1", None, "none"))
    assert public["data"] == {"grant_type": "x", "client_id": "0oa1"}
    with pytest.raises(ValueError, match="method"):
        ClientAuth("0oa1", "s", "private_key_jwt")


@pytest.mark.parametrize(
    ("secret", "method"),
    [
        (None, "client_secret_basic"),
        (None, "client_secret_post"),
        ("", "client_secret_basic"),
        ("s3cr3t-value", "none"),
    ],
)
def test_client_auth_method_and_secret_must_agree(secret: str | None, method: str) -> None:
    # No silent switch to a public client: the flows pick "none" themselves when there is no
    # secret, so a mismatch here is a caller's mistake.
    with pytest.raises(ValueError, match="'none'") as info:
        ClientAuth("0oa1", secret, method)
    assert "s3cr3t" not in str(info.value)


# --- transport faults the emulator cannot produce -------------------------------------------------


class FakeSession(requests.Session):
    """Raises or answers from a script, recording calls."""

    def __init__(self, script: list[Callable[[], requests.Response]]) -> None:
        super().__init__()
        self.script = script
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((method, url))
        return self.script[min(len(self.calls), len(self.script)) - 1]()


def dns_failure() -> requests.Response:
    reason = u3.NameResolutionError(
        "dev-1.okta.com",
        None,
        socket.gaierror(-2, "Name or service not known"),  # type: ignore[arg-type]
    )
    raise requests.ConnectionError(
        u3.MaxRetryError(None, "/oauth2/v1/authorize?sessionToken=SESSION-SECRET", reason)  # type: ignore[arg-type]
    )


def dropped_after_send() -> requests.Response:
    raise requests.ConnectionError(
        u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    )


def ok_json() -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"keys": []}'
    response.headers["Content-Type"] = "application/json"
    return response


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_dns_failure_names_host_not_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps = Sleeps()
    session = FakeSession([dns_failure])
    client = OktaClient("https://dev-1.okta.com", session=session, sleep=sleeps)
    with pytest.raises(e.ConnectionFailed) as info:
        client.authorize(
            "https://dev-1.okta.com/oauth2/v1/authorize", {"sessionToken": "SESSION-SECRET"}
        )
    message = str(info.value)
    assert "dev-1.okta.com" in message
    assert "could not be resolved" in message
    assert d.DOMAIN in message
    assert "SESSION-SECRET" not in message
    assert "SESSION-SECRET" not in caplog.text
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None
    # Nothing was sent, so even the sessionToken request may be retried.
    assert len(session.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_dropped_connection_is_not_retried_for_unsafe_requests() -> None:
    session = FakeSession([dropped_after_send])
    client = OktaClient("https://dev-1.okta.com", session=session, sleep=Sleeps())
    with pytest.raises(e.ConnectionFailed, match="broke"):
        client.authn("user", "password-value")
    assert len(session.calls) == 1


def test_dropped_connection_is_retried_for_keys() -> None:
    session = FakeSession([dropped_after_send, ok_json])
    sleeps = Sleeps()
    client = OktaClient(
        "https://dev-1.okta.com", session=session, sleep=sleeps, http=HttpOptions(backoff=0.1)
    )
    assert client.keys("https://dev-1.okta.com/oauth2/v1/keys") == {"keys": []}
    assert len(session.calls) == 2
    assert sleeps == [0.1]


def test_connection_refused_on_loopback() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed now: connecting is refused.
    client = OktaClient(f"http://127.0.0.1:{port}", sleep=Sleeps(), http=HttpOptions(retries=1))
    with pytest.raises(e.ConnectionFailed, match="Could not connect"):
        client.authn("user", "pw")


# --- properties: whatever the values, what Okta sent is what we read ------------------------------

_values = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
_answers = st.dictionaries(
    st.sampled_from(["code", "state", "access_token", "id_token", "scope", "error", "x-y"]),
    _values,
    min_size=1,
).filter(lambda d: bool({"code", "state", "access_token", "id_token", "error"} & d.keys()))


@given(answer=_answers, mode=st.sampled_from(["query", "fragment"]))
def test_redirect_parameters_round_trip(answer: dict[str, str], mode: str) -> None:
    encoded = urlencode(answer)
    location = f"{REDIRECT}?{encoded}" if mode == "query" else f"{REDIRECT}#{encoded}"
    result = parse(302, Location=location)
    assert result.mode == mode
    assert dict(result.params) == answer


@given(answer=_answers, app_form=st.booleans())
def test_form_post_parameters_round_trip(answer: dict[str, str], app_form: bool) -> None:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
        for k, v in answer.items()
    )
    form_id = ' id="appForm"' if app_form else ""
    page = (
        f'<html><body><form{form_id} method="POST" action="{REDIRECT}">{inputs}</form>'
        "<script>document.forms[0].submit()</script></body></html>"
    )
    result = parse(200, page, **{"Content-Type": "text/html"})
    assert result.mode == "form_post"
    assert dict(result.params) == answer


@given(page=st.text(max_size=300))
def test_any_html_gives_a_result_or_one_of_our_errors(page: str) -> None:
    for status in (200, 400):
        with contextlib.suppress(e.OktaUserError):
            parse(status, page, **{"Content-Type": "text/html"})
