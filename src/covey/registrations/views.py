"""Deal registration pages, shared by the partner portal and the vendor console.

Lists go through ``Registration.objects.visible_to`` and single registrations through
``get_for_user``, so a partner user only ever reaches its own partner's registrations (another
partner's answer 404, exactly like a registration that does not exist).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.partners.models import Partner
from covey.registrations import selectors, services
from covey.registrations.forms import ProgramForm, ReasonForm, RegistrationForm, ResolveForm
from covey.registrations.models import (
    AWAITING_REVIEW,
    PROTECTED,
    Registration,
    RegistrationProgram,
    Status,
)

EXPIRING_SOON_DAYS = 14
NO_REGISTER = "Your role does not allow registering deals."
NO_REVIEW = "Only an admin or the partner's own manager reviews this registration."
NO_EXTENSION = "Only the partner's admins and reps can request an extension."
NO_CONFLICTS = "Only admins and partner managers work the conflict queue."
NO_PROGRAM = "Only admins change the registration program."


def _detail_url(reg: Registration) -> str:
    return reverse("registration_detail", kwargs={"public_id": reg.public_id})


# --- list ------------------------------------------------------------------------------------


def _overdue(qs, value):
    return qs.overdue() if value == "yes" else qs.exclude(pk__in=qs.overdue().values("pk"))


def _expiring(qs, value):
    return qs.expiring_within(EXPIRING_SOON_DAYS) if value == "yes" else qs


@login_required
def registration_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = Registration.objects.visible_to(user).select_related("partner")
    filters = [Filter("status", "Status", lookup="status", choices=Status.choices)]
    if user.is_vendor:
        filters.append(Filter(
            "partner", "Partner", lookup="partner__public_id",
            choices=lambda: [(p.public_id, p.name) for p in Partner.objects.filter(registrations__isnull=False).distinct().order_by("name")],
        ))
    filters += [
        Filter("overdue", "Review", choices=[("yes", "Overdue"), ("no", "On time")], apply=_overdue),
        Filter("expiring", "Protection", choices=[("yes", f"Ends within {EXPIRING_SOON_DAYS} days")], apply=_expiring),
    ]
    listing = build_listing(
        request, qs, search=("company_name", "claim_domain"), filters=filters,
        sorts={
            "company": ["company_name"], "submitted": ["submitted_at"], "value": ["currency", "amount_minor"],
            "status": ["status"], "close": ["expected_close"], "expires": ["protection_expires_at"],
        },
        default_sort="-submitted",
    )
    now = timezone.now()
    for reg in listing.objects:
        reg.overdue_now = reg.is_overdue(now)
        reg.days_left_now = reg.days_left(now)
    context = {
        "listing": listing, "can_register": selectors.can_register(user),
        "can_conflicts": selectors.can_manage_conflicts(user), "soon": EXPIRING_SOON_DAYS,
        "open_conflicts": selectors.contested_domains().count() if selectors.can_manage_conflicts(user) else 0,
    }
    return render_list(request, "registrations/registration_list.html", "registrations/_registration_results.html", context)


# --- create ----------------------------------------------------------------------------------


@login_required
def registration_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(selectors.can_register(user), NO_REGISTER)
    initial = {}
    if user.is_vendor and request.GET.get("partner"):
        initial["partner"] = request.GET["partner"][:24]
    overlap = None
    if request.GET.get("overlap"):  # started from a co-sell target: only what its sharing shows this user
        from covey.accountmaps.selectors import registration_prefill

        overlap = registration_prefill(user=user, public_id=request.GET["overlap"][:40])
        initial.update(company_name=overlap["company_name"], domain=overlap["domain"])
    form = RegistrationForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reg = services.submit(partner=form.chosen_partner(), actor=user, submission=form.submission())
        except ValidationError as exc:
            show_service_errors(form, exc, {"currency": "currency", "value": "value"})
        else:
            return redirect(reverse("registration_submitted", kwargs={"public_id": reg.public_id}))
    program = RegistrationProgram.current()
    return render(request, "registrations/registration_form.html", {"form": form, "program": program, "overlap": overlap})


@login_required
def registration_submitted(request: HttpRequest, public_id: str) -> HttpResponse:
    """The outcome of a submission, stated plainly: submitted, rejected by a rule, or already registered."""
    reg = get_for_user(Registration, request.user, public_id, select=("partner",))
    return render(request, "registrations/registration_submitted.html", {"registration": reg})


# --- detail and workflow actions -------------------------------------------------------------


def _detail_context(request: HttpRequest, reg: Registration, **forms) -> dict:
    user = request.user
    now = timezone.now()
    can_review = selectors.can_review(user, reg)
    duplicates = services.possible_duplicates(reg) if user.is_vendor else []
    return {
        "registration": reg,
        "products": list(reg.products.all()),
        "can_review": can_review,
        "can_extend": selectors.can_request_extension(user, reg) and reg.can_request_extension_now,
        "overdue": reg.is_overdue(now),
        "days_left": reg.days_left(now),
        "duplicates": duplicates,
        "history": audit.history(reg)[:50],
        "reject_form": forms.get("reject_form") or (ReasonForm() if can_review and reg.awaiting_review else None),
        "extension_form": forms.get("extension_form") or ReasonForm(),
        "awaiting_review": reg.status in AWAITING_REVIEW,
        "protected": reg.status in PROTECTED,
        "holder": reg.conflict_with if user.is_vendor else None,
        "can_conflicts": selectors.can_manage_conflicts(user),
    }


def _get(request: HttpRequest, public_id: str, *, check=None) -> Registration:
    return get_for_user(
        Registration, request.user, public_id, write_check=check,
        select=("partner", "partner__owner", "submitted_by", "decided_by", "opportunity", "conflict_with__partner"),
    )


@login_required
def registration_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    reg = _get(request, public_id)
    return render(request, "registrations/registration_detail.html", _detail_context(request, reg))


def _review_action(request: HttpRequest, public_id: str, action, done: str) -> HttpResponse:
    reg = _get(request, public_id, check=selectors.can_review)
    try:
        action(reg)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done)
    return redirect(_detail_url(reg))


@login_required
@require_POST
def registration_start_review(request: HttpRequest, public_id: str) -> HttpResponse:
    return _review_action(
        request, public_id, lambda reg: services.start_review(registration=reg, actor=request.user), "Review started.",
    )


@login_required
@require_POST
def registration_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    return _review_action(
        request, public_id, lambda reg: services.approve(registration=reg, actor=request.user),
        "Registration approved; the protection period has started.",
    )


@login_required
@require_POST
def registration_convert(request: HttpRequest, public_id: str) -> HttpResponse:
    return _review_action(
        request, public_id, lambda reg: services.convert(registration=reg, actor=request.user),
        "Converted: the opportunity is created.",
    )


def _reason_action(request: HttpRequest, public_id: str, *, check, act, done: str, form_key: str) -> HttpResponse:
    """A step that needs a written reason: done → back to the registration; refused → the page
    again with the reason form (``form_key`` in the detail context) showing the message."""
    reg = _get(request, public_id, check=check)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            act(reg, form.cleaned_data["reason"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(_detail_url(reg))
    return render(request, "registrations/registration_detail.html", _detail_context(request, reg, **{form_key: form}))


@login_required
@require_POST
def registration_reject(request: HttpRequest, public_id: str) -> HttpResponse:
    return _reason_action(
        request, public_id, check=selectors.can_review, form_key="reject_form",
        act=lambda reg, reason: services.reject(registration=reg, actor=request.user, reason=reason),
        done="Registration rejected; the partner sees your reason.",
    )


@login_required
@require_POST
def registration_extension_request(request: HttpRequest, public_id: str) -> HttpResponse:
    return _reason_action(
        request, public_id, check=selectors.can_request_extension, form_key="extension_form",
        act=lambda reg, reason: services.request_extension(registration=reg, actor=request.user, reason=reason),
        done="Extension requested; a partner manager will decide.",
    )


@login_required
@require_POST
def registration_extension_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    decision = request.POST.get("decision")
    if decision not in ("grant", "refuse"):
        reg = _get(request, public_id, check=selectors.can_review)
        messages.error(request, "Choose to grant or refuse the extension.")
        return redirect(_detail_url(reg))
    grant = decision == "grant"
    return _review_action(
        request, public_id,
        lambda reg: services.decide_extension(registration=reg, actor=request.user, grant=grant),
        "Extension granted." if grant else "Extension refused.",
    )


# --- conflict queue --------------------------------------------------------------------------


@login_required
def conflict_queue(request: HttpRequest) -> HttpResponse:
    require(selectors.can_manage_conflicts(request.user), NO_CONFLICTS)
    q = (request.GET.get("q") or "").strip()[:200]
    domains = selectors.contested_domains(q)
    total = domains.count()
    contests = selectors.contests(list(domains[:50]))
    return render(request, "registrations/conflict_queue.html", {
        "contests": contests, "total": total, "q": q, "form": ResolveForm(),
    })


@login_required
@require_POST
def conflict_resolve(request: HttpRequest) -> HttpResponse:
    require(selectors.can_manage_conflicts(request.user), NO_CONFLICTS)
    domain = (request.POST.get("domain") or "").strip().lower()[:253]
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{domain}: choose an outcome" + (" and keep the note short." if "note" in form.errors else "."))
        return redirect("registration_conflicts")
    try:
        services.resolve_conflict(
            claim_domain=domain, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"], actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, f"{domain}: {error_text(exc)}")
    else:
        messages.success(request, f"Conflict on {domain} resolved.")
    return redirect("registration_conflicts")


# --- program settings ------------------------------------------------------------------------


@login_required
def program_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(selectors.can_edit_program(user), NO_PROGRAM)
    program = RegistrationProgram.objects.get_or_create(pk=1)[0]
    form = ProgramForm.for_program(program, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_program(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Program rules saved." if changes else "Nothing changed.")
            return redirect("registration_settings")
    return render(request, "registrations/program_form.html", {
        "form": form, "program": program, "history": audit.history(program)[:20],
    })

