"""Rules of Okta's Classic Authentication API: /api/v1/authn and its transaction steps.

Each function takes the org, the parsed JSON body (a plain mapping) and the org URL (for `_links`),
and returns the JSON body of the answer or raises `ApiError`. Reference:
https://developer.okta.com/docs/reference/api/authn/ (transaction states, error codes; a user with
a factor is sent to MFA_REQUIRED before PASSWORD_EXPIRED).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .catalogue import API_ERRORS
from .errors import ApiError
from .model import Org
from .ratelimits import user_limit_headers
from .records import User

MFA_STATES = ("MFA_REQUIRED", "MFA_CHALLENGE")


def iso(epoch: float) -> str:
    """Okta's timestamps: ISO 8601 in UTC with milliseconds (`2015-11-03T10:15:57.000Z`)."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def blank(name: str) -> ApiError:
    return ApiError("E0000001", name, causes=[f"{name}: The field cannot be left blank"])


def primary(org: Org, body: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """POST /api/v1/authn: username and password, or a stateToken to resume a transaction."""
    state_token = body.get("stateToken")
    if state_token is not None and not body.get("username"):
        if not isinstance(state_token, str):
            raise ApiError("E0000003")
        txn = org.transaction(state_token)
        if txn is None:
            raise ApiError("E0000011")
        user = org.user(txn.user_id)
        if user is None:
            raise ApiError("E0000011")
        return transaction(org, base_url, user, txn.status, state_token)
    if "token" in body and "username" not in body:
        # Activation/recovery tokens are never issued by the emulator: all are unknown.
        raise ApiError("E0000011")
    username, password = body.get("username"), body.get("password")
    for name, value in (("username", username), ("password", password)):
        if value is not None and not isinstance(value, str):
            raise ApiError("E0000003")
        if not value:
            raise blank(name)
    for name in ("options", "context"):
        if name in body and not isinstance(body[name], dict):
            raise ApiError("E0000003")
    assert isinstance(username, str)
    assert isinstance(password, str)
    user = org.user_by_login(username)
    reset = org.user_limit_reset("authn", user.login if user else username)
    if reset is not None:
        raise ApiError("E0000047", headers=user_limit_headers(org.limiter.limit, reset))
    if user is None:
        raise ApiError("E0000004")
    if user.status == "LOCKED_OUT":
        return locked_out(org, base_url)
    if user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
        raise ApiError("E0000004")
    if not org.check_password(user, password):
        if user.status == "LOCKED_OUT":
            return locked_out(org, base_url)
        raise ApiError("E0000004")
    # On Identity Engine authn answers only to the global session policy, here a password alone:
    # SUCCESS even for a user enrolled in TOTP (each app's policy is checked at /authorize).
    if user.totp_secret and org.pipeline != "idx":
        return new_transaction(org, base_url, user, "MFA_REQUIRED")
    if user.status == "PASSWORD_EXPIRED":
        return new_transaction(org, base_url, user, "PASSWORD_EXPIRED")
    return success(org, user, ["pwd"])


def verify_factor(
    org: Org, body: Mapping[str, Any], factor_id: str, base_url: str
) -> dict[str, Any]:
    """POST /api/v1/authn/factors/{factorId}/verify with a TOTP passCode."""
    state_token, user, status = state_transaction(org, body)
    if status not in MFA_STATES:
        raise ApiError("E0000079", causes=[API_ERRORS["E0000079"].summary])
    if factor_id != user.factor_id:
        raise ApiError("E0000007", f"Resource not found: {factor_id} (UserFactor)")
    passcode = body.get("passCode")
    if passcode is not None and not isinstance(passcode, str):
        raise ApiError("E0000003")
    if not passcode:
        raise blank("passCode")
    verdict = org.check_totp(user, passcode)
    if verdict == "invalid":
        raise ApiError(
            "E0000068", causes=["Your passcode doesn't match our records. Please try again."]
        )
    if verdict == "replayed":
        raise ApiError("E0000082", causes=[API_ERRORS["E0000082"].summary])
    org.end_transaction(state_token)
    if user.status == "PASSWORD_EXPIRED":
        return new_transaction(org, base_url, user, "PASSWORD_EXPIRED")
    return success(org, user, ["mfa", "otp", "pwd"])


def change_password(org: Org, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/credentials/change_password in the PASSWORD_EXPIRED state."""
    state_token, user, status = state_transaction(org, body)
    if status != "PASSWORD_EXPIRED":
        raise ApiError("E0000079", causes=[API_ERRORS["E0000079"].summary])
    old, new = body.get("oldPassword"), body.get("newPassword")
    if not isinstance(old, str) or not isinstance(new, str):
        raise ApiError("E0000003")
    if not secrets.compare_digest(old.encode(), user.password.encode()):
        raise ApiError("E0000014", causes=["oldPassword: The credentials provided were incorrect."])
    # A simplified form of the policy `transaction` advertises: 8 characters or more, not the
    # old password, not containing the username.
    if len(new) < 8 or new == old or user.login.split("@")[0].lower() in new.lower():
        raise ApiError("E0000080", causes=[API_ERRORS["E0000080"].summary])
    org.set_password(user, new)
    org.end_transaction(state_token)
    return success(org, user, ["pwd"])


def cancel(org: Org, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/cancel: the transaction ends; Okta answers an empty object."""
    state_token, _, _ = state_transaction(org, body)
    org.end_transaction(state_token)
    return {}


def state_transaction(org: Org, body: Mapping[str, Any]) -> tuple[str, User, str]:
    """The live transaction a step names: (stateToken, user, status), or E0000011."""
    state_token = body.get("stateToken")
    if state_token is None:
        raise blank("stateToken")
    if not isinstance(state_token, str):
        raise ApiError("E0000003")
    txn = org.transaction(state_token)
    user = org.user(txn.user_id) if txn else None
    if txn is None or user is None:
        raise ApiError("E0000011")
    return state_token, user, txn.status


def locked_out(org: Org, base_url: str) -> dict[str, Any]:
    # Okta's default password policy hides lockout behind the plain authentication failure.
    if not org.show_lockout_failures:
        raise ApiError("E0000004")
    return {
        "status": "LOCKED_OUT",
        "_links": {
            "next": {
                "name": "unlock",
                "href": f"{base_url}/api/v1/authn/recovery/unlock",
                "hints": {"allow": ["POST"]},
            }
        },
    }


def embedded_user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "passwordChanged": iso(user.password_changed),
        "profile": {
            "login": user.login,
            "firstName": user.profile.get("firstName"),
            "lastName": user.profile.get("lastName"),
            "locale": user.profile.get("locale"),
            "timeZone": user.profile.get("timeZone"),
        },
    }


def success(org: Org, user: User, amr: list[str]) -> dict[str, Any]:
    """SUCCESS: a single-use sessionToken and the user, no stateToken."""
    token, expires_at = org.issue_session_token(user, amr)
    return {
        "expiresAt": iso(expires_at),
        "status": "SUCCESS",
        "sessionToken": token,
        "_embedded": {"user": embedded_user(user)},
    }


def new_transaction(org: Org, base_url: str, user: User, status: str) -> dict[str, Any]:
    return transaction(org, base_url, user, status, org.new_transaction(user, status))


def transaction(
    org: Org, base_url: str, user: User, status: str, state_token: str
) -> dict[str, Any]:
    """A transaction waiting for its next step: MFA (the TOTP factor) or a password change."""
    txn = org.transactions[state_token]
    embedded: dict[str, Any] = {"user": embedded_user(user)}
    links: dict[str, Any] = {
        "cancel": {
            "href": f"{base_url}/api/v1/authn/cancel",
            "hints": {"allow": ["POST"]},
        }
    }
    if status in MFA_STATES:
        embedded["factors"] = [
            {
                "id": user.factor_id,
                "factorType": "token:software:totp",
                "provider": "GOOGLE",
                "vendorName": "GOOGLE",
                "profile": {"credentialId": user.login},
                "_links": {
                    "verify": {
                        "href": f"{base_url}/api/v1/authn/factors/{user.factor_id}/verify",
                        "hints": {"allow": ["POST"]},
                    }
                },
            }
        ]
        embedded["policy"] = {
            "allowRememberDevice": False,
            "rememberDeviceLifetimeInMinutes": 0,
            "rememberDeviceByDefault": False,
            "factorsPolicyInfo": {},
        }
    elif status == "PASSWORD_EXPIRED":
        embedded["policy"] = {
            "complexity": {
                "minLength": 8,
                "minLowerCase": 1,
                "minUpperCase": 1,
                "minNumber": 1,
                "minSymbol": 0,
                "excludeUsername": True,
            },
            "age": {"minAgeMinutes": 0, "historyCount": 0},
        }
        links["next"] = {
            "name": "changePassword",
            "href": f"{base_url}/api/v1/authn/credentials/change_password",
            "hints": {"allow": ["POST"]},
        }
    return {
        "stateToken": state_token,
        "expiresAt": iso(txn.expires_at),
        "status": status,
        "_embedded": embedded,
        "_links": links,
    }
