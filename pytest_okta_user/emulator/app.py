"""The emulator's HTTP layer: a werkzeug WSGI app that parses requests, calls the rules, renders.

Routing is a werkzeug `Map`; each handler parses what its rules read (a JSON body, the query, the
form, a few headers) into plain values, calls a rules module (`authn.py`, `authorize.py`,
`oauth.py`, `discovery.py`) and renders its answer: JSON, a redirect, a form_post or
okta_post_message page, Okta's sign-in or error page. The rules raise the error types of
`errors.py`; this module renders those too. Nothing here answers 5xx unless a test injected it with
`faults.add`: an unexpected exception is recorded in `internal_errors` and answered as a 400
E0000001, so a fuzz test can fail on it without the client ever seeing a traceback.
"""

from __future__ import annotations

import html
import json
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import authn, authorize, cors, direct, discovery, idx, oauth, pages, signin
from .errors import ApiError, BearerError, EmulatorError, OAuthError, PageError
from .faults import ENDPOINTS, Faults, RequestLog, RequestRecord
from .hosts import HOST_HEADER, HostPolicy, refusal
from .inputs import OAuthCall, Params
from .model import Org
from .ratelimits import MinuteBuckets
from .records import ORG_SERVER_ID, AuthServer

MAX_BODY = 1 << 20

# -- routing --------------------------------------------------------------------------------------

# What each endpoint of an authorization server is called under /oauth2/v1 or /oauth2/{id}/v1.
SERVER_ENDPOINTS = (
    "authorize",
    "token",
    "keys",
    "userinfo",
    "introspect",
    "revoke",
    "logout",
    # Identity Engine: the Interaction Code flow's start and Direct Authentication's challenge.
    "interact",
    "challenge",
)
WELL_KNOWN = {
    "openid-configuration": "openid_configuration",
    "oauth-authorization-server": "oauth_authorization_server",
}
ORG_SERVER = {"server_id": ORG_SERVER_ID}

URL_MAP = Map(
    [
        Rule("/api/v1/authn", endpoint="authn"),
        Rule("/api/v1/authn/factors/<factor_id>/verify", endpoint="factor_verify"),
        Rule("/api/v1/authn/credentials/change_password", endpoint="change_password"),
        Rule("/api/v1/authn/cancel", endpoint="authn_cancel"),
        Rule("/.well-known/okta-organization", endpoint="okta_organization"),
        *(
            Rule(f"/.well-known/{name}", endpoint=endpoint, defaults=ORG_SERVER)
            for name, endpoint in WELL_KNOWN.items()
        ),
        *(
            Rule(f"/oauth2/<server_id>/.well-known/{name}", endpoint=endpoint)
            for name, endpoint in WELL_KNOWN.items()
        ),
        *(
            Rule(f"/oauth2/v1/{name}", endpoint=name, defaults=ORG_SERVER)
            for name in SERVER_ENDPOINTS
        ),
        *(Rule(f"/oauth2/<server_id>/v1/{name}", endpoint=name) for name in SERVER_ENDPOINTS),
        Rule("/", endpoint="signin"),
        Rule("/login/default", endpoint="signin"),
        Rule("/login/login.htm", endpoint="signin"),
        Rule("/idp/idx/<path:action>", endpoint="idx"),
        Rule("/login/sessionCookieRedirect", endpoint="session_cookie_redirect"),
        Rule("/api/v1/sessions/me", endpoint="sessions_me"),
    ],
    # Paths are matched as Okta's are, never redirected: empty segments and a trailing slash are
    # dropped before matching, and /oauth2/org/v1/... stays the org server's (no canonical URL).
    strict_slashes=False,
    merge_slashes=False,
    redirect_defaults=False,
)

