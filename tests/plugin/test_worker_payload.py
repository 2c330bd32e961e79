"""What the controller hands the xdist workers: a typed payload, plain values only on the wire."""

from __future__ import annotations

import json

from pytest_okta_user.emulator_info import EmulatorInfo
from pytest_okta_user.plugin import WorkerPayload
from pytest_okta_user.redact import Secret


def test_the_payload_crosses_as_plain_values_and_comes_back_typed() -> None:
    emulator = EmulatorInfo("http://127.0.0.1:4000", "inst-1", {"OKTA_PASSWORD": "demo-pw-123"})
    payload = WorkerPayload(Secret("typed-pw-456"), "", emulator)

    sent = json.loads(json.dumps(payload.to_dict()))  # execnet sends builtin types only
    back = WorkerPayload.from_dict(sent)

    assert sent["password"] == "typed-pw-456"
    assert isinstance(back.password, Secret)
    assert back.password.reveal() == "typed-pw-456"
    assert back.emulator == emulator
    assert back.emulator is not None
    assert back.emulator.env() == {"OKTA_PASSWORD": "demo-pw-123"}
    for secret in ("typed-pw-456", "demo-pw-123"):
        assert secret not in repr(back)


def test_an_empty_payload_means_no_password_and_no_emulator() -> None:
    assert WorkerPayload.from_dict({}) == WorkerPayload()
    assert WorkerPayload.from_dict(WorkerPayload(None, "not asked").to_dict()) == WorkerPayload(
        None, "not asked"
    )
