"""The on-disk token cache: one JSON entry per variant, shared by every process on the machine.

Every xdist worker (and every later run) goes through the same entry, so the first process that
finds it missing or stale signs in and the rest read what it wrote. Three rules keep that safe:

* each entry has its own ``filelock`` lock file beside it, always taken with a finite timeout;
* an entry is written to a temporary file in the same folder and moved into place with
  ``os.replace``, so a reader sees the old entry or the new one, never half of one;
* entries hold bearer tokens: the files are 0600 and their names are the variant's hash (never a
  user name, issuer or secret). The plugin keeps them in a folder of their own,
  ``<cache dir>/okta-user-tokens`` (see :meth:`TokenCache.inside`), which the cache creates 0700;
  it never changes the mode of a folder it did not create (``--okta-cache-dir .`` must not make
  the project private), and it refuses a folder another user owns.

A sign-in refused for a reason that a retry cannot cure (a wrong password, an unknown client) is
written beside the entry as ``<key>.failed`` with the run's id, so that the other processes of the
same run give the same error without asking Okta again (each retry would count towards locking the
account out). A later run, with another id, ignores and removes it.

The lock is an OS lock (``fcntl.flock`` on POSIX), which the kernel drops when its holder dies, so a
killed worker cannot wedge later runs. Network filesystems may not honour it: keep the folder local.

Files in the folder are read as things someone else may have planted there (:func:`_read_file`): a
symbolic link is never followed (``lstat``, ``O_NOFOLLOW``), only a regular file of this user's is
read, opened ``O_NONBLOCK`` so that a FIFO cannot hang start-up, and at most
:data:`MAX_ENTRY_BYTES` of it, so that a huge file (or a link to ``/dev/zero``) cannot exhaust
memory. The folder itself is checked with ``lstat`` too: a symbolic link in its place is refused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors, options
from .errors import CacheLockTimeout, CacheUnusable, OktaUserError, TokenCacheWarning
from .tokens import FORMAT_VERSION, TokenSet, Variant

if TYPE_CHECKING:
    from .sessions import OktaSession, UserKey

__all__ = ["SUBFOLDER", "TokenCache"]

ENTRY_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"
FAILED_SUFFIX = ".failed"
#: An issuer's published key ids as one run fetched them (see :meth:`TokenCache.published_keys`).
KEYS_SUFFIX = ".keys"
#: Which sign-in path ``flow=auto`` found working for an issuer and client (oie.py): no secret.
AUTO_SUFFIX = ".auto"
#: A user's record: the Okta session its one sign-in started, and the last TOTP time step it used
#: (see :meth:`TokenCache.load_user`). As sensitive as a refresh token.
USER_SUFFIX = ".user"
#: How long a user's record is kept after it was last written, unless a sign-in renews it: Okta
#: ends idle sessions well before (2 hours by default), and a record past this is pruned.
USER_RECORD_LIFETIME = 86400.0
#: How often a process waiting for an entry's lock tries it again. filelock's default (50 ms) is
#: the floor of every wait for another worker's sign-in; a non-blocking flock() costs a few
#: microseconds, so trying every 2 ms wakes the waiter within a few milliseconds of the release
#: for a negligible CPU cost (benchmarks/bench_cache.py measures the wake-up).
LOCK_POLL_INTERVAL = 0.002
#: The folder of its own the plugin keeps the entries in, inside the configured cache folder.
SUBFOLDER = "okta-user-tokens"
# Only names this module writes are ever removed by clear(), even if the folder is shared.
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}\.(?:json|failed|keys|user|auto)")
_LOCK_NAME = re.compile(r"[0-9a-f]{32}\.lock")
_TEMP_PREFIX = ".tmp-"
_CACHE_NAMES = options.CACHE_DIR.describe()
#: The most of a cache file ever read. An entry holds an access, an ID and a refresh token (a few KB
#: together; tens with a large groups claim), their decoded claims and the user's profile: real
#: entries stay far below this, while a planted or runaway file (300 MB, a link to /dev/zero) costs
#: at most this much memory to refuse.
MAX_ENTRY_BYTES = 256 * 1024


class TokenCache:
    """A folder of token entries, one per :class:`Variant`, each with its own file lock."""

    @classmethod
    def inside(cls, folder: Path, *, lock_timeout: float = 120.0) -> TokenCache:
        """The plugin's cache for the cache folder ``folder``: entries in ``folder/SUBFOLDER``."""
        return cls(Path(folder) / SUBFOLDER, lock_timeout=lock_timeout)

    def __init__(self, folder: Path, *, lock_timeout: float = 120.0) -> None:
        # filelock's default (-1) waits forever: one hung sign-in would hang every other process.
        if not _finite_seconds(lock_timeout):
            raise ValueError(f"lock_timeout must be finite seconds >= 0, not {lock_timeout!r}")
        self.folder = Path(folder)
        self.lock_timeout = float(lock_timeout)

    def __repr__(self) -> str:
        return f"TokenCache({str(self.folder)!r}, lock_timeout={self.lock_timeout:g})"

    def entry_path(self, variant: Variant) -> Path:
        return self.folder / f"{variant.key}{ENTRY_SUFFIX}"

    def lock_path(self, variant: Variant) -> Path:
        return self.folder / f"{variant.key}{LOCK_SUFFIX}"

    def failure_path(self, variant: Variant) -> Path:
        return self.folder / f"{variant.key}{FAILED_SUFFIX}"

    def locked(self, variant: Variant) -> contextlib.AbstractContextManager[None]:
        """Hold the variant's lock: its holder reads, signs in and stores while others wait."""
        return self._locked_path(self.lock_path(variant), variant.describe())

    def store_failure(self, variant: Variant, run_id: str, error: OktaUserError) -> None:
        """Record, for the run ``run_id``, that signing in for ``variant`` failed with ``error``.

        Call it holding the variant's lock. Only the class name, ``what``, ``fix`` and Okta's
        code, description and status are written: the messages never hold a secret.
        """
        self._store_failure_at(self.failure_path(variant), run_id, error)

    def _store_failure_at(self, path: Path, run_id: str, error: OktaUserError) -> None:
        self._write(
            path,
            {
                "format": FORMAT_VERSION,
                "run": run_id,
                "class": type(error).__name__,
                "what": error.what,
                "fix": error.fix,
                "code": error.code,
                "description": error.description,
                "status": error.status,
            },
        )

    def load_failure(self, variant: Variant, run_id: str) -> OktaUserError | None:
        """The error :meth:`store_failure` recorded for ``variant`` in the run ``run_id``, or None.

        A record of another run (or an unreadable one) is removed and gives None.
        """
        return self._load_failure_at(self.failure_path(variant), run_id)

    def _load_failure_at(self, path: Path, run_id: str) -> OktaUserError | None:
        problem, raw = _read_file(path)
        if raw is None:
            if problem is not None:
                # Not ours to read (a link, a FIFO, too large): removed, like another run's record.
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return None
        error = _failure_from(raw, run_id)
        if error is None:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return error

    def forget_failure(self, variant: Variant) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.failure_path(variant))

    def load(self, variant: Variant) -> TokenSet | None:
        """The stored tokens for ``variant``, or None when there is no usable entry.

        An unusable entry (corrupt, truncated, another format version, another variant's, not a
        regular file of this user's, too large) gives a :class:`TokenCacheWarning` and None, so the
        caller signs in again and ``store`` replaces it. Freshness is the caller's business: an
        expired entry is returned as it is.
        """
        tokens, problem = self.inspect(variant)
        if problem is not None:
            # This frame holds no content of the entry: -W error shows it with --showlocals.
            warnings.warn(self.unusable_warning(variant, problem), stacklevel=2)
        return tokens

    def inspect(self, variant: Variant) -> tuple[TokenSet | None, str | None]:
        """``(tokens, None)``, ``(None, problem)`` for an unusable entry, ``(None, None)`` for none.

        :meth:`load` without the warning, for a caller that must first replace the entry and
        warn only then (:meth:`unusable_warning`): under ``-W error`` the warning is an
        exception, and raised first it would stop the repair, run after run.
        """
        tokens, problem, _run = self.inspect_entry(variant)
        return tokens, problem

    def inspect_entry(self, variant: Variant) -> tuple[TokenSet | None, str | None, str]:
        """:meth:`inspect`, and the id of the run that stored the entry ("" if none was given):
        tokens signed in for during this run need no check against the issuer's keys."""
        path = self.entry_path(variant)
        problem, raw = _read_file(path)
        if raw is None:
            return None, problem, ""
        problem, tokens, run_id = _parse(raw, variant)
        return tokens, problem, run_id

    def unusable_warning(self, variant: Variant, problem: str) -> TokenCacheWarning:
        """The :class:`TokenCacheWarning` for an entry :meth:`inspect` found unusable: it names
        the path and the problem only, never the entry's content."""
        return TokenCacheWarning(
            f"pytest-okta-user: ignoring the token cache entry {self.entry_path(variant)}:"
            f" {problem}. It will be replaced after the next sign-in."
        )

    def drop(self, variant: Variant) -> None:
        """Remove the entry (hold its lock): its token was refused, it must not be served again."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.entry_path(variant))

    def store(self, variant: Variant, tokens: TokenSet, *, run_id: str = "") -> None:
        """Write the entry atomically, readable by its owner only; ``run_id``: the run that signed
        in for these tokens (see :meth:`inspect_entry`)."""
        entry: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "variant": variant.to_dict(),
            "tokens": tokens.to_dict(),
        }
        if run_id:
            entry["run"] = run_id
        self._write(self.entry_path(variant), entry)

    def keys_path(self, issuer: str) -> Path:
        digest = hashlib.sha256(issuer.encode()).hexdigest()[:32]
        return self.folder / f"{digest}{KEYS_SUFFIX}"

    def published_keys(
        self, issuer: str, run_id: str, fetch: Callable[[], Iterable[str]]
    ) -> frozenset[str]:
        """The key ids ``issuer`` publishes, fetched (``fetch``) at most once per run by all the
        processes sharing the cache: the first stores them with ``run_id`` beside the entries, the
        others read them. Without a ``run_id`` every call fetches. Errors of ``fetch`` pass
        through, and nothing is recorded then."""
        if not run_id:
            return frozenset(fetch())
        path = self.keys_path(issuer)
        with self._locked_path(path.with_suffix(LOCK_SUFFIX), f"the key ids of {issuer}"):
            _problem, raw = _read_file(path)
            known = None if raw is None else _keys_from(raw, issuer, run_id)
            if known is not None:
                return known
            kids = frozenset(fetch())
            with contextlib.suppress(OSError):
                # Only sharing is lost if it cannot be written: each process then fetches once.
                record = {"format": FORMAT_VERSION, "run": run_id, "issuer": issuer}
                self._write(path, {**record, "kids": sorted(kids)})
            return kids

    # -- a user's record: the Okta session and the last TOTP step (one sign-in per user) --------

    def user_path(self, user: UserKey) -> Path:
        return self.folder / f"{user.key}{USER_SUFFIX}"

    def user_locked(self, user: UserKey) -> contextlib.AbstractContextManager[None]:
        """Hold the user's lock: its holder signs the user in (authn, a TOTP code) and stores the
        session while the user's other variants, in every process, wait and then use it. Taken
        inside a variant's lock, never the other way round."""
        path = self.folder / f"{user.key}{LOCK_SUFFIX}"
        return self._locked_path(path, f"the sign-in of {user.describe()}")

    def load_user(self, user: UserKey) -> tuple[OktaSession | None, int]:
        """The user's stored Okta session (None: none, or unusable) and the last TOTP time step a
        sign-in of the user used (-1: none recorded)."""
        _problem, raw = _read_file(self.user_path(user))
        if raw is None:
            return None, -1
        return _user_from(raw, user)

    def store_user(
        self, user: UserKey, session: OktaSession | None, totp_step: int, *, now: float
    ) -> None:
        """Write the user's record (hold the user's lock); ``session`` None drops the session and
        keeps the TOTP step."""
        record: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "user": user.to_dict(),
            "session": None if session is None else session.to_dict(),
            "totp_step": totp_step,
            "expires_at": now + USER_RECORD_LIFETIME,
        }
        self._write(self.user_path(user), record)

    def store_user_failure(self, user: UserKey, run_id: str, error: OktaUserError) -> None:
        """:meth:`store_failure` for a user: a refused sign-in (wrong password, locked account,
        wrong TOTP code) replayed to every variant of the user for the rest of the run."""
        self._store_failure_at(self.folder / f"{user.key}{FAILED_SUFFIX}", run_id, error)

    def load_user_failure(self, user: UserKey, run_id: str) -> OktaUserError | None:
        return self._load_failure_at(self.folder / f"{user.key}{FAILED_SUFFIX}", run_id)

    @contextlib.contextmanager
    def _locked_path(self, lock_file: Path, what: str) -> Iterator[None]:
        try:
            self._ensure_folder()
        except OSError as exc:
            raise self._unusable(self.folder, "its folder", exc) from None
        # Imported here: a run served from the cache reads entries without their locks
        # (provider._served_unlocked), and filelock's import costs more than the whole read.
        from filelock import FileLock, Timeout

        lock = FileLock(str(lock_file), timeout=self.lock_timeout, mode=0o600)
        try:
            lock.acquire(poll_interval=LOCK_POLL_INTERVAL)
        except Timeout:
            raise CacheLockTimeout(
                f"Gave up after {self.lock_timeout:g}s waiting for the token cache lock"
                f" {lock_file} ({what}): another process holds it, most likely a pytest run"
                " that is still signing in to Okta.",
                "let that run finish or stop it (a process that dies releases the lock by"
                " itself). Keep the cache on a local disk, since network filesystems may not"
                f" honour or release locks: {_CACHE_NAMES}; or run without it:"
                f" {options.NO_CACHE.flag}.",
            ) from None
        except OSError as exc:
            raise self._unusable(lock_file, "the lock file", exc) from None
        try:
            yield
        finally:
            lock.release()

    def _write(self, target: Path, data: dict[str, Any]) -> None:
        self._ensure_folder()
        payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        # mkstemp creates the file 0600 whatever the umask: the tokens are never readable by
        # others, not even for the moment before the rename.
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=ENTRY_SUFFIX, dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                # Else a crash soon after the rename can leave an empty entry (only a warning then).
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    def clear(self) -> int:
        """Remove every entry; returns how many. A lock file goes too when no process holds it."""
        removed = 0
        if self._folder_problem() is not None:
            return 0  # not a folder of ours: nothing in it is this cache's to remove
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        for name in names:
            if _ENTRY_NAME.fullmatch(name):
                try:
                    os.unlink(self.folder / name)
                except FileNotFoundError:
                    continue
                removed += name.endswith(ENTRY_SUFFIX)
            elif name.startswith(_TEMP_PREFIX) and name.endswith(ENTRY_SUFFIX):
                # Left by a process killed between writing and renaming.
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)
        for name in names:
            if _LOCK_NAME.fullmatch(name):
                self._remove_idle_lock(self.folder / name)
        return removed

    def prune(self, now: float, *, older_than: float = 86400.0) -> int:
        """Remove the entries whose tokens expired more than ``older_than`` seconds before ``now``
        (and their lock files, when no process holds them); returns how many entries went.

        It runs at start-up, before any lock is taken: each entry is read as :func:`_read_file`
        reads (no link followed, no FIFO opened for long, at most :data:`MAX_ENTRY_BYTES`), and an
        entry it cannot read is left for :meth:`load` to report and :meth:`store` to replace."""
        removed = 0
        if self._folder_problem() is not None:
            return 0
        try:
            names = os.listdir(self.folder)
        except OSError:
            return 0
        for name in names:
            if not (_ENTRY_NAME.fullmatch(name) and name.endswith((ENTRY_SUFFIX, USER_SUFFIX))):
                continue
            path = self.folder / name
            expires_at = _expires_at(path)
            if expires_at is None or expires_at > now - older_than:
                continue
            lock_file = path.with_suffix(LOCK_SUFFIX)
            with _if_idle(lock_file) as idle:
                if not idle:
                    continue  # in use (or unusable): leave it to the process that holds it
                # Read again under the lock: its holder may just have renewed it.
                expires_at = _expires_at(path)
                if expires_at is not None and expires_at <= now - older_than:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                        removed += 1
                    with contextlib.suppress(OSError):
                        os.unlink(path.with_suffix(FAILED_SUFFIX))
            self._remove_idle_lock(lock_file)
        return removed

    @staticmethod
    def _remove_idle_lock(lock_file: Path) -> None:
        with _if_idle(lock_file) as idle:
            # Unlinked while held: a process that opened the file before and waits for it gets a
            # lock on an unlinked inode, which filelock notices (st_nlink 0) and retries on a new
            # file. Only a lock without an entry goes (clear() and prune() removed the entry); a
            # lock held by a process stays.
            if idle and not lock_file.with_suffix(ENTRY_SUFFIX).exists():
                with contextlib.suppress(OSError):
                    os.unlink(lock_file)

    def _ensure_folder(self) -> None:
        # Created 0700 when missing; an existing folder's mode is never changed: it may be the
        # user's own (a project root, /tmp). It must be this user's, though.
        if self._folder_problem() == "missing":
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        problem = self._folder_problem()
        if problem == "link":
            raise CacheUnusable(
                f"The token cache folder {self.folder} is a symbolic link. The cache keeps bearer"
                " tokens only in a real folder (it creates one itself), so that a link planted"
                " there cannot send them, or take them from, somewhere else.",
                f"remove the link {self.folder} (the cache then creates the folder), or point"
                f" {_CACHE_NAMES} at the folder the link leads to; or run without the disk cache:"
                f" {options.NO_CACHE.flag}.",
            )
        if problem == "missing":
            raise FileNotFoundError(errno.ENOENT, "the folder vanished", str(self.folder))
        if problem == "not a folder":
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.folder))
        if problem == "foreign":
            raise PermissionError(
                errno.EPERM, "the folder belongs to another user", str(self.folder)
            )

    def _folder_problem(self) -> str | None:
        """None for a real folder of this user's; else "missing", "link", "not a folder" or
        "foreign". ``lstat``: the link itself is judged, never the folder it points to."""
        try:
            info = os.lstat(self.folder)
        except FileNotFoundError:
            return "missing"
        except OSError:
            return "not a folder"
        if stat.S_ISLNK(info.st_mode):
            return "link"
        if not stat.S_ISDIR(info.st_mode):
            return "not a folder"
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            return "foreign"
        return None

    def _unusable(self, path: Path, what: str, exc: OSError) -> CacheUnusable:
        return CacheUnusable(
            f"The token cache cannot use {what} {path}"
            f" ({type(exc).__name__}: {exc.strerror or 'error'}).",
            f"point {_CACHE_NAMES} at a local folder of your own that you can write to, remove"
            f" whatever is in the way of {path}, or run without the disk cache: --okta-no-cache.",
        )

    # -- flow=auto: the path that worked, per issuer and client (oie.auto) ----------------------

    def auto_path(self, issuer: str, client_id: str) -> Path:
        canonical = json.dumps(["auto", FORMAT_VERSION, issuer, client_id], separators=(",", ":"))
        return self.folder / f"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}{AUTO_SUFFIX}"

    def load_auto_choice(self, issuer: str, client_id: str) -> str | None:
        """The path ``flow=auto`` last found working for ``issuer`` and ``client_id`` (read as any
        file of the folder: :func:`_read_file`), or None."""
        _problem, raw = _read_file(self.auto_path(issuer, client_id))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            return None
        if (data.get("issuer"), data.get("client_id")) != (issuer, client_id):
            return None
        path = data.get("path")
        return path if isinstance(path, str) else None

    def store_auto_choice(self, issuer: str, client_id: str, path: str, reason: str) -> None:
        """Remember ``path`` for ``issuer`` and ``client_id`` (atomic, 0600 like every record)."""
        record = {"format": FORMAT_VERSION, "issuer": issuer, "client_id": client_id}
        self._write(self.auto_path(issuer, client_id), {**record, "path": path, "why": reason})


