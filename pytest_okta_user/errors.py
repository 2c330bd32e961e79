"""One exception family. Every error says what happened, the likely cause, and the fix.

Messages never contain secrets: callers pass descriptions, never token or password values.
"""

from __future__ import annotations


class OktaUserError(Exception):
    """Base of every error the plugin raises on purpose.

    ``what``: what happened (with Okta's code and description when there is one).
    ``fix``: what to change, naming the Okta admin setting or our setting (its command-line, env and ini names).
    """

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")
