"""Random parameters at /authorize, /token, /api/v1/authn (and factor verify): never a 5xx.

Bounded: EMULATOR_FUZZ_EXAMPLES examples per endpoint (default 150). An emulator bug is answered as
a 400 but recorded in `okta.internal_errors`, so the tests also fail on those.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_okta_user.emulator import DEMO, OktaEmulator

EXAMPLES = int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Text that requests can put in a header (latin-1, no CR/LF).
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=80,
).map(str.lstrip)  # requests itself refuses a header value with leading whitespace
any_text = st.text(max_size=60)


def values(*known: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), any_text)


AUTHORIZE_PARAMS: dict[str, st.SearchStrategy[str]] = {
    "client_id": values(DEMO.web_client_id, DEMO.spa_client_id, DEMO.service_client_id, ""),
    "redirect_uri": values(DEMO.web_redirect_uri, DEMO.spa_redirect_uri, "http://x"),
    "response_type": values(
        "code", "token", "id_token", "id_token token", "code id_token token", "none"
    ),
    "response_mode": values("query", "fragment", "form_post", "okta_post_message"),
    "scope": values("openid", "openid profile email offline_access", "api:read", "profile"),
    "state": any_text,
    "nonce": any_text,
    "code_challenge": values("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "plain"),
    "code_challenge_method": values("S256", "plain"),
    "prompt": values("none", "login", "consent", "none login"),
    "max_age": values("0", "60", "-1", "99999999999999999999"),
    "idp": any_text,
    "login_hint": any_text,
    "sessionToken": any_text,
}

TOKEN_PARAMS: dict[str, st.SearchStrategy[str]] = {
    "grant_type": values(
        "authorization_code", "refresh_token", "password", "client_credentials", "implicit"
    ),
    "code": any_text,
    "redirect_uri": values(DEMO.web_redirect_uri, DEMO.spa_redirect_uri),
    "code_verifier": any_text,
    "refresh_token": any_text,
    "username": values(DEMO.user_login, "nobody"),
    "password": values(DEMO.user_password, ""),
    "scope": values("openid", "api:read", "okta.users.read", "openid offline_access"),
    "client_id": values(DEMO.web_client_id, DEMO.spa_client_id, DEMO.service_client_id),
    "client_secret": values(DEMO.web_client_secret, ""),
    "client_assertion_type": values("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
    "client_assertion": values("eyJhbGciOiJIUzI1NiJ9.e30.x", "a.b.c"),
    "token": any_text,
}


def pairs(known: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Parameter lists: known names with odd values, unknown names, and duplicates."""
    known_pair = st.sampled_from(sorted(known)).flatmap(lambda k: st.tuples(st.just(k), known[k]))
    unknown_pair = st.tuples(any_text, any_text)
    return st.lists(st.one_of(known_pair, known_pair, unknown_pair), max_size=12)


basic_header = st.one_of(
    st.none(),
    st.just(
        "Basic "
        + base64.b64encode(f"{DEMO.web_client_id}:{DEMO.web_client_secret}".encode()).decode()
    ),
    st.just(
        "Basic "
        + base64.b64encode(
            f"{DEMO.service_client_id}:{DEMO.service_client_secret}".encode()
        ).decode()
    ),
    st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    header_text,
)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
authn_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "username": st.one_of(values(DEMO.user_login, "mfa@example.com"), json_values),
            "password": st.one_of(values(DEMO.user_password, "Passw0rd!mfa"), json_values),
            "stateToken": st.one_of(any_text, json_values),
            "passCode": st.one_of(values("123456"), json_values),
            "options": json_values,
            "context": json_values,
            "token": any_text,
        },
    ),
    json_values,
)


@pytest.fixture(scope="module")
def fuzz_okta() -> Iterator[OktaEmulator]:
    with OktaEmulator() as okta:
        okta.org.add_user(
            "mfa@example.com", "Passw0rd!mfa", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        )
        yield okta
        assert okta.internal_errors == []


