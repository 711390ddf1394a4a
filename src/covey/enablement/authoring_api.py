"""Enablement authoring over the API: what the training, library and news pages change.

- Courses: read one, add one, change one (admins, as on the catalogue pages).
- Completions: remove one (admins and partner managers for any partner, a partner's admin for its own).
- Library: add a resource (a link, or a file inside the JSON body as ``content_base64`` or
  ``content`` with its ``filename``, refused on the same checks as the page's uploads), change it,
  add a version, and download a version (the file, or a redirect to the link), each download
  counted as on the page. Admins and partner managers manage the library.
- News: read an announcement, publish one to an audience (in-app notifications and e-mails at
  once), list, read and schedule newsletter issues (admins and partner managers).

Each endpoint fetches through ``visible_to`` (404 for what the caller cannot see), checks the role
with the pages' ``selectors.can_*`` (403), validates through its schema and calls the pages'
service with ``source="api"``.

The endpoints join the enablement router of ``covey.enablement.api``: ninja answers a path from
one router only, and ``/api/resources`` and ``/api/resources/{id}`` live there already.
``covey.api`` imports this module before mounting that router.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.utils import timezone
from ninja import Field, Query
from pydantic import field_validator

from covey.core import access
from covey.core.api import (
    create_once,
    idempotency_key_header,
    no_content,
    page,
    refuse_nulls,
    search,
    uploaded_bytes,
    user_of,
)
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema, OutSchema, Paging, plain
from covey.core.vocab import Region
from covey.enablement import selectors, services
from covey.enablement.api import CourseOut, ResourceOut, course_out, resource_out, router
from covey.enablement.models import (
    Announcement,
    Completion,
    Course,
    CourseKind,
    Newsletter,
    Resource,
    ResourceKind,
    ResourceVersion,
    UseAction,
)
from covey.partners.models import Lifecycle, PartnerType

NO_COURSES = "Only admins manage the course catalogue."
NO_REMOVE = "Only admins, partner managers and the partner's admins remove completions."
NO_LIBRARY = "Only admins and partner managers manage the library."
NO_NEWS = "Only admins and partner managers send announcements and newsletters."
NO_FILENAME = "Name the file: its extension (.pdf, .png, .docx, …) says what it is."
NO_CONTENT = "Send the file's content as content_base64 (or content, for text) with its filename."
EMPTY_FILE = "The file is empty."
BAD_FILENAME = "Give the file a name such as guide.pdf."
BAD_TIME = "Give a real date and time, such as 2026-12-01T09:00:00Z."
MAX_TIER_CODES = 50
DOWNLOAD_TYPES = sorted({content_type.split(";")[0] for content_type, _magic in services.ALLOWED_UPLOADS.values()})


# --- courses ---------------------------------------------------------------------------------


class CourseDetailOut(CourseOut):
    description: str
    created_at: datetime


def course_detail_out(c: Course) -> dict:
    return course_out(c) | {"description": c.description, "created_at": c.created_at}


class CourseIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    kind: CourseKind = CourseKind.INTERNAL
    url: str = Field("", max_length=500, description="Where the course is taken (an http or https address)")
    description: str = Field("", max_length=5000)
    certifies: bool = Field(False, description="Completing it makes the person certified")
    certification_name: str = Field("", max_length=200)
    valid_months: int | None = Field(None, ge=1, le=120, description="How long a certification lasts; null: it never expires")
    is_active: bool = Field(True, description="Open for enrolment (partner users see active courses only)")


class CourseUpdate(InputSchema):
    """Only the fields sent change; valid_months may be null (the certification never expires)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    kind: CourseKind | None = None
    url: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    certifies: bool | None = None
    certification_name: str | None = Field(None, max_length=200)
    valid_months: int | None = Field(None, ge=1, le=120)
    is_active: bool | None = None


@router.get("/courses/{id}", response={200: CourseDetailOut, **READ_ERRORS}, operation_id="courses_get", summary="Get a course",
            description="One course of the catalogue; partner users see active courses only.")
def course_get(request: HttpRequest, id: str):
    return course_detail_out(access.get_for_user(Course, user_of(request), id))


@router.post("/courses", response={201: CourseDetailOut, **WRITE_ERRORS}, operation_id="courses_create", summary="Add a course",
             description="Admins. Titles are unique (ignoring case). Send an Idempotency-Key header to make retries safe.")
def course_create(request: HttpRequest, payload: CourseIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_manage_courses(user), NO_COURSES)
    values = plain(payload.model_dump())
    return create_once(request, key=idempotency_key, schema=CourseDetailOut, render=course_detail_out,
                       make=lambda: services.course_create(actor=user, source="api", **values))


@router.patch("/courses/{id}", response={200: CourseDetailOut, **WRITE_ERRORS}, operation_id="courses_update",
              summary="Change a course", description="Admins. Only the fields sent change; completions already recorded keep "
              "their expiry.")
