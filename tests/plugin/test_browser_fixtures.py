"""Signed-in browsers (issue 13): okta_browser_session and okta_storage_state, as users run them,
with a real headless Chromium (Debian's, driven by playwright: ``support.browser``).

The inner runs define pytest-playwright's fixture chain (``browser``, ``browser_context_args``,
``context``, ``page``) as that plugin does, and a folder of them overrides
``browser_context_args`` with the README's recipe, so its pages start signed in. The apps'
origin (``http://localhost:8080``: the demo web app's and the demo SPA's redirect URIs) is a stub
in this process that the browser reaches as its HTTP proxy for that origin only (not
``page.route``: see tests/emulator/test_emulator_browser.py). The stub serves the landing pages
and two small SPAs: one reads ``okta-token-storage`` from ``localStorage`` itself, the other is
Okta's own SDK, @okta/okta-auth-js (tests/node/node_modules), asked ``isAuthenticated()`` and
``getUser()``.

The screenshots of the landing pages are kept in each run's pytester folder (``shots/``). With
``PYTEST_OKTA_USER_SCREENSHOTS=<folder>`` they are copied there too: that is how
``docs/images/`` is made (``benchmarks/docs_screenshots.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import chromium_path, serve
from support.inner import SHIFTED_CLOCK, RunInner, message_of
from support.leaks import Tap, find_leaks
from support.marker_ids import HIDES, single
from support.needs import missing

from pytest_okta_user.emulator import DEMO, OktaEmulator

TESTS = Path(__file__).resolve().parents[1]
OKTA_AUTH_JS = TESTS / "node" / "node_modules" / "@okta" / "okta-auth-js" / "dist"
APP = "http://localhost:8080"
SCREENSHOTS_ENV = "PYTEST_OKTA_USER_SCREENSHOTS"
PNG = b"\x89PNG\r\n\x1a\n"

STYLE = """<style>
body { font: 18px/1.5 system-ui, sans-serif; margin: 0; background: #f4f6fb; color: #1d1d21; }
header { background: #00297a; color: #fff; padding: 14px 28px; font-weight: 600; }
main { margin: 40px auto; max-width: 560px; background: #fff; border-radius: 8px;
       padding: 28px 32px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
#status[data-state=signed-in] { color: #0a7a2f; font-weight: 600; }
button { font: inherit; padding: 8px 18px; border-radius: 4px; border: 0; background: #1662dd;
         color: #fff; }
</style>"""

LANDING = f"""<!DOCTYPE html><html><head><title>Example web app</title>{STYLE}</head><body>
<header>Example web app</header><main><h2>Back from Okta</h2>
<p id="landed">The redirect URI got an authorization code: the app exchanges it for tokens.</p>
</main></body></html>"""

# A SPA as okta-auth-js apps start: the tokens come from localStorage["okta-token-storage"].
SPA = f"""<!DOCTYPE html><html><head><title>Example SPA</title>{STYLE}</head><body>
<header>Example SPA</header><main><h2>Welcome</h2><p id="status">...</p></main>
<script>
const raw = localStorage.getItem("okta-token-storage");
const stored = raw ? JSON.parse(raw) : {{}};
const id = stored.idToken, access = stored.accessToken;
const status = document.getElementById("status");
const now = Date.now() / 1000;
if (id && access && id.expiresAt > now && access.expiresAt > now) {{
  status.textContent = "Signed in as " + id.claims.email;
  status.dataset.state = "signed-in";
}} else {{
  status.innerHTML = '<button id="sign-in">Sign in with Okta</button>';
  status.dataset.state = "signed-out";
}}
</script></body></html>"""

# The same with Okta's SDK: its token manager reads the entry, and getUser() sends the access
# token to /userinfo (CORS: the SPA's origin is a Trusted Origin of the demo org).
SDK_SPA = f"""<!DOCTYPE html><html><head><title>Example SPA (okta-auth-js)</title>{STYLE}
<script src="/spa/okta-auth-js.min.js"></script></head><body>
<header>Example SPA (okta-auth-js)</header><main><h2>Welcome</h2><p id="status">...</p></main>
<script>
(async () => {{
  const status = document.getElementById("status");
  try {{
    const query = new URLSearchParams(location.search);
    const Sdk = typeof OktaAuth === "function" ? OktaAuth : OktaAuth.OktaAuth;
    const auth = new Sdk({{
      issuer: query.get("issuer"),
      clientId: query.get("client_id"),
      redirectUri: location.origin + "/login/callback",
      tokenManager: {{ autoRenew: false }},
      testing: {{ disableHttpsCheck: true }},
    }});
    if (await auth.isAuthenticated()) {{
      const user = await auth.getUser();
      const {{ idToken }} = auth.tokenManager.getTokensSync();
      status.textContent = "Signed in as " + user.email + " (ID token of " +
        idToken.claims.email + ")";
      status.dataset.state = "signed-in";
    }} else {{
      status.innerHTML = '<button id="sign-in">Sign in with Okta</button>';
      status.dataset.state = "signed-out";
    }}
  }} catch (error) {{
    status.textContent = "error: " + error;
    status.dataset.state = "error";
  }}
}})();
</script></body></html>"""


# ---- the inner runs' files ----------------------------------------------------------------------

# pytest-playwright's fixtures, as it defines them (browser_context_args session-scoped).
CONFTEST = """
import os

import pytest
from support.browser import chromium


@pytest.fixture(scope="session")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def browser_context_args():
    return {
        "proxy": {"server": os.environ["APP_PROXY"], "bypass": "<-loopback>,127.0.0.1"},
        "viewport": {"width": 800, "height": 450},
        # The emulator's own CA under --tls (the inner runs' requests trust it: REQUESTS_CA_BUNDLE).
        "ignore_https_errors": True,
    }


@pytest.fixture
def context(browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()
"""

# The README's recipe, word for word: every page of this folder starts signed in.
RECIPE = """
import pytest


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, okta_storage_state):
    return {**browser_context_args, "storage_state": okta_storage_state}
"""

KIT = """
import json
import os
import stat
from urllib.parse import parse_qs, urlencode, urlsplit

APP = "http://localhost:8080"


def authorize_url(variant):
    # No prompt=none, no sessionToken: what an app's "Sign in" link opens.
    query = {
        "client_id": variant.client_id,
        "redirect_uri": variant.redirect_uri,
        "response_type": "code",
        "scope": "openid profile email",
        "state": "browser-state",
    }
    return f"{variant.authorize_url}?{urlencode(query)}"


def watch(page):
    # Every page the browser got: (status, URL without its query).
    seen = []
    page.on("response", lambda r: seen.append((r.status, r.url.split("?")[0])))
    return seen


def sign_in_pages(seen):
    return [url for status, url in seen if status == 200 and "127.0.0.1" in url]


def landed_code(page, variant):
    page.wait_for_url(variant.redirect_uri + "?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["browser-state"]
    return query["code"][0]


def shot(page, name):
    page.screenshot(path=os.path.join(os.environ["SHOTS"], name))


def status_of(page):
    page.wait_for_selector("#status[data-state]")
    return page.get_attribute("#status", "data-state"), page.inner_text("#status")


def record_state(path):
    # The file is private, and where it was (to check it is gone after the run).
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(os.environ["STATE_LOG"], "a") as log:
        log.write(json.dumps(str(path)) + "\\n")
"""

SIGNED_IN = """
import json
import os

import pytest
import requests
from kit import APP, authorize_url, landed_code, record_state, shot, sign_in_pages, status_of
from kit import watch


def test_authorize_goes_straight_to_the_app(page, okta_variant, okta_storage_state):
    seen = watch(page)
    page.goto(authorize_url(okta_variant))
    code = landed_code(page, okta_variant)
    shot(page, "storage-state-landing.png")
    assert page.inner_text("#landed").startswith("The redirect URI got an authorization code")
    assert sign_in_pages(seen) == []  # never the sign-in page
    # The browser holds Okta's cookie as Okta sets it: Secure and SameSite=None over https.
    (sid,) = [c for c in page.context.cookies() if c["name"] == "sid"]
    https = okta_variant.issuer.startswith("https://")
    assert (sid["httpOnly"], sid["secure"], sid["sameSite"]) == (
        True, https, "None" if https else "Lax"
    )
    # A real code: the web app exchanges it.
    answer = requests.post(
        okta_variant.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": okta_variant.redirect_uri,
        },
        auth=(okta_variant.client_id, os.environ["OKTA_CLIENT_SECRET"]),
        timeout=10,
    )
    assert answer.status_code == 200
    record_state(okta_storage_state)


@pytest.mark.okta(app="spa")
def test_the_spa_starts_signed_in(page, okta_storage_state):
    page.goto(APP + "/spa/")
    assert status_of(page) == ("signed-in", "Signed in as " + os.environ["OKTA_USERNAME"])
    shot(page, "spa-signed-in.png")
    record_state(okta_storage_state)


@pytest.mark.okta(app="spa")
def test_shows_no_secret_when_it_fails(okta_browser_session, okta_storage_state):
    state = json.loads(okta_storage_state.read_text())
    cookies = okta_browser_session.playwright_cookies()
    print("storage state:", okta_storage_state, okta_browser_session, cookies, state)
    assert state["origins"][0]["localStorage"][0]["name"] == "okta-token-storage"
    assert state == {"cookies": cookies[:0], "origins": []}
"""

SIGNED_OUT = """
import os

from kit import APP, authorize_url, landed_code, shot, sign_in_pages, status_of, watch


def test_the_same_browser_without_the_state_signs_in_by_hand(page, okta_variant):
    seen = watch(page)
    page.goto(authorize_url(okta_variant))
    assert page.title() == "Okta Emulator - Sign In"
    shot(page, "sign-in-page.png")
    page.fill("#okta-signin-username", os.environ["OKTA_USERNAME"])
    page.fill("#okta-signin-password", os.environ["OKTA_PASSWORD"])
    page.click("#okta-signin-submit")
    landed_code(page, okta_variant)
    shot(page, "signed-in-by-hand-landing.png")
    assert len(sign_in_pages(seen)) == 1


def test_the_spa_without_the_state_asks_to_sign_in(page):
    page.goto(APP + "/spa/")
    assert status_of(page) == ("signed-out", "Sign in with Okta")
    shot(page, "spa-signed-out.png")
"""

SDK_SIGNED_IN = """
import os
from urllib.parse import urlencode

import pytest
from kit import APP, shot, status_of


@pytest.mark.okta(app="spa")
def test_okta_auth_js_is_signed_in(page, okta_variant):
    query = urlencode({"issuer": okta_variant.issuer, "client_id": okta_variant.client_id})
    page.goto(f"{APP}/spa/sdk.html?{query}")
    login = os.environ["OKTA_USERNAME"]
    assert status_of(page) == ("signed-in", f"Signed in as {login} (ID token of {login})")
    shot(page, "okta-auth-js-signed-in.png")
"""

SDK_SIGNED_OUT = """
from urllib.parse import urlencode

import pytest
from kit import APP, status_of


@pytest.mark.okta(app="spa")
def test_okta_auth_js_is_signed_out(page, okta_variant):
    query = urlencode({"issuer": okta_variant.issuer, "client_id": okta_variant.client_id})
    page.goto(f"{APP}/spa/sdk.html?{query}")
    assert status_of(page) == ("signed-out", "Sign in with Okta")
"""


# ---- the outer side -----------------------------------------------------------------------------


def require_chromium() -> None:
    if chromium_path() is None:
        missing("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("the playwright package is not installed (it is in the [test] extra)")


@pytest.fixture
def app_stub() -> Iterator[tuple[str, list[str]]]:
    """The apps' origin: the landing pages and the SPAs. Yields the proxy's URL and the paths
    it was asked for."""
    asked: list[str] = []

    def answer(url: str) -> tuple[int, str, bytes]:
        if not url.startswith(APP + "/"):
            return 502, "text/plain", b"the stub answers the apps' origin only"
        path = url[len(APP) :].split("?")[0]
        asked.append(path)
        if path == DEMO.web_redirect_uri[len(APP) :]:
            return 200, "text/html", LANDING.encode()
        if path == "/spa/":
            return 200, "text/html", SPA.encode()
        if path == "/spa/sdk.html":
            return 200, "text/html", SDK_SPA.encode()
        if path == "/spa/okta-auth-js.min.js":
            return 200, "text/javascript", (OKTA_AUTH_JS / "okta-auth-js.min.js").read_bytes()
        return 404, "text/plain", b"not found"

    with serve(answer) as url:
        yield url, asked


@pytest.fixture
def tapped(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[OktaEmulator, Tap]]:
    """An emulator whose every secret is kept (for the leak search), its settings in the
    environment the inner runs inherit; over https when the test's parameter says so."""
    okta = OktaEmulator(tls=getattr(request, "param", False))
    tap = Tap(okta)
    with okta:
        for name, value in okta.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CI", raising=False)
        yield okta, tap


@pytest.fixture
def browser_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, app_stub: tuple[str, list[str]]
) -> Path:
    """The inner suite's folder: pytest-playwright's fixtures, the kit, the signed-in folder with
    the README's recipe; the screenshots go to ``shots/``."""
    require_chromium()
    proxy, _ = app_stub
    shots = pytester.path / "shots"
    shots.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(pytester.path)]))
    monkeypatch.setenv("APP_PROXY", proxy)
    monkeypatch.setenv("SHOTS", str(shots))
    monkeypatch.setenv("STATE_LOG", str(pytester.path / "states.log"))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(kit=KIT)
    (pytester.path / "signed_in").mkdir()
    (pytester.path / "signed_in" / "conftest.py").write_text(RECIPE)
    return shots


