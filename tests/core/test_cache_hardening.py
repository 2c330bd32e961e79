"""TokenCache reads its folder as someone else may have filled it: no link followed, regular files
of this user's only, a size cap, no blocking open; the folder itself judged by ``lstat``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from pytest_okta_user import options
from pytest_okta_user.cache import MAX_ENTRY_BYTES, TokenCache
from pytest_okta_user.errors import CacheUnusable, TokenCacheWarning
from pytest_okta_user.tokens import FORMAT_VERSION, TokenSet, Variant

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, symlinks and owners")
pytestmark = posix_only

VARIANT = Variant(
    issuer="https://example.okta.com/oauth2/default",
    client_id="0oa-client-id",
    user="alice@example.com",
    flow="pkce",
    scopes=("openid",),
    redirect_uri="http://localhost:8080/callback",
)
ACCESS = "eyJ.hardening-secret-access-token.sig"
EXPIRES_AT = 2_000_000_000.0


def tokens(access: str = ACCESS, **fields: object) -> TokenSet:
    values: dict[str, object] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_at": EXPIRES_AT,
        "scopes": ("openid",),
        "obtained_at": EXPIRES_AT - 3600,
        **fields,
    }
    return TokenSet(**values)  # type: ignore[arg-type]


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    cache = TokenCache(tmp_path / "entries", lock_timeout=5)
    cache.folder.mkdir(mode=0o700)
    return cache


def refused(cache: TokenCache, problem: str) -> None:
    """load() gives None with a warning naming the entry and ``problem``; store() then puts a
    regular file of this user's in its place, which load() serves."""
    with pytest.warns(TokenCacheWarning, match=problem) as caught:
        assert cache.load(VARIANT) is None
    assert str(cache.entry_path(VARIANT)) in str(caught[0].message)
    assert ACCESS not in str(caught[0].message)
    cache.store(VARIANT, tokens("replaced"))
    assert not cache.entry_path(VARIANT).is_symlink()
    assert cache.load(VARIANT) == tokens("replaced")


def test_a_fifo_entry_is_refused_without_waiting_for_a_writer(cache: TokenCache) -> None:
    os.mkfifo(cache.entry_path(VARIANT))
    os.mkfifo(cache.failure_path(VARIANT))
    # Opened for reading, a FIFO without a writer blocks for ever; none of these opens it so.
    assert cache.prune(EXPIRES_AT + 10 * 86400) == 0
    assert cache.load_failure(VARIANT, "run-1") is None
    assert not cache.failure_path(VARIANT).exists()  # not a record of ours: removed
    refused(cache, "it is a FIFO, not a regular file")