# The methods each endpoint answers (HEAD with GET); any other gets 405 E0000022.
METHODS: dict[str, tuple[str, ...]] = {
    "authn": ("POST",),
    "factor_verify": ("POST",),
    "change_password": ("POST",),
    "authn_cancel": ("POST",),
    "authorize": ("GET", "POST"),
    "token": ("POST",),
    "keys": ("GET",),
    "openid_configuration": ("GET",),
    "oauth_authorization_server": ("GET",),
    "okta_organization": ("GET",),
    "userinfo": ("GET", "POST"),
    "introspect": ("POST",),
    "revoke": ("POST",),
    "logout": ("GET", "POST"),
    "signin": ("GET", "POST"),
    "interact": ("POST",),
    "challenge": ("POST",),
    "idx": ("POST",),
    "session_cookie_redirect": ("GET", "POST"),
    "sessions_me": ("GET", "DELETE"),
}


# Bound once: binding per request was most of routing's cost (~30-60 us a request). Matching
# only reads the adapter, and the map guards its own rebuild with a lock.
_ADAPTER = URL_MAP.bind("emulator")


# Paths already matched (at most `_ROUTED_MAX`): matching walks werkzeug's state machine, ~20 us
# of each request, for the same few paths a run asks again and again.
_ROUTED: dict[str, tuple[str, dict[str, Any]]] = {}
_ROUTED_MAX = 512


def route(path: str) -> tuple[str, dict[str, Any]]:
    """The endpoint name (one of `ENDPOINTS`) and the path's arguments (`server_id`, ...)."""
    routed = _ROUTED.get(path)
    if routed is None:
        normalized = "/" + "/".join(part for part in path.split("/") if part)
        try:
            endpoint, arguments = _ADAPTER.match(normalized, method="GET")
            routed = (str(endpoint), dict(arguments))
        except HTTPException:
            routed = ("unknown", {})
        if len(_ROUTED) < _ROUTED_MAX:
            _ROUTED[path] = routed
    return routed[0], dict(routed[1])


# -- rendering ------------------------------------------------------------------------------------


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


def render_error(error: EmulatorError) -> Response:
    if isinstance(error, ApiError):
        return json_response(error.body(), error.status, error.headers)
    if isinstance(error, OAuthError):
        return json_response(error.body(), error.status, {**no_store(), **error.headers})
    if isinstance(error, PageError):
        return error_page(error.error, error.description)
    if isinstance(error, BearerError):
        return Response(b"", status=error.status, headers={"WWW-Authenticate": error.challenge})
    raise TypeError(f"no rendering for {type(error).__name__}")


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


def signin_page(base_url: str, form: signin.Form) -> Response:
    """Okta's sign-in page: HTTP 200, HTML, and no Location (what headless clients detect)."""
    page = pages.sign_in_page(base_url, form)
    return Response(page, status=200, content_type="text/html; charset=utf-8", headers=no_store())


def delivery_response(delivery: authorize.Delivery) -> Response:
    """/authorize's answer in its response mode: a redirect, or a page that passes it on."""
    values = delivery.values
    redirect_uri = delivery.redirect_uri
    if delivery.mode in ("query", "fragment"):
        separator = "#" if delivery.mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        return Response(
            status=302,
            headers={
                "Location": redirect_uri + separator + urlencode(values),
                "Referrer-Policy": "no-referrer",
            },
        )
    if delivery.mode == "form_post":
        # Okta's own auto-posting form idiom (`appForm`), as on its SAML and cookie pages.
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
        return Response(page, status=200, content_type="text/html; charset=utf-8")
    # okta_post_message: postMessage to the opener or parent, aimed at redirect_uri's origin.
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
    return Response(page, status=200, content_type="text/html; charset=utf-8")


# -- the WSGI application -------------------------------------------------------------------------


@dataclass
class Context:
    """One request being answered: the request, the org URL, the route's arguments and server."""

    request: Request
    base_url: str
    arguments: dict[str, Any] = field(default_factory=dict)
    server: AuthServer | None = None


Handler = Callable[[Context], Response]