def keep_screenshots(shots: Path, names: list[str]) -> None:
    for name in names:
        assert (shots / name).read_bytes().startswith(PNG), name
    wanted = os.environ.get(SCREENSHOTS_ENV)
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(shots / name, Path(wanted) / f"browser-{name}")


def secrets_of(okta: OktaEmulator, tap: Tap) -> dict[str, str]:
    """Every secret that crossed the emulator, and the Okta sessions' cookies."""
    found = dict(tap.secrets)
    with okta.org.lock:
        found.update({sid: "session cookie" for sid in okta.org.sessions})
    return found


@pytest.mark.parametrize("tapped", [False, True], ids=["http", "tls"], indirect=True)
def test_a_storage_state_signs_the_browser_in_and_the_spa_too(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    tapped: tuple[OktaEmulator, Tap],
    app_stub: tuple[str, list[str]],
    browser_suite: Path,
) -> None:
    okta, tap = tapped
    (pytester.path / "signed_in" / "test_signed_in.py").write_text(SIGNED_IN)
    pytester.makepyfile(test_signed_out=SIGNED_OUT)

    result = run_inner("-vv", "-rA", "--showlocals", "--tb=long")

    output = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=4, failed=1)
    shows = single("test_shows_no_secret_when_it_fails", "spa")
    assert f"{shows} FAILED" in output
    # It failed on its comparison, after printing the state: the output had secrets to show.
    failed = rf"FAILED signed_in/test_signed_in.py::{re.escape(shows)}"
    if HIDES:
        # pytest 8+ keeps the message on the summary line; 7.4 cuts it to the terminal's width.
        failed += " - (Asse|asse)"
    assert re.search(failed, output)
    assert "storage state: " in output
    # One sign-in for the storage states (the session cookie of a fresh sessionToken); the SPA's
    # tokens came from that session (no second /api/v1/authn); the by-hand sign-in posted the form.
    assert okta.count("authn") == 1
    assert okta.count("session_cookie_redirect") == 1
    assert okta.count("signin") >= 1
    _, asked = app_stub
    assert asked.count(DEMO.web_redirect_uri[len(APP) :]) == 2  # both landings
    assert asked.count("/spa/") == 2
    keep_screenshots(
        browser_suite,
        [
            "storage-state-landing.png",
            "sign-in-page.png",
            "signed-in-by-hand-landing.png",
            "spa-signed-in.png",
            "spa-signed-out.png",
        ],
    )
    # The files were private (checked inside), named without a secret, and are gone now.
    states = [json.loads(line) for line in (pytester.path / "states.log").read_text().splitlines()]
    assert len(states) == 2  # the default and the SPA's (the failing test's is the SPA's too)
    for state in states:
        assert re.fullmatch(r".*/okta-user-browser-[A-Za-z0-9_]+/storage-state\.json", state)
        assert not Path(state).exists()
        assert not Path(state).parent.exists()
    # No cookie, token, code or password in what the run printed.
    secrets = secrets_of(okta, tap)
    assert "session cookie" in secrets.values()
    assert "access token" in secrets.values()
    assert find_leaks(secrets, {"output": output}) == []


