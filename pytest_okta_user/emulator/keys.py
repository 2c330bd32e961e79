"""The emulator's clock and its RSA signing keys (made on first use, or shared through a file)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from .ids import b64url

# -- clock ----------------------------------------------------------------------------------------


class Clock:
    """The emulator's notion of now: real time plus an offset, or a frozen instant.

    `advance(s)` moves it forward (expire codes, tokens, rate-limit windows) without sleeping;
    `set(t)` jumps to an absolute epoch time (and keeps ticking unless frozen); `freeze()` stops it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None

    def now(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen = float(epoch_seconds)
            else:
                self._offset = float(epoch_seconds) - time.time()

    def freeze(self, at: float | None = None) -> None:
        current = self.now() if at is None else float(at)
        with self._lock:
            self._frozen = current

    def unfreeze(self) -> None:
        current = self.now()
        with self._lock:
            self._frozen = None
            self._offset = current - time.time()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def reset(self) -> None:
        """Back to real time, ticking."""
        with self._lock:
            self._offset = 0.0
            self._frozen = None


# -- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey

    @classmethod
    def from_private_key(cls, private_key: RSAPrivateKey) -> SigningKey:
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Okta's kids are 43-character base64url strings: a SHA-256 digest has exactly that length.
        return cls(kid=b64url(hashlib.sha256(der).digest()), private_key=private_key)

    def sign_jwt(self, claims: dict[str, Any]) -> str:
        """`claims` as a compact JWS signed RS256 under this key's `kid`: byte for byte what
        `jwt.encode(claims, private_key, "RS256", headers={"kid": kid, "typ": None})` makes
        (PKCS#1 v1.5 signatures are deterministic), without PyJWT's ~0.1 ms of Python a token
        around the signature, which holds the GIL while requests wait for it."""
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self._jws_header}.{payload}"
        signature = self.private_key.sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{b64url(signature)}"

    @functools.cached_property
    def _jws_header(self) -> str:
        return b64url(json.dumps({"alg": "RS256", "kid": self.kid}, separators=(",", ":")).encode())

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "kid": self.kid,
            "use": "sig",
            "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        }

    def pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


class KeyStore:
    """RSA signing keys by name, generated on first use (about 50 ms each) or read from a key file.

    With `key_file`, keys and the instance id persist in that JSON file, so emulators (and runs)
    sharing the file issue tokens that verify against each other's JWKS. Names: `org` (published
    on the org server), `org-access` (the org server's access-token key, never published, as in
    Okta), `as:<id>` per custom authorization server, and `next:<name>` for the published key
    that would sign after the next rotation (it signs nothing).
    """

    def __init__(self, key_file: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._by_kid: dict[str, SigningKey] = {}
        # Keys being made (by `prepare`'s thread or a request): others wanting one wait for it.
        self._making: dict[str, threading.Event] = {}
        self._stop_preparing = threading.Event()
        self._key_file = Path(key_file) if key_file is not None else None
        self.instance_id = secrets.token_hex(8)
        if self._key_file is not None:
            stored = self._update_file(None)
            self.instance_id = str(stored["instance_id"])

    def get(self, name: str) -> SigningKey:
        while True:
            with self._lock:
                key = self._keys.get(name)
                if key is not None:
                    return key
                making = self._making.get(name)
                if making is None:
                    making = self._making[name] = threading.Event()
                    break
            making.wait()
        return self._make(name, making)

    def _make(self, name: str, making: threading.Event) -> SigningKey:
        """Make `name`'s key outside the lock (about 50 ms): other keys stay readable meanwhile."""
        try:
            key = self._create(name)
            with self._lock:
                self._keys[name] = key
                self._by_kid[key.kid] = key
            return key
        finally:
            with self._lock:
                del self._making[name]
            making.set()

    def prepare(self, names: Iterable[str]) -> list[threading.Thread]:
        """Make these keys now, each on its own background thread (OpenSSL lets them run side by
        side), so that the first sign-in does not wait for them one after the other (two
        RSA-2048 keys were ~100 ms of it). `get` waits for a key being made rather than making it
        twice; keys not named here are made on first use, as before."""

        def make(name: str) -> None:
            if not self._stop_preparing.is_set():
                self.get(name)

        self._stop_preparing.clear()
        threads = [
            threading.Thread(
                target=make, args=(name,), name=f"okta-emulator-key:{name}", daemon=True
            )
            for name in names
        ]
        for thread in threads:
            thread.start()
        return threads

    def stop_preparing(self) -> None:
        """Make no more keys ahead (a stopped emulator's CPU is the next one's)."""
        self._stop_preparing.set()

    def rotate(self, name: str) -> SigningKey:
        """Okta's key rotation, on demand (https://developer.okta.com/docs/concepts/key-rotation/):
        the published next key (`next:<name>`) signs from now on; a new next key is made when
        the JWKS is next read. In this emulator only: a shared key file is not rewritten, and
        tokens the old key signed no longer verify here (Okta keeps honouring them a while)."""
        upcoming = self.get(f"next:{name}")
        with self._lock:
            self._keys[name] = upcoming
            self._keys.pop(f"next:{name}", None)
        return upcoming

    def by_kid(self, kid: str) -> SigningKey | None:
        with self._lock:
            return self._by_kid.get(kid)

    def _create(self, name: str) -> SigningKey:
        if self._key_file is None:
            return SigningKey.from_private_key(
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
            )
        stored = self._update_file(name)
        pem = str(stored["keys"][name]).encode("ascii")
        private_key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private_key, RSAPrivateKey):
            raise ValueError(f"key {name!r} in {self._key_file} is not an RSA key")
        return SigningKey.from_private_key(private_key)

    def _update_file(self, name: str | None) -> dict[str, Any]:
        """Read the key file, adding `name` (and the instance id) if missing; atomic and locked."""
        from filelock import FileLock

        assert self._key_file is not None
        self._key_file.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._key_file) + ".lock", timeout=60):
            stored: dict[str, Any] = {}
            if self._key_file.exists():
                try:
                    stored = json.loads(self._key_file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    stored = {}
            if not isinstance(stored, dict) or not isinstance(stored.get("keys"), dict):
                stored = {"keys": {}}
            changed = False
            if not isinstance(stored.get("instance_id"), str):
                stored["instance_id"] = secrets.token_hex(8)
                changed = True
            if name is not None and name not in stored["keys"]:
                fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                stored["keys"][name] = SigningKey.from_private_key(fresh).pem()
                changed = True
            if changed:
                fd, tmp = tempfile.mkstemp(dir=self._key_file.parent, prefix=".okta-keys-")
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(stored, out)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self._key_file)
            return stored
