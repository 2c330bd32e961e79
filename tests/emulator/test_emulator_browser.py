"""A real headless Chromium against the emulator, over http on loopback and over --tls: the sign-in
page filled in (with the TOTP page for a user enrolled in it), and a browser given only the `sid`
cookie of /login/sessionCookieRedirect going straight through /authorize.

The demo web app's redirect URI (http://localhost:8080/...) is answered by a stub on an ephemeral
loopback port that the browser context uses as its HTTP proxy for that origin only, so nothing needs
to listen on port 8080. Not `page.route`: with playwright 1.65 and Debian's Chromium a route is not
called for the target of a redirect that a navigation follows (playwright's docs of `page.route`:
"The handler will only be called for the first url if the response is a redirect"), and every
landing here is such a redirect (the navigation fails with ERR_CONNECTION_REFUSED). Chromium is
Debian's, driven by playwright (`support.browser`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
import requests
from support.browser import chromium, serve
from support.emulator_client import Client

from pytest_okta_user.emulator import DEMO, OktaEmulator

CALLBACK = "http://localhost:8080/**"
APP = "http://localhost:8080"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(params=[False, True], ids=["http", "tls"])
def served(request: pytest.FixtureRequest) -> Iterator[OktaEmulator]:
    with OktaEmulator(tls=request.param) as emulator:
        yield emulator


@pytest.fixture
def app_requests() -> Iterator[tuple[str, list[str]]]:
    """A stub answering every request for the app's origin: (its URL, the URLs it was asked)."""
    asked: list[str] = []

    def answer(url: str) -> tuple[int, str, bytes]:
        asked.append(url)
        if not url.startswith(APP + "/"):
            return 502, "text/plain", b"the stub answers the app's origin only"
        return 200, "text/html", b"<!DOCTYPE html><title>app</title><h1>app</h1>"

    with serve(answer) as url:
        yield url, asked


@pytest.fixture
def page(browser: Any, served: OktaEmulator, app_requests: tuple[str, list[str]]) -> Iterator[Any]:
    """A fresh browser (no cookies): the emulator reached directly, the app's origin the stub."""
    stub, _ = app_requests
    context = browser.new_context(
        ignore_https_errors=served.tls,
        # `<-loopback>` lifts Chromium's implicit bypass of loopback hosts for localhost:8080; the
        # emulator's 127.0.0.1 stays direct.
        proxy={"server": stub, "bypass": "<-loopback>,127.0.0.1"},
    )
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def client(served: OktaEmulator) -> Iterator[Client]:
    with requests.Session() as http:
        yield Client(served, http)


def authorize_url(okta: OktaEmulator, state: str = "browser-state") -> str:
    query = {
        "client_id": DEMO.web_client_id,
        "redirect_uri": DEMO.web_redirect_uri,
        "response_type": "code",
        "scope": "openid profile email",
        "state": state,
    }
    return f"{okta.issuer}/v1/authorize?{urlencode(query)}"


def landed_code(page: Any, client: Client) -> str:
    """The app's redirect URI reached with a code (and the state): the code, checked at /token."""
    page.wait_for_url(CALLBACK)
    parts = urlsplit(page.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEMO.web_redirect_uri
    values = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert values["state"] == "browser-state"
    tokens = client.token(
        grant_type="authorization_code", code=values["code"], redirect_uri=DEMO.web_redirect_uri
    )
    assert tokens.status_code == 200, tokens.text
    return values["code"]


def sid_cookie(page: Any) -> dict[str, Any]:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "sid"]
    return dict(cookie)


def expected_attributes(okta: OktaEmulator) -> dict[str, Any]:
    return {
        "path": "/",
        "httpOnly": True,
        "secure": okta.tls,
        "sameSite": "None" if okta.tls else "Lax",
    }


def test_a_browser_fills_the_sign_in_page_in_and_lands_with_a_code(
    served: OktaEmulator, page: Any, client: Client
) -> None:
    page.goto(authorize_url(served))
    assert page.title() == "Okta Emulator - Sign In"
    page.fill("#okta-signin-username", DEMO.user_login)
    page.fill("#okta-signin-password", "Not-The-Passw0rd")
    page.click("#okta-signin-submit")
    assert page.inner_text("[role=alert]") == "Unable to sign in"
    page.fill("#okta-signin-password", DEMO.user_password)
    page.click("#okta-signin-submit")
    landed_code(page, client)
    cookie = sid_cookie(page)
    assert {k: cookie[k] for k in expected_attributes(served)} == expected_attributes(served)
    # The next /authorize goes through on the cookie alone.
    page.goto(authorize_url(served))
    landed_code(page, client)
    shown = [r for r in served.requests if r.endpoint == "authorize" and r.status == 200]
    assert len(shown) == 1  # the sign-in page, once


def test_a_totp_user_gets_the_code_page(served: OktaEmulator, page: Any, client: Client) -> None:
    served.clock.freeze()  # the code is computed at the emulator's time, as an authenticator app
    page.goto(authorize_url(served))
    page.fill("#okta-signin-username", DEMO.admin_login)
    page.fill("#okta-signin-password", DEMO.admin_password)
    page.click("#okta-signin-submit")
    page.wait_for_selector("#okta-signin-passcode")
    page.fill("#okta-signin-passcode", pyotp.TOTP(DEMO.admin_totp_secret).at(served.clock.now()))
    page.click("#okta-signin-submit")
    landed_code(page, client)
    me = client.http.get(
        f"{served.url}/api/v1/sessions/me",
        cookies={"sid": sid_cookie(page)["value"]},
        verify=client.verify,
    ).json()
    assert (me["login"], me["amr"]) == (DEMO.admin_login, ["mfa", "otp", "pwd"])


def test_a_browser_given_only_the_sid_cookie_goes_straight_through(
    served: OktaEmulator, page: Any, client: Client
) -> None:
    made = client.http.get(
        f"{served.url}/login/sessionCookieRedirect",
        params={"token": client.session_token(), "redirectUrl": "http://localhost:8080/"},
        allow_redirects=False,
        verify=client.verify,
    )
    assert made.status_code == 302
    host = urlsplit(served.url).hostname
    page.context.add_cookies(
        [
            {
                "name": "sid",
                "value": made.cookies["sid"],
                "domain": host,
                **expected_attributes(served),
            }
        ]
    )
    served.app.clear()
    page.goto(authorize_url(served))
    landed_code(page, client)
    assert [(r.endpoint, r.status) for r in served.requests] == [
        ("authorize", 302),  # never the sign-in page
        ("token", 200),
    ]


def test_a_browser_keeps_the_cookie_session_cookie_redirect_sets(
    served: OktaEmulator, page: Any, client: Client
) -> None:
    query = urlencode({"token": client.session_token(), "redirectUrl": "http://localhost:8080/"})
    page.goto(f"{served.url}/login/sessionCookieRedirect?{query}")
    page.wait_for_url("http://localhost:8080/")
    cookie = sid_cookie(page)
    assert {k: cookie[k] for k in expected_attributes(served)} == expected_attributes(served)
    page.goto(authorize_url(served))
    landed_code(page, client)
