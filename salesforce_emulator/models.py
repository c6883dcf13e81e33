"""The emulated Salesforce's state: connected app, orgs, users, OAuth artefacts and injected faults.

Everything lives in these ``sfemu_`` tables, never in process memory, so a multi-threaded dev server and a
test live server agree. Codes and tokens are stored only as SHA-256 digests (``tokens.digest``).
"""

from __future__ import annotations

from django.db import models

# The UserPermissionAccess fields the emulator knows (sfFieldRef UserPermissionAccess); each user holds a
# boolean per name. Reference §10 names the ones VCC's API user needs.
PERMISSIONS: tuple[str, ...] = (
    "PermissionsApiEnabled",
    "PermissionsEditTask",
    "PermissionsViewAllUsers",
    "PermissionsViewAllData",
    "PermissionsModifyAllData",
    "PermissionsPasswordNeverExpires",
    "PermissionsViewSetup",
    "PermissionsCustomizeApplication",
    "PermissionsManageUsers",
)


def all_permissions() -> dict[str, bool]:
    """Return every known permission granted: the default for a new emulated user."""
    return dict.fromkeys(PERMISSIONS, True)


class Host(models.TextChoices):
    """The two login hosts: login.salesforce.com and test.salesforce.com (reference §1)."""

    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


class ConnectedApp(models.Model):
    """A connected app: the portal's OAuth client."""

    name = models.CharField(max_length=80)
    consumer_key = models.CharField(max_length=255, unique=True)
    # Kept in plain text: Salesforce keys the token response's HMAC signature with it (reference §3).
    consumer_secret = models.CharField(max_length=255)
    scopes = models.CharField(max_length=255, help_text="Space-separated OAuth scopes the app may ask for.")
    rotate_refresh_tokens = models.BooleanField(
        default=False, help_text="Refresh token rotation: every refresh answers a new refresh token (reference §5)."
    )

    class Meta:
        db_table = "sfemu_connected_app"

    def __str__(self) -> str:
        return self.name

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class CallbackUrl(models.Model):
    """One of a connected app's callback URLs; ``redirect_uri`` must equal one exactly."""

    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="callback_urls")
    url = models.CharField(max_length=2000)

    class Meta:
        db_table = "sfemu_callback_url"
        constraints = [models.UniqueConstraint(fields=["app", "url"], name="sfemu_callback_url_unique")]

    def __str__(self) -> str:
        return self.url


class Organization(models.Model):
    """A Salesforce org; it lives on one host, so only that host's login page knows its users."""

    id = models.CharField(primary_key=True, max_length=18)
    host = models.CharField(max_length=10, choices=Host.choices)
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True, help_text="False for a locked, closed or suspended org.")
    api_enabled = models.BooleanField(default=True, help_text="False when the REST API is off for the org.")

    class Meta:
        db_table = "sfemu_organization"
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="sfemu_organization_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_host_display()})"


class SalesforceUser(models.Model):
    """A user of an emulated org, with a Django-hashed password and its UserPermissionAccess booleans."""

    id = models.CharField(primary_key=True, max_length=18)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="users")
    username = models.CharField(max_length=80, unique=True)
    password = models.CharField(max_length=128)
    first_name = models.CharField(max_length=40)
    last_name = models.CharField(max_length=80)
    email = models.EmailField()
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=40, default="America/Los_Angeles")
    language = models.CharField(max_length=10, default="en_US")
    locale = models.CharField(max_length=10, default="en_US")
    permissions = models.JSONField(default=all_permissions, help_text="UserPermissionAccess field → bool.")
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sfemu_user"

    def __str__(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def has_permission(self, name: str) -> bool:
        return bool(self.permissions.get(name, False))


class AuthorizationRequest(models.Model):
    """An authorize request between the login page and the Allow/Deny answer.

    The browser carries only the unguessable primary key in the login and consent forms; the emulator
    uses no session or cookie of its own.
    """

    id = models.CharField(primary_key=True, max_length=64)
    host = models.CharField(max_length=10, choices=Host.choices)
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000)
    state = models.TextField(blank=True)
    scopes = models.CharField(max_length=255)
    code_challenge = models.CharField(max_length=128, blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    display = models.CharField(max_length=10, default="page")
    login_hint = models.CharField(max_length=80, blank=True)
    user = models.ForeignKey(SalesforceUser, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "sfemu_authorization_request"

    def __str__(self) -> str:
        return f"authorize request of {self.app} on {self.host} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class AuthorizationCode(models.Model):
    """A single-use authorization code, bound to its client, redirect URI and PKCE challenge."""

    code_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SalesforceUser, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000)
    scopes = models.CharField(max_length=255)
    code_challenge = models.CharField(max_length=128, blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "sfemu_authorization_code"

    def __str__(self) -> str:
        return f"code for {self.user} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class RefreshToken(models.Model):
    """A refresh token: what Salesforce counts as one approval of the app by the user (reference §11)."""

    token_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SalesforceUser, on_delete=models.CASCADE, related_name="refresh_tokens")
    code = models.ForeignKey(AuthorizationCode, on_delete=models.SET_NULL, null=True, related_name="+")
    scopes = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "sfemu_refresh_token"
        indexes = [models.Index(fields=["user", "app", "revoked_at"], name="sfemu_refresh_approvals")]

    def __str__(self) -> str:
        return f"refresh token of {self.user} from {self.created_at:%Y-%m-%d %H:%M:%S}"


class RotatedRefreshToken(models.Model):
    """A refresh token that rotation replaced: presenting it again revokes the grant (reference §5)."""

    token_hash = models.CharField(max_length=64, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE, related_name="rotated")
    rotated_at = models.DateTimeField()

    class Meta:
        db_table = "sfemu_rotated_refresh_token"

    def __str__(self) -> str:
        return f"rotated-out token of {self.refresh_token}"


class AccessToken(models.Model):
    """An access token (a session): valid until revoked or until the session timeout passes."""

    token_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SalesforceUser, on_delete=models.CASCADE, related_name="access_tokens")
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE, null=True, related_name="access_tokens")
    code = models.ForeignKey(AuthorizationCode, on_delete=models.SET_NULL, null=True, related_name="+")
    scopes = models.CharField(max_length=255)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "sfemu_access_token"

    def __str__(self) -> str:
        return f"access token of {self.user} from {self.issued_at:%Y-%m-%d %H:%M:%S}"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class FaultEndpoint(models.TextChoices):
    AUTHORIZE = "authorize"
    TOKEN = "token"
    REVOKE = "revoke"
    IDENTITY = "identity"
    USERINFO = "userinfo"
    QUERY = "query"
    INTROSPECT = "introspect"


class FaultKind(models.TextChoices):
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    MALFORMED_JSON = "malformed_json"
    RATE_LIMITED = "rate_limited"
    API_DISABLED = "api_disabled"
    #: Token endpoint only: a normal answer whose ``signature`` does not verify (a tampered response).
    BAD_SIGNATURE = "bad_signature"


class EmulatorFault(models.Model):
    """A fault to answer the next ``remaining`` calls of one endpoint with (see ``faults``)."""

    endpoint = models.CharField(max_length=10, choices=FaultEndpoint.choices)
    kind = models.CharField(max_length=20, choices=FaultKind.choices)
    remaining = models.PositiveIntegerField(default=1)
    delay = models.FloatField(null=True, blank=True, help_text="Seconds a timeout fault sleeps.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sfemu_fault"

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.kind} ({self.remaining} left)"
