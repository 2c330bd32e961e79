"""The scan's index after issue 15's follow-up: forms whose pieces another form gives are not
indexed twice (base64 without padding; standard and URL-safe base64, folded into one alphabet),
and every one of them is still masked, whole, in pieces and next to a cut."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from pytest_okta_user import masking
from pytest_okta_user.redact import fingerprint

# Chosen so that its standard base64 holds both "+" and "/" (and padding): the two alphabets
# differ there, and the padded and unpadded forms differ at the end.
SECRET = "tok\xfb\xff-\u00ff?>>>~~~~secret-value-with-some-length-\u00fe\u00ff\u00fbx???"


@pytest.fixture(autouse=True)
def _masking_on() -> Iterator[None]:
    masking.enable()
    yield
    masking.enable()


def _forms() -> dict[str, str]:
    raw = SECRET.encode()
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    return {
        "standard": standard,
        "standard, unpadded": standard.rstrip("="),
        "urlsafe": urlsafe,
        "urlsafe, unpadded": urlsafe.rstrip("="),
    }


def test_the_chosen_secret_exercises_both_alphabets() -> None:
    forms = _forms()
    assert "+" in forms["standard"]
    assert "/" in forms["standard"]
    assert "-" in forms["urlsafe"]
    assert "_" in forms["urlsafe"]
    assert forms["standard"].endswith("=")


def test_every_base64_form_is_masked_whole_and_in_pieces() -> None:
    masking.register(SECRET)
    label = f"<masked {fingerprint(SECRET)}>"
    for name, form in _forms().items():
        assert masking.mask(f"[{form}]") == f"[{label}]", name
        for start in range(0, len(form) - masking.PIECE + 1, 5):
            piece = form[start : start + masking.PIECE]
            assert piece not in masking.mask(f"x {piece} y"), (name, start)


def test_pieces_of_each_base64_form_next_to_a_cut_are_masked() -> None:
    masking.register(SECRET)
    for name, form in _forms().items():
        for size in (6, 9, 11):
            cut = f"'{form[:size]}...{form[-size:]}'"
            masked = masking.mask(cut)
            assert form[:size] not in masked, (name, size)
            assert form[-size:] not in masked, (name, size)


def test_the_index_holds_one_base64_alphabet() -> None:
    masking.register(SECRET)
    masking.mask(f"x {SECRET} y")  # the first mask indexes what was registered
    # Every piece is indexed folded ("+" and "/" as "-" and "_"): the standard and URL-safe
    # forms share one set of pieces, which the scan looks up folded too.
    assert not any("+" in piece or "/" in piece for piece in masking._REGISTRY.pieces)


def test_a_value_indexed_before_the_run_key_changes_takes_the_new_label() -> None:
    secret = "indexed-before-the-key-changed-0123456789"
    before = masking.run_key()
    masking.register(secret)
    assert masking.mask(f"x {secret} y") == f"x <masked {fingerprint(secret)}> y"  # indexed
    try:
        masking.set_run_key("22" * 32)
        assert masking.mask(f"x {secret} y") == f"x <masked {fingerprint(secret)}> y"
        assert masking.mask(f"x {secret[3:20]} y") == "x <masked> y"  # a piece, still indexed
    finally:
        masking.set_run_key(before)


def test_registered_as_a_token_then_as_a_password_before_any_mask() -> None:
    # Both registrations are pending when the first mask indexes them: the password's label,
    # which says nothing of the value, wins, as when each is indexed at once.
    secret = "first-a-token-then-a-password-0123456789"
    masking.register(secret)
    masking.register(secret, fingerprinted=False)
    assert masking.mask(f"[{secret}]") == "[<masked>]"
