"""The sign-in page's HTML: a form a browser fills in and submits, without JavaScript.

Its fields carry the ids of the Classic sign-in widget (`okta-signin-username`,
`okta-signin-password`, `okta-signin-submit`), so that a UI test's selectors written for Okta's page
also find them here. Every value is HTML-escaped. The page never holds a form named `appForm` nor an
OAuth response key as a hidden input: clients tell it apart from a form_post answer by that.
"""

from __future__ import annotations

import html

from .signin import SIGN_IN_PATH, Form

STYLE = (
    "body{font-family:sans-serif;background:#f9f9f9}"
    "#okta-sign-in{max-width:400px;margin:60px auto;padding:24px;background:#fff;"
    "border:1px solid #ddd;border-radius:4px}"
    "label,input{display:block;width:100%;box-sizing:border-box;margin:6px 0}"
    ".okta-form-infobox-error{color:#d93934;border:1px solid #d93934;padding:8px}"
)


def field(label: str, name: str, kind: str, ident: str, value: str = "", extra: str = "") -> str:
    return (
        f'<label for="{ident}">{html.escape(label)}</label>\n'
        f'<input type="{kind}" name="{name}" id="{ident}" value="{html.escape(value)}"{extra}/>\n'
    )


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{html.escape(value)}"/>\n'


def sign_in_page(base_url: str, form: Form) -> str:
    """The password step (username + password) or the TOTP step (the code) of the sign-in page."""
    action = html.escape(base_url + SIGN_IN_PATH)
    error = ""
    if form.error:
        error = (
            '<div class="o-form-error-container o-form-has-errors">'
            '<div class="okta-form-infobox-error infobox infobox-error" role="alert">'
            f"<p>{html.escape(form.error)}</p></div></div>\n"
        )
    if form.step == "totp":
        title = "Enter your Google Authenticator passcode"
        fields = (
            f"<p>{html.escape(form.username)}</p>\n"
            + field(
                "Enter Code",
                "passCode",
                "text",
                "okta-signin-passcode",
                extra=' autocomplete="one-time-code" inputmode="numeric" autofocus',
            )
            + hidden("stateToken", form.state_token)
            + '<input type="submit" id="okta-signin-submit" value="Verify"/>\n'
        )
    else:
        title = "Sign In"
        fields = (
            field(
                "Username",
                "username",
                "text",
                "okta-signin-username",
                form.username,
                ' autocomplete="username"',
            )
            + field(
                "Password",
                "password",
                "password",
                "okta-signin-password",
                extra=' autocomplete="current-password"',
            )
            + '<input type="submit" id="okta-signin-submit" value="Sign In"/>\n'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Okta Emulator - {html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
        '<div id="okta-sign-in" class="auth-container main-container">\n'
        f"<h2>{html.escape(title)}</h2>\n"
        f"{error}"
        f'<form method="POST" action="{action}" id="form-signin">\n'
        f"{fields}"
        f"{hidden('fromURI', form.from_uri)}"
        "</form></div>\n</body></html>\n"
    )
