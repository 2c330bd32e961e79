"""The README's GitHub Actions job (docs/github-actions.yml) run as a runner runs it, step by step,
on a copy of the web-app example (examples/web_app) whose pytest.ini is filled in with an org's
values: the org is an emulator over real HTTP, the secrets its own. Then as a pull request from a
fork: the same job with empty secrets runs the plain tests and fails only the Okta ones (exit 1).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from support.workflow import load, run_job

from pytest_okta_user.emulator import OktaEmulator

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "github-actions.yml"
EXAMPLE = REPO / "examples" / "web_app"

#: The example's tests: one needs no Okta, the others need a token.
PLAIN_TESTS = 1
OKTA_TESTS = 4


def _checkout(okta: OktaEmulator, folder: Path) -> Path:
    """The web-app example as a user's repository: its pytest.ini's commented org lines filled in,
    as the README's setup tells a user to."""
    project = folder / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    env = okta.env()
    org_values = {
        "okta_domain": okta.issuer,
        "okta_client_id": env["OKTA_CLIENT_ID"],
        "okta_redirect_uri": env["OKTA_REDIRECT_URI"],
        "okta_username": env["OKTA_USERNAME"],
    }
    ini = project / "pytest.ini"
    text = ini.read_text()
    for key, value in org_values.items():
        text, found = re.subn(rf"^# {key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        assert found == 1, f"examples/web_app/pytest.ini has no commented line for {key}"
    ini.write_text(text)
    return project


def _counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last)}


def test_the_job_runs_its_steps_in_order_and_signs_in_once_per_variant(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = okta.env()
    secrets = {
        "OKTA_PASSWORD": env["OKTA_PASSWORD"],
        "OKTA_CLIENT_SECRET": env["OKTA_CLIENT_SECRET"],
    }

    steps = run_job(load(WORKFLOW), "tests", _checkout(okta, tmp_path), secrets, tmp_path / "bin")

    assert [(s.name, s.returncode) for s in steps] == [
        ("actions/checkout@v4", 0),
        ("actions/setup-python@v5", 0),
        ("Install", 0),
        ("Test", 0),
    ], steps[-1].output
    assert "already installed: pytest-okta-user" in steps[2].output
    test_output = steps[-1].output
    assert _counts(test_output) == {"passed": PLAIN_TESTS + OKTA_TESTS}, test_output
    assert "2 workers" in test_output  # -n auto, on a 2-core runner
    # Two variants (the ini's scopes and the marker's), each exchanged once for both workers;
    # one sign-in of the user, whose Okta session serves the second.
    assert "okta-user: 2 token variants in 2 processes: 1 sign-in, 1 from Okta sessions" in (
        test_output
    )
    assert okta.count("authn") == 1
    assert okta.count("authorize") == 2
    for secret in secrets.values():
        assert secret not in test_output


def test_a_pull_request_from_a_fork_fails_only_the_okta_tests(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    steps = run_job(load(WORKFLOW), "tests", _checkout(okta, tmp_path), {}, tmp_path / "bin")

    assert [s.name for s in steps] == [
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "Install",
        "Test",
    ]
    test = steps[-1]
    # pytest's usual "tests failed" (1), not a usage error (4) that would run no test at all.
    assert test.returncode == 1, test.output
    assert _counts(test.output) == {"passed": PLAIN_TESTS, "errors": OKTA_TESTS}, test.output
    assert "OKTA_PASSWORD" in test.output
    assert okta.count("authn") == 0


def test_the_readme_shows_the_job_that_is_tested() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```$", readme, flags=re.MULTILINE | re.DOTALL)
    assert WORKFLOW.read_text() in blocks


def test_the_job_runs_on_pull_requests_with_secrets_from_the_store() -> None:
    workflow = load(WORKFLOW)
    assert {"push", "pull_request"} <= set(workflow["on"])
    job_env = workflow["jobs"]["tests"]["env"]
    assert job_env, "the job passes no secret"
    for name, value in job_env.items():
        assert value == f"${{{{ secrets.{name} }}}}", f"{name} does not come from the secret store"
