"""Access tokens for VCC's backends: ``POST /api/v1/accounts/<slug>/salesforce-link/access-token``.

The reason a link exists: call logging, screen pops and task creation need a working Salesforce access
token for the account. Only a service API key with the ``token`` scope gets one (a portal session never
does), and it gets the access token alone: the refresh token never leaves the portal. Refreshing, the
encrypted cache and single flight live in ``crm_admin.services.tokens``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.errors import HttpError

from api import schemas
from api.auth import ServiceKeyAuth
from api.errors import error_response
from api.models import ApiKey, ApiScope
from crm_admin.exceptions import LinkNeedsAttentionError, NotLinkedError, SalesforceUnavailableError
from crm_admin.models import Account
from crm_admin.services.tokens import access_token_issue

router = Router(tags=["access tokens"])

NOT_LINKED = "This account is not linked to Salesforce (status Unlinked or Legacy): an account admin must link it."
#: Seconds a caller should wait before asking again when Salesforce did not answer.
RETRY_AFTER_SECONDS = 30


@router.post(
    "/accounts/{slug}/salesforce-link/access-token",
    auth=ServiceKeyAuth(ApiScope.TOKEN),
    response={
        200: schemas.AccessToken,
        401: schemas.Error,
        403: schemas.Error,
        404: schemas.Error,
        409: schemas.Error,
        503: schemas.Error,
    },
    operation_id="issue_access_token",
    summary="A working Salesforce access token for one account",
)
def access_token(request: HttpRequest, slug: str, response: HttpResponse) -> schemas.AccessToken | HttpResponse:
    """Return a Salesforce access token for the account's link, with its expiry, instance URL and API user.

    Needs a service key with the `token` scope. 409 when the account is not Linked or its link needs
    attention (the detail says why), 503 when Salesforce did not answer (retry after `Retry-After`).
    Every token handed out is recorded in the account's audit trail with the key's name, never the token.
    """
    api_key: ApiKey = request.auth
    account = get_object_or_404(Account, slug=slug)
    try:
        issued = access_token_issue(account=account, api_key_id=api_key.pk, api_key_name=api_key.name)
    except NotLinkedError:
        raise HttpError(409, NOT_LINKED) from None
    except LinkNeedsAttentionError as error:
        raise HttpError(409, error.user_message) from None
    except SalesforceUnavailableError as error:
        unavailable = error_response(503, error.user_message)
        unavailable["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return _no_store(unavailable)
    _no_store(response)  # RFC 6749 §5.1: responses carrying tokens are never cached
    return schemas.AccessToken(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        instance_url=issued.instance_url,
        org_id=issued.org_id,
        org_type=issued.org_type,
        api_user=schemas.TokenApiUser(id=issued.api_user_id, username=issued.api_username),
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
