"""The analytics pages and API: dashboards with charts, drill-downs and CSV, the scorecard with its
QBR PDF, targets and settings, and partner scoping (a partner sees only its own figures)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from covey.analytics.models import AnalyticsSettings, ScorecardNote, Target
from tests.test_api import as_user, assert_error

Q = "2026Q2"


@pytest.fixture
def deals(cast):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    for side, partner, amount in (("A", cast.partner_a, 6_000_000), ("B", cast.partner_b, 2_000_000)):
        account = Account.objects.create(name=f"Buyer {side}", domain=f"buyer-{side.lower()}.example")
        opp = Opportunity.objects.create(name=f"Won deal {side}", account=account, stage="Closed Won", amount_minor=amount,
                                         currency="USD", close_date=date(2026, 5, 1),
                                         created_at=datetime(2026, 4, 2, tzinfo=UTC))
        OpportunityPartner.objects.create(opportunity=opp, partner=partner, role="sourced", is_primary=True)
    return cast


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_program_dashboard_shows_charts_figures_and_the_leaderboard(login, deals):
    response = login(deals.partner_manager).get(reverse("analytics_dashboard"), {"period": Q})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="spec-trend"' in html and 'data-chart="spec-pareto"' in html and "chart-4.6.1.umd.min.js" in html
    assert "<svg" in html  # the same charts drawn on the server, for pages without script
    assert "80,000.00 USD" in html  # sourced revenue: 60,000 + 20,000
    assert "Alpha Integrations" in html and "Beta Resellers" in html


def test_the_dashboard_figures_export_as_csv(login, deals):
    rows = _csv(login(deals.vendor_admin).get(reverse("analytics_dashboard"), {"period": Q, "export": "figures"}))
    by_key = {r[1]: r for r in rows[1:]}
    assert by_key["sourced_revenue"][2] == "80000.00" and by_key["sourced_revenue"][3] == "USD"
    board = _csv(login(deals.vendor_admin).get(reverse("analytics_dashboard"), {"period": Q, "export": "leaderboard"}))
    assert board[1][1] == "Alpha Integrations" and board[1][3] == "60000.00"


def test_a_bad_period_is_a_clear_message_not_an_error(login, cast):
    response = login(cast.vendor_admin).get(reverse("analytics_dashboard"), {"period": "next year"})
    assert response.status_code == 400
    assert "is not a fiscal period" in response.content.decode()
    response = login(cast.vendor_admin).get(reverse("analytics_dashboard"), {"partner": "par_unknown"})
    assert response.status_code == 400 and "No partner with id" in response.content.decode()


def test_the_drill_down_lists_the_deals_behind_a_metric_and_exports_them(login, deals):
    url = reverse("analytics_records", args=["sourced_revenue"])
    response = login(deals.vendor_admin).get(url, {"period": Q})
    assert response.status_code == 200 and "Won deal A" in response.content.decode()
    rows = _csv(login(deals.vendor_admin).get(url, {"period": Q, "format": "csv"}))
    assert sorted(r[1] for r in rows[1:]) == ["Won deal A", "Won deal B"]
    assert login(deals.vendor_admin).get(reverse("analytics_records", args=["nonsense"])).status_code == 404


def test_a_partner_sees_only_its_own_figures(login, deals):
    client = login(deals.b_rep)
    response = client.get(reverse("analytics_partner_dashboard"), {"period": Q})
    html = response.content.decode()
    assert response.status_code == 200 and "20,000.00 USD" in html
    assert "Alpha" not in html and "60,000.00" not in html
    rows = _csv(client.get(reverse("analytics_records", args=["sourced_revenue"]), {"period": Q, "format": "csv"}))
    assert [r[1] for r in rows[1:]] == ["Won deal B"]


def test_a_partner_cannot_pass_another_partner_id(login, deals):
    client = login(deals.b_rep)
    response = client.get(reverse("analytics_records", args=["sourced_revenue"]),
                          {"period": Q, "partner": deals.partner_a.public_id})
    assert response.status_code == 400 and "Won deal A" not in response.content.decode()
    assert client.get(reverse("analytics_dashboard")).status_code == 404
    assert client.get(reverse("analytics_scorecard", args=[deals.partner_a.public_id, Q])).status_code == 404


def test_partners_do_not_get_vendor_only_metrics(login, deals):
    client = login(deals.a_rep)
    assert client.get(reverse("analytics_records", args=["concentration"]), {"period": Q}).status_code == 404
    assert "concentration" not in client.get(reverse("analytics_definitions")).content.decode()


def test_the_scorecard_page_csv_and_qbr_pdf(login, deals):
    Target.objects.create(period_key=Q, partner=deals.partner_a, measure="revenue_closed", amount_minor=5_000_000)
    client = login(deals.partner_manager)
    url = reverse("analytics_scorecard", args=[deals.partner_a.public_id, Q])
    html = client.get(url).content.decode()
    assert "rag-green" in html and "60,000.00 USD" in html
    rows = _csv(client.get(url, {"format": "csv"}))
    revenue = next(r for r in rows if r[0] == "Revenue closed")
    assert revenue[1:6] == ["60000.00", "0.00", "60000.00", "50000.00", "green"]
    pdf = client.get(reverse("analytics_qbr_pdf", args=[deals.partner_a.public_id, Q]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_partner_reads_its_own_scorecard(login, deals):
    client = login(deals.a_readonly)
    response = client.get(reverse("analytics_my_scorecard"))
    assert response.status_code == 302 and deals.partner_a.public_id in response["Location"]
    assert client.get(reverse("analytics_scorecard", args=[deals.partner_a.public_id, Q])).status_code == 200


def test_a_scorecard_for_a_year_or_nonsense_is_refused_clearly(login, deals):
    client = login(deals.vendor_admin)
    for quarter in ("2026", "2026Q7"):
        response = client.get(reverse("analytics_scorecard", args=[deals.partner_a.public_id, quarter]))
        assert response.status_code == 400


def test_the_partner_manager_keeps_scorecard_notes(login, deals):
    url = reverse("analytics_scorecard_note", args=[deals.partner_a.public_id, Q])
    assert login(deals.partner_manager).post(url, {"text": "Ramp two more reps"}).status_code == 302
    assert ScorecardNote.objects.get(partner=deals.partner_a, period_key=Q).text == "Ramp two more reps"
    assert login(deals.other_manager).post(url, {"text": "x"}).status_code == 403


def test_targets_are_set_through_the_form(login, cast):
    client = login(cast.partner_manager)
    response = client.post(reverse("analytics_targets"), {"period": Q, "tier_code": "gold", "measure": "revenue_closed",
                                                          "value": "25,000.00"})
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.tier_code, target.amount_minor, target.value) == ("gold", 2_500_000, None)
    response = client.post(reverse("analytics_targets"), {"period": Q, "partner": cast.partner_a.public_id,
                                                          "measure": "win_rate", "value": "35"})
    assert response.status_code == 302 and str(Target.objects.get(partner=cast.partner_a).value) == "0.3500"
    response = client.post(reverse("analytics_targets"), {"period": Q, "measure": "win_rate", "value": "35"})
    assert response.status_code == 200 and "one partner or for one tier" in response.content.decode()
    response = client.post(reverse("analytics_targets"), {"period": "2026", "tier_code": "gold", "measure": "deals_sourced",
                                                          "value": "3"})
    assert response.status_code == 200 and "per fiscal quarter" in response.content.decode()


def test_only_admins_change_analytics_settings(login, cast):
    data = {"active_rule": "won_deal", "overhead": "12,000.00", "green_percent": "95", "amber_percent": "70"}
    assert login(cast.partner_manager).post(reverse("analytics_settings"), data).status_code == 403
    assert login(cast.vendor_admin).post(reverse("analytics_settings"), data).status_code == 302
    s = AnalyticsSettings.current()
    assert (s.active_rule, s.overhead_per_quarter_minor, str(s.green_at), str(s.amber_at)) == ("won_deal", 1_200_000, "0.95", "0.70")


# --- API --------------------------------------------------------------------------------------


def test_api_metrics_with_definitions_and_filters(deals):
    body = as_user(deals.executive).get(f"/api/analytics/metrics?period={Q}").json()
    m = {x["key"]: x for x in body["metrics"]}
    assert m["sourced_revenue"]["value"] == "80000.00" and m["sourced_revenue"]["value_minor"] == 8_000_000
    assert m["sourced_revenue"]["definition"]
    one = as_user(deals.vendor_admin).get(f"/api/analytics/metrics?period={Q}&partner={deals.partner_a.public_id}").json()
    assert {x["key"]: x for x in one["metrics"]}["sourced_revenue"]["value"] == "60000.00"


def test_api_metrics_for_a_partner_are_its_own(deals):
    body = as_user(deals.b_admin).get(f"/api/analytics/metrics?period={Q}").json()
    m = {x["key"]: x for x in body["metrics"]}
    assert m["sourced_revenue"]["value"] == "20000.00" and "concentration" not in m
    response = as_user(deals.b_admin).get(f"/api/analytics/metrics?period={Q}&partner={deals.partner_a.public_id}")
    assert_error(response, 422, "validation_error")


def test_api_bad_period_is_a_validation_error(cast):
    assert_error(as_user(cast.vendor_admin).get("/api/analytics/metrics?period=Q9"), 422, "validation_error")


def test_api_scorecard_and_targets(deals):
    admin = as_user(deals.vendor_admin)
    response = admin.send("POST", "/api/analytics/targets", {"period": Q, "measure": "revenue_closed",
                                                             "partner": deals.partner_a.public_id, "value": "60000.00"})
    assert response.status_code == 201, response.content
    card = admin.get(f"/api/analytics/scorecards/{deals.partner_a.public_id}/{Q}").json()
    revenue = next(line for line in card["lines"] if line["measure"] == "revenue_closed")
    assert (revenue["actual"], revenue["target"], revenue["status"]) == ("60000.00", "60000.00", "green")
    assert as_user(deals.b_rep).get(f"/api/analytics/scorecards/{deals.partner_a.public_id}/{Q}").status_code == 404
    listed = as_user(deals.b_rep).get("/api/analytics/targets").json()
    assert listed["count"] == 0
