"""The emulator's Identity Engine answers, field by field, against answers Okta's own SDKs
recorded (issue 12, "Must show"): tests/emulator/fixtures/okta/ (README.md there names each file's
repository, path, commit and licence).

Structure is compared, not random values: every key (missing or extra), every value's JSON type,
remediation and field names in order (forms and fields are matched by `name`), and the values that
are constants of the protocol (names, methods, `rel`, `accepts`/`produces` content types, labels,
flags, message texts and i18n keys, `href` paths). Handles, ids, codes, times and tokens are not
compared. Where the emulator differs from a recording, the difference is listed below with its
reason, so a new difference fails the test and a listed one that goes away does too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
from support.emulator_client import pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

FIXTURES = Path(__file__).parent / "fixtures" / "okta"
ION = "application/ion+json; okta-version=1.0.0"
MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
WEB = (DEMO.web_client_id, DEMO.web_client_secret)
SCOPE = "openid profile offline_access"

# Keys whose values are protocol constants (compared); every other value only by its JSON type.
CONSTANTS = {
    "name",
    "method",
    "rel",
    "accepts",
    "produces",
    "intent",
    "version",
    "class",
    "key",
    "message",
    "type",
    "label",
    "required",
    "visible",
    "mutable",
    "secret",
    "relatesTo",
    "href",
    "error",
    "error_description",
    "token_type",
}
# The app's own name and id, and the kind of app Okta reports (`okta_enduser` in the Java SDK's
# recordings, made for Okta's dashboard app; `oidc_client` in the Swift ones, for an OIDC app).
IGNORED = {"$.app.value.label", "$.app.value.id", "$.app.value.name"}


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def constant(key: str, value: Any) -> Any:
    """An `href` compared by its path, the authorization server id left out."""
    if key == "href" and isinstance(value, str):
        return re.sub(r"^/oauth2/[^/]+/v1/", "/oauth2/{id}/v1/", urlsplit(value).path)
    return value


def named(items: list[Any]) -> bool:
    return bool(items) and all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
    )


def differences(ours: Any, recorded: Any, path: str = "$") -> set[str]:
    """Every structural difference between the emulator's answer and a recorded one."""
    if path in IGNORED:
        return set()
    if kind(ours) != kind(recorded):
        return {f"{path}: {kind(ours)} instead of {kind(recorded)}"}
    found: set[str] = set()
    if isinstance(ours, dict):
        found |= {f"{path}.{k}: missing" for k in recorded.keys() - ours.keys()}
        found |= {f"{path}.{k}: extra" for k in ours.keys() - recorded.keys()}
        for key in ours.keys() & recorded.keys():
            where = f"{path}.{key}"
            if key in CONSTANTS and (
                key in ("rel", "relatesTo") or not isinstance(ours[key], dict)
            ):
                mine, theirs = constant(key, ours[key]), constant(key, recorded[key])
                if mine != theirs and where not in IGNORED:
                    found.add(f"{where}: {mine!r} instead of {theirs!r}")
            else:
                found |= differences(ours[key], recorded[key], where)
    elif isinstance(ours, list):
        if named(ours) and named(recorded):
            mine = [item["name"] for item in ours]
            theirs = [item["name"] for item in recorded]
            if mine != theirs:
                found.add(f"{path}: names {mine} instead of {theirs}")
            for item in ours:
                same = [other for other in recorded if other["name"] == item["name"]]
                if same:
                    found |= differences(item, same[0], f"{path}[{item['name']}]")
        elif ours and recorded:
            found |= differences(ours[0], recorded[0], f"{path}[0]")
    return found


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Answer:
    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.content_type = response.headers["Content-Type"]
        self.body = response.json()


