"""One exception family. Every error says what happened, the likely cause, and the fix.

Messages never contain secrets: callers pass descriptions, never token or password values, and
never a URL (a request URL can carry a sessionToken).
"""

from __future__ import annotations

from typing import Any

from . import options


class OktaUserError(Exception):
    """Base of every error the plugin raises on purpose.

    ``what``: what happened (with Okta's code and description when there is one).
    ``fix``: what to change, naming the Okta admin setting or our setting (by its command-line,
    env and ini names).
    ``code``/``description``/``status``: Okta's error code, description and HTTP status, when
    Okta answered.
    """

    def __init__(
        self,
        what: str,
        fix: str = "",
        *,
        code: str | None = None,
        description: str | None = None,
        status: int | None = None,
    ) -> None:
        self.what = what
        self.fix = fix
        self.code = code
        self.description = description
        self.status = status
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps what/fix/code apart when the error crosses a process boundary (pickle).
        state = {"code": self.code, "description": self.description, "status": self.status}
        return (self.__class__, (self.what, self.fix), state)


class ConfigurationError(OktaUserError):
    """Our settings are missing or contradict each other."""


class AuthenticationError(OktaUserError):
    """The user could not sign in (bad login or password, or an authn state we cannot finish)."""


class LockedOut(AuthenticationError):
    """The user's account (or factor) is locked."""


class PasswordExpired(AuthenticationError):
    """The user must change the password before signing in."""


class MfaRequired(AuthenticationError):
    """The sign-on policy asks for a second factor that we cannot answer."""


class MfaEnrollRequired(MfaRequired):
    """The sign-on policy asks the user to enrol a factor first."""


class InvalidPasscode(AuthenticationError):
    """Okta refused the TOTP code computed from the configured TOTP shared secret."""


class OAuthError(OktaUserError):
    """An OAuth 2.0 error from /authorize or /token; the subclasses say which."""


class RedirectUriNotRegistered(OAuthError):
    """/authorize showed its error page: the redirect URI is not registered with the app."""


class UnknownClient(OAuthError):
    """/authorize showed its error page: no active app has this client id."""


class ResponseTypeNotEnabled(OAuthError):
    """The app does not allow the response type of the flow (e.g. implicit not ticked)."""


class LoginRequired(OAuthError):
    """/authorize would not sign the user in without a prompt."""


class IdpRedirect(LoginRequired):
    """/authorize sent the sign-in to another identity provider (an IdP routing rule)."""


class AccessDenied(OAuthError):
    """The user or the client is not allowed (assignment, access policy, consent)."""


class ConsentRequired(AccessDenied):
    """The app requires user consent, which a headless sign-in cannot give."""


class InvalidGrant(OAuthError):
    """/token refused the grant (code, PKCE verifier, redirect URI, refresh token, password)."""


class CredentialsRefused(AuthenticationError, InvalidGrant):
    """/token refused the user's password (``invalid_grant`` "The credentials provided were
    invalid.": the password and Direct Authentication grants): a refusal of the user, recorded
    for the user like a refused /api/v1/authn, and still an ``InvalidGrant``."""


class InvalidClient(OAuthError):
    """/token refused the client's credentials."""


class UnauthorizedClient(OAuthError):
    """The grant type is not enabled for the app or the authorization server."""


class InvalidScope(OAuthError):
    """A requested scope is unknown, not allowed, or missing (openid)."""


class InvalidRequest(OAuthError):
    """Okta found the request malformed (PKCE, nonce, response mode, ...)."""


class OktaRejected(OktaUserError):
    """Okta answered with an error we have no specific advice for; its code and text are kept."""


class StateMismatch(OktaUserError):
    """The ``state`` returned by /authorize is not the one we sent."""


class TokenVerificationError(OktaUserError):
    """A token failed verification (signature, issuer, audience, expiry, nonce)."""


class RateLimited(OktaUserError):
    """Okta answered 429 and the window resets later than we are willing to wait."""


class RateLimitRestart(RateLimited):
    """Okta answered 429 to a request that carried a one-time or secret credential (sessionToken,
    code, refresh token, password, stateToken with passcode).

    Such a request is never sent again as is: the caller waits ``wait`` seconds (the client has
    checked it fits the rate-limit budget) and starts the sign-in over with fresh credentials.
    Raised to callers that cannot start over (a refresh), it reads as the rate limit it is.
    """

    def __init__(self, what: str, fix: str = "", *, wait: float = 0.0, **kw: Any) -> None:
        super().__init__(what, fix, **kw)
        self.wait = wait

    def __reduce__(self) -> tuple[Any, ...]:
        cls, args, state = super().__reduce__()
        return (cls, args, {**state, "wait": self.wait})


class UnexpectedResponse(OktaUserError):
    """An answer Okta would not give: HTML or garbage from a proxy, a 5xx, a missing field."""


class TransportError(OktaUserError):
    """The request did not get an HTTP answer."""


class TlsError(TransportError):
    """The TLS handshake or certificate check failed."""


class ConnectionFailed(TransportError):
    """No connection (DNS, refused, reset)."""


class RequestTimeout(TransportError):
    """No answer within the timeout."""


# --- settings and markers ----------------------------------------------------------------------


class SettingError(ConfigurationError):
    """A value that cannot be right: names the setting, where it was read, and the fix."""

    def __init__(self, setting: str, source: str, problem: str, fix: str = "") -> None:
        self.setting = setting
        self.source = source
        names = options.by_name(setting)
        super().__init__(f"{names.label} ({source}): {problem}", fix or f"set {names.describe()}")

    def __str__(self) -> str:
        # One line: it becomes a pytest.UsageError, which pytest prints as is.
        return self.what if not self.fix else f"{self.what}; fix: {self.fix}"


class MissingSettingsError(ConfigurationError):
    """Settings a variant needs are unset: one message listing each of them with its three names."""

    def __init__(self, flow: str, missing: list[tuple[str, str]]) -> None:
        self.missing = [name for name, _ in missing]
        lines = [f"Okta settings missing for the {flow} flow:"]
        for name, extra in missing:
            names = options.by_name(name)
            lines.append(f"  - {names.label}: {names.describe()}{extra}")
        super().__init__(
            "\n".join(lines),
            "set them on the command line, in the environment or in the ini file"
            " (secrets only in the environment), or run with --okta-emulator",
        )


class MarkerError(ConfigurationError):
    """Bad arguments to ``@pytest.mark.okta`` (or the token factory)."""


# --- the token cache and the provider ------------------------------------------------------------


class TokenCacheWarning(UserWarning):
    """A cache entry could not be used (corrupt, truncated, foreign format, another variant's; a
    link, FIFO or other non-regular file, another user's, over the size cap).

    The entry is ignored and replaced by the next sign-in; the run goes on. The provider warns only
    once the entry is replaced, so ``-W error`` never stops the repair.
    """


class CacheLockTimeout(OktaUserError):
    """Waiting for another process's lock on a cache entry took longer than the lock timeout."""


class CacheUnusable(OktaUserError):
    """The cache folder or an entry's lock file cannot be used (an OS error: permissions, a
    directory where the lock file should be, a read-only or full disk)."""


class ShortLivedTokenWarning(UserWarning):
    """A new token lives less than ``min_ttl``: used anyway, not re-fetched again and again."""


class OktaUserDeprecationWarning(DeprecationWarning):
    """A name or form the plugin still reads but will drop (an old ini key): the message names the
    old and the new. Like pytest's own ``PytestDeprecationWarning`` (no pytest import here), so
    ``-W error::DeprecationWarning`` catches it; the plugin warns once per run, on the controller.
    """
