"""The start-up floor: a plugin that registers what pytest-okta-user registers, and nothing else.

bench_pytest.py checks that FLAGS still matches the real plugin's settings table before timing.
"""

FLAGS = [  # (flag, dest name, on/off switch, ini key)
    ("--okta-domain", "domain", False, "okta_domain"),
    ("--okta-auth-server", "auth_server", False, "okta_auth_server_id"),
    ("--okta-client-id", "client_id", False, "okta_client_id"),
    ("--okta-redirect-uri", "redirect_uri", False, "okta_redirect_uri"),
    ("--okta-user", "user", False, "okta_username"),
    ("--okta-flow", "flow", False, "okta_flow"),
    ("--okta-scopes", "scopes", False, "okta_scopes"),
    ("--okta-min-ttl", "min_ttl", False, "okta_min_ttl"),
    ("--okta-response-mode", "response_mode", False, "okta_response_mode"),
    ("--okta-cache-dir", "cache_dir", False, "okta_token_cache_dir"),
    ("--okta-no-cache", "no_cache", True, None),
    ("--okta-clear-cache", "clear_cache", True, None),
    ("--okta-timeout", "timeout", False, "okta_timeout"),
    ("--okta-retries", "retries", False, "okta_retries"),
    ("--okta-rate-limit-wait", "rate_limit_wait", False, "okta_rate_limit_wait"),
    ("--okta-emulator", "emulator", True, "okta_emulator"),
    ("--okta-emulator-engine", "emulator_engine", False, "okta_emulator_engine"),
    ("--okta-show-secrets", "show_secrets", True, "okta_show_secrets"),
]


def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    group = parser.getgroup("okta-user", "Okta user tokens (pytest-okta-user)")
    for flag, name, switch, ini in FLAGS:
        action = "store_true" if switch else "store"
        group.addoption(flag, dest=f"okta_{name}", action=action, default=None, help=name)
        if ini:
            parser.addini(ini, help=name, default=None)


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "okta(flow=..., user=...): the Okta variant of this test")
