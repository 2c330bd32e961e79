# ruff: noqa: E501  (catalogue texts are kept verbatim, on one line each)
"""Okta's own error catalogue entries that the emulator answers with, copied verbatim.

Source: https://github.com/okta/okta-developer-docs/blob/master/packages/%40okta/vuepress-site/data/oauth2-error-codes.json
and `.../data/error-codes.json` in the same repository, release 2026.08.1. In the OAuth texts the
literal word `en` (and `{1}`) is the catalogue's placeholder for a variable part; in the E-codes
it is `{0}`. tests/emulator/test_emulator_catalogue.py checks every entry against the catalogue
files.
"""

from __future__ import annotations

from typing import NamedTuple


class OAuthErrorEntry(NamedTuple):
    status: int
    error: str
    description: str


class ApiErrorEntry(NamedTuple):
    status: int
    summary: str


# internalErrorCode -> (statusCode, errorCode, errorDescription)
OAUTH_ERRORS: dict[str, OAuthErrorEntry] = {
    "access_token_in_query": OAuthErrorEntry(
        400, "invalid_request", "The access token cannot be presented in a query string."
    ),
    "access_token_insufficient_scopes": OAuthErrorEntry(
        403, "insufficient_scope", "The access token provided does not contain the required scopes."
    ),
    "access_token_invalid": OAuthErrorEntry(401, "invalid_token", "The access token is invalid."),
    "app_sign_on_required": OAuthErrorEntry(
        400,
        "login_required",
        "The client specified not to prompt, but the client app requires re-authentication or MFA.",
    ),
    "client_assertion_already_used": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion token has already been used."
    ),
    "client_assertion_expiration_required": OAuthErrorEntry(
        401,
        "invalid_client",
        "The client_assertion must contain the 'exp' claim as seconds since epoch.",
    ),
    "client_assertion_expired_token": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion token is expired."
    ),
    "client_assertion_expires_too_far_in_future": OAuthErrorEntry(
        401,
        "invalid_client",
        "The client_assertion token has an expiration too far into the future.",
    ),
    "client_assertion_invalid_audience": OAuthErrorEntry(
        401,
        "invalid_client",
        "The audience claim for client_assertion must be the endpoint invoked for the request.",
    ),
    "client_assertion_invalid_issuer": OAuthErrorEntry(
        401, "invalid_client", "The issuer claim for client_assertion is not a valid client_id."
    ),
    "client_assertion_invalid_jwt": OAuthErrorEntry(
        401, "invalid_client", "The parsing of the client_assertion failed."
    ),
    "client_assertion_invalid_kid": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion JWT kid is invalid."
    ),
    "client_assertion_invalid_secret_length": OAuthErrorEntry(
        401, "invalid_client", "The client secret is too short to verify a JWT HMAC."
    ),
    "client_assertion_invalid_signature": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion signature is invalid."
    ),
    "client_assertion_invalid_signature_algorithm": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion JWT signature algorithm is invalid."
    ),
    "client_assertion_invalid_subject": OAuthErrorEntry(
        401, "invalid_client", "The subject claim for client_assertion is not a valid client_id."
    ),
    "client_assertion_issued_at_in_future": OAuthErrorEntry(
        401, "invalid_client", "The client_assertion token must be issued before the current time."
    ),
    "client_assertion_jwks_not_configured": OAuthErrorEntry(
        401,
        "invalid_client",
        "The client does not have a JWKSet configured, but the client_assertion requires one.",
    ),
    "client_assertion_type_invalid": OAuthErrorEntry(
        400, "invalid_request", "The client_assertion_type is invalid."
    ),
    "client_credentials_in_query": OAuthErrorEntry(
        400, "invalid_request", "Client credentials cannot be supplied via query parameters."
    ),
    "direct_auth_expired_token": OAuthErrorEntry(
        403, "access_denied", "'en' has expired. Use a new '{1}' and try again."
    ),
    "direct_auth_factor_enrollment_required": OAuthErrorEntry(
        403,
        "access_denied",
        "The required authenticator cannot be used. Check if it is required by policy and the user is enrolled in the authenticator and try again.",
    ),
    "direct_auth_grant_types_supported_not_prompted": OAuthErrorEntry(
        403,
        "access_denied",
        "The 'grant_types_supported' 'en' are not sufficient to satisfy the authentication policy. Configure additional grant types for the client or revise the authentication policy to allow the user to sign-in.",
    ),
    "direct_auth_invalid_challenge_type": OAuthErrorEntry(
        400,
        "invalid_request",
        "en is not supported as a 'challenge_type'. Try again with another value.",
    ),
    "direct_auth_invalid_client_id": OAuthErrorEntry(
        401,
        "invalid_client",
        "The client_id 'en' does not match the client_id in the original request '{1}'. Use the original client id and try again.",
    ),
    "direct_auth_invalid_grant_type_supported": OAuthErrorEntry(
        400,
        "invalid_request",
        "en is not supported as a 'grant_type'. Remove or replace the value and try again.",
    ),
    "direct_auth_invalid_login_hint": OAuthErrorEntry(
        400, "invalid_grant", "The 'login_hint' does not uniquely identify a user."
    ),
    "direct_auth_invalid_otp": OAuthErrorEntry(
        400,
        "invalid_grant",
        "The 'otp' provided is either empty or incorrect. Use the correct OTP and try again.",
    ),
    "direct_auth_invalid_scope": OAuthErrorEntry(
        400,
        "invalid_scope",
        "The requested scopes 'en' do not match the scopes requested in the original request '{1}'. Use the originally requested scopes and try again.",
    ),
    "direct_auth_missing_login_hint": OAuthErrorEntry(
        400, "invalid_request", "A 'login_hint' is required for the request."
    ),
    "direct_auth_policy_denied": OAuthErrorEntry(
        403,
        "access_denied",
        "User couldn't be signed-in through direct authentication because authentication policy wasn't satisfied.",
    ),
    "direct_auth_prompted_grant_type_disabled_for_client": OAuthErrorEntry(
        403,
        "access_denied",
        "The grant types required to satisfy sign on policy are disabled for the client.",
    ),
    "duplicate_oauth_params": OAuthErrorEntry(
        400, "invalid_request", "The request contained multiple parameters with the same name."
    ),
    "expired_password_credentials": OAuthErrorEntry(400, "invalid_grant", "Password has expired."),
    "id_token_invalid": OAuthErrorEntry(401, "invalid_token", "The id token is invalid."),
    "illegal_post_logout_redirect_uri": OAuthErrorEntry(
        400,
        "invalid_request",
        "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.",
    ),
    "illegal_redirect_uri": OAuthErrorEntry(
        400,
        "invalid_request",
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
    ),
    "invalid_application_type_client_credentials": OAuthErrorEntry(
        401,
        "invalid_client",
        "Only clients with 'application_type' of 'service' may use the client_credentials 'grant_type' with the Org Authorization Server.",
    ),
    "invalid_authorization_code": OAuthErrorEntry(
        400, "invalid_grant", "The authorization code is invalid or has expired."
    ),
    "invalid_basic_auth_creds": OAuthErrorEntry(
        401, "invalid_client", "Found Authentication header but was not valid client credentials."
    ),
    "invalid_client": OAuthErrorEntry(
        401,
        "invalid_client",
        "Client authentication failed. Either the client or the client credentials are invalid.",
    ),
    "invalid_client_application_type": OAuthErrorEntry(
        400,
        "invalid_request",
        "Clients with 'application_type' of 'service' are not allowed to access the 'en' endpoint.",
    ),
    "invalid_client_id": OAuthErrorEntry(
        401, "invalid_client", "Invalid value for 'client_id' parameter."
    ),
    "invalid_client_secret": OAuthErrorEntry(
        401, "invalid_client", "The client secret supplied for a confidential client is invalid."
    ),
    "invalid_interaction_code": OAuthErrorEntry(
        400, "invalid_grant", "The interaction code is invalid or has expired."
    ),
    "invalid_max_age": OAuthErrorEntry(
        400,
        "invalid_request",
        "Invalid value for 'max_age' parameter. It should be within range 0 - 2^31-1.",
    ),
    "invalid_nonce": OAuthErrorEntry(
        400,
        "invalid_request",
        "The 'nonce' parameter is required for authorize requests with either the 'id_token' or 'token' response types..",
    ),
    "invalid_password_credentials": OAuthErrorEntry(
        400, "invalid_grant", "The credentials provided were invalid."
    ),
    "invalid_prompt": OAuthErrorEntry(
        400, "invalid_request", "Invalid value for 'prompt' parameter. Supported values: [en]"
    ),
    "invalid_refresh_token": OAuthErrorEntry(
        400, "invalid_grant", "The refresh token is invalid or expired."
    ),
    "invalid_request": OAuthErrorEntry(400, "invalid_request", "Invalid request"),
    "invalid_scope": OAuthErrorEntry(
        400,
        "invalid_scope",
        "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.",
    ),
    "login_required": OAuthErrorEntry(
        400, "login_required", "The client specified not to prompt, but the user is not logged in."
    ),
    "mfa_required": OAuthErrorEntry(
        403,
        "mfa_required",
        "Verify with an additional authenticator to complete the sign-in process.",
    ),
    "mismatched_authorization_server": OAuthErrorEntry(
        400, "invalid_request", "The grant was issued for another authorization server."
    ),
    "mismatched_client": OAuthErrorEntry(
        400,
        "invalid_grant",
        "The grant was issued to another client. Please make sure the 'client_id' matches the one used at the authorize request.",
    ),
    "mismatched_redirect_uri": OAuthErrorEntry(
        400,
        "invalid_grant",
        "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
    ),
    "missing_client_credentials": OAuthErrorEntry(
        401, "invalid_client", "No client credentials found."
    ),
    "missing_scopes": OAuthErrorEntry(400, "invalid_scope", "No scopes were requested."),
    "missing_token_request_parameter": OAuthErrorEntry(
        400, "invalid_request", "The required parameter 'en' is missing."
    ),
    "multiple_client_credentials": OAuthErrorEntry(
        401,
        "invalid_request",
        "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
    ),
    "no_default_scopes": OAuthErrorEntry(
        400,
        "invalid_scope",
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
    ),
    "not_trusted_origin_browser_request": OAuthErrorEntry(
        400,
        "invalid_request",
        "Browser requests to the token endpoint must be made from one of the registered Trusted Origins.",
    ),
    "oie_not_enabled_for_interact": OAuthErrorEntry(
        400,
        "access_denied",
        "The requested feature (Interaction Code flow) isn't enabled in this environment. Ensure that you have Okta Identity Engine enabled and the Interaction Code flow enabled for this application and authorization server.",
    ),
    "openid_not_allowed_client_creds": OAuthErrorEntry(
        400, "invalid_scope", "Cannot request 'openid' scopes using client credentials."
    ),
    "openid_scope_required": OAuthErrorEntry(
        400,
        "invalid_scope",
        "Requests for ID tokens or access tokens with OpenID scopes require the 'openid' scope.",
    ),
    "password_auth_denied_mfa": OAuthErrorEntry(
        400, "invalid_grant", "Resource owner password credentials cannot be used with MFA enabled."
    ),
    "pkce_challenge_required": OAuthErrorEntry(
        400, "invalid_request", "PKCE code challenge is required to use the interaction code flow."
    ),
    "pkce_invalid_challenge": OAuthErrorEntry(
        400, "invalid_request", "PKCE code challenge contains illegal characters."
    ),
    "pkce_missing_challenge": OAuthErrorEntry(
        400, "invalid_request", "PKCE code challenge is required by the application."
    ),
    "pkce_missing_challenge_verifier_present": OAuthErrorEntry(
        400,
        "invalid_request",
        "PKCE code challenge should be specified in the authorize request for code verification.",
    ),
    "pkce_missing_verifier": OAuthErrorEntry(
        400, "invalid_request", "PKCE code verifier is required by the application."
    ),
    "pkce_unsupported_code_challenge_method": OAuthErrorEntry(
        400, "invalid_request", "PKCE code challenge method is not supported. Valid values: [en]"
    ),
    "pkce_verification_failed": OAuthErrorEntry(400, "invalid_grant", "PKCE verification failed."),
    "refresh_scopes_denied": OAuthErrorEntry(
        400,
        "access_denied",
        "Some of the scopes requested for the refresh request were not granted in the original authorize request. Denied scopes: en.",
    ),
    "request_missing_token": OAuthErrorEntry(
        400, "invalid_request", "The 'token' parameter is required."
    ),
    "token_request_missing_grant_type": OAuthErrorEntry(
        400, "invalid_request", "The token request must specify a 'grant_type'. Valid values: [en]"
    ),
    "unauthorized_client": OAuthErrorEntry(
        400,
        "unauthorized_client",
        "The client is not authorized to use the provided grant type. Configured grant types: [en].",
    ),
    "unknown_idp": OAuthErrorEntry(400, "invalid_request", "Identity provider is not valid."),
    "unsupported_auth_method_browser_request": OAuthErrorEntry(
        401,
        "invalid_client",
        "Browser requests to the token endpoint must use Proof Key for Code Exchange.",
    ),
    "unsupported_auth_method_client_creds": OAuthErrorEntry(
        401,
        "invalid_client",
        "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.",
    ),
    "unsupported_grant_type": OAuthErrorEntry(
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server. Configured grant types: [en].",
    ),
    "unsupported_response_mode": OAuthErrorEntry(
        400,
        "unsupported_response_mode",
        "The response mode is not supported by the authorization server. Valid response modes: [query, fragment, form_post, okta_post_message].",
    ),
    "unsupported_response_mode_query_with_tokens": OAuthErrorEntry(
        400,
        "unsupported_response_mode",
        "'query' response mode cannot be used with either the 'id_token' or 'token' response types.",
    ),
    "unsupported_response_type": OAuthErrorEntry(
        400,
        "unsupported_response_type",
        "The response type is not supported by the authorization server. Configured response types: [en].",
    ),
    "user_not_assigned": OAuthErrorEntry(
        400, "access_denied", "User is not assigned to the client application."
    ),
    "user_rate_limited": OAuthErrorEntry(
        429, "invalid_grant", "API call exceeded rate limit due to too many requests."
    ),
}