def course_update(request: HttpRequest, id: str, payload: CourseUpdate):
    user = user_of(request)
    course = access.get_for_user(Course, user, id)
    access.require(selectors.can_manage_courses(user), NO_COURSES)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("valid_months",))
    services.course_update(course=course, actor=user, source="api", **values)
    return course_detail_out(Course.objects.get(pk=course.pk))


# --- completions -----------------------------------------------------------------------------


@router.delete("/certifications/{id}", response={204: None, **WRITE_ERRORS}, operation_id="certifications_delete",
               summary="Remove a completion", description="As the training page's Remove: admins and partner managers for "
               "any partner, a partner's admin for its own people. The certified headcount drops at once.")
def completion_delete(request: HttpRequest, id: str):
    user = user_of(request)
    completion = access.get_for_user(Completion, user, id, select=("partner", "course"))
    access.require(selectors.can_record_completion(user, completion.partner), NO_REMOVE)
    services.completion_remove(completion=completion, actor=user, source="api")
    return no_content()


# --- library ---------------------------------------------------------------------------------


class LibraryVersionOut(OutSchema):
    id: str
    number: int
    file_name: str
    content_type: str
    size: int
    link: str
    note: str
    created_at: datetime
    download_url: str = Field(..., description="GET it for the file (or a redirect to the link); each download is counted")


def download_url(version: ResourceVersion) -> str:
    return f"/api/resources/{version.resource.public_id}/versions/{version.public_id}/download"


def version_out(v: ResourceVersion) -> dict:
    return {"id": v.public_id, "number": v.number, "file_name": v.file_name, "content_type": v.content_type, "size": v.size,
            "link": v.link, "note": v.note, "created_at": v.created_at, "download_url": download_url(v)}