def test_a_fifo_swapped_in_after_the_lstat_is_opened_non_blocking(tmp_path: Path) -> None:
    # The race the O_NONBLOCK open is for: lstat saw a regular file, a FIFO took its place before
    # the open. A blocking open would never return, so this runs in a process with a timeout.
    script = textwrap.dedent(
        f"""
        import os, stat
        from pathlib import Path
        from pytest_okta_user import cache

        fifo = Path({str(tmp_path / "fifo.json")!r})
        os.mkfifo(fifo)
        real_lstat = os.lstat

        def as_if_regular(path, *args, **kwargs):
            info = real_lstat(path, *args, **kwargs)
            if Path(path) != fifo:
                return info
            fields = list(info)
            fields[0] = stat.S_IFREG | 0o600
            return os.stat_result(fields)

        os.lstat = as_if_regular
        print(cache._read_file(fifo))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,  # the installed package, not a checkout that happens to be the cwd
    )
    assert done.stdout.strip() == "('it cannot be read: it is a FIFO, not a regular file', None)"


def test_a_symlinked_entry_is_not_followed(cache: TokenCache, tmp_path: Path) -> None:
    # A valid entry for this very variant, but elsewhere: served through a link, it would let
    # whoever controls the target choose the tokens (or read where the cache writes).
    elsewhere = TokenCache(tmp_path / "elsewhere")
    elsewhere.store(VARIANT, tokens())
    target = elsewhere.entry_path(VARIANT)
    before = target.read_bytes()
    cache.entry_path(VARIANT).symlink_to(target)
    refused(cache, "symbolic link")
    assert target.read_bytes() == before  # the store replaced the link, not what it pointed to


def test_a_link_to_dev_zero_is_not_read(cache: TokenCache) -> None:
    cache.entry_path(VARIANT).symlink_to("/dev/zero")
    assert cache.prune(EXPIRES_AT + 10 * 86400) == 0
    refused(cache, "symbolic link")


def test_a_huge_entry_is_refused_without_reading_it(cache: TokenCache) -> None:
    path = cache.entry_path(VARIANT)
    with path.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: 300 MB long, no disk used
    tracemalloc.start()
    try:
        assert cache.prune(EXPIRES_AT + 10 * 86400) == 0
        with pytest.warns(TokenCacheWarning, match="larger than 256 KiB"):
            assert cache.load(VARIANT) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_ENTRY_BYTES * 4
    refused(cache, "larger than 256 KiB")


def test_a_file_growing_past_the_cap_after_the_fstat_is_cut_off(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(VARIANT, tokens())
    real_fstat = os.fstat

    def understated(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        fields = list(info)
        fields[6] = 10  # st_size: "small" when checked, then it grows
        return os.stat_result(fields)

    with cache.entry_path(VARIANT).open("ab") as handle:
        handle.write(b" " * (MAX_ENTRY_BYTES + 10))
    monkeypatch.setattr(os, "fstat", understated)
    with pytest.warns(TokenCacheWarning, match="larger than 256 KiB"):
        assert cache.load(VARIANT) is None


def test_a_large_but_real_entry_is_still_served(cache: TokenCache) -> None:
    # A big profile and groups claim (tens of KB) is far below the cap: nothing valid is lost.
    groups = [f"group-{n:05d}-with-a-long-descriptive-name" for n in range(2000)]
    big = tokens(access_claims={"groups": groups}, user={"profile": {"groups": groups}})
    cache.store(VARIANT, big)
    assert 100_000 < cache.entry_path(VARIANT).stat().st_size < MAX_ENTRY_BYTES
    assert cache.load(VARIANT) == big


def test_an_entry_of_another_user_is_refused(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(VARIANT, tokens())
    me = os.geteuid()
    # As if the file (the link's own owner: nothing is followed) belonged to someone else.
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)
    with pytest.warns(TokenCacheWarning, match="belongs to another user"):
        assert cache.load(VARIANT) is None


def test_a_symlinked_folder_is_refused_with_the_setting_and_the_fix(tmp_path: Path) -> None:
    # The link points at a folder of this user's holding a valid entry: stat() would have found
    # it fine (owner, folder); lstat() sees the link.
    real = TokenCache(tmp_path / "real")
    real.store(VARIANT, tokens())
    link = tmp_path / "linked"
    link.symlink_to(real.folder, target_is_directory=True)
    cache = TokenCache(link, lock_timeout=5)
    with pytest.raises(CacheUnusable) as caught, cache.locked(VARIANT):
        pass
    message = str(caught.value)
    assert f"{link} is a symbolic link" in message
    names = options.CACHE_DIR
    for name in (names.flag, names.env[0], names.ini, options.NO_CACHE.flag, "remove the link"):
        assert name is not None
        assert name in message
    # Start-up housekeeping leaves what the link points to alone.
    assert cache.prune(EXPIRES_AT + 10 * 86400) == 0
    assert cache.clear() == 0
    assert real.load(VARIANT) == tokens()


def test_a_dangling_folder_link_is_refused_too(tmp_path: Path) -> None:
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere", target_is_directory=True)
    with pytest.raises(CacheUnusable, match="is a symbolic link"), TokenCache(link).locked(VARIANT):
        pass
    assert not (tmp_path / "nowhere").exists()


def test_a_parent_folder_may_be_a_link(tmp_path: Path) -> None:
    # Only the entries' own folder is judged: the user's cache dir under a linked path (macOS's
    # /tmp -> /private/tmp, a home folder on another disk) works as before.
    (tmp_path / "disk").mkdir()
    (tmp_path / "home").symlink_to(tmp_path / "disk", target_is_directory=True)
    cache = TokenCache.inside(tmp_path / "home")
    with cache.locked(VARIANT):
        cache.store(VARIANT, tokens())
    assert cache.load(VARIANT) == tokens()


def test_prune_still_removes_long_expired_regular_entries(cache: TokenCache) -> None:
    cache.store(VARIANT, tokens())
    entry = json.loads(cache.entry_path(VARIANT).read_text())
    assert entry["format"] == FORMAT_VERSION
    assert cache.prune(EXPIRES_AT + 86400 + 1) == 1
    assert not cache.entry_path(VARIANT).exists()
