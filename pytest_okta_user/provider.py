"""TokenProvider: hands out a token set per variant, signing in as rarely as possible.

The order is memory, then the disk cache, then the refresh token when there is one, then a full
exchange. With a cache, a fresh entry is read without its file lock (entries are replaced whole);
a missing, stale or unusable one is read again, renewed and written under the lock, so however
many processes ask at once, one signs in and the others read what it stored.

A token is handed out only with at least ``min_ttl`` seconds of life left. When a long run outlives
it, the next request renews it, once for every process sharing the cache.

A token is handed out only while both its stored expiry and its own ``exp`` (when it is a JWT)
allow (:meth:`TokenSet.valid_until`). One that a resource refuses anyway (revoked at Okta: a 401
with ``invalid_token``) goes to :meth:`TokenProvider.renew_rejected`, which drops the entry and
renews once for every process: the first to come renews, the others find the entry changed and use
it.

Warnings (a cache entry that had to be replaced, a short-lived token) are emitted after the entry
is written and the tokens remembered: under ``-W error`` a warning is an exception, and raised first
it would stop the repair or the storage every run.

A token read from the disk cache that an earlier run stored is served only while its issuer still
publishes the key that signed it (:meth:`TokenProvider._signed_by_a_withdrawn_key`): an emulator
restarted on the same port, or a key Okta rotated away, would otherwise hand the API a token it
refuses. That costs one JWKS request per issuer per run, shared by the run's processes through the
cache, and none when the run signs in itself, reads nothing from the cache, or knows the emulator
by its instance id (which tells its keys apart already).

Secrets (the password, the client secret) are needed only to sign in: a variant is built without
them and a fresh cached token is handed out without them; :func:`build_provider`'s sign-in asks for
them (``MissingSettingsError``) only when it has to sign in or refresh.

A sign-in refused for good (a wrong password, an unknown client: see :func:`is_lasting`) is not
tried again in the run: the process remembers the error, and with a cache and a ``run_id`` (the same
in every xdist worker of one run) it is recorded beside the entry, so the other workers raise it
too instead of asking Okta again, which would lock the account out after a few tries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from . import options
from .cache import TokenCache, _finite_seconds
from .errors import (
    AuthenticationError,
    ConfigurationError,
    MissingSettingsError,
    OAuthError,
    OktaUserError,
    ShortLivedTokenWarning,
    TokenCacheWarning,
)
from .options import FLOW_TABLE
from .tokens import TokenSet, Variant, jwt_kid

if TYPE_CHECKING:
    from .client import HttpOptions
    from .options import Option
    from .redact import Credentials, Secret
    from .sessions import OktaSession, SessionStore
    from .settings import Settings

__all__ = [
    "ProviderStats",
    "TokenProvider",
    "build_provider",
    "is_lasting",
    "serves_from_cache",
]


log = logging.getLogger(__name__)


@dataclasses.dataclass
class ProviderStats:
    """What the provider did, per get(): for report lines and tests."""

    memory_hits: int = 0
    cache_hits: int = 0
    refreshes: int = 0
    exchanges: int = 0
    failures_replayed: int = 0
    rejected: int = 0
    """Tokens a resource refused as ``invalid_token`` (revoked) through ``okta_auth``."""
    rejected_after_renewal: int = 0
    """Requests refused again right after the renewal that followed a refusal."""
    withdrawn_keys: int = 0
    """Cached tokens not served: their issuer no longer publishes the key that signed them (a
    restarted emulator, a rotated key)."""
    key_checks: int = 0
    """Times this process asked whether a cached token's key is still published (each issuer at
    most once per run across the processes sharing the cache; a record read counts too)."""


class TokenProvider:
    """Tokens per variant: memory -> disk cache -> refresh -> exchange. Thread-safe."""

    def __init__(
        self,
        *,
        exchange: Callable[[Variant], TokenSet],
        refresh: Callable[[Variant, TokenSet], TokenSet] | None,
        cache: TokenCache | None,
        min_ttl: float = options.MIN_TTL.default,
        clock: Callable[[], float] = time.time,
        run_id: str = "",
        run_shared: bool = True,
        published_keys: Callable[[Variant], Iterable[str]] | None = None,
        browser_session: Callable[[Variant], OktaSession] | None = None,
        sessions: SessionStore | None = None,
    ) -> None:
        self._exchange = exchange
        self._browser_session = browser_session
        self.sessions = sessions
        """The users' Okta sessions and sign-in rules, shared by the variants (one sign-in per
        user); None: none yet (``build_provider`` makes them at the first sign-in), or each variant
        signs in on its own."""
        self._fetch_published_keys = published_keys
        """The key ids ``variant``'s issuer publishes now (its JWKS); None: cached tokens are
        served unchecked."""
        self._published: dict[str, frozenset[str]] = {}
        self.run_id = run_id
        """Shared by the processes of one run; "" keeps failures in this process only."""
        self.run_shared = run_shared
        """Whether other processes may share ``run_id`` (False: a run without xdist workers, so
        the key check has nothing to share, and fetches without taking the cache's lock)."""
        self._refresh = refresh
        self.cache = cache
        self.min_ttl = _checked_ttl(min_ttl)
        self._clock = clock
        self.stats = ProviderStats()
        self._lock = threading.Lock()
        """Guards the dicts and stats below; never held while signing in or waiting on a file."""
        self._memory: dict[Variant, TokenSet] = {}
        self._failures: dict[Variant, OktaUserError] = {}
        self._variant_locks: dict[Variant, threading.Lock] = {}
        self._refused_when_new: set[str] = set()
        """Digests of access tokens refused right after a renewal: renewing again cannot help."""

    def get(self, variant: Variant, *, min_ttl: float | None = None) -> TokenSet:
        """Tokens for ``variant`` with ``min_ttl`` seconds left at least (None: the default).

        Raises the variant's earlier :class:`OktaUserError` again, without another sign-in, if its
        exchange already failed in this process.
        """
        ttl = self.min_ttl if min_ttl is None else _checked_ttl(min_ttl)
        tokens = self._remembered(variant, ttl)
        if tokens is not None:
            return tokens
        pending: list[Warning] = []
        tokens = self._obtain(variant, ttl, pending, rejected=None)
        _emit(pending)
        return tokens

    def okta_session(self, variant: Variant) -> OktaSession:
        """The Okta browser session of ``variant``'s user (its cookies): the one the user's one
        sign-in of the run started, or a new one (once for every process)."""
        if self._browser_session is None:
            raise ConfigurationError(
                "This token provider cannot make browser sessions.",
                "build it with build_provider(settings).",
            )
        return self._browser_session(variant)

    def renew_rejected(
        self, variant: Variant, rejected: TokenSet, *, min_ttl: float | None = None
    ) -> TokenSet | None:
        """New tokens for ``variant`` after a resource refused ``rejected``'s access token as
        ``invalid_token`` (RFC 6750 section 3.1: revoked, or expired early); None when renewing
        cannot help (that token was itself refused right after such a renewal).

        The entry is dropped and renewed under its lock, once for every process sharing the cache:
        a process that comes after finds an entry with another token and uses it.
        """
        ttl = self.min_ttl if min_ttl is None else _checked_ttl(min_ttl)
        with self._lock:
            if _digest(rejected) in self._refused_when_new:
                return None
            self.stats.rejected += 1
        pending: list[Warning] = []
        tokens = self._obtain(variant, ttl, pending, rejected=rejected)
        _emit(pending)
        return tokens

    def rejected_after_renewal(self, tokens: TokenSet) -> None:
        """``tokens``, just renewed by :meth:`renew_rejected`, were refused too: the resource
        refuses fresh tokens (another audience or issuer), and renewing them would not help."""
        with self._lock:
            self.stats.rejected_after_renewal += 1
            self._refused_when_new.add(_digest(tokens))

    def _obtain(
        self, variant: Variant, ttl: float, pending: list[Warning], *, rejected: TokenSet | None
    ) -> TokenSet:
        # One thread per variant goes on to the disk and the network; the others wait, then find
        # its tokens in memory.
        with self._variant_lock(variant):
            tokens = self._usable_in_memory(variant, ttl, rejected)
            if tokens is not None:
                return tokens
            previous = rejected or self._memory.get(variant)
            if self.cache is None:
                tokens = self._renew(variant, previous, ttl, pending)
            elif rejected is None and (tokens := self._served_unlocked(variant, ttl)) is not None:
                return tokens
            else:
                with self.cache.locked(variant):
                    if self.run_id:
                        failure = self.cache.load_failure(variant, self.run_id)
                        if failure is not None:
                            # Another process of this run was refused: the same error, no retry.
                            with self._lock:
                                self._failures[variant] = failure
                                self.stats.failures_replayed += 1
                            raise failure
                    # Read under the lock: another process may have just stored a fresh entry (or,
                    # after a refusal, renewed the refused token already).
                    stored, problem, stored_by = self.cache.inspect_entry(variant)
                    if problem is not None:
                        # Warned once the entry is replaced (see the module's docstring).
                        pending.append(self.cache.unusable_warning(variant, problem))
                    if (
                        stored is not None
                        and not _same_access_token(stored, rejected)
                        and _fresh(stored, self._clock(), ttl)
                        and self._signed_by_a_withdrawn_key(variant, stored, stored_by)
                    ):
                        log.info(
                            "not serving the cached token for %s: its issuer no longer publishes"
                            " the key that signed it (a restarted emulator, a rotated key)",
                            variant.describe(),
                        )
                        with self._lock:
                            self.stats.withdrawn_keys += 1
                        self.cache.drop(variant)
                        # Its refresh token is the old issuer's too: a full sign-in.
                        stored = previous = None
                    if (
                        stored is not None
                        and not _same_access_token(stored, rejected)
                        and _fresh(stored, self._clock(), ttl)
                    ):
                        return self._served(variant, stored)
                    if rejected is not None:
                        # Never served again, even if the renewal below fails.
                        self.cache.drop(variant)
                    tokens = self._renew(variant, stored or previous, ttl, pending)
                    self._store(variant, tokens, pending)
            with self._lock:
                self._memory[variant] = tokens
            return tokens

    def _served_unlocked(self, variant: Variant, ttl: float) -> TokenSet | None:
        """A fresh cache entry, read without its lock: a warm run's path, which then never waits
        for a lock nor imports filelock. Entries are replaced whole (``os.replace``), so a reader
        sees one entry or the other, never half; one being replaced or dropped right now (its
        token refused) is served as a moment earlier would have served it, and a refusal renews
        it (``renew_rejected``). Anything else (no entry, a stale or unusable one, a withdrawn
        key) gives None: the locked path reads it again and acts (the key check's answer is
        remembered, so it asks the issuer no second time)."""
        assert self.cache is not None
        stored, problem, stored_by = self.cache.inspect_entry(variant)
        if (
            stored is None
            or problem is not None
            or not _fresh(stored, self._clock(), ttl)
            or self._signed_by_a_withdrawn_key(variant, stored, stored_by)
        ):
            return None
        return self._served(variant, stored)

    def _served(self, variant: Variant, stored: TokenSet) -> TokenSet:
        """``stored``, read from the cache, handed out: counted, and remembered in memory."""
        with self._lock:
            self.stats.cache_hits += 1
            self._memory[variant] = stored
        log.debug("token cache hit for variant %s", variant.key)
        return stored

    def _usable_in_memory(
        self, variant: Variant, ttl: float, rejected: TokenSet | None
    ) -> TokenSet | None:
        if rejected is None:
            return self._remembered(variant, ttl)
        with self._lock:
            tokens = self._memory.get(variant)
            if tokens is None:
                return None
            if not _same_access_token(tokens, rejected) and _fresh(tokens, self._clock(), ttl):
                return tokens  # another thread of this process renewed it already
            del self._memory[variant]
        return None

    def now(self) -> float:
        """The provider's clock (the plugin's ``okta_clock``)."""
        return self._clock()

    def fresh(self, tokens: TokenSet, *, min_ttl: float | None = None) -> bool:
        """Whether ``get`` would still hand out ``tokens`` now, rather than renew them."""
        ttl = self.min_ttl if min_ttl is None else _checked_ttl(min_ttl)
        return _fresh(tokens, self._clock(), ttl)

    def fresh_until(self, tokens: TokenSet, *, min_ttl: float | None = None) -> float:
        """A moment before which :meth:`fresh` holds for ``tokens`` (a test's setup then checks
        its session tokens with one reading of the clock)."""
        ttl = self.min_ttl if min_ttl is None else _checked_ttl(min_ttl)
        return tokens.valid_until - max(_needed_left(tokens, ttl), 0.0)

    def _remembered(self, variant: Variant, ttl: float) -> TokenSet | None:
        with self._lock:
            tokens = self._memory.get(variant)
            if tokens is not None and _fresh(tokens, self._clock(), ttl):
                self.stats.memory_hits += 1
                return tokens
            failure = self._failures.get(variant)
            if failure is not None:
                self.stats.failures_replayed += 1
        if failure is not None:
            # The same error, not a new sign-in: a wrong password must not lock the account out.
            raise failure.with_traceback(None)
        return None

    def _variant_lock(self, variant: Variant) -> threading.Lock:
        with self._lock:
            return self._variant_locks.setdefault(variant, threading.Lock())

    def _renew(
        self, variant: Variant, previous: TokenSet | None, ttl: float, pending: list[Warning]
    ) -> TokenSet:
        if previous is not None and previous.refresh_token and self._refresh is not None:
            try:
                tokens = self._refresh(variant, previous)
            except OktaUserError as exc:
                # Revoked, expired or rotated away: a full sign-in still works.
                log.info("refreshing %s failed, signing in again: %s", variant.describe(), exc.what)
            else:
                with self._lock:
                    self.stats.refreshes += 1
                if tokens.refresh_token is None:
                    # Okta may answer a refresh without a refresh token: the old one stays valid.
                    tokens = dataclasses.replace(tokens, refresh_token=previous.refresh_token)
                log.debug("refreshed tokens for variant %s", variant.key)
                return self._accepted(variant, tokens, ttl, pending)
        try:
            tokens = self._exchange(variant)
        except OktaUserError as exc:
            with self._lock:
                self._failures[variant] = exc
            # Missing secrets asked Okta nothing: every process finds them missing by itself, with
            # its own class of error (a record would replay it as a plain OktaUserError).
            recorded = is_lasting(exc) and not isinstance(exc, MissingSettingsError)
            if self.cache is not None and self.run_id and recorded:
                # Called holding the entry's lock (see get()): the next process reads it first.
                with contextlib.suppress(OSError):
                    self.cache.store_failure(variant, self.run_id, exc)
            raise
        with self._lock:
            self.stats.exchanges += 1
        log.debug("signed in for variant %s", variant.key)
        return self._accepted(variant, tokens, ttl, pending)

    def _accepted(
        self, variant: Variant, tokens: TokenSet, ttl: float, pending: list[Warning]
    ) -> TokenSet:
        now = self._clock()
        if tokens.obtained_at <= 0:
            # The lifetime (expires_at - obtained_at) decides freshness for short-lived tokens.
            tokens = dataclasses.replace(tokens, obtained_at=now)
        left = tokens.valid_until - now
        if left < ttl:
            # Signing in again would give a token no longer-lived than this one. Warned once it is
            # stored: under -W error the warning must not keep it from the cache.
            pending.append(
                ShortLivedTokenWarning(
                    f"pytest-okta-user: the new token for {variant.describe()} has"
                    f" {left:.0f}s left, less than the {ttl:g}s asked for (min_ttl); it is used"
                    " anyway and renewed at half its lifetime. Fix: lower the minimum TTL"
                    f" ({options.MIN_TTL.describe()}, or the okta marker's"
                    " min_ttl=), or lengthen the token lifetime in the authorization server's"
                    " access policy rule."
                )
            )
        return tokens

    def _signed_by_a_withdrawn_key(
        self, variant: Variant, tokens: TokenSet, stored_by: str
    ) -> bool:
        """Whether the issuer no longer publishes the key that signed ``tokens``, read from the
        disk cache: the question this module asks before serving them (see its docstring).

        Not asked for tokens this run signed in for (``stored_by``), nor for a token whose key
        cannot be named (opaque, or the org server's access token without an ID token, whose key
        is never published), nor for an emulator's known by its instance id (``variant.instance``:
        the id is part of the entry's key, so another emulator's tokens are never read, and an
        instance keeps its keys, with its id, in its key file; only its Python API's
        ``KeyStore.rotate``, for tests, changes them). An issuer that cannot be asked (down,
        refusing) gets the benefit of the doubt: the token is served, and the tests using it tell.
        """
        if self._fetch_published_keys is None or self.cache is None or variant.instance:
            return False
        if self.run_id and stored_by == self.run_id:
            return False
        kid = jwt_kid(tokens.id_token if variant.is_org_server else tokens.access_token)
        if kid is None and not variant.is_org_server:
            kid = jwt_kid(tokens.id_token)
        if kid is None:
            return False
        published = self._published.get(variant.issuer)
        if published is None:
            fetch = self._fetch_published_keys
            try:
                published = self.cache.published_keys(
                    variant.issuer,
                    self.run_id if self.run_shared else "",
                    lambda: fetch(variant),
                )
            except OktaUserError as exc:
                log.info("could not read the keys of %s, serving the cached token: %s",
                         variant.issuer, exc.what)  # fmt: skip
                return False
            with self._lock:
                self.stats.key_checks += 1
                self._published[variant.issuer] = published
        return kid not in published

    def _store(self, variant: Variant, tokens: TokenSet, pending: list[Warning]) -> None:
        assert self.cache is not None
        try:
            self.cache.store(variant, tokens, run_id=self.run_id)
        except OSError as exc:
            # The tokens are good; only sharing them is lost (each process then signs in once).
            pending.append(
                TokenCacheWarning(
                    "pytest-okta-user: could not write the token cache entry in"
                    f" {self.cache.folder} ({type(exc).__name__}: {exc.strerror or 'error'});"
                    " other processes will sign in on their own."
                )
            )


def is_lasting(error: OktaUserError) -> bool:
    """Whether asking again in the same run cannot help (so it must not be retried by another
    process): a refused password or factor, a client or grant Okta rejects, wrong settings. Not a
    transport error, a rate limit, a timeout or an unexpected answer, which may pass."""
    return isinstance(error, (AuthenticationError, ConfigurationError, OAuthError))


def _emit(pending: list[Warning]) -> None:
    """Warn, once the work the warnings are about is done. Its frame holds the warnings only
    (their messages name paths and variants, never a token): ``-W error`` makes each an
    exception raised here, shown with ``--showlocals``."""
    for warning in pending:
        warnings.warn(warning, stacklevel=3)


def _same_access_token(tokens: TokenSet, rejected: TokenSet | None) -> bool:
    return rejected is not None and tokens.access_token == rejected.access_token


def _digest(tokens: TokenSet) -> str:
    return hashlib.sha256((tokens.access_token or "").encode()).hexdigest()


def _fresh(tokens: TokenSet, now: float, ttl: float) -> bool:
    """Whether ``tokens`` may be handed out: some time left, and :func:`_needed_left`. Left means
    until the earlier of the stored expiry and the token's own ``exp``."""
    left = tokens.valid_until - now
    return left > 0 and left >= _needed_left(tokens, ttl)


def _needed_left(tokens: TokenSet, ttl: float) -> float:
    """The seconds ``tokens`` must have left to be handed out: ``ttl``, or half its lifetime if it
    never had ``ttl`` seconds at all."""
    if tokens.obtained_at > 0:
        lifetime = tokens.valid_until - tokens.obtained_at
        if lifetime < ttl:
            return lifetime / 2
    return ttl


def _checked_ttl(value: float) -> float:
    if not _finite_seconds(value):
        raise ValueError(f"min_ttl must be a finite number of seconds >= 0, not {value!r}")
    return float(value)


def build_provider(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    run_id: str = "",
    run_shared: bool = True,
    notify: Callable[[str], None] | None = None,
    share_sessions: bool = True,
) -> TokenProvider:
    """The token provider for ``settings``: what the plugin's fixtures use, and what a script uses
    to get the same tokens from the same cache (``build_provider(resolve(...)).get(variant)``).

    ``run_id``: the same in every process of one run (the plugin uses xdist's ``testrunuid``), so
    a sign-in refused for good is not tried again by another process; ``run_shared=False``: no
    other process has that id (a run without xdist workers). ``notify``: says a wait
    (the next TOTP code) on the terminal. ``share_sessions=False``: every variant signs its user
    in on its own (what benchmarks compare the Okta session's reuse against).
    """
    # The recipes (flows) and the transport options (client) are imported at the first sign-in,
    # refresh or key fetch: they pull in requests and PyJWT, which neither a run that never asks
    # for a token nor one served from the cache (whose key ids another process fetched) needs.
    response_mode = settings[options.RESPONSE_MODE].value
    folder = settings[options.CACHE_DIR].value
    cache = (
        None
        if settings[options.NO_CACHE].value or folder is None
        else TokenCache.inside(folder, lock_timeout=settings.lock_timeout())
    )

    names = {
        str(login): name
        for name in settings.names("user")
        if (login := settings.named("user", name, "username").value) is not None
    }
    made = threading.Lock()

    def sessions() -> SessionStore:
        # Made when a sign-in first needs them: a run served from the cache imports no session
        # code (three dataclasses and the module, ~2 ms of a warm run).
        with made:
            if provider.sessions is None:
                from .sessions import SessionStore

                provider.sessions = SessionStore(
                    cache,
                    run_id=run_id,
                    clock=clock,
                    notify=notify,
                    reuse=share_sessions,
                    names=names,
                )
            return provider.sessions

    def exchange(variant: Variant) -> TokenSet:
        # Only here are the secrets needed (build_variant checked the rest).
        names = named_for(settings, variant)
        password_later = _secrets_for(variant, names, _session_may_serve(sessions(), variant))
        from . import flows

        http = http_options(settings)
        try:
            return flows.exchange(
                variant,
                credentials_of(settings, names),
                http=http,
                clock=clock,
                response_mode=response_mode,
                sessions=sessions(),
                password_later=password_later,
            )
        except OktaUserError as exc:
            raise _named_in(exc, names) from None

    def _secrets_for(
        variant: Variant, names: SettingNames, session_may_serve: bool
    ) -> Callable[[], None] | None:
        """Check the secrets ``variant`` needs now; the password only when no Okta session of its
        user may serve. Then the answer asks for it when the sign-in comes (None: checked)."""
        if not session_may_serve:
            _require_secrets(settings, variant, names, signing_in=True)
            return None
        _require_secrets(settings, variant, names, signing_in=False)
        return lambda: _require_secrets(settings, variant, names, signing_in=True)

    def browser_session(variant: Variant) -> OktaSession:
        # Any flow that signs a user in: a stored session of the user serves the browser as is.
        from . import flows
        from .sessions import UserKey

        names = named_for(settings, variant)
        stored = variant.user is not None and sessions().current(UserKey.of(variant)) is not None
        password_later = _secrets_for(variant, names, stored)
        try:
            return flows.browser_session(
                variant,
                credentials_of(settings, names),
                sessions(),
                password_later=password_later,
                http=http_options(settings),
                clock=clock,
            )
        except OktaUserError as exc:
            raise _named_in(exc, names) from None

    def refresh(variant: Variant, tokens: TokenSet) -> TokenSet:
        # A refresh authenticates the client (its secret), not the user: no password needed.
        names = named_for(settings, variant)
        _require_secrets(settings, variant, names, signing_in=False)
        from . import flows

        credentials = credentials_of(settings, names)
        return flows.refresh(variant, tokens, credentials, http=http_options(settings), clock=clock)

    def published_keys(variant: Variant) -> frozenset[str]:
        return _published_key_ids(variant, settings, clock)

    provider = TokenProvider(
        exchange=exchange,
        refresh=refresh,
        cache=cache,
        min_ttl=settings[options.MIN_TTL].value,
        clock=clock,
        run_id=run_id,
        run_shared=run_shared,
        published_keys=published_keys,
        browser_session=browser_session,
    )
    return provider


def _require_secrets(
    settings: Settings, variant: Variant, names: SettingNames, *, signing_in: bool
) -> None:
    """Raise :class:`MissingSettingsError` when a secret the flow needs is unset (the password
    only to sign in): the default user's and app's, or the named user's and app's (``names``)."""
    user_name, app_name = names
    missing = settings.missing(variant.flow, user=variant.user)
    if app_name is not None:
        missing = [m for m in missing if m[0] != options.CLIENT_SECRET.name]
        if FLOW_TABLE[variant.flow].needs_client_secret:
            secret = settings.named("app", app_name, "client_secret")
            if secret.value is None:
                missing.append((f"app:{app_name}:client_secret", " (environment only)"))
    if user_name is not None:
        missing = [m for m in missing if m[0] != options.PASSWORD.name]
        needs_password = FLOW_TABLE[variant.flow].signs_in_user
        if needs_password and settings.named("user", user_name, "password").value is None:
            missing.append((f"user:{user_name}:password", " (environment only)"))
    if not signing_in:
        missing = [(n, hint) for n, hint in missing if not n.endswith("password")]
    if missing:
        raise MissingSettingsError(variant.flow, missing)


def _session_may_serve(sessions: SessionStore, variant: Variant) -> bool:
    """Whether ``variant``'s exchange may need no password: a browser flow (code, pkce,
    implicit) whose user has an Okta session stored, which answers ``/authorize`` alone."""
    from .sessions import UserKey

    return _session_answers(variant) and sessions.current(UserKey.of(variant)) is not None


def _session_answers(variant: Variant) -> bool:
    """Whether an Okta session of ``variant``'s user can answer its ``/authorize`` alone."""
    return variant.flow in _SESSION_FLOWS and variant.user is not None


#: The flows an Okta session answers: /authorize with prompt=none and the session cookie.
_SESSION_FLOWS = frozenset({"code", "pkce", "implicit"})


def _named_in(error: OktaUserError, names: SettingNames) -> OktaUserError:
    """``error`` with its fix naming the settings its variant really uses (``names``): a named
    user's ``OKTA_ADMIN_PASSWORD`` where the recipes, which know no names, wrote
    ``OKTA_PASSWORD``."""
    user_name, app_name = names
    renames: list[tuple[Option[Any], Option[Any]]] = []
    if user_name is not None:
        renames += [
            (options.PASSWORD, options.named_option("user", user_name, "password")),
            (options.TOTP_SECRET, options.named_option("user", user_name, "totp_secret")),
            (options.USER, options.named_option("user", user_name, "username")),
        ]
    if app_name is not None:
        renames += [
            (options.CLIENT_SECRET, options.named_option("app", app_name, "client_secret")),
            (options.CLIENT_ID, options.named_option("app", app_name, "client_id")),
            (options.REDIRECT_URI, options.named_option("app", app_name, "redirect_uri")),
        ]
    what, fix = error.what, error.fix
    for default, named in renames:
        # The longest spelling first: "--okta-user / OKTA_USERNAME / okta_username", then the
        # bare environment name.
        for spelling in (default.describe(), *default.env):
            what = what.replace(spelling, named.describe())
            fix = fix.replace(spelling, named.describe())
    if (what, fix) == (error.what, error.fix):
        return error
    error.what, error.fix = what, fix
    error.args = (what if not fix else f"{what}\n  fix: {fix}",)
    return error


class SettingNames(NamedTuple):
    """Whose settings a variant uses: a named user's (``OKTA_<NAME>_PASSWORD``, ...) and a named
    app's (``OKTA_<NAME>_CLIENT_SECRET``, ...); None: the default user's or app's."""

    user: str | None = None
    app: str | None = None


#: The default user's and app's settings.
DEFAULT_NAMES = SettingNames()


def named_for(settings: Settings, variant: Variant) -> SettingNames:
    """The names of the user and app whose settings ``variant`` uses (None: the default ones)."""
    user_name = app_name = None
    login = (variant.user or "").lower()
    if login and login != (settings[options.USER].value or "").lower():
        for name in settings.names("user"):
            if (settings.named("user", name, "username").value or "").lower() == login:
                user_name = name
                break
    if variant.client_id != settings[options.CLIENT_ID].value:
        for name in settings.names("app"):
            if settings.named("app", name, "client_id").value == variant.client_id:
                app_name = name
                break
    return SettingNames(user_name, app_name)


def _published_key_ids(
    variant: Variant, settings: Settings, clock: Callable[[], float] = time.time
) -> frozenset[str]:
    """The ids of the signing keys ``variant``'s issuer publishes now (its JWKS) that the token
    verification can use (``verify.usable_kids``: read without importing a JWT library).

    Asked with the standard library (``jwks_fetch``: a warm run then never imports requests),
    and through the client, with its retries and diagnosis, when that path does not take it.
    What was fetched is also offered as the process's key set for the issuer
    (``verify.offer_keys``, kept for the answer's Cache-Control lifetime, as a sign-in's own
    fetch is): a sign-in that follows in this process (the cached token's key was withdrawn, or
    another variant of the issuer) fetches the JWKS no second time."""
    from .jwks_fetch import fetch_jwks
    from .verify import offer_keys, usable_kids

    started = clock()
    fetched = fetch_jwks(variant.keys_url, timeout=settings[options.TIMEOUT].value)
    if fetched is None:
        from .client import OktaClient

        with OktaClient(variant.org_url, http=http_options(settings)) as client:
            fetched = client.keys_with_lifetime(variant.keys_url)
    jwks, lifetime = fetched
    offer_keys(variant.keys_url, jwks, fresh_until=started + lifetime)
    return usable_kids(jwks)


def serves_from_cache(settings: Settings, *, clock: Callable[[], float] = time.time) -> bool:
    """Whether the token cache holds a token for the settings' own variant (no marker) that the
    provider would hand out now, or an Okta session of its user (a code, pkce or implicit flow)
    started less than ``sessions.SESSION_TRUSTED_FOR`` ago, which answers its ``/authorize``
    alone: a run using only it needs no password, and the plugin and the ``okta-user`` command
    then ask for none. A token withdrawn by its issuer, or a session Okta has ended, is noticed
    when used, and then asks for the password in the missing-settings message."""
    from .marker import OktaRequest, build_variant

    folder = settings[options.CACHE_DIR].value
    if settings[options.NO_CACHE].value or folder is None:
        return False
    try:
        variant = build_variant(settings, OktaRequest())
    except OktaUserError:
        return False
    cache = TokenCache.inside(folder)
    tokens, _problem = cache.inspect(variant)
    if tokens is not None and _fresh(tokens, clock(), settings[options.MIN_TTL].value):
        return True
    if not _session_answers(variant):
        return False
    from .sessions import SESSION_TRUSTED_FOR, UserKey

    session, _step = cache.load_user(UserKey.of(variant))
    return session is not None and clock() - session.started_at < SESSION_TRUSTED_FOR


def http_options(settings: Settings) -> HttpOptions:
    """The transport settings (timeout, retries, rate-limit wait) as the client takes them."""
    from .client import HttpOptions

    # No ca_bundle: requests then keeps reading REQUESTS_CA_BUNDLE, as the README tells users to.
    return HttpOptions(
        timeout=settings[options.TIMEOUT].value,
        retries=settings[options.RETRIES].value,
        max_rate_limit_wait=settings[options.RATE_LIMIT_WAIT].value,
    )


def credentials_of(settings: Settings, names: SettingNames = DEFAULT_NAMES) -> Credentials:
    """The secrets a variant signs in with, as the recipes take them: its named user's and app's
    (``names``: ``OKTA_<NAME>_PASSWORD``, ...) or the default ones."""
    from .redact import Credentials

    user_name, app_name = names
    if user_name is None:
        password, totp = settings[options.PASSWORD].value, settings[options.TOTP_SECRET].value
    else:
        password = settings.named("user", user_name, "password").value
        totp = settings.named("user", user_name, "totp_secret").value
    if app_name is None:
        client_secret = settings[options.CLIENT_SECRET].value
    else:
        client_secret = settings.named("app", app_name, "client_secret").value
    return Credentials(
        password=_revealed(password),
        client_secret=_revealed(client_secret),
        totp_secret=_revealed(totp),
    )


def _revealed(secret: Secret | None) -> str | None:
    return None if secret is None else secret.reveal()
