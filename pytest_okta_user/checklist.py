"""``okta-user check``: the configured org, app and user walked through as a newcomer's checklist.

Each line is a thing that must hold for a flow to give tokens, in the order Okta finds out: the
settings, the issuer, the app (client id, redirect URI, grant), the user (password, assignment,
MFA), and finally a real sign-in whose tokens are verified. A line that fails carries the plugin's
own message for that failure, fix included; the lines after it are not checked. The app is probed
at ``/authorize`` without a session first (Okta checks the client, redirect URI and response type
before it asks for one), so those lines need no password and cost no sign-in.

The sign-in at the end bypasses the token cache on purpose: a checklist that read a cached token
would say nothing about the org as it is now. No pytest import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import diagnosis, errors, options
from .options import FLOW_TABLE
from .settings import Settings

if TYPE_CHECKING:
    from .client import OktaClient
    from .tokens import Variant

__all__ = ["CheckLine", "run_checks"]

OK, FIX, NOT_CHECKED = "ok", "FIX", "--"


@dataclass(frozen=True)
class CheckLine:
    """One line: its status (``ok``, ``FIX`` or ``--`` for not checked), what it checks, and what
    was found (for ``FIX``, the message and its fix)."""

    status: str
    what: str
    found: str = ""

    def render(self) -> str:
        head = f"{self.status:<4}{self.what}"
        if not self.found:
            return head
        first, *rest = self.found.splitlines()
        return "\n".join([f"{head}: {first}", *(f"      {line.strip()}" for line in rest)])


# Which line an error of the app probe or the sign-in belongs to. The first matching class wins.
_LINE_OF_ERROR: tuple[tuple[type[errors.OktaUserError], str], ...] = (
    (errors.TransportError, "issuer reachable"),
    (errors.UnknownClient, "client known"),
    (errors.InvalidClient, "client known"),
    (errors.RedirectUriNotRegistered, "redirect URI registered"),
    (errors.ResponseTypeNotEnabled, "{flow} grant enabled for the app"),
    (errors.UnauthorizedClient, "{flow} grant enabled for the app"),
    (errors.InvalidScope, "scopes allowed"),
    (errors.MfaRequired, "MFA answerable"),
    (errors.InvalidPasscode, "MFA answerable"),
    (errors.LoginRequired, "app's sign-on policy met"),
    (errors.AuthenticationError, "user signs in"),
    (errors.AccessDenied, "user assigned to the app"),
)


def _lines_for(flow: str) -> list[str]:
    """What must hold for ``flow``, in the order Okta finds out."""
    needs = FLOW_TABLE[flow]
    lines = [f"settings complete for {flow}", "issuer reachable", "client known"]
    if needs.uses_authorize:
        lines.append("redirect URI registered")
    lines.append(f"{flow} grant enabled for the app")
    if needs.signs_in_user:
        lines += ["user signs in", "MFA answerable", "user assigned to the app"]
    if needs.uses_authorize:
        lines.append("app's sign-on policy met")
    lines += ["scopes allowed", f"{flow} gives verified tokens"]
    return lines


def run_checks(
    settings: Settings, flows: list[str], *, clock: Callable[[], float] = time.time
) -> Iterator[CheckLine]:
    """The checklist's lines for each flow, as they are found (so a terminal shows progress)."""
    # Imported here, as everywhere: requests and PyJWT only once something is sent.
    from . import flows as recipes
    from .client import OktaClient
    from .marker import OktaRequest, build_variant
    from .provider import credentials_of, http_options

    http = http_options(settings)
    credentials = credentials_of(settings)
    for flow in flows:
        todo = _lines_for(flow)
        passed: list[str] = []
        try:
            variant = build_variant(settings, OktaRequest(flow=flow))
            settings.require(flow)  # the checklist signs in: the secrets too (build_variant: not)
            passed.append(todo[0])
            yield CheckLine(OK, todo[0])
            with OktaClient(variant.org_url, http=http, clock=clock) as client:
                client.discovery(variant.issuer)
                passed.append("issuer reachable")
                yield CheckLine(OK, "issuer reachable", variant.issuer)
                if FLOW_TABLE[flow].uses_authorize:
                    _probe_app(client, variant)
                    for what in todo[2:5]:
                        passed.append(what)
                        yield CheckLine(OK, what)
            tokens = recipes.exchange(
                variant,
                credentials,
                http=http,
                clock=clock,
                response_mode=settings[options.RESPONSE_MODE].value,
            )
        except errors.OktaUserError as exc:
            failed = todo[0] if not passed else _line_of(exc, flow, todo, passed)
            for what in todo:
                if what in passed:
                    continue
                if what == failed:
                    yield CheckLine(FIX, what, str(exc))
                elif todo.index(what) < todo.index(failed):
                    yield CheckLine(OK, what)
                else:
                    yield CheckLine(NOT_CHECKED, what, "not checked (an earlier line failed)")
            continue
        for what in todo[len(passed) : -1]:
            yield CheckLine(OK, what)
        user = f" for {variant.user}" if variant.user else ""
        yield CheckLine(OK, todo[-1], f"scopes {' '.join(tokens.scopes)}{user}")


def _line_of(exc: errors.OktaUserError, flow: str, todo: list[str], passed: list[str]) -> str:
    for kind, what in _LINE_OF_ERROR:
        line = what.format(flow=flow)
        if isinstance(exc, kind) and line in todo and line not in passed:
            return line
    return todo[-1]


def _probe_app(client: OktaClient, variant: Variant) -> None:
    """``/authorize`` with ``prompt=none`` and no session: an app Okta accepts answers
    ``login_required``; an unknown client, unregistered redirect URI or disabled response type
    raises the plugin's error for it."""
    from .flows import authorize_request

    params = authorize_request(variant, response_mode=None).params
    answer = client.authorize(
        variant.authorize_url, params, flow=variant.flow, user=variant.user
    ).params
    error = str(answer.get("error") or "")
    if error == "login_required":
        return  # the app and its redirect URI are fine; only a session is missing
    raise diagnosis.oauth_error(
        error or "none",
        str(answer.get("error_description") or "answered without asking for a session"),
        status=None,
        endpoint="/authorize",
        flow=variant.flow,
        client_id=variant.client_id,
        redirect_uri=variant.redirect_uri,
        user=variant.user,
    )
