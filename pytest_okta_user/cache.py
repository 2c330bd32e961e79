"""The on-disk token cache: one JSON entry per variant, shared by every process on the machine.

Every xdist worker (and every later run) goes through the same entry, so the first process that
finds it missing or stale signs in and the rest read what it wrote. Three rules keep that safe:

* each entry has its own ``filelock`` lock file beside it, always taken with a finite timeout;
* an entry is written to a temporary file in the same folder and moved into place with
  ``os.replace``, so a reader sees the old entry or the new one, never half of one;
* entries hold bearer tokens: the folder is 0700, the files 0600, and file names are the variant's
  hash (never a user name, issuer or secret).

The lock is an OS lock (``fcntl.flock`` on POSIX), which the kernel drops when its holder dies, so a
killed worker cannot wedge later runs. Network filesystems may not honour it: keep the folder local.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .errors import OktaUserError
from .tokens import FORMAT_VERSION, TokenSet, Variant

__all__ = ["CacheLockTimeout", "TokenCache", "TokenCacheWarning"]

ENTRY_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"
# Only names this module writes are ever removed by clear(), even if the folder is shared.
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}\.json")
_TEMP_PREFIX = ".tmp-"


class TokenCacheWarning(UserWarning):
    """A cache entry could not be used (corrupt, truncated, foreign format, another variant's).

    The entry is ignored and replaced by the next sign-in; the run goes on.
    """


class CacheLockTimeout(OktaUserError):
    """Waiting for another process's lock on a cache entry took longer than the lock timeout."""


class TokenCache:
    """A folder of token entries, one per :class:`Variant`, each with its own file lock."""

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

    @contextlib.contextmanager
    def locked(self, variant: Variant) -> Iterator[None]:
        """Hold the variant's lock: its holder reads, signs in and stores while others wait."""
        self._ensure_folder()
        lock_file = self.lock_path(variant)
        lock = FileLock(str(lock_file), timeout=self.lock_timeout, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            raise CacheLockTimeout(
                f"Gave up after {self.lock_timeout:g}s waiting for the token cache lock {lock_file}"
                f" ({variant.describe()}): another process holds it, most likely a pytest run"
                " that is still signing in to Okta.",
                "let that run finish or stop it (a process that dies releases the lock by"
                " itself). Keep the cache on a local disk, since network filesystems may not"
                " honour or release locks: --okta-cache-dir / OKTA_TOKEN_CACHE_DIR /"
                " okta_cache_dir; or run without it: --okta-no-cache.",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def load(self, variant: Variant) -> TokenSet | None:
        """The stored tokens for ``variant``, or None when there is no usable entry.

        An unusable entry (corrupt, truncated, another format version, another variant's) gives a
        :class:`TokenCacheWarning` and None, so the caller signs in again and ``store`` replaces it.
        Freshness is the caller's business: an expired entry is returned as it is.
        """
        path = self.entry_path(variant)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn(path, f"it cannot be read ({type(exc).__name__}: {exc.strerror or 'error'})")
            return None
        problem, tokens = _parse(raw, variant)
        if problem is not None:
            self._warn(path, problem)
            return None
        return tokens

    def store(self, variant: Variant, tokens: TokenSet) -> None:
        """Write the entry atomically, readable by its owner only."""
        self._ensure_folder()
        payload = json.dumps(
            {"format": FORMAT_VERSION, "variant": variant.to_dict(), "tokens": tokens.to_dict()},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        # mkstemp creates the file 0600 whatever the umask: the tokens are never readable by
        # others, not even for the moment before the rename.
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=ENTRY_SUFFIX, dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                # Else a crash soon after the rename can leave an empty entry (only a warning then).
                os.fsync(handle.fileno())
            os.replace(temp_name, self.entry_path(variant))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    def clear(self) -> int:
        """Remove every entry; returns how many. Lock files stay: another process may hold one."""
        removed = 0
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
                removed += 1
            elif name.startswith(_TEMP_PREFIX) and name.endswith(ENTRY_SUFFIX):
                # Left by a process killed between writing and renaming.
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)
        return removed

    def _ensure_folder(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir leaves an existing folder's mode alone (pytest's cache.mkdir makes it 0777 - umask).
        if os.name == "posix" and stat.S_IMODE(self.folder.stat().st_mode) & 0o077:
            os.chmod(self.folder, 0o700)

    def _warn(self, path: Path, problem: str) -> None:
        warnings.warn(
            TokenCacheWarning(
                f"pytest-okta-user: ignoring the token cache entry {path}: {problem}."
                " It will be replaced after the next sign-in."
            ),
            stacklevel=3,
        )


def _parse(raw: bytes, variant: Variant) -> tuple[str | None, TokenSet | None]:
    """(problem, tokens): exactly one of them is None. Problems never quote the file's content."""
    if not raw.strip():
        return "it is empty (a write was interrupted)", None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "it is not valid JSON (truncated or corrupt)", None
    if not isinstance(data, dict) or "format" not in data:
        return "it is not a pytest-okta-user cache entry", None
    # type() rather than ==: JSON true equals 1 in Python.
    if type(data["format"]) is not int or data["format"] != FORMAT_VERSION:
        found = data["format"] if type(data["format"]) is int else "unknown"
        return (
            f"it has format {found}; this pytest-okta-user reads format {FORMAT_VERSION}",
            None,
        )
    try:
        stored = Variant.from_dict(data["variant"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return "its variant is missing or malformed", None
    if stored != variant:
        # Same hash, different request: never serve one user's, client's or issuer's tokens.
        return "it was written for a different variant", None
    fields = data.get("tokens")
    if not isinstance(fields, dict) or not _token_fields_ok(fields):
        return "its tokens are missing or malformed", None
    try:
        return None, TokenSet.from_dict(fields)
    except (KeyError, TypeError, ValueError, AttributeError):
        return "its tokens are missing or malformed", None


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
