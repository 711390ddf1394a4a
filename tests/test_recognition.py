"""Quarterly awards: each rule's winner on a small data set, thresholds, idempotent runs, the pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from covey.core.models import Notification
from covey.core.money import Money
from covey.recognition import services
from covey.recognition.models import Award, AwardKind, AwardRule

pytestmark = pytest.mark.django_db


def _aware(d: date) -> datetime:
    return timezone.make_aware(datetime(d.year, d.month, d.day, 12))


@pytest.fixture
def q1_world(cast):
    from covey.agreements.models import Agreement, AgreementTemplate, AgreementVersion
    from covey.crm.models import Account, Opportunity, OpportunityPartner
    from covey.tierreviews.models import SatisfactionScore

    c = cast
    account = Account.objects.create(name="Customer")
    for name, partner, role, amount, close in (("X", c.partner_a, "reseller", 1_000_000, date(2026, 2, 15)),
                                               ("Y", c.partner_b, "referral", 300_000, date(2026, 3, 1))):
        opp = Opportunity.objects.create(name=name, account=account, stage="Closed Won", amount_minor=amount,
                                         currency="USD", close_date=close, created_at=_aware(date(2025, 11, 1)))
        OpportunityPartner.objects.create(opportunity=opp, partner=partner, role=role)
    version = AgreementVersion.objects.create(template=AgreementTemplate.objects.create(name="Partner agreement"),
                                              number=1, title="Partner agreement", body="Terms")
    for partner, signed in ((c.partner_a, date(2026, 1, 1)), (c.partner_b, date(2025, 12, 1))):
        Agreement.objects.create(partner=partner, version=version, title="Partner agreement", body="Terms",
                                 status="countersigned", signed_at=_aware(signed),
                                 countersigned_at=_aware(signed), pdf_sha256="0" * 64)
    for partner, score in ((c.partner_a, "8.0"), (c.partner_a, "9.0"), (c.partner_b, "9.0")):
        SatisfactionScore.objects.create(partner=partner, score=Decimal(score), measured_on=date(2026, 2, 1), source="CSAT")
    c.q1 = __import__("covey.core.models", fromlist=["x"]).VendorSettings.current().calendar.parse("2026Q1")
    return c


def test_each_rule_hand_computed(q1_world):
    w = q1_world
    co = services.top_cosellers(w.q1, Decimal(0))
    assert [(c.partner, c.value) for c in co] == [(w.partner_a, str(Money(1_000_000, "USD"))),
                                                  (w.partner_b, str(Money(300_000, "USD")))]
    assert [(c.partner, c.rank_key[0]) for c in services.fastest_ramps(w.q1, Decimal(365))] == [(w.partner_a, 45), (w.partner_b, 90)]
    assert [(c.partner, c.value) for c in services.best_outcomes(w.q1, Decimal(7))] == [(w.partner_b, "9.0/10"), (w.partner_a, "8.5/10")]
    assert services.top_cosellers(w.q1, Decimal("20000")) == []  # 10,000.00 is under the bar
    assert [c.partner for c in services.fastest_ramps(w.q1, Decimal(60))] == [w.partner_a]
    assert services.best_outcomes(w.q1, Decimal("9.5")) == []


def test_job_gives_each_award_once_and_tells_the_winners(q1_world):
    from covey.core.schedule import run_jobs

    w = q1_world
    AwardRule.all_rules()
    AwardRule.objects.filter(kind=AwardKind.BEST_OUTCOMES).update(enabled=False)
    assert run_jobs(now=_aware(date(2026, 3, 30)), only="recognition.quarterly")["recognition.quarterly"] == 0  # Q4 2025: no data
    assert run_jobs(now=_aware(date(2026, 4, 2)), only="recognition.quarterly")["recognition.quarterly"] == 2
    assert run_jobs(now=_aware(date(2026, 4, 3)), only="recognition.quarterly")["recognition.quarterly"] == 0
    assert services.awards_run(quarter=w.q1) == []  # the button fills in missing awards only
    awards = {a.kind: a.partner for a in Award.objects.filter(period_key=w.q1.key)}
    assert awards == {AwardKind.TOP_COSELLER: w.partner_a, AwardKind.FASTEST_RAMP: w.partner_a}
    told = set(Notification.objects.filter(kind="award.won").values_list("recipient_id", flat=True))
    assert {w.a_admin.pk, w.a_rep.pk, w.a_readonly.pk, w.partner_manager.pk} <= told and w.b_rep.pk not in told
    AwardRule.objects.filter(kind=AwardKind.BEST_OUTCOMES).update(enabled=True)
    assert [a.partner for a in services.awards_run(quarter=w.q1)] == [w.partner_b]


def test_pages_button_rules_and_badges(q1_world, client):
    w = q1_world
    client.force_login(w.partner_manager)
    assert client.post("/recognition/give/", {"period": "2026Q1"}).status_code == 302
    assert Award.objects.filter(period_key="2026Q1").count() == 3
    page = client.get("/recognition/?period=2026Q1").content.decode()
    assert "Alpha Integrations" in page and "45 days" in page
    assert client.post(f"/recognition/rules/{AwardKind.TOP_COSELLER}/", {"threshold": "5"}).status_code == 403
    client.force_login(w.vendor_admin)
    client.post(f"/recognition/rules/{AwardKind.TOP_COSELLER}/", {"threshold": "25000", "enabled": "on"})
    assert AwardRule.objects.get(kind=AwardKind.TOP_COSELLER).threshold == Decimal("25000")
    client.post(f"/recognition/rules/{AwardKind.TOP_COSELLER}/", {"threshold": "lots"})
    assert AwardRule.objects.get(kind=AwardKind.TOP_COSELLER).threshold == Decimal("25000")
    assert "Top co-seller" in client.get("/analytics/?period=2026Q1").content.decode()
    client.force_login(w.a_rep)
    mine = client.get("/analytics/ours/?period=2026Q1").content.decode()
    assert "Our awards" in mine and "Fastest ramp" in mine and "Best customer outcomes" not in mine  # B's award
    assert client.get("/recognition/").status_code == 404
