"""Lifecycle pages: the public "Partner with us" form, the pipeline, evaluation (candidates, scorecards,
ranking, comparison, criteria, ideal profile), each partner's journey, and joint business plans.

Evaluation pages are the vendor's own (a partner never sees its scores); the journey page and the
business plans are shared with the partner itself through ``visible_to``/``get_for_user``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import can_manage_lifecycle, get_for_user, require, require_vendor
from covey.core.clients import client_ip, user_agent
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.models import VendorSettings
from covey.core.vocab import Region
from covey.lifecycle import selectors, services
from covey.lifecycle.forms import (
    ApplicationForm,
    ApproveForm,
    BusinessPlanForm,
    CriterionForm,
    DeclineForm,
    GoalForm,
    IdealProfileForm,
    LaunchPlanForm,
    LifecycleForm,
    RoundForm,
    scorecard_form,
)
from covey.lifecycle.models import (
    Application,
    BusinessGoal,
    BusinessPlan,
    Criterion,
    EvaluationRound,
    IdealProfile,
    ScaleKind,
)
from covey.partners.models import Lifecycle, Partner, PartnerType

NO_LIFECYCLE = "Only an admin or the partner's own manager moves it through its lifecycle."
NO_EVALUATE = "Only admins and partner managers evaluate candidates."
NO_MATRIX = "Only admins change the evaluation criteria and the ideal partner profile."
NO_PLAN_EDIT = "Only the partner's manager and its admins change its joint business plans."


def _vendor(request: HttpRequest) -> None:
    require_vendor(request.user)


# --- the public application ------------------------------------------------------------------


def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("fax_number"):
            return redirect("apply_thanks")  # a bot filled the hidden field: thank it, store nothing
        ip = client_ip(request)
        if not services.application_attempt(ip=ip):
            form.add_error(None, services.RATE_LIMITED)
            status = 429
        else:
            try:
                services.application_submit(answers=form.answers(), ip=ip, user_agent=user_agent(request))
            except ValidationError as exc:
                show_service_errors(form, exc)
            else:
                return redirect("apply_thanks")
    return render(request, "lifecycle/apply.html", {"form": form, "vendor": VendorSettings.current()}, status=status)


def apply_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "lifecycle/apply_thanks.html", {"vendor": VendorSettings.current()})


# --- the pipeline ----------------------------------------------------------------------------


def _owner_choices():
    from covey.partners.forms import partner_managers

    return [("none", "No owner")] + [(u.public_id, str(u)) for u in partner_managers()]


def _owner_filter(qs, value):
    return qs.filter(owner__isnull=True) if value == "none" else qs.filter(owner__public_id=value)


@login_required
def pipeline(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    qs = selectors.with_stage_since(Partner.objects.visible_to(request.user).select_related("owner"))
    listing = build_listing(
        request, qs, search=("name", "domain"),
        filters=[
            Filter("lifecycle", "Lifecycle", lookup="lifecycle", choices=Lifecycle.choices),
            Filter("owner", "Owner", choices=_owner_choices, apply=_owner_filter),
            Filter("region", "Region", lookup="region", choices=Region.choices),
            Filter("type", "Type", lookup="types__code", choices=PartnerType.choices),
        ],
        sorts={"age": ["stage_since"], "name": ["name"], "lifecycle": ["lifecycle", "stage_since"]},
        default_sort="age", per_page=200,
    )
    today = timezone.localdate()
    chosen = listing.values.get("lifecycle")
    columns = []
    for value, label in Lifecycle.choices:
        if chosen is None and value not in selectors.PIPELINE_STATES:
            continue
        if chosen is not None and value != chosen:
            continue
        rows = [p for p in listing.objects if p.lifecycle == value]
        for p in rows:
            p.age_days = selectors.days_since(p.stage_since, today)
        columns.append({"value": value, "label": label, "partners": rows})
    counts = dict(listing.queryset.order_by().values_list("lifecycle").annotate(n=Count("id")))
    for column in columns:
        column["count"] = counts.get(column["value"], 0)
    return render_list(request, "lifecycle/pipeline.html", "lifecycle/_pipeline_results.html",
                       {"listing": listing, "columns": columns})


# --- a partner's journey ---------------------------------------------------------------------


def _journey_context(request: HttpRequest, partner: Partner, **forms) -> dict:
    from covey.agreements.models import Agreement
    from covey.enablement.selectors import certified_people
    from covey.plans.models import Plan, PlanKind
    from covey.plans.selectors import plan_context, with_progress

    user = request.user
    can_manage = can_manage_lifecycle(user, partner)
    application = Application.objects.filter(partner=partner).first() if user.is_vendor else None
    onboarding = Plan.objects.filter(partner=partner, kind=PlanKind.ONBOARDING).order_by("created_at").first()
    context = {
        "partner": partner,
        "journey": services.journey_of(partner),
        "application": application,
        "can_manage": can_manage,
        "agreements": Agreement.objects.visible_to(user).filter(partner=partner).select_related("version__template"),
        "launch_plans": with_progress(Plan.objects.filter(partner=partner, kind=PlanKind.LAUNCH)),
        "business_plans": BusinessPlan.objects.filter(partner=partner),
        "certified": certified_people(partner, on=timezone.localdate()),
        "lifecycle_form": forms.get("lifecycle_form") or LifecycleForm(initial={"lifecycle": partner.lifecycle}),
        "approve_form": forms.get("approve_form") or ApproveForm(),
        "decline_form": forms.get("decline_form") or DeclineForm(),
        "launch_form": forms.get("launch_form") or LaunchPlanForm(initial={"start": timezone.localdate()}),
        "history": audit.history(partner)[:20],
        "has_countersigned": Agreement.objects.countersigned_for(partner).exists(),
        "can_edit_plans": selectors.can_edit_business_plan(user, partner),
    }
    if onboarding is not None:
        context.update(plan_context(onboarding, user))
    return context


def _partner(request: HttpRequest, public_id: str, *, manage: bool = False) -> Partner:
    return get_for_user(Partner, request.user, public_id, select=("owner",),
                        write_check=(lambda u, p: can_manage_lifecycle(u, p)) if manage else None)


@login_required
def partner_journey(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = _partner(request, public_id)
    return render(request, "lifecycle/journey.html", _journey_context(request, partner))


@login_required
@require_POST
def partner_lifecycle_change(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = _partner(request, public_id, manage=True)
    form = LifecycleForm(request.POST)
    if form.is_valid():
        try:
            changed = services.partner_change_lifecycle(
                partner=partner, to=form.cleaned_data["lifecycle"], actor=request.user, note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            label = Lifecycle(form.cleaned_data["lifecycle"]).label
            messages.success(request, f"{partner.name} is now {label.lower()}." if changed else "Nothing changed.")
            return redirect("partner_journey", public_id=partner.public_id)
    return render(request, "lifecycle/journey.html", _journey_context(request, partner, lifecycle_form=form), status=200)


def _application(partner: Partner) -> Application:
    application = Application.objects.filter(partner=partner).first()
    if application is None:
        raise Http404("This partner did not apply through the application form")
    return application


@login_required
@require_POST
def application_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = _partner(request, public_id, manage=True)
    application = _application(partner)
    form = ApproveForm(request.POST)
    if form.is_valid():
        try:
            services.application_approve(application=application, actor=request.user,
                                         agreement_template=form.cleaned_data["template"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{partner.name} is approved: its admin is invited, the onboarding plan has started.")
    else:
        messages.error(request, "Choose one of the listed agreements.")
    return redirect("partner_journey", public_id=partner.public_id)


@login_required
@require_POST
def application_decline(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = _partner(request, public_id, manage=True)
    application = _application(partner)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.application_decline(application=application, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"The application of {partner.name} is declined; the applicant is told.")
            return redirect("partner_journey", public_id=partner.public_id)
    return render(request, "lifecycle/journey.html", _journey_context(request, partner, decline_form=form))


@login_required
@require_POST
def launch_plan_start(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = _partner(request, public_id, manage=True)
    form = LaunchPlanForm(request.POST)
    if form.is_valid():
        try:
            plan = services.launch_plan_start(partner=partner, template=form.cleaned_data["template"],
                                              start=form.cleaned_data["start"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Launch plan “{plan.name}” started.")
            return redirect("plan_detail", public_id=plan.public_id)
    return render(request, "lifecycle/journey.html", _journey_context(request, partner, launch_form=form))


# --- evaluation ------------------------------------------------------------------------------


@login_required
def evaluation_ranking(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    q = (request.GET.get("q") or "").strip()[:200]
    scope = request.GET.get("scope")
    states = selectors.CANDIDATE_STATES if scope != "active" else (Lifecycle.ONBOARDING, Lifecycle.ACTIVE)
    rows, unscored = selectors.ranking(states=states, q=q)
    return render(request, "lifecycle/ranking.html", {
        "rows": rows, "unscored": unscored, "q": q, "scope": scope or "candidates", "compare_max": selectors.COMPARE_MAX,
        "can_evaluate": selectors.can_evaluate(request.user), "can_edit_matrix": selectors.can_edit_matrix(request.user),
    })


@login_required
def evaluation_compare(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    wanted = list(dict.fromkeys(v[:40] for v in request.GET.getlist("p") if v))[: selectors.COMPARE_MAX]
    partners = list(Partner.objects.visible_to(request.user).filter(public_id__in=wanted).prefetch_related("types", "segments"))
    partners.sort(key=lambda p: wanted.index(p.public_id))
    if len(partners) < 2:
        messages.error(request, "Tick two or more candidates to compare them side by side.")
        return redirect("evaluation_ranking")
    return render(request, "lifecycle/compare.html", {"comparison": selectors.compare(partners)})


def _candidate_context(request: HttpRequest, partner: Partner, **forms) -> dict:
    rounds = list(EvaluationRound.objects.filter(partner=partner).prefetch_related("scorecards__scores", "scorecards__evaluator"))
    for r in rounds:
        r.result = services.round_result(r, list(r.scorecards.all()))
        r.rows = [
            {"spec": spec, "mean": r.result.means.get(spec["code"]) if r.result else None,
             "scores": [(card, next((s for s in card.scores.all() if s.criterion_code == spec["code"]), None)) for card in r.scorecards.all()]}
            for spec in r.criteria
        ]
    latest = rounds[0] if rounds else None
    return {
        "partner": partner, "application": Application.objects.filter(partner=partner).first(), "rounds": rounds,
        "open_round": next((r for r in rounds if r.is_open), None),
        "shortfalls": selectors.shortfalls(partner, latest.result if latest else None),
        "can_evaluate": selectors.can_evaluate(request.user), "can_manage": can_manage_lifecycle(request.user, partner),
        "round_form": forms.get("round_form") or RoundForm(),
    }


@login_required
def evaluation_candidate(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    partner = _partner(request, public_id)
    return render(request, "lifecycle/candidate.html", _candidate_context(request, partner))


@login_required
@require_POST
def evaluation_round_open(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    require(selectors.can_evaluate(request.user), NO_EVALUATE)
    partner = _partner(request, public_id)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            round_ = services.round_open(partner=partner, actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Round “{round_.name}” is open: each evaluator files a scorecard.")
            return redirect("evaluation_score", public_id=round_.public_id)
    return redirect("evaluation_candidate", public_id=partner.public_id)


def _round(request: HttpRequest, public_id: str) -> EvaluationRound:
    return get_for_user(EvaluationRound, request.user, public_id, select=("partner",))


@login_required
def evaluation_score(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    round_ = _round(request, public_id)
    require(selectors.can_evaluate(request.user), NO_EVALUATE)
    mine = round_.scorecards.filter(evaluator=request.user).prefetch_related("scores").first()
    initial = {}
    if mine is not None:
        for s in mine.scores.all():
            initial[f"score_{s.criterion_code}"] = s.level or s.value
            initial[f"note_{s.criterion_code}"] = s.note
    form = scorecard_form(round_.criteria, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        scores = {
            spec["code"]: services.ScoreInput(
                value=d.get(f"score_{spec['code']}") if spec["scale"] != ScaleKind.LEVELS else None,
                level=d.get(f"score_{spec['code']}") if spec["scale"] == ScaleKind.LEVELS else None,
                note=d.get(f"note_{spec['code']}", ""),
            ) for spec in round_.criteria
        }
        try:
            services.scorecard_submit(round_=round_, evaluator=request.user, scores=scores)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Your scorecard is saved.")
            return redirect("evaluation_candidate", public_id=round_.partner.public_id)
    rows = [(spec, form[f"score_{spec['code']}"], form[f"note_{spec['code']}"]) for spec in round_.criteria]
    return render(request, "lifecycle/score.html", {"round": round_, "form": form, "rows": rows, "mine": mine})


@login_required
@require_POST
def evaluation_round_close(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    round_ = _round(request, public_id)
    require(selectors.can_evaluate(request.user), NO_EVALUATE)
    services.round_close(round_=round_, actor=request.user)
    messages.success(request, f"Round “{round_.name}” is closed; its scores stay in the history.")
    return redirect("evaluation_candidate", public_id=round_.partner.public_id)


@login_required
def criteria_list(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    criteria = list(Criterion.objects.all())
    active_weight = sum((c.weight for c in criteria if c.is_active), Decimal(0))
    return render(request, "lifecycle/criteria.html", {
        "criteria": criteria, "active_weight": active_weight, "can_edit": selectors.can_edit_matrix(request.user),
        "profile": IdealProfile.current(),
    })


def _criterion_values(form: CriterionForm) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k != "code"}


@login_required
def criterion_create(request: HttpRequest) -> HttpResponse:
    require(selectors.can_edit_matrix(request.user), NO_MATRIX)
    form = CriterionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.criterion_create(actor=request.user, code=form.cleaned_data["code"], **_criterion_values(form))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Criterion added; new rounds use it.")
            return redirect("evaluation_criteria")
    return render(request, "lifecycle/criterion_form.html", {"form": form, "criterion": None})


@login_required
def criterion_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    require(selectors.can_edit_matrix(request.user), NO_MATRIX)
    criterion = get_for_user(Criterion, request.user, public_id)
    initial = {f: getattr(criterion, f) for f in services.CRITERION_FIELDS} | {"code": criterion.code}
    form = CriterionForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.criterion_update(criterion=criterion, actor=request.user, **_criterion_values(form))
        except ValidationError as exc:
            criterion.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Criterion saved; rounds already open keep the weights they started with." if changes else "Nothing changed.")
            return redirect("evaluation_criteria")
    return render(request, "lifecycle/criterion_form.html", {"form": form, "criterion": criterion,
                                                             "history": audit.history(criterion)[:20]})


@login_required
def ideal_profile(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    can_edit = selectors.can_edit_matrix(request.user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied(NO_MATRIX)
    profile = IdealProfile.current()
    criteria = list(Criterion.objects.filter(is_active=True))
    initial = {"min_total": profile.min_total, "min_employees": profile.min_employees, "regions": profile.regions,
               "types": profile.types, "segments": profile.segments}
    initial |= {f"minimum_{code}": value for code, value in (profile.criteria_minimums or {}).items()}
    form = IdealProfileForm(request.POST or None, initial=initial, criteria=criteria)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            changes = services.ideal_profile_update(
                actor=request.user, min_total=d["min_total"], min_employees=d["min_employees"], regions=d["regions"],
                types=d["types"], segments=d["segments"], criteria_minimums=form.minimums(),
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Ideal partner profile saved." if changes else "Nothing changed.")
            return redirect("evaluation_profile")
    minimum_fields = [form[f"minimum_{c.code}"] for c in criteria]
    return render(request, "lifecycle/profile.html", {"form": form, "can_edit": can_edit, "minimum_fields": minimum_fields,
                                                      "history": audit.history(profile)[:20]})


# --- joint business plans --------------------------------------------------------------------


@login_required
def business_plan_list(request: HttpRequest) -> HttpResponse:
    qs = BusinessPlan.objects.visible_to(request.user).select_related("partner")
    filters = []
    if request.user.is_vendor:
        filters.append(Filter("partner", "Partner", lookup="partner__public_id",
                              choices=lambda: [(p.public_id, p.name) for p in Partner.objects.filter(business_plans__isnull=False).distinct().order_by("name")]))
    listing = build_listing(request, qs, search=("title", "partner__name"), filters=filters,
                            sorts={"starts": ["starts_on"], "title": ["title"]}, default_sort="-starts")
    own = None if request.user.is_vendor else request.user.membership.partner if request.user.membership else None
    can_create = request.user.staff_role in ("admin", "partner_manager") or (own is not None and selectors.can_edit_business_plan(request.user, own))
    return render_list(request, "lifecycle/business_plan_list.html", "lifecycle/_business_plan_results.html",
                       {"listing": listing, "can_create": can_create})


@login_required
def business_plan_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_vendor:
        pid = (request.GET.get("partner") or request.POST.get("partner") or "")[:40]
        partner = get_for_user(Partner, user, pid) if pid else None
        if partner is None:
            require(user.staff_role in ("admin", "partner_manager"), NO_PLAN_EDIT)
    else:
        partner = user.membership.partner if user.membership else None
    if partner is not None:
        require(selectors.can_edit_business_plan(user, partner), NO_PLAN_EDIT)
    form = BusinessPlanForm(request.POST or None, initial={"starts_on": timezone.localdate()})
    partners = list(Partner.objects.filter(lifecycle__in=[Lifecycle.ONBOARDING, Lifecycle.ACTIVE]).order_by("name")) if user.is_vendor and partner is None else []
    if request.method == "POST" and form.is_valid():
        if partner is None:
            form.add_error(None, "Choose the partner the plan is with.")
        else:
            d = form.cleaned_data
            try:
                plan = services.business_plan_create(partner=partner, actor=user, title=d["title"], starts_on=d["starts_on"],
                                                     ends_on=d["ends_on"], notes=d["notes"])
            except ValidationError as exc:
                show_service_errors(form, exc)
            else:
                messages.success(request, "Joint business plan created; add its mutual goals.")
                return redirect("business_plan_detail", public_id=plan.public_id)
    return render(request, "lifecycle/business_plan_form.html", {"form": form, "partner": partner, "partners": partners, "plan": None})


def _plan(request: HttpRequest, public_id: str, *, edit: bool = False) -> BusinessPlan:
    return get_for_user(BusinessPlan, request.user, public_id, select=("partner", "partner__owner"),
                        write_check=(lambda u, p: selectors.can_edit_business_plan(u, p.partner)) if edit else None)


@login_required
def business_plan_detail(request: HttpRequest, public_id: str, goal_form: GoalForm | None = None) -> HttpResponse:
    plan = _plan(request, public_id)
    return render(request, "lifecycle/business_plan_detail.html", {
        "plan": plan, "progress": selectors.goal_actuals(plan), "goal_form": goal_form or GoalForm(),
        "can_edit": selectors.can_edit_business_plan(request.user, plan.partner), "history": audit.history(plan)[:20],
    })


@login_required
def business_plan_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = _plan(request, public_id, edit=True)
    form = BusinessPlanForm(request.POST or None, initial={"title": plan.title, "starts_on": plan.starts_on,
                                                           "ends_on": plan.ends_on, "notes": plan.notes})
    if request.method == "POST" and form.is_valid():
        try:
            services.business_plan_update(plan=plan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            plan.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Plan saved.")
            return redirect("business_plan_detail", public_id=plan.public_id)
    return render(request, "lifecycle/business_plan_form.html", {"form": form, "partner": plan.partner, "plan": plan})


@login_required
@require_POST
def business_goal_add(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = _plan(request, public_id, edit=True)
    form = GoalForm(request.POST)
    if form.is_valid():
        try:
            services.goal_add(plan=plan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Goal added.")
            return redirect("business_plan_detail", public_id=plan.public_id)
    return business_plan_detail(request, public_id, goal_form=form)


@login_required
@require_POST
def business_goal_remove(request: HttpRequest, public_id: str, goal_id: str) -> HttpResponse:
    plan = _plan(request, public_id, edit=True)
    goal = BusinessGoal.objects.filter(plan=plan, public_id=goal_id).first()
    if goal is None:
        raise Http404("No such goal")
    services.goal_remove(goal=goal, actor=request.user)
    messages.success(request, "Goal removed.")
    return redirect("business_plan_detail", public_id=plan.public_id)