def check(okta: OktaEmulator, response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert okta.internal_errors == [], okta.internal_errors[-1]


@FUZZ
@given(
    server=st.sampled_from(["default", "org", "nosuch"]),
    method=st.sampled_from(["GET", "POST"]),
    params=pairs(AUTHORIZE_PARAMS),
    raw_query=st.one_of(st.none(), st.text(alphabet="abc=&%;+#?/ 0123456789", max_size=40)),
    with_session_token=st.booleans(),
    cookie=st.one_of(st.none(), header_text),
    host=st.one_of(st.none(), header_text),
)
def test_authorize_never_5xx(
    fuzz_okta: OktaEmulator,
    server: str,
    method: str,
    params: list[tuple[str, str]],
    raw_query: str | None,
    with_session_token: bool,
    cookie: str | None,
    host: str | None,
) -> None:
    okta = fuzz_okta
    base = f"{okta.url}/oauth2/v1" if server == "org" else f"{okta.url}/oauth2/{server}/v1"
    if with_session_token:
        authn = requests.post(
            f"{okta.url}/api/v1/authn",
            json={"username": DEMO.user_login, "password": DEMO.user_password},
        )
        if authn.status_code == 200:
            params = [*params, ("sessionToken", authn.json()["sessionToken"])]
    headers = {"Cookie": f"sid={cookie}"} if cookie else {}
    if host is not None:
        headers["Host"] = host
    url = f"{base}/authorize" + (f"?{raw_query}" if raw_query is not None else "")
    if method == "GET":
        response = requests.get(url, params=params, headers=headers, allow_redirects=False)
    else:
        response = requests.post(url, data=params, headers=headers, allow_redirects=False)
    check(okta, response)


@FUZZ
@given(
    server=st.sampled_from(["default", "org", "nosuch"]),
    endpoint=st.sampled_from(["token", "token", "token", "introspect", "revoke"]),
    form=pairs(TOKEN_PARAMS),
    authorization=basic_header,
    content_type=st.sampled_from([None, "application/json", "text/plain", "multipart/form-data"]),
    origin=st.one_of(st.none(), st.just("http://localhost:8080")),
    query=st.one_of(st.none(), st.just("client_id=x")),
)
def test_token_never_5xx(
    fuzz_okta: OktaEmulator,
    server: str,
    endpoint: str,
    form: list[tuple[str, str]],
    authorization: str | None,
    content_type: str | None,
    origin: str | None,
    query: str | None,
) -> None:
    okta = fuzz_okta
    base = f"{okta.url}/oauth2/v1" if server == "org" else f"{okta.url}/oauth2/{server}/v1"
    headers: dict[str, str] = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    if origin is not None:
        headers["Origin"] = origin
    url = f"{base}/{endpoint}" + (f"?{query}" if query else "")
    if content_type is None:
        response = requests.post(url, data=form, headers=headers)
    else:
        body = "&".join(f"{k}={v}" for k, v in form).encode("utf-8", "surrogatepass")
        response = requests.post(url, data=body, headers={**headers, "Content-Type": content_type})
    check(okta, response)


@FUZZ
@given(
    body=st.one_of(authn_bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=200)),
    path=st.sampled_from(
        [
            "/api/v1/authn",
            "/api/v1/authn",
            "/api/v1/authn/factors/uft123/verify",
            "/api/v1/authn/credentials/change_password",
        ]
    ),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded"]
    ),
    resume=st.booleans(),
)
def test_authn_never_5xx(
    fuzz_okta: OktaEmulator, body: bytes, path: str, content_type: str, resume: bool
) -> None:
    okta = fuzz_okta
    okta.clock.advance(1)  # keep Okta's per-user limit from answering everything with 429
    if resume and path != "/api/v1/authn":
        start = requests.post(
            f"{okta.url}/api/v1/authn",
            json={"username": "mfa@example.com", "password": "Passw0rd!mfa"},
        )
        if start.status_code == 200:
            factor = start.json()["_embedded"]["factors"][0]["id"]
            path = f"/api/v1/authn/factors/{factor}/verify" if "factors" in path else path
            try:
                decoded: Any = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                decoded["stateToken"] = start.json()["stateToken"]
                body = json.dumps(decoded).encode()
    response = requests.post(f"{okta.url}{path}", data=body, headers={"Content-Type": content_type})
    check(okta, response)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    segments=st.lists(
        st.one_of(
            st.sampled_from(
                ["oauth2", "v1", "default", "api", "authn", ".well-known", "keys", "token"]
            ),
            st.text(alphabet="abc%2F.~-_:@!$&'()*+,;=", min_size=1, max_size=10),
        ),
        max_size=5,
    ),
    query=st.text(alphabet="abc=&%;+#?/ 0123456789\u00e9", max_size=30),
    body=st.binary(max_size=100),
)
def test_any_path_never_5xx(
    fuzz_okta: OktaEmulator, method: str, segments: list[str], query: str, body: bytes
) -> None:
    okta = fuzz_okta
    url = f"{okta.url}/{'/'.join(segments)}?{query}"
    response = requests.request(method, url, data=body or None, allow_redirects=False)
    check(okta, response)
