"""The interactive sign-in page over HTTP on loopback: what /authorize shows without a session, the
form it posts, and how its answers follow the rules of /api/v1/authn (lockout, rate limit, TOTP).

The texts are the sign-in widget's (okta/okta-signin-widget, login.properties); see
pytest_okta_user/emulator/signin.py. A real browser fills the same form in
test_emulator_browser.py.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyotp
import pytest
import requests
from support.emulator_client import Client, location_params

from pytest_okta_user.emulator import DEMO, OktaEmulator

UNABLE = "Unable to sign in"


def inputs(page: str) -> dict[str, str]:
    """Every named input of the page, by name: its value (unescaped)."""
    found = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            found[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return found


def error_of(page: str) -> str | None:
    match = re.search(r'role="alert"><p>(.*?)</p>', page)
    return html.unescape(match.group(1)) if match else None


def sign_in_page(client: Client, **params: Any) -> str:
    """/authorize without a session: the sign-in page (headless clients see 200 and no Location)."""
    response = client.authorize(**params)
    assert response.status_code == 200, response.headers.get("Location")
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    return response.text


def submit(client: Client, page: str, **values: str) -> requests.Response:
    """Fill the page's form in as a browser would and post it to its action (no redirects)."""
    form = re.search(r'<form method="POST" action="([^"]*)"', page)
    assert form is not None
    action = html.unescape(form.group(1))
    data = {**inputs(page), **values}
    data.pop("", None)
    return client.http.post(action, data=data, allow_redirects=False, verify=client.verify)


def follow(client: Client, response: requests.Response) -> requests.Response:
    assert response.status_code == 302, response.text
    return client.http.get(
        response.headers["Location"], allow_redirects=False, verify=client.verify
    )


def totp_now(okta: OktaEmulator) -> str:
    return pyotp.TOTP(DEMO.admin_totp_secret).at(okta.clock.now())


def test_the_page_is_a_form_that_comes_back_to_the_same_authorize(
    okta: OktaEmulator, client: Client
) -> None:
    page = sign_in_page(client, state="s-1", nonce="n-1")
    assert f'<form method="POST" action="{okta.url}/login/login.htm"' in page
    fields = inputs(page)
    assert set(fields) == {"username", "password", "fromURI"}
    assert 'id="okta-signin-username"' in page
    assert 'id="okta-signin-password"' in page
    assert 'type="password"' in page
    assert 'id="okta-signin-submit"' in page
    assert error_of(page) is None
    back = urlsplit(fields["fromURI"])
    assert back.path == "/oauth2/default/v1/authorize"
    assert not back.netloc
    assert dict(parse_qsl(back.query)) == {
        "client_id": DEMO.web_client_id,
        "redirect_uri": DEMO.web_redirect_uri,
        "response_type": "code",
        "scope": "openid profile email",
        "state": "s-1",
        "nonce": "n-1",
    }
    # Nothing a client could take for a form_post answer.
    assert "appForm" not in page
    assert not {"code", "state", "error"} & set(fields)


def test_the_right_password_starts_a_session_and_resumes_authorize(
    okta: OktaEmulator, client: Client
) -> None:
    page = sign_in_page(client)
    signed_in = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == okta.url + inputs(page)["fromURI"]
    assert signed_in.cookies["sid"].startswith("102")
    landed = follow(client, signed_in)
    values = location_params(landed)
    assert landed.headers["Location"].startswith(DEMO.web_redirect_uri + "?")
    assert values["state"] == "state-123"
    tokens = client.token(
        grant_type="authorization_code", code=values["code"], redirect_uri=DEMO.web_redirect_uri
    )
    assert tokens.status_code == 200, tokens.text
    # The session serves the next request without the page.
    assert "code" in location_params(client.authorize(scope="openid"))
    assert okta.count("authn") == 0  # the page's own endpoint, not /api/v1/authn, was called


def test_a_wrong_password_shows_the_page_again_with_the_widget_s_error(
    okta: OktaEmulator, client: Client
) -> None:
    page = sign_in_page(client)
    again = submit(client, page, username=DEMO.user_login, password="Not-The-Passw0rd")
    assert again.status_code == 200
    assert "Location" not in again.headers
    assert "sid" not in again.cookies
    assert error_of(again.text) == UNABLE
    fields = inputs(again.text)
    assert fields["username"] == DEMO.user_login
    assert fields["password"] == ""
    assert fields["fromURI"] == inputs(page)["fromURI"]
    unknown = submit(client, page, username="nobody@example.com", password="x")
    assert error_of(unknown.text) == UNABLE  # an unknown user is not told apart


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"username": "", "password": "x"}, "Please enter a username"),
        ({"username": DEMO.user_login, "password": ""}, "Please enter a password"),
    ],
)
def test_blank_fields_are_refused_before_any_attempt(
    okta: OktaEmulator, client: Client, values: dict[str, str], message: str
) -> None:
    again = submit(client, sign_in_page(client), **values)
    assert error_of(again.text) == message
    user = okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    assert user.failed_logins == 0


