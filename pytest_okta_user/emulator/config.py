"""Loading the emulator's state from a TOML or JSON file (or an equivalent dict).

```toml
[settings]
demo = true                   # seed the demo org first (default true)
rate_limits = true            # Okta's per-user limit: 4 requests/s on /api/v1/authn and /token
show_lockout_failures = false # true: a locked-out user gets status LOCKED_OUT, not E0000004
lockout_attempts = 10         # failed passwords before the user is locked out
pipeline = "v1"               # /.well-known/okta-organization "pipeline": v1 (Classic) or idx
engine = "classic"            # classic | oie (Identity Engine: pipeline idx, app policies)
embedded_signin = true        # OIE "Embedded widget sign-in support" (Interaction Code flow)
allowed_hosts = []            # Host names followed besides loopback ones (see emulator/hosts.py)

[[trusted_origins]]           # browser JavaScript on this origin may call Okta (CORS)
origin = "http://localhost:3000"
scopes = ["CORS", "REDIRECT"] # the default

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
policy = "password"           # OIE authentication policy: password | password+totp | any

[[users]]
login = "mfa@example.com"
password = "Passw0rd!"
totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
apps = ["0oa-my-web-app"]
```

Keys in `[[users]]`, `[[apps]]`, `[[auth_servers]]` and `[[trusted_origins]]` are the keyword
arguments of `Org.add_user`, `Org.add_app`, `Org.add_auth_server` and `Org.add_trusted_origin`
(`type` is `app_type`, `id` is `server_id`). `load_config` checks every key and value before the
org is touched (`SETTINGS`, `SECTIONS`) and names each mistake by its key path, such as
`users[1] (login 'mfa@example.com').totp_secret`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyotp

from .clientauth import AUTH_METHODS
from .model import Org
from .policies import POLICIES
from .records import KNOWN_GRANTS, OIE_GRANTS, origin_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]


class ConfigError(ValueError):
    """The config file (or dict) does not describe an org; the message says where."""


# A check answers None for a good value, else what is wrong and how to write it instead.
Check = Callable[[Any], "str | None"]

USER_STATUSES = (
    "ACTIVE",
    "STAGED",
    "PROVISIONED",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)
APP_TYPES = ("web", "spa", "browser", "native", "service")
RESPONSE_TYPES = ("code", "token", "id_token")
# RFC 3986 section 3.1: an absolute URI starts with a scheme.
URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a table"})
    return names.get(type(value), type(value).__name__)


def a_string(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    return f"must be a string (in quotes), not {kind(value)} {value!r}"


def a_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def an_int(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be an integer from {low} to {high}, not {kind(value)} {value!r}"
        if not low <= value <= high:
            return f"must be from {low} to {high}, not {value}"
        return None

    return check


def one_of(choices: Sequence[str], *, fold: bool = False) -> Check:
    def check(value: Any) -> str | None:
        problem = a_string(value)
        if problem:
            return problem
        if (value.upper() if fold else value) in choices:
            return None
        return f"{value!r} is not one of {', '.join(choices)}"

    return check


def list_of(item: Check) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f'must be a list, such as ["..."], not {kind(value)} {value!r}'
        for index, element in enumerate(value):
            problem = item(element)
            if problem:
                return f"item {index}: {problem}"
        return None

    return check


def a_uri(value: Any) -> str | None:
    """An absolute URI without fragment (RFC 6749 section 3.1.2); http(s) ones need a host."""
    problem = a_string(value)
    if problem:
        return problem
    if not URI_SCHEME.match(value) or any(c.isspace() for c in value) or "#" in value:
        return (
            f"{value!r} is not an absolute URI: write it as scheme:... without spaces or a"
            ' fragment, such as "http://localhost:3000/callback" or "com.example.app:/cb"'
        )
    if value.split(":", 1)[0].lower() in ("http", "https") and origin_of(value) is None:
        return f"{value!r} has no valid host: write it as http://host[:port]/path"
    return None


def an_origin(value: Any) -> str | None:
    problem = a_string(value)
    if problem:
        return problem
    if origin_of(value) != value.lower():
        return (
            f"{value!r} is not an origin: write scheme://host[:port] with no path or trailing"
            ' slash, as a browser sends it, such as "http://localhost:3000"'
        )
    return None


def a_base32_secret(value: Any) -> str | None:
    """A TOTP secret: base32 (RFC 4648 section 6), and long enough for pyotp (112 bits)."""
    problem = a_string(value)
    if problem:
        return problem
    compact = value.replace(" ", "").upper().rstrip("=")
    try:
        if not compact:
            raise ValueError
        base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (ValueError, binascii.Error):
        return "is not base32 (letters A-Z and digits 2-7): copy the authenticator's secret key"
    try:
        pyotp.TOTP(value).now()
    except (ValueError, binascii.Error) as err:
        return f"is not usable ({err}): use 32 base32 characters, such as pyotp.random_base32()"
    return None


def a_table(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be a table, not {kind(value)} {value!r}"


def a_jwk(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("kty"), str):
        return "must be a public JWK table with a kty (RFC 7517 section 4)"
    return None


STRINGS = list_of(a_string)
GRANTS = list_of(one_of(KNOWN_GRANTS + OIE_GRANTS))
ENGINES = ("classic", "oie")

SETTINGS: dict[str, Check] = {
    "demo": a_bool,
    "rate_limits": a_bool,
    "show_lockout_failures": a_bool,
    "lockout_attempts": an_int(1, 100),
    "pipeline": one_of(("v1", "idx")),
    "engine": one_of(ENGINES),
    "embedded_signin": a_bool,
    "public_url": a_uri,
    "allowed_hosts": STRINGS,
}
# The keyword arguments of Org.add_user, add_app, add_auth_server and add_trusted_origin, and the
# names the config spells them by; `required` keys must be present.
SECTIONS: dict[str, dict[str, Check]] = {
    "users": {
        "login": a_string,
        "password": a_string,
        "first_name": a_string,
        "last_name": a_string,
        "email": a_string,
        "status": one_of(USER_STATUSES, fold=True),
        "totp_secret": a_base32_secret,
        "apps": STRINGS,
        "groups": STRINGS,
        "user_id": a_string,
        "profile": a_table,
    },
    "apps": {
        "client_id": a_string,
        "type": one_of(APP_TYPES),
        "app_type": one_of(APP_TYPES),
        "client_secret": a_string,
        "auth_method": one_of(AUTH_METHODS),
        "redirect_uris": list_of(a_uri),
        "post_logout_redirect_uris": list_of(a_uri),
        "grant_types": GRANTS,
        "response_types": list_of(one_of(RESPONSE_TYPES)),
        "pkce_required": a_bool,
        "refresh_rotation": one_of(("ROTATE", "STATIC"), fold=True),
        "refresh_leeway": an_int(0, 60),
        "jwks": list_of(a_jwk),
        "name": a_string,
        "policy": one_of(POLICIES),
    },
    "auth_servers": {
        "id": a_string,
        "server_id": a_string,
        "audience": a_string,
        "scopes": STRINGS,
        # Okta's limits on an access policy rule's token lifetimes (5 minutes to 1 day).
        "access_token_lifetime": an_int(300, 86400),
        "id_token_lifetime": an_int(300, 86400),
        "refresh_token_lifetime": an_int(300, 5 * 365 * 86400),
        "grant_types": GRANTS,
        "name": a_string,
    },
    "trusted_origins": {
        "origin": an_origin,
        "scopes": list_of(one_of(("CORS", "REDIRECT"), fold=True)),
        "name": a_string,
    },
}
REQUIRED = {
    "users": ("login", "password"),
    "apps": (),
    "auth_servers": (),
    "trusted_origins": ("origin",),
}


def entry_path(section: str, index: int, entry: Mapping[str, Any]) -> str:
    """`users[0]`, with the entry's name when it has one (a user is named by its login)."""
    for key in ("login", "client_id", "id", "server_id", "origin"):
        if isinstance(entry.get(key), str):
            return f"{section}[{index}] ({key} {entry[key]!r})"
    return f"{section}[{index}]"


