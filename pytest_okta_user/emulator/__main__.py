"""`python -m pytest_okta_user.emulator`: serve an emulated Okta org until interrupted.

Prints the settings a client needs on stdout as NAME=value lines, the names the plugin reads, and
nothing else there: 14 lines (OKTA_DOMAIN, OKTA_CLIENT_ID, OKTA_CLIENT_SECRET, OKTA_REDIRECT_URI,
OKTA_USERNAME, OKTA_PASSWORD, OKTA_ADMIN_USERNAME, OKTA_ADMIN_PASSWORD, OKTA_ADMIN_TOTP_SECRET,
OKTA_SPA_CLIENT_ID, OKTA_SPA_REDIRECT_URI, OKTA_SERVICE_CLIENT_ID, OKTA_SERVICE_CLIENT_SECRET,
OKTA_EMULATOR_INSTANCE), 16 with --tls (REQUESTS_CA_BUNDLE and SSL_CERT_FILE too). The ADMIN, SPA
and SERVICE ones name the demo org's second user and its other two apps (named users and apps).
With `--engine oie` one more, OKTA_TOTP_SECRET (the demo user's TOTP secret), follows
OKTA_EMULATOR_INSTANCE.
What it tells a person goes to stderr. Another shell reads them from a file:

    python -m pytest_okta_user.emulator --port 8900 > okta.env &
    set -a; . ./okta.env; set +a; pytest

(`env $(python -m ... | head -n 7) pytest` would wait forever: the command substitution ends only
when the server does.)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .config import ConfigError
from .server import READ_TIMEOUT, OktaEmulator


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_okta_user.emulator",
        description="Serve a local emulated Okta org (seeded with the demo org).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--config", help="TOML or JSON file describing users, apps, servers")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA")
    parser.add_argument("--public-url", help="org URL to announce instead of the Host header")
    parser.add_argument("--key-file", help="keep signing keys in this file across runs")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a Host name to answer besides loopback ones (repeatable; .example.test: a domain)",
    )
    parser.add_argument(
        "--read-timeout",
        type=seconds,
        default=READ_TIMEOUT,
        metavar="SECONDS",
        help=f"close a connection silent this long mid-request or idle (default {READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--engine",
        choices=("classic", "oie"),
        help="classic (default) or oie: Identity Engine, whose demo apps ask for password + TOTP"
        " (the demo user's OKTA_TOTP_SECRET is printed), with Direct Authentication and the"
        " Interaction Code flow",
    )
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="switch off Okta's per-user limit (4 requests/s on /api/v1/authn and /token)",
    )
    args = parser.parse_args(argv)
    try:
        emulator = OktaEmulator(
            config=args.config,
            host=args.host,
            port=args.port,
            tls=args.tls,
            public_url=args.public_url,
            key_file=args.key_file,
            rate_limits=False if args.no_rate_limits else None,
            allowed_hosts=args.allowed_host,
            read_timeout=args.read_timeout,
            engine=args.engine,
        )
        emulator.start()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for name, value in emulator.env().items():
            print(f"{name}={value}")
        sys.stdout.flush()
        if emulator.network_urls:
            print(
                f"warning: listening on {args.host}, beyond this machine: anyone who can reach"
                " it can sign in as its users (whose passwords are in its config or the README)"
                " and get real-looking Okta tokens signed by it. Listen on 127.0.0.1 unless"
                " other machines must reach it; they use "
                + " or ".join(emulator.network_urls)
                + ".",
                file=sys.stderr,
                flush=True,
            )
        where = f"; CA file: {emulator.ca_file}" if emulator.ca_file else ""
        print(
            f"Okta emulator serving {emulator.url} (issuer {emulator.issuer}){where}. "
            "Ctrl+C to stop.",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(3600):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
