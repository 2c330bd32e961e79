"""Rules of Direct Authentication (Identity Engine): the password grant's `mfa_required`, the
MFA OTP grant, the OTP grant and `POST {issuer}/v1/challenge`.

On an Identity Engine org the password grant meets the app's authentication policy: when it asks
for a second factor, a right password is answered HTTP 403 `mfa_required` with an `mfa_token`,
and `grant_type=http://auth0.com/oauth/grant-type/mfa-otp` with that token and a TOTP code gives
the tokens. `urn:okta:params:oauth:grant-type:otp` signs in with a TOTP code alone where the
policy accepts one factor. A Classic org keeps answering `password_auth_denied_mfa`.

Sources: https://developer.okta.com/docs/guides/configure-direct-auth-grants/ (the bmfaotp and
aotp pages: requests, answers, settings), Okta's OAuth error catalogue (every `direct_auth_*` and
`mfa_required` entry), okta/okta-mobile-swift Tests/OktaDirectAuthTests/MockResponses
(token-mfa_required.json, token.json) and shared/research/oie-and-field-2026.md section 2.
Unconfirmed against a live org (and so chosen here): the `mfa_token` lifetime (5 minutes), the
answer to a replayed TOTP code (the catalogue's invalid-OTP entry; Okta has no other direct-auth
text for it), and the /v1/challenge answer for an OTP challenge (`{"challenge_type": ...}`,
as Okta answers an OOB one without its OOB fields).
"""

from __future__ import annotations

from typing import Any

from .clientauth import authenticate_client, client_form
from .errors import ApiError, OAuthError
from .grantkit import check_scopes, check_user_limit, required, user_tokens
from .inputs import OAuthCall, Params
from .model import Org
from .policies import amr_of, is_oie, satisfied
from .records import MFA_OTP_GRANT, OTP_GRANT, App, MfaToken, User

MFA_OOB_GRANT = "http://auth0.com/oauth/grant-type/mfa-oob"
OOB_GRANT = "urn:okta:params:oauth:grant-type:oob"
WEBAUTHN_GRANT = "urn:okta:params:oauth:grant-type:webauthn"
MFA_WEBAUTHN_GRANT = "urn:okta:params:oauth:grant-type:mfa-webauthn"
# What a client may list in `grant_types_supported` (the grants it can go on with).
DIRECT_GRANTS = (MFA_OTP_GRANT, MFA_OOB_GRANT, OTP_GRANT, OOB_GRANT, WEBAUTHN_GRANT)
CHALLENGE_TYPES = (MFA_OTP_GRANT, MFA_OOB_GRANT, MFA_WEBAUTHN_GRANT)


class MfaRequired(OAuthError):
    """HTTP 403 `mfa_required`, whose body also carries the `mfa_token`."""

    def __init__(self, mfa_token: str) -> None:
        super().__init__("mfa_required")
        self.mfa_token = mfa_token

    def body(self) -> dict[str, str]:
        return {**super().body(), "mfa_token": self.mfa_token}


def after_password(
    org: Org, call: OAuthCall, app: App, user: User, scopes: list[str], form: Params
) -> None:
    """The password grant on Identity Engine, once the password is right: return when the app's
    policy is met by the password, else raise `mfa_required` (or why the second factor cannot
    be asked for)."""
    if satisfied(org, app, ["pwd"]):
        return
    declared = form.get("grant_types_supported")
    if declared is not None:
        names = declared.split()
        for name in names:
            if name not in DIRECT_GRANTS:
                raise OAuthError("direct_auth_invalid_grant_type_supported", name)
        if MFA_OTP_GRANT not in names:
            raise OAuthError("direct_auth_grant_types_supported_not_prompted", declared)
    if MFA_OTP_GRANT not in app.grant_types:
        raise OAuthError("direct_auth_prompted_grant_type_disabled_for_client")
    if not user.totp_secret:
        raise OAuthError("direct_auth_factor_enrollment_required")
    raise MfaRequired(org.new_mfa_token(user, app.client_id, call.server.id, scopes))


def live_mfa_token(org: Org, call: OAuthCall, app: App, token: str) -> MfaToken:
    record = org.live_mfa_token(token)
    if record is None or record.server_id != call.server.id:
        raise OAuthError("direct_auth_expired_token", "mfa_token", "mfa_token")
    if record.client_id != app.client_id:
        raise OAuthError("direct_auth_invalid_client_id", app.client_id, record.client_id)
    return record


def grant_mfa_otp(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    """`grant_type=http://auth0.com/oauth/grant-type/mfa-otp` with `mfa_token` and `otp`."""
    token = required(form, "mfa_token")
    record = live_mfa_token(org, call, app, token)
    requested = form.get("scope")
    if requested is not None and requested.split() != record.scopes:
        raise OAuthError("direct_auth_invalid_scope", requested, " ".join(record.scopes))
    user = org.user(record.user_id)
    if user is None or user.status != "ACTIVE":
        raise OAuthError("direct_auth_expired_token", "mfa_token", "mfa_token")
    check_user_limit(org, user.login)
    if org.check_totp(user, form.get("otp") or "") != "ok":
        raise OAuthError("direct_auth_invalid_otp")
    org.end_mfa_token(token)
    return user_tokens(
        org, call, app, user, record.scopes, auth_time=org.clock.now(), amr=amr_of(["pwd", "otp"])
    )


def grant_otp(org: Org, call: OAuthCall, app: App, form: Params) -> dict[str, Any]:
    """`grant_type=urn:okta:params:oauth:grant-type:otp` with `login_hint` and `otp`: a TOTP
    code as the only factor, where the app's policy accepts any one factor."""
    server = call.server
    login_hint = form.get("login_hint")
    if not login_hint:
        raise OAuthError("direct_auth_missing_login_hint")
    scopes = (form.get("scope") or "").split()
    check_scopes(server, scopes)
    user = org.user_by_login(login_hint)
    check_user_limit(org, user.login if user else login_hint)
    if user is None or user.status != "ACTIVE":
        raise OAuthError("direct_auth_invalid_login_hint")
    if not satisfied(org, app, ["otp"]):
        raise OAuthError("direct_auth_policy_denied")
    if not user.totp_secret:
        raise OAuthError("direct_auth_factor_enrollment_required")
    if org.check_totp(user, form.get("otp") or "") != "ok":
        raise OAuthError("direct_auth_invalid_otp")
    if not user.is_assigned(app.client_id):
        raise OAuthError("user_not_assigned")
    return user_tokens(org, call, app, user, scopes, auth_time=org.clock.now(), amr=["otp"])


def challenge(org: Org, call: OAuthCall) -> dict[str, Any]:
    """POST {issuer}/v1/challenge with `mfa_token` and `challenge_types_supported`: for a TOTP
    code nothing is sent to the user; the answer names the grant to use next."""
    if not is_oie(org):
        raise ApiError("E0000007", f"Resource not found: {call.endpoint_url}")
    form = client_form(call)
    app = authenticate_client(org, call, form)
    token = required(form, "mfa_token")
    record = live_mfa_token(org, call, app, token)
    types = (form.get("challenge_types_supported") or "").split()
    for name in types:
        if name not in CHALLENGE_TYPES:
            raise OAuthError("direct_auth_invalid_challenge_type", name)
    user = org.user(record.user_id)
    if MFA_OTP_GRANT not in types or user is None or not user.totp_secret:
        raise OAuthError("direct_auth_factor_enrollment_required")
    return {"challenge_type": MFA_OTP_GRANT}


GRANTS = {MFA_OTP_GRANT: grant_mfa_otp, OTP_GRANT: grant_otp}
