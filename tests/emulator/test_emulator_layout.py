"""The emulator's layout: routing, rules without HTTP, one writer of state, no outside imports.

See pytest_okta_user/emulator/app.py (routing, parse and render), the rules modules and model.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_okta_user.emulator as emulator_package
from pytest_okta_user.emulator import ENDPOINTS
from pytest_okta_user.emulator.app import URL_MAP, route

PACKAGE = Path(emulator_package.__file__).parent
RULES = ("authn", "authorize", "clientauth", "oauth", "discovery", "cors", "signin")
# Modules that know nothing of HTTP: the rules, the model and what they share.
NO_HTTP = (
    *RULES,
    "model",
    "minting",
    "records",
    "keys",
    "ids",
    "errors",
    "inputs",
    "ratelimits",
    "pages",
)


def tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))


def imported(module: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_every_endpoint_has_a_route_and_every_route_an_endpoint() -> None:
    routed = {str(rule.endpoint) for rule in URL_MAP.iter_rules()}
    assert routed | {"unknown"} == set(ENDPOINTS)


@pytest.mark.parametrize(
    ("path", "endpoint", "server_id"),
    [
        ("/api/v1/authn", "authn", None),
        ("/api/v1/authn/", "authn", None),
        ("//api//v1/authn", "authn", None),
        ("/api/v1/authn/factors/uft1/verify", "factor_verify", None),
        ("/api/v1/authn/factors/verify", "unknown", None),
        ("/", "signin", None),
        ("/login/login.htm", "signin", None),
        ("/.well-known/openid-configuration", "openid_configuration", "org"),
        ("/.well-known/okta-organization", "okta_organization", None),
        ("/oauth2/v1/keys", "keys", "org"),
        ("/oauth2/org/v1/keys", "keys", "org"),
        ("/oauth2/default/v1/token/", "token", "default"),
        ("/oauth2/v1/v1/token", "token", "v1"),
        (
            "/oauth2/default/.well-known/oauth-authorization-server",
            "oauth_authorization_server",
            "default",
        ),
        ("/oauth2/v1/.well-known/openid-configuration", "openid_configuration", "v1"),
        ("/oauth2/default/v1/openid-configuration", "unknown", None),
        ("/oauth2/v1/openid-configuration", "unknown", None),
        ("/oauth2/default/.well-known/keys", "unknown", None),
        ("/oauth2/a/b/v1/keys", "unknown", None),
    ],
)
def test_routes_ignore_empty_segments_and_never_redirect(
    path: str, endpoint: str, server_id: str | None
) -> None:
    name, arguments = route(path)
    assert (name, arguments.get("server_id")) == (endpoint, server_id)


def test_a_routes_arguments_are_the_callers_own() -> None:
    """`route` remembers what it matched; a handler changing its arguments changes no later
    request's."""
    route("/oauth2/default/v1/token")[1]["server_id"] = "changed"
    assert route("/oauth2/default/v1/token") == ("token", {"server_id": "default"})


@pytest.mark.parametrize("module", NO_HTTP)
def test_rules_and_model_know_nothing_of_http(module: str) -> None:
    assert not {name for name in imported(module) if name.split(".")[0] in ("werkzeug", ".app")}


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("*.py")))
def test_the_emulator_imports_nothing_from_the_rest_of_the_package(module: str) -> None:
    outside = {
        name
        for name in imported(module)
        if name.startswith("..") or name.startswith("pytest_okta_user")
    }
    assert not outside


@pytest.mark.parametrize("module", RULES)
def test_rules_write_no_state_but_through_the_model(module: str) -> None:
    """No attribute assignment or deletion: a rule changes the org through its methods only."""
    writes = [
        ast.unparse(node)
        for node in ast.walk(tree(module))
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete))
        for target in (
            node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        )
        if isinstance(target, ast.Attribute)
        or (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute))
    ]
    assert writes == []
