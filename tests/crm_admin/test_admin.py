"""Django admin: every model readable by staff, no secret ever rendered, links changed only by services
(checklist D2)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from crm_admin import crypto
from crm_admin.models import (
    LinkEvent,
    LinkNotification,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    RevokeReason,
    SalesforceApiUser,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.services import links as link_services
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

REFRESH_TOKEN = "5Aep861admin-refresh-token-plaintext"
REVOKE_TOKEN = "5Aep861admin-revoke-token-plaintext"
ACCESS_TOKEN = "00Dadmin!cached-access-token-plaintext"
CODE_VERIFIER = "admin-code-verifier-plaintext-" + "v" * 40


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("root", "root@example.com", "Root-Pass-1234")


@pytest.fixture
def staff_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def objects(account, other_account, admin_user, superuser) -> dict[type, object]:
    """One row of every registered model, with known secrets in the encrypted columns."""
    link = make_linked(account, ApiUserFactory(), refresh_token=REFRESH_TOKEN)
    SalesforceToken.objects.filter(pk=link.token_id).update(
        access_token_encrypted=crypto.encrypt(ACCESS_TOKEN), access_token_expires_at=timezone.now()
    )
    link_services.link_mark_legacy(account=other_account, legacy_username="old@globex.example")
    now = timezone.now()
    attempt = PendingAuthorization.objects.create(
        state_hash=uuid.uuid4().hex,
        code_verifier_encrypted=crypto.encrypt(CODE_VERIFIER),
        user=admin_user,
        session_key_hash=uuid.uuid4().hex,
        account=account,
        org_type="production",
        client_ref=uuid.uuid4(),
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    revoke = PendingRevoke.objects.create(
        token_encrypted=crypto.encrypt(REVOKE_TOKEN), org_type="production", reason=RevokeReason.UNLINK, account=account
    )
    return {
        type(account): account,
        SalesforceLink: link,
        SalesforceApiUser: link.api_user,
        SalesforceToken: link.token,
        PendingAuthorization: attempt,
        PendingRevoke: revoke,
        LinkEvent: LinkEvent.objects.get(account=other_account),
        LinkNotification: LinkNotification.objects.create(event=LinkEvent.objects.get(account=other_account)),
        get_user_model(): admin_user,
        Group: Group.objects.first(),
    }


def secrets_in_db() -> list[str]:
    """Every ciphertext stored, and the plaintexts behind them."""
    stored = [
        *SalesforceToken.objects.values_list("refresh_token_encrypted", flat=True),
        *SalesforceToken.objects.exclude(access_token_encrypted="").values_list("access_token_encrypted", flat=True),
        *PendingRevoke.objects.values_list("token_encrypted", flat=True),
        *PendingAuthorization.objects.values_list("code_verifier_encrypted", flat=True),
        *PendingAuthorization.objects.values_list("state_hash", flat=True),
        *PendingAuthorization.objects.values_list("session_key_hash", flat=True),
        *SalesforceLink.objects.exclude(link_key=None).values_list("link_key", flat=True),
    ]
    return [*stored, REFRESH_TOKEN, REVOKE_TOKEN, ACCESS_TOKEN, CODE_VERIFIER, "gAAAAA"]


def _admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_every_registered_model_has_a_row_in_the_fixture(objects):
    # django-axes' own read-mostly admin for login attempts; django-tasks-db's for the task queue
    third_party = {"axes", "django_tasks_database"}
    ours = {model for model in admin.site._registry if model._meta.app_label not in third_party}
    assert ours == set(objects)


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_every_admin_page_opens_and_shows_no_secret(staff_client, objects, page):
    for model, instance in objects.items():
        url = _admin_url(model, page) if page == "changelist" else _admin_url(model, "change", instance.pk)
        response = staff_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in secrets_in_db():
            assert secret not in html, (url, secret)


def test_changelist_search_works(staff_client, objects):
    for model in (SalesforceLink, SalesforceApiUser, LinkEvent):
        assert staff_client.get(_admin_url(model, "changelist"), {"q": "acme"}).status_code == 200


def test_salesforce_link_admin_has_no_add_change_or_delete(superuser, staff_client, objects):
    link = objects[SalesforceLink]
    model_admin = admin.site._registry[SalesforceLink]
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, link)
    assert not model_admin.has_delete_permission(request, link)

    assert staff_client.get(_admin_url(SalesforceLink, "add")).status_code == 403
    assert staff_client.post(_admin_url(SalesforceLink, "delete", link.pk), {"post": "yes"}).status_code == 403
    response = staff_client.post(_admin_url(SalesforceLink, "change", link.pk), {"status": "unlinked"})
    assert response.status_code == 403
    page = staff_client.get(_admin_url(SalesforceLink, "change", link.pk)).content.decode()
    assert 'name="status"' not in page
    link.refresh_from_db()
    assert link.status == LinkStatus.LINKED


def test_the_account_page_cannot_change_the_link_through_its_inline(staff_client, objects, account):
    page = staff_client.get(_admin_url(type(account), "change", account.pk)).content.decode()
    assert 'name="salesforce_link-0-status"' not in page
    assert "Linked" in page


@pytest.mark.parametrize("model", [SalesforceLink, SalesforceToken, PendingRevoke, PendingAuthorization])
def test_repr_and_str_show_no_secret(objects, model):
    instance = model.objects.get(pk=objects[model].pk)
    for text in (repr(instance), str(instance)):
        for secret in secrets_in_db():
            assert secret not in text
