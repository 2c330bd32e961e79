"""The emulator's HTTP layer: a werkzeug WSGI app that speaks Okta's wire formats over `model.Org`.

Every answer is Okta-shaped: `/api/v1/*` errors carry an E0000xxx body, OAuth endpoints answer
`{"error", "error_description"}` (or redirect them), browser endpoints render HTML. Codes, texts and
statuses come from `catalogue.py` (Okta's own catalogue). Nothing here answers 5xx unless a test
injected it with `faults.add`: an unexpected exception is recorded in `internal_errors` and answered
as a 400 E0000001, so a fuzz test can fail on it without the client ever seeing a traceback.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .catalogue import API_ERRORS, OAUTH_ERRORS
from .model import (
    OPENID_ONLY_SCOPES,
    App,
    AuthServer,
    Org,
    User,
    opaque_token,
    pkce_challenge,
)

ENDPOINTS = (
    "authn",
    "factor_verify",
    "change_password",
    "authn_cancel",
    "authorize",
    "token",
    "keys",
    "openid_configuration",
    "oauth_authorization_server",
    "okta_organization",
    "userinfo",
    "introspect",
    "revoke",
    "logout",
    "signin",
    "unknown",
)

# Facts 7: the JWKS and both .well-known documents (org and custom servers) are not rate limited.
NOT_RATE_LIMITED = frozenset({"keys", "openid_configuration", "oauth_authorization_server"})

RESPONSE_MODES = ("query", "fragment", "form_post", "okta_post_message")
AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
# Org-wide per-minute buckets (Okta's Workforce column), reported in X-Rate-Limit-* headers.
MINUTE_LIMITS = {"authn": 500, "factor_verify": 500, "authorize": 2000, "token": 2000}
DEFAULT_MINUTE_LIMIT = 600
PKCE_CHARS = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
HOST_HEADER = re.compile(r"(?:[A-Za-z0-9\-.]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
MAX_BODY = 1 << 20


# -- errors ---------------------------------------------------------------------------------------


def describe(key: str, *args: str) -> str:
    """The catalogue's description with its placeholders (`en`, `{1}`, `{2}`) filled in."""
    text = OAUTH_ERRORS[key].description
    if args:
        text = re.sub(r"\ben\b", lambda _m: args[0], text, count=1)
        for index, value in enumerate(args[1:], start=1):
            text = text.replace("{" + str(index) + "}", value)
    return text


def api_summary(code: str, detail: str | None = None) -> str:
    summary = API_ERRORS[code].summary
    return summary.replace("{0}", detail or "") if "{0}" in summary else summary


