"""Running the emulator: `OktaEmulator`, a keep-alive werkzeug server (serving.py) in a daemon
thread; TLS."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .app import EmulatorApp
from .config import apply_config as _apply_config
from .config import load_config
from .faults import Faults, RequestRecord
from .hosts import HostPolicy
from .keys import Clock, KeyStore
from .model import Org
from .records import DEMO
from .serving import KeepAliveHandler, PooledWSGIServer

# Seconds a connection may stay silent (request line, headers, body; idle keep-alive) before it is
# closed: a stalled client holds only its own thread, and not for ever.
READ_TIMEOUT = 20.0


class _QuietHandler(KeepAliveHandler):
    """No access log on stderr: test output stays readable (the request log is `okta.requests`).

    `timeout` (socketserver.StreamRequestHandler) is the read timeout, set per emulator.
    """

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


class OktaEmulator:
    """A local Okta org over real HTTP(S): `with OktaEmulator() as okta: ...`.

    config: a TOML/JSON path or a dict (see `config.py`); the demo org is seeded unless the config
        says `demo = false`.
    host/port: where to listen (port 0: an ephemeral port, read back from `okta.url`).
    tls: serve HTTPS with a freshly generated CA and server certificate (`okta.ca_file`).
    public_url: the org URL the emulator announces (issuer, links) instead of following the
        request's Host header, e.g. behind a proxy.
    key_file: keep signing keys (and `instance_id`) in this file, so that emulators and runs
        sharing it issue tokens that verify against each other's JWKS.
    rate_limits: override the config's `rate_limits` (Okta's 4 requests/s per user on
        /api/v1/authn and /token; on by default as in Okta).
    allowed_hosts: Host names (besides loopback ones, `host` and `public_url`'s) whose requests
        are answered under that name, added to the config's `allowed_hosts`; others get a 400
        (`hosts.py`: DNS rebinding). `.example.test` allows a domain, `*` any host.
    read_timeout: seconds a connection may stay silent mid-request (or idle) before it is closed.
    engine: `classic` or `oie` (Identity Engine: pipeline `idx`, app authentication policies,
        Direct Authentication and the Interaction Code flow), overriding the config's `engine`.
    """

    def __init__(
        self,
        config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        public_url: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        *,
        rate_limits: bool | None = None,
        allowed_hosts: Iterable[str] = (),
        read_timeout: float = READ_TIMEOUT,
        engine: str | None = None,
    ) -> None:
        if engine not in (None, "classic", "oie"):
            raise ValueError(f"engine must be 'classic' or 'oie', not {engine!r}")
        self._config = load_config(config)
        settings = self._config.get("settings", {})
        self.host = host
        self.port = port
        self.tls = tls
        self.public_url = (public_url or settings.get("public_url") or "").rstrip("/") or None
        # One name given as a str is one name, not a list of letters.
        extra = [allowed_hosts] if isinstance(allowed_hosts, str) else list(allowed_hosts)
        self.allowed_hosts = [*settings.get("allowed_hosts", []), *extra]
        if not read_timeout > 0:
            raise ValueError(
                f"read_timeout must be a positive number of seconds, not {read_timeout}"
            )
        self.read_timeout = float(read_timeout)
        self.clock = Clock()
        self._keys = KeyStore(key_file)
        self.org = Org(self.clock, self._keys)
        self._rate_limits = rate_limits
        self._engine = engine
        _apply_config(self.org, self._config, rate_limits=rate_limits, engine=engine)
        self.app = EmulatorApp(
            self.org, public_url=self.public_url, secure=tls, hosts=HostPolicy(self.served_hosts())
        )
        self.faults: Faults = self.app.faults
        self.ca_file: str | None = None
        self._server: PooledWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._tls_dir: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> OktaEmulator:
        """Bind and serve in a daemon thread; returns once the socket is listening."""
        if self._server is not None:
            return self
        context = None
        if self.tls:
            self._tls_dir = tempfile.mkdtemp(prefix="okta-emulator-tls-")
            context, self.ca_file = _tls_context(Path(self._tls_dir), self.host)
        handler = type("_Handler", (_QuietHandler,), {"timeout": self.read_timeout})
        self._server = PooledWSGIServer(self.host, self.port, self.app, handler)
        if context is not None:
            # Not make_server(ssl_context=...): werkzeug's socket would handshake inside accept(),
            # on the one thread that serves every connection, so a client that connects and says
            # nothing would stall them all. Here the handshake is the handler thread's first read,
            # under its read timeout.
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
            self._server.ssl_context = context
        self.port = self._server.server_port
        # Made while the caller gets ready (collection, fixtures), not during its first sign-in.
        self._keys.prepare(self.org.first_sign_in_keys())
        self._thread = threading.Thread(
            # A short poll keeps stop() quick (shutdown waits for the next poll).
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"okta-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._keys.stop_preparing()
        server, self._server = self._server, None
        if server is not None:
            stopper = threading.Thread(target=server.shutdown, daemon=True)
            stopper.start()
            # A connection wakes the serving loop now instead of at its next poll.
            host = "::1" if ":" in self.host else "127.0.0.1"
            if not _unspecified(self.host):
                host = self.host
            with contextlib.suppress(OSError):
                socket.create_connection((host, self.port), timeout=1).close()
            stopper.join()
            server.server_close()
            # Kept-alive connections would otherwise go on being answered by a stopped emulator.
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None
            self.ca_file = None

    def __enter__(self) -> OktaEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The org URL (no trailing slash)."""
        if self.public_url:
            return self.public_url
        host = self.host
        if _unspecified(host):
            host = "::1" if ":" in host else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def network_urls(self) -> list[str]:
        """URLs other machines may use when listening beyond loopback (the machine's names)."""
        if _is_loopback(self.host):
            return []
        scheme = "https" if self.tls else "http"
        names = _machine_names() if _unspecified(self.host) else [self.host]
        return [f"{scheme}://{f'[{n}]' if ':' in n else n}:{self.port}" for n in names]

    def served_hosts(self) -> list[str]:
        """The Host names answered besides loopback ones: configured, listened on, announced."""
        names = [*self.allowed_hosts]
        if self.public_url:
            names.append(urlsplit(self.public_url).hostname or "")
        if _unspecified(self.host):
            names.extend(_machine_names())
        else:
            names.append(self.host)
        return names

    @property
    def issuer(self) -> str:
        """The default custom authorization server's issuer."""
        return f"{self.url}/oauth2/{DEMO.auth_server_id}"

    def env(self) -> dict[str, str]:
        """The settings a client needs for the demo org (the plugin's names): the web app and the
        demo user, then the named user `admin` and the named apps `spa` and `service`."""
        values = {
            "OKTA_DOMAIN": self.url,
            "OKTA_CLIENT_ID": DEMO.web_client_id,
            "OKTA_CLIENT_SECRET": DEMO.web_client_secret,
            "OKTA_REDIRECT_URI": DEMO.web_redirect_uri,
            "OKTA_USERNAME": DEMO.user_login,
            "OKTA_PASSWORD": DEMO.user_password,
            "OKTA_ADMIN_USERNAME": DEMO.admin_login,
            "OKTA_ADMIN_PASSWORD": DEMO.admin_password,
            "OKTA_ADMIN_TOTP_SECRET": DEMO.admin_totp_secret,
            "OKTA_SPA_CLIENT_ID": DEMO.spa_client_id,
            "OKTA_SPA_REDIRECT_URI": DEMO.spa_redirect_uri,
            "OKTA_SERVICE_CLIENT_ID": DEMO.service_client_id,
            "OKTA_SERVICE_CLIENT_SECRET": DEMO.service_client_secret,
            # Tells this emulator's tokens apart from a restarted one's on the same URL (its keys
            # differ), so a client's token cache never serves them to the next emulator.
            "OKTA_EMULATOR_INSTANCE": self.instance_id,
        }
        if self.org.pipeline == "idx":
            # Identity Engine mode enrols the demo user in TOTP: its apps ask for a second factor.
            values["OKTA_TOTP_SECRET"] = DEMO.user_totp_secret
        if self.ca_file:
            values["REQUESTS_CA_BUNDLE"] = self.ca_file
            values["SSL_CERT_FILE"] = self.ca_file
        return values

    # -- test controls ---------------------------------------------------------------------------

    @property
    def instance_id(self) -> str:
        """Differs between emulators unless they share a key_file."""
        return self._keys.instance_id

    @property
    def requests(self) -> list[RequestRecord]:
        """Answered requests in order: method, path, endpoint, status (never queries or bodies);
        the last 5000 (`count` stays exact beyond them)."""
        return self.app.log.records()

    def count(self, endpoint: str) -> int:
        """How many requests the endpoint (e.g. "authn", "token") answered since start/reset."""
        return self.app.count(endpoint)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of emulator bugs (each was answered as a 400, never a 500)."""
        return list(self.app.internal_errors)

    def reset(self) -> None:
        """State back to the config/demo org, request log and faults cleared, clock to real time."""
        self.clock.reset()
        _apply_config(self.org, self._config, rate_limits=self._rate_limits, engine=self._engine)
        self.app.clear()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _machine_names() -> list[str]:
    """This machine's name and its non-loopback addresses: listening on every interface, those
    are the hosts the user exposed (names from the local resolver, once at start)."""
    name = socket.gethostname()
    names = [name]
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0])
        if not _is_loopback(address) and address not in names:
            names.append(address)
    return names


def _unspecified(host: str) -> bool:
    """Listening on every interface (`0.0.0.0`, `::` or empty)."""
    if not host:
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _tls_context(folder: Path, host: str) -> tuple[ssl.SSLContext, str]:
    """A throwaway CA and a server certificate for localhost, 127.0.0.1, ::1 (and `host`)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pytest-okta-user emulator CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    if not _unspecified(host) and host not in ("localhost", "127.0.0.1", "::1"):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    return context, str(ca_file)
