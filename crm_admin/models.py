"""The CRM Admin domain: VCC accounts, their Salesforce links, the tokens behind them, and the record
of every change.

Rules live in the service layer (``crm_admin.services``); the constraints here are the database's
backstop for what must never happen whatever code runs.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm_admin.salesforce import ids

#: Salesforce keeps five approvals per user per connected app (reference §11); one VCC account holds one.
MAX_ACCOUNTS_PER_API_USER = 5
#: Attention codes that no change in Salesforce can clear: the grant was revoked or cannot be decrypted.
RELINK_ONLY_ATTENTION = frozenset({"grant_revoked", "token_unreadable"})


def validate_org_id(value: str) -> None:
    if not ids.is_valid_18(value, ids.ORGANIZATION_PREFIX):
        raise ValidationError("Enter an 18-character Salesforce organization id (00D…) with a valid checksum.")


def validate_user_id(value: str) -> None:
    if not ids.is_valid_18(value, ids.USER_PREFIX):
        raise ValidationError("Enter an 18-character Salesforce user id (005…) with a valid checksum.")


class OrgType(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


class LinkStatus(models.TextChoices):
    UNLINKED = "unlinked", "Unlinked"
    LINKED = "linked", "Linked"
    LEGACY = "legacy", "Legacy"


class LinkHealth(models.TextChoices):
    """The last health check's verdict on a Linked link (blank: never checked)."""

    HEALTHY = "healthy", "Healthy"
    ATTENTION = "attention", "Needs attention"
    UNKNOWN = "unknown", "Unknown"