def test_wrong_passwords_on_the_page_count_toward_lockout_with_authn_s(
    okta: OktaEmulator, client: Client
) -> None:
    okta.org.rate_limits = False
    page = sign_in_page(client)
    for _ in range(5):
        assert client.authn(DEMO.user_login, "Wrong-Passw0rd").status_code == 401
    for _ in range(4):
        assert error_of(submit(client, page, username="tester", password="Wrong").text) == UNABLE
    user = okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    assert user.status == "ACTIVE"
    assert error_of(submit(client, page, username="tester", password="Wrong").text) == UNABLE
    assert user.status == "LOCKED_OUT"  # the tenth failure, half of them here
    right = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
    assert error_of(right.text) == UNABLE  # Okta's default policy hides the lockout
    assert client.authn().status_code == 401
    okta.org.show_lockout_failures = True
    right = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
    assert error_of(right.text) == "Your account is locked. Please contact your administrator."


def test_the_per_user_rate_limit_of_authn_applies(okta: OktaEmulator, client: Client) -> None:
    okta.clock.freeze()
    page = sign_in_page(client)
    errors = [
        error_of(submit(client, page, username=DEMO.user_login, password="Wrong").text)
        for _ in range(5)
    ]
    assert errors == [UNABLE] * 4 + [
        "You exceeded the maximum number of requests. Try again in a while."
    ]
    okta.clock.advance(1)
    right = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
    assert right.status_code == 302


def test_a_totp_user_gets_a_second_page_for_the_code(okta: OktaEmulator, client: Client) -> None:
    okta.clock.freeze()
    page = sign_in_page(client)
    step = submit(client, page, username=DEMO.admin_login, password=DEMO.admin_password)
    assert step.status_code == 200
    assert "sid" not in step.cookies
    fields = inputs(step.text)
    assert set(fields) == {"passCode", "stateToken", "fromURI"}
    assert fields["fromURI"] == inputs(page)["fromURI"]
    assert 'autocomplete="one-time-code"' in step.text
    assert error_of(step.text) is None
    wrong_code = "000000" if totp_now(okta) != "000000" else "111111"
    wrong = submit(client, step.text, passCode=wrong_code)
    assert error_of(wrong.text) == "Your passcode doesn't match our records. Please try again."
    assert inputs(wrong.text)["stateToken"] == fields["stateToken"]
    blank = submit(client, step.text, passCode="")
    assert error_of(blank.text) == "This field cannot be left blank"
    signed_in = submit(client, wrong.text, passCode=totp_now(okta))
    assert signed_in.status_code == 302
    assert "code" in location_params(follow(client, signed_in))
    me = client.http.get(f"{okta.url}/api/v1/sessions/me", verify=client.verify).json()
    assert (me["login"], me["amr"]) == (DEMO.admin_login, ["mfa", "otp", "pwd"])


def test_a_code_already_used_is_refused_as_authn_refuses_it(
    okta: OktaEmulator, client: Client
) -> None:
    okta.clock.freeze()
    first = client.authn(DEMO.admin_login, DEMO.admin_password).json()
    verify = first["_embedded"]["factors"][0]["_links"]["verify"]["href"]
    used = client.http.post(
        verify, json={"stateToken": first["stateToken"], "passCode": totp_now(okta)}
    )
    assert used.json()["status"] == "SUCCESS"
    step = submit(
        client, sign_in_page(client), username=DEMO.admin_login, password=DEMO.admin_password
    )
    replay = submit(client, step.text, passCode=totp_now(okta))
    assert replay.status_code == 200
    assert error_of(replay.text) == (
        "Each code can only be used once. Please wait for a new code and try again."
    )
    okta.clock.advance(30)
    assert submit(client, replay.text, passCode=totp_now(okta)).status_code == 302


def test_an_expired_code_step_starts_over(okta: OktaEmulator, client: Client) -> None:
    step = submit(
        client, sign_in_page(client), username=DEMO.admin_login, password=DEMO.admin_password
    )
    okta.clock.advance(301)
    late = submit(client, step.text, passCode=totp_now(okta))
    assert error_of(late.text) == "Your session has expired. Please try to sign in again."
    assert set(inputs(late.text)) == {"username", "password", "fromURI"}
    forged = submit(client, step.text, stateToken="00forged", passCode=totp_now(okta))
    assert set(inputs(forged.text)) == {"username", "password", "fromURI"}