class EmulatorApp:
    """WSGI callable. `public_url` fixes the org URL; otherwise it follows the Host header.

    hosts: which Host headers are answered (`hosts.HostPolicy`); by default loopback names and
    `public_url`'s host.
    """

    def __init__(
        self,
        org: Org,
        *,
        public_url: str | None = None,
        secure: bool = False,
        hosts: HostPolicy | None = None,
    ) -> None:
        self.org = org
        self.public_url = public_url.rstrip("/") if public_url else None
        self.secure = secure
        self.hosts = hosts or HostPolicy([urlsplit(self.public_url or "").hostname or ""])
        self.faults = Faults(org.clock.now)
        self.log = RequestLog()
        self.internal_errors: list[str] = []
        self.minute_buckets = MinuteBuckets(org.clock)
        self.handlers: dict[str, Handler] = {
            "authn": self.authn,
            "factor_verify": self.factor_verify,
            "change_password": self.change_password,
            "authn_cancel": self.authn_cancel,
            "authorize": self.authorize,
            "token": self.token,
            "keys": self.keys,
            "openid_configuration": self.openid_configuration,
            "oauth_authorization_server": self.oauth_authorization_server,
            "okta_organization": self.okta_organization,
            "userinfo": self.userinfo,
            "introspect": self.introspect,
            "revoke": self.revoke,
            "logout": self.logout,
            "signin": self.signin,
            "session_cookie_redirect": self.session_cookie_redirect,
            "sessions_me": self.sessions_me,
            "interact": self.interact,
            "challenge": self.challenge,
            "idx": self.idx,
            "unknown": self.unknown,
        }
        assert set(self.handlers) == set(ENDPOINTS)

    # -- plumbing ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        endpoint, arguments = route(request.path)
        if not self.host_allowed(request):
            host = str(request.environ.get("HTTP_HOST", ""))
            response = Response(refusal(host), status=400, content_type="text/plain; charset=utf-8")
        elif not read_body(request):
            # RFC 9110 section 15.5.9: the request did not arrive within the read timeout (or the
            # client went away mid-body); nginx's client_body_timeout answers the same.
            response = Response(b"", status=408)
        else:
            response = self.respond(request, endpoint, arguments)
        self.log.add(
            RequestRecord(
                request.method, request.path, endpoint, response.status_code, self.org.clock.now()
            )
        )
        return response(environ, start_response)

    def count(self, endpoint: str) -> int:
        return self.log.count(endpoint)

    def clear(self) -> None:
        self.log.clear()
        self.internal_errors.clear()
        self.minute_buckets.clear()
        self.faults.clear()

    def respond(self, request: Request, endpoint: str, arguments: dict[str, Any]) -> Response:
        response = self.answer(request, endpoint, arguments)
        response.headers.update(self.cors_headers(request, endpoint))
        return response

    def answer(self, request: Request, endpoint: str, arguments: dict[str, Any]) -> Response:
        if is_preflight(request, endpoint):
            return self.preflight(request, endpoint)
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
                context = Context(request, self.base_url(request), arguments)
                server_id = arguments.get("server_id")
                if server_id is not None:
                    context.server = self.org.server(server_id)
                    if context.server is None:
                        raise ApiError(
                            "E0000007", f"Resource not found: {server_id} (AuthorizationServer)"
                        )
                if endpoint in METHODS:
                    require_method(request, METHODS[endpoint])
                response = self.handlers[endpoint](context)
        except EmulatorError as err:
            response = render_error(err)
        except HTTPException as err:
            # werkzeug refusing a body (too large, malformed multipart...): still Okta-shaped.
            response = render_error(ApiError("E0000003", causes=[str(err.description or "")]))
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            print(self.internal_errors[-1], file=sys.stderr)
            response = render_error(ApiError("E0000001", "internal emulator error"))
        if "X-Rate-Limit-Limit" not in response.headers:
            response.headers.update(self.minute_buckets.headers(endpoint))
        return response

    # -- CORS (rules in cors.py) -------------------------------------------------------------------

    def cors_allows(self, request: Request, endpoint: str) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        with self.org.lock:
            return cors.allows(self.org, endpoint, origin)

    def cors_headers(self, request: Request, endpoint: str) -> dict[str, str]:
        """The CORS headers of an answer: the caller's own origin when it is allowed, never `*`
        (Okta's answers carry credentials: okta/okta-oidc-js#337), `Vary: Origin` always, and no
        `Access-Control-Expose-Headers` (Okta exposes none: okta/okta-auth-js#932)."""
        if endpoint not in cors.CORS_ENDPOINTS:
            return {}
        headers = {"Vary": "Origin"}
        if self.cors_allows(request, endpoint):
            headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight(self, request: Request, endpoint: str) -> Response:
        """A CORS preflight (Fetch standard, section 3.2.2): 200 with no body. An origin the org
        does not trust gets no Access-Control-* header at all, which is how Okta refuses one
        (browsers then report "No 'Access-Control-Allow-Origin' header is present")."""
        headers: dict[str, str] = {}
        if self.cors_allows(request, endpoint):
            methods = sorted({*METHODS[endpoint], "OPTIONS"})
            headers["Access-Control-Allow-Methods"] = ", ".join(methods)
            asked = request.headers.get("Access-Control-Request-Headers")
            if asked:
                headers["Access-Control-Allow-Headers"] = asked
        return Response(b"", status=200, headers=headers)

    def host_allowed(self, request: Request) -> bool:
        """Whether the Host header names a host this emulator serves (see `hosts.py`).

        A malformed Host gets the 400 that RFC 9112 section 3.2 requires; a request without one
        (HTTP/1.0) is answered under the listening address.
        """
        host = request.environ.get("HTTP_HOST")
        if host is None:
            return True
        well_formed = isinstance(host, str) and bool(HOST_HEADER.fullmatch(host))
        return well_formed and self.hosts.allows(host)

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

    # -- parsing ----------------------------------------------------------------------------------

    @staticmethod
    def json_body(ctx: Context) -> dict[str, Any]:
        # The Authentication API consumes application/json only: a JSON text sent as text/plain,
        # or a form, is refused before it is parsed (the recorded Okta answers).
        require_content_type(ctx.request, "application/json")
        raw = ctx.request.get_data(cache=True)
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError("E0000003") from None
        if not isinstance(body, dict):
            raise ApiError("E0000003")
        return body

    @staticmethod
    def query_and_form(ctx: Context) -> Params:
        """The query, and the form of a POST after it (a browser endpoint reads both)."""
        request = ctx.request
        values: dict[str, list[str]] = {k: list(v) for k, v in request.args.lists()}
        if request.method == "POST":
            for key, more in request.form.lists():
                values.setdefault(key, []).extend(more)
        return Params(values)

    @staticmethod
    def form(ctx: Context) -> Params:
        """The form alone, parsed when a rule first reads it.

        /token, /introspect and /revoke consume application/x-www-form-urlencoded (RFC 6749
        section 4.1.3, RFC 7662 section 2.1, RFC 7009 section 2.1); Okta refuses a JSON body with
        400 E0000021 before any OAuth check."""
        request = ctx.request
        require_content_type(request, "application/x-www-form-urlencoded")
        return Params(lambda: {k: list(v) for k, v in request.form.lists()})

    @staticmethod
    def oauth_call(ctx: Context, params: Params) -> OAuthCall:
        request = ctx.request
        assert ctx.server is not None
        return OAuthCall(
            base_url=ctx.base_url,
            server=ctx.server,
            params=params,
            query_names=frozenset(request.args.keys()),
            authorization=request.headers.get("Authorization"),
            origin=request.headers.get("Origin"),
            sid=request.cookies.get("sid", ""),
            endpoint_url=ctx.base_url + request.path,
        )

    # -- /api/v1/authn ----------------------------------------------------------------------------

    def authn(self, ctx: Context) -> Response:
        return json_response(authn.primary(self.org, self.json_body(ctx), ctx.base_url))

    def factor_verify(self, ctx: Context) -> Response:
        body = self.json_body(ctx)
        factor_id = str(ctx.arguments["factor_id"])
        return json_response(authn.verify_factor(self.org, body, factor_id, ctx.base_url))

    def change_password(self, ctx: Context) -> Response:
        return json_response(authn.change_password(self.org, self.json_body(ctx)))

    def authn_cancel(self, ctx: Context) -> Response:
        return json_response(authn.cancel(self.org, self.json_body(ctx)))

    # -- browser endpoints ------------------------------------------------------------------------

    def authorize(self, ctx: Context) -> Response:
        outcome = authorize.authorize(self.org, self.oauth_call(ctx, self.query_and_form(ctx)))
        if isinstance(outcome, authorize.SignIn):
            request = ctx.request
            sent = [*request.args.items(multi=True)]
            if request.method == "POST":
                sent += request.form.items(multi=True)
            back = signin.resume_uri(request.path, sent)
            return signin_page(ctx.base_url, signin.Form("password", back))
        response = delivery_response(outcome)
        response.headers.update(no_store())
        if outcome.sid is not None:
            self.set_sid(response, outcome.sid)
        return response

    def set_sid(self, response: Response, sid: str) -> None:
        """The Okta session cookie: a browser keeps it over http on loopback (Lax, not Secure) and
        sends it cross-site over https (None needs Secure)."""
        response.set_cookie(
            "sid",
            sid,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="None" if self.secure else "Lax",
        )

    def redirect(self, outcome: signin.Redirect) -> Response:
        response = Response(status=302, headers={"Location": outcome.location, **no_store()})
        if outcome.sid is not None:
            self.set_sid(response, outcome.sid)
        return response

    def logout(self, ctx: Context) -> Response:
        location = authorize.logout(self.org, self.oauth_call(ctx, self.query_and_form(ctx)))
        response = Response(status=302, headers={"Location": location})
        response.delete_cookie("sid", path="/")
        return response

    def signin(self, ctx: Context) -> Response:
        params = self.query_and_form(ctx)
        sid = ctx.request.cookies.get("sid", "")
        if ctx.request.method == "POST":
            form = {k: v[0] for k, v in ctx.request.form.lists()}
            form.setdefault("fromURI", params.get("fromURI") or "")
            outcome = signin.sign_in(self.org, ctx.base_url, form)
        else:
            outcome = signin.show(self.org, ctx.base_url, sid, params.get("fromURI"))
        if isinstance(outcome, signin.Redirect):
            return self.redirect(outcome)
        return signin_page(ctx.base_url, outcome)

    def session_cookie_redirect(self, ctx: Context) -> Response:
        params = self.query_and_form(ctx)
        sid = ctx.request.cookies.get("sid", "")
        outcome = signin.session_cookie_redirect(
            self.org, ctx.base_url, sid, params.get("token"), params.get("redirectUrl")
        )
        return self.redirect(outcome)

    def sessions_me(self, ctx: Context) -> Response:
        sid = ctx.request.cookies.get("sid", "")
        if ctx.request.method == "DELETE":
            signin.close_me(self.org, sid)
            response = Response(status=204)
            response.delete_cookie("sid", path="/")
            return response
        return json_response(signin.session_me(self.org, ctx.base_url, sid), 200, no_store())

    # -- token endpoints --------------------------------------------------------------------------

    def token(self, ctx: Context) -> Response:
        answer = oauth.token(self.org, self.oauth_call(ctx, self.form(ctx)))
        return json_response(answer, 200, no_store())

    def introspect(self, ctx: Context) -> Response:
        answer = oauth.introspect(self.org, self.oauth_call(ctx, self.form(ctx)))
        return json_response(answer, 200, no_store())

    def revoke(self, ctx: Context) -> Response:
        oauth.revoke(self.org, self.oauth_call(ctx, self.form(ctx)))
        return Response(b"", status=200, headers=no_store())

    def userinfo(self, ctx: Context) -> Response:
        answer = oauth.userinfo(self.org, self.oauth_call(ctx, Params({})))
        return json_response(answer, 200, no_store())

    # -- public documents -------------------------------------------------------------------------

    def keys(self, ctx: Context) -> Response:
        answer = discovery.jwks(self.org, self.oauth_call(ctx, Params({})))
        return json_response(answer, 200, {"Cache-Control": "max-age=86400, must-revalidate"})

    def openid_configuration(self, ctx: Context) -> Response:
        call = self.oauth_call(ctx, Params({}))
        answer = discovery.metadata(self.org, call, openid=True)
        return json_response(answer, 200, {"Cache-Control": "max-age=86400"})

    def oauth_authorization_server(self, ctx: Context) -> Response:
        call = self.oauth_call(ctx, Params({}))
        answer = discovery.metadata(self.org, call, openid=False)
        return json_response(answer, 200, {"Cache-Control": "max-age=86400"})

    def okta_organization(self, ctx: Context) -> Response:
        return json_response(discovery.organization(self.org, ctx.base_url))

    # -- Identity Engine (rules in idx.py and direct.py) -------------------------------------------

    def interact(self, ctx: Context) -> Response:
        answer = idx.interact(self.org, self.oauth_call(ctx, self.form(ctx)))
        return json_response(answer, 200, no_store())

    def challenge(self, ctx: Context) -> Response:
        answer = direct.challenge(self.org, self.oauth_call(ctx, self.form(ctx)))
        return json_response(answer, 200, no_store())

    def idx(self, ctx: Context) -> Response:
        """/idp/idx/*: JSON in (`application/json` or `application/ion+json`, with Okta's
        `okta-version` parameter or without), an IDX state out as ion+json."""
        action = idx.ACTIONS.get(str(ctx.arguments.get("action", "")))
        if action is None:
            raise ApiError("E0000007", f"Resource not found: {ctx.request.path}")
        require_content_type(ctx.request, "application/json", "application/ion+json")
        raw = ctx.request.get_data(cache=True)
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError("E0000003") from None
        if not isinstance(body, dict):
            raise ApiError("E0000003")
        outcome = action(self.org, ctx.base_url, body)
        response = Response(
            json.dumps(outcome.body, separators=(",", ":")),
            status=outcome.status,
            headers=no_store(),
            content_type=idx.ION,
        )
        if outcome.sid is not None:
            self.set_sid(response, outcome.sid)
            # Identity Engine's own session cookie; this emulator keys both by the same session.
            response.set_cookie("idx", outcome.sid, path="/", httponly=True, secure=self.secure)
        return response

    def unknown(self, ctx: Context) -> Response:
        raise ApiError("E0000007", f"Resource not found: {ctx.request.path}")


