"""The README's browser screenshots (docs/images/browser-*.png), taken by the tests that check
them: tests/plugin/test_browser_fixtures.py copies its landing pages to the folder named by
PYTEST_OKTA_USER_SCREENSHOTS. Needs Debian's chromium and tests/node's `npm ci`.

    .venv/bin/python benchmarks/docs_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
#: The ones the README and docs/browser.md show.
KEPT = ("browser-sign-in-page.png", "browser-spa-signed-in.png")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        test = "tests/plugin/test_browser_fixtures.py::test_a_storage_state_signs_the_browser_in"
        answer = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                test + "_and_the_spa_too",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTEST_OKTA_USER_SCREENSHOTS": folder,
                "CI_REQUIRE_TEST_TOOLS": "1",
            },
            check=False,
        )
        if answer.returncode != 0:
            return answer.returncode
        IMAGES.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            shutil.copyfile(Path(folder) / name, IMAGES / name)
            print(IMAGES / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