class ApiError(Exception):
    """An /api/v1 error: `{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}`."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        causes: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.causes = list(causes)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body = {
            "errorCode": self.code,
            "errorSummary": api_summary(self.code, self.detail),
            "errorLink": self.code,
            "errorId": "oae" + opaque_token(16)[:22],
            "errorCauses": [{"errorSummary": cause} for cause in self.causes],
        }
        return json_response(body, API_ERRORS[self.code].status, self.headers)


class OAuthError(Exception):
    """An OAuth error, named by the catalogue's internal code; JSON, or redirected by /authorize."""

    def __init__(self, key: str, *args: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.error = OAUTH_ERRORS[key].error
        self.status = OAUTH_ERRORS[key].status
        self.description = describe(key, *args)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return json_response(body, self.status, {**no_store(), **self.headers})


class PageError(Exception):
    """An /authorize or /logout error that Okta shows as its HTML error page (never redirected)."""

    def __init__(self, key: str, *args: str) -> None:
        super().__init__(key)
        self.error = OAUTH_ERRORS[key].error
        self.description = describe(key, *args)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


def no_store() -> dict[str, str]:
    return {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"}


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- test controls --------------------------------------------------------------------------------


@dataclass
class Fault:
    endpoint: str
    status: int | None
    body: bytes | None
    headers: dict[str, str]
    delay: float
    remaining: int
    content_type: str


class Faults:
    """Injected misbehaviour: the next `times` requests to `endpoint` get a chosen answer.

    `status=None` with a `delay` only slows the request down and then answers it normally.
    `endpoint` is one of `ENDPOINTS` or "*" (any).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._clock = clock

    def add(
        self,
        endpoint: str,
        status: int | None = 503,
        body: str | bytes | Mapping[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
        content_type: str | None = None,
    ) -> Fault:
        """Queue a fault. A dict/list body is sent as JSON; a str starting with `<` as HTML.

        Without a body, a 429 gets Okta's E0000047 body and X-Rate-Limit-* headers (reset in 60 s
        on the emulator's clock); any other status an empty body.
        """
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")
        extra = dict(headers or {})
        if isinstance(body, (dict, list)):
            raw: bytes | None = json.dumps(body).encode()
            kind = content_type or "application/json"
        elif isinstance(body, str):
            raw = body.encode()
            kind = content_type or (
                "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain"
            )
        elif isinstance(body, bytes):
            raw = body
            kind = content_type or "application/octet-stream"
        else:
            raw = None
            kind = content_type or "application/json"
        if status == 429 and raw is None:
            raw = json.dumps(
                {
                    "errorCode": "E0000047",
                    "errorSummary": API_ERRORS["E0000047"].summary,
                    "errorLink": "E0000047",
                    "errorId": "oae" + opaque_token(16)[:22],
                    "errorCauses": [],
                }
            ).encode()
            reset = str(int(self._clock()) + 60)
            extra = {
                "X-Rate-Limit-Limit": "600",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": reset,
                **extra,
            }
        fault = Fault(endpoint, status, raw, extra, float(delay), int(times), kind)
        with self._lock:
            self._faults.append(fault)
        return fault

    def rate_limited(self, endpoint: str, times: int = 1) -> Fault:
        """Okta's 429 E0000047 with X-Rate-Limit-* headers."""
        return self.add(endpoint, status=429, times=times)

    def proxy_error(self, endpoint: str, status: int = 502, times: int = 1) -> Fault:
        """An HTML error page from a proxy in front of Okta (not Okta-shaped at all)."""
        page = (
            f"<html><head><title>{status} Bad Gateway</title></head><body>"
            f"<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
            "</body></html>"
        )
        return self.add(endpoint, status=status, body=page, times=times)

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "*") and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class RequestRecord:
    """One answered request. Never the query string or body: they carry codes and secrets."""

    method: str
    path: str
    endpoint: str
    status: int
    at: float = field(default=0.0, compare=False)


# -- the WSGI application -------------------------------------------------------------------------


@dataclass
class Context:
    request: Request
    base_url: str
    server: AuthServer | None = None


Handler = Callable[[Context], Response]


class EmulatorApp:
    """WSGI callable. `public_url` fixes the org URL; otherwise it follows the Host header."""

    def __init__(self, org: Org, *, public_url: str | None = None, secure: bool = False) -> None:
        self.org = org
        self.public_url = public_url.rstrip("/") if public_url else None
        self.secure = secure
        self.faults = Faults(org.clock.now)
        self.log: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self._log_lock = threading.Lock()
        self._minute_windows: dict[str, tuple[float, int]] = {}

    # -- plumbing ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        endpoint, handler, server_id = self.route(request.path)
        response = self.respond(request, endpoint, handler, server_id)
        with self._log_lock:
            self.log.append(
                RequestRecord(
                    request.method,
                    request.path,
                    endpoint,
                    response.status_code,
                    self.org.clock.now(),
                )
            )
        return response(environ, start_response)

    def count(self, endpoint: str) -> int:
        with self._log_lock:
            return sum(1 for record in self.log if record.endpoint == endpoint)

    def clear(self) -> None:
        with self._log_lock:
            self.log.clear()
            self.internal_errors.clear()
            self._minute_windows.clear()
        self.faults.clear()

    def respond(
        self, request: Request, endpoint: str, handler: Handler, server_id: str | None
    ) -> Response:
        fault = self.faults.take(endpoint)
        if fault is not None:
            if fault.delay > 0:
                # Simulated latency (a slow Okta), not synchronisation: nothing waits on it.
                time.sleep(fault.delay)
            if fault.status is not None:
                return Response(
                    fault.body or b"",
                    status=fault.status,
                    headers=fault.headers,
                    content_type=fault.content_type,
                )
        try:
            with self.org.lock:
                context = Context(request, self.base_url(request))
                if server_id is not None:
                    server = self.org.server(server_id)
                    if server is None:
                        raise ApiError(
                            "E0000007", f"Resource not found: {server_id} (AuthorizationServer)"
                        )
                    context.server = server
                response = handler(context)
        except ApiError as err:
            response = err.response()
        except OAuthError as err:
            response = err.response()
        except PageError as err:
            response = error_page(err.error, err.description)
        except HTTPException as err:
            # werkzeug refusing a body (too large, malformed multipart...): still Okta-shaped.
            response = ApiError("E0000003", causes=[str(err.description or "")]).response()
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            print(self.internal_errors[-1], file=sys.stderr)
            response = ApiError("E0000001", "internal emulator error").response()
        self.add_rate_limit_headers(endpoint, response)
        return response

    def add_rate_limit_headers(self, endpoint: str, response: Response) -> None:
        if "X-Rate-Limit-Limit" in response.headers or endpoint in NOT_RATE_LIMITED:
            return
        now = self.org.clock.now()
        limit = MINUTE_LIMITS.get(endpoint, DEFAULT_MINUTE_LIMIT)
        with self._log_lock:
            start, used = self._minute_windows.get(endpoint, (now, 0))
            if now - start >= 60 or now < start:
                start, used = now, 0
            used += 1
            self._minute_windows[endpoint] = (start, used)
        response.headers["X-Rate-Limit-Limit"] = str(limit)
        response.headers["X-Rate-Limit-Remaining"] = str(max(0, limit - used))
        response.headers["X-Rate-Limit-Reset"] = str(int(start + 60))

    def base_url(self, request: Request) -> str:
        if self.public_url:
            return self.public_url
        scheme = "https" if self.secure else "http"
        host = request.environ.get("HTTP_HOST", "")
        if not isinstance(host, str) or not HOST_HEADER.fullmatch(host):
            host = f"{request.environ.get('SERVER_NAME', 'localhost')}"
            port = str(request.environ.get("SERVER_PORT", ""))
            if port and port not in ("80", "443"):
                host = f"{host}:{port}"
        return f"{scheme}://{host}"

    def route(self, path: str) -> tuple[str, Handler, str | None]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["api", "v1", "authn"]:
            rest = parts[3:]
            if not rest:
                return "authn", self.authn, None
            if len(rest) == 3 and rest[0] == "factors" and rest[2] == "verify":
                return "factor_verify", self.factor_verify, None
            if rest == ["credentials", "change_password"]:
                return "change_password", self.change_password, None
            if rest == ["cancel"]:
                return "authn_cancel", self.authn_cancel, None
        if parts == [".well-known", "openid-configuration"]:
            return "openid_configuration", self.openid_configuration, "org"
        if parts == [".well-known", "oauth-authorization-server"]:
            return "oauth_authorization_server", self.oauth_authorization_server, "org"
        if parts == [".well-known", "okta-organization"]:
            return "okta_organization", self.okta_organization, None
        if parts in ([], ["login", "default"], ["login", "login.htm"]):
            return "signin", self.signin, None
        if len(parts) >= 3 and parts[0] == "oauth2":
            if parts[1] == "v1" and len(parts) == 3:
                server_id, op = "org", parts[2]
            elif len(parts) == 4 and parts[2] in ("v1", ".well-known"):
                server_id, op = parts[1], parts[3]
            else:
                return "unknown", self.unknown, None
            handlers: dict[str, tuple[str, Handler]] = {
                "authorize": ("authorize", self.authorize),
                "token": ("token", self.token),
                "keys": ("keys", self.keys),
                "userinfo": ("userinfo", self.userinfo),
                "introspect": ("introspect", self.introspect),
                "revoke": ("revoke", self.revoke),
                "logout": ("logout", self.logout),
                "openid-configuration": ("openid_configuration", self.openid_configuration),
                "oauth-authorization-server": (
                    "oauth_authorization_server",
                    self.oauth_authorization_server,
                ),
            }
            well_known = op in ("openid-configuration", "oauth-authorization-server")
            if op in handlers and well_known == (parts[2] == ".well-known"):
                name, handler = handlers[op]
                return name, handler, server_id
        return "unknown", self.unknown, None

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def require_method(ctx: Context, *methods: str) -> None:
        allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())
        if ctx.request.method not in allowed:
            raise ApiError("E0000022", headers={"Allow": ", ".join(sorted(allowed))})

    def json_body(self, ctx: Context) -> dict[str, Any]:
        raw = ctx.request.get_data(cache=True)
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError("E0000003") from None
        if not isinstance(body, dict):
            raise ApiError("E0000003")
        return body

    def server_base(self, ctx: Context) -> str:
        assert ctx.server is not None
        if ctx.server.is_org:
            return f"{ctx.base_url}/oauth2"
        return f"{ctx.base_url}/oauth2/{ctx.server.id}"

    def per_user_limit(self, bucket: str, who: str, error: Exception) -> None:
        if not self.org.rate_limits:
            return
        allowed, reset = self.org.limiter.hit(bucket, who)
        if not allowed:
            headers = {
                "X-Rate-Limit-Limit": str(self.org.limiter.limit),
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": str(int(reset) + (0 if reset == int(reset) else 1)),
            }
            if isinstance(error, (ApiError, OAuthError)):
                error.headers.update(headers)
            raise error

    # -- /api/v1/authn ----------------------------------------------------------------------------

    def authn(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        body = self.json_body(ctx)
        state_token = body.get("stateToken")
        if state_token is not None and not body.get("username"):
            if not isinstance(state_token, str):
                raise ApiError("E0000003")
            txn = self.org.transaction(state_token)
            if txn is None:
                raise ApiError("E0000011")
            user = self.org.user(txn.user_id)
            if user is None:
                raise ApiError("E0000011")
            return self.transaction_response(ctx, user, txn.status, state_token)
        if "token" in body and "username" not in body:
            # Activation/recovery tokens are never issued by the emulator: all are unknown.
            raise ApiError("E0000011")
        username, password = body.get("username"), body.get("password")
        for name, value in (("username", username), ("password", password)):
            if value is not None and not isinstance(value, str):
                raise ApiError("E0000003")
            if not value:
                raise ApiError("E0000001", name, causes=[f"{name}: The field cannot be left blank"])
        for name in ("options", "context"):
            if name in body and not isinstance(body[name], dict):
                raise ApiError("E0000003")
        assert isinstance(username, str)
        assert isinstance(password, str)
        user = self.org.user_by_login(username)
        self.per_user_limit("authn", user.login if user else username, ApiError("E0000047"))
        if user is None:
            raise ApiError("E0000004")
        if user.status == "LOCKED_OUT":
            return self.locked_out(ctx)
        if user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
            raise ApiError("E0000004")
        if not self.org.check_password(user, password):
            if user.status == "LOCKED_OUT":
                return self.locked_out(ctx)
            raise ApiError("E0000004")
        if user.totp_secret:
            return self.transaction_response(
                ctx, user, "MFA_REQUIRED", self.org.new_transaction(user, "MFA_REQUIRED")
            )
        if user.status == "PASSWORD_EXPIRED":
            return self.transaction_response(
                ctx, user, "PASSWORD_EXPIRED", self.org.new_transaction(user, "PASSWORD_EXPIRED")
            )
        return self.success(user, ["pwd"])

    def locked_out(self, ctx: Context) -> Response:
        # Okta's default password policy hides lockout behind the plain authentication failure.
        if not self.org.show_lockout_failures:
            raise ApiError("E0000004")
        return json_response(
            {
                "status": "LOCKED_OUT",
                "_links": {
                    "next": {
                        "name": "unlock",
                        "href": f"{ctx.base_url}/api/v1/authn/recovery/unlock",
                        "hints": {"allow": ["POST"]},
                    }
                },
            }
        )

    def embedded_user(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "passwordChanged": iso(user.password_changed),
            "profile": {
                "login": user.login,
                "firstName": user.profile.get("firstName"),
                "lastName": user.profile.get("lastName"),
                "locale": user.profile.get("locale"),
                "timeZone": user.profile.get("timeZone"),
            },
        }

    def success(self, user: User, amr: list[str]) -> Response:
        token, expires_at = self.org.issue_session_token(user, amr)
        return json_response(
            {
                "expiresAt": iso(expires_at),
                "status": "SUCCESS",
                "sessionToken": token,
                "_embedded": {"user": self.embedded_user(user)},
            }
        )

    def transaction_response(
        self, ctx: Context, user: User, status: str, state_token: str
    ) -> Response:
        txn = self.org.transactions[state_token]
        embedded: dict[str, Any] = {"user": self.embedded_user(user)}
        links: dict[str, Any] = {
            "cancel": {
                "href": f"{ctx.base_url}/api/v1/authn/cancel",
                "hints": {"allow": ["POST"]},
            }
        }
        if status in ("MFA_REQUIRED", "MFA_CHALLENGE"):
            embedded["factors"] = [
                {
                    "id": user.factor_id,
                    "factorType": "token:software:totp",
                    "provider": "GOOGLE",
                    "vendorName": "GOOGLE",
                    "profile": {"credentialId": user.login},
                    "_links": {
                        "verify": {
                            "href": f"{ctx.base_url}/api/v1/authn/factors/{user.factor_id}/verify",
                            "hints": {"allow": ["POST"]},
                        }
                    },
                }
            ]
            embedded["policy"] = {
                "allowRememberDevice": False,
                "rememberDeviceLifetimeInMinutes": 0,
                "rememberDeviceByDefault": False,
                "factorsPolicyInfo": {},
            }
        elif status == "PASSWORD_EXPIRED":
            embedded["policy"] = {
                "complexity": {
                    "minLength": 8,
                    "minLowerCase": 1,
                    "minUpperCase": 1,
                    "minNumber": 1,
                    "minSymbol": 0,
                    "excludeUsername": True,
                },
                "age": {"minAgeMinutes": 0, "historyCount": 0},
            }
            links["next"] = {
                "name": "changePassword",
                "href": f"{ctx.base_url}/api/v1/authn/credentials/change_password",
                "hints": {"allow": ["POST"]},
            }
        return json_response(
            {
                "stateToken": state_token,
                "expiresAt": iso(txn.expires_at),
                "status": status,
                "_embedded": embedded,
                "_links": links,
            }
        )

    def state_transaction(self, ctx: Context, body: dict[str, Any]) -> tuple[str, User, str]:
        state_token = body.get("stateToken")
        if state_token is None:
            raise ApiError(
                "E0000001", "stateToken", causes=["stateToken: The field cannot be left blank"]
            )
        if not isinstance(state_token, str):
            raise ApiError("E0000003")
        txn = self.org.transaction(state_token)
        user = self.org.user(txn.user_id) if txn else None
        if txn is None or user is None:
            raise ApiError("E0000011")
        return state_token, user, txn.status

    def factor_verify(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        body = self.json_body(ctx)
        state_token, user, status = self.state_transaction(ctx, body)
        factor_id = [p for p in ctx.request.path.split("/") if p][4]
        if status not in ("MFA_REQUIRED", "MFA_CHALLENGE"):
            raise ApiError("E0000079", causes=[API_ERRORS["E0000079"].summary])
        if factor_id != user.factor_id:
            raise ApiError("E0000007", f"Resource not found: {factor_id} (UserFactor)")
        passcode = body.get("passCode")
        if passcode is not None and not isinstance(passcode, str):
            raise ApiError("E0000003")
        if not passcode:
            raise ApiError(
                "E0000001", "passCode", causes=["passCode: The field cannot be left blank"]
            )
        verdict = self.org.check_totp(user, passcode)
        if verdict == "invalid":
            raise ApiError(
                "E0000068", causes=["Your passcode doesn't match our records. Please try again."]
            )
        if verdict == "replayed":
            raise ApiError("E0000082", causes=[API_ERRORS["E0000082"].summary])
        del self.org.transactions[state_token]
        if user.status == "PASSWORD_EXPIRED":
            return self.transaction_response(
                ctx, user, "PASSWORD_EXPIRED", self.org.new_transaction(user, "PASSWORD_EXPIRED")
            )
        return self.success(user, ["mfa", "otp", "pwd"])

    def change_password(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        body = self.json_body(ctx)
        state_token, user, status = self.state_transaction(ctx, body)
        if status != "PASSWORD_EXPIRED":
            raise ApiError("E0000079", causes=[API_ERRORS["E0000079"].summary])
        old, new = body.get("oldPassword"), body.get("newPassword")
        if not isinstance(old, str) or not isinstance(new, str):
            raise ApiError("E0000003")
        if not secrets.compare_digest(old.encode(), user.password.encode()):
            raise ApiError(
                "E0000014", causes=["oldPassword: The credentials provided were incorrect."]
            )
        if len(new) < 8 or new == old or user.login.split("@")[0].lower() in new.lower():
            raise ApiError("E0000080", causes=[API_ERRORS["E0000080"].summary])
        user.password = new
        user.status = "ACTIVE"
        user.password_changed = self.org.clock.now()
        del self.org.transactions[state_token]
        return self.success(user, ["pwd"])

    def authn_cancel(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        state_token, _, _ = self.state_transaction(ctx, self.json_body(ctx))
        del self.org.transactions[state_token]
        return json_response({})

    # -- /authorize -------------------------------------------------------------------------------

    def authorize(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET", "POST")
        assert ctx.server is not None
        request = ctx.request
        params: MultiDict[str, str] = MultiDict(request.args)
        if request.method == "POST":
            for key, value in request.form.items(multi=True):
                params.add(key, value)
        client_id = params.get("client_id")
        app = self.org.app(client_id) if client_id else None
        if app is None:
            raise PageError("invalid_client_id")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or redirect_uri not in app.redirect_uris:
            raise PageError("illegal_redirect_uri")
        state = params.get("state")
        types = set(params.get("response_type", "").split())
        token_types = types & {"token", "id_token"}
        mode = params.get("response_mode") or ("fragment" if token_types else "query")
        if mode not in RESPONSE_MODES:
            mode = "fragment" if token_types else "query"
            return self.deliver(
                ctx, mode, redirect_uri, error=OAuthError("unsupported_response_mode"), state=state
            )
        if mode == "query" and token_types:
            return self.deliver(
                ctx,
                "fragment",
                redirect_uri,
                error=OAuthError("unsupported_response_mode_query_with_tokens"),
                state=state,
            )
        try:
            return self.authorize_checked(ctx, app, params, types, mode, redirect_uri, state)
        except OAuthError as err:
            return self.deliver(ctx, mode, redirect_uri, error=err, state=state)

    def authorize_checked(
        self,
        ctx: Context,
        app: App,
        params: MultiDict[str, str],
        types: set[str],
        mode: str,
        redirect_uri: str,
        state: str | None,
    ) -> Response:
        server = ctx.server
        assert server is not None
        duplicated = sorted(k for k in set(params.keys()) if len(params.getlist(k)) > 1)
        if duplicated:
            raise OAuthError("duplicate_oauth_params")
        if app.app_type == "service":
            raise OAuthError("invalid_client_application_type", "authorize")
        configured = ", ".join(app.response_types)
        if not types or not types <= {"code", "token", "id_token"}:
            raise OAuthError("unsupported_response_type", configured)
        if not types <= set(app.response_types):
            raise OAuthError("unsupported_response_type", configured)
        if ("code" in types and "authorization_code" not in app.grant_types) or (
            types & {"token", "id_token"} and "implicit" not in app.grant_types
        ):
            raise OAuthError("unsupported_response_type", configured)
        scopes = params.get("scope", "").split()
        if not scopes:
            raise OAuthError("missing_scopes")
        if any(s not in server.scopes for s in scopes):
            raise OAuthError("invalid_scope")
        if "openid" not in scopes and ("id_token" in types or OPENID_ONLY_SCOPES & set(scopes)):
            raise OAuthError("openid_scope_required")
        nonce = params.get("nonce")
        if types & {"token", "id_token"} and not nonce:
            raise OAuthError("invalid_nonce")
        prompts = set(params.get("prompt", "").split())
        if not prompts <= {"none", "login", "consent"} or ("none" in prompts and len(prompts) > 1):
            raise OAuthError("invalid_prompt", "none, login, consent, login consent, consent login")
        max_age: int | None = None
        if params.get("max_age") is not None:
            raw_age = params.get("max_age", "")
            if not raw_age.isdigit() or int(raw_age) > 2**31 - 1:
                raise OAuthError("invalid_max_age")
            max_age = int(raw_age)
        if params.get("idp") is not None and params.get("idp") != self.org.org_id:
            raise OAuthError("unknown_idp")
        challenge = params.get("code_challenge")
        if "code" in types:
            if challenge is None:
                if app.pkce_required or app.is_public:
                    raise OAuthError("pkce_missing_challenge")
            else:
                # Without a method RFC 7636 means `plain`, which Okta does not support.
                if params.get("code_challenge_method") != "S256":
                    raise OAuthError("pkce_unsupported_code_challenge_method", "S256")
                if not PKCE_CHARS.fullmatch(challenge):
                    raise OAuthError("pkce_invalid_challenge")
        # Authentication. As in Okta Classic, an existing session (the sid cookie) wins and a
        # sessionToken sent alongside is ignored, not consumed; prompt=login, or a session older
        # than max_age, sets the session aside.
        now = self.org.clock.now()
        user: User | None = None
        auth_time = now
        amr = ["pwd"]
        new_sid: str | None = None
        if "login" not in prompts:
            session = self.org.session(ctx.request.cookies.get("sid", ""))
            if session is not None and (max_age is None or now - session.auth_time <= max_age):
                user = self.org.user(session.user_id)
                auth_time, amr = session.auth_time, session.amr
        session_token = params.get("sessionToken")
        if user is None and session_token:
            redeemed = self.org.redeem_session_token(session_token)
            if redeemed is not None:
                user = self.org.user(redeemed.user_id)
                auth_time, amr = redeemed.auth_time, redeemed.amr
                if user is not None:
                    new_sid = self.org.new_session(user.id, auth_time, amr)
        if user is None or user.status not in ("ACTIVE",):
            if "none" in prompts:
                raise OAuthError("login_required")
            return signin_page(ctx.base_url)
        if not user.is_assigned(app.client_id):
            raise OAuthError("user_not_assigned")
        answer: dict[str, str] = {}
        code = None
        if "code" in types:
            code = self.org.issue_code(
                client_id=app.client_id,
                server_id=server.id,
                redirect_uri=redirect_uri,
                code_challenge=challenge,
                scopes=scopes,
                nonce=nonce,
                user_id=user.id,
                auth_time=auth_time,
                amr=amr,
            )
            answer["code"] = code
        if types & {"token", "id_token"}:
            minted = self.org.mint(
                base_url=ctx.base_url,
                server=server,
                app=app,
                user=user,
                scopes=scopes,
                auth_time=auth_time,
                amr=amr,
                nonce=nonce,
                want_access="token" in types,
                want_id="id_token" in types,
                code=code,
                thin_id_token=server.is_org and {"token", "id_token"} <= types,
            )
            if "token" in types:
                answer.update(
                    access_token=minted.access_token,
                    token_type="Bearer",
                    expires_in=str(minted.expires_in),
                    scope=" ".join(scopes),
                )
            if minted.id_token:
                answer["id_token"] = minted.id_token
        return self.deliver(ctx, mode, redirect_uri, answer=answer, state=state, sid=new_sid)

    def deliver(
        self,
        ctx: Context,
        mode: str,
        redirect_uri: str,
        *,
        answer: Mapping[str, str] | None = None,
        error: OAuthError | None = None,
        state: str | None = None,
        sid: str | None = None,
    ) -> Response:
        values: dict[str, str] = dict(answer or {})
        if error is not None:
            values = {"error": error.error, "error_description": error.description}
        if state is not None:
            values["state"] = state
        if mode in ("query", "fragment"):
            separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
            response = Response(
                status=302,
                headers={
                    "Location": redirect_uri + separator + urlencode(values),
                    "Referrer-Policy": "no-referrer",
                },
            )
        elif mode == "form_post":
            inputs = "\n".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
                for k, v in values.items()
            )
            page = (
                '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                "<title>Redirecting...</title></head>\n"
                "<body onload=\"document.getElementById('appForm').submit()\">\n"
                f'<form id="appForm" method="POST" action="{html.escape(redirect_uri)}">\n'
                f"{inputs}\n</form>\n</body></html>\n"
            )
            response = Response(page, status=200, content_type="text/html; charset=utf-8")
        else:
            parts = urlsplit(redirect_uri)
            origin = f"{parts.scheme}://{parts.netloc}"
            data = json.dumps(values).replace("<", "\\u003c")
            page = (
                '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                "<title>Okta</title></head><body>\n<script>\n(function () {\n"
                f"  var data = {data};\n"
                f"  var origin = {json.dumps(origin)};\n"
                "  var target = window.opener || window.parent;\n"
                "  target.postMessage(data, origin);\n"
                "})();\n</script>\n</body></html>\n"
            )
            response = Response(page, status=200, content_type="text/html; charset=utf-8")
        response.headers.update(no_store())
        if sid is not None:
            response.set_cookie(
                "sid",
                sid,
                path="/",
                httponly=True,
                secure=self.secure,
                samesite="None" if self.secure else "Lax",
            )
        return response

    def signin(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET", "POST")
        return signin_page(ctx.base_url)

    # -- /token and client authentication ---------------------------------------------------------

    def client_form(self, ctx: Context) -> MultiDict[str, str]:
        request = ctx.request
        for name in ("client_id", "client_secret", "client_assertion"):
            if name in request.args:
                raise OAuthError("client_credentials_in_query")
        form: MultiDict[str, str] = MultiDict(request.form)
        duplicated = [k for k in set(form.keys()) if len(form.getlist(k)) > 1]
        if duplicated:
            raise OAuthError("duplicate_oauth_params")
        return form

    def authenticate_client(self, ctx: Context, form: MultiDict[str, str]) -> App:
        header = ctx.request.headers.get("Authorization")
        basic: tuple[str, str] | None = None
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                raise OAuthError("invalid_basic_auth_creds")
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_basic_auth_creds") from None
            user_part, sep, secret_part = decoded.partition(":")
            if not sep or not user_part:
                raise OAuthError("invalid_basic_auth_creds")
            # Facts 3.2: base64(client_id:client_secret), taken literally (no URL decoding).
            basic = (user_part, secret_part)
        body_secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if sum(x is not None for x in (basic, body_secret, assertion)) > 1:
            raise OAuthError("multiple_client_credentials")
        form_client = form.get("client_id")
        if basic is not None:
            client_id, method = basic[0], "basic"
        elif assertion is not None:
            if (
                form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ):
                raise OAuthError("client_assertion_type_invalid")
            try:
                unverified = jwt.decode(assertion, options={"verify_signature": False})
            except jwt.PyJWTError:
                raise OAuthError("client_assertion_invalid_jwt") from None
            client_id, method = str(unverified.get("iss") or form_client or ""), "assertion"
            if not client_id:
                raise OAuthError("client_assertion_invalid_issuer")
        elif body_secret is not None:
            if not form_client:
                raise OAuthError("missing_client_credentials")
            client_id, method = form_client, "post"
        else:
            if not form_client:
                raise OAuthError("missing_client_credentials")
            client_id, method = form_client, "none"
        if form_client is not None and form_client != client_id:
            raise OAuthError("invalid_client")
        app = self.org.app(client_id)
        if app is None:
            raise OAuthError("invalid_client")
        if app.auth_method == "none":
            if method != "none":
                raise OAuthError("invalid_client")
            return app
        if app.auth_method in ("client_secret_basic", "client_secret_post"):
            if method not in ("basic", "post"):
                raise OAuthError("invalid_client")
            given = basic[1] if basic is not None else (body_secret or "")
            if not secrets.compare_digest(given.encode(), (app.client_secret or "").encode()):
                raise OAuthError("invalid_client_secret")
            return app
        if method != "assertion" or assertion is None:
            raise OAuthError("invalid_client")
        self.verify_assertion(ctx, app, assertion)
        return app

    def verify_assertion(self, ctx: Context, app: App, assertion: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuthError("client_assertion_invalid_jwt") from None
        alg = str(header.get("alg", ""))
        key: Any
        if app.auth_method == "private_key_jwt":
            if alg not in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512"):
                raise OAuthError("client_assertion_invalid_signature_algorithm")
            if not app.jwks:
                raise OAuthError("client_assertion_jwks_not_configured")
            kid = header.get("kid")
            candidates = [k for k in app.jwks if kid is None or k.get("kid") == kid]
            if not candidates:
                raise OAuthError("client_assertion_invalid_kid")
            try:
                key = jwt.PyJWK(candidates[0]).key
            except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                raise OAuthError("client_assertion_invalid_kid") from None
        else:
            if alg not in ("HS256", "HS384", "HS512"):
                raise OAuthError("client_assertion_invalid_signature_algorithm")
            if len(app.client_secret or "") < 32:
                raise OAuthError("client_assertion_invalid_secret_length")
            key = (app.client_secret or "").encode()
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key,
                algorithms=[alg],
                options={
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise OAuthError("client_assertion_invalid_signature") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise OAuthError("client_assertion_invalid_jwt") from None
        if claims.get("iss") != app.client_id:
            raise OAuthError("client_assertion_invalid_issuer")
        if claims.get("sub") != app.client_id:
            raise OAuthError("client_assertion_invalid_subject")
        endpoint_url = ctx.base_url + ctx.request.path
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if endpoint_url not in audiences:
            raise OAuthError("client_assertion_invalid_audience")
        now = self.org.clock.now()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise OAuthError("client_assertion_expiration_required")
        if exp <= now:
            raise OAuthError("client_assertion_expired_token")
        if exp > now + 3600 + 60:
            raise OAuthError("client_assertion_expires_too_far_in_future")
        iat = claims.get("iat")
        if isinstance(iat, (int, float)) and iat > now + 60:
            raise OAuthError("client_assertion_issued_at_in_future")
        jti = claims.get("jti")
        if jti is not None:
            marker = f"{app.client_id}:{jti}"
            for old in [k for k, until in self.org.used_assertions.items() if until <= now]:
                del self.org.used_assertions[old]
            if marker in self.org.used_assertions:
                raise OAuthError("client_assertion_already_used")
            self.org.used_assertions[marker] = float(exp)

    def token(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        server = ctx.server
        assert server is not None
        form = self.client_form(ctx)
        grant_type = form.get("grant_type")
        if not grant_type:
            valid = [g for g in server.grant_types if g != "implicit"]
            raise OAuthError("token_request_missing_grant_type", ", ".join(valid))
        app = self.authenticate_client(ctx, form)
        if grant_type not in server.grant_types or grant_type == "implicit":
            configured = [g for g in server.grant_types if g != "implicit"]
            raise OAuthError("unsupported_grant_type", ", ".join(configured))
        if grant_type not in app.grant_types:
            raise OAuthError(
                "unauthorized_client",
                ", ".join(g for g in app.grant_types if g != "implicit"),
            )
        grants: dict[str, Callable[[Context, App, MultiDict[str, str]], dict[str, Any]]] = {
            "authorization_code": self.grant_code,
            "refresh_token": self.grant_refresh,
            "password": self.grant_password,
            "client_credentials": self.grant_client_credentials,
        }
        return json_response(grants[grant_type](ctx, app, form), 200, no_store())

    @staticmethod
    def required(form: MultiDict[str, str], name: str) -> str:
        value = form.get(name)
        if not value:
            raise OAuthError("missing_token_request_parameter", name)
        return value

    def token_answer(self, minted: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": minted.expires_in,
            "access_token": minted.access_token,
            "scope": " ".join(minted.scopes),
        }
        if minted.refresh_token:
            answer["refresh_token"] = minted.refresh_token
        if minted.id_token:
            answer["id_token"] = minted.id_token
        return answer

    def wants_refresh(self, app: App, server: AuthServer, scopes: list[str]) -> bool:
        return (
            "offline_access" in scopes
            and "refresh_token" in app.grant_types
            and "refresh_token" in server.grant_types
        )

    def grant_code(self, ctx: Context, app: App, form: MultiDict[str, str]) -> dict[str, Any]:
        server = ctx.server
        assert server is not None
        code = self.required(form, "code")
        verifier = form.get("code_verifier")
        if ctx.request.headers.get("Origin") and not verifier:
            raise OAuthError("unsupported_auth_method_browser_request")
        redirect_uri = self.required(form, "redirect_uri")
        record = self.org.codes.get(code)
        if record is None or record.used or record.expires_at <= self.org.clock.now():
            raise OAuthError("invalid_authorization_code")
        if record.server_id != server.id:
            raise OAuthError("mismatched_authorization_server")
        if record.client_id != app.client_id:
            raise OAuthError("mismatched_client")
        if redirect_uri != record.redirect_uri:
            raise OAuthError("mismatched_redirect_uri")
        if record.code_challenge is not None:
            if not verifier:
                raise OAuthError("pkce_missing_verifier")
            if not PKCE_CHARS.fullmatch(verifier) or not secrets.compare_digest(
                pkce_challenge(verifier), record.code_challenge
            ):
                raise OAuthError("pkce_verification_failed")
        elif verifier:
            raise OAuthError("pkce_missing_challenge_verifier_present")
        user = self.org.user(record.user_id)
        if user is None or user.status != "ACTIVE":
            raise OAuthError("invalid_authorization_code")
        self.per_user_limit("token", user.login, OAuthError("user_rate_limited"))
        record.used = True
        minted = self.org.mint(
            base_url=ctx.base_url,
            server=server,
            app=app,
            user=user,
            scopes=record.scopes,
            auth_time=record.auth_time,
            amr=record.amr,
            nonce=record.nonce,
            want_id="openid" in record.scopes,
            want_refresh=self.wants_refresh(app, server, record.scopes),
        )
        return self.token_answer(minted)

    def grant_refresh(self, ctx: Context, app: App, form: MultiDict[str, str]) -> dict[str, Any]:
        server = ctx.server
        assert server is not None
        token = self.required(form, "refresh_token")
        now = self.org.clock.now()
        record = self.org.refresh_tokens.get(token)
        if (
            record is None
            or record.server_id != server.id
            or record.client_id != app.client_id
            or record.family in self.org.revoked_families
            or (record.expires_at is not None and record.expires_at <= now)
        ):
            raise OAuthError("invalid_refresh_token")
        if record.rotated_at is not None and now - record.rotated_at > app.refresh_leeway:
            # A rotated token replayed after the grace period: Okta's reuse detection.
            self.org.revoke_family(record.family)
            raise OAuthError("invalid_refresh_token")
        requested = form.get("scope")
        scopes = requested.split() if requested else list(record.scopes)
        denied = [s for s in scopes if s not in record.scopes]
        if denied:
            raise OAuthError("refresh_scopes_denied", ", ".join(denied))
        user = self.org.user(record.user_id)
        if user is None or user.status != "ACTIVE":
            raise OAuthError("invalid_refresh_token")
        self.per_user_limit("token", user.login, OAuthError("user_rate_limited"))
        minted = self.org.mint(
            base_url=ctx.base_url,
            server=server,
            app=app,
            user=user,
            scopes=scopes,
            auth_time=record.auth_time,
            amr=record.amr,
            want_id="openid" in scopes,
            family=record.family,
        )
        answer = self.token_answer(minted)
        if app.refresh_rotation == "ROTATE":
            if record.rotated_at is None:
                record.rotated_at = now
            answer["refresh_token"] = self.org.issue_refresh_token(
                server,
                app,
                user,
                record.scopes,
                record.auth_time,
                record.amr,
                record.family,
                expires_at=record.expires_at,
            )
        else:
            answer["refresh_token"] = token
        return answer

    def check_scopes(self, server: AuthServer, scopes: list[str]) -> None:
        if not scopes:
            raise OAuthError("missing_scopes")
        if any(s not in server.scopes for s in scopes):
            raise OAuthError("invalid_scope")
        if "openid" not in scopes and OPENID_ONLY_SCOPES & set(scopes):
            raise OAuthError("openid_scope_required")

    def grant_password(self, ctx: Context, app: App, form: MultiDict[str, str]) -> dict[str, Any]:
        server = ctx.server
        assert server is not None
        username = self.required(form, "username")
        password = self.required(form, "password")
        scopes = form.get("scope", "").split()
        self.check_scopes(server, scopes)
        user = self.org.user_by_login(username)
        self.per_user_limit(
            "token", user.login if user else username, OAuthError("user_rate_limited")
        )
        if user is None or user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
            raise OAuthError("invalid_password_credentials")
        if not self.org.check_password(user, password):
            raise OAuthError("invalid_password_credentials")
        if user.status == "PASSWORD_EXPIRED":
            raise OAuthError("expired_password_credentials")
        if user.totp_secret:
            raise OAuthError("password_auth_denied_mfa")
        if not user.is_assigned(app.client_id):
            raise OAuthError("user_not_assigned")
        now = self.org.clock.now()
        minted = self.org.mint(
            base_url=ctx.base_url,
            server=server,
            app=app,
            user=user,
            scopes=scopes,
            auth_time=now,
            amr=["pwd"],
            want_id="openid" in scopes,
            want_refresh=self.wants_refresh(app, server, scopes),
        )
        return self.token_answer(minted)

    def grant_client_credentials(
        self, ctx: Context, app: App, form: MultiDict[str, str]
    ) -> dict[str, Any]:
        server = ctx.server
        assert server is not None
        if server.is_org:
            if app.app_type != "service":
                raise OAuthError("invalid_application_type_client_credentials")
            if app.auth_method != "private_key_jwt":
                raise OAuthError("unsupported_auth_method_client_creds")
        scopes = form.get("scope", "").split()
        if not scopes:
            raise OAuthError("no_default_scopes")
        if set(scopes) & set(OPENID_ONLY_SCOPES | {"openid", "offline_access"}):
            raise OAuthError("openid_not_allowed_client_creds")
        known = (
            (lambda s: s.startswith("okta.")) if server.is_org else (lambda s: s in server.scopes)
        )
        if not all(known(s) for s in scopes):
            raise OAuthError("invalid_scope")
        minted = self.org.mint(
            base_url=ctx.base_url, server=server, app=app, user=None, scopes=scopes
        )
        return self.token_answer(minted)

    # -- introspect, revoke, userinfo, logout -----------------------------------------------------

    def introspect(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        server = ctx.server
        assert server is not None
        form = self.client_form(ctx)
        self.authenticate_client(ctx, form)
        token = form.get("token")
        if not token:
            raise OAuthError("request_missing_token")
        inactive = json_response({"active": False}, 200, no_store())
        claims = self.org.verify_access_token(token, server)
        if claims is not None:
            user = self.org.user(str(claims.get("uid", ""))) if claims.get("uid") else None
            answer = {
                "active": True,
                "token_type": "Bearer",
                "scope": " ".join(claims.get("scp", [])),
                "client_id": claims.get("cid"),
                "username": user.login if user else claims.get("sub"),
                "exp": claims.get("exp"),
                "iat": claims.get("iat"),
                "sub": claims.get("sub"),
                "aud": claims.get("aud"),
                "iss": claims.get("iss"),
                "jti": claims.get("jti"),
            }
            if user is not None:
                answer["uid"] = user.id
            return json_response(answer, 200, no_store())
        id_claims = self.org.verify_id_token(token, server)
        if id_claims is not None:
            user = self.org.user(str(id_claims.get("sub", "")))
            return json_response(
                {
                    "active": True,
                    "token_type": "Bearer",
                    "client_id": id_claims.get("aud"),
                    "username": user.login if user else None,
                    "exp": id_claims.get("exp"),
                    "iat": id_claims.get("iat"),
                    "sub": id_claims.get("sub"),
                    "aud": id_claims.get("aud"),
                    "iss": id_claims.get("iss"),
                    "jti": id_claims.get("jti"),
                },
                200,
                no_store(),
            )
        record = self.org.refresh_tokens.get(token)
        now = self.org.clock.now()
        if (
            record is not None
            and record.server_id == server.id
            and record.family not in self.org.revoked_families
            and (record.expires_at is None or record.expires_at > now)
            and (
                record.rotated_at is None
                or now - record.rotated_at <= self.leeway_of(record.client_id)
            )
        ):
            user = self.org.user(record.user_id)
            answer = {
                "active": True,
                "token_type": "Bearer",
                "scope": " ".join(record.scopes),
                "client_id": record.client_id,
                "username": user.login if user else None,
                "sub": user.login if user else None,
                "iss": self.org.issuer(ctx.base_url, server),
                "uid": record.user_id,
                "device_id": None,
            }
            if record.expires_at is not None:
                answer["exp"] = int(record.expires_at)
            return json_response(answer, 200, no_store())
        return inactive

    def leeway_of(self, client_id: str) -> int:
        app = self.org.app(client_id)
        return app.refresh_leeway if app else 0

    def revoke(self, ctx: Context) -> Response:
        self.require_method(ctx, "POST")
        server = ctx.server
        assert server is not None
        form = self.client_form(ctx)
        app = self.authenticate_client(ctx, form)
        token = form.get("token")
        if not token:
            raise OAuthError("request_missing_token")
        claims = self.org.verify_access_token(token, server)
        if claims is not None and claims.get("cid") == app.client_id:
            self.org.access_tokens[str(claims["jti"])].revoked = True
        record = self.org.refresh_tokens.get(token)
        if (
            record is not None
            and record.client_id == app.client_id
            and record.server_id == server.id
        ):
            self.org.revoke_family(record.family)
        return Response(b"", status=200, headers=no_store())

    def userinfo(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET", "POST")
        server = ctx.server
        assert server is not None
        if "access_token" in ctx.request.args:
            raise OAuthError("access_token_in_query")
        header = ctx.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        claims = (
            self.org.verify_access_token(token.strip(), server)
            if scheme.lower() == "bearer" and token.strip()
            else None
        )
        if claims is None:
            entry = OAUTH_ERRORS["access_token_invalid"]
            return Response(
                b"",
                status=entry.status,
                headers={
                    "WWW-Authenticate": (
                        f'Bearer error="{entry.error}", error_description="{entry.description}"'
                    )
                },
            )
        scopes = list(claims.get("scp", []))
        user = self.org.user(str(claims.get("uid", "")))
        if user is None or "openid" not in scopes:
            entry = OAUTH_ERRORS["access_token_insufficient_scopes"]
            return Response(
                b"",
                status=entry.status,
                headers={
                    "WWW-Authenticate": (
                        f'Bearer error="{entry.error}", error_description="{entry.description}"'
                    )
                },
            )
        return json_response(
            {"sub": user.id, **self.org.user_claims(user, scopes)}, 200, no_store()
        )

    def logout(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET", "POST")
        server = ctx.server
        assert server is not None
        params: MultiDict[str, str] = MultiDict(ctx.request.args)
        if ctx.request.method == "POST":
            for key, value in ctx.request.form.items(multi=True):
                params.add(key, value)
        hint = params.get("id_token_hint")
        if not hint:
            raise PageError("invalid_request")
        claims = self.org.verify_id_token(hint, server, check_expiry=False)
        if claims is None:
            raise PageError("id_token_invalid")
        app = self.org.app(str(claims.get("aud", "")))
        if app is None:
            raise PageError("id_token_invalid")
        target = params.get("post_logout_redirect_uri")
        if target is not None and target not in app.post_logout_redirect_uris:
            raise PageError("illegal_post_logout_redirect_uri")
        for sid in [s for s, rec in self.org.sessions.items() if rec.user_id == claims.get("sub")]:
            del self.org.sessions[sid]
        self.org.sessions.pop(ctx.request.cookies.get("sid", ""), None)
        if target is None:
            location = f"{ctx.base_url}/login/default"
        else:
            state = params.get("state")
            query = urlencode({"state": state}) if state is not None else ""
            location = target + (("&" if "?" in target else "?") + query if query else "")
        response = Response(status=302, headers={"Location": location})
        response.delete_cookie("sid", path="/")
        return response

    # -- keys and metadata ------------------------------------------------------------------------

    def keys(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET")
        assert ctx.server is not None
        return json_response(
            {"keys": self.org.published_keys(ctx.server)},
            200,
            {"Cache-Control": "max-age=86400, must-revalidate"},
        )

    def metadata(self, ctx: Context, *, openid: bool) -> dict[str, Any]:
        server = ctx.server
        assert server is not None
        base = self.server_base(ctx)
        response_types = ["code", "id_token", "code id_token", "code token", "id_token token"]
        response_types.append("code id_token token")
        if not server.is_org:
            response_types.insert(1, "token")
        doc: dict[str, Any] = {
            "issuer": self.org.issuer(ctx.base_url, server),
            "authorization_endpoint": f"{base}/v1/authorize",
            "token_endpoint": f"{base}/v1/token",
        }
        if openid:
            doc["userinfo_endpoint"] = f"{base}/v1/userinfo"
        doc.update(
            {
                "registration_endpoint": f"{ctx.base_url}/oauth2/v1/clients",
                "jwks_uri": f"{base}/v1/keys",
                "response_types_supported": response_types,
                "response_modes_supported": list(RESPONSE_MODES),
                "grant_types_supported": list(server.grant_types),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(server.scopes),
                "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
                "claims_supported": (
                    [
                        "iss",
                        "ver",
                        "sub",
                        "aud",
                        "iat",
                        "exp",
                        "jti",
                        "auth_time",
                        "amr",
                        "idp",
                        "nonce",
                        "name",
                        "nickname",
                        "preferred_username",
                        "given_name",
                        "middle_name",
                        "family_name",
                        "email",
                        "email_verified",
                        "profile",
                        "zoneinfo",
                        "locale",
                        "address",
                        "phone_number",
                        "picture",
                        "website",
                        "gender",
                        "birthdate",
                        "updated_at",
                        "at_hash",
                        "c_hash",
                    ]
                    if openid
                    else ["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"]
                ),
                "code_challenge_methods_supported": ["S256"],
                "introspection_endpoint": f"{base}/v1/introspect",
                "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
                "revocation_endpoint": f"{base}/v1/revoke",
                "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
                "end_session_endpoint": f"{base}/v1/logout",
                # Okta says true (facts 5), but this emulator ignores `request` / `request_uri`
                # (signed request objects, PAR): claiming support would make a client send a
                # request object whose parameters then go unread.
                "request_parameter_supported": False,
            }
        )
        return doc

    def openid_configuration(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET")
        return json_response(
            self.metadata(ctx, openid=True), 200, {"Cache-Control": "max-age=86400"}
        )

    def oauth_authorization_server(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET")
        return json_response(
            self.metadata(ctx, openid=False), 200, {"Cache-Control": "max-age=86400"}
        )

    def okta_organization(self, ctx: Context) -> Response:
        self.require_method(ctx, "GET")
        return json_response(
            {
                "id": self.org.org_id,
                "pipeline": self.org.pipeline,
                "_links": {"organization": {"href": ctx.base_url}},
                "settings": {"analyticsCollectionEnabled": False, "bugReportingEnabled": False},
            }
        )

    def unknown(self, ctx: Context) -> Response:
        raise ApiError("E0000007", f"Resource not found: {ctx.request.path}")


def error_page(error: str, description: str) -> Response:
    """Okta's branded error page: no redirect, HTTP 400."""
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Error - Okta</title></head><body>\n"
        '<div class="error-content"><h1>400 Bad Request</h1>\n'
        "<table>\n"
        "<tr><th>Identity Provider:</th><td>Okta</td></tr>\n"
        f"<tr><th>Error Code:</th><td>{html.escape(error)}</td></tr>\n"
        f"<tr><th>Description:</th><td>{html.escape(description)}</td></tr>\n"
        "</table></div>\n</body></html>\n"
    )
    return Response(page, status=400, content_type="text/html; charset=utf-8")


def signin_page(base_url: str) -> Response:
    """Okta's sign-in page: HTTP 200, HTML, and no Location (what headless clients detect)."""
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Okta Emulator - Sign In</title></head><body>\n"
        '<div id="okta-sign-in" class="auth-container main-container">\n'
        f'<form method="POST" action="{html.escape(base_url)}/login/default">\n'
        '<input type="text" name="username"/><input type="password" name="password"/>\n'
        '<input type="submit" value="Sign In"/>\n</form></div>\n</body></html>\n'
    )
    return Response(page, status=200, content_type="text/html; charset=utf-8", headers=no_store())


__all__ = ["ENDPOINTS", "EmulatorApp", "Faults", "RequestRecord"]