class Account(models.Model):
    """A Vonage Contact Center account: the tenant whose admins link it to Salesforce."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="vcc_accounts", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "slug"]
        verbose_name = "VCC account"
        # The support console's default order and its keyset (slug is unique, so (name, slug) is total).
        indexes = [models.Index(fields=["name", "slug"], name="account_name_slug")]
        permissions = [
            ("open_crm_admin", "Can open CRM Admin"),
            ("manage_salesforce_link", "Can link, relink and unlink Salesforce for own accounts"),
            ("view_all_accounts", "Can view the Salesforce link of every account"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class SalesforceApiUser(models.Model):
    """A Salesforce API user, identified by (org id, user id) in 18-character form, never by username.

    Its row is the lock that serialises the five-accounts rule: linking takes ``SELECT … FOR UPDATE`` on
    it before counting (checklist G1).
    """

    org_id = models.CharField("organization id", max_length=18, validators=[validate_org_id])
    user_id = models.CharField("user id", max_length=18, validators=[validate_user_id])
    username = models.CharField(max_length=255, help_text="As Salesforce last reported it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Salesforce API user"
        constraints = [models.UniqueConstraint(fields=["org_id", "user_id"], name="api_user_unique_identity")]
        # Search by API user id alone (the unique constraint's index leads with the org id).
        indexes = [models.Index(fields=["user_id"], name="api_user_user_id")]

    def __str__(self) -> str:
        return f"{self.username} ({self.org_id}/{self.user_id})"


class SalesforceToken(models.Model):
    """Salesforce's OAuth grant for one link, encrypted with MultiFernet (``crm_admin.crypto``).

    The refresh token stands for the grant. The last access token is cached, encrypted, until shortly
    before it expires (``crm_admin.services.grants``). The refresh lease serialises every refresh of the
    grant across processes: with refresh-token rotation on, two concurrent refreshes would make Salesforce
    revoke the grant (reference §5).
    """

    refresh_token_encrypted = models.TextField(editable=False)
    scope = models.CharField(max_length=255, blank=True)
    issued_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_lease_owner = models.CharField(max_length=32, blank=True, editable=False)
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Last successful refresh.")

    class Meta:
        verbose_name = "Salesforce token record"

    def __str__(self) -> str:
        return f"Token record #{self.pk}"

    def __repr__(self) -> str:
        return f"<SalesforceToken pk={self.pk} issued_at={self.issued_at!s}>"


class SalesforceLink(models.Model):
    """The link between one VCC account and a Salesforce org; one row per account, whatever its status."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="salesforce_link")
    status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNLINKED)
    org_type = models.CharField(max_length=10, choices=OrgType.choices, blank=True)
    api_user = models.ForeignKey(
        SalesforceApiUser, on_delete=models.PROTECT, null=True, blank=True, related_name="links"
    )
    slot = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Which of the API user's five approvals this link holds."
    )
    api_username = models.CharField("API username", max_length=255, blank=True)
    instance_url = models.URLField(blank=True)
    link_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    token = models.OneToOneField(
        SalesforceToken, on_delete=models.PROTECT, null=True, blank=True, related_name="link", editable=False
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    legacy_username = models.CharField(max_length=255, blank=True)
    permission_warnings = models.JSONField(default=list, blank=True)
    attention_reason = models.TextField(blank=True, help_text="What is wrong, in words for the account's admins.")
    attention_code = models.CharField(max_length=32, blank=True, help_text="Machine-readable reason.")
    #: Set while the link needs attention: the console's "needs attention" filter.
    attention_since = models.DateTimeField(null=True, blank=True)
    health = models.CharField(max_length=10, choices=LinkHealth.choices, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    #: First of an unbroken run of checks that Salesforce did not answer (timeout, 5xx, rate limit).
    health_failing_since = models.DateTimeField(null=True, blank=True)
    health_note = models.CharField(
        max_length=255, blank=True, help_text="Why the last check could not conclude, while it keeps failing."
    )
    #: When the scheduler next enqueues a health check (blank: not yet placed in the interval).
    next_check_at = models.DateTimeField(null=True, blank=True)
    # --- Listing columns: copies kept by the services so that every filter, search and sort of the
    # support console is one indexed scan of this table (crm_admin.directory). -------------------------
    org_id = models.CharField(
        "organization id", max_length=18, blank=True, help_text="The linked (or legacy) org, 18 characters."
    )
    api_user_link_count = models.PositiveSmallIntegerField(
        default=0, help_text="How many VCC accounts the API user serves (the page's 'n of 5')."
    )
    linked_by_username = models.CharField(max_length=150, blank=True, help_text="Who linked it, as they were named.")
    search_text = models.TextField(blank=True, editable=False, help_text="Lower-case slug, name and usernames.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Salesforce link"
        constraints = [
            models.CheckConstraint(
                name="link_linked_is_complete",
                condition=~Q(status=LinkStatus.LINKED)
                | (
                    Q(api_user__isnull=False, token__isnull=False, link_key__isnull=False, slot__isnull=False)
                    & Q(linked_at__isnull=False)
                    & ~Q(org_type="")
                    & ~Q(instance_url="")
                ),
            ),
            models.CheckConstraint(
                name="link_not_linked_holds_nothing",
                condition=Q(status=LinkStatus.LINKED)
                | Q(api_user__isnull=True, token__isnull=True, link_key__isnull=True, slot__isnull=True),
            ),
            models.CheckConstraint(
                name="link_legacy_has_username",
                condition=~Q(status=LinkStatus.LEGACY) | ~Q(legacy_username=""),
            ),
            models.CheckConstraint(
                name="link_unlinked_is_empty",
                condition=~Q(status=LinkStatus.UNLINKED) | (Q(legacy_username="") & Q(api_username="") & Q(org_id="")),
            ),
            # Checklist G3: the five-accounts rule, backed by the database.
            models.CheckConstraint(
                name="link_slot_in_range",
                condition=Q(slot__isnull=True) | Q(slot__gte=1, slot__lte=MAX_ACCOUNTS_PER_API_USER),
            ),
            models.UniqueConstraint(fields=["api_user", "slot"], name="link_unique_api_user_slot"),
            models.CheckConstraint(
                name="link_attention_is_explained",
                condition=Q(attention_since__isnull=True) | (Q(status=LinkStatus.LINKED) & ~Q(attention_reason="")),
            ),
        ]
        # One index per sortable column, each ending in the primary key: the console's keyset order.
        # The trigram index on search_text is PostgreSQL-only (migration 0003).
        indexes = [
            *(
                models.Index(fields=[column, "id"], name=f"link_by_{column}"[:30])
                for column in (
                    "status",
                    "org_type",
                    "org_id",
                    "api_username",
                    "api_user_link_count",
                    "linked_at",
                    "linked_by_username",
                    "health_checked_at",
                )
            ),
            models.Index(
                fields=["attention_since", "id"],
                name="link_needing_attention",
                condition=Q(attention_since__isnull=False),
            ),
            models.Index(fields=["next_check_at"], name="link_check_due", condition=Q(status=LinkStatus.LINKED)),
        ]

    def __str__(self) -> str:
        return f"{self.account.slug}: {self.get_status_display()}"

    def __repr__(self) -> str:
        return f"<SalesforceLink account_id={self.account_id} status={self.status}>"

    @property
    def needs_attention(self) -> bool:
        return self.attention_since is not None

    @property
    def needs_relink(self) -> bool:
        """Only a relink can mend it: the grant itself is gone or unreadable (nothing to fix in Salesforce)."""
        return self.needs_attention and self.attention_code in RELINK_ONLY_ATTENTION


class AuthorizationOutcome(models.TextChoices):
    PENDING = "pending", "Waiting for Salesforce"
    LINKED = "linked", "Linked"
    DENIED = "denied", "Access not allowed"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    ABANDONED = "abandoned", "Cancelled"


class PendingAuthorization(models.Model):
    """One Link/Relink attempt: the server-side OAuth state, bound to a user, session, account and org type.

    The ``state`` sent to Salesforce is stored only as its SHA-256 hash; the PKCE verifier is encrypted.
    Single use: ``consumed_at`` is set before any other work at the callback (checklist A2).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_verifier_encrypted = models.TextField(editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key_hash = models.CharField(max_length=64, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="authorizations")
    org_type = models.CharField(max_length=10, choices=OrgType.choices)
    login_hint = models.CharField(max_length=255, blank=True)
    in_popup = models.BooleanField(default=True, help_text="Started in a popup (else in the same tab).")
    client_ref = models.UUIDField(
        null=True, blank=True, db_index=True, editable=False, help_text="The opener page's handle for polling."
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=AuthorizationOutcome.choices, default=AuthorizationOutcome.PENDING
    )
    message = models.TextField(blank=True, help_text="What the admin was told.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["session_key_hash", "created_at"], name="authz_session_created")]

    def __str__(self) -> str:
        return f"{self.account.slug} {self.get_org_type_display()} attempt ({self.get_outcome_display()})"

    @property
    def is_final(self) -> bool:
        return self.outcome not in (AuthorizationOutcome.PENDING, AuthorizationOutcome.ABANDONED)


class RevokeReason(models.TextChoices):
    UNLINK = "unlink", "Unlinked"
    RELINK = "relink", "Replaced by a relink"
    REFUSED = "refused", "Grant refused by the portal"
    FAILED = "failed", "Linking failed after the grant"
    ROTATED = "rotated", "Rotated after the link let go of the grant"


class PendingRevoke(models.Model):
    """A grant we must revoke at Salesforce: an outbox row written in the same transaction as the change
    that orphaned it, deleted once Salesforce confirms. Orphan grants count against the API user's five
    Salesforce approvals, so none may be forgotten (reference §11)."""

    token_encrypted = models.TextField(editable=False)
    org_type = models.CharField(max_length=10, choices=OrgType.choices)
    reason = models.CharField(max_length=10, choices=RevokeReason.choices)
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the scheduler next hands it to a worker (exponential backoff)."
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["next_attempt_at"], name="revoke_due")]

    def __str__(self) -> str:
        return f"Pending revoke #{self.pk} ({self.get_reason_display()})"

    def __repr__(self) -> str:
        return f"<PendingRevoke pk={self.pk} reason={self.reason} attempts={self.attempts}>"


class LinkEventAction(models.TextChoices):
    LINKED = "linked", "Linked"
    RELINKED = "relinked", "Relinked"
    UNLINKED = "unlinked", "Unlinked"
    REFUSED = "refused", "Link refused"
    FAILED = "failed", "Link failed"
    DENIED = "denied", "Access not allowed in Salesforce"
    REVOKED_BY_SALESFORCE = "sf_revoked", "Access revoked by Salesforce"
    LEGACY_SET = "legacy", "Marked legacy"
    ATTENTION = "attention", "Needs attention"
    HEALTHY = "healthy", "Health check passed"
    HEALTH_UNKNOWN = "unknown", "Health unknown"
    TOKEN_ISSUED = "token", "Access token issued"


class LinkEvent(models.Model):
    """Append-only audit trail: one row per change of a link, written in the same transaction."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="link_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=LinkEventAction.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="event_account_newest")]

    def __str__(self) -> str:
        return f"{self.account.slug}: {self.get_action_display()}"

    @property
    def summary(self) -> str:
        """One line for people: the API user and org type involved, and why an attempt did not link."""
        parts = [
            str(self.detail.get("api_username") or self.detail.get("legacy_username") or ""),
            OrgType(self.detail["org_type"]).label if self.detail.get("org_type") in OrgType.values else "",
            REASON_LABELS.get(self.detail.get("reason", ""), ""),
        ]
        return " · ".join(part for part in parts if part)


#: What a refused or failed attempt's ``reason`` code means, for the activity list.
REASON_LABELS = {
    "api_user_limit": "API user already serves 5 accounts",
    "missing_permissions": "missing required permissions",
    "inactive_user": "inactive Salesforce user",
    "access_denied": "access not allowed in Salesforce",
    "authorize_error": "Salesforce refused the login",
    "unavailable": "Salesforce unavailable",
    "rate_limited": "Salesforce API limit reached",
    "api_disabled": "REST API disabled for the org",
    "invalid_response": "Salesforce answer failed verification",
    "oauth_error": "Salesforce refused the authorization",
    "session_invalid": "Salesforce revoked the new session",
    "failed": "unexpected error",
    "grant_revoked": "grant revoked in Salesforce",
    "user_inactive": "API user inactive",
    "org_inactive": "org locked or closed",
    "token_unreadable": "stored grant unreadable",
    "unreachable": "Salesforce not answering checks",
}


class LinkNotification(models.Model):
    """The email to an account's admins about one health transition: at most one per ``LinkEvent``."""

    event = models.OneToOneField(LinkEvent, on_delete=models.PROTECT, related_name="notification")
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Notification of event #{self.event_id}"