def problems(data: Mapping[str, Any]) -> list[str]:
    """Every mistake in a loaded config, each as `key.path: what is wrong and the fix`."""
    found: list[str] = []
    unknown = set(data) - {"settings", *SECTIONS}
    if unknown:
        known = ", ".join(["settings", *SECTIONS])
        found.append(f"unknown section(s): {', '.join(sorted(unknown))}; known: {known}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        found.append("settings: [settings] must be a table")
        settings = {}
    for key, value in settings.items():
        check = SETTINGS.get(key)
        if check is None:
            found.append(
                f"settings.{key}: unknown setting {key!r}; known: {', '.join(sorted(SETTINGS))}"
            )
        elif (problem := check(value)) is not None:
            if isinstance(value, str) and check is SETTINGS["lockout_attempts"]:
                problem = f"must be int: {problem}"
            found.append(f"settings.{key}: {problem}")
    engine, pipeline = settings.get("engine"), settings.get("pipeline")
    if engine in ENGINES and pipeline in ("v1", "idx") and (engine == "oie") != (pipeline == "idx"):
        found.append(
            f"settings.engine: {engine!r} contradicts pipeline {pipeline!r}: Identity Engine"
            ' is pipeline "idx", Classic is "v1"; drop one of the two'
        )
    for section, fields in SECTIONS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            found.append(f"{section}: [[{section}]] must be a list of tables")
            continue
        for index, entry in enumerate(entries):
            where = entry_path(section, index, entry)
            missing = [key for key in REQUIRED[section] if not entry.get(key)]
            if section == "auth_servers" and not (entry.get("id") or entry.get("server_id")):
                found.append(f"{where}: every [[auth_servers]] entry needs an id")
            if missing:
                needs = " and ".join(REQUIRED[section])
                found.append(f"{where}: every [[{section}]] entry needs {needs}")
            for key, value in entry.items():
                check = fields.get(key)
                if check is None:
                    known = ", ".join(sorted(fields))
                    found.append(f"{where}.{key}: unknown key {key!r}; known: {known}")
                elif (problem := check(value)) is not None:
                    if key in ("type", "app_type"):
                        problem = f"{problem} (the app_type)"
                    found.append(f"{where}.{key}: {problem}")
    return found


def load_config(source: str | os.PathLike[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Read a config file (`.toml`, or `.json`) or validate an already-loaded dict.

    Every key is checked here, before the org is touched; the error lists each mistake on a line
    of its own, as `<file>: <key path>: <problem and fix>`.
    """
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
    found = problems(data)
    if found:
        raise ConfigError("\n".join(f"{where}: {problem}" for problem in found))
    data["_where"] = where
    return data


def apply_config(
    org: Org,
    config: Mapping[str, Any],
    *,
    rate_limits: bool | None = None,
    engine: str | None = None,
) -> None:
    """Reset `org` to the demo org (unless `demo = false`) plus what `config` describes.

    engine: `classic` or `oie`, overriding the config's `engine` / `pipeline`."""
    where = str(config.get("_where", "config"))
    settings = dict(config.get("settings", {}))
    with org.lock:
        org.clear()
        org.rate_limits = settings.get("rate_limits", True) if rate_limits is None else rate_limits
        org.show_lockout_failures = settings.get("show_lockout_failures", False)
        org.lockout_attempts = settings.get("lockout_attempts", 10)
        engine = engine or settings.get("engine")
        org.pipeline = {"oie": "idx", "classic": "v1"}.get(engine or "", "") or settings.get(
            "pipeline", "v1"
        )
        org.embedded_signin = settings.get("embedded_signin", True)
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
            for entry in config.get("trusted_origins", []):
                fields = dict(entry)
                org.add_trusted_origin(str(fields.pop("origin")), **fields)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from None
