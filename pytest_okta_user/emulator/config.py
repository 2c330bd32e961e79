"""Loading the emulator's state from a TOML or JSON file (or an equivalent dict).

```toml
[settings]
demo = true                   # seed the demo org first (default true)
rate_limits = true            # Okta's per-user limit: 4 requests/s on /api/v1/authn and /token
show_lockout_failures = false # true: a locked-out user gets status LOCKED_OUT, not E0000004
lockout_attempts = 10         # failed passwords before the user is locked out
pipeline = "v1"               # /.well-known/okta-organization "pipeline": v1 (Classic) or idx

[[auth_servers]]
id = "payments"
audience = "api://payments"
scopes = ["payments:read"]
access_token_lifetime = 900

[[apps]]
client_id = "0oa-my-web-app"
type = "web"                  # web | spa | native | service
client_secret = "a-secret"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token"]

[[users]]
login = "mfa@example.com"
password = "Passw0rd!"
totp_secret = "JBSWY3DPEHPK3PXP"
apps = ["0oa-my-web-app"]
```

Keys in `[[users]]`, `[[apps]]` and `[[auth_servers]]` are the keyword arguments of
`Org.add_user`, `Org.add_app` and `Org.add_auth_server` (`type` is `app_type`, `id` is
`server_id`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import Org

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

SETTINGS = {
    "demo": bool,
    "rate_limits": bool,
    "show_lockout_failures": bool,
    "lockout_attempts": int,
    "pipeline": str,
    "public_url": str,
}


class ConfigError(ValueError):
    """The config file (or dict) does not describe an org; the message says where."""


def load_config(source: str | os.PathLike[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Read a config file (`.toml`, or `.json`) or validate an already-loaded dict."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = "config"
    else:
        path = Path(source)
        where = str(path)
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise ConfigError(f"{where}: cannot read: {err.strerror}") from None
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(raw.decode("utf-8"))
            else:
                data = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise ConfigError(f"{where}: not valid {path.suffix or 'TOML'}: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the top level must be a table/object")
    unknown = set(data) - {"settings", "users", "apps", "auth_servers"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s): {', '.join(sorted(unknown))}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}: [settings] must be a table")
    for key, value in settings.items():
        expected = SETTINGS.get(key)
        if expected is None:
            raise ConfigError(
                f"{where}: unknown setting {key!r}; known: {', '.join(sorted(SETTINGS))}"
            )
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: setting {key!r} must be {expected.__name__}")
    for section in ("users", "apps", "auth_servers"):
        entries = data.get(section, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ConfigError(f"{where}: [[{section}]] must be a list of tables")
    data["_where"] = where
    return data


def apply_config(org: Org, config: Mapping[str, Any], *, rate_limits: bool | None = None) -> None:
    """Reset `org` to the demo org (unless `demo = false`) plus what `config` describes."""
    where = str(config.get("_where", "config"))
    settings = dict(config.get("settings", {}))
    with org.lock:
        org.clear()
        org.rate_limits = settings.get("rate_limits", True) if rate_limits is None else rate_limits
        org.show_lockout_failures = settings.get("show_lockout_failures", False)
        org.lockout_attempts = settings.get("lockout_attempts", 10)
        org.pipeline = settings.get("pipeline", "v1")
        if settings.get("demo", True):
            org.seed_demo()
        try:
            for entry in config.get("auth_servers", []):
                fields = dict(entry)
                server_id = fields.pop("id", None) or fields.pop("server_id", None)
                if not server_id:
                    raise ConfigError("every [[auth_servers]] entry needs an id")
                org.add_auth_server(str(server_id), **fields)
            for entry in config.get("apps", []):
                fields = dict(entry)
                if "type" in fields:
                    fields["app_type"] = fields.pop("type")
                org.add_app(fields.pop("client_id", None), **fields)
            for entry in config.get("users", []):
                fields = dict(entry)
                login, password = fields.pop("login", None), fields.pop("password", None)
                if not login or not password:
                    raise ConfigError("every [[users]] entry needs login and password")
                org.add_user(str(login), str(password), **fields)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from None