def is_preflight(request: Request, endpoint: str) -> bool:
    """An OPTIONS request with `Origin` and `Access-Control-Request-Method` to a CORS endpoint."""
    return (
        request.method == "OPTIONS"
        and endpoint in cors.CORS_ENDPOINTS
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def require_content_type(request: Request, *accepted: str) -> None:
    """Okta's media-type check, made before the body is read: a body in another type (or in none)
    is refused with 400 E0000021 (Okta's catalogue: "HTTP media type not supported exception")."""
    mimetype = request.mimetype
    if mimetype in accepted:
        return
    if mimetype or request.content_length or request.headers.get("Transfer-Encoding"):
        raise ApiError("E0000021")


def read_body(request: Request) -> bool:
    """Read (and parse a form of) the whole body now, before any lock: a client that stalls
    mid-body then holds up only its own connection's thread. False if the body never came.

    A body werkzeug refuses (too large, malformed) is left for the handler to meet when its rules
    read it, so the order of Okta's checks stays (see `inputs.Params`).
    """
    try:
        request.get_data(cache=True)
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            request.form  # noqa: B018 - parsed now, from the bytes just read
    except ClientDisconnected:
        return False
    except HTTPException:
        pass
    return True


def require_method(request: Request, methods: Sequence[str]) -> None:
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())
    if request.method not in allowed:
        raise ApiError("E0000022", headers={"Allow": ", ".join(sorted(allowed))})


__all__ = ["URL_MAP", "EmulatorApp", "route"]
