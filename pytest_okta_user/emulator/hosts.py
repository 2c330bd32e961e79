"""Which `Host` headers the emulator answers, and the org URL a request's Host gives.

The issuer follows the Host header so that proxies and port forwards work, but only for names
that are loopback by definition or that the user configured: any other name may be a DNS
rebinding attack (a web page on `evil.example` whose name now resolves to 127.0.0.1 reads the
emulator's answers, tokens included), or a way to mint tokens under an issuer nobody set up.

A name counts as loopback only when no DNS server can say so: a loopback IP literal, `localhost`
and `*.localhost` (RFC 6761 section 6.3: these always resolve to loopback), or a hosts-file entry
that maps it to a loopback address. A DNS answer is exactly what a rebinding attacker controls, so
the emulator never asks DNS.

Allow-list entries follow Django's `ALLOWED_HOSTS` convention
(https://docs.djangoproject.com/en/stable/ref/settings/#allowed-hosts): an exact name or IP,
`.example.test` for that name and every subdomain, `*` for any host (unsafe on a shared network).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

# A Host header: a name or IPv4 address, or a bracketed IPv6 address, and an optional port.
HOST_HEADER = re.compile(r"(?:[A-Za-z0-9\-.]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def hosts_file() -> Path:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return Path(root, "System32", "drivers", "etc", "hosts")
    return Path("/etc/hosts")


def host_name(host_header: str) -> str:
    """The name or address of a Host header without its port or IPv6 brackets, lower case."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0].lower()
    return host_header.rsplit(":", 1)[0].lower() if ":" in host_header else host_header.lower()


@functools.lru_cache(maxsize=256)
def is_loopback_address(name: str) -> bool:
    # Cached: parsing the Host's name as an address was ~10 us of every request.
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def loopback_names_in(text: str) -> set[str]:
    """The names a hosts file maps to a loopback address."""
    names: set[str] = set()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and is_loopback_address(fields[0]):
            names.update(name.lower().rstrip(".") for name in fields[1:])
    return names


class HostPolicy:
    """Decides whether the emulator follows a request's Host header.

    configured: the names the user set up (the listening address, `--public-url`'s host, the
    `allowed_hosts` entries).
    """

    def __init__(self, configured: Iterable[str], *, hosts_path: Path | None = None) -> None:
        self.entries = [entry.strip().lower().rstrip(".") for entry in configured if entry.strip()]
        self.hosts_path = hosts_path or hosts_file()

    def allows(self, host_header: str) -> bool:
        name = host_name(host_header).rstrip(".")
        if not name:
            return False
        if is_loopback_address(name) or name == "localhost" or name.endswith(".localhost"):
            return True
        for entry in self.entries:
            if entry == "*" or name == entry:
                return True
            if entry.startswith(".") and (name == entry[1:] or name.endswith(entry)):
                return True
        return name in self.loopback_names()

    def loopback_names(self) -> set[str]:
        # Read on each use (only for names not settled above): an edit to the hosts file counts
        # without a restart, and the file is a few lines.
        try:
            text = self.hosts_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return set()
        return loopback_names_in(text)


def refusal(host_header: str) -> str:
    """The text of the 400 that answers a Host the emulator does not serve."""
    name = host_name(host_header)
    return (
        f"Bad Request: this Okta emulator does not serve the host {name!r}.\n"
        "It follows the Host header only for loopback names (localhost, 127.0.0.1, ::1, hosts-file"
        " entries) and the hosts it was given: start it with --allowed-host "
        f"{name} (or allowed_hosts = [{name!r}] under [settings] in its config), or with"
        " --public-url.\n"
    )


__all__ = ["HOST_HEADER", "HostPolicy", "host_name", "loopback_names_in", "refusal"]
