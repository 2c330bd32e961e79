"""The README and the docs/ pages as a newcomer reads them: the two commands CI runs, links that
lead somewhere, the sign-in picture matching the requests a sign-in makes, and the statements about
pytest's behaviour (a wrong marker argument, turning the plugin off) checked by running pytest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.inner import RunInner

from pytest_okta_user.emulator import OktaEmulator

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [
    README,
    REPO / "CONTRIBUTING.md",
    REPO / "examples" / "web_app" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def _fenced_blocks(text: str, language: str) -> list[str]:
    pattern = rf"^```{language}\n(.*?)^```$"
    return re.findall(pattern, text, flags=re.MULTILINE | re.DOTALL)


def test_the_first_code_block_holds_the_two_commands_ci_runs() -> None:
    # .ci/run reads them as the first fenced block's non-empty lines.
    first = re.search(r"^```[^\n]*\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)
    assert first is not None
    commands = [line for line in first.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("pytest examples -n 2 --okta-emulator")
    assert commands[1].endswith("pytest -n 2")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in _anchors(file):
            broken.append(f"{target}: no such heading in {file.name}")
    assert not broken, f"{page.name}: {broken}"


def test_the_readme_keeps_the_newcomers_sections_and_links_the_reference_pages() -> None:
    headings = set(re.findall(r"^## (.+)$", _FENCE.sub("", README.read_text()), re.MULTILINE))
    assert {
        "What it does",
        "Setting it up against a real Okta org",
        "Settings",
        "Fixtures",
        "The `okta` marker",
        "Flows",
        "From a script",
        "In a terminal",
        "Emulator mode",
        "Performance",
        "Secrets",
        "Supported versions",
        "Development",
    } <= headings
    links = set(_LINK.findall(README.read_text()))
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"docs/{page.name}" in links, f"the README does not link docs/{page.name}"
    assert "pip install pytest-okta-user\n" in _fenced_blocks(README.read_text(), "bash")


def test_the_sign_in_picture_follows_the_requests_a_sign_in_makes(okta: OktaEmulator) -> None:
    from pytest_okta_user.marker import OktaRequest, build_variant
    from pytest_okta_user.provider import build_provider
    from pytest_okta_user.settings import resolve

    (diagram,) = _fenced_blocks(README.read_text(), "mermaid")
    pictured = re.findall(r"->>O: \w+ (/[\w/]+)", diagram)
    assert pictured == [
        "/api/v1/authn",
        "/oauth2/default/v1/authorize",
        "/oauth2/default/v1/token",
        "/oauth2/default/v1/keys",
        "/oauth2/default/v1/authorize",
        "/oauth2/default/v1/token",
    ]

    # The first variant signs the user in; a second one (other scopes) rides its Okta session.
    settings = resolve({}, okta.env(), {}, cwd=REPO)
    provider = build_provider(settings)
    provider.get(build_variant(settings, OktaRequest(flow="code")))
    provider.get(build_variant(settings, OktaRequest(flow="code", scopes=("openid", "email"))))

    requested = [entry.path for entry in okta.requests]
    assert requested == pictured, requested


MARKED = """
import pytest

@pytest.mark.okta(flow="magic")
def test_magic(okta_access_token):
    pass

def test_beside_it():
    pass
"""


def test_a_wrong_marker_argument_interrupts_the_run_as_any_collection_error(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makepyfile(test_marked=MARKED, test_other="def test_other():\n    pass\n")

    alone = run_inner()
    assert alone.ret == pytest.ExitCode.INTERRUPTED
    alone.stdout.fnmatch_lines(
        [
            "test_marked.py::test_magic: @pytest.mark.okta: flow='magic' is not a flow; fix: *",
            "*Interrupted: 1 error during collection*",
        ]
    )
    assert alone.parseoutcomes() == {"errors": 1}

    # The other modules run under --continue-on-collection-errors and under xdist.
    for args in (("--continue-on-collection-errors",), ("-n", "2")):
        result = run_inner(*args)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        assert result.parseoutcomes() == {"passed": 1, "errors": 1}, args


def test_p_no_okta_user_turns_the_plugin_off(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makeini("[pytest]\nokta_emulator = true\n")
    pytester.makepyfile(
        "def test_plain():\n    pass\n\ndef test_token(okta_access_token):\n    pass\n"
    )

    result = run_inner("-p", "no:okta_user")

    assert result.parseoutcomes() == {"passed": 1, "errors": 1, "warnings": 1}
    result.stdout.fnmatch_lines(
        ["*fixture 'okta_access_token' not found", "*Unknown config option: okta_emulator"]
    )
    result.stdout.no_fnmatch_line("okta*emulator:*")
