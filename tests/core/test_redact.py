"""The redacting types: secrets keep out of reprs, str() of containers and tracebacks."""

from __future__ import annotations

from pytest_okta_user.masking import mask
from pytest_okta_user.redact import Concealed, Credentials, RedactedStr, RedactedUrl, SecretDict


def test_credentials_repr_is_redacted() -> None:
    creds = Credentials(password="pw-value-1", client_secret="cs-value-2", totp_secret=None)
    for text in (repr(creds), str(creds), repr([creds])):
        assert "pw-value-1" not in text
        assert "cs-value-2" not in text
    assert "password=<set>" in repr(creds)
    assert "totp_secret=<unset>" in repr(creds)
    assert creds.password == "pw-value-1"


def test_secret_types_redact_their_repr() -> None:
    secret = RedactedStr("hunter2-value")
    assert "hunter2" not in repr(secret)
    assert secret == "hunter2-value"
    assert f"{secret}" == "hunter2-value"
    assert "hunter2" not in repr({"password": secret})
    bag = SecretDict(access_token="eyJ-secret", state="s")
    assert "eyJ-secret" not in repr(bag)
    assert "access_token" in repr(bag)


def test_passwords_and_secrets_show_no_fingerprint() -> None:
    creds = Credentials(
        password="pw-value-3", client_secret="cs-value-4", totp_secret="JBSWY3DPEHPK3PXP"
    )
    for value in (creds.password, creds.client_secret, creds.totp_secret):
        assert isinstance(value, Concealed)
        assert repr(value) == "<redacted: set>"
        assert repr({"password": value}) == "{'password': <redacted: set>}"


def test_a_redirect_url_is_redacted_but_not_masked_whole() -> None:
    # Masking it whole would mask every piece of the redirect URI in every output.
    url = RedactedUrl("http://localhost:8080/authorization-code/callback?code=the-code-value-1")
    assert "the-code" not in repr(url)
    assert mask("http://localhost:8080/authorization-code/callback") == (
        "http://localhost:8080/authorization-code/callback"
    )
