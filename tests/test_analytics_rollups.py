"""The rollups give exactly the direct computation's numbers — every filter, a deal with two partners,
foreign currencies (with and without a rate), lost deals — and stay exact after changes once refreshed:
edits, stage and date moves, a removed link, a deleted deal, a deal that gains a second partner."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

from covey.analytics import metrics as M
from covey.analytics import outcomes, rollups
from covey.analytics import scorecard as S
from covey.analytics.models import DealRollup, RollupChange
from covey.core.models import VendorSettings
from covey.core.schedule import run_jobs
from covey.crm.models import Opportunity
from tests.test_analytics_metrics import _deal, quarter  # noqa: F401  (the worked-example quarter)

PERIODS = ("2026Q2", "2026Q1", "2026", "2025Q1")


def _filters(cast) -> list[dict]:
    return [{}, {"partner_id": cast.partner_a.pk}, {"partner_id": cast.partner_b.pk}, {"partner_type": "reseller"},
            {"partner_type": "system_integrator"}, {"region": "apac"}, {"partner_type": "reseller", "partner_id": cast.partner_a.pk}]


def _cube(source: str, period: str, **filters) -> dict:
    f = M.Filters(period=VendorSettings.current().calendar.parse(period), **filters)
    cube = M.build_cube(f, source=source)
    out = asdict(cube)
    out.pop("as_of")
    out["values"] = M.compute_all(cube)
    return out


def _assert_same(cast) -> None:
    for period in PERIODS:
        for filters in _filters(cast):
            assert _cube("rollups", period, **filters) == _cube("direct", period, **filters), (period, filters)
    calendar = VendorSettings.current().calendar
    for partner in (cast.partner_a, cast.partner_b):
        quarters = M.trend_quarters(calendar.parse("2026Q2"), 4)
        with_rollups, direct = S.deal_figures(partner.pk, quarters), S.deal_figures(partner.pk, quarters, source="direct")
        assert with_rollups[2] is not None and direct[2] is None
        assert with_rollups[:2] == direct[:2], partner
        for q in quarters:  # top deals from the links table: the same deals, in the same order
            assert [o.pk for o in S.top_deals(partner, q)] == list(
                Opportunity.objects.filter(partner_links__partner=partner, close_date__range=(q.start, q.end))
                .exclude(stage="Closed Lost").order_by("-amount_minor", "id").values_list("pk", flat=True)[:10])


def test_the_rollups_equal_the_direct_computation_for_every_filter(quarter):  # noqa: F811
    assert rollups.current_state() is None  # not built: pages compute directly
    rollups.rebuild()
    assert rollups.current_state() is not None and not RollupChange.objects.exists()
    cube = M.build_cube(M.Filters(period=VendorSettings.current().calendar.parse("2026Q2")))
    assert cube.as_of is not None  # "auto" now reads the rollups
    assert M.compute_all(cube)["sourced_revenue"] == 6_000_000 and cube.missing_rates == [("GBP", "2026Q2")]
    _assert_same(quarter)


LIVE = {m.key for m in outcomes.METRICS} | {"partner_nps"}


def test_changes_show_after_the_periodic_refresh_and_not_before(quarter):  # noqa: F811
    from covey.crm.models import OpportunityPartner

    a, b = quarter.partner_a, quarter.partner_b
    rollups.rebuild()
    q2 = VendorSettings.current().calendar.parse("2026Q2")
    before = M.compute_all(M.build_cube(M.Filters(period=q2)))

    s2 = quarter.s2
    s2.amount_minor = 2_500_000  # an edit
    s2.save()
    quarter.s3.stage = "Closed Won"  # a lost deal won after all, moved to the next quarter
    quarter.s3.close_date = date(2026, 7, 2)
    quarter.s3.save()
    OpportunityPartner.objects.filter(opportunity=quarter.s1, partner=b).delete()  # a link removed: no longer shared
    OpportunityPartner.objects.create(opportunity=quarter.i1, partner=a, role="referral")  # shared now, and sourced
    quarter.d2.delete()  # a deleted deal
    late = _deal("L1", "Closed Won", 900_000, "EUR", date(2026, 5, 1), date(2026, 6, 20), [(b, "reseller"), (a, "influencer")])
    late.created_at = datetime(2026, 3, 30, 23, tzinfo=UTC)  # its creation moved a quarter back
    late.save()
    assert RollupChange.objects.exists()

    stale = M.compute_all(M.build_cube(M.Filters(period=q2)))
    rolled_up = set(stale) - LIVE  # the outcome and survey figures are read live, not from the rollups
    assert {k: stale[k] for k in rolled_up} == {k: before[k] for k in rolled_up}  # not seen the changes yet
    assert stale != M.compute_all(M.build_cube(M.Filters(period=q2), source="direct"))

    results = run_jobs(datetime.now(UTC), only="analytics.refresh_rollups")
    assert results["analytics.refresh_rollups"] > 0 and not RollupChange.objects.exists()
    fresh = M.compute_all(M.build_cube(M.Filters(period=q2)))
    assert fresh["sourced_revenue"] == 4_000_000 + 2_500_000 + 1_650_000  # S1, S2, I1 now sourced by Alpha
    _assert_same(quarter)


def test_the_first_refresh_builds_and_a_time_zone_change_needs_a_rebuild(quarter, settings):  # noqa: F811
    assert rollups.refresh()["rebuilt"]
    assert DealRollup.objects.exists() and rollups.refresh()["changes"] == 0
    settings.TIME_ZONE = "Europe/Berlin"
    assert rollups.current_state() is None  # months were cut in another zone: read directly until rebuilt
    assert M.build_cube(M.Filters(period=VendorSettings.current().calendar.parse("2026Q2"))).as_of is None


def test_the_pages_say_how_fresh_their_figures_are(quarter, client):  # noqa: F811
    client.force_login(quarter.vendor_admin)
    page = client.get("/analytics/?period=2026Q2")
    assert "computed live" in page.content.decode()
    rollups.rebuild()
    as_of = rollups.current_state().as_of
    stamp = f"as of {as_of.astimezone(UTC).strftime('%H:%M')}"
    assert stamp in client.get("/analytics/?period=2026Q2").content.decode()
    card = client.get(f"/analytics/scorecards/{quarter.partner_a.public_id}/2026Q2/")
    assert card.status_code == 200 and stamp in card.content.decode()
    assert (as_of - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_previous_period_figures_are_kept_until_the_rollups_take_in_a_change(quarter):  # noqa: F811
    from covey.analytics import dashboard as D

    rollups.rebuild()
    q3 = VendorSettings.current().calendar.parse("2026Q3")  # its previous period is Q2, the worked example
    f = M.Filters(period=q3)
    figures = D.build(f, for_vendor=True).figures
    previous, _ = outcomes.previous_values(f, figures)
    assert previous["sourced_revenue"] == 6_000_000
    quarter.s2.amount_minor = 2_500_000
    quarter.s2.save()
    assert outcomes.previous_values(f, figures)[0]["sourced_revenue"] == 6_000_000  # the rollups have not seen it
    run_jobs(datetime.now(UTC), only="analytics.refresh_rollups")
    assert outcomes.previous_values(f, figures)[0]["sourced_revenue"] == 6_500_000  # new "as of": computed again
