"""A GitHub Actions job run on this machine the way a runner runs it: its steps in order, each
``run:`` in bash with the job's environment (``${{ secrets.X }}`` replaced by the values a test
gives, or by empty strings, as GitHub does for a pull request from a fork), until a step fails.

Only the actions a documented job uses are known (checkout, setup-python); any other ``uses:``
or expression fails the test, so the YAML cannot grow a step this runner would silently skip.
The job installs nothing here: a ``pip`` on the PATH checks that what a step installs is the
distribution this virtualenv already holds, and installs nothing (the suite stays fast and
offline).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")

#: Python versions the README says are supported: setup-python must ask for one of them.
SUPPORTED_PYTHONS = {"3.10", "3.11", "3.12", "3.13"}

_PIP = """#!/bin/sh
# pip as the job calls it: only `pip install NAME...`, checked against this virtualenv, which
# already holds what the job installs.
if [ "$1" != install ]; then echo "workflow runner: only 'pip install' is known" >&2; exit 2; fi
shift
exec "{python}" -c '
import importlib.metadata as m, sys
for name in sys.argv[1:]:
    m.distribution(name)
    print("already installed:", name)
' "$@"
"""


@dataclass
class StepRun:
    """One step as it ran: its name (or its ``uses:``), the command, exit status and output."""

    name: str
    command: str | None
    returncode: int
    output: str


def load(path: Path) -> dict[str, Any]:
    """The workflow, parsed by PyYAML.

    PyYAML reads YAML 1.1, where a bare ``on`` is the boolean true; GitHub reads it as the key
    ``on``. It is put back under its name here.
    """
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def _substitute(text: str, secrets: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        secret = _SECRET.fullmatch(match.group(1))
        if secret is None:
            raise AssertionError(f"workflow runner: unknown expression {match.group(0)}")
        # GitHub gives an unset secret, and every secret on a fork's pull request, as "".
        return secrets.get(secret.group(1), "")

    return _EXPRESSION.sub(value, text)


def _environment(
    job_env: Mapping[str, Any], secrets: Mapping[str, str], bin_dir: Path
) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OKTA_", "PYTEST_", "GITHUB_"))
        and name not in {"CI", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"}
    }
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(bin_dir), python_bin, env.get("PATH", "")])
    # What every GitHub-hosted runner sets; the plugin reads CI (no prompt, masking stays on).
    env.update(CI="true", GITHUB_ACTIONS="true")
    # A hosted runner has 2 cores: `-n auto` starts 2 workers there, and here too.
    env["PYTEST_XDIST_AUTO_NUM_WORKERS"] = "2"
    for name, raw in job_env.items():
        env[str(name)] = _substitute(str(raw), secrets)
    return env


def run_job(
    workflow: Mapping[str, Any],
    job: str,
    project: Path,
    secrets: Mapping[str, str],
    tools: Path,
) -> list[StepRun]:
    """Run ``job``'s steps in ``project`` (the checkout) until one fails; ``tools`` is an empty
    folder for the ``pip`` stand-in."""
    spec = workflow["jobs"][job]
    tools.mkdir(parents=True, exist_ok=True)
    pip = tools / "pip"
    pip.write_text(_PIP.format(python=sys.executable))
    pip.chmod(0o755)
    env = _environment(spec.get("env", {}), secrets, tools)
    runs: list[StepRun] = []
    for step in spec["steps"]:
        step_env = dict(env)
        for name, raw in step.get("env", {}).items():
            step_env[str(name)] = _substitute(str(raw), secrets)
        if "uses" in step:
            runs.append(_use(step))
        else:
            command = _substitute(step["run"], secrets)
            # GitHub's default shell on Linux runners: `bash -e {0}`.
            done = subprocess.run(
                ["bash", "-e", "-c", command],
                cwd=project / step.get("working-directory", "."),
                env=step_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
            )
            runs.append(StepRun(step.get("name", command), command, done.returncode, done.stdout))
        if runs[-1].returncode != 0:
            break
    return runs


def _use(step: Mapping[str, Any]) -> StepRun:
    action, _, _version = str(step["uses"]).partition("@")
    if action == "actions/checkout":
        # The project folder is the checkout.
        return StepRun(step["uses"], None, 0, "")
    if action == "actions/setup-python":
        version = str(step.get("with", {}).get("python-version", ""))
        if version not in SUPPORTED_PYTHONS:
            return StepRun(step["uses"], None, 1, f"python-version {version!r} is not supported")
        # This virtualenv's Python is first on the PATH.
        return StepRun(step["uses"], None, 0, "")
    raise AssertionError(f"workflow runner: unknown action {step['uses']}")
