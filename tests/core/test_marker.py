"""The okta marker's and the token factory's arguments, and the variant a request makes under the
settings (marker.py; no pytest in the loop)."""

from __future__ import annotations

import pytest
from support.settings_env import ENV, ORG, run

from pytest_okta_user.errors import MarkerError
from pytest_okta_user.marker import (
    OktaRequest,
    build_variant,
    expand_marker,
    factory_request,
    marker_ids,
)


def test_a_flow_list_fans_out_with_readable_labels() -> None:
    requests = expand_marker({"flow": ["code", "pkce", "implicit"]})
    assert [r.label() for r in requests] == ["code", "pkce", "implicit"]
    requests = expand_marker({"flow": ["code", "pkce"], "user": ["a@x.org", "b@x.org"]})
    assert [r.label() for r in requests] == [
        "code-a@x.org",
        "code-b@x.org",
        "pkce-a@x.org",
        "pkce-b@x.org",
    ]


def test_scopes_are_one_set_unless_given_as_a_list_of_sets() -> None:
    (one,) = expand_marker({"scopes": ["openid", "email"]})
    assert one.scopes == ("openid", "email")
    assert expand_marker({"scopes": "openid email"}) == [one]
    two = expand_marker({"scopes": [["openid"], "openid email"]})
    assert [r.scopes for r in two] == [("openid",), ("openid", "email")]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"flow": "magic"}, "flow='magic' is not a flow"),
        ({"flow": []}, "flow=[] is empty"),
        ({"flow": ["code", "code"]}, "lists a value twice"),
        ({"flows": "code"}, "unknown argument flows='code'"),
        ({"scopes": "openid,email"}, "commas"),
        ({"scopes": 3}, "is not a set of scopes"),
        ({"user": ""}, "is not a login"),
        ({"auth_server": "https://x"}, "not an authorization server id"),
        ({"min_ttl": -1}, "not a number of seconds"),
        ({"min_ttl": [1, 2]}, "one value, not a list"),
    ],
)
def test_bad_marker_arguments(kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(MarkerError) as info:
        expand_marker(kwargs)
    assert expected in info.value.what


def test_build_variant_takes_the_request_over_the_settings() -> None:
    s = run(env=ENV)
    default = build_variant(s, OktaRequest())
    assert (default.flow, default.user, default.issuer) == (
        "pkce",
        "env@example.com",
        f"{ORG}/oauth2/default",
    )
    assert default.redirect_uri == "http://localhost:8080/callback"
    v = build_variant(s, OktaRequest(flow="client_credentials", auth_server="org", scopes=("x",)))
    assert (v.user, v.issuer, v.scopes, v.redirect_uri) == (None, ORG, ("x",), None)
    v = build_variant(s, OktaRequest(user="other@example.com", flow="password"))
    assert (v.user, v.redirect_uri) == ("other@example.com", None)


def test_the_factory_takes_one_value_per_argument_over_the_tests_request() -> None:
    base = OktaRequest(flow="code", min_ttl=300.0)
    assert factory_request(base, {"user": "a@x.org", "scopes": "openid"}) == OktaRequest(
        flow="code", user="a@x.org", scopes=("openid",), min_ttl=300.0
    )
    assert factory_request(base, {}) == base
    with pytest.raises(MarkerError) as info:
        factory_request(base, {"flow": ["code", "pkce"]})
    assert "takes one value per argument, not a list" in info.value.what


def test_a_bad_auth_server_is_worded_as_its_settings_error() -> None:
    with pytest.raises(MarkerError) as info:
        expand_marker({"auth_server": "https://x"})
    assert info.value.what == (
        "auth_server='https://x': authorization server (marker argument auth_server):"
        " 'https://x' is not an authorization server id"
    )
    assert "'default', 'org'" in info.value.fix


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"flow": "code"}, None),
        ({"scopes": "openid email"}, None),
        ({"scopes": ["openid", "email"]}, None),  # one scope set, given as a list
        ({"flow": ["code", "pkce"], "scopes": "openid email"}, ["code", "pkce"]),
        ({"scopes": [["openid"], "openid email"], "flow": "code"}, ["openid", "openid+email"]),
        ({"flow": ["code", "pkce"], "user": ["a@x.org", "b@x.org"]},
         ["code-a@x.org", "code-b@x.org", "pkce-a@x.org", "pkce-b@x.org"]),
    ],
)  # fmt: skip
def test_only_list_values_name_the_tests(
    kwargs: dict[str, object], expected: list[str] | None
) -> None:
    assert marker_ids(kwargs, expand_marker(kwargs)) == expected


def test_a_variant_needs_no_secrets() -> None:
    env = {k: v for k, v in ENV.items() if k not in ("OKTA_PASSWORD", "OKTA_CLIENT_SECRET")}
    assert build_variant(run(env=env), OktaRequest(flow="code")) == build_variant(
        run(env=ENV), OktaRequest(flow="code")
    )
