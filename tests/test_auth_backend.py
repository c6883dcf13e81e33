"""The authentication backend loads a user with their permissions in one query (vcc_portal/auth.py),
and answers exactly as Django's ModelBackend does, including after a role change on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from crm_admin import selectors
from crm_admin.services.accounts import ADMIN_GROUP, SUPPORT_GROUP, roles_ensure
from tests.conftest import logged_in
from tests.factories import PASSWORD, UserFactory
from vcc_portal.auth import PermissionsWithUserBackend

pytestmark = pytest.mark.django_db


def permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="crm_admin", codename=codename)


def fresh_model_backend_permissions(user) -> set[str]:
    return ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))


@pytest.mark.parametrize(
    ("roles", "direct"),
    [
        ([], []),
        (["admin"], []),
        (["support"], []),
        (["admin", "support"], []),
        ([], ["view_all_accounts"]),
        (["admin"], ["view_all_accounts", "manage_salesforce_link"]),
    ],
)
def test_permissions_are_loaded_with_the_user_in_one_query(roles, direct, django_assert_num_queries):
    user = UserFactory()
    groups = roles_ensure()
    user.groups.add(*(groups[role] for role in roles))
    user.user_permissions.add(*(permission(codename) for codename in direct))
    with django_assert_num_queries(1):
        loaded = PermissionsWithUserBackend().get_user(user.pk)
        held = loaded.get_all_permissions()
        for perm in (selectors.OPEN_CRM_ADMIN, selectors.MANAGE_LINK, selectors.VIEW_ALL_ACCOUNTS):
            assert loaded.has_perm(perm) == (perm in held)
    assert held == fresh_model_backend_permissions(user)
    assert held or not (roles or direct)


def test_the_user_is_loaded_exactly_as_the_orm_loads_it(admin_user, client):
    client.login(username=admin_user.username, password=PASSWORD)  # sets last_login
    loaded = PermissionsWithUserBackend().get_user(str(admin_user.pk))
    expected = type(admin_user).objects.get(pk=admin_user.pk)
    for field in expected._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.last_login is not None
    assert loaded.get_session_auth_hash() == expected.get_session_auth_hash()


def test_a_malformed_user_id_is_nobody():
    assert PermissionsWithUserBackend().get_user("not-a-number") is None


def test_a_superuser_holds_every_permission():
    user = UserFactory(is_superuser=True)
    loaded = PermissionsWithUserBackend().get_user(user.pk)
    assert loaded.has_perm(selectors.MANAGE_LINK)
    assert loaded.get_all_permissions() == fresh_model_backend_permissions(user)
    assert len(loaded.get_all_permissions()) == Permission.objects.count()


def test_an_inactive_or_missing_user_is_nobody():
    user = UserFactory(role="admin", is_active=False)
    assert PermissionsWithUserBackend().get_user(user.pk) is None
    assert PermissionsWithUserBackend().get_user(user.pk + 1000) is None


def test_a_role_change_takes_effect_on_the_next_request(admin_user, account):
    client = logged_in(admin_user)
    page = reverse("crm_admin:page", args=[account.slug])
    link_start = reverse("crm_admin:link_start", args=[account.slug])
    assert client.get(page).status_code == 200

    admin_user.groups.clear()
    assert client.get(page).status_code == 403

    admin_user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    assert client.get(page).status_code == 200
    assert client.post(link_start, {"org_type": "production"}).status_code == 403

    support = Group.objects.get(name=SUPPORT_GROUP)
    support.permissions.remove(permission("open_crm_admin"))
    assert client.get(page).status_code == 403

    admin_user.user_permissions.add(permission("open_crm_admin"))
    assert client.get(page).status_code == 200

    admin_user.user_permissions.clear()
    admin_user.groups.set([Group.objects.get(name=ADMIN_GROUP)])
    assert client.get(page).status_code == 200
    assert client.post(link_start, {"org_type": "production"}).status_code == 302