def _parse(raw: bytes, variant: Variant) -> tuple[str | None, TokenSet | None, str]:
    """(problem, tokens, run): exactly one of the first two is None; run: the id of the run that
    stored the entry, or "". Problems never quote the file's content."""
    problem, tokens, data = _parse_entry(raw, variant)
    run = data.get("run") if tokens is not None else None
    return problem, tokens, run if isinstance(run, str) else ""


def _parse_entry(
    raw: bytes, variant: Variant
) -> tuple[str | None, TokenSet | None, dict[str, Any]]:
    if not raw.strip():
        return "it is empty (a write was interrupted)", None, {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "it is not valid JSON (truncated or corrupt)", None, {}
    if not isinstance(data, dict) or "format" not in data:
        return "it is not a pytest-okta-user cache entry", None, {}
    # type() rather than ==: JSON true equals 1 in Python.
    if type(data["format"]) is not int or data["format"] != FORMAT_VERSION:
        found = data["format"] if type(data["format"]) is int else "unknown"
        return (
            f"it has format {found}; this pytest-okta-user reads format {FORMAT_VERSION}",
            None,
            {},
        )
    try:
        stored = Variant.from_dict(data["variant"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return "its variant is missing or malformed", None, {}
    if stored != variant:
        # Same hash, different request: never serve one user's, client's or issuer's tokens.
        return "it was written for a different variant", None, {}
    fields = data.get("tokens")
    if not isinstance(fields, dict) or not _token_fields_ok(fields):
        return "its tokens are missing or malformed", None, {}
    try:
        return None, TokenSet.from_dict(fields), data
    except (KeyError, TypeError, ValueError, AttributeError):
        return "its tokens are missing or malformed", None, {}


def _keys_from(raw: bytes, issuer: str, run_id: str) -> frozenset[str] | None:
    """The key ids a record of :meth:`TokenCache.published_keys` holds, if this run wrote it for
    ``issuer``; else None (fetch again)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("run") != run_id or data.get("issuer") != issuer:
        return None
    kids = data.get("kids")
    if not isinstance(kids, list) or not all(isinstance(k, str) for k in kids):
        return None
    return frozenset(kids)


def _user_from(raw: bytes, user: UserKey) -> tuple[OktaSession | None, int]:
    """What a record of :meth:`TokenCache.store_user` holds for ``user``; an unreadable record or
    another user's (a hash collision, a planted file) holds nothing."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, -1
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        return None, -1
    if data.get("user") != user.to_dict():
        return None, -1
    step = data.get("totp_step")
    step = step if type(step) is int else -1
    stored = data.get("session")
    if not isinstance(stored, dict):
        return None, step
    try:
        from .sessions import OktaSession  # a run served from the cache imports no session code

        session = OktaSession.from_dict(stored)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, step
    return (session if session.user == user and session.cookies else None), step


def _failure_from(raw: bytes, run_id: str) -> OktaUserError | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("run") != run_id or not run_id:
        return None
    what, fix = data.get("what"), data.get("fix")
    if not isinstance(what, str) or not isinstance(fix, str):
        return None
    cls = getattr(errors, str(data.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, OktaUserError)):
        cls = OktaUserError
    try:
        error = cls(what, fix)
    except (TypeError, ValueError):
        # A subclass that takes other arguments (MissingSettingsError takes a list of pairs).
        error = OktaUserError(what, fix)
    if (error.what, error.fix) != (what, fix):
        error = OktaUserError(what, fix)
    code, description, status = data.get("code"), data.get("description"), data.get("status")
    error.code = code if isinstance(code, str) else None
    error.description = description if isinstance(description, str) else None
    error.status = status if type(status) is int else None
    return error


def _read_file(path: Path) -> tuple[str | None, bytes | None]:
    """``(None, content)``; ``(problem, None)`` for a file not to read; ``(None, None)``: none.

    The folder may hold what someone else put there, and start-up reads it before any lock or
    timeout: a symbolic link is not followed (``lstat``, then ``O_NOFOLLOW`` for one swapped in
    since), only a regular file of this user's is read (checked again with ``fstat`` on the open
    file), the open is ``O_NONBLOCK`` (a FIFO would otherwise wait for a writer for ever), and no
    more than :data:`MAX_ENTRY_BYTES` is read.
    """
    try:
        problem = _file_problem(os.lstat(path))
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return _cannot_read(exc), None
    if problem is not None:
        return problem, None
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return _cannot_read(exc), None
    try:
        problem = _file_problem(os.fstat(fd))
        if problem is not None:
            return problem, None
        chunks: list[bytes] = []
        size = 0
        # Read to one byte past the cap: the file may have grown since fstat.
        while size <= MAX_ENTRY_BYTES:
            chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_ENTRY_BYTES:
            return _TOO_LARGE, None
        return None, b"".join(chunks)
    except OSError as exc:
        return _cannot_read(exc), None
    finally:
        os.close(fd)


_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_TOO_LARGE = (
    f"it is larger than {MAX_ENTRY_BYTES // 1024} KiB, far more than any token entry (not read)"
)


def _file_problem(info: os.stat_result) -> str | None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "it is a symbolic link, which the cache never writes (not followed)"
    if not stat.S_ISREG(mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device or socket"
        )
        return f"it cannot be read: it is {kind}, not a regular file"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return "it belongs to another user (not read)"
    if info.st_size > MAX_ENTRY_BYTES:
        return _TOO_LARGE
    return None


def _cannot_read(exc: OSError) -> str:
    return f"it cannot be read ({type(exc).__name__}: {exc.strerror or 'error'})"


def _expires_at(path: Path) -> float | None:
    _problem, raw = _read_file(path)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        # A token entry expires with its tokens; a user's record has an expiry of its own.
        value = data["tokens"]["expires_at"] if "tokens" in data else data["expires_at"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _finite_seconds(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _token_fields_ok(fields: dict[str, Any]) -> bool:
    secrets = [fields.get(name) for name in ("access_token", "id_token", "refresh_token")]
    if not all(value is None or isinstance(value, str) for value in secrets):
        return False
    expires_at = fields.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
        return False
    if not math.isfinite(expires_at):
        return False
    # A token set without an access token or an ID token cannot answer any request.
    return bool(fields.get("access_token") or fields.get("id_token"))


@contextlib.contextmanager
def _if_idle(lock_file: Path) -> Iterator[bool]:
    """Holds ``lock_file`` for the block when no process holds it (yields True), else yields
    False at once: for housekeeping that must never wait on, or disturb, a sign-in."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_file), timeout=0, mode=0o600)
    try:
        lock.acquire()
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
