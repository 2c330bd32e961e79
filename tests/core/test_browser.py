"""The browser shapes of an Okta session (browser.py): Playwright's and Selenium's cookies, the
storage state with okta-auth-js's ``okta-token-storage``, and the private file it is written to.
Whether a real browser and the real okta-auth-js take them is tested in
tests/plugin/test_browser_fixtures.py."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pytest_okta_user import masking
from pytest_okta_user.browser import (
    TOKEN_STORAGE_KEY,
    BrowserSession,
    okta_token_storage,
    origin_of,
    playwright_cookies,
    selenium_cookies,
    storage_state,
    write_storage_state,
)
from pytest_okta_user.sessions import OktaSession, SessionCookie, UserKey
from pytest_okta_user.tokens import TokenSet, Variant

ORG = "https://dev-1.okta.com"
CUSTOM = f"{ORG}/oauth2/default"
SID = "102sid-value-that-signs-in-0123456789"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIifQ.access-signature-0123"
ID = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJpZCJ9.id-signature-0123456789"
REFRESH = "refresh-token-value-0123456789"


def session(*cookies: SessionCookie) -> OktaSession:
    given = cookies or (SessionCookie("sid", SID, "dev-1.okta.com", same_site="Lax"),)
    return OktaSession(UserKey(ORG, "tester@example.com"), given, started_at=1_700_000_000.0)


def tokens() -> TokenSet:
    return TokenSet(
        access_token=ACCESS,
        token_type="Bearer",
        expires_at=1_700_003_600.5,
        scopes=("openid", "email"),
        id_token=ID,
        refresh_token=REFRESH,
        access_claims={"sub": "tester@example.com", "scp": ["openid", "email"]},
        id_claims={"sub": "00u1", "email": "tester@example.com", "exp": 1_700_003_000},
    )


def test_playwright_cookies_carry_every_attribute_in_playwrights_spelling() -> None:
    okta = session(
        SessionCookie("sid", SID, "dev-1.okta.com", "/", None, True, True, "none"),
        SessionCookie("DT", "device-token-0123456789", "dev-1.okta.com", "/", 1.8e9, True, False),
    )
    assert playwright_cookies(okta) == [
        {
            "name": "sid",
            "value": SID,
            "domain": "dev-1.okta.com",
            "path": "/",
            "expires": -1,  # a session cookie
            "httpOnly": True,
            "secure": True,
            "sameSite": "None",
        },
        {
            "name": "DT",
            "value": "device-token-0123456789",
            "domain": "dev-1.okta.com",
            "path": "/",
            "expires": 1.8e9,
            "httpOnly": False,
            "secure": True,
            "sameSite": "Lax",  # unset: what browsers assume
        },
    ]


@pytest.mark.parametrize(
    ("said", "secure", "spelled"),
    [
        ("Lax", False, "Lax"),
        ("STRICT", False, "Strict"),
        ("None", True, "None"),
        ("None", False, "Lax"),  # Chromium refuses SameSite=None without Secure
        (None, False, "Lax"),
        ("bogus", True, "Lax"),
    ],
)
def test_same_site_is_one_a_browser_keeps(said: str | None, secure: bool, spelled: str) -> None:
    cookie = SessionCookie("sid", SID, "dev-1.okta.com", secure=secure, same_site=said)
    assert playwright_cookies(session(cookie))[0]["sameSite"] == spelled
    assert selenium_cookies(session(cookie))[0]["sameSite"] == spelled


def test_selenium_cookies_are_host_only_with_a_whole_second_expiry() -> None:
    okta = session(
        SessionCookie("sid", SID, "127.0.0.1", "/", None, False, True, "Lax"),
        SessionCookie("DT", "device-token-0123456789", "127.0.0.1", "/", 1.8e9 + 0.7, True, True),
    )
    first, second = selenium_cookies(okta)
    assert first == {
        "name": "sid",
        "value": SID,
        "path": "/",
        "secure": False,
        "httpOnly": True,
        "sameSite": "Lax",
    }
    assert second["expiry"] == 1_800_000_000
    assert isinstance(second["expiry"], int)
    assert "domain" not in second


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://localhost:8080/login/callback", "http://localhost:8080"),
        ("HTTPS://App.Example.com:443/cb?x=1", "https://app.example.com"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("https://[::1]:8443/cb", "https://[::1]:8443"),
    ],
)
def test_origin_of_is_the_browsers(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize("url", ["com.example.app:/callback", "localhost:8080", ""])
def test_origin_of_refuses_what_is_no_web_origin(url: str) -> None:
    with pytest.raises(ValueError, match="no app origin"):
        origin_of(url)


@pytest.mark.parametrize("issuer", [CUSTOM, ORG, f"{CUSTOM}/"])
def test_okta_token_storage_is_what_okta_auth_js_stores(issuer: str) -> None:
    stored = okta_token_storage(tokens(), issuer=issuer, client_id="0oaspa")
    # The endpoints okta-auth-js derives from its issuer are Okta's own (Variant's, from the
    # developer docs' "Composing your base URL"): both readings agree.
    variant = Variant(issuer.rstrip("/"), "0oaspa", "tester", "pkce", ("openid",))
    base = variant.authorize_url.removesuffix("/authorize")
    assert stored == {
        "accessToken": {
            "accessToken": ACCESS,
            "claims": {"sub": "tester@example.com", "scp": ["openid", "email"]},
            "expiresAt": 1_700_003_600,
            "tokenType": "Bearer",
            "scopes": ["openid", "email"],
            "authorizeUrl": variant.authorize_url,
            "userinfoUrl": f"{base}/userinfo",
        },
        "idToken": {
            "idToken": ID,
            "claims": {"sub": "00u1", "email": "tester@example.com", "exp": 1_700_003_000},
            "expiresAt": 1_700_003_000,  # the ID token's own exp
            "scopes": ["openid", "email"],
            "authorizeUrl": variant.authorize_url,
            "issuer": issuer.rstrip("/"),
            "clientId": "0oaspa",
        },
    }
    # The refresh token stays with the plugin: an SPA rotating it would break the cache's copy.
    assert REFRESH not in json.dumps(stored)


def test_okta_token_storage_without_an_id_token_or_access_claims() -> None:
    opaque = TokenSet(ACCESS, "Bearer", 1_700_003_600.0, ("api",))
    stored = okta_token_storage(opaque, issuer=ORG, client_id="0oa1")
    assert list(stored) == ["accessToken"]
    assert "claims" not in stored["accessToken"]


def test_storage_state_holds_the_cookies_and_the_apps_local_storage() -> None:
    state = storage_state(
        session(),
        origin="http://localhost:8080/login/callback",
        tokens=tokens(),
        issuer=CUSTOM,
        client_id="0oaspa",
    )
    assert state["cookies"] == playwright_cookies(session())
    (origin,) = state["origins"]
    assert origin["origin"] == "http://localhost:8080"
    (entry,) = origin["localStorage"]
    assert entry["name"] == TOKEN_STORAGE_KEY == "okta-token-storage"
    # localStorage holds strings: the token manager's JSON.
    assert json.loads(entry["value"]) == okta_token_storage(
        tokens(), issuer=CUSTOM, client_id="0oaspa"
    )
    assert json.loads(json.dumps(state)) == state  # a plain JSON document, as Playwright reads


def test_storage_state_without_an_app_is_the_cookies_alone() -> None:
    assert storage_state(session()) == {"cookies": playwright_cookies(session()), "origins": []}


@pytest.mark.parametrize(
    "given",
    [
        {"origin": "http://localhost:8080"},
        {"tokens": "tokens"},
        {"origin": "http://localhost:8080", "tokens": "tokens", "issuer": CUSTOM},
    ],
)
def test_storage_state_needs_the_whole_app(given: dict[str, object]) -> None:
    if given.get("tokens"):
        given["tokens"] = tokens()
    with pytest.raises(ValueError, match="okta-token-storage needs"):
        storage_state(session(), **given)  # type: ignore[arg-type]


def test_no_repr_shows_a_cookie_or_a_token() -> None:
    browser = BrowserSession(session())
    state = browser.storage_state(
        origin="http://localhost:8080", tokens=tokens(), issuer=CUSTOM, client_id="0oaspa"
    )
    shown = " ".join(
        repr(x)
        for x in (
            browser,
            state,
            state["cookies"],
            state["origins"],
            browser.playwright_cookies(),
            browser.selenium_cookies(),
        )
    )
    for secret in (SID, ACCESS, ID):
        assert secret not in shown
    assert "sid" in repr(browser)
    assert "http://localhost:8080" in repr(state)
    # And, wherever the values go, the masking knows them.
    assert SID not in masking.mask(json.dumps(state))


def test_browser_session_gives_the_sessions_parts() -> None:
    okta = session()
    browser = BrowserSession(okta)
    assert (browser.login, browser.org_url, browser.started_at) == (
        "tester@example.com",
        ORG,
        1_700_000_000.0,
    )
    assert browser.cookies == okta.cookies
    assert browser.cookie_header() == {"sid": SID}


def test_write_storage_state_makes_a_private_file_in_a_private_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "state.json"
    state = storage_state(session())
    written = write_storage_state(target, state)
    assert written == target
    assert json.loads(target.read_text()) == state
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.parent.parent.stat().st_mode) & 0o077 == 0


def test_write_storage_state_replaces_a_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_storage_state(target, {"cookies": [], "origins": []})
    assert json.loads(target.read_text()) == {"cookies": [], "origins": []}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_write_storage_state_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_storage_state(tmp_path / "state.json", {"cookies": object()})
    assert list(tmp_path.iterdir()) == []