def test_okta_auth_js_reads_the_storage_state(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    tapped: tuple[OktaEmulator, Tap],
    app_stub: tuple[str, list[str]],
    browser_suite: Path,
) -> None:
    if not (OKTA_AUTH_JS / "okta-auth-js.min.js").is_file():
        missing(f"@okta/okta-auth-js is not installed: run `npm ci` in {TESTS / 'node'}")
    okta, _ = tapped
    (pytester.path / "signed_in" / "test_sdk_signed_in.py").write_text(SDK_SIGNED_IN)
    pytester.makepyfile(test_sdk_signed_out=SDK_SIGNED_OUT)

    result = run_inner("-v")

    result.assert_outcomes(passed=2)
    keep_screenshots(browser_suite, ["okta-auth-js-signed-in.png"])
    # The SDK sent the stored access token to /userinfo (after the browser's CORS preflight), and
    # the emulator took it.
    userinfo = [(r.method, r.status) for r in okta.requests if r.endpoint == "userinfo"]
    assert userinfo == [("OPTIONS", 200), ("GET", 200)]


WORKERS = """
import hashlib
import json
import os

import pytest


@pytest.fixture(scope="session")
def tokens_first(request):
    if os.environ["ORDER"] == "tokens-first":
        request.getfixturevalue("okta_access_token")


def test_cookies(tokens_first, okta_browser_session, worker_id):
    (sid,) = [c.value for c in okta_browser_session.cookies if c.name == "sid"]
    with open(os.environ["SESSION_LOG"], "a") as log:
        log.write(json.dumps([worker_id, hashlib.sha256(sid.encode()).hexdigest()]) + "\\n")
"""