class VersionIn(InputSchema):
    """A link, or a file: ``filename`` with ``content_base64`` (or ``content`` for a text file)."""

    link: str = Field("", max_length=500, description="An http or https address (a video, say), instead of a file")
    filename: str | None = Field(None, min_length=1, max_length=255, description="The file's name; its extension is its type")
    content: str | None = Field(None, description="A text file's content (.txt, .md, .csv)")
    content_base64: str | None = Field(None, description="The file as base64: PDF, PNG, JPEG, Word, PowerPoint, Excel, "
                                       f"text, Markdown or CSV, at most {services.MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    note: str = Field("", max_length=300, description="What changed")


class ResourceIn(VersionIn):
    title: str = Field(..., min_length=1, max_length=200)
    kind: ResourceKind
    description: str = Field("", max_length=5000)
    partner_types: list[PartnerType] = Field(default_factory=list, max_length=len(PartnerType),
                                             description="Partner types that see it; empty: every type")
    tier_codes: list[str] = Field(default_factory=list, max_length=MAX_TIER_CODES,
                                  description="Program tier codes (gold, silver…) that see it; empty: every tier")
    is_published: bool = True


class ResourceUpdate(InputSchema):
    """Only the fields sent change. New files or links are new versions (POST …/versions)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    kind: ResourceKind | None = None
    description: str | None = Field(None, max_length=5000)
    partner_types: list[PartnerType] | None = Field(None, max_length=len(PartnerType))
    tier_codes: list[str] | None = Field(None, max_length=MAX_TIER_CODES)
    is_published: bool | None = None


def _upload(payload: VersionIn) -> ContentFile | None:
    """The file in the body, checked as the page checks uploads; None for a link."""
    if payload.content is None and payload.content_base64 is None:
        if payload.filename is not None:
            raise ValidationError({"content_base64": NO_CONTENT})
        if not payload.link.strip():
            raise ValidationError({"link": services.FILE_OR_LINK})
        return None
    if payload.link:
        raise ValidationError({"link": services.FILE_OR_LINK})
    if payload.filename is None:
        raise ValidationError({"filename": NO_FILENAME})
    data = uploaded_bytes(payload.content, payload.content_base64, limit=services.MAX_UPLOAD_BYTES)
    if not data:
        raise ValidationError({"content_base64" if payload.content is None else "content": EMPTY_FILE})
    upload = ContentFile(data, name=payload.filename)
    try:
        services.check_upload(upload)
    except SuspiciousFileOperation:
        raise ValidationError({"filename": BAD_FILENAME}) from None
    except ValidationError as exc:
        field = "filename" if services.FILE_TYPE_REFUSED in exc.messages else ("content" if payload.content is not None else "content_base64")
        raise ValidationError({field: exc.messages}) from None
    return upload


@contextmanager
def _file_errors() -> Iterator[None]:
    """The services name the upload ``file`` (the form's field); the API's is content_base64."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "file" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["content_base64"] = errors.pop("file")
            raise ValidationError(errors) from None
        raise


def _resource(user, public_id: str) -> Resource:
    return access.get_for_user(Resource, user, public_id)


def _resource_values(values: dict) -> dict:
    return {k: v for k, v in values.items() if k in services.RESOURCE_FIELDS}


@router.post("/resources", response={201: ResourceOut, **WRITE_ERRORS}, operation_id="resources_create",
             summary="Add a library resource", description="Admins and partner managers. Its first version is a link or a file "
             "(filename with content_base64, or content for text); a file of a refused type, or whose content does not match "
             "its extension, is a 422 and nothing is stored. Send an Idempotency-Key header to make retries safe.")
def resource_create(request: HttpRequest, payload: ResourceIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_manage_library(user), NO_LIBRARY)
    values = _resource_values(plain(payload.model_dump()))
    upload = _upload(payload)

    def make() -> Resource:
        with _file_errors():
            return services.resource_create(actor=user, file=upload, link=payload.link, note=payload.note, source="api", **values)

    return create_once(request, key=idempotency_key, schema=ResourceOut, render=lambda r: resource_out(_resource(user, r.public_id)),
                       make=make)


@router.patch("/resources/{id}", response={200: ResourceOut, **WRITE_ERRORS}, operation_id="resources_update",
              summary="Change a library resource", description="Admins and partner managers. Only the fields sent change; "
              "unpublishing hides it from every partner.")
def resource_update(request: HttpRequest, id: str, payload: ResourceUpdate):
    user = user_of(request)
    resource = _resource(user, id)
    access.require(selectors.can_manage_library(user), NO_LIBRARY)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values)
    services.resource_update(resource=resource, actor=user, source="api", **values)
    return resource_out(_resource(user, id))


@router.post("/resources/{id}/versions", response={201: LibraryVersionOut, **WRITE_ERRORS}, operation_id="resources_versions_create",
             summary="Add a version of a library resource", description="Admins and partner managers. A link or a file, checked "
             "as for a new resource; versions are numbered from 1. Send an Idempotency-Key header to make retries safe.")
def version_create(request: HttpRequest, id: str, payload: VersionIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    resource = _resource(user, id)
    access.require(selectors.can_manage_library(user), NO_LIBRARY)
    upload = _upload(payload)

    def make() -> ResourceVersion:
        with _file_errors():
            return services.version_add(resource=resource, actor=user, file=upload, link=payload.link, note=payload.note, source="api")

    return create_once(request, key=idempotency_key, schema=LibraryVersionOut, render=version_out, make=make)


DOWNLOAD_ANSWER = {"responses": {
    "200": {"description": "The file", "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in DOWNLOAD_TYPES}},
    "302": {"description": "A link version: its address is in Location"},
}}


@router.get("/resources/{id}/versions/{version_id}/download", response=READ_ERRORS, operation_id="resources_download",
            openapi_extra=DOWNLOAD_ANSWER, summary="Download a version of a library resource",
            description="The file as an attachment, or a redirect to the version's link; counted as a download, as on the page.")
def version_download(request: HttpRequest, id: str, version_id: str):
    user = user_of(request)
    resource = _resource(user, id)
    version = resource.versions.filter(public_id=version_id).first()
    if version is None:
        raise Http404("No resource version with that id")
    services.record_use(resource=resource, version=version, user=user, action=UseAction.DOWNLOAD)
    if version.link:
        return HttpResponseRedirect(version.link)
    if not version.file:
        raise Http404("This version has no file")
    try:
        handle = version.file.open("rb")
    except FileNotFoundError:
        raise Http404("This version's file is missing from storage") from None
    return FileResponse(handle, as_attachment=True, filename=version.file_name,
                        content_type=version.content_type or "application/octet-stream")


# --- announcements and newsletters -----------------------------------------------------------


class AudienceIn(InputSchema):
    partner_types: list[PartnerType] = Field(default_factory=list, max_length=len(PartnerType), description="Empty: every type")
    regions: list[Region] = Field(default_factory=list, max_length=len(Region), description="Empty: every region")
    lifecycles: list[Lifecycle] = Field(default_factory=list, max_length=len(Lifecycle), description="Empty: every lifecycle state")


class AudienceOut(OutSchema):
    partner_types: list[str]
    regions: list[str]
    lifecycles: list[str]


def _audience_values(payload: AudienceIn) -> dict:
    return plain(payload.model_dump(include={"partner_types", "regions", "lifecycles"}))


def _vendor_view(item, user) -> dict:
    """The audience and head count, which the pages show vendor staff only."""
    if not user.is_vendor:
        return {"audience": None, "recipients": None}
    return {"audience": {"partner_types": item.partner_types, "regions": item.regions, "lifecycles": item.lifecycles},
            "recipients": item.recipients}


class AnnouncementDetailOut(OutSchema):
    id: str
    title: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    audience: AudienceOut | None = Field(..., description="Vendor staff only (null for partner users)")
    recipients: int | None = Field(..., description="People it was sent to; vendor staff only")


def announcement_out(a: Announcement, user) -> dict:
    return {"id": a.public_id, "title": a.title, "body": a.body, "created_at": a.created_at, "sent_at": a.sent_at} | _vendor_view(a, user)


class AnnouncementIn(AudienceIn):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)


@router.get("/announcements/{id}", response={200: AnnouncementDetailOut, **READ_ERRORS}, operation_id="announcements_get",
            summary="Get an announcement", description="404 unless it was addressed to your partner (vendor staff: any).")
def announcement_get(request: HttpRequest, id: str):
    user = user_of(request)
    return announcement_out(access.get_for_user(Announcement, user, id), user)


@router.post("/announcements", response={201: AnnouncementDetailOut, **WRITE_ERRORS}, operation_id="announcements_create",
             summary="Publish an announcement", description="Admins and partner managers. It reaches every active person of "
             "the partners in its audience at once: an in-app notification, and an e-mail unless they opted out of partner "
             "news. Send an Idempotency-Key header: a retry must not announce twice.")
def announcement_create(request: HttpRequest, payload: AnnouncementIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_send_news(user), NO_NEWS)
    audience = _audience_values(payload)
    return create_once(request, key=idempotency_key, schema=AnnouncementDetailOut, render=lambda a: announcement_out(a, user),
                       make=lambda: services.announcement_publish(actor=user, title=payload.title, body=payload.body,
                                                                  source="api", **audience))


class NewsletterOut(OutSchema):
    id: str
    subject: str
    intro: str
    send_at: datetime
    sent_at: datetime | None
    audience: AudienceOut | None = Field(..., description="Vendor staff only (null for partner users)")
    recipients: int | None = Field(..., description="People it was sent to; vendor staff only")


class NewsletterDetailOut(NewsletterOut):
    text: str = Field(..., description="The issue as e-mailed; before it is sent, what it would say now")


class NewsletterPage(OutSchema):
    items: list[NewsletterOut]
    count: int


def newsletter_out(n: Newsletter, user) -> dict:
    return {"id": n.public_id, "subject": n.subject, "intro": n.intro, "send_at": n.send_at, "sent_at": n.sent_at} | _vendor_view(n, user)


def newsletter_detail_out(n: Newsletter, user) -> dict:
    return newsletter_out(n, user) | {"text": n.body_sent or services.newsletter_text(n, since=None)}


class NewsletterIn(AudienceIn):
    subject: str = Field(..., min_length=1, max_length=200)
    intro: str = Field("", max_length=20_000, description="The announcements and new library resources since the last issue follow it")
    send_at: datetime = Field(..., description="When the worker sends it; without a time zone, the server's")

    @field_validator("send_at")
    @classmethod
    def _a_real_moment(cls, value: datetime) -> datetime:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        try:
            value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError(BAD_TIME) from None
        return value


class NewsletterFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the subject or the introduction")


@router.get("/newsletters", response={200: NewsletterPage, **READ_ERRORS}, operation_id="newsletters_list",
            summary="List newsletter issues", description="Newest first. Partner users: the sent issues addressed to them; "
            "vendor staff: all, scheduled ones included.")
def newsletter_list(request: HttpRequest, filters: Query[NewsletterFilters]):
    user = user_of(request)
    issues = search(Newsletter.objects.visible_to(user), filters.q, "subject", "intro")
    return page(issues.order_by("-send_at", "-id"), filters, lambda n: newsletter_out(n, user))


@router.get("/newsletters/{id}", response={200: NewsletterDetailOut, **READ_ERRORS}, operation_id="newsletters_get",
            summary="Get a newsletter issue", description="With its text; 404 unless it was sent to your partner (vendor staff: any).")
def newsletter_get(request: HttpRequest, id: str):
    user = user_of(request)
    return newsletter_detail_out(access.get_for_user(Newsletter, user, id), user)


@router.post("/newsletters", response={201: NewsletterDetailOut, **WRITE_ERRORS}, operation_id="newsletters_create",
             summary="Schedule a newsletter issue", description="Admins and partner managers. The worker sends it at send_at "
             "(not in the past) to its audience. Send an Idempotency-Key header to make retries safe.")
def newsletter_create(request: HttpRequest, payload: NewsletterIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_send_news(user), NO_NEWS)
    audience = _audience_values(payload)
    return create_once(request, key=idempotency_key, schema=NewsletterDetailOut, render=lambda n: newsletter_detail_out(n, user),
                       make=lambda: services.newsletter_schedule(actor=user, subject=payload.subject, intro=payload.intro,
                                                                 send_at=payload.send_at, source="api", **audience))
