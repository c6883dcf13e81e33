"""Django admin: every model visible to staff; links change only through the service layer.

Tokens and ciphertext are never displayed (checklist D2); the audit trail is append-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from crm_admin.models import (
    Account,
    LinkEvent,
    LinkNotification,
    PendingAuthorization,
    PendingRevoke,
    SalesforceApiUser,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.services.accounts import account_rename


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows without allowing any change: their life cycle belongs to services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SalesforceLinkInline(admin.StackedInline):
    model = SalesforceLink
    can_delete = False
    fields = ["status", "org_type", "api_username", "legacy_username", "linked_at", "linked_by"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "link_status", "created_at"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["members"]
    inlines = [SalesforceLinkInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> list[str]:
        return ["slug"] if obj else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py vcc_account add` creates the account with its link row

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        """Renames go through the service, which keeps the console's search text in step."""
        if "name" in form.changed_data:
            account_rename(account=obj, name=obj.name)
        if set(form.changed_data) - {"name"}:
            super().save_model(request, obj, form, change)

    @admin.display(description="Salesforce")
    def link_status(self, account: Account) -> str:
        link = getattr(account, "salesforce_link", None)
        return link.get_status_display() if link else "Unlinked"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("salesforce_link")


@admin.register(SalesforceLink)
class SalesforceLinkAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "status",
        "org_type",
        "api_username",
        "linked_at",
        "health",
        "health_checked_at",
        "needs_attention",
    ]
    list_filter = ["status", "org_type", "health"]
    search_fields = ["account__slug", "account__name", "api_username", "legacy_username", "api_user__org_id"]
    list_select_related = ["account"]
    exclude = ["token", "link_key"]
    # Salesforce instance URLs are https; also silences Django 6.0's scheme-default deprecation warning.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description="Needs attention")
    def needs_attention(self, link: SalesforceLink) -> bool:
        return link.needs_attention


@admin.register(SalesforceApiUser)
class SalesforceApiUserAdmin(ReadOnlyAdmin):
    list_display = ["username", "org_id", "user_id", "created_at"]
    search_fields = ["username", "org_id", "user_id"]


@admin.register(SalesforceToken)
class SalesforceTokenAdmin(ReadOnlyAdmin):
    list_display = ["pk", "scope", "issued_at", "refreshed_at", "access_token_expires_at", "created_at"]
    exclude = ["refresh_token_encrypted", "access_token_encrypted", "refresh_lease_owner"]


@admin.register(PendingAuthorization)
class PendingAuthorizationAdmin(ReadOnlyAdmin):
    list_display = ["account", "user", "org_type", "outcome", "created_at", "completed_at"]
    list_filter = ["outcome", "org_type"]
    exclude = ["state_hash", "code_verifier_encrypted", "session_key_hash", "client_ref"]


@admin.register(PendingRevoke)
class PendingRevokeAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "reason",
        "org_type",
        "account",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_error",
        "created_at",
    ]
    list_filter = ["reason", "org_type"]
    exclude = ["token_encrypted"]


@admin.register(LinkNotification)
class LinkNotificationAdmin(ReadOnlyAdmin):
    list_display = ["event", "recipients", "created_at", "sent_at"]
    list_select_related = ["event__account"]


@admin.register(LinkEvent)
class LinkEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "action", "actor"]
    list_filter = ["action"]
    search_fields = ["account__slug"]
    list_select_related = ["account", "actor"]
