"""A user's Okta session: the browser session cookie that one sign-in starts.

The first ``/authorize`` that carries a sessionToken (or ``/login/sessionCookieRedirect``) sets
Okta's session cookie (``sid``). Sent back with ``/authorize?prompt=none``, that cookie gets a code
or tokens for the same user from any app, for any flow and scopes, without another
``/api/v1/authn``: so a user needs one sign-in per run, and none while the session lives (facts
sheet, sections 2 and 9; https://developer.okta.com/docs/guides/session-cookie/main/).

The session is as sensitive as a refresh token: the provider keeps it in the token cache (0600)
under the user's own lock, and every cookie value is masked like any other secret. No pytest and
no HTTP here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import masking
from .errors import AuthenticationError, OktaUserError

if TYPE_CHECKING:
    from .cache import TokenCache
    from .tokens import Variant

__all__ = ["TOTP_STEP", "OktaSession", "SessionCookie", "SessionStore", "UserKey"]

log = logging.getLogger(__name__)

#: The version of the session's stored form (part of the user's cache key).
FORMAT = 1
#: RFC 6238's time step, as Okta's TOTP factors use it.
TOTP_STEP = 30
#: How long an Okta session is taken to last after its sign-in without asking Okta: the idle
#: time of a typical global session policy rule (``maxSessionIdleMinutes: 120``,
#: https://developer.okta.com/docs/guides/keep-me-signed-in/main/). Okta may keep it longer (use
#: resets the idle time; the default rule's lifetime is 24 h) or end it sooner (a sign-out).
SESSION_TRUSTED_FOR = 7200.0


@dataclass(frozen=True)
class UserKey:
    """Whose session: a login at an org (the cache key of the user's sign-in)."""

    org_url: str
    login: str
    instance: str = ""
    """Tells emulator instances apart, as :attr:`Variant.instance` does."""

    @classmethod
    def of(cls, variant: Variant) -> UserKey:
        """The user ``variant`` signs in (a variant with a user: the caller checked)."""
        assert variant.user is not None
        return cls(variant.org_url, variant.user, variant.instance)

    def describe(self) -> str:
        return f"user {self.login} at {self.org_url}"

    @property
    def key(self) -> str:
        """A stable hash, safe for file names (no login in it); logins are case-insensitive."""
        canonical = json.dumps(
            ["user", FORMAT, self.org_url, self.login.lower(), self.instance], separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, str]:
        return {"org_url": self.org_url, "login": self.login, "instance": self.instance}


@dataclass(frozen=True, repr=False)
class SessionCookie:
    """One cookie of the session, with the attributes a browser needs to hold it."""

    name: str
    value: str
    domain: str
    """The host the cookie belongs to (the org's host for Okta's host-only ``sid``)."""
    path: str = "/"
    expires: float | None = None
    """Epoch seconds; None: a session cookie (gone when the browser closes)."""
    secure: bool = False
    http_only: bool = True
    same_site: str | None = None
    """``Lax``, ``Strict``, ``None`` as Set-Cookie said it, or None when it said nothing."""

    def __post_init__(self) -> None:
        # The session cookie signs the user in anywhere: masked in every report, like a token.
        masking.register(self.value)

    def __repr__(self) -> str:
        return f"SessionCookie(name={self.name!r}, value='***', domain={self.domain!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
            "expires": self.expires,
            "secure": self.secure,
            "http_only": self.http_only,
            "same_site": self.same_site,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionCookie:
        expires = data.get("expires")
        same_site = data.get("same_site")
        return cls(
            name=str(data["name"]),
            value=str(data["value"]),
            domain=str(data["domain"]),
            path=str(data.get("path") or "/"),
            expires=None if expires is None else float(expires),
            secure=bool(data.get("secure")),
            http_only=bool(data.get("http_only", True)),
            same_site=None if same_site is None else str(same_site),
        )


@dataclass(frozen=True, repr=False)
class OktaSession:
    """The Okta session of one user: its cookies, and when the sign-in that started it ran."""

    user: UserKey
    cookies: tuple[SessionCookie, ...]
    started_at: float
    user_info: Mapping[str, Any] = field(default_factory=dict)
    """``_embedded.user`` of the sign-in (id, profile): who the session belongs to."""
    run_id: str = ""
    """The run whose sign-in started it: a session from another run may have ended since."""

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self.cookies)
        return f"OktaSession({self.user.describe()}, cookies=[{names}])"

    def cookie_header(self) -> dict[str, str]:
        """The cookies as ``requests`` sends them: name -> value."""
        return {c.name: c.value for c in self.cookies}

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user.to_dict(),
            "cookies": [c.to_dict() for c in self.cookies],
            "started_at": self.started_at,
            "user_info": dict(self.user_info),
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OktaSession:
        user = data["user"]
        return cls(
            user=UserKey(str(user["org_url"]), str(user["login"]), str(user.get("instance", ""))),
            cookies=tuple(SessionCookie.from_dict(c) for c in data["cookies"]),
            started_at=float(data["started_at"]),
            user_info=dict(data.get("user_info") or {}),
            run_id=str(data.get("run_id") or ""),
        )


