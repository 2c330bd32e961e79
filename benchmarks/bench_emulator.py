"""Emulator figures: start-up time and complete code+PKCE exchanges per second on loopback.

    python benchmarks/bench_emulator.py [--exchanges 300] [--threads 4] [--starts 20]

One exchange is what a test suite's first sign-in costs: POST /api/v1/authn, GET /authorize
(sessionToken, prompt=none, PKCE S256), POST /token. Okta's per-user rate limit (4/s) is switched
off (`rate_limits=False`), otherwise it alone would cap the figure at 4 exchanges per second.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import statistics
import threading
import time
from urllib.parse import parse_qs, urlsplit

import requests

from pytest_okta_user.emulator import DEMO, OktaEmulator


def exchange(okta: OktaEmulator, http: requests.Session) -> None:
    authn = http.post(
        f"{okta.url}/api/v1/authn",
        json={"username": DEMO.user_login, "password": DEMO.user_password},
    )
    authn.raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    authorize = http.get(
        f"{okta.issuer}/v1/authorize",
        params={
            "client_id": DEMO.web_client_id,
            "redirect_uri": DEMO.web_redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": "bench",
            "prompt": "none",
            "sessionToken": authn.json()["sessionToken"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{okta.issuer}/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO.web_redirect_uri,
            "code_verifier": verifier,
        },
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    token.raise_for_status()
    assert "access_token" in token.json()


def bench_startup(starts: int) -> tuple[float, float, float]:
    """Median seconds: start() until bound; start to first token (includes key generation); stop."""
    bound, first_token, stopping = [], [], []
    for _ in range(starts):
        began = time.perf_counter()
        okta = OktaEmulator(rate_limits=False)
        okta.start()
        bound.append(time.perf_counter() - began)
        with requests.Session() as http:
            exchange(okta, http)
        first_token.append(time.perf_counter() - began)
        began = time.perf_counter()
        okta.stop()
        stopping.append(time.perf_counter() - began)
    return statistics.median(bound), statistics.median(first_token), statistics.median(stopping)


def bench_exchanges(total: int, threads: int) -> float:
    with OktaEmulator(rate_limits=False) as okta:
        with requests.Session() as http:
            exchange(okta, http)  # keys generated before timing
        per_thread = max(1, total // threads)

        def worker() -> None:
            with requests.Session() as http:
                for _ in range(per_thread):
                    exchange(okta, http)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        began = time.perf_counter()
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        elapsed = time.perf_counter() - began
        assert okta.internal_errors == []
        return per_thread * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    bound, first, stop = bench_startup(args.starts)
    print(f"start-up (socket bound), median of {args.starts}: {bound * 1000:.1f} ms")
    print(f"start-up to first token (incl. RSA key generation): {first * 1000:.1f} ms")
    print(f"stop: {stop * 1000:.1f} ms")
    sequential = bench_exchanges(args.exchanges, 1)
    print(f"code+PKCE exchanges/s, 1 client thread: {sequential:.1f}")
    parallel = bench_exchanges(args.exchanges, args.threads)
    print(f"code+PKCE exchanges/s, {args.threads} client threads: {parallel:.1f}")


if __name__ == "__main__":
    main()
