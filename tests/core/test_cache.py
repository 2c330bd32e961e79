"""TokenCache: entries per variant, hashed names, private modes, atomic writes, repair, locks."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from pytest_okta_user import options
from pytest_okta_user.cache import SUBFOLDER, TokenCache
from pytest_okta_user.errors import (
    CacheLockTimeout,
    CacheUnusable,
    OktaUserError,
    TokenCacheWarning,
)
from pytest_okta_user.tokens import FORMAT_VERSION, TokenSet, Variant

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

VARIANT = Variant(
    issuer="https://example.okta.com/oauth2/default",
    client_id="0oa-client-id",
    user="alice.secretname@example.com",
    flow="pkce",
    scopes=("openid", "profile"),
    redirect_uri="http://localhost:8080/callback",
    instance="emu-1",
)
ACCESS = "eyJ.secret-access-token-value.sig"
REFRESH = "secret-refresh-token-value"


def tokens(access: str = ACCESS, expires_at: float = 2_000_000_000.0) -> TokenSet:
    return TokenSet(
        access_token=access,
        token_type="Bearer",
        expires_at=expires_at,
        scopes=("openid", "profile"),
        id_token="eyJ.secret-id-token.sig",
        refresh_token=REFRESH,
        access_claims={"sub": "00u1"},
        id_claims={"email": "alice.secretname@example.com"},
        obtained_at=1_999_996_400.0,
        user={"id": "00u1", "profile": {"login": "alice.secretname@example.com"}},
    )


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    return TokenCache(tmp_path / "okta_user", lock_timeout=5)


def entry_text(for_variant: Variant = VARIANT, **override: object) -> str:
    data: dict[str, object] = {
        "format": FORMAT_VERSION,
        "variant": for_variant.to_dict(),
        "tokens": tokens().to_dict(),
    }
    data.update(override)
    return json.dumps(data)


def test_round_trip(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    loaded = cache.load(VARIANT)
    assert loaded is not None
    assert loaded.to_dict() == tokens().to_dict()


def test_missing_entry_is_none_without_warning(
    cache: TokenCache, recwarn: pytest.WarningsRecorder
) -> None:
    assert cache.load(VARIANT) is None
    cache.folder.mkdir(parents=True)
    assert cache.load(VARIANT) is None
    assert len(recwarn) == 0


def test_entry_format_on_disk(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    data = json.loads(cache.entry_path(VARIANT).read_text())
    assert data == {
        "format": FORMAT_VERSION,
        "variant": VARIANT.to_dict(),
        "tokens": tokens().to_dict(),
    }


def test_file_names_are_the_hash_only(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    with cache.locked(VARIANT):
        pass
    names = sorted(os.listdir(cache.folder))
    assert names[0] == f"{VARIANT.key}.json"
    assert set(names) <= {f"{VARIANT.key}.json", f"{VARIANT.key}.lock"}
    for name in names:
        for revealing in ("alice", "secretname", "example", "okta", "client", "pkce", "secret"):
            assert revealing not in name


@posix_only
def test_folder_0700_and_files_0600_whatever_the_umask(cache: TokenCache) -> None:
    old = os.umask(0)
    try:
        cache.store(VARIANT, tokens())
        with cache.locked(VARIANT):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.entry_path(VARIANT).stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.lock_path(VARIANT).stat().st_mode) & 0o077 == 0


@posix_only
def test_the_users_folder_keeps_its_mode_and_the_entries_get_a_private_one(
    tmp_path: Path,
) -> None:
    # --okta-cache-dir . must not make the project root private (nor /tmp, as root).
    folder = tmp_path / "project"
    folder.mkdir()
    folder.chmod(0o755)
    cache = TokenCache.inside(folder)
    cache.store(VARIANT, tokens())
    with cache.locked(VARIANT):
        pass
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert cache.folder == folder / SUBFOLDER
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    assert sorted(os.listdir(folder)) == [SUBFOLDER]
    assert stat.S_IMODE(cache.entry_path(VARIANT).stat().st_mode) == 0o600


@posix_only
def test_an_existing_folder_is_never_chmodded(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o755)
    TokenCache(folder).store(VARIANT, tokens())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE(TokenCache(folder).entry_path(VARIANT).stat().st_mode) == 0o600


@posix_only
def test_a_lock_file_that_cannot_be_opened_is_a_short_error(cache: TokenCache) -> None:
    cache.folder.mkdir(parents=True)
    cache.lock_path(VARIANT).mkdir()  # a directory where the lock file should be
    with pytest.raises(CacheUnusable) as caught, cache.locked(VARIANT):
        pass
    message = str(caught.value)
    assert str(cache.lock_path(VARIANT)) in message
    folder = options.CACHE_DIR
    for name in (folder.flag, folder.env[0], folder.ini, options.NO_CACHE.flag):
        assert name is not None
        assert name in message


@posix_only
def test_a_cache_folder_that_cannot_be_made_is_a_short_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = TokenCache(blocker / "sub")
    with (
        pytest.raises(CacheUnusable, match=str(options.NO_CACHE.flag)) as caught,
        cache.locked(VARIANT),
    ):
        pass
    assert str(cache.folder) in str(caught.value)


@posix_only
def test_replacing_an_entry_keeps_it_private(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens("first"))
    cache.entry_path(VARIANT).chmod(0o644)
    cache.store(VARIANT, tokens("second"))
    assert stat.S_IMODE(cache.entry_path(VARIANT).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "https://example.okta.com"},
        {"client_id": "0oa-other"},
        {"user": "bob@example.com"},
        {"user": None},
        {"flow": "code"},
        {"scopes": ("openid",)},
        {"redirect_uri": "http://localhost:9999/callback"},
        {"instance": "emu-2"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_each_variant_field_keeps_entries_apart(
    cache: TokenCache, change: dict[str, object], recwarn: pytest.WarningsRecorder
) -> None:
    other = dataclasses.replace(VARIANT, **change)  # type: ignore[arg-type]
    assert other != VARIANT
    cache.store(VARIANT, tokens())
    assert cache.load(other) is None
    assert len(recwarn) == 0
    cache.store(other, tokens("other"))
    assert cache.load(VARIANT).access_token == ACCESS  # type: ignore[union-attr]
    assert cache.load(other).access_token == "other"  # type: ignore[union-attr]


def test_scope_order_is_the_same_entry(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    same = dataclasses.replace(VARIANT, scopes=("profile", "openid", "openid"))
    assert cache.load(same) is not None


def test_an_entry_for_another_variant_under_this_name_is_never_served(cache: TokenCache) -> None:
    # A hash collision or a copied file: the name matches but the stored variant does not.
    other = dataclasses.replace(VARIANT, user="mallory@example.com")
    cache.folder.mkdir(parents=True)
    cache.entry_path(VARIANT).write_text(entry_text(other))
    with pytest.warns(TokenCacheWarning, match="different variant"):
        assert cache.load(VARIANT) is None
    cache.store(VARIANT, tokens("mine"))
    assert cache.load(VARIANT).access_token == "mine"  # type: ignore[union-attr]


def _truncated() -> str:
    text = entry_text()
    return text[: len(text) // 2]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ("\n  ", "empty"),
        ("\x00\x00garbage\xff", "not valid JSON"),
        (_truncated(), "not valid JSON"),
        ('["a", "list"]', "not a pytest-okta-user cache entry"),
        ('{"tokens": {}}', "not a pytest-okta-user cache entry"),
        (entry_text(format=FORMAT_VERSION + 1), f"format {FORMAT_VERSION + 1}"),
        (entry_text(format="v1"), "format unknown"),
        (entry_text(format=True), "format unknown"),
        (entry_text(format=float(FORMAT_VERSION)), "format unknown"),
        (entry_text(variant=None), "variant is missing"),
        (entry_text(variant={"issuer": "x"}), "variant is missing"),
        (entry_text(tokens=None), "tokens are missing"),
        (entry_text(tokens={"access_token": ACCESS}), "tokens are missing"),
        (entry_text(tokens={**tokens().to_dict(), "access_token": 42}), "tokens are missing"),
        (entry_text(tokens={**tokens().to_dict(), "expires_at": "soon"}), "tokens are missing"),
        (entry_text(tokens={**tokens().to_dict(), "expires_at": float("nan")}), "tokens are"),
        (
            entry_text(tokens={**tokens().to_dict(), "access_token": None, "id_token": None}),
            "tokens are missing",
        ),
        (entry_text(tokens={**tokens().to_dict(), "obtained_at": ACCESS}), "tokens are missing"),
    ],
    ids=[
        "empty",
        "blank",
        "garbage",
        "truncated",
        "list",
        "no-format",
        "newer-format",
        "odd-format",
        "bool-format",
        "float-format",
        "no-variant",
        "bad-variant",
        "no-tokens",
        "no-expiry",
        "non-string-token",
        "string-expiry",
        "nan-expiry",
        "no-token-at-all",
        "bad-obtained-at",
    ],
)
def test_a_bad_entry_warns_and_is_replaced(cache: TokenCache, content: str, problem: str) -> None:
    cache.folder.mkdir(parents=True)
    cache.entry_path(VARIANT).write_text(content, encoding="utf-8", errors="surrogateescape")
    with pytest.warns(TokenCacheWarning, match=problem) as caught:
        assert cache.load(VARIANT) is None
    message = str(caught[0].message)
    assert str(cache.entry_path(VARIANT)) in message
    assert "replaced" in message
    for secret in (ACCESS, REFRESH, "secret"):
        assert secret not in message
    cache.store(VARIANT, tokens("fresh"))
    assert cache.load(VARIANT).access_token == "fresh"  # type: ignore[union-attr]


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_entry_warns(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    cache.entry_path(VARIANT).chmod(0)
    with pytest.warns(TokenCacheWarning, match="cannot be read"):
        assert cache.load(VARIANT) is None


def test_a_directory_in_the_entry_place_warns(cache: TokenCache) -> None:
    cache.entry_path(VARIANT).mkdir(parents=True)
    with pytest.warns(TokenCacheWarning, match="cannot be read"):
        assert cache.load(VARIANT) is None


def test_an_interrupted_store_leaves_the_old_entry(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(VARIANT, tokens("old"))
    before = cache.entry_path(VARIANT).read_bytes()

    def interrupted(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="No space"):
        cache.store(VARIANT, tokens("new"))
    monkeypatch.undo()
    assert cache.entry_path(VARIANT).read_bytes() == before
    assert cache.load(VARIANT).access_token == "old"  # type: ignore[union-attr]
    # The temporary file is gone too: nothing half-written stays beside the entry.
    assert sorted(os.listdir(cache.folder)) == [f"{VARIANT.key}.json"]


def test_an_interrupted_first_store_leaves_no_entry(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.store(VARIANT, tokens())
    monkeypatch.undo()
    assert os.listdir(cache.folder) == []
    assert cache.load(VARIANT) is None


def test_the_entry_is_written_whole_before_it_appears(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the moment of the rename the complete entry already sits in the temporary file.
    seen: list[tuple[str, bool]] = []
    real_replace = os.replace

    def watching(src: str, dst: str) -> None:
        seen.append((Path(src).read_text(), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching)
    cache.store(VARIANT, tokens())
    [(written, existed)] = seen
    assert json.loads(written)["tokens"]["access_token"] == ACCESS
    assert not existed


def test_clear_removes_entries_only(cache: TokenCache) -> None:
    variants = [dataclasses.replace(VARIANT, user=f"u{i}@example.com") for i in range(3)]
    for variant in variants:
        cache.store(variant, tokens())
        with cache.locked(variant):
            pass
    (cache.folder / "notes.txt").write_text("not ours")
    (cache.folder / ".tmp-abandoned.json").write_text("{")
    assert cache.clear() == 3
    assert all(cache.load(variant) is None for variant in variants)
    left = set(os.listdir(cache.folder))
    # Lock files no process holds go too; a held one stays.
    assert left == {"notes.txt"}
    cache.store(VARIANT, tokens())
    with cache.locked(VARIANT):
        assert cache.clear() == 1
        assert set(os.listdir(cache.folder)) == {"notes.txt", f"{VARIANT.key}.lock"}
    assert cache.clear() == 0


def test_prune_removes_long_expired_entries_and_their_idle_locks(cache: TokenCache) -> None:
    old = dataclasses.replace(VARIANT, user="old@example.com")
    held = dataclasses.replace(VARIANT, user="held@example.com")
    for variant in (VARIANT, old, held):
        cache.store(variant, tokens())
        with cache.locked(variant):
            pass
    expires = tokens().expires_at
    # A day after expiry: gone, unless a process holds its lock (it may be renewing it).
    with cache.locked(held):
        assert cache.prune(expires + 86400.0 + 1) == 2
    assert set(os.listdir(cache.folder)) == {f"{held.key}.json", f"{held.key}.lock"}
    cache.store(VARIANT, tokens())
    assert cache.prune(expires + 86400.0 - 1) == 0
    assert cache.load(VARIANT) is not None


def test_clear_without_a_folder(tmp_path: Path) -> None:
    assert TokenCache(tmp_path / "never-made").clear() == 0


def test_locked_excludes_another_holder(cache: TokenCache) -> None:
    impatient = TokenCache(cache.folder, lock_timeout=0.05)
    other = dataclasses.replace(VARIANT, user="bob@example.com")
    outcome: list[str] = []

    def contend(variant: Variant) -> None:
        try:
            with impatient.locked(variant):
                outcome.append("acquired")
        except CacheLockTimeout:
            outcome.append("timeout")

    with cache.locked(VARIANT):
        for variant in (VARIANT, other):
            thread = threading.Thread(target=contend, args=(variant,))
            thread.start()
            thread.join()
    contend(VARIANT)
    # Held: the same entry waits; another entry's lock is independent; released: free again.
    assert outcome == ["timeout", "acquired", "acquired"]


def test_lock_timeout_names_the_lock_file_and_the_fix(cache: TokenCache) -> None:
    cache.folder.mkdir(parents=True)
    holder = FileLock(str(cache.lock_path(VARIANT)))
    errors: list[BaseException] = []

    def contend() -> None:
        try:
            with TokenCache(cache.folder, lock_timeout=0.01).locked(VARIANT):
                pass
        except BaseException as exc:
            errors.append(exc)

    with holder.acquire(timeout=1):
        thread = threading.Thread(target=contend)
        thread.start()
        thread.join()
    [error] = errors
    assert isinstance(error, CacheLockTimeout)
    assert isinstance(error, OktaUserError)
    assert str(cache.lock_path(VARIANT)) in str(error)
    assert "0.01s" in str(error)
    assert options.CACHE_DIR.describe() in error.fix
    assert "fix:" in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_the_lock_is_released_when_the_body_raises(cache: TokenCache) -> None:
    with pytest.raises(RuntimeError), cache.locked(VARIANT):
        raise RuntimeError("exchange blew up")
    with TokenCache(cache.folder, lock_timeout=0).locked(VARIANT):
        pass


@pytest.mark.parametrize("bad", [-1, float("inf"), float("nan"), True, "5"])
def test_lock_timeout_must_be_finite(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="lock_timeout"):
        TokenCache(tmp_path, lock_timeout=bad)  # type: ignore[arg-type]


def test_repr_and_folder(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path, lock_timeout=3)
    assert cache.folder == tmp_path
    assert repr(cache) == f"TokenCache({str(tmp_path)!r}, lock_timeout=3)"


def test_no_pytest_import() -> None:
    # The wall in CONTRIBUTING.md: cache and provider are usable from a script.
    import subprocess

    code = (
        "import sys; import pytest_okta_user.cache, pytest_okta_user.provider;"
        " sys.exit('pytest' in sys.modules or '_pytest' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
