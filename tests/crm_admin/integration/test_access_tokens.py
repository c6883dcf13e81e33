"""Access tokens for VCC's backends against the emulator over real HTTP: single flight, with and without
refresh token rotation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from crm_admin.models import LinkEvent, LinkEventAction, SalesforceLink, SalesforceToken
from crm_admin.services.tokens import access_token_issue
from tests.crm_admin.integration.conftest import Portal

pytestmark = pytest.mark.django_db(transaction=True)

API_USER = "api@acme.example"


def linked(portal: Portal) -> SalesforceLink:
    assert portal.link(API_USER).status_code == 302
    return SalesforceLink.objects.select_related("account", "api_user").get(account__slug=portal.slug)


def refreshes_at_salesforce() -> int:
    from salesforce_emulator.models import AccessToken

    return AccessToken.objects.filter(refresh_token__user__username=API_USER).count()


@pytest.mark.parametrize("rotation", [False, True], ids=["no-rotation", "rotation"])
def test_ten_concurrent_callers_cost_one_refresh_and_the_token_works(portal, emulator, rotation):
    from salesforce_emulator.seed import refresh_token_rotation

    refresh_token_rotation(rotation)
    link = linked(portal)
    before = refreshes_at_salesforce()
    start = threading.Barrier(10)

    def one(n: int):
        start.wait()
        try:
            return access_token_issue(account=link.account, api_key_id=n, api_key_name=f"service-{n}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        issued = list(pool.map(one, range(10)))

    assert refreshes_at_salesforce() == before + 1
    assert len({token.access_token for token in issued}) == 1
    assert LinkEvent.objects.filter(account=link.account, action=LinkEventAction.TOKEN_ISSUED).count() == 10
    identity = requests.get(
        f"{emulator.production}/id/{link.api_user.org_id}/{link.api_user.user_id}",
        headers={"Authorization": f"Bearer {issued[0].access_token}"},
        timeout=10,
    )
    assert identity.status_code == 200 and identity.json()["username"] == API_USER
    # The grant survives: with rotation on, a second concurrent refresh would have made Salesforce revoke it.
    SalesforceToken.objects.filter(pk=link.token_id).update(access_token_expires_at=None)
    assert access_token_issue(account=link.account, api_key_id=1, api_key_name="again").access_token
    assert refreshes_at_salesforce() == before + 2
