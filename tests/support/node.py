"""Node clients under tests/node (openid-client, @okta/okta-auth-js) run as the emulator's peers:
each script takes its settings from the environment and prints one JSON report on stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.needs import missing

NODE_PROJECT = Path(__file__).resolve().parents[1] / "node"


def node_with(package: str) -> str:
    """The `node` executable, once `package` is installed in tests/node; else the test skips
    (fails under `.ci/run`, which installs both: support/needs.py)."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed")
    if not (NODE_PROJECT / "node_modules" / package).is_dir():
        missing(f"{package} is not installed: run `npm ci` in {NODE_PROJECT}")
    assert node is not None
    return node


def run_script(node: str, script: str, settings: Mapping[str, str], *, timeout: float) -> Any:
    """Run tests/node/`script` with `settings` added to the environment; its JSON report."""
    result = subprocess.run(
        [node, str(NODE_PROJECT / script)],
        cwd=NODE_PROJECT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
