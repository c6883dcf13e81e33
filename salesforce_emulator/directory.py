"""Adding and finding emulated orgs and users; shared by ``seed`` and the ``emulator_user`` command."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.db import transaction

from salesforce_emulator import ids
from salesforce_emulator.models import PERMISSIONS, Host, Organization, SalesforceUser


class DirectoryError(ValueError):
    """A request the directory refuses, with a message fit for the command line."""


def add_organization(*, host: str, name: str, is_active: bool = True, api_enabled: bool = True) -> Organization:
    """Create an org on ``host`` with a stable id derived from host and name."""
    if host not in Host.values:
        raise DirectoryError(f"Unknown host {host!r}; choose from {', '.join(Host.values)}.")
    if Organization.objects.filter(host=host, name=name).exists():
        raise DirectoryError(f"The {host} host already has an org named {name!r}.")
    return Organization.objects.create(
        id=ids.derive(ids.ORGANIZATION_PREFIX, f"{host}:{name}"),
        host=host,
        name=name,
        is_active=is_active,
        api_enabled=api_enabled,
    )


def find_organization(*, host: str, ref: str) -> Organization:
    """Find an org of ``host`` by name or by its 15- or 18-character id."""
    for org in Organization.objects.filter(host=host):
        if org.name == ref or ids.same_id(ref, org.id):
            return org
    raise DirectoryError(f"No org {ref!r} on the {host} host; list them with: manage.py emulator_user list")


@transaction.atomic
def add_user(
    *,
    organization: Organization,
    username: str,
    password: str = "",
    password_hash: str = "",
    first_name: str,
    last_name: str,
    is_active: bool = True,
    without: Iterable[str] = (),
) -> SalesforceUser:
    """Create a user holding every known permission except those in ``without``.

    Pass ``password`` to hash it here, or ``password_hash`` when many users share one precomputed hash.
    Usernames are unique across every org and host, as Salesforce's are.
    """
    without = set(without)
    unknown = without - set(PERMISSIONS)
    if unknown:
        raise DirectoryError(f"Unknown permission {', '.join(sorted(unknown))}; choose from {', '.join(PERMISSIONS)}.")
    if SalesforceUser.objects.filter(username__iexact=username).exists():
        raise DirectoryError(f"The username {username!r} is taken.")
    if not (password or password_hash):
        raise DirectoryError("A user needs a password.")
    return SalesforceUser.objects.create(
        id=ids.derive(ids.USER_PREFIX, username.lower()),
        organization=organization,
        username=username,
        password=password_hash or make_password(password),
        first_name=first_name,
        last_name=last_name,
        email=username,
        is_active=is_active,
        permissions={name: name not in without for name in PERMISSIONS},
    )


def find_user(*, username: str) -> SalesforceUser:
    """Find a user by username (case-insensitive, as Salesforce logins are)."""
    user = SalesforceUser.objects.filter(username__iexact=username).first()
    if user is None:
        raise DirectoryError(f"No user {username!r}; list them with: manage.py emulator_user list")
    return user


@transaction.atomic
def change_user(
    *, user: SalesforceUser, is_active: bool | None = None, grant: Iterable[str] = (), remove: Iterable[str] = ()
) -> SalesforceUser:
    """Activate or deactivate a user, and grant or remove permissions, as an org's administrator would."""
    grant, remove = set(grant), set(remove)
    unknown = (grant | remove) - set(PERMISSIONS)
    if unknown:
        raise DirectoryError(f"Unknown permission {', '.join(sorted(unknown))}; choose from {', '.join(PERMISSIONS)}.")
    if grant & remove:
        raise DirectoryError(f"Both granted and removed: {', '.join(sorted(grant & remove))}.")
    user = SalesforceUser.objects.select_for_update().get(pk=user.pk)
    if is_active is not None:
        user.is_active = is_active
    user.permissions = {**user.permissions, **dict.fromkeys(grant, True), **dict.fromkeys(remove, False)}
    user.save(update_fields=["is_active", "permissions", "last_modified"])
    return user
