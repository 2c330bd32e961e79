"""The check of the checker: the leak search finds what it must (tests/support/leaks.py)."""

from __future__ import annotations

import base64
import html
import json
import textwrap
from urllib.parse import quote_plus

from support.leaks import find_leaks, request_fields, response_fields


def test_the_search_finds_secrets_whole_escaped_wrapped_and_cut() -> None:
    token = "eyJraWQiOiJrMSJ9." + "A1b2C3d4E5f6G7h8I9j0" * 4 + ".sig-Part_xyz0123456789"
    password = "p&ss<w0rd>!'\"x"
    secrets = {token: "access token", password: "password", "Short-Secret": "client secret"}
    wrapped = "\n    ".join(textwrap.wrap(token, 30))
    outputs = {
        "wrapped": f"E   assert {wrapped} == 1",
        "cut": f"... {token[40:60]} ...",
        "xml": f'<failure message="{html.escape(password, quote=True)}"/>',
        "url": f"GET /x?p={quote_plus(password)}",
        "json": json.dumps({"value": password}),
        "clean": "TokenSet(access_token=<1a2b3c4d>) Short-Secre... p&ss",
    }
    assert sorted(find_leaks(secrets, outputs)) == [
        "access token in cut (a piece)",
        "access token in wrapped",
        "password in json",
        "password in url",
        "password in xml",
    ]


def test_the_tap_keeps_secrets_from_bodies_headers_redirects_and_form_posts() -> None:
    basic = base64.b64encode(b"0oaclient:the-client-secret").decode()
    environ = {
        "QUERY_STRING": "client_id=0oa&sessionToken=20111sessiontoken&state=abc",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_AUTHORIZATION": f"Basic {basic}",
    }
    sent = dict(request_fields(environ, b"grant_type=authorization_code&code_verifier=verifier-1"))
    assert sent["sessionToken"] == "20111sessiontoken"
    assert sent["code_verifier"] == "verifier-1"
    assert sent["client_secret"] == "the-client-secret"
    page = b'<form id="appForm"><input type="hidden" name="code" value="the-c&amp;de"/></form>'
    redirect = [("Location", "http://cb/#access_token=at-123456789&state=s")]
    answered = list(response_fields(redirect, page))
    assert ("code", "the-c&de") in answered
    assert ("access_token", "at-123456789") in answered