class SessionStore:
    """Each user's Okta session and sign-in rules, for every variant and every process.

    - ``current``: the session a variant's ``/authorize`` sends (memory, then the cache);
    - ``signing_in``: the user's lock, for a sign-in that must happen once for all processes;
    - a refused sign-in is recorded for the user and replayed (``raise_if_refused``), so a wrong
      password reaches Okta at most once per user per run;
    - ``totp_step``: the TOTP time step a sign-in may use, never one used before.

    Without a cache, sessions and refusals are kept in this process only. Thread-safe.
    """

    def __init__(
        self,
        cache: TokenCache | None,
        *,
        run_id: str = "",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        notify: Callable[[str], None] | None = None,
        reuse: bool = True,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.cache = cache
        self._names = {login.lower(): name for login, name in (names or {}).items()}
        """Login -> the name a suite calls the user by (``user="admin"``), for what is said."""
        self.run_id = run_id
        self._clock = clock
        self._sleep = sleep
        self._notify = notify or (lambda message: log.warning("%s", message))
        self.reuse = reuse
        """False: every variant signs in on its own, as before sessions were shared (benchmarks
        measure the difference)."""
        self._lock = threading.Lock()
        self._sessions: dict[UserKey, OktaSession] = {}
        self._steps: dict[UserKey, int] = {}
        self._failures: dict[UserKey, OktaUserError] = {}
        self._user_locks: dict[UserKey, threading.Lock] = {}
        self._local = threading.local()
        self.sign_ins = 0
        """Sign-ins (``/api/v1/authn`` or another first factor) this process made."""
        self.sessions_reused = 0
        """Variants this process served from a user's existing Okta session."""
        self.browser_sign_ins = 0
        """Sign-ins this process made for a browser session alone (no variant's exchange)."""

    def current(self, user: UserKey) -> OktaSession | None:
        """The user's Okta session as last known (this process, then the cache), or None."""
        if not self.reuse:
            return None
        with self._lock:
            session = self._sessions.get(user)
        if session is not None or self.cache is None:
            return session
        stored, step = self.cache.load_user(user)
        with self._lock:
            self._steps[user] = max(step, self._steps.get(user, -1))
            if stored is not None:
                self._sessions.setdefault(user, stored)
        return stored

    def started_this_run(self, session: OktaSession) -> bool:
        """Whether a sign-in of this run started ``session`` (else Okta may have ended it)."""
        return bool(self.run_id) and session.run_id == self.run_id

    def raise_if_refused(self, user: UserKey) -> None:
        """Raise the user's refused sign-in again (this process's record only: no file read)."""
        with self._lock:
            failure = self._failures.get(user)
        if failure is not None:
            raise failure.with_traceback(None)

    @contextlib.contextmanager
    def signing_in(self, user: UserKey, ended: OktaSession | None) -> Iterator[OktaSession | None]:
        """Hold the user's lock (this process's threads, then the cache's file lock).

        Yields a session another thread or process stored since ``ended`` (the one Okta just
        refused, or None): use it instead of signing in. Yields None: sign in now, and call
        :meth:`started` (or :meth:`refused`) before leaving. Raises the user's recorded refusal.
        """
        with self._user_lock(user):
            self.raise_if_refused(user)
            if self.cache is None:
                yield self._newer(user, ended)
                return
            with self.cache.user_locked(user):
                if self.run_id:
                    failure = self.cache.load_user_failure(user, self.run_id)
                    if failure is not None:
                        with self._lock:
                            self._failures[user] = failure
                        raise failure
                stored, step = self.cache.load_user(user)
                with self._lock:
                    self._steps[user] = max(step, self._steps.get(user, -1))
                    if stored is not None and self.reuse:
                        self._sessions[user] = stored
                yield self._newer(user, ended)

    def _newer(self, user: UserKey, ended: OktaSession | None) -> OktaSession | None:
        if not self.reuse:
            return None
        with self._lock:
            session = self._sessions.get(user)
        if session is None or (ended is not None and session.cookies == ended.cookies):
            return None
        return session

    def started(self, session: OktaSession, *, for_browser: bool = False) -> None:
        """A sign-in (inside :meth:`signing_in`) started ``session``: every variant uses it now.
        ``for_browser``: the sign-in made a browser session, not a variant's tokens."""
        session = replace(session, run_id=self.run_id)
        with self._lock:
            self.sign_ins += 1
            self.browser_sign_ins += for_browser
            if self.reuse:
                self._sessions[session.user] = session
        self._store(session.user, session)

    def signed_in_without_session(self, user: UserKey) -> None:
        """A sign-in that started no session Okta told us of (counted all the same)."""
        with self._lock:
            self.sign_ins += 1

    def exchange_started(self) -> None:
        """An exchange begins in this thread (it may start over after a 429: see :meth:`reused`)."""
        self._local.reused = False

    def reused(self) -> None:
        """This thread's exchange got its answer from the user's Okta session."""
        self._local.reused = True

    def exchange_done(self) -> None:
        """This thread's exchange ended with tokens: counted once, however many attempts."""
        if getattr(self._local, "reused", False):
            with self._lock:
                self.sessions_reused += 1
        self._local.reused = False

    def ended(self, session: OktaSession) -> None:
        """Okta no longer knows ``session`` (``login_required``): forget it here."""
        with self._lock:
            if self._sessions.get(session.user) is session:
                del self._sessions[session.user]

    def refused(self, user: UserKey, error: OktaUserError) -> None:
        """The user's sign-in was refused for good (inside :meth:`signing_in`): replay ``error``
        to every variant and process of the run instead of asking Okta again."""
        if not isinstance(error, AuthenticationError):
            return  # not about the user's credentials: the variant's own record covers it
        with self._lock:
            self._failures[user] = error
        if self.cache is not None and self.run_id:
            with contextlib.suppress(OSError):
                self.cache.store_user_failure(user, self.run_id, error)

    def totp_step(self, user: UserKey, label: str) -> int:
        """The TOTP time step the user's sign-in uses now (inside :meth:`signing_in`): the current
        one, or, when a sign-in of the user already used it, the next (waiting for it, and saying
        so). Okta refuses a code used once (``E0000082``), so no two sign-ins share a step."""
        now = self._clock()
        step = int(now // TOTP_STEP)
        with self._lock:
            last = self._steps.get(user, -1)
        if step <= last:
            step = last + 1
            wait = step * TOTP_STEP - now
            label = self._names.get(user.login.lower(), label)
            self._notify(f"okta: waiting {wait:.0f} s for the next TOTP code of {label}")
            self._sleep(wait)
        with self._lock:
            self._steps[user] = step
            session = self._sessions.get(user)
        # Recorded before the code is sent: a code Okta saw is used, whatever it answered.
        self._store(user, session, keep_session=True)
        return step

    def _store(
        self, user: UserKey, session: OktaSession | None, keep_session: bool = False
    ) -> None:
        if self.cache is None:
            return
        with self._lock:
            step = self._steps.get(user, -1)
        if keep_session and session is None:
            session, _step = self.cache.load_user(user)
        try:
            self.cache.store_user(user, session if self.reuse else None, step, now=self._clock())
        except OSError as exc:
            # Only sharing is lost: the other processes sign the user in on their own.
            log.warning("could not store the Okta session of %s: %s", user.describe(), exc)

    def _user_lock(self, user: UserKey) -> threading.Lock:
        with self._lock:
            return self._user_locks.setdefault(user, threading.Lock())
