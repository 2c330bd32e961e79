"""A sign-in through the client (flows.exchange, code + PKCE, tokens verified) against three bare
HTTP round trips on loopback (the same three requests with a bare requests.Session), both
against one running emulator, as ratios of paired, alternating runs; and the first sign-in on a
freshly started emulator.

    .venv/bin/python benchmarks/bench_signin.py [--long]

sign-in: no token cached, the issuer's keys already read by this process (another user, variant
    or worker run), its connection kept; the floor keeps its connection too. Goal: within 1.3x.
sign-in + masking index: the same, then one `masking.mask` call, which makes and indexes the
    masked forms of what the sign-in registered (deferred to the first text that is masked: in a
    pytest run, the next line written). What a sign-in costs a run that shows output. The
    registry is emptied before each (untimed): a test process holds a few tokens, not hundreds.
process's first: no keys known, no open connection (the floor opens a new connection too); four
    requests (the JWKS) against three.
first on a fresh emulator: from OktaEmulator() to the first verified token through the client
    (authn, authorize, token, keys: the issuer's signing key and the next one), in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import requests
from _paired import CpuTally, load_average, paired
from _signin import bare_sign_in

from pytest_okta_user import client as client_module
from pytest_okta_user import flows, masking
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import Variant


def forget_process_state() -> None:
    """What a new test process would not have: the issuers' key sets, open connections."""
    for owner in (flows, client_module):
        forget = getattr(owner, "forget_process_state", None)
        if forget is not None:
            forget()


def forget_masked_values() -> None:
    """An empty masking registry (not timed), as in a test process that has handled a few
    tokens: this one signs in hundreds of times, and an index of a million pieces makes each new
    piece a cache miss that no real run pays (it measured about twice the cost)."""
    masking._REGISTRY = masking._Registry()


def with_issuer(variant: Variant, issuer: str) -> Variant:
    return Variant(
        issuer=issuer,
        client_id=variant.client_id,
        user=variant.user,
        flow=variant.flow,
        scopes=variant.scopes,
        redirect_uri=variant.redirect_uri,
    )


def timed(action: Callable[[], object], cpu: tuple[CpuTally, str] | None = None) -> float:
    """Wall-clock seconds of ``action``; with ``cpu``, this process's CPU seconds recorded too
    (the emulator answers in this process: both sides make it do the same three answers)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    action()
    elapsed = time.perf_counter() - started
    if cpu is not None:
        tally, side = cpu
        tally.record(side, time.process_time() - cpu_started)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="more pairs")
    args = parser.parse_args()
    pairs, starts = (600, 40) if args.long else (150, 12)
    print(f"bench_signin: Python {sys.version.split()[0]}, {load_average()}")
    with OktaEmulator(rate_limits=False) as okta:
        variant = Variant(
            issuer=okta.issuer,
            client_id=DEMO.web_client_id,
            user=DEMO.user_login,
            flow="pkce",
            scopes=("openid", "profile", "email"),
            redirect_uri=DEMO.web_redirect_uri,
        )
        credentials = Credentials(password=DEMO.user_password, client_secret=DEMO.web_client_secret)

        cold_cpu, kept_cpu = CpuTally(), CpuTally()

        def client_cold() -> float:
            forget_process_state()
            return timed(lambda: flows.exchange(variant, credentials), (cold_cpu, "subject"))

        def bare_cold() -> float:
            def run() -> None:
                with requests.Session() as http:
                    bare_sign_in(okta, http)

            return timed(run, (cold_cpu, "floor"))

        kept = requests.Session()
        bare_sign_in(okta, kept)
        print(
            paired("process's first sign-in vs 3 bare trips", client_cold, bare_cold, pairs).line(
                "ms", 1000
            )
        )
        print(cold_cpu.paired("  the same, CPU (client + emulator)").line("ms", 1000))
        print(
            paired(
                "sign-in (cold cache) vs 3 bare round trips",
                lambda: timed(lambda: flows.exchange(variant, credentials), (kept_cpu, "subject")),
                lambda: timed(lambda: bare_sign_in(okta, kept), (kept_cpu, "floor")),
                pairs,
            ).line("ms", 1000)
        )
        print(kept_cpu.paired("  the same, CPU (client + emulator)").line("ms", 1000))
        indexed_cpu = CpuTally()

        def sign_in_and_mask() -> None:
            flows.exchange(variant, credentials)
            masking.mask("the next line pytest writes")

        def indexed() -> float:
            forget_masked_values()
            return timed(sign_in_and_mask, (indexed_cpu, "subject"))

        print(
            paired(
                "sign-in + its masking index vs 3 bare trips",
                indexed,
                lambda: timed(lambda: bare_sign_in(okta, kept), (indexed_cpu, "floor")),
                pairs,
            ).line("ms", 1000)
        )
        print(indexed_cpu.paired("  the same, CPU (client + emulator)").line("ms", 1000))
        kept.close()
    firsts, bound = [], []
    for _ in range(starts):
        began = time.perf_counter()
        forget_process_state()
        with OktaEmulator(rate_limits=False) as fresh:
            bound.append(time.perf_counter() - began)
            flows.exchange(with_issuer(variant, fresh.issuer), credentials)
            firsts.append(time.perf_counter() - began)
    label = "first sign-in on a fresh emulator"
    print(
        f"{label:<44} median {statistics.median(firsts) * 1000:.1f} ms"
        f"  (min {min(firsts) * 1000:.1f}, max {max(firsts) * 1000:.1f}, n={starts});"
        f" started (socket bound) in {statistics.median(bound) * 1000:.1f} ms"
    )
    print(f"  {load_average()}")


if __name__ == "__main__":
    main()
