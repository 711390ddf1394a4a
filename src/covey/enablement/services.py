"""Enablement workflows: courses and completions, library resources and versions (with safe uploads),
use tracking, announcements, newsletters and the opt-out.

Permission checks are the caller's (``covey.enablement.selectors.can_*``); the rules that hold
whoever asks live here. Errors are ``ValidationError`` with messages for the person who caused them.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename

from covey.core import audit
from covey.core.models import User
from covey.core.notify import notify
from covey.core.validators import clean_text
from covey.core.vocab import Region
from covey.enablement.models import (
    Announcement,
    Completion,
    Course,
    CourseKind,
    EmailPreference,
    Newsletter,
    Resource,
    ResourceKind,
    ResourceUse,
    ResourceVersion,
)
from covey.partners.models import Lifecycle, Membership, Partner, PartnerType

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Extension -> what the file must start with (None: text that must decode as UTF-8).
ALLOWED_UPLOADS: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK\x03\x04"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".txt": ("text/plain; charset=utf-8", None),
    ".md": ("text/markdown; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
}
FILE_TYPE_REFUSED = "Upload a PDF, PNG, JPEG, Word, PowerPoint, Excel, text, Markdown or CSV file."
FILE_CONTENT_MISMATCH = "The file's content does not match its type ({ext}); it was not stored."
FILE_TOO_LARGE = f"Files can be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
FILE_OR_LINK = "Upload a file or give a link (not both)."
LINK_INVALID = "Give a link starting with https:// or http://."
COMPLETION_FUTURE = "The completion date cannot be in the future."
COMPLETION_TOO_OLD = "The completion date is implausibly far back."
NOT_A_MEMBER = "{user} does not work for {partner}."
COURSE_TITLE_TAKEN = "A course with this title exists already."
UNSUBSCRIBE_SALT = "covey.enablement.unsubscribe"
REMINDER_DAYS = 30


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _codes(values, vocabulary, field: str) -> list[str]:
    values = sorted(set(values or ()))
    if any(v not in vocabulary for v in values):
        raise ValidationError({field: "Choose among the listed values."})
    return values


# --- courses and completions -----------------------------------------------------------------


COURSE_FIELDS = ("title", "description", "kind", "url", "certifies", "certification_name", "valid_months", "is_active")


def _clean_course(values: dict) -> dict:
    out = {k: v for k, v in values.items() if k in COURSE_FIELDS}
    if "title" in out:
        out["title"] = clean_text(out["title"], field="title", limit=200, required="Give the course a title.")
    if "description" in out:
        out["description"] = clean_text(out["description"], field="description", limit=5000)
    if "certification_name" in out:
        out["certification_name"] = clean_text(out["certification_name"], field="certification_name", limit=200)
    if out.get("kind") not in (None, *CourseKind.values):
        raise ValidationError({"kind": "Choose internal or external."})
    if out.get("url"):
        try:
            URLValidator(schemes=["http", "https"])(out["url"])
        except ValidationError:
            raise ValidationError({"url": LINK_INVALID}) from None
    months = out.get("valid_months")
    if months is not None and not (isinstance(months, int) and 1 <= months <= 120):
        raise ValidationError({"valid_months": "A certification is valid for 1 to 120 months (leave empty for no expiry)."})
    return out


@transaction.atomic
def course_create(*, actor, source: str = "web", **values) -> Course:
    values = _clean_course(values)
    if Course.objects.filter(title__iexact=values.get("title", "")).exists():
        raise ValidationError({"title": COURSE_TITLE_TAKEN})
    course = Course.objects.create(**values)
    audit.record(actor=actor, action="create", obj=course, source=source,
                 changes={k: [None, str(v)] for k, v in values.items() if v not in ("", None)})
    return course


@transaction.atomic
def course_update(*, course: Course, actor, source: str = "web", **values) -> dict:
    values = _clean_course(values)
    if "title" in values and Course.objects.filter(title__iexact=values["title"]).exclude(pk=course.pk).exists():
        raise ValidationError({"title": COURSE_TITLE_TAKEN})
    before = audit.snapshot(course, list(values))
    for key, value in values.items():
        setattr(course, key, value)
    changes = audit.diff(before, audit.snapshot(course, list(values)))
    if changes:
        course.save(update_fields=list(changes))
        audit.record(actor=actor, action="update", obj=course, source=source, changes=changes)
    return changes


def _person_key(user: User | None, name: str, email: str) -> str:
    if user is not None:
        return f"user:{user.pk}"
    if email:
        return f"email:{email.lower()}"
    return f"name:{' '.join(name.casefold().split())}"


@transaction.atomic
def completion_record(*, course: Course, partner: Partner, actor, completed_on: date, user: User | None = None,
                      person_name: str = "", person_email: str = "", source: str = "web", today: date | None = None) -> Completion:
    """Record that a person of ``partner`` completed ``course``; a certifying course makes them certified
    until ``completed_on`` + the course's validity."""
    today = today or timezone.localdate()
    if user is not None:
        membership = None if user.is_vendor else user.membership
        if membership is None or membership.partner_id != partner.pk:
            raise ValidationError({"user": NOT_A_MEMBER.format(user=user, partner=partner)})
        person_name, person_email = user.full_name or user.email, user.email
    person_name = clean_text(person_name, field="person_name", limit=200, required="Give the person's name.")
    person_email = clean_text(person_email, field="person_email", limit=254).lower()
    if person_email:
        try:
            validate_email(person_email)
        except ValidationError:
            raise ValidationError({"person_email": "Enter a valid e-mail address."}) from None
    if completed_on > today:
        raise ValidationError({"completed_on": COMPLETION_FUTURE})
    if completed_on < date(1990, 1, 1):
        raise ValidationError({"completed_on": COMPLETION_TOO_OLD})
    expires = add_months(completed_on, course.valid_months) if course.certifies and course.valid_months else None
    completion = Completion.objects.create(
        course=course, partner=partner, user=user, person_name=person_name, person_email=person_email,
        person_key=_person_key(user, person_name, person_email), completed_on=completed_on,
        is_certification=course.certifies, expires_on=expires,
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    audit.record(actor=actor, action="create", obj=completion, source=source, changes={
        "course": [None, course.title], "partner": [None, str(partner)], "person": [None, person_name],
        "completed_on": [None, completed_on.isoformat()], "expires_on": [None, expires.isoformat() if expires else None],
    })
    return completion


@transaction.atomic
def completion_remove(*, completion: Completion, actor, source: str = "web") -> None:
    audit.record(actor=actor, action="delete", obj=completion, source=source)
    completion.delete()


def remind_expiring(*, now: datetime, days: int = REMINDER_DAYS) -> int:
    """Tell each certified person (with an account) and their partner's admins, once, that a
    certification expires within ``days``."""
    today = timezone.localdate(now)
    with transaction.atomic():
        due = list(
            Completion.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(is_certification=True, reminded_at__isnull=True, expires_on__gte=today, expires_on__lte=today + timedelta(days=days))
            .select_related("course", "partner", "user")
        )
        if not due:
            return 0
        Completion.objects.filter(pk__in=[c.pk for c in due]).update(reminded_at=now)
        admins: dict[int, list[User]] = {}
        for c in due:
            if c.partner_id not in admins:
                admins[c.partner_id] = [m.user for m in Membership.objects.filter(partner_id=c.partner_id, role="admin").select_related("user")]
            name = c.course.certification_name or c.course.title
            notify(
                [c.user, *admins[c.partner_id]], kind="enablement.certification_expiring",
                title=f"Certification expiring: {c.person_name} · {name}",
                body=f"{c.person_name}'s {name} certification expires on {c.expires_on:%d %b %Y}. "
                     f"Renew it to keep {c.partner}'s certified headcount.",
                url=reverse("training_home"),
            )
        return len(due)


# --- library ---------------------------------------------------------------------------------


def check_upload(upload) -> tuple[str, str, int]:
    """(clean file name, content type, size) of an acceptable upload, or a field error."""
    name = get_valid_filename(upload.name or "file")[-150:] or "file"
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in ALLOWED_UPLOADS:
        raise ValidationError({"file": FILE_TYPE_REFUSED})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": FILE_TOO_LARGE})
    content_type, magic = ALLOWED_UPLOADS[ext]
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if magic is not None:
        ok = head.startswith(magic)
    else:
        try:
            head.decode("utf-8")
            ok = b"\x00" not in head
        except UnicodeDecodeError:
            ok = False  # could be a cut multi-byte character at 2048: check the whole (small) file
            if upload.size <= MAX_UPLOAD_BYTES:
                try:
                    whole = upload.read()
                    whole.decode("utf-8")
                    ok = b"\x00" not in whole
                except UnicodeDecodeError:
                    ok = False
                upload.seek(0)
    if not ok:
        raise ValidationError({"file": FILE_CONTENT_MISMATCH.format(ext=ext)})
    return name, content_type, upload.size


def _clean_link(link: str) -> str:
    link = clean_text(link, field="link", limit=500)
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            raise ValidationError({"link": LINK_INVALID}) from None
    return link


RESOURCE_FIELDS = ("title", "kind", "description", "partner_types", "tier_codes", "is_published")


def _clean_resource(values: dict) -> dict:
    out = {k: v for k, v in values.items() if k in RESOURCE_FIELDS}
    if "title" in out:
        out["title"] = clean_text(out["title"], field="title", limit=200, required="Give the resource a title.")
    if "description" in out:
        out["description"] = clean_text(out["description"], field="description", limit=5000)
    if "kind" in out and out["kind"] not in ResourceKind.values:
        raise ValidationError({"kind": "Choose what kind of resource this is."})
    if "partner_types" in out:
        out["partner_types"] = _codes(out["partner_types"], PartnerType.values, "partner_types")
    if "tier_codes" in out:
        codes = sorted({c.strip().lower() for c in out["tier_codes"] or () if c.strip()})
        if any(len(c) > 40 or not c.replace("_", "").replace("-", "").isalnum() for c in codes):
            raise ValidationError({"tier_codes": "Tier codes are short words such as gold or silver, separated by commas."})
        out["tier_codes"] = codes
    return out


@transaction.atomic
def resource_create(*, actor, file=None, link: str = "", note: str = "", source: str = "web", **values) -> Resource:
    values = _clean_resource(values)
    resource = Resource.objects.create(created_by=actor if actor is not None and actor.pk else None, **values)
    audit.record(actor=actor, action="create", obj=resource, source=source,
                 changes={"title": [None, resource.title], "kind": [None, resource.kind],
                          "partner_types": [None, resource.partner_types], "tier_codes": [None, resource.tier_codes]})
    version_add(resource=resource, actor=actor, file=file, link=link, note=note or "First version", source=source)
    return resource


@transaction.atomic
def resource_update(*, resource: Resource, actor, source: str = "web", **values) -> dict:
    values = _clean_resource(values)
    before = audit.snapshot(resource, list(values))
    for key, value in values.items():
        setattr(resource, key, value)
    changes = audit.diff(before, audit.snapshot(resource, list(values)))
    if changes:
        resource.save(update_fields=[*changes, "updated_at"])
        audit.record(actor=actor, action="update", obj=resource, source=source, changes=changes)
    return changes


@transaction.atomic
def version_add(*, resource: Resource, actor, file=None, link: str = "", note: str = "", source: str = "web") -> ResourceVersion:
    link = _clean_link(link)
    note = clean_text(note, field="note", limit=300)
    if bool(file) == bool(link):
        raise ValidationError({"file": FILE_OR_LINK})
    Resource.objects.select_for_update().filter(pk=resource.pk).first()
    number = (resource.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ResourceVersion(resource=resource, number=number, link=link, note=note,
                              created_by=actor if actor is not None and actor.pk else None)
    if file:
        name, content_type, size = check_upload(file)
        version.file_name, version.content_type, version.size = name, content_type, size
        from covey.core.ids import assign_public_id

        assign_public_id(version)  # the upload path uses it
        version.file.save(name, file, save=False)
    try:
        version.save()
    except Exception:
        if version.file:
            version.file.delete(save=False)
        raise
    Resource.objects.filter(pk=resource.pk).update(updated_at=timezone.now())
    audit.record(actor=actor, action="update", obj=resource, source=source,
                 changes={"version": [number - 1 or None, number], "file": [None, version.file_name or link]})
    return version


def record_use(*, resource: Resource, version: ResourceVersion | None, user, action: str) -> ResourceUse:
    membership = None if user.is_vendor else user.membership
    return ResourceUse.objects.create(resource=resource, version=version, user=user, action=action,
                                      partner_id=membership.partner_id if membership else None)


# --- announcements, newsletters and the opt-out ----------------------------------------------


def _clean_audience(values: dict) -> dict:
    return {
        "partner_types": _codes(values.get("partner_types"), PartnerType.values, "partner_types"),
        "regions": _codes(values.get("regions"), Region.values, "regions"),
        "lifecycles": _codes(values.get("lifecycles"), Lifecycle.values, "lifecycles"),
    }


def audience_members(item) -> list[User]:
    """The active users of every partner in ``item``'s audience."""
    partners = Partner.objects.exclude(lifecycle=Lifecycle.TERMINATED)
    if item.regions:
        partners = partners.filter(region__in=item.regions)
    if item.lifecycles:
        partners = partners.filter(lifecycle__in=item.lifecycles)
    if item.partner_types:
        partners = partners.filter(types__code__in=item.partner_types)
    memberships = Membership.objects.filter(partner__in=partners.distinct(), user__is_active=True).select_related("user")
    return [m.user for m in memberships]


def opted_out(users: list[User]) -> set[int]:
    return set(EmailPreference.objects.filter(user__in=users, partner_news=False).values_list("user_id", flat=True))


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.public_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User) -> str:
    return f"{settings.SITE_URL}{reverse('unsubscribe', kwargs={'token': unsubscribe_token(user)})}"


def user_for_token(token: str) -> User | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(public_id=str(data.get("u", ""))[:24]).first() if isinstance(data, dict) else None


@transaction.atomic
def set_partner_news(*, user: User, subscribed: bool, source: str = "web") -> bool:
    pref, _ = EmailPreference.objects.get_or_create(user=user)
    if pref.partner_news == subscribed:
        return False
    pref.partner_news, pref.changed_at = subscribed, timezone.now()
    pref.save(update_fields=["partner_news", "changed_at"])
    audit.record(actor=user, action="update", obj=user, source=source, changes={"partner_news_emails": [not subscribed, subscribed]})
    return True


def _send_to_audience(item, *, title: str, body: str, url: str, kind: str) -> int:
    """One in-app notification per audience member; e-mailed (with the unsubscribe link) unless they opted out."""
    users = audience_members(item)
    out = opted_out(users)
    for user in users:
        wants = user.pk not in out
        text = body + (f"\n\nTo stop partner news e-mails: {unsubscribe_url(user)}" if wants else "")
        notify([user], kind=kind, title=title, body=text, url=url, email=wants)
    return len(users)


@transaction.atomic
def announcement_publish(*, actor, title: str, body: str, source: str = "web", now: datetime | None = None, **audience) -> Announcement:
    title = clean_text(title, field="title", limit=200, required="Give the announcement a title.")
    body = clean_text(body, field="body", limit=20_000, required="Write the announcement.")
    announcement = Announcement.objects.create(
        title=title, body=body, created_by=actor if actor is not None and actor.pk else None, sent_at=now or timezone.now(),
        **_clean_audience(audience),
    )
    announcement.recipients = _send_to_audience(
        announcement, title=f"Announcement: {title}", body=body, kind="enablement.announcement",
        url=reverse("announcement_detail", kwargs={"public_id": announcement.public_id}),
    )
    announcement.save(update_fields=["recipients"])
    audit.record(actor=actor, action="create", obj=announcement, source=source,
                 changes={"title": [None, title], "recipients": [None, announcement.recipients]})
    return announcement


@transaction.atomic
def newsletter_schedule(*, actor, subject: str, intro: str, send_at: datetime, source: str = "web", now: datetime | None = None,
                        **audience) -> Newsletter:
    subject = clean_text(subject, field="subject", limit=200, required="Give the newsletter a subject.")
    intro = clean_text(intro, field="intro", limit=20_000)
    if send_at < (now or timezone.now()) - timedelta(minutes=5):
        raise ValidationError({"send_at": "Choose a time from now on."})
    newsletter = Newsletter.objects.create(subject=subject, intro=intro, send_at=send_at,
                                           created_by=actor if actor is not None and actor.pk else None, **_clean_audience(audience))
    audit.record(actor=actor, action="create", obj=newsletter, source=source,
                 changes={"subject": [None, subject], "send_at": [None, send_at.isoformat()]})
    return newsletter


def newsletter_text(newsletter: Newsletter, *, since: datetime | None) -> str:
    """The issue: its introduction, then what was announced and added to the library since ``since``."""
    parts = [newsletter.intro] if newsletter.intro else []
    news = Announcement.objects.filter(sent_at__isnull=False, sent_at__lte=newsletter.send_at)
    resources = Resource.objects.filter(is_published=True, created_at__lte=newsletter.send_at)
    if since is not None:
        news, resources = news.filter(sent_at__gt=since), resources.filter(created_at__gt=since)
    news_lines = [f"- {a.title}" for a in news.order_by("sent_at")[:20] if _audiences_overlap(a, newsletter)]
    if news_lines:
        parts.append("Announcements\n" + "\n".join(news_lines))
    new_resources = [f"- {r.title} ({r.get_kind_display()})" for r in resources.order_by("created_at")[:20]]
    if new_resources:
        parts.append("New in the partner library\n" + "\n".join(new_resources))
    return "\n\n".join(parts) or "No news this time."


def _audiences_overlap(a, b) -> bool:
    return all(not x or not y or bool(set(x) & set(y)) for x, y in (
        (a.partner_types, b.partner_types), (a.regions, b.regions), (a.lifecycles, b.lifecycles)))


def send_due_newsletters(*, now: datetime) -> int:
    sent = 0
    due = Newsletter.objects.filter(sent_at__isnull=True, send_at__lte=now).order_by("send_at")[:20]
    for pending in due:
        with transaction.atomic():
            newsletter = Newsletter.objects.select_for_update(skip_locked=True).filter(pk=pending.pk, sent_at__isnull=True).first()
            if newsletter is None:
                continue  # another worker took it
            previous = Newsletter.objects.filter(sent_at__isnull=False).order_by("-sent_at").first()
            text = newsletter_text(newsletter, since=previous.sent_at if previous else None)
            newsletter.recipients = _send_to_audience(
                newsletter, title=newsletter.subject, body=text, kind="enablement.newsletter",
                url=reverse("newsletter_detail", kwargs={"public_id": newsletter.public_id}),
            )
            newsletter.sent_at, newsletter.body_sent = now, text
            newsletter.save(update_fields=["recipients", "sent_at", "body_sent"])
            audit.record(actor=None, action="transition", obj=newsletter, source="job",
                         changes={"sent": [False, True], "recipients": [None, newsletter.recipients]})
            sent += 1
    return sent