# errorCode -> (statusCode, errorSummary)
API_ERRORS: dict[str, ApiErrorEntry] = {
    "E0000001": ApiErrorEntry(400, "Api validation failed: {0}"),
    "E0000003": ApiErrorEntry(400, "The request body was not well-formed."),
    "E0000004": ApiErrorEntry(401, "Authentication failed"),
    "E0000007": ApiErrorEntry(404, "Not found: {0}"),
    "E0000011": ApiErrorEntry(401, "Invalid token provided"),
    "E0000014": ApiErrorEntry(403, "Update of credentials failed"),
    "E0000021": ApiErrorEntry(
        400,
        "Bad request.  Accept and/or Content-Type headers likely do not match supported values.",
    ),
    "E0000022": ApiErrorEntry(405, "The endpoint does not support the provided HTTP method"),
    "E0000047": ApiErrorEntry(429, "API call exceeded rate limit due to too many requests."),
    "E0000068": ApiErrorEntry(403, "Invalid Passcode/Answer"),
    "E0000079": ApiErrorEntry(
        403, "This operation is not allowed in the current authentication state."
    ),
    "E0000080": ApiErrorEntry(
        403,
        "The password does not meet the complexity requirements of the current password policy.",
    ),
    "E0000082": ApiErrorEntry(
        403, "Each code can only be used once. Please wait for a new code and try again."
    ),
}
