"""Salesforce ``UserPermissionAccess`` fields the portal checks, with the labels Salesforce's Setup shows."""

from __future__ import annotations

LABELS = {
    "PermissionsApiEnabled": "API Enabled",
    "PermissionsEditTask": "Edit Tasks",
    "PermissionsViewAllUsers": "View All Users",
    "PermissionsViewAllData": "View All Data",
    "PermissionsPasswordNeverExpires": "Password Never Expires",
    "PermissionsModifyAllData": "Modify All Data",
    "PermissionsViewSetup": "View Setup and Configuration",
    "PermissionsManageUsers": "Manage Users",
    "PermissionsCustomizeApplication": "Customize Application",
}

#: Reference §10: recommended on top of the "ContactWorld API user" permission set; missing ones warn.
RECOMMENDED = ["PermissionsViewAllUsers", "PermissionsViewAllData", "PermissionsPasswordNeverExpires"]


def label(field: str) -> str:
    """Return the Setup label of a permission field (``PermissionsFooBar`` → ``Foo Bar`` if unknown)."""
    if field in LABELS:
        return LABELS[field]
    name = field.removeprefix("Permissions")
    return "".join(f" {c}" if c.isupper() else c for c in name).strip()
