"""Program builder pages: programs, versions (settings, tiers, typed rules, publishing, pilots),
enrolments, and the program guide as a page and a PDF.

Vendor staff read everything; admins and partner managers change it. A partner user sees only the
guide of a program its partner is enrolled in (its own tier of the version governing it); anything
else is a 404 through the selectors. A locked version is shown read-only; a POST that tries to change
one anyway is refused by the service (which records the attempt) and the message is shown.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.agreements.render import html_to_pdf
from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.models import VendorSettings
from covey.programs import selectors, services
from covey.programs.forms import EnrolForm, PilotForm, ProgramForm, RuleForm, TierForm, VersionForm
from covey.programs.models import Program, ProgramVersion, VersionStatus
from covey.programs.rules import KIND_LABELS, KINDS

NO_DESIGN = "Only admins and partner managers change incentive programs."
NO_ENROL = "Only admins, and partner managers for their own partners, enrol partners."
LOCKED_PAGE = ("Version {number} is locked: its first quarter began on {start}, so its rules are what partners are paid "
               "by. Make a new draft version to change anything; it takes effect from the next quarter.")
KIND_HELP = {
    "resale_margin": "A reseller's margin by tier and deal-size band.",
    "referral_commission": "Percent of first-year value, a flat fee, or a recurring percent for N months.",
    "registration_bonus": "Extra percent on registered deals above a minimum, closed within N days.",
    "accelerator": "Extra percent on the part of quarterly revenue above target.",
    "annual_rebate": "A percent of the year's revenue at the highest threshold reached.",
    "spiff": "A fixed amount per qualifying deal inside a date box, paid per partner rep.",
    "outcome_bonus": "A bonus when a customer renews or reaches an adoption milestone.",
    "clawback": "Take back earnings when a customer churns or is refunded within N days.",
    "cap": "A ceiling per deal or per partner per period.",
}


def _detail_url(version: ProgramVersion) -> str:
    return f"{reverse('program_detail', args=[version.program.public_id])}?version={version.public_id}"


def _design(request: HttpRequest) -> None:
    require(selectors.can_manage_programs(request.user), NO_DESIGN)


def _editable_version(request: HttpRequest, public_id: str) -> ProgramVersion:
    version = selectors.version_get(request.user, public_id)
    _design(request)
    return version


def _refused_if_locked(request: HttpRequest, version: ProgramVersion, exc: ValidationError) -> HttpResponse | None:
    """After a service refused: a locked version goes back to its page with the message."""
    if version.is_locked():
        messages.error(request, error_text(exc))
        return redirect(_detail_url(version))
    return None


def _locked_redirect(request: HttpRequest, version: ProgramVersion, what: str) -> HttpResponse | None:
    """An edit page of a locked version: a GET has nothing to edit (say why on the version's page); a
    POST (a stale tab, a crafted request) is refused by the service, which records the attempt."""
    if not version.is_locked():
        return None
    if request.method == "GET":
        messages.warning(request, LOCKED_PAGE.format(number=version.number, start=version.effective_from.isoformat()))
    else:
        try:
            services.require_editable(version, actor=request.user, what=what)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
    return redirect(_detail_url(version))


def _quarters(version: ProgramVersion | None = None, count: int = 6) -> list[tuple[date, str]]:
    calendar = VendorSettings.current().calendar
    start = services.quarter_start_of(timezone.localdate())
    out = []
    for _ in range(count):
        quarter = calendar.quarter_of(start)
        out.append((quarter.start, f"{quarter.label} (from {quarter.start:%-d %b %Y})"))
        start = services.next_quarter_start(start)
    if version is not None and version.effective_from not in {d for d, _ in out}:
        quarter = calendar.quarter_of(version.effective_from)
        out.insert(0, (version.effective_from, f"{quarter.label} (from {version.effective_from:%-d %b %Y})"))
    return out


# --- programs --------------------------------------------------------------------------------


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = Program.objects.visible_to(user).prefetch_related("versions")
    listing = build_listing(request, qs, search=("name", "summary"), sorts={"name": ["name"], "created": ["created_at"]},
                            default_sort="name",
                            filters=[Filter("currency", "Currency", lookup="currency",
                                            choices=lambda: [(c, c) for c in Program.objects.visible_to(user)
                                                             .order_by("currency").values_list("currency", flat=True).distinct()])])
    return render_list(request, "programs/program_list.html", "programs/_program_results.html", {
        "listing": listing, "can_design": selectors.can_manage_programs(user),
    })


@login_required
def program_create(request: HttpRequest) -> HttpResponse:
    _design(request)
    form = ProgramForm(request.POST or None, initial={"currency": VendorSettings.current().base_currency})
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Program created with a draft version 1; add its tiers and rules, then publish it.")
            return redirect("program_detail", public_id=program.public_id)
    return render(request, "programs/program_form.html", {"form": form})


@login_required
def program_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    program = get_for_user(Program, request.user, public_id)
    _design(request)
    form = ProgramForm(request.POST or None, initial={"name": program.name, "currency": program.currency,
                                                      "summary": program.summary})
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.program_update(program=program, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Program saved." if changes else "Nothing changed.")
            return redirect("program_detail", public_id=program.public_id)
    return render(request, "programs/program_form.html", {"form": form, "program": program})


@login_required
def program_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    program = get_for_user(Program, user, public_id)
    if not user.is_vendor:  # a partner reads its guide, never the builder
        return redirect("program_guide", public_id=program.public_id)
    today = timezone.localdate()
    versions = list(program.versions.order_by("-number").prefetch_related("pilot_partners"))
    chosen = request.GET.get("version", "")[:40]
    version = next((v for v in versions if v.public_id == chosen), None) or selectors.default_version(program, today)
    current = services.governing_general(program, today)
    return render(request, "programs/program_detail.html", {
        "program": program, "versions": versions, "version": version, "current": current, "today": today,
        "locked": version.is_locked(today) if version else False,
        "tiers": list(version.tiers.all()) if version else [],
        "rule_rows": [row | {"kind_label": KIND_LABELS.get(row["rule"].kind, row["rule"].kind)}
                      for row in selectors.rule_summaries(version)] if version else [],
        "enrolments": selectors.enrolment_history(user, program)[:200],
        "can_design": selectors.can_manage_programs(user), "can_enrol": selectors.can_enrol(user),
        "history": audit.history(version)[:20] if version else [],
        "pilot_comparison": selectors.pilot_comparison(version, today=today) if version else None,
    })


# --- versions --------------------------------------------------------------------------------


@login_required
@require_POST
def version_create(request: HttpRequest, public_id: str) -> HttpResponse:
    program = get_for_user(Program, request.user, public_id)
    _design(request)
    based_on = program.versions.filter(public_id=request.POST.get("based_on", "")[:40]).first()
    try:
        draft = services.version_draft(program=program, actor=request.user, based_on=based_on,
                                       pilot=request.POST.get("pilot") == "on")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("program_detail", public_id=program.public_id)
    messages.success(request, f"Draft version {draft.number} made from version {draft.based_on.number if draft.based_on else '—'}; "
                              f"it takes effect from {draft.effective_from:%-d %b %Y} once published.")
    return redirect(_detail_url(draft))


@login_required
def version_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    version = _editable_version(request, public_id)
    if (locked := _locked_redirect(request, version, "change the version settings")) is not None:
        return locked
    initial = {"effective_from": version.effective_from.isoformat(), "credit_model": version.credit_model,
               "influence_share": version.influence_share.normalize(), "payout_frequency": version.payout_frequency,
               "payout_delay_days": version.payout_delay_days, "notes": version.notes}
    initial |= {f"role_{role}": value for role, value in (version.role_shares or {}).items()}
    form = VersionForm(request.POST or None, initial=initial, quarters=_quarters(version))
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.version_update(version=version, actor=request.user, **form.values())
        except ValidationError as exc:
            if (refused := _refused_if_locked(request, version, exc)) is not None:
                return refused
            version.refresh_from_db()
            show_service_errors(form, exc, form.field_map())
        else:
            messages.success(request, "Version settings saved." if changes else "Nothing changed.")
            return redirect(_detail_url(version))
    return render(request, "programs/version_form.html", {"form": form, "version": version, "program": version.program})


@login_required
def version_publish(request: HttpRequest, public_id: str) -> HttpResponse:
    version = _editable_version(request, public_id)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, services.ONLY_DRAFTS)
        return redirect(_detail_url(version))
    if request.method == "POST":
        try:
            services.version_publish(version=version, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Version {version.number} is published; it governs from {version.effective_from:%-d %b %Y} "
                                      "and is locked from then on.")
        return redirect(_detail_url(version))
    starts_now = version.effective_from <= timezone.localdate()
    return render(request, "includes/confirm_delete.html", {
        "title": f"Publish version {version.number}", "button": "Publish",
        "question": f"Publish version {version.number} of {version.program.name}?",
        "detail": ("It takes effect from " + f"{version.effective_from:%-d %b %Y}" +
                   (", a quarter that has already begun: it is locked at once and cannot be changed afterwards."
                    if starts_now else "; once that quarter begins it is locked and cannot be changed.")),
        "cancel_url": _detail_url(version),
        "crumbs": [("Programs", reverse("program_list")), (version.program.name, _detail_url(version))],
    })


@login_required
def version_pilot(request: HttpRequest, public_id: str) -> HttpResponse:
    version = _editable_version(request, public_id)
    if (locked := _locked_redirect(request, version, "change the pilot partners")) is not None:
        return locked
    from covey.partners.models import Partner

    partners = Partner.objects.visible_to(request.user).filter(lifecycle__in=["active", "onboarding"]).order_by("name")
    # Not "request.POST or None": a POST with no box ticked is empty and still a submission.
    form = PilotForm(request.POST if request.method == "POST" else None, partners=partners,
                     initial={"partners": [p.public_id for p in version.pilot_partners.all()]})
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["partners"])
        try:
            # Partners ticked: a pilot for them; none ticked: a general version again.
            if version.pilot != bool(chosen):
                services.version_update(version=version, actor=request.user, pilot=bool(chosen))
            services.pilot_partners_set(version=version, partners=chosen, actor=request.user)
        except ValidationError as exc:
            if (refused := _refused_if_locked(request, version, exc)) is not None:
                return refused
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Pilot partners saved ({len(chosen)})." if chosen else
                             f"Version {version.number} is a general version again (no pilot partners).")
            return redirect(_detail_url(version))
    return render(request, "programs/pilot_form.html", {"form": form, "version": version, "program": version.program})


@login_required
def version_roll_out(request: HttpRequest, public_id: str) -> HttpResponse:
    version = _editable_version(request, public_id)
    if request.method == "POST":
        try:
            general = services.pilot_roll_out(pilot=version, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect(_detail_url(version))
        messages.success(request, f"Rolled out: version {general.number} gives every partner the pilot's rules from "
                                  f"{general.effective_from:%-d %b %Y}.")
        return redirect(_detail_url(general))
    next_start = services.next_quarter_start(timezone.localdate())
    return render(request, "includes/confirm_delete.html", {
        "title": f"Roll out pilot version {version.number}", "button": "Roll out to every partner",
        "question": f"Give every partner the rules of pilot version {version.number} from {next_start:%-d %b %Y}?",
        "detail": "A general version copied from the pilot is published at once for the next quarter; the pilot keeps "
                  "governing its partners until then.",
        "cancel_url": _detail_url(version),
        "crumbs": [("Programs", reverse("program_list")), (version.program.name, _detail_url(version))],
    })


# --- tiers -----------------------------------------------------------------------------------


def _tier_form(request: HttpRequest, version: ProgramVersion, tier=None) -> HttpResponse:
    if (locked := _locked_redirect(request, version, f"change tier {tier.code}" if tier else "add a tier")) is not None:
        return locked
    currency = version.program.currency
    initial = TierForm.initial_for(tier, currency) if tier else {"rank": version.tiers.count() + 1}
    form = TierForm(request.POST or None, initial=initial, currency=currency)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.tier_save(version=version, actor=request.user, tier=tier, **form.values())
        except ValidationError as exc:
            if (refused := _refused_if_locked(request, version, exc)) is not None:
                return refused
            if tier is not None:
                tier.refresh_from_db()
            show_service_errors(form, exc, form.field_map())
        else:
            messages.success(request, f"Tier {saved.name} saved.")
            return redirect(_detail_url(version))
    return render(request, "programs/tier_form.html", {"form": form, "version": version, "program": version.program, "tier": tier})


@login_required
def tier_create(request: HttpRequest, public_id: str) -> HttpResponse:
    return _tier_form(request, _editable_version(request, public_id))


@login_required
def tier_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    tier = selectors.tier_get(request.user, public_id)
    _design(request)
    return _tier_form(request, tier.version, tier)


@login_required
def tier_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    tier = selectors.tier_get(request.user, public_id)
    _design(request)
    version = tier.version
    if (locked := _locked_redirect(request, version, f"remove tier {tier.code}")) is not None:
        return locked
    if request.method == "POST":
        try:
            services.tier_delete(tier=tier, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Tier {tier.name} removed from version {version.number}.")
        return redirect(_detail_url(version))
    return render(request, "includes/confirm_delete.html", {
        "title": f"Remove tier {tier.name}", "button": "Remove tier", "cancel_url": _detail_url(version),
        "question": f"Remove {tier.name} from version {version.number}?",
        "detail": "Rules that name this tier's rates will no longer validate until you change them.",
        "crumbs": [("Programs", reverse("program_list")), (version.program.name, _detail_url(version))],
    })


# --- rules -----------------------------------------------------------------------------------


def _rule_form(request: HttpRequest, version: ProgramVersion, kind: str, rule=None) -> HttpResponse:
    if (locked := _locked_redirect(request, version, f"change rule {rule.name}" if rule else "add a rule")) is not None:
        return locked
    tiers = [(t.code, t.name) for t in version.tiers.all()]
    form = RuleForm(request.POST or None, kind=kind, tiers=tiers, params=rule.params if rule else None,
                    currency=version.program.currency, initial={"name": rule.name if rule else KIND_LABELS[kind]})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.rule_save(version=version, actor=request.user, kind=kind, name=form.cleaned_data["name"],
                                       params=form.params(), rule=rule)
        except ValidationError as exc:
            if (refused := _refused_if_locked(request, version, exc)) is not None:
                return refused
            show_service_errors(form, exc, form.field_map())
        else:
            messages.success(request, f"Rule {saved.name} saved.")
            return redirect(_detail_url(version))
    return render(request, "programs/rule_form.html", {
        "form": form, "version": version, "program": version.program, "rule": rule, "kind": kind,
        "kind_label": KIND_LABELS[kind], "kind_help": KIND_HELP[kind], "groups": form.bound_groups(),
    })


@login_required
def rule_create(request: HttpRequest, public_id: str) -> HttpResponse:
    version = _editable_version(request, public_id)
    kind = request.GET.get("kind", "")
    if kind not in KINDS:
        if (locked := _locked_redirect(request, version, "add a rule")) is not None:
            return locked
        return render(request, "programs/rule_kind.html", {
            "version": version, "program": version.program, "kinds": [(k, KIND_LABELS[k], KIND_HELP[k]) for k in KINDS],
        })
    return _rule_form(request, version, kind)


@login_required
def rule_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    rule = selectors.rule_get(request.user, public_id)
    _design(request)
    if rule.kind not in KINDS:
        raise Http404("Unknown rule kind")
    return _rule_form(request, rule.version, rule.kind, rule)


@login_required
def rule_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    rule = selectors.rule_get(request.user, public_id)
    _design(request)
    version = rule.version
    if (locked := _locked_redirect(request, version, f"remove rule {rule.name}")) is not None:
        return locked
    if request.method == "POST":
        try:
            services.rule_delete(rule=rule, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Rule {rule.name} removed from version {version.number}.")
        return redirect(_detail_url(version))
    return render(request, "includes/confirm_delete.html", {
        "title": f"Remove rule {rule.name}", "button": "Remove rule", "cancel_url": _detail_url(version),
        "question": f"Remove {rule.name} from version {version.number}?",
        "crumbs": [("Programs", reverse("program_list")), (version.program.name, _detail_url(version))],
    })


# --- enrolments ------------------------------------------------------------------------------


@login_required
def enrolment_create(request: HttpRequest, public_id: str) -> HttpResponse:
    program = get_for_user(Program, request.user, public_id)
    require(selectors.can_enrol(request.user), NO_ENROL)
    version = selectors.default_version(program, timezone.localdate())
    tiers = [(t.code, t.name) for t in version.tiers.all()] if version else []
    form = EnrolForm(request.POST or None, partners=selectors.enrollable_partners(request.user), tiers=tiers,
                     initial={"starts_on": timezone.localdate(), "partner": request.GET.get("partner", "")[:40]})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        require(selectors.can_enrol(request.user, d["partner"]), NO_ENROL)
        try:
            enrolment = services.enrol(partner=d["partner"], program=program, tier_code=d["tier_code"], starts_on=d["starts_on"],
                                       actor=request.user, reason=d["reason"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{enrolment.partner.name} is in {program.name} at {enrolment.tier_code} "
                                      f"from {enrolment.starts_on:%-d %b %Y}.")
            return redirect("program_detail", public_id=program.public_id)
    return render(request, "programs/enrol_form.html", {"form": form, "program": program})


# --- the guide -------------------------------------------------------------------------------


def _guide(request: HttpRequest, public_id: str) -> dict:
    program = get_for_user(Program, request.user, public_id)
    return selectors.guide_context(request.user, program, version_id=request.GET.get("version", "")[:40] or None,
                                   tier_code=request.GET.get("tier", "")[:30] or None)


@login_required
def program_guide(request: HttpRequest, public_id: str) -> HttpResponse:
    context = _guide(request, public_id)
    return render(request, "programs/guide.html", context | {"query": request.GET.urlencode()})


@login_required
def program_guide_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    context = _guide(request, public_id)
    if context["version"] is None:
        raise Http404("This program has no published version yet")
    html = render_to_string("programs/guide_pdf.html", context | {"vendor": VendorSettings.current()})
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    tier = f"-{context['tier_code']}" if context["tier_code"] else ""
    response["Content-Disposition"] = (f'attachment; filename="guide-{context["program"].public_id}'
                                       f'-v{context["version"].number}{tier}.pdf"')
    return response
