"""A real headless Chromium for the tests, and a loopback web server for the pages it opens.

Debian's `chromium` (never a browser that `playwright install` downloads) driven through the
installed `playwright` package with `executable_path`. A test that needs it calls `chromium()`:
it skips, with the reason, when the browser or playwright is missing, unless
CI_REQUIRE_TEST_TOOLS=1 (set by `.ci/run`) turns that skip into a failure (`support.needs`).
Imported by tests as `support.browser`.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from support.needs import missing

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """The system Chromium: CHROMIUM_PATH if set, else the first on PATH or in /usr/bin."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium `Browser` (playwright's sync API), closed on exit."""
    path = chromium_path()
    if path is None:
        missing("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (it is in the [test] extra)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            # A container often has no user namespaces for Chromium's sandbox, and a small /dev/shm.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


Page = Callable[[str], "tuple[int, str, bytes]"]


@contextmanager
def serve(page: Page, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `page(path) -> (status, content type, body)` on loopback; yields the origin URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, content_type, body = page(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
