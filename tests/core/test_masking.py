"""masking.py: what is masked (every form, pieces, cuts, Bearer/Basic, JWTs), what is not, and
fingerprints that verify nothing offline (issue 9, points 1 and 2)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from support.settings_env import run

from pytest_okta_user import masking, options
from pytest_okta_user.client import ClientAuth
from pytest_okta_user.errors import SettingError
from pytest_okta_user.redact import Concealed, Credentials, RedactedStr, SecretDict, fingerprint

TOKEN = "eyJraWQiOiJrMSJ9.eyJzdWIiOiJtYXNraW5nIn0." + "Zm9vYmFy_-" * 12


@pytest.fixture(autouse=True)
def _masking_on() -> Iterator[None]:
    masking.enable()
    yield
    masking.enable()


def test_every_form_of_a_registered_token_is_masked() -> None:
    token = RedactedStr(TOKEN)
    label = f"<masked {fingerprint(token)}>"
    for form in (
        TOKEN,
        quote(TOKEN, safe=""),
        json.dumps(TOKEN)[1:-1],
        base64.b64encode(TOKEN.encode()).decode(),
        f"Bearer {TOKEN}",
    ):
        assert TOKEN not in masking.mask(f"x {form} y"), form
    assert masking.mask(f"[{TOKEN}]") == f"[{label}]"
    # f-strings and joins give plain strs: masked by value all the same.
    assert masking.mask("".join(token)) == label


def test_a_password_gets_no_fingerprint_anywhere() -> None:
    password = "Pa$$ w0rd\"'&<x>"
    credentials = Credentials(password=password)
    assert repr(credentials.password) == "<redacted: set>"
    assert "password=<set>" in repr(credentials)
    body = json.dumps({"password": str(credentials.password)}).encode()
    for text in (password, repr(body), quote_plus(password), str(body)):
        assert masking.mask(text).count("<masked>") >= 1, text
        assert "w0rd" not in masking.mask(text), text


def test_the_basic_header_of_a_client_secret_is_masked_in_both_encodings() -> None:
    auth = ClientAuth("0oa-client", "se:cret/with+chars")
    assert isinstance(auth.client_secret, Concealed)
    for user, secret in (
        ("0oa-client", "se:cret/with+chars"),
        ("0oa-client", "se%3Acret%2Fwith%2Bchars"),
    ):
        basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
        # (Other tests of this process register values of their own: only the end is certain.)
        assert masking.mask(f"Authorization: Basic {basic}").endswith(": Basic <masked>")


def test_pieces_cut_by_pytest_are_masked() -> None:
    RedactedStr(TOKEN)
    cut_repr = f"'Bearer {TOKEN[:40]}...{TOKEN[-30:]}'"
    assert TOKEN[20:40] not in masking.mask(cut_repr)
    assert TOKEN[-30:-10] not in masking.mask(cut_repr)
    middle = f"Skipping 84 identical leading characters\n- {TOKEN[60:]}"
    assert TOKEN[70:90] not in masking.mask(middle)


def test_unregistered_jwts_and_bearer_values_are_masked_by_shape() -> None:
    stranger = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdHJhbmdlciJ9.c2lnbmF0dXJlLXZhbHVl"
    assert "stranger" not in masking.mask(stranger)
    assert masking.mask(f"{{'Authorization': 'Bearer {'q' * 30}'}}").count("q") == 0


def test_only_secret_keys_of_a_secret_dict_are_registered() -> None:
    SecretDict(grant_type="authorization_code", code="code-value-123456", scope="openid profile")
    assert masking.mask("code-value-123456") != "code-value-123456"
    assert masking.mask("authorization_code openid profile") == "authorization_code openid profile"


def test_short_values_are_not_registered() -> None:
    RedactedStr("123456")  # a TOTP code: masking it would mask every such number
    assert masking.mask("took 123456 ms") == "took 123456 ms"


def test_masking_off_shows_everything() -> None:
    RedactedStr(TOKEN)
    masking.disable()
    assert masking.mask(TOKEN) == TOKEN


def test_fingerprints_are_keyed_per_run_and_verify_nothing_offline() -> None:
    secret = "eyJ-some-token-value-0123456789"
    unsalted = hashlib.sha256(secret.encode()).hexdigest()[:8]
    before = masking.run_key()
    first = fingerprint(secret)
    assert first != unsalted
    RedactedStr(secret)
    try:
        masking.set_run_key("11" * 32)
        second = fingerprint(secret)
        assert second != first
        # Labels follow the key (xdist workers take the controller's: one token, one label).
        assert masking.mask(secret) == f"<masked {second}>"
    finally:
        masking.set_run_key(before)
    assert fingerprint(secret) == first


@pytest.mark.parametrize(
    ("option", "value"),
    [
        (options.TIMEOUT, "1e10"),
        (options.TIMEOUT, "601"),
        (options.RATE_LIMIT_WAIT, "1e9"),
        (options.MIN_TTL, "86400"),
        (options.MIN_TTL, "nan"),
        (options.TIMEOUT, "-inf"),
    ],
)
def test_out_of_range_transport_settings_are_refused(
    option: options.Option[float], value: str
) -> None:
    with pytest.raises(options.BadValue) as info:
        option.parse(value)
    assert repr(value) in str(info.value)
    assert info.value.fix.startswith("use e.g.")


def test_an_overflowing_timeout_is_a_one_line_settings_error() -> None:
    # OKTA_TIMEOUT=1e10 used to reach urllib3 and end in an OverflowError, the password in its
    # locals.
    with pytest.raises(SettingError) as info:
        run(env={"OKTA_TIMEOUT": "1e10"})
    assert str(info.value) == (
        "request timeout (from env OKTA_TIMEOUT): '1e10' is more than 600 seconds (longer than"
        " any proxy waits); fix: use e.g. 10"
    )
