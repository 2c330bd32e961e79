"""Tests that need a tool outside Python (Chromium, node_modules): skip locally, fail in CI.

`.ci/run` installs the tools and sets CI_REQUIRE_TEST_TOOLS=1, so a missing tool there is a
failure instead of a silent skip. Imported by tests as `support.needs`.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

# Not an OKTA_* name: the tests' autouse fixture clears those from the environment.
REQUIRE_ENV = "CI_REQUIRE_TEST_TOOLS"


def missing(reason: str) -> NoReturn:
    """Skip the test with `reason`, or fail it where the tool must be there (CI)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires it (.ci/run installs it)")
    pytest.skip(reason)
