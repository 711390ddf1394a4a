"""Enablement pages: training (courses, completions, certifications), the partner library, announcements
and newsletters, and the unsubscribe page (no login: the link is signed).

Partner users see their own partner's completions, the library resources meant for them and the
announcements addressed to them; everything else answers 404 through ``get_for_user``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.models import User, VendorSettings
from covey.enablement import selectors, services
from covey.enablement.forms import (
    AnnouncementForm,
    CompletionForm,
    CourseForm,
    NewResourceForm,
    NewsletterForm,
    ResourceForm,
    VersionForm,
)
from covey.enablement.models import (
    Announcement,
    Completion,
    Course,
    Newsletter,
    Resource,
    ResourceKind,
    ResourceUse,
    UseAction,
)
from covey.partners.models import Partner, PartnerType

NO_COURSES = "Only admins manage the course catalogue."
NO_RECORD = "Only admins, partner managers and the partner's admins record completions."
NO_LIBRARY = "Only admins and partner managers manage the library."
NO_NEWS = "Only admins and partner managers send announcements and newsletters."


# --- training --------------------------------------------------------------------------------


@login_required
def training_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    completions = Completion.objects.visible_to(user).select_related("course", "partner", "user")
    filters = [Filter("course", "Course", lookup="course__public_id",
                      choices=lambda: [(c.public_id, c.title) for c in Course.objects.visible_to(user)]),
               Filter("status", "Status", choices=[("valid", "Certified now"), ("expiring", "Expiring in 30 days"), ("expired", "Expired")],
                      apply=lambda qs, v: _by_status(qs, v, today))]
    if user.is_vendor:
        filters.insert(0, Filter("partner", "Partner", lookup="partner__public_id",
                                 choices=lambda: [(p.public_id, p.name) for p in Partner.objects.filter(completions__isnull=False).distinct().order_by("name")]))
    listing = build_listing(request, completions, search=("person_name", "person_email", "course__title"), filters=filters,
                            sorts={"completed": ["completed_on"], "expires": ["expires_on"], "person": ["person_name"]},
                            default_sort="-completed")
    own = None if user.is_vendor else (user.membership.partner if user.membership else None)
    return render_list(request, "enablement/training.html", "enablement/_completion_results.html", {
        "listing": listing, "courses": Course.objects.visible_to(user), "today": today,
        "certified": selectors.certified_people(own, on=today) if own else None, "own": own,
        "can_courses": selectors.can_manage_courses(user), "can_record": selectors.can_record_completion(user, own),
    })


def _by_status(qs, value: str, today):
    from datetime import timedelta

    if value == "valid":
        return qs.certified_on(today)
    if value == "expiring":
        return qs.filter(is_certification=True, expires_on__gte=today, expires_on__lte=today + timedelta(days=30))
    return qs.filter(is_certification=True, expires_on__lt=today)


def _course_values(form: CourseForm) -> dict:
    return dict(form.cleaned_data)


@login_required
def course_create(request: HttpRequest) -> HttpResponse:
    require(selectors.can_manage_courses(request.user), NO_COURSES)
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(actor=request.user, **_course_values(form))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Course added.")
            return redirect("course_detail", public_id=course.public_id)
    return render(request, "enablement/course_form.html", {"form": form, "course": None})


@login_required
def course_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    course = get_for_user(Course, request.user, public_id)
    completions = Completion.objects.visible_to(request.user).filter(course=course).select_related("partner")[:100]
    return render(request, "enablement/course_detail.html", {
        "course": course, "completions": completions, "can_edit": selectors.can_manage_courses(request.user),
        "history": audit.history(course)[:20] if request.user.is_vendor else [],
    })


@login_required
def course_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    require(selectors.can_manage_courses(request.user), NO_COURSES)
    course = get_for_user(Course, request.user, public_id)
    form = CourseForm(request.POST or None, initial={f: getattr(course, f) for f in services.COURSE_FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(course=course, actor=request.user, **_course_values(form))
        except ValidationError as exc:
            course.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Course saved.")
            return redirect("course_detail", public_id=course.public_id)
    return render(request, "enablement/course_form.html", {"form": form, "course": course})


@login_required
def completion_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(selectors.can_record_completion(user), NO_RECORD)
    own = None if user.is_vendor else user.membership.partner
    partners = Partner.objects.visible_to(user).order_by("name") if user.is_vendor else None
    people = User.objects.filter(is_active=True, staff_role="")
    people = people.filter(pk__in=own.memberships.values("user_id")) if own else people.filter(pk__in=Partner.objects.none().values("pk"))
    if user.is_vendor and request.method == "POST" and request.POST.get("partner"):
        chosen = Partner.objects.filter(public_id=request.POST["partner"][:40]).first()
        if chosen is not None:
            people = User.objects.filter(is_active=True, pk__in=chosen.memberships.values("user_id"))
    form = CompletionForm(request.POST or None, courses=Course.objects.filter(is_active=True), partners=partners, people=people,
                          initial={"completed_on": timezone.localdate(), "course": request.GET.get("course", "")[:40]})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        partner = d.get("partner") or own
        try:
            services.completion_record(course=d["course"], partner=partner, actor=user, completed_on=d["completed_on"],
                                       user=d.get("user"), person_name=d.get("person_name", ""), person_email=d.get("person_email", ""))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Completion recorded.")
            return redirect("training_home")
    return render(request, "enablement/completion_form.html", {"form": form})


def _can_remove(user, completion) -> bool:
    return selectors.can_record_completion(user, completion.partner)


@login_required
@require_POST
def completion_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    completion = get_for_user(Completion, request.user, public_id, write_check=_can_remove, select=("partner", "course"))
    services.completion_remove(completion=completion, actor=request.user)
    messages.success(request, f"Removed {completion.person_name}'s completion of {completion.course}.")
    return redirect("training_home")


# --- library ---------------------------------------------------------------------------------


@login_required
def library(request: HttpRequest) -> HttpResponse:
    qs = Resource.objects.visible_to(request.user).prefetch_related("versions")
    listing = build_listing(
        request, qs, search=("title", "description"),
        filters=[Filter("kind", "Kind", lookup="kind", choices=ResourceKind.choices),
                 *([Filter("type", "Partner type", choices=PartnerType.choices,
                           apply=lambda q, v: q.filter(partner_types__icontains=f'"{v}"'))] if request.user.is_vendor else [])],
        sorts={"title": ["title"], "updated": ["updated_at"]}, default_sort="title",
    )
    return render_list(request, "enablement/library.html", "enablement/_resource_results.html",
                       {"listing": listing, "can_manage": selectors.can_manage_library(request.user)})


def _resource_values(form) -> dict:
    return {k: form.cleaned_data[k] for k in services.RESOURCE_FIELDS}


@login_required
def resource_create(request: HttpRequest) -> HttpResponse:
    require(selectors.can_manage_library(request.user), NO_LIBRARY)
    form = NewResourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(actor=request.user, file=form.cleaned_data["file"], link=form.cleaned_data["link"],
                                                note=form.cleaned_data["note"], **_resource_values(form))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Resource added to the library.")
            return redirect("resource_detail", public_id=resource.public_id)
    return render(request, "enablement/resource_form.html", {"form": form, "resource": None})


def _resource(request: HttpRequest, public_id: str) -> Resource:
    return get_for_user(Resource, request.user, public_id)


@login_required
def resource_detail(request: HttpRequest, public_id: str, version_form: VersionForm | None = None) -> HttpResponse:
    resource = _resource(request, public_id)
    versions = list(resource.versions.all())
    if version_form is None:  # a failed upload re-renders the page: that is not another view
        services.record_use(resource=resource, version=versions[0] if versions else None, user=request.user, action=UseAction.VIEW)
    uses = None
    if request.user.is_vendor:
        uses = {"views": resource.uses.filter(action=UseAction.VIEW).count(),
                "downloads": resource.uses.filter(action=UseAction.DOWNLOAD).count(),
                "partners": resource.uses.exclude(partner=None).values("partner").distinct().count(),
                "recent": ResourceUse.objects.filter(resource=resource).select_related("user", "version")[:10]}
    return render(request, "enablement/resource_detail.html", {
        "resource": resource, "versions": versions, "uses": uses, "version_form": version_form or VersionForm(),
        "can_manage": selectors.can_manage_library(request.user),
        "history": audit.history(resource)[:20] if request.user.is_vendor else [],
    })


@login_required
def resource_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    require(selectors.can_manage_library(request.user), NO_LIBRARY)
    resource = _resource(request, public_id)
    initial = {f: getattr(resource, f) for f in services.RESOURCE_FIELDS} | {"tier_codes": ", ".join(resource.tier_codes)}
    form = ResourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_update(resource=resource, actor=request.user, **_resource_values(form))
        except ValidationError as exc:
            resource.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Resource saved.")
            return redirect("resource_detail", public_id=resource.public_id)
    return render(request, "enablement/resource_form.html", {"form": form, "resource": resource})


@login_required
@require_POST
def resource_version_add(request: HttpRequest, public_id: str) -> HttpResponse:
    require(selectors.can_manage_library(request.user), NO_LIBRARY)
    resource = _resource(request, public_id)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.version_add(resource=resource, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} added.")
            return redirect("resource_detail", public_id=resource.public_id)
    return resource_detail(request, public_id, version_form=form)


@login_required
def resource_download(request: HttpRequest, public_id: str, version_id: str) -> HttpResponse:
    resource = _resource(request, public_id)
    version = resource.versions.filter(public_id=version_id).first()
    if version is None:
        raise Http404("No such version")
    services.record_use(resource=resource, version=version, user=request.user, action=UseAction.DOWNLOAD)
    if version.link:
        return redirect(version.link)
    if not version.file:
        raise Http404("This version has no file")
    return FileResponse(version.file.open("rb"), as_attachment=True, filename=version.file_name,
                        content_type=version.content_type or "application/octet-stream")


# --- announcements and newsletters -----------------------------------------------------------


def _audience(form) -> dict:
    return {k: form.cleaned_data[k] for k in ("partner_types", "regions", "lifecycles")}


@login_required
def announcement_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    listing = build_listing(request, Announcement.objects.visible_to(user), search=("title", "body"),
                            sorts={"sent": ["sent_at"]}, default_sort="-sent")
    newsletters = Newsletter.objects.visible_to(user)[:20]
    return render_list(request, "enablement/announcements.html", "enablement/_announcement_results.html", {
        "listing": listing, "newsletters": newsletters, "can_send": selectors.can_send_news(user),
    })


@login_required
def announcement_create(request: HttpRequest) -> HttpResponse:
    require(selectors.can_send_news(request.user), NO_NEWS)
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement = services.announcement_publish(actor=request.user, title=form.cleaned_data["title"],
                                                         body=form.cleaned_data["body"], **_audience(form))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Announcement sent to {announcement.recipients} people.")
            return redirect("announcement_detail", public_id=announcement.public_id)
    return render(request, "enablement/news_form.html", {"form": form, "title": "New announcement", "button": "Publish and e-mail"})


@login_required
def announcement_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    announcement = get_for_user(Announcement, request.user, public_id)
    return render(request, "enablement/announcement_detail.html", {"item": announcement, "text": announcement.body})


@login_required
def newsletter_create(request: HttpRequest) -> HttpResponse:
    require(selectors.can_send_news(request.user), NO_NEWS)
    form = NewsletterForm(request.POST or None, initial={"send_at": timezone.localtime().replace(second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            newsletter = services.newsletter_schedule(actor=request.user, subject=d["subject"], intro=d["intro"],
                                                      send_at=d["send_at"], **_audience(form))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Newsletter scheduled; the worker sends it at the time chosen.")
            return redirect("newsletter_detail", public_id=newsletter.public_id)
    return render(request, "enablement/news_form.html", {"form": form, "title": "New newsletter issue", "button": "Schedule"})


@login_required
def newsletter_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    newsletter = get_for_user(Newsletter, request.user, public_id)
    text = newsletter.body_sent or services.newsletter_text(newsletter, since=None)
    return render(request, "enablement/announcement_detail.html", {"item": newsletter, "text": text, "newsletter": True})


def _masked(email: str) -> str:
    """j•••@example.com: enough for the person to recognise, nothing for someone who found the link."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners must not unsubscribe anyone); POST changes the preference. No login."""
    user = services.user_for_token(token[:500])
    if user is None:
        return render(request, "enablement/unsubscribe.html", {"invalid": True, "vendor": VendorSettings.current()}, status=404)
    done = None
    if request.method == "POST":
        subscribed = request.POST.get("action") == "subscribe"
        services.set_partner_news(user=user, subscribed=subscribed, source="unsubscribe-link")
        done = "subscribed" if subscribed else "unsubscribed"
    pref = getattr(user, "email_preference", None)
    return render(request, "enablement/unsubscribe.html", {
        "email": _masked(user.email), "done": done, "subscribed": pref is None or pref.partner_news, "vendor": VendorSettings.current(),
    })