def test_prompt_login_shows_the_page_even_with_a_session(
    okta: OktaEmulator, client: Client
) -> None:
    assert "code" in location_params(
        client.authorize(sessionToken=client.session_token(), prompt="none")
    )
    page = sign_in_page(client, prompt="login")
    back = dict(parse_qsl(urlsplit(inputs(page)["fromURI"]).query))
    assert "prompt" not in back  # satisfied by this sign-in: coming back must not loop
    signed_in = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
    assert "code" in location_params(follow(client, signed_in))
    consent = sign_in_page(client, prompt="login consent", max_age="0")
    back = dict(parse_qsl(urlsplit(inputs(consent)["fromURI"]).query))
    assert back["prompt"] == "consent"
    assert "max_age" not in back


def test_a_used_session_token_is_dropped_from_the_way_back(client: Client) -> None:
    token = client.session_token()
    client.authorize(sessionToken=token, prompt="none")
    client.http.cookies.clear()
    page = sign_in_page(client, sessionToken=token)
    assert "sessionToken" not in inputs(page)["fromURI"]


def test_post_authorize_comes_back_as_a_get_with_the_same_parameters(
    okta: OktaEmulator, client: Client
) -> None:
    form = {
        "client_id": DEMO.web_client_id,
        "redirect_uri": DEMO.web_redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": "posted",
    }
    response = client.http.post(
        f"{okta.issuer}/v1/authorize", data=form, allow_redirects=False, verify=client.verify
    )
    assert response.status_code == 200
    signed_in = submit(client, response.text, username="tester", password=DEMO.user_password)
    assert location_params(follow(client, signed_in))["state"] == "posted"


@pytest.mark.parametrize(
    "from_uri",
    ["https://evil.example.com/", "//evil.example.com/x", "/\\evil.example.com", "javascript:x"],
)
def test_the_page_never_sends_a_browser_off_to_an_untrusted_place(
    okta: OktaEmulator, client: Client, from_uri: str
) -> None:
    page = sign_in_page(client)
    signed_in = submit(
        client, page, username=DEMO.user_login, password=DEMO.user_password, fromURI=from_uri
    )
    assert signed_in.headers["Location"] == okta.url + "/"
    shown = client.http.get(
        f"{okta.url}/login/login.htm", params={"fromURI": from_uri}, verify=client.verify
    )
    assert inputs(shown.text)["fromURI"] == "/"


def test_everything_shown_is_escaped(client: Client) -> None:
    nasty = '"><script>alert(1)</script>'
    page = sign_in_page(client, state=nasty)
    assert "<script>" not in page
    assert dict(parse_qsl(urlsplit(inputs(page)["fromURI"]).query))["state"] == nasty
    again = submit(client, page, username=nasty, password="x", fromURI="/x" + nasty)
    assert "<script>" not in again.text
    assert inputs(again.text)["username"] == nasty
    assert inputs(again.text)["fromURI"] == "/x" + nasty
    assert "&lt;script&gt;" in again.text


def test_the_sign_in_url_with_a_session_goes_straight_to_from_uri(
    okta: OktaEmulator, client: Client
) -> None:
    back = inputs(sign_in_page(client))["fromURI"]
    without = client.http.get(
        f"{okta.url}/login/login.htm",
        params={"fromURI": back},
        allow_redirects=False,
        verify=client.verify,
    )
    assert without.status_code == 200
    assert inputs(without.text)["fromURI"] == back
    client.authorize(sessionToken=client.session_token(), prompt="none")
    with_session = client.http.get(
        f"{okta.url}/login/login.htm",
        params={"fromURI": back},
        allow_redirects=False,
        verify=client.verify,
    )
    assert with_session.headers["Location"] == okta.url + back
    assert "code" in location_params(follow(client, with_session))


def test_on_identity_engine_the_page_asks_for_the_second_factor_the_apps_policy_wants() -> None:
    # /api/v1/authn answers Identity Engine's global session policy with the password alone; the
    # page goes on to the TOTP step, so the session it starts meets the demo app's policy
    # (password + TOTP) and /authorize answers with a code instead of the page again.
    with OktaEmulator(engine="oie") as okta, requests.Session() as http:
        okta.clock.freeze()
        client = Client(okta, http)
        page = sign_in_page(client)
        step = submit(client, page, username=DEMO.user_login, password=DEMO.user_password)
        assert set(inputs(step.text)) == {"passCode", "stateToken", "fromURI"}
        code = pyotp.TOTP(DEMO.user_totp_secret).at(okta.clock.now())
        signed_in = submit(client, step.text, passCode=code)
        assert "code" in location_params(follow(client, signed_in))
