"""Enablement over the API: courses, completions and certifications (with the per-partner certified
count the tier requirements use), library resources, and announcements."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.models import User
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    Ref,
    id_filter,
    ref,
)
from covey.enablement import selectors, services
from covey.enablement.models import Announcement, Completion, Course, Resource, ResourceKind
from covey.partners.models import Partner

router = Router(tags=["enablement"])

NO_RECORD = "Only admins, partner managers and the partner's admins record completions."
PARTNER_REQUIRED = "Vendor staff name the partner in partner."


class CourseOut(OutSchema):
    id: str
    title: str
    kind: str
    url: str
    certifies: bool
    certification_name: str
    valid_months: int | None
    is_active: bool


class CoursePage(OutSchema):
    items: list[CourseOut]
    count: int


def course_out(c: Course) -> dict:
    return {"id": c.public_id, "title": c.title, "kind": c.kind, "url": c.url, "certifies": c.certifies,
            "certification_name": c.certification_name, "valid_months": c.valid_months, "is_active": c.is_active}


class CompletionOut(OutSchema):
    id: str
    course: Ref
    partner: Ref
    user: Ref | None
    person_name: str
    person_email: str
    completed_on: date
    is_certification: bool
    expires_on: date | None


class CompletionPage(OutSchema):
    items: list[CompletionOut]
    count: int


def completion_out(c: Completion) -> dict:
    return {"id": c.public_id, "course": ref(c.course), "partner": ref(c.partner), "user": ref(c.user),
            "person_name": c.person_name, "person_email": c.person_email, "completed_on": c.completed_on,
            "is_certification": c.is_certification, "expires_on": c.expires_on}


class CompletionFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the person's name or e-mail, or of the course's title")
    partner: str | None = id_filter(Partner)
    course: str | None = id_filter(Course)
    certified_on: date | None = Field(None, description="Only certifications valid on this date")


class CompletionIn(InputSchema):
    course: str
    partner: str | None = Field(None, description="Vendor staff: the partner's id; partner admins leave it out")
    user: str | None = Field(None, description="The id of a partner user; or give person_name for someone without a login")
    person_name: str = Field("", max_length=200)
    person_email: str = Field("", max_length=254)
    completed_on: date


class CertifiedOut(OutSchema):
    partner: Ref
    on: date
    certified_people: int


class ResourceVersionOut(OutSchema):
    id: str
    number: int
    file_name: str
    size: int
    link: str
    created_at: datetime


class ResourceOut(OutSchema):
    id: str
    title: str
    kind: ResourceKind
    description: str
    partner_types: list[str]
    tier_codes: list[str]
    is_published: bool
    versions: list[ResourceVersionOut]


class ResourcePage(OutSchema):
    items: list[ResourceOut]
    count: int


def resource_out(r: Resource) -> dict:
    return {"id": r.public_id, "title": r.title, "kind": r.kind, "description": r.description, "partner_types": r.partner_types,
            "tier_codes": r.tier_codes, "is_published": r.is_published,
            "versions": [{"id": v.public_id, "number": v.number, "file_name": v.file_name, "size": v.size, "link": v.link,
                          "created_at": v.created_at} for v in r.versions.all()]}


class ResourceFilters(Paging):
    q: str | None = Field(None, max_length=200)
    kind: ResourceKind | None = None


class AnnouncementOut(OutSchema):
    id: str
    title: str
    body: str
    sent_at: datetime | None


class AnnouncementPage(OutSchema):
    items: list[AnnouncementOut]
    count: int


class CourseFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the course's title or certification name")


class AnnouncementFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the title or body")


@router.get("/courses", response={200: CoursePage, **READ_ERRORS}, operation_id="courses_list", summary="List courses", description="The course catalogue (partner users: active courses).")
def course_list(request: HttpRequest, filters: Query[CourseFilters]):
    courses = search(Course.objects.visible_to(user_of(request)), filters.q, "title", "certification_name")
    return page(courses.order_by("title", "id"), filters, course_out)


@router.get("/certifications", response={200: CompletionPage, **READ_ERRORS}, operation_id="certifications_list",
            summary="List completions and certifications", description="A partner user sees its own partner's people only.")
def completion_list(request: HttpRequest, filters: Query[CompletionFilters]):
    qs = Completion.objects.visible_to(user_of(request)).select_related("course", "partner", "user")
    qs = search(qs, filters.q, "person_name", "person_email", "course__title")
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.course:
        qs = qs.filter(course__public_id=filters.course)
    if filters.certified_on:
        qs = qs.certified_on(filters.certified_on)
    return page(qs.order_by("-completed_on", "-id"), filters, completion_out)


@router.post("/certifications", response={201: CompletionOut, **WRITE_ERRORS}, operation_id="certifications_create",
             summary="Record a completion", description="A certifying course makes the person certified until the completion "
             "date plus the course's validity. Send an Idempotency-Key header to make retries safe.")
def completion_create(request: HttpRequest, payload: CompletionIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_record_completion(user), NO_RECORD)
    if user.is_vendor:
        if not payload.partner:
            raise ValidationError({"partner": PARTNER_REQUIRED})
        partner = lookup(Partner, user, payload.partner, field="partner")
    else:
        partner = user.membership.partner
        if payload.partner and payload.partner != partner.public_id:
            raise ValidationError({"partner": "Partner admins record completions for their own partner; leave partner out."})
    course = lookup(Course, user, payload.course, field="course")
    person = None
    if payload.user:
        person = User.objects.filter(public_id=payload.user, is_active=True).first()
        if person is None or (not user.is_vendor and (person.membership is None or person.membership.partner_id != partner.pk)):
            raise ValidationError({"user": f"No person with id {payload.user!r} at this partner."})
    return create_once(
        request, key=idempotency_key, schema=CompletionOut, render=completion_out,
        make=lambda: services.completion_record(course=course, partner=partner, actor=user, completed_on=payload.completed_on,
                                                user=person, person_name=payload.person_name, person_email=payload.person_email,
                                                source="api"),
    )


@router.get("/partners/{id}/certified-people", response={200: CertifiedOut, **READ_ERRORS}, operation_id="partners_certified_people",
            summary="Certified people of a partner", description="Distinct people holding a certification valid on the date (default today).")
def certified(request: HttpRequest, id: str, on: date | None = None):
    partner = access.get_for_user(Partner, user_of(request), id)
    day = on or timezone.localdate()
    return {"partner": ref(partner), "on": day, "certified_people": selectors.certified_people(partner, on=day)}


@router.get("/resources", response={200: ResourcePage, **READ_ERRORS}, operation_id="resources_list",
            summary="List library resources", description="A partner user sees the published resources meant for its types and tier.")
def resource_list(request: HttpRequest, filters: Query[ResourceFilters]):
    qs = Resource.objects.visible_to(user_of(request)).prefetch_related("versions")
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return page(qs.order_by("title", "id"), filters, resource_out)


@router.get("/resources/{id}", response={200: ResourceOut, **READ_ERRORS}, operation_id="resources_get", summary="Get a library resource", description="A resource with its versions; 404 if it is not meant for your partner.")
def resource_get(request: HttpRequest, id: str):
    return resource_out(access.get_for_user(Resource, user_of(request), id))


@router.get("/announcements", response={200: AnnouncementPage, **READ_ERRORS}, operation_id="announcements_list",
            summary="List announcements", description="Announcements addressed to you (vendor staff: all).")
def announcement_list(request: HttpRequest, filters: Query[AnnouncementFilters]):
    announcements = search(Announcement.objects.visible_to(user_of(request)), filters.q, "title", "body")
    return page(announcements.order_by("-created_at", "-id"), filters,
                lambda a: {"id": a.public_id, "title": a.title, "body": a.body, "sent_at": a.sent_at})
