"""Enablement: courses and certifications, the partner resource library, announcements and newsletters.

Design:
- A ``Completion`` is one person finishing one course: a partner user, or a named person without an
  account (partners' engineers often have no portal login). A course that certifies gives the
  completion a certification with an expiry (``valid_months``); ``selectors.certified_people`` counts
  the distinct people of a partner certified on a date (the tier requirements read it).
- Library resources have numbered versions (an uploaded file or a link). Visibility by partner type
  and by tier: both are lists of codes, empty meaning everyone. A partner's tier comes from
  ``selectors.partner_tier_code`` (its current program enrolment); a partner in no program sees no
  tier-restricted resource. Each view and download leaves a ``ResourceUse`` (who, when, which version).
- Announcements and newsletter issues go to an audience (partner types, regions, lifecycle states;
  empty = all partners). E-mails go through ``core.notify`` (the outbox) unless the person opted out
  (``EmailPreference``); each e-mail carries a signed unsubscribe link that works without logging in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField


def _vendor_all_partner_own(qs, user, field: str = "partner_id"):
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_vendor:
        return qs
    membership = user.membership
    return qs.filter(**{field: membership.partner_id}) if membership else qs.none()


# --- training --------------------------------------------------------------------------------


class CourseKind(models.TextChoices):
    INTERNAL = "internal", "Internal (our academy)"
    EXTERNAL = "external", "External provider"


class CourseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CourseQuerySet:
        """The course catalogue is open to everyone signed in (like the product catalogue)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self if user.is_vendor else self.filter(is_active=True)


class Course(models.Model):
    public_id = PublicIdField(prefix="crs")
    title = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=CourseKind.choices, default=CourseKind.INTERNAL)
    url = models.URLField(max_length=500, blank=True, help_text="Where the course is taken")
    certifies = models.BooleanField(default=False, help_text="Completing it makes the person certified")
    certification_name = models.CharField(max_length=200, blank=True)
    valid_months = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: the certification never expires")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CompletionQuerySet(models.QuerySet):
    def visible_to(self, user) -> CompletionQuerySet:
        return _vendor_all_partner_own(self, user)

    def certified_on(self, day) -> CompletionQuerySet:
        """Certifications valid on ``day`` (through their expiry date inclusive)."""
        return self.filter(is_certification=True, completed_on__lte=day).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))


class Completion(models.Model):
    public_id = PublicIdField(prefix="cmp")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="completions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="completions")
    person_name = models.CharField(max_length=200)
    person_email = models.EmailField(max_length=254, blank=True)
    person_key = models.CharField(max_length=260, editable=False, help_text="Who this is, for counting distinct people")
    completed_on = models.DateField()
    is_certification = models.BooleanField(default=False)
    expires_on = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = CompletionQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_on", "-id"]
        indexes = [
            models.Index(fields=["partner", "is_certification", "expires_on"]),
            models.Index(fields=["expires_on"], condition=Q(is_certification=True, reminded_at__isnull=True), name="completion_reminder_sweep"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} · {self.course}"


# --- the resource library --------------------------------------------------------------------


class ResourceKind(models.TextChoices):
    TRAINING = "training", "Product training"
    PLAYBOOK = "playbook", "Sales playbook"
    BATTLE_CARD = "battle_card", "Battle card"
    COMPETITIVE = "competitive", "Competitive notes"
    CO_BRANDED = "co_branded", "Co-branded template"
    DEMO_SCRIPT = "demo_script", "Demo script"


class ResourceQuerySet(models.QuerySet):
    def visible_to(self, user) -> ResourceQuerySet:
        """Vendor staff see the whole library; a partner user the published resources meant for its
        partner's types and tier (see ``selectors.resources_for``)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from covey.enablement.selectors import resources_for

        return resources_for(self, membership.partner)


class Resource(models.Model):
    public_id = PublicIdField(prefix="res")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=ResourceKind.choices)
    description = models.TextField(blank=True)
    partner_types = models.JSONField(default=list, blank=True, help_text="Empty: every partner type")
    tier_codes = models.JSONField(default=list, blank=True, help_text="Empty: every tier (codes of the programs' tiers)")
    is_published = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def latest(self) -> ResourceVersion | None:
        return self.versions.order_by("-number").first()


def resource_file_path(version: ResourceVersion, filename: str) -> str:
    # A random directory per version and a cleaned name: nothing typed by a user picks the path.
    return f"library/{version.public_id}/{filename}"


class ResourceVersion(models.Model):
    public_id = PublicIdField(prefix="rsv")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=resource_file_path, blank=True, max_length=300)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    link = models.URLField(max_length=500, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["resource", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="resource_version_number_once"),
            models.CheckConstraint(condition=~Q(file="") | ~Q(link=""), name="resource_version_file_or_link"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} v{self.number}"


class UseAction(models.TextChoices):
    VIEW = "view", "Viewed"
    DOWNLOAD = "download", "Downloaded"


class ResourceUse(models.Model):
    """One view or download: content use is a leading indicator the analytics read."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="uses")
    version = models.ForeignKey(ResourceVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=8, choices=UseAction.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resource", "-at"]), models.Index(fields=["partner", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.resource}"


# --- announcements and newsletters -----------------------------------------------------------


class AudienceQuerySet(models.QuerySet):
    def visible_to(self, user) -> AudienceQuerySet:
        """Vendor staff see all; a partner user the published items whose audience includes its partner."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from covey.enablement.selectors import for_audience_of

        return for_audience_of(self.filter(sent_at__isnull=False), membership.partner)


class Audience(models.Model):
    """Who a message goes to: partners of any listed type, region and lifecycle state (empty = any)."""

    partner_types = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    lifecycles = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class Announcement(Audience):
    public_id = PublicIdField(prefix="ann")
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Published (and e-mailed) at")
    recipients = models.PositiveIntegerField(default=0)

    objects = AudienceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Newsletter(Audience):
    """One issue of the partner newsletter: an introduction, then the announcements and new library
    resources since the previous issue. The ``enablement.newsletters`` job sends it when it is due."""

    public_id = PublicIdField(prefix="nws")
    subject = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    send_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    body_sent = models.TextField(blank=True, help_text="The text as e-mailed")

    objects = AudienceQuerySet.as_manager()

    class Meta:
        ordering = ["-send_at", "-id"]
        indexes = [models.Index(fields=["send_at"], condition=Q(sent_at__isnull=True), name="newsletter_due_sweep")]

    def __str__(self) -> str:
        return self.subject


class EmailPreference(models.Model):
    """A person's choice about partner news e-mails (announcements and newsletters)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference")
    partner_news = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user}: partner news {'on' if self.partner_news else 'off'}"