@pytest.fixture(scope="module")
def answers() -> dict[str, Answer]:
    """One run of each flow, its answers keyed by the fixture file each is compared with."""
    got: dict[str, Answer] = {}
    with (
        OktaEmulator(engine="oie", rate_limits=False) as okta,
        requests.Session() as http,
    ):

        def interact(challenge: str) -> requests.Response:
            return http.post(
                f"{okta.issuer}/v1/interact",
                data={
                    "client_id": DEMO.web_client_id,
                    "client_secret": DEMO.web_client_secret,
                    "scope": SCOPE,
                    "redirect_uri": DEMO.web_redirect_uri,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )

        def idx(action: str, body: dict[str, Any]) -> requests.Response:
            return http.post(
                f"{okta.url}/idp/idx/{action}",
                data=json.dumps(body),
                headers={"Content-Type": ION, "Accept": ION},
            )

        totp = pyotp.TOTP(DEMO.user_totp_secret)
        verifier, challenge = pkce_pair()
        started = interact(challenge)
        got["swift-idx-interact-response.json"] = Answer(started)
        handle = started.json()["interaction_handle"]
        state = idx("introspect", {"interactionHandle": handle})
        got["swift-idx-identify-single-form-response.json"] = Answer(state)
        state_handle = state.json()["stateHandle"]
        login = {"identifier": DEMO.user_login, "stateHandle": state_handle}
        refused = idx("identify", {**login, "credentials": {"passcode": "wrong"}})
        got["idx-java-identify-error-response.json"] = Answer(refused)
        idx("identify", {**login, "credentials": {"passcode": DEMO.user_password}})
        code = totp.at(okta.clock.now())
        bad = f"{(int(code) + 1) % 1_000_000:06d}"
        answer = {"stateHandle": state_handle}
        wrong = idx("challenge/answer", {**answer, "credentials": {"passcode": bad}})
        got["idx-java-challenge-error-response.json"] = Answer(wrong)
        success = idx("challenge/answer", {**answer, "credentials": {"passcode": code}})
        got["swift-idx-passcode-04-challenge-answer-response.json"] = Answer(success)
        issue = success.json()["successWithInteractionCode"]["value"]
        interaction_code = next(f["value"] for f in issue if f["name"] == "interaction_code")
        tokens = http.post(
            f"{okta.issuer}/v1/token",
            data={
                "grant_type": "interaction_code",
                "interaction_code": interaction_code,
                "code_verifier": verifier,
            },
            auth=WEB,
        )
        got["swift-idx-passcode-05-token-response.json"] = Answer(tokens)
        expired = idx("introspect", {"stateHandle": state_handle + "-unknown"})
        got["swift-idx-introspect-error-response.json"] = Answer(expired)
        again = idx(
            "introspect", {"interactionHandle": interact(challenge).json()["interaction_handle"]}
        )
        cancelled = idx("cancel", {"stateHandle": again.json()["stateHandle"]})
        got["swift-idx-restart-06-cancel-response.json"] = Answer(cancelled)
        password = http.post(
            f"{okta.issuer}/v1/token",
            data={
                "grant_type": "password",
                "username": DEMO.user_login,
                "password": DEMO.user_password,
                "scope": SCOPE,
            },
            auth=WEB,
        )
        got["swift-directauth-token-mfa_required.json"] = Answer(password)
        okta.clock.advance(30)  # the next time step: the code above was used
        direct = http.post(
            f"{okta.issuer}/v1/token",
            data={
                "grant_type": MFA_OTP,
                "mfa_token": password.json()["mfa_token"],
                "otp": totp.at(okta.clock.now()),
            },
            auth=WEB,
        )
        got["swift-directauth-token.json"] = Answer(direct)
        assert okta.internal_errors == []
    return got


NO_RECOVERY = "$.currentAuthenticator.value.recover: missing"
NO_REGISTRATION = (
    "$.remediation.value: names ['identify'] instead of ['identify', 'select-enroll-profile']"
)
# The Java SDK's recordings are older: forms there accept ion+json and name no `produces`; the
# Swift single-form recording (and okta-signin-widget's) accept json and produce ion+json, as the
# emulator does.
OLDER_CONTENT_TYPES = {
    "$.cancel.accepts: 'application/json; okta-version=1.0.0' instead of"
    " 'application/ion+json; okta-version=1.0.0'",
    "$.cancel.produces: extra",
}
# okta-signin-widget's recorded states name the user's login too (`user.value.identifier`).
USER_IDENTIFIER = "$.user.value.identifier: extra"

EXPECTED: dict[str, tuple[int, str, set[str]]] = {
    "swift-idx-interact-response.json": (200, "application/json", set()),
    # The emulator offers no self-service recovery or registration (neither form is served).
    "swift-idx-identify-single-form-response.json": (200, ION, {NO_RECOVERY, NO_REGISTRATION}),
    "idx-java-identify-error-response.json": (
        400,
        ION,
        {NO_RECOVERY, NO_REGISTRATION, *OLDER_CONTENT_TYPES},
    ),
    # The recording's user verifies an email code (a password was current before); the
    # emulator's verifies Google Authenticator (`google_otp`, type `app`, method `otp`, as in
    # okta-signin-widget's authenticator-verification-google-authenticator.json), which Okta
    # offers beside "select-authenticator-authenticate" (the same widget recording).
    "idx-java-challenge-error-response.json": (
        401,
        ION,
        {
            "$.authenticatorEnrollments.value[0].key: extra",
            "$.authenticatorEnrollments.value[0].methods[0].type: 'otp' instead of 'email'",
            "$.authenticatorEnrollments.value[0].profile: missing",
            "$.authenticatorEnrollments.value[0].type: 'app' instead of 'email'",
            "$.authenticators.value[0].key: extra",
            "$.authenticators.value[0].methods[0].type: 'otp' instead of 'email'",
            "$.authenticators.value[0].type: 'app' instead of 'email'",
            "$.currentAuthenticatorEnrollment.value.key: extra",
            "$.currentAuthenticatorEnrollment.value.methods[0].type: 'otp' instead of 'password'",
            "$.currentAuthenticatorEnrollment.value.recover: missing",
            "$.currentAuthenticatorEnrollment.value.type: 'app' instead of 'password'",
            "$.remediation.value: names ['challenge-authenticator',"
            " 'select-authenticator-authenticate'] instead of ['challenge-authenticator']",
            "$.remediation.value[challenge-authenticator].accepts: 'application/json;"
            " okta-version=1.0.0' instead of 'application/ion+json; okta-version=1.0.0'",
            "$.remediation.value[challenge-authenticator].produces: extra",
            *OLDER_CONTENT_TYPES,
            USER_IDENTIFIER,
        },
    ),
    "swift-idx-passcode-04-challenge-answer-response.json": (
        200,
        ION,
        {*OLDER_CONTENT_TYPES, USER_IDENTIFIER},
    ),
    "swift-idx-passcode-05-token-response.json": (200, "application/json", set()),
    "swift-idx-introspect-error-response.json": (401, ION, set()),
    # The recorded org asks for the username first (identifier-first policy); the emulator's
    # identify form takes the password with it, as identify-single-form-response.json does.
    "swift-idx-restart-06-cancel-response.json": (
        200,
        ION,
        {
            "$.currentAuthenticator: extra",
            "$.remediation.value[identify].value: names ['identifier', 'credentials',"
            " 'rememberMe', 'stateHandle'] instead of ['identifier', 'rememberMe', 'stateHandle']",
        },
    ),
    # The Swift mock's description is a placeholder; the emulator's is Okta's catalogue text
    # (`mfa_required`), and, as Okta's guide's examples, it names no `supported_challenge_types`.
    "swift-directauth-token-mfa_required.json": (
        403,
        "application/json",
        {
            "$.error_description: 'Verify with an additional authenticator to complete the"
            " sign-in process.' instead of 'MFA Required'",
            "$.supported_challenge_types: missing",
        },
    ),
    "swift-directauth-token.json": (200, "application/json", set()),
}


def test_every_fixture_file_is_compared() -> None:
    files = {path.name for path in FIXTURES.glob("*.json")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_answer_matches_the_recorded_one(answers: dict[str, Answer], fixture: str) -> None:
    status, content_type, expected = EXPECTED[fixture]
    answer = answers[fixture]
    assert (answer.status, answer.content_type) == (status, content_type)
    assert differences(answer.body, recorded(fixture)) == expected


def test_the_comparison_sees_a_changed_field() -> None:
    """The comparison itself: a renamed remediation, a retyped value, a changed text each show."""
    mine = recorded("swift-idx-identify-single-form-response.json")
    assert differences(mine, mine) == set()
    changed = json.loads(json.dumps(mine))
    changed["remediation"]["value"][0]["name"] = "identify-first"
    changed["expiresAt"] = 0
    changed["intent"] = "ENROLL"
    found = differences(changed, mine)
    assert "$.expiresAt: number instead of string" in found
    assert "$.intent: 'ENROLL' instead of 'LOGIN'" in found
    assert any("names ['identify-first'" in line for line in found)
