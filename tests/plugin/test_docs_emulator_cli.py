"""`python -m pytest_okta_user.emulator` as its docstring and docs/emulator.md describe it: the
exact number of NAME=value lines it prints, and the recipe that hands them to pytest in another
shell.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.inner import FAST

import pytest_okta_user.emulator.__main__ as emulator_main

REPO = Path(__file__).resolve().parents[2]


def _serve(*args: str, stdout: Path) -> subprocess.Popen[str]:
    """The emulator's command line with its stdout in a file, returned once it serves (it says so
    on stderr after its settings are flushed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_okta_user.emulator", "--port", "0", *args],
        stdout=stdout.open("w"),
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("Okta emulator serving"):
            return process
    raise AssertionError(f"the emulator exited with {process.wait()} before serving")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
def test_the_docstring_says_how_many_lines_are_printed_and_which(tmp_path: Path, tls: bool) -> None:
    doc = " ".join((emulator_main.__doc__ or "").split())
    plain = re.search(r"nothing else there: (\d+) lines \(([A-Z_, ]+)\)", doc)
    with_tls = re.search(r"(\d+) with --tls \(([A-Z_]+) and ([A-Z_]+) too\)", doc)
    assert plain, doc
    assert with_tls, doc
    expected = plain.group(2).split(", ")
    assert int(plain.group(1)) == len(expected)
    if tls:
        expected += [with_tls.group(2), with_tls.group(3)]
        assert int(with_tls.group(1)) == len(expected)
    env_file = tmp_path / "okta.env"

    process = _serve(*(["--tls"] if tls else []), stdout=env_file)
    _stop(process)

    names = [line.partition("=")[0] for line in env_file.read_text().splitlines()]
    assert names == expected


RECIPE_TEST = """
def test_the_emulator_in_the_other_shell_signs_in(okta_tokens, okta_variant):
    assert okta_tokens.access_token
    assert okta_variant.flow == "pkce"
"""


def test_the_documented_recipe_hands_the_settings_to_pytest(pytester: pytest.Pytester) -> None:
    # The recipe of the docstring and of docs/emulator.md: the first shell's command writes
    # okta.env (here on a free port), the second shell's line is run as written.
    doc = emulator_main.__doc__ or ""
    serve_line, pytest_line = re.findall(r"^    (python -m .*|set -a.*)$", doc, re.MULTILINE)
    assert serve_line == "python -m pytest_okta_user.emulator --port 8900 > okta.env &"
    assert pytest_line == "set -a; . ./okta.env; set +a; pytest"
    page = (REPO / "docs" / "emulator.md").read_text()
    assert serve_line in page
    assert pytest_line in page
    pytester.makepyfile(test_recipe=RECIPE_TEST)
    pytester.makeini("[pytest]\n")

    process = _serve(stdout=pytester.path / "okta.env")
    try:
        python_bin = Path(sys.executable).parent
        done = subprocess.run(
            ["bash", "-c", f"{pytest_line} {' '.join(FAST)} -p no:cacheprovider"],
            cwd=pytester.path,
            env={"PATH": f"{python_bin}:/usr/bin:/bin", "HOME": str(pytester.path)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        _stop(process)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
