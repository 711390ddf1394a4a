"""Users and roles, vendor settings, audit records and API tokens.

A user is either vendor staff (``staff_role`` set) or a partner user (one ``partners.Membership``).
Everything a person may see follows from those two facts; see ``covey.core.access``.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from covey.core.ids import PublicIdField
from covey.core.periods import FiscalCalendar
from covey.core.validators import validate_currency


class StaffRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    PARTNER_MANAGER = "partner_manager", "Partner manager"
    SALES_REP = "sales_rep", "Sales rep"
    FINANCE = "finance", "Finance"
    EXECUTIVE = "executive", "Executive"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("staff_role", StaffRole.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    public_id = PublicIdField(prefix="usr")
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    staff_role = models.CharField(
        max_length=20, choices=StaffRole.choices, blank=True,
        help_text="Set for the vendor's own staff; empty for partner users.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_vendor(self) -> bool:
        return bool(self.staff_role)

    @cached_property
    def membership(self):
        """The partner membership of a partner user, or None (vendor staff, or no partner)."""
        if self.is_vendor:
            return None
        from covey.partners.models import Membership

        # The partner's owning manager comes along: registration and other notifications need them.
        # order_by(): the model's default ordering (by partner, then e-mail) would join two more tables
        # for a lookup that finds at most one row (user is unique).
        return Membership.objects.select_related("partner__owner").filter(user=self).order_by().first()

    @property
    def role_label(self) -> str:
        if self.is_vendor:
            return self.get_staff_role_display()
        if self.membership:
            return f"{self.membership.get_role_display()} · {self.membership.partner.name}"
        return "No access"


class VendorSettings(models.Model):
    """The one company that runs this installation. Always row id 1; read with ``current()``."""

    company_name = models.CharField(max_length=200, default="Your company")
    domain = models.CharField(max_length=253, blank=True)
    base_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "vendor settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="vendor_fiscal_month_valid",
            )
        ]

    def __str__(self) -> str:
        return self.company_name

    @classmethod
    def current(cls) -> VendorSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(self.fiscal_year_start_month)


class AuditEvent(models.Model):
    """Who changed what, when. Written by services, never edited."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        IMPORT = "import", "Imported"
        TRANSITION = "transition", "Changed state"  # a workflow step: approve, reject, expire, resolve…
        REFUSED = "refused", "Refused"  # an attempted change the rules forbid (editing a locked version…)

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, blank=True, help_text="Kept when the user is deleted")
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=60)  # "crm.opportunity"
    object_id = models.CharField(max_length=24)  # the public id
    object_repr = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)  # {"field": [old, new]}
    source = models.CharField(max_length=20, default="web")  # web, api, cli, import

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the secret is stored; it is shown once.

    Its scope narrows what the user may do through it, never widens it: a ``read`` token answers
    every safe request its user could make and refuses every unsafe one (checked once, by the
    API's authentication); ``read_write`` acts exactly as the user.
    """

    PREFIX = "cvy"

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    public_id = PublicIdField(prefix="tok")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, help_text="Last characters, to recognise the token")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Tokens issued before scopes existed could write, so they keep doing so.
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ_WRITE)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str, scope: str = Scope.READ_WRITE) -> tuple[ApiToken, str]:
        key = f"{cls.PREFIX}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash_key(key), hint=key[-6:], scope=scope)
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class IdempotencyKey(models.Model):
    """The first answer to an API create sent with an ``Idempotency-Key`` header.

    A client that retries a create after a timeout sends the same key again and gets this stored
    answer instead of a second record. The key is scoped to the user; ``request_hash`` tells a true
    retry from a different request that reuses the key by mistake.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and JSON body")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class EmailStatus(models.TextChoices):
    NONE = "", "Not e-mailed"
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """Something a person should look at: shown in the in-app inbox and, usually, e-mailed too.

    Written by ``covey.core.notify.notify``; features never create these directly. The row is also
    the e-mail's outbox entry (``email_status``): the worker sends pending ones and retries failures,
    so a notification and its e-mail are one insert that commits or rolls back with the change.
    """

    public_id = PublicIdField(prefix="ntf")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60)  # "registration.approved", "plan.task_assigned"…
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)  # where "open" leads, a path inside Covey
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.NONE, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)  # a retry waits until then
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)  # the last failure, for the operator

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            # The outbox: only pending rows are indexed, so the index stays tiny.
            models.Index(fields=["email_next_attempt_at"], name="notification_email_pending",
                         condition=models.Q(email_status="pending")),
        ]

    def __str__(self) -> str:
        return self.title
