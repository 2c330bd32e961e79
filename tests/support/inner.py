"""Inner pytest runs as users run them: in subprocesses, several at once, with every switch that
shows more (:data:`LOUD`); their outputs kept for the leak search and the message checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from filelock import FileLock

#: The hypothesis plugin costs about a second per inner process; the inner suites never use it.
FAST = ("-p", "no:hypothesispytest")

#: Source for an inner run's conftest or test module: ``CLOCK``, the run's ``okta_clock``, which
#: the module's tests move on (``CLOCK.shift = ...``) to make a fixed token value outlive min_ttl.
SHIFTED_CLOCK = """
import time

import pytest


class ShiftedClock:
    shift = 0.0

    def __call__(self):
        return time.time() + self.shift


CLOCK = ShiftedClock()


@pytest.fixture(scope="session")
def okta_clock():
    return CLOCK
"""

#: The ``run_inner`` fixture (tests/plugin/conftest.py): pytest in a subprocess, in pytester's
#: folder.
RunInner = Callable[..., pytest.RunResult]

#: Every switch that makes pytest show more: the leak search runs over what they print.
LOUD = (
    "-vv",
    "-rA",
    "--showlocals",
    "--tb=long",
    "--log-level=DEBUG",
    "--junitxml=junit.xml",
    "-o",
    "junit_logging=all",
    "--log-file=inner.log",
    "--log-file-level=DEBUG",
)


_DROPPED = {
    "PYTEST_ADDOPTS",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
    "CI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
}


@dataclass
class Inner:
    """One inner pytest run in its own folder: what it was given and, after :func:`run_all`, what
    it printed and wrote (stdout, stderr, the JUnit XML, the log file)."""

    folder: Path
    files: Mapping[str, str] = field(repr=False)
    settings: Mapping[str, str] = field(repr=False)
    args: tuple[str, ...] = LOUD
    ret: int | None = None
    outputs: dict[str, str] = field(default_factory=dict, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def stdout(self) -> str:
        return self.outputs["stdout"]

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "pytest.ini").write_text("[pytest]\n")
        for name, text in self.files.items():
            (self.folder / name).write_text(textwrap.dedent(text).lstrip())
        env = {
            k: v
            for k, v in os.environ.items()
            if k.upper() not in _DROPPED and not k.startswith(("OKTA_", "PYTEST_"))
        }
        env.update(self.settings)
        command = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", *self.args]
        command.append(f"--okta-cache-dir={self.folder / 'cache'}")
        self._proc = subprocess.Popen(
            command,
            cwd=self.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=(self.folder / "stdout.txt").open("wb"),
            stderr=(self.folder / "stderr.txt").open("wb"),
        )

    def finish(self) -> None:
        assert self._proc is not None
        self.ret = self._proc.wait(timeout=180)
        for name, file in (
            ("stdout", "stdout.txt"),
            ("stderr", "stderr.txt"),
            ("JUnit XML", "junit.xml"),
            ("log file", "inner.log"),
        ):
            path = self.folder / file
            if path.exists():
                self.outputs[name] = path.read_text(errors="replace")

    def outcomes(self) -> dict[str, str]:
        """Test id (``name[param]``) -> passed, failed, error or skipped, from the JUnit XML."""
        result: dict[str, str] = {}
        for case in ET.fromstring(self.outputs["JUnit XML"]).iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("error", "failure", "skipped")]
            outcome = {"error": "error", "failure": "failed", "skipped": "skipped"}
            result[case.get("name", "")] = outcome[kinds[0]] if kinds else "passed"
        return result

    def to_json(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "ret": self.ret, "outputs": self.outputs}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inner:
        return cls(Path(data["folder"]), {}, {}, ret=data["ret"], outputs=dict(data["outputs"]))

    def cached_tokens(self) -> list[dict[str, Any]]:
        """The token sets the run's disk cache holds."""
        found = []
        for path in (self.folder / "cache").rglob("*.json"):
            data = json.loads(path.read_text())
            tokens = data.get("tokens", data)
            if isinstance(tokens, Mapping) and tokens.get("access_token"):
                found.append(dict(tokens))
        return found


def run_all(inners: Iterable[Inner]) -> None:
    """Start the runs together (they are independent), then wait for each."""
    started = list(inners)
    for inner in started:
        inner.start()
    for inner in started:
        inner.finish()


def once(
    factory: pytest.TempPathFactory, name: str, compute: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """``compute(folder)`` once per outer run, even when xdist spreads a module's tests over
    workers (they share the parent of their base temp folder); its result must be JSON."""
    base = factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        base = base.parent
    done = base / f"{name}.json"
    with FileLock(str(base / f"{name}.lock"), timeout=600):
        if not done.exists():
            done.write_text(json.dumps(compute(base / name)))
    result: dict[str, Any] = json.loads(done.read_text())
    return result


_HEADER = re.compile(r"^_+ (?:ERROR at setup of )?(\S+) _+$")
_SECTION = re.compile(r"^(_+ .* _+|=+ .* =+|-+ .* -+|- generated xml file: .*)$")


def message_of(output: str, test: str) -> list[str]:
    """The lines pytest printed for ``test``'s error or failure (without its captured output)."""
    lines = output.splitlines()
    for start, line in enumerate(lines):
        match = _HEADER.match(line)
        if match and match.group(1) == test:
            block = []
            for text in lines[start + 1 :]:
                if _SECTION.match(text):
                    break
                block.append(text)
            while block and not block[-1].strip():
                block.pop()
            return block
    raise AssertionError(f"no error or failure of {test} in the output:\n{output}")


def random_password() -> str:
    return "Pw-" + pyotp.random_base32()[:16].lower() + "-9!"


def section_of(output: str, title: str) -> list[str]:
    """The lines of the summary section ``=== title ===`` (the plugin's own: ``okta-user: ...``)."""
    lines = output.splitlines()
    for start, line in enumerate(lines):
        if re.fullmatch(rf"=+ {re.escape(title)} =+", line):
            block = []
            for text in lines[start + 1 :]:
                if text.startswith(("=", "okta-user: ", "okta emulator: ")):
                    break
                block.append(text)
            return block
    raise AssertionError(f"no section {title!r} in the output:\n{output}")
