"""VCC accounts, portal users and their roles.

Roles are Django groups holding model permissions on ``Account``:
*Account admin* opens CRM Admin and changes the links of the accounts they are members of;
*Support* opens CRM Admin for every account and changes none.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from crm_admin.models import Account, SalesforceLink
from crm_admin.services.listing import link_search_text

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ADMIN_GROUP = "Account admin"
SUPPORT_GROUP = "Support"
ROLE_GROUPS = {
    "admin": (ADMIN_GROUP, ["open_crm_admin", "manage_salesforce_link"]),
    "support": (SUPPORT_GROUP, ["open_crm_admin", "view_all_accounts"]),
}


class AccountError(ValueError):
    """Bad input for an operator command or the admin; the message says what to fix."""


def roles_ensure() -> dict[str, Group]:
    """Create the role groups with exactly their permissions (idempotent; runs after every migrate)."""
    groups = {}
    for role, (name, codenames) in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="crm_admin", codename__in=codenames))
        groups[role] = group
    return groups


@transaction.atomic
def account_create(*, slug: str, name: str) -> Account:
    """Create a VCC account with its (Unlinked) Salesforce link row."""
    if not SLUG_RE.fullmatch(slug or "") or len(slug) > Account._meta.get_field("slug").max_length:
        raise AccountError(f"'{slug}' is not a valid slug: use up to 63 lower-case letters, digits and single hyphens.")
    if not name.strip():
        raise AccountError("The display name must not be empty.")
    if len(name.strip()) > Account._meta.get_field("name").max_length:
        raise AccountError("The display name must be at most 200 characters.")
    if Account.objects.filter(slug=slug).exists():
        raise AccountError(f"An account with slug '{slug}' already exists.")
    account = Account.objects.create(slug=slug, name=name.strip())
    link = SalesforceLink(account=account)
    link.search_text = link_search_text(account=account, link=link)
    link.save()
    return account


@transaction.atomic
def account_rename(*, account: Account, name: str) -> Account:
    """Change an account's display name, and what the support console searches with it."""
    name = name.strip()
    if not name:
        raise AccountError("The display name must not be empty.")
    if len(name) > Account._meta.get_field("name").max_length:
        raise AccountError("The display name must be at most 200 characters.")
    account.name = name
    account.save(update_fields=["name"])
    link, _ = SalesforceLink.objects.select_for_update().get_or_create(account=account)
    link.search_text = link_search_text(account=account, link=link)
    link.save(update_fields=["search_text", "updated_at"])
    return account


@transaction.atomic
def portal_user_create(
    *, username: str, role: str, password: str, account_slugs: list[str] | None = None, email: str = ""
) -> AbstractBaseUser:
    """Create a portal user with one role; an admin must belong to at least one account."""
    user_model = get_user_model()
    account_slugs = list(dict.fromkeys(account_slugs or []))
    if role not in ROLE_GROUPS:
        raise AccountError(f"Unknown role '{role}': choose one of {', '.join(ROLE_GROUPS)}.")
    if role == "admin" and not account_slugs:
        raise AccountError("An admin needs at least one --account.")
    username_field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    try:
        username_field.clean(username, None)
    except ValidationError as error:
        raise AccountError(f"Invalid username: {' '.join(error.messages)}") from None
    if user_model.objects.filter(username=username).exists():
        raise AccountError(f"A user named '{username}' already exists.")
    accounts = list(Account.objects.filter(slug__in=account_slugs))
    unknown = sorted(set(account_slugs) - {a.slug for a in accounts})
    if unknown:
        raise AccountError(f"Unknown account: {', '.join(unknown)}.")
    user = user_model(username=username, email=email)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError(" ".join(error.messages)) from None
    user.set_password(password)
    user.save()
    user.groups.add(roles_ensure()[role])
    for account in accounts:
        account.members.add(user)
    return user