@pytest.mark.parametrize("order", ["browser-only", "tokens-first"])
def test_one_browser_session_per_user_for_both_workers(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    log = pytester.path / "sessions.log"
    monkeypatch.setenv("SESSION_LOG", str(log))
    monkeypatch.setenv("ORDER", order)
    pytester.makepyfile(test_workers=WORKERS)

    # --dist each: both workers run the test, so both ask for the session, at the same time.
    result = run_inner("-n", "2", "--dist", "each")

    result.assert_outcomes(passed=2)
    got = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(worker for worker, _ in got) == ["gw0", "gw1"]
    with okta.org.lock:
        sids = list(okta.org.sessions)
    # One Okta session, the one both workers hold.
    assert len(sids) == 1
    assert {fp for _, fp in got} == {hashlib.sha256(sids[0].encode()).hexdigest()}
    assert okta.count("authn") == 1
    # The token exchange's /authorize started the session: no sessionCookieRedirect then.
    assert okta.count("session_cookie_redirect") == (1 if order == "browser-only" else 0)


REFUSED = """
import pytest


@pytest.mark.okta(user="admin")
def test_admin(okta_browser_session):
    assert okta_browser_session.login == "admin@example.com"


def test_default_user(okta_browser_session):
    assert okta_browser_session.login == "tester@example.com"


@pytest.mark.okta(flow="client_credentials")
def test_no_user(okta_browser_session):
    pass


@pytest.mark.okta(app="service", flow="password")
def test_no_origin(okta_storage_state):
    pass
"""


def test_the_marker_picks_the_user_and_a_flow_without_one_errors_shortly(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
) -> None:
    pytester.makepyfile(test_users=REFUSED)

    result = run_inner("-rA")

    result.assert_outcomes(passed=2, errors=2)
    output = result.stdout.str()
    assert okta.count("authn") == 2  # one per user
    assert okta.count("session_cookie_redirect") == 2
    (line,) = message_of(output, single("test_no_user", "client_credentials"))
    assert line.startswith(
        "the client_credentials flow signs no user in, so there is no Okta browser session"
    )
    (line,) = message_of(output, single("test_no_origin", "password-service"))
    assert line.startswith(
        "app 'service' has no web redirect URI for the password flow, so no origin to keep its"
    )
    assert emulator_env["OKTA_ADMIN_PASSWORD"] not in output


SELENIUM = """
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from kit import authorize_url
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


@pytest.fixture
def driver(okta_browser_session):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ["CHROMIUM_PATH"]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=800,450", "--proxy-server=" + os.environ["APP_PROXY"],
                     "--proxy-bypass-list=<-loopback>;127.0.0.1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(os.environ["CHROMEDRIVER_PATH"]))
    # The README's recipe: a page of the org first (a cookie goes to the page's host), then the
    # session's cookies.
    driver.get(okta_browser_session.org_url + "/robots.txt")
    for cookie in okta_browser_session.selenium_cookies():
        driver.add_cookie(cookie)
    yield driver
    driver.quit()


def test_selenium_goes_straight_to_the_app(driver, okta_variant):
    driver.get(authorize_url(okta_variant))
    parts = urlsplit(driver.current_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == okta_variant.redirect_uri
    assert parse_qs(parts.query)["code"]
    assert driver.title == "Example web app"
    driver.save_screenshot(os.path.join(os.environ["SHOTS"], "selenium-landing.png"))


@pytest.mark.okta(app="spa")
def test_selenium_spa(driver, okta_browser_session, okta_tokens, okta_variant):
    # docs/browser.md's recipe for a SPA's localStorage.
    app = "http://localhost:8080"
    state = okta_browser_session.storage_state(
        origin=app, tokens=okta_tokens, issuer=okta_variant.issuer,
        client_id=okta_variant.client_id,
    )
    entry = state["origins"][0]["localStorage"][0]
    driver.get(app + "/spa/")
    assert driver.find_element("id", "status").text == "Sign in with Okta"
    driver.execute_script(
        "localStorage.setItem(arguments[0], arguments[1])", entry["name"], entry["value"]
    )
    driver.refresh()
    assert driver.find_element("id", "status").text == "Signed in as " + os.environ["OKTA_USERNAME"]
"""


def test_selenium_takes_the_session_cookies(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    tapped: tuple[OktaEmulator, Tap],
    browser_suite: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing("the selenium package is not installed")
    chromedriver = shutil.which("chromedriver")
    if chromedriver is None:
        missing("no chromedriver found (apt-get install chromium-driver)")
    monkeypatch.setenv("CHROMEDRIVER_PATH", chromedriver)
    monkeypatch.setenv("CHROMIUM_PATH", str(chromium_path()))
    okta, _ = tapped
    pytester.makepyfile(test_selenium=SELENIUM)

    result = run_inner("-v")

    result.assert_outcomes(passed=2)
    keep_screenshots(browser_suite, ["selenium-landing.png"])
    # Straight through: the browser's /authorize and the SPA's token exchange (from the same
    # session) were redirects; a sign-in page is a 200.
    assert [r.status for r in okta.requests if r.endpoint == "authorize"] == [302, 302]
    assert okta.count("authn") == 1
    assert okta.count("signin") == 0


STALE = (
    SHIFTED_CLOCK
    + """

@pytest.mark.okta(app="spa")
def test_1_first_use(okta_storage_state, okta_tokens):
    # The run goes on for almost the tokens' whole life (min_ttl 60s: 30s left is too little).
    CLOCK.shift = okta_tokens.expires_at - CLOCK() - 30


@pytest.mark.okta(app="spa")
def test_2_spa_tokens_in_the_state_outlived(okta_storage_state):
    pass


def test_3_cookies_alone(okta_storage_state):
    pass
"""
)


def test_a_storage_states_tokens_outlived_fail_the_test_at_setup(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    pytester.makepyfile(test_stale=STALE)

    result = run_inner("-rA")

    result.assert_outcomes(passed=2, errors=1)
    outlived = single("test_2_spa_tokens_in_the_state_outlived", "spa")
    (first, *_) = message_of(result.stdout.str(), outlived)
    assert first.startswith("pytest-okta-user: the token handed out for this run")
    assert "(okta_storage_state)" in first
