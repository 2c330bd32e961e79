"""Identity Engine policy rules: what an app's authentication policy asks of a sign-in.

On an Identity Engine org (`Org.pipeline == "idx"`) the Classic Authentication API only meets the
org's global session policy (a password); each app's authentication policy is checked when
/authorize runs, so a password-only sessionToken meets `login_required` "The client specified not
to prompt, but the client app requires re-authentication or MFA." on an app that asks for a
second factor (okta/okta-auth-js#1454, #532, #847; shared/okta-api-facts.md section 8.1; Okta's
catalogue entry `app_sign_on_required`). Direct Authentication and the Interaction Code flow
(`direct.py`, `idx.py`) meet the same policies. A Classic org (`v1`) checks none of this.

Policies, named as the Admin Console's rule presets:
- `password`: a password alone.
- `password+totp`: "Password + Another factor", here a TOTP code (Google Authenticator).
- `any`: "Any 1 factor type": a password or a TOTP code
  (https://developer.okta.com/docs/guides/configure-direct-auth-grants/aotp/main/).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .records import OIE_GRANTS, App, AuthServer

if TYPE_CHECKING:
    from .model import Org

POLICIES = ("password", "password+totp", "any")
# The `amr` value each factor adds (what Okta's ID tokens say: `pwd`, `otp`, and `mfa` for two).
PASSWORD, OTP = "pwd", "otp"


def is_oie(org: Org) -> bool:
    return org.pipeline == "idx"


def satisfied(org: Org, app: App, amr: list[str]) -> bool:
    """Whether a sign-in whose factors are `amr` meets the app's authentication policy."""
    if not is_oie(org):
        return True
    factors = set(amr)
    if app.policy == "password+totp":
        return {PASSWORD, OTP} <= factors
    if app.policy == "any":
        return bool({PASSWORD, OTP} & factors)
    return PASSWORD in factors


def needs_otp(org: Org, app: App) -> bool:
    """After a password, whether the app's policy still asks for the TOTP code."""
    return is_oie(org) and app.policy == "password+totp"


def accepts_otp_alone(org: Org, app: App) -> bool:
    return is_oie(org) and app.policy == "any"


def amr_of(factors: list[str]) -> list[str]:
    """The `amr` of a sign-in with these factors, in the order the Classic path uses."""
    amr = sorted(set(factors))
    return ["mfa", *amr] if len(amr) > 1 else amr


def server_grants(org: Org, server: AuthServer) -> list[str]:
    """The grants the server's access policy allows. On Identity Engine the org authorization
    server has the Interaction Code and Direct Authentication grants by itself; a custom server
    only when its policy rule lists them ("Okta direct auth API grants", "Interaction Code")."""
    if not is_oie(org):
        # A Classic org has none of them, whatever a server lists.
        return [g for g in server.grant_types if g not in OIE_GRANTS]
    grants = list(server.grant_types)
    if server.is_org:
        grants += [g for g in OIE_GRANTS if g not in grants]
    return grants


def advertised_grants(org: Org, server: AuthServer) -> list[str]:
    """The grants discovery lists: on Identity Engine, every grant the server can be given."""
    if not is_oie(org):
        return [g for g in server.grant_types if g not in OIE_GRANTS]
    return list(server.grant_types) + [g for g in OIE_GRANTS if g not in server.grant_types]
