"""The emulator's error types: what a rule raises when Okta would answer with an error.

Each names its catalogue entry (`catalogue.py`, Okta's own texts) and carries plain values; `app.py`
renders them: `ApiError` as an /api/v1 E0000xxx body, `OAuthError` as `{"error",
"error_description"}` (or redirected by /authorize), `ApiShapedOAuthError` as an OAuth entry in
the /api/v1 shape, `PageError` as Okta's HTML error page and `BearerError` as an empty answer
with a `WWW-Authenticate: Bearer` header (RFC 6750 section 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .catalogue import API_ERRORS, OAUTH_ERRORS
from .ids import opaque_token


def describe(key: str, *args: str) -> str:
    """The catalogue's description with its placeholders (`en`, `{1}`, `{2}`) filled in."""
    text = OAUTH_ERRORS[key].description
    if args:
        text = re.sub(r"\ben\b", lambda _m: args[0], text, count=1)
        for index, value in enumerate(args[1:], start=1):
            text = text.replace("{" + str(index) + "}", value)
    return text


def api_summary(code: str, detail: str | None = None) -> str:
    summary = API_ERRORS[code].summary
    return summary.replace("{0}", detail or "") if "{0}" in summary else summary


class EmulatorError(Exception):
    """An answer Okta gives as an error; `app.render_error` renders each kind."""


class ApiError(EmulatorError):
    """An /api/v1 error: `{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}`."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        causes: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.causes = list(causes)
        self.headers = dict(headers or {})
        self.status = API_ERRORS[code].status

    def body(self) -> dict[str, Any]:
        """Okta's error object; `errorId` is a fresh random id per answer, as Okta's is."""
        return {
            "errorCode": self.code,
            "errorSummary": api_summary(self.code, self.detail),
            "errorLink": self.code,
            "errorId": "oae" + opaque_token(16)[:22],
            "errorCauses": [{"errorSummary": cause} for cause in self.causes],
        }


class OAuthError(EmulatorError):
    """An OAuth error, named by the catalogue's internal code; JSON, or redirected by /authorize."""

    def __init__(self, key: str, *args: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.error = OAUTH_ERRORS[key].error
        self.status = OAUTH_ERRORS[key].status
        self.description = describe(key, *args)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class ApiShapedOAuthError(OAuthError):
    """An OAuth catalogue entry that Okta answers in its /api/v1 shape, not as `{"error"}`.

    Okta answers an unknown `client_id` at /token this way: `{"errorCode": "invalid_client",
    "errorSummary": "Invalid value for 'client_id' parameter.", "errorLink": "invalid_client",
    "errorId": "oae...", "errorCauses": []}` (recorded in okta/okta-idx-java#500, the same body
    that Okta mocks in public provider test suites carry).
    """

    def body(self) -> dict[str, Any]:
        return {
            "errorCode": self.error,
            "errorSummary": self.description,
            "errorLink": self.error,
            "errorId": "oae" + opaque_token(16)[:22],
            "errorCauses": [],
        }


class PageError(EmulatorError):
    """An /authorize or /logout error that Okta shows as its HTML error page (never redirected)."""

    def __init__(self, key: str, *args: str) -> None:
        super().__init__(key)
        self.error = OAUTH_ERRORS[key].error
        self.description = describe(key, *args)


class BearerError(EmulatorError):
    """A refused bearer token at /userinfo: an empty body, the error in `WWW-Authenticate`."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        entry = OAUTH_ERRORS[key]
        self.status = entry.status
        # The catalogue's text as it stands: Okta fills no placeholders in this header.
        self.challenge = f'Bearer error="{entry.error}", error_description="{entry.description}"'
