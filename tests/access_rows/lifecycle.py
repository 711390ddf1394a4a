"""Access rows for the partner lifecycle: applications, evaluation, journeys, business plans, agreements and
enablement (the contract is in tests/access_rows/__init__.py).

``build`` adds an applicant (Gamma, not yet anyone's partner) with its application; for partner A an
open re-evaluation round, a joint business plan with a goal, three agreements (issued, signed,
countersigned with a stored PDF), a completion of a certifying course, a library resource meant for
A's partner type only (system integrators: B, a reseller, must not see it) and an announcement and a
newsletter addressed to A's type. partner_manager owns A, so with the admin it manages A's
lifecycle; other_manager sees A but may not move it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from tests.matrix import (
    ADMIN_ONLY,
    EVERYONE,
    PARTNER_A,
    PARTNER_B,
    PUBLIC,
    READ_A,
    VENDOR,
    Route,
    expect,
    rest,
)

MANAGERS_A = ("vendor_admin", "partner_manager")
LIFECYCLE_A = expect(ok=MANAGERS_A, forbidden=rest(MANAGERS_A, PARTNER_B), hidden=PARTNER_B)
VENDOR_PAGE = expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)
EVALUATORS = ("vendor_admin", "partner_manager", "other_manager")
EVALUATE = expect(ok=EVALUATORS, forbidden=rest(EVALUATORS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)
PLAN_EDITORS_A = ("vendor_admin", "partner_manager", "a_admin")
PLAN_EDIT_A = expect(ok=PLAN_EDITORS_A, forbidden=rest(PLAN_EDITORS_A, PARTNER_B), hidden=PARTNER_B)
PLAN_CREATORS = ("vendor_admin", "partner_manager", "other_manager", "a_admin", "b_admin")
SIGN_A = expect(ok=("a_admin",), forbidden=rest(("a_admin",), PARTNER_B), hidden=PARTNER_B)
COUNTERSIGN_A = expect(ok=("vendor_admin",), forbidden=rest(("vendor_admin",), PARTNER_B), hidden=PARTNER_B)
STAFF_MANAGERS = ("vendor_admin", "partner_manager", "other_manager")
STAFF_MANAGE = expect(ok=STAFF_MANAGERS, forbidden=rest(STAFF_MANAGERS))
RECORDERS = STAFF_MANAGERS + ("a_admin", "b_admin")
RECORDERS_A = STAFF_MANAGERS + ("a_admin",)

A = {"public_id": "partner_a.public_id"}
PLAN = {"public_id": "business_plan_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    # recruiting
    "apply": Route(PUBLIC),
    "apply_thanks": Route(PUBLIC),
    "pipeline": Route(VENDOR_PAGE),
    "partner_journey": Route(READ_A, kwargs=A),
    "partner_lifecycle_change": Route(LIFECYCLE_A, method="POST", kwargs=A),
    # The applicant nobody owns yet: any partner manager may decide; no partner user can see it.
    "application_approve": Route(expect(ok=EVALUATORS, forbidden=rest(EVALUATORS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B),
                                 method="POST", kwargs={"public_id": "applicant.public_id"}),
    "application_decline": Route(expect(ok=EVALUATORS, forbidden=rest(EVALUATORS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B),
                                 method="POST", kwargs={"public_id": "applicant.public_id"}),
    "launch_plan_start": Route(LIFECYCLE_A, method="POST", kwargs=A),
    # evaluation: the vendor's own judgement; a partner is not told these pages exist
    "evaluation_ranking": Route(VENDOR_PAGE),
    "evaluation_compare": Route(VENDOR_PAGE),
    "evaluation_criteria": Route(VENDOR_PAGE),
    "evaluation_criterion_create": Route(ADMIN_ONLY),
    "evaluation_criterion_edit": Route(ADMIN_ONLY, kwargs={"public_id": "criterion.public_id"}),
    "evaluation_profile": Route(VENDOR_PAGE),
    "evaluation_candidate": Route(VENDOR_PAGE, kwargs=A),
    "evaluation_round_open": Route(EVALUATE, method="POST", kwargs=A),
    "evaluation_score": Route(EVALUATE, kwargs={"public_id": "evaluation_round_a.public_id"}),
    "evaluation_round_close": Route(EVALUATE, method="POST", kwargs={"public_id": "evaluation_round_a.public_id"}),
    # joint business plans: mutual, so the partner's admin edits them too
    "business_plan_list": Route(EVERYONE),
    "business_plan_create": Route(expect(ok=PLAN_CREATORS, forbidden=rest(PLAN_CREATORS))),
    "business_plan_detail": Route(READ_A, kwargs=PLAN),
    "business_plan_edit": Route(PLAN_EDIT_A, kwargs=PLAN),
    "business_goal_add": Route(PLAN_EDIT_A, method="POST", kwargs=PLAN),
    "business_goal_remove": Route(PLAN_EDIT_A, method="POST", kwargs={**PLAN, "goal_id": "business_goal_a.public_id"}),
    # agreements
    "agreement_list": Route(EVERYONE),
    "agreement_issue": Route(STAFF_MANAGE),
    "agreement_template_list": Route(ADMIN_ONLY),
    "agreement_template_create": Route(ADMIN_ONLY),
    "agreement_template_detail": Route(ADMIN_ONLY, kwargs={"public_id": "agreement_template.public_id"}),
    "agreement_version_publish": Route(ADMIN_ONLY, method="POST", kwargs={"public_id": "agreement_template.public_id"}),
    "agreement_detail": Route(READ_A, kwargs={"public_id": "agreement_a.public_id"}),
    "agreement_pdf": Route(READ_A, kwargs={"public_id": "agreement_a.public_id"}),
    "agreement_sign": Route(SIGN_A, method="POST", kwargs={"public_id": "agreement_issued_a.public_id"}),
    "agreement_countersign": Route(COUNTERSIGN_A, method="POST", kwargs={"public_id": "agreement_signed_a.public_id"}),
    "agreement_withdraw": Route(LIFECYCLE_A, method="POST", kwargs={"public_id": "agreement_issued_a.public_id"}),
    # training
    "training_home": Route(EVERYONE),
    "course_create": Route(ADMIN_ONLY),
    "course_detail": Route(EVERYONE, kwargs={"public_id": "course.public_id"}),
    "course_edit": Route(ADMIN_ONLY, kwargs={"public_id": "course.public_id"}),
    "completion_create": Route(expect(ok=RECORDERS, forbidden=rest(RECORDERS))),
    "completion_remove": Route(expect(ok=RECORDERS_A, forbidden=rest(RECORDERS_A, PARTNER_B), hidden=PARTNER_B),
                               method="POST", kwargs={"public_id": "completion_a.public_id"}),
    # library
    "library": Route(EVERYONE),
    "resource_create": Route(STAFF_MANAGE),
    "resource_detail": Route(READ_A, kwargs={"public_id": "resource_a.public_id"}),
    "resource_edit": Route(STAFF_MANAGE, kwargs={"public_id": "resource_a.public_id"}),
    "resource_version_add": Route(STAFF_MANAGE, method="POST", kwargs={"public_id": "resource_a.public_id"}),
    "resource_download": Route(READ_A, kwargs={"public_id": "resource_a.public_id", "version_id": "resource_version_a.public_id"}),
    # news
    "announcement_list": Route(EVERYONE),
    "announcement_create": Route(STAFF_MANAGE),
    "announcement_detail": Route(READ_A, kwargs={"public_id": "announcement_a.public_id"}),
    "newsletter_create": Route(STAFF_MANAGE),
    "newsletter_detail": Route(READ_A, kwargs={"public_id": "newsletter_a.public_id"}),
    # the signed link is the credential; the page shows a masked address only
    "unsubscribe": Route(PUBLIC, kwargs={"token": "unsubscribe_token_a"}),
}

SCORES = {"scores": {
    "capacity": {"value": "4"}, "capability": {"value": "4"}, "commitment": {"level": "high"},
    "customer_fit": {"value": "5"}, "market_overlap": {"level": "medium"}, "technical_fit": {"value": "3"},
}}
SIGNATURE = {"name": "Ada Admin", "consent": True}
PLAN_START = date(2026, 1, 1)
NEW_PLAN = {"partner": "{partner_a}", "title": "Second half plan", "starts_on": "2026-07-01", "ends_on": "2026-12-31",
            "goals": [{"metric": "won_deals", "target": 3}]}
NEW_COMPLETION = {"course": "{course}", "partner": "{partner_a}", "person_name": "Pat Engineer", "completed_on": "2026-01-10"}
APL = "/api/applications/{application_a}"
ROUND = "/api/evaluation-rounds/{evaluation_round_a}"
BP = "/api/business-plans/{business_plan_a}"
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read application", "GET", APL, None,                                   (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("approve application", "POST", APL + "/approve", {},                    (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("decline application", "POST", APL + "/decline", {"reason": "Not this year"},
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("change lifecycle", "POST", "/api/partners/{partner_a}/lifecycle", {"lifecycle": "inactive"},
                                                                             (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("read journey", "GET", "/api/partners/{partner_a}/journey", None,       (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("open evaluation round", "POST", "/api/partners/{applicant}/evaluation-rounds", {},
                                                                             (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("read evaluation round", "GET", ROUND, None,                            (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("file scorecard", "PUT", ROUND + "/scorecard", SCORES,                  (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("read business plan", "GET", BP, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    # Partner B naming A as the partner is refused like any other partner's id (422, nothing stored).
    ("create business plan", "POST", "/api/business-plans", NEW_PLAN,        (201, 201, 403, 403, 403, 403, 201, 403, 403, 422, 422)),
    ("add business goal", "POST", BP + "/goals", {"metric": "registered_deals", "target": 5},
                                                                             (201, 201, 403, 403, 403, 403, 201, 403, 403, 404, 404)),
    ("read agreement", "GET", "/api/agreements/{agreement_a}", None,          (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("issue agreement", "POST", "/api/agreements", {"partner": "{partner_a}", "template": "{agreement_template_2}"},
                                                                             (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403)),
    ("sign agreement", "POST", "/api/agreements/{agreement_issued_a}/sign", SIGNATURE,
                                                                             (403, 403, 403, 403, 403, 403, 200, 403, 403, 404, 404)),
    ("countersign agreement", "POST", "/api/agreements/{agreement_signed_a}/countersign", SIGNATURE,
                                                                             (200, 403, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("record completion", "POST", "/api/certifications", NEW_COMPLETION,     (201, 201, 201, 403, 403, 403, 201, 403, 403, 422, 403)),
    ("certified people", "GET", "/api/partners/{partner_a}/certified-people", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("read resource", "GET", "/api/resources/{resource_a}", None,            (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
]
API_LISTS: list[str] = [
    "/api/applications", "/api/applications?q=gamma", "/api/evaluation/criteria", "/api/evaluation/ranking",
    "/api/business-plans", "/api/business-plans?partner={partner_a}", "/api/agreements", "/api/agreements?partner={partner_a}",
    "/api/courses", "/api/certifications", "/api/certifications?partner={partner_a}", "/api/resources", "/api/resources?q=integration",
    "/api/announcements",
]


def build(world) -> None:
    from django.core.files.base import ContentFile

    from covey.agreements import services as agreements
    from covey.agreements.models import AgreementStatus
    from covey.enablement import services as enablement
    from covey.lifecycle import criteria, playbooks, services
    from covey.lifecycle.models import Criterion
    from covey.plans.playbooks import install_current

    w = world
    install_current()
    playbooks.install_current()  # an earlier transactional test may have emptied the shipped rows
    criteria.install_current()
    w.criterion = Criterion.objects.order_by("order").first()

    application = services.application_submit(answers=services.ApplicationInput(
        company_name="Gamma Applicant Systems", website="https://gamma-applicant.example", contact_name="Gil Gamma",
        contact_email="gil@gamma-applicant.example", types=["msp"], regions=["emea"], employees=30,
    ), ip="192.0.2.10")
    w.application_a, w.applicant = application, application.partner
    w.evaluation_round_a = services.round_open(partner=w.partner_a, actor=w.partner_manager, name="Alpha annual review")

    w.business_plan_a = services.business_plan_create(
        partner=w.partner_a, actor=w.partner_manager, title="Alpha growth plan", starts_on=PLAN_START, ends_on=date(2026, 6, 30),
    )
    w.business_goal_a = services.goal_add(plan=w.business_plan_a, actor=w.partner_manager, metric="registered_deals", target=5)

    w.agreement_template = agreements.template_create(actor=w.vendor_admin, name="Integrator agreement",
                                                      title="Integrator partner agreement", body="# Terms\n\nWe work together.")
    w.agreement_template_2 = agreements.template_create(actor=w.vendor_admin, name="Referral agreement",
                                                        title="Referral terms", body="Referral terms.")
    w.agreement_a = agreements.agreement_issue(partner=w.partner_a, template=w.agreement_template, actor=w.partner_manager)
    agreements.agreement_sign(agreement=w.agreement_a, actor=w.a_admin, name="Ada Admin", consent=True, ip="192.0.2.1", user_agent="test")
    # Countersigned without rendering (the access tables build this world hundreds of times).
    a = w.agreement_a
    a.pdf.save(f"{a.public_id}.pdf", ContentFile(b"%PDF-1.4 access-table stand-in"), save=False)
    a.status, a.countersigned_by, a.countersigned_name, a.countersigned_at = AgreementStatus.COUNTERSIGNED, w.vendor_admin, "Vera", timezone.now()
    a.pdf_sha256 = "0" * 64
    a.save()
    w.agreement_issued_a = agreements.agreement_issue(partner=w.partner_a, template=w.agreement_template, actor=w.partner_manager)
    w.agreement_signed_a = agreements.agreement_issue(partner=w.partner_a, template=w.agreement_template_2, actor=w.partner_manager)
    agreements.agreement_sign(agreement=w.agreement_signed_a, actor=w.a_admin, name="Ada Admin", consent=True, ip=None, user_agent="")

    w.course = enablement.course_create(actor=w.vendor_admin, title="Platform certified engineer", kind="internal",
                                        certifies=True, certification_name="Certified engineer", valid_months=12)
    w.completion_a = enablement.completion_record(course=w.course, partner=w.partner_a, actor=w.partner_manager,
                                                  completed_on=timezone.localdate() - timedelta(days=30), person_name="Quinn Alpha-Engineer")
    w.resource_a = enablement.resource_create(actor=w.vendor_admin, title="Integration battle card for integrators", kind="battle_card",
                                              partner_types=["system_integrator"], link="https://docs.example/battle-card")
    w.resource_version_a = w.resource_a.versions.get()
    w.announcement_a = enablement.announcement_publish(actor=w.vendor_admin, title="Integrator summit invitation",
                                                       body="Join us.", partner_types=["system_integrator"])
    w.newsletter_a = enablement.newsletter_schedule(actor=w.vendor_admin, subject="Integrator digest", intro="Hello integrators.",
                                                    send_at=timezone.now(), partner_types=["system_integrator"])
    enablement.send_due_newsletters(now=timezone.now())
    w.newsletter_a.refresh_from_db()
    w.unsubscribe_token_a = enablement.unsubscribe_token(w.a_rep)


def ids(world) -> dict[str, str]:
    w = world
    return {
        "application_a": w.application_a.public_id, "applicant": w.applicant.public_id,
        "evaluation_round_a": w.evaluation_round_a.public_id, "business_plan_a": w.business_plan_a.public_id,
        "agreement_a": w.agreement_a.public_id, "agreement_issued_a": w.agreement_issued_a.public_id,
        "agreement_signed_a": w.agreement_signed_a.public_id, "agreement_template_2": w.agreement_template_2.public_id,
        "course": w.course.public_id, "resource_a": w.resource_a.public_id,
    }


def secrets(world) -> list[str]:
    w = world
    return [
        w.evaluation_round_a.public_id, w.evaluation_round_a.name, w.business_plan_a.public_id, w.business_plan_a.title,
        w.business_goal_a.public_id, w.agreement_a.public_id, w.agreement_issued_a.public_id, w.agreement_signed_a.public_id,
        w.completion_a.public_id, w.completion_a.person_name, w.resource_a.public_id, w.resource_a.title,
        w.resource_version_a.public_id, w.announcement_a.public_id, w.announcement_a.title, w.newsletter_a.public_id,
        w.newsletter_a.subject,
    ]


def state():
    from covey.agreements.models import Agreement, AgreementVersion
    from covey.enablement.models import (
        Announcement,
        Completion,
        Course,
        Newsletter,
        Resource,
        ResourceVersion,
    )
    from covey.lifecycle.models import (
        Application,
        BusinessGoal,
        BusinessPlan,
        Criterion,
        EvaluationRound,
        Score,
    )

    return (
        list(Application.objects.values_list("public_id", "status").order_by("id")),
        list(EvaluationRound.objects.values_list("public_id", "closed_at", "total").order_by("id")),
        Score.objects.count(),
        list(Criterion.objects.values_list("public_id", "weight", "is_active").order_by("id")),
        list(BusinessPlan.objects.values_list("public_id", "title", "ends_on").order_by("id")),
        list(BusinessGoal.objects.values_list("public_id", "target").order_by("id")),
        list(Agreement.objects.values_list("public_id", "status").order_by("id")),
        AgreementVersion.objects.count(),
        list(Completion.objects.values_list("public_id", "expires_on").order_by("id")),
        list(Course.objects.values_list("public_id", "title").order_by("id")),
        list(Resource.objects.values_list("public_id", "title").order_by("id")),
        ResourceVersion.objects.count(),
        Announcement.objects.count(),
        list(Newsletter.objects.values_list("public_id", "sent_at").order_by("id")),
    )
