"""What a test asks for: the ``okta`` marker's and the token factory's arguments, and the variant
they stand for under the settings.

No pytest here: the plugin turns a :class:`~pytest_okta_user.errors.MarkerError` into a collection
error, and a script calls :func:`build_variant` directly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import options
from .errors import MarkerError, MissingSettingsError
from .options import FLOW_TABLE, FLOWS, BadValue

if TYPE_CHECKING:
    from .settings import Settings
    from .tokens import Variant

__all__ = [
    "MARKER_KEYWORDS",
    "OktaRequest",
    "build_variant",
    "expand_marker",
    "factory_request",
    "fanned_out",
    "marker_ids",
]

MARKER_KEYWORDS = ("flow", "user", "app", "scopes", "auth_server", "min_ttl")


@dataclass(frozen=True)
class OktaRequest:
    """What one test asks for on top of the settings; ``None`` keeps the configured value."""

    flow: str | None = None
    user: str | None = None
    """A login, or the name of a user whose settings are ``OKTA_<NAME>_USERNAME``, ..."""
    app: str | None = None
    """The name of an app whose settings are ``OKTA_<NAME>_CLIENT_ID``, ..."""
    scopes: tuple[str, ...] | None = None
    auth_server: str | None = None
    min_ttl: float | None = None

    def label(self, names: Collection[str] = MARKER_KEYWORDS) -> str:
        """A readable test id part (no secrets: flows, logins, scope and server names only), of
        the arguments ``names`` (default: all)."""
        given = (("flow", self.flow), ("user", self.user), ("app", self.app))
        parts = [p for name, p in given if p and name in names]
        if self.scopes is not None and "scopes" in names:
            parts.append("+".join(self.scopes))
        if self.auth_server and "auth_server" in names:
            parts.append(f"as-{self.auth_server}")
        if self.min_ttl is not None and "min_ttl" in names:
            parts.append(f"ttl{self.min_ttl:g}")
        return "-".join(parts) or "okta"


def _marker_one(name: str, value: object) -> object:
    """One (non-list) marker value, checked and normalised."""
    if name == "flow":
        if not isinstance(value, str) or value not in FLOWS:
            raise MarkerError(f"flow={value!r} is not a flow", f"use one of {', '.join(FLOWS)}")
        return value
    if name == "user":
        if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
            raise MarkerError(
                f"user={value!r} is not a login or a user name",
                "use a name (user='admin' reads OKTA_ADMIN_USERNAME, OKTA_ADMIN_PASSWORD and"
                " OKTA_ADMIN_TOTP_SECRET) or a login (user='alice@example.com')",
            )
        return value
    if name == "app":
        if not isinstance(value, str) or not options.NAME.fullmatch(value):
            raise MarkerError(
                f"app={value!r} is not an app name (letters, digits and underscores)",
                "use e.g. app='spa', which reads OKTA_SPA_CLIENT_ID, OKTA_SPA_CLIENT_SECRET and"
                " OKTA_SPA_REDIRECT_URI",
            )
        return value.lower()
    if name == "auth_server":
        if not isinstance(value, str):
            raise MarkerError(
                f"auth_server={value!r} is not a string", "use 'default', 'org' or an id"
            )
        try:
            return options.parse_auth_server(value)
        except BadValue as exc:
            # Worded as a setting's error, the marker argument standing for where it was read.
            label = options.AUTH_SERVER.label
            raise MarkerError(
                f"auth_server={value!r}: {label} (marker argument auth_server): {exc.problem}",
                exc.fix,
            ) from None
    if name == "scopes":
        if isinstance(value, str):
            text = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(s, str) for s in value):
            text = " ".join(value)
        else:
            raise MarkerError(
                f"scopes={value!r} is not a set of scopes",
                "use scopes='openid email' or scopes=['openid', 'email']",
            )
        try:
            return options.parse_scopes(text)
        except BadValue as exc:
            raise MarkerError(f"scopes={value!r}: {exc.problem}", exc.fix) from None
    if name == "min_ttl":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e12:
            raise MarkerError(
                f"min_ttl={value!r} is not a number of seconds", "use e.g. min_ttl=300"
            )
        return float(value)
    raise AssertionError(name)  # expand_marker() let only known names through


def fanned_out(kwargs: Mapping[str, object]) -> tuple[str, ...]:
    """The arguments of a marker given as lists (``flow=["code", "pkce"]``; for scopes, a list
    of scope sets), which run the test once per value."""
    return tuple(name for name, value in kwargs.items() if _fans_out(name, value))


def _fans_out(name: str, value: object) -> bool:
    return isinstance(value, list) and (
        name != "scopes" or any(isinstance(v, (list, tuple)) for v in value)
    )


def marker_ids(kwargs: Mapping[str, object], requests: Sequence[OktaRequest]) -> list[str] | None:
    """The test id parts of ``requests`` (``expand_marker(kwargs)``): each names only the values
    of the arguments given as lists; None when there is no list, so that a single-value marker
    (``flow="code"``, a class's ``scopes="openid email"``) leaves the test ids as they are:
    ``--deselect`` lists, CI histories and IDE runs keep working."""
    names = fanned_out(kwargs)
    if not names:
        return None
    return [request.label(names) for request in requests]


def expand_marker(kwargs: Mapping[str, object]) -> list[OktaRequest]:
    """The requests a marker's keyword arguments stand for: one, or one per combination when a
    value is a list (``flow=["code", "pkce"]``; for scopes, a list of scope sets)."""
    choices: dict[str, list[object]] = {}
    for name, value in kwargs.items():
        if name not in MARKER_KEYWORDS:
            raise MarkerError(
                f"unknown argument {name}={value!r}",
                f"the okta marker takes {', '.join(MARKER_KEYWORDS)}",
            )
        fan_out = _fans_out(name, value)
        if name == "min_ttl" and isinstance(value, list):
            raise MarkerError("min_ttl takes one value, not a list", "use e.g. min_ttl=300")
        if fan_out:
            assert isinstance(value, list)
            if not value:
                raise MarkerError(f"{name}=[] is empty", f"give at least one {name}")
            values = [_marker_one(name, v) for v in value]
            if len(set(values)) != len(values):
                raise MarkerError(f"{name}={value!r} lists a value twice", "list each value once")
            choices[name] = values
        else:
            choices[name] = [_marker_one(name, value)]
    requests = [OktaRequest()]
    for name, values in choices.items():
        requests = [_with(r, name, v) for r in requests for v in values]
    return requests


def _with(request: OktaRequest, name: str, value: object) -> OktaRequest:
    changes: dict[str, Any] = {name: value}
    return replace(request, **changes)


def factory_request(base: OktaRequest, kwargs: Mapping[str, object]) -> OktaRequest:
    """What ``okta_token_factory(**kwargs)`` asks for: the marker's arguments, one value each,
    over ``base`` (the test's own marker request)."""
    asked = expand_marker(kwargs)
    if len(asked) != 1:
        raise MarkerError(
            f"the token factory takes one value per argument, not a list ({dict(kwargs)!r})",
            "call it once per value, e.g. [okta_token_factory(flow=f) for f in"
            " ('code', 'pkce')], or put the list on @pytest.mark.okta to run the test"
            " once per value",
        )
    given: dict[str, Any] = {k: v for k, v in vars(asked[0]).items() if v is not None}
    return replace(base, **given)


def build_variant(settings: Settings, request: OktaRequest) -> Variant:
    """The variant ``request`` asks for under ``settings``; raises ``MissingSettingsError``.

    Secrets are not needed for it (they are no part of the cache key): a fresh cached token is
    handed out without them, and the provider asks for them only to sign in (see
    ``provider.build_provider``).
    """
    # Imported here: tokens pulls in PyJWT and cryptography, which plain pytest runs never need.
    from .tokens import Variant

    flow = request.flow or settings[options.FLOW].value
    needs = FLOW_TABLE[flow]
    login = named_login(settings, request.user) if needs.signs_in_user else None
    client_id, redirect_uri = (
        settings[options.CLIENT_ID].value,
        settings[options.REDIRECT_URI].value,
    )
    if request.app is not None:
        client_id, redirect_uri = _named_app(settings, request.app, flow)
        if needs.signs_in_user and (login or settings[options.USER].value) is None:
            raise MissingSettingsError(flow, [(options.USER.name, "")])
    else:
        settings.require(flow, user=login, secrets=False)
    if settings.org_url.value is None:
        raise MissingSettingsError(flow, [(options.DOMAIN.name, "")])
    issuer = settings.issuer_for(request.auth_server)
    # require() (or _named_app) has checked both.
    assert issuer is not None
    assert client_id is not None
    return Variant(
        issuer=issuer,
        client_id=client_id,
        user=(login or settings[options.USER].value) if needs.signs_in_user else None,
        flow=flow,
        scopes=request.scopes if request.scopes is not None else settings[options.SCOPES].value,
        redirect_uri=redirect_uri if needs.uses_authorize else None,
        instance=settings[options.EMULATOR_INSTANCE].value,
    )


def is_user_name(user: str) -> bool:
    """Whether the marker's ``user=`` names a user (``admin``) rather than giving a login."""
    return bool(options.NAME.fullmatch(user))


def named_login(settings: Settings, user: str | None) -> str | None:
    """The login ``user=`` stands for: a login as given, a name's ``OKTA_<NAME>_USERNAME``."""
    if user is None or not is_user_name(user):
        return user
    login = settings.named("user", user, "username")
    if login.value is None:
        up = user.upper()
        raise MarkerError(
            f"user={user!r} names a user without settings",
            f"set OKTA_{up}_USERNAME (or ini okta_{user.lower()}_username), OKTA_{up}_PASSWORD"
            f" and, if the user has a TOTP factor, OKTA_{up}_TOTP_SECRET; or give a login"
            " (user='alice@example.com')",
        )
    return str(login.value)


def _named_app(settings: Settings, app: str, flow: str) -> tuple[str, str | None]:
    """The client id and redirect URI of the app named ``app``."""
    client_id = settings.named("app", app, "client_id").value
    redirect_uri = settings.named("app", app, "redirect_uri").value
    needs = FLOW_TABLE[flow]
    missing = []
    if client_id is None:
        missing.append((f"app:{app}:client_id", ""))
    if needs.uses_authorize and redirect_uri is None:
        missing.append((f"app:{app}:redirect_uri", " (a sign-in redirect URI registered on it)"))
    if missing:
        raise MissingSettingsError(flow, missing)
    assert client_id is not None
    return str(client_id), redirect_uri
