"""Every refusal an admin can meet, each with the message they see.

Services raise these; views turn ``user_message`` into a page message. Messages never carry tokens,
codes, stack traces or other tenants' names.
"""

from __future__ import annotations


class LinkError(Exception):
    """Base class: linking, relinking or unlinking could not be done."""

    user_message = "Salesforce could not be linked. Please try again."
    #: Short machine-readable reason, stored on the attempt and in the audit trail.
    code = "failed"

    def __init__(self, user_message: str | None = None, *, orphan_token: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        #: A grant Salesforce issued that we will not use and must revoke; never shown or logged.
        self.orphan_token = orphan_token
        super().__init__(self.user_message)


class AttemptInvalidError(LinkError):
    code = "invalid_state"
    user_message = (
        "This linking attempt is not valid: it is unknown, expired, already used, or was started by "
        "someone else. Start again from the CRM Admin page."
    )


class AttemptExpiredError(AttemptInvalidError):
    code = "expired"
    user_message = "This linking attempt expired after 10 minutes. Start again from the CRM Admin page."


class AccessDeniedError(LinkError):
    code = "access_denied"
    user_message = "Access was not allowed in Salesforce, so nothing was changed."


class SalesforceAuthorizeError(LinkError):
    """Salesforce answered the authorize request with an error (reference §2)."""

    code = "authorize_error"
    MESSAGES = {
        "inactive_user": "That Salesforce user is inactive. Activate the API user in Salesforce, then link again.",
        "inactive_org": "That Salesforce org is locked, closed or suspended, so it cannot be linked.",
        "rate_limit_exceeded": "Salesforce refused the login: too many logins for this user. Wait and try again.",
        "invalid_scope": "Salesforce refused the permissions this portal asks for. Contact support.",
        "invalid_client_id": "Salesforce does not recognise this portal's connected app. Contact support.",
        "redirect_uri_mismatch": "Salesforce does not accept this portal's callback address. Contact support.",
        "redirect_uri_missing": "Salesforce does not accept this portal's callback address. Contact support.",
        "immediate_unsuccessful": "Salesforce needs you to log in. Start again and log in as the API user.",
        "invalid_request": "Salesforce rejected the request. Start again from the CRM Admin page.",
        "invalid_grant": "Salesforce rejected the login. Start again and log in as the API user.",
        "unsupported_response_type": "Salesforce rejected the request. Contact support.",
        "app_blocked": "The connected app is blocked in that Salesforce org. Ask its administrator to allow it.",
        "oauth_flow_disabled": "That Salesforce org does not allow this way of linking. Contact support.",
        "invalid_app_access": "That Salesforce user may not use this connected app. Check its profile.",
    }

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__(
            self.MESSAGES.get(error, "Salesforce reported an error, so nothing was changed. Please try again.")
        )


class SalesforceUnavailableError(LinkError):
    code = "unavailable"
    user_message = (
        "Salesforce did not answer properly (it may be down or slow). Nothing was changed; please try again "
        "in a few minutes."
    )


class SalesforceRateLimitedError(LinkError):
    code = "rate_limited"
    user_message = (
        "Salesforce refused the request because the org has reached its API request limit "
        "(REQUEST_LIMIT_EXCEEDED). Nothing was changed; try again once the limit resets."
    )


class SalesforceApiDisabledError(LinkError):
    code = "api_disabled"
    user_message = (
        "The Salesforce REST API is not enabled for that org (API_DISABLED_FOR_ORG), so it cannot be linked. "
        "Ask the org's administrator to enable API access for the edition."
    )


class SalesforceResponseInvalidError(LinkError):
    """The token or identity response failed validation: bad signature, untrusted URL, missing field."""

    code = "invalid_response"
    user_message = "Salesforce's answer could not be verified, so nothing was changed. Please try again."


class InactiveApiUserError(LinkError):
    code = "inactive_user"
    user_message = "That Salesforce user is inactive. Activate the API user in Salesforce, then link again."


class ApiUserLimitReachedError(LinkError):
    code = "api_user_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This Salesforce API user is already linked to {limit} VCC accounts, which is the limit. "
            "Create another API user in Salesforce and link with it."
        )


class MissingPermissionsError(LinkError):
    code = "missing_permissions"

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        super().__init__(
            "This Salesforce API user lacks required permissions: "
            + ", ".join(labels)
            + '. Assign the "ContactWorld API user" permission set to the user in Salesforce, then link again.'
        )


class NotLinkedError(LinkError):
    code = "not_linked"
    user_message = "This account is not linked to Salesforce."


class TooManyAttemptsError(LinkError):
    code = "too_many_attempts"
    user_message = "Too many linking attempts were started. Wait a minute, then try again."


class SalesforceOAuthError(LinkError):
    """The token endpoint answered with an OAuth error (reference §4), e.g. ``invalid_grant``."""

    code = "oauth_error"

    def __init__(self, error: str) -> None:
        self.error = error
        message = {
            "invalid_grant": "Salesforce did not accept the authorization (it may have expired or been used). "
            "Nothing was changed; start again from the CRM Admin page.",
            "inactive_user": SalesforceAuthorizeError.MESSAGES["inactive_user"],
            "inactive_org": SalesforceAuthorizeError.MESSAGES["inactive_org"],
            # The token endpoint's limit is on logins, not on API requests (reference §4).
            "rate_limit_exceeded": SalesforceAuthorizeError.MESSAGES["rate_limit_exceeded"],
            "invalid_client": "Salesforce does not accept this portal's connected app credentials. Contact support.",
            "invalid_client_id": SalesforceAuthorizeError.MESSAGES["invalid_client_id"],
            "redirect_uri_mismatch": SalesforceAuthorizeError.MESSAGES["redirect_uri_mismatch"],
        }.get(error)
        super().__init__(message)


class SalesforceSessionInvalidError(LinkError):
    """Salesforce rejected an access token (401 ``INVALID_SESSION_ID`` or 403 ``Bad_OAuth_Token``)."""

    code = "session_invalid"
    user_message = "Salesforce rejected the new session before linking finished. Nothing was changed; try again."


class LinkNeedsAttentionError(LinkError):
    """The link exists but does not work; an account admin must act (the reason says what to do)."""

    code = "needs_attention"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The Salesforce link of this account needs attention: {reason}")
