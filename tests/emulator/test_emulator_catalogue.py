"""Every error the emulator can emit matches Okta's own catalogue.

The catalogue files are Okta's: https://github.com/okta/okta-developer-docs/blob/master/packages/%40okta/vuepress-site/data/oauth2-error-codes.json
and `.../data/error-codes.json`; the tests read copies of them from OKTA_CATALOGUE_DIR (by
default the folder `CATALOGUE` names, beside the repository) and skip without them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import pytest_okta_user.emulator as emulator_package
from pytest_okta_user.emulator import errors
from pytest_okta_user.emulator.catalogue import API_ERRORS, OAUTH_ERRORS

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = Path(os.environ.get("OKTA_CATALOGUE_DIR", REPO.parent / "shared" / "okta-catalogue"))


def load(name: str) -> list[dict]:
    path = CATALOGUE / name
    if not path.exists():
        pytest.skip(f"Okta's catalogue is not beside the repository ({path})")
    return list(json.loads(path.read_text(encoding="utf-8"))["errors"])


def test_oauth_errors_match_the_catalogue() -> None:
    catalogue = {entry["internalErrorCode"]: entry for entry in load("oauth2-error-codes.json")}
    for key, entry in OAUTH_ERRORS.items():
        official = catalogue[key]
        assert (entry.status, entry.error, entry.description) == (
            official["statusCode"],
            official["errorCode"],
            official["errorDescription"],
        ), key


def test_api_errors_match_the_catalogue() -> None:
    catalogue = {entry["errorCode"]: entry for entry in load("error-codes.json")}
    for code, entry in API_ERRORS.items():
        official = catalogue[code]
        assert (entry.status, entry.summary) == (
            official["statusCode"],
            official["errorSummary"],
        ), code


def emulator_source() -> str:
    """Every module of the emulator: errors are raised by the rules modules and by app.py."""
    folder = Path(emulator_package.__file__).parent
    modules = sorted(p for p in folder.glob("*.py") if p.name != "catalogue.py")
    return "\n".join(p.read_text(encoding="utf-8") for p in modules)


def test_every_error_the_emulator_raises_is_in_its_catalogue_module() -> None:
    source = emulator_source()
    raised = set(re.findall(r'(?:OAuthError|PageError|BearerError)\(\s*"([a-z_]+)"', source))
    raised |= set(re.findall(r'OAUTH_ERRORS\["([a-z_]+)"\]', source))
    codes = set(re.findall(r'"(E0000\d+)"', source))
    assert raised, "the scan found nothing: the pattern no longer matches the emulator's modules"
    assert codes, "the scan found no E-codes in the emulator's modules"
    assert raised <= set(OAUTH_ERRORS)
    assert codes <= set(API_ERRORS)


def test_placeholders_are_filled() -> None:
    assert errors.describe("refresh_scopes_denied", "email, phone").endswith(
        "Denied scopes: email, phone."
    )
    assert errors.describe("missing_token_request_parameter", "code") == (
        "The required parameter 'code' is missing."
    )
    assert errors.api_summary("E0000001", "username") == "Api validation failed: username"
