"""The ecosystem map: flow values and gaps on a small hand-made data set, and the drawing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest
from django.utils import timezone

from covey.ecosystem import draw, facts

pytestmark = pytest.mark.django_db


def _deal(name, segment, created, stage, close, amount, links):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    account = Account.objects.create(name=f"{name} customer", segment=segment)
    opp = Opportunity.objects.create(name=name, account=account, stage=stage, amount_minor=amount, currency="USD",
                                     close_date=close, created_at=timezone.make_aware(datetime(*created, 9)))
    for partner, role in links:
        OpportunityPartner.objects.create(opportunity=opp, partner=partner, role=role)
    return opp


@pytest.fixture
def eco(cast):
    from covey.partners.models import Partner, PartnerSegmentTag, PartnerTypeTag

    c = cast
    c.partner_c = Partner.objects.create(name="Gamma Resale EMEA", region="emea", lifecycle="active")
    PartnerTypeTag.objects.create(partner=c.partner_c, code="reseller")
    PartnerSegmentTag.objects.create(partner=c.partner_a, code="enterprise")
    PartnerSegmentTag.objects.create(partner=c.partner_b, code="smb")
    PartnerSegmentTag.objects.create(partner=c.partner_b, code="enterprise")
    _deal("Big win", "enterprise", (2026, 1, 10), "Closed Won", date(2026, 2, 15), 1_000_000,
          [(c.partner_a, "integrator"), (c.partner_b, "referral")])
    _deal("Open resale", "smb", (2026, 2, 1), "Prospecting", date(2026, 6, 30), 500_000, [(c.partner_b, "reseller")])
    _deal("Old plug-in", "", (2025, 12, 1), "Closed Won", date(2026, 3, 1), 200_000, [(c.partner_a, "technology")])
    _deal("Direct", "smb", (2026, 1, 20), "Closed Won", date(2026, 2, 1), 9_900_000, [])
    return c


def _q1():
    from covey.core.models import VendorSettings

    return VendorSettings.current().calendar.parse("2026Q1")


def _v(value):
    return (value.pipeline, value.revenue)


def test_flows_by_type_and_segment_hand_computed(eco):
    f = facts.build(_q1())
    assert {k: _v(v) for k, v in f.flows.items()} == {
        "referrals": (1_000_000, 1_000_000), "resale": (500_000, 0), "integrations": (0, 200_000),
        "services": (1_000_000, 1_000_000)}  # the direct deal is in no flow
    assert {k: _v(v) for k, v in f.by_type.items()} == {
        ("system_integrator", "services"): (1_000_000, 1_000_000), ("system_integrator", "integrations"): (0, 200_000),
        ("reseller", "referrals"): (1_000_000, 1_000_000), ("reseller", "resale"): (500_000, 0)}
    assert {k: _v(v) for k, v in f.by_segment.items()} == {
        ("services", "enterprise"): (1_000_000, 1_000_000), ("referrals", "enterprise"): (1_000_000, 1_000_000),
        ("resale", "smb"): (500_000, 0), ("integrations", ""): (0, 200_000)}


def test_gaps_hand_computed(eco):
    f = facts.build(_q1())
    assert f.partners == {"system_integrator": {"na": (1, 1)}, "reseller": {"na": (1, 1), "emea": (0, 1)}}
    assert sorted(f.region_gaps) == sorted([(r, t) for t in ("reseller", "system_integrator") for r in ("latam", "emea", "apac")])
    assert sorted(f.segment_gaps) == sorted([("mid_market", "reseller"), ("public_sector", "reseller"),
                                             ("smb", "system_integrator"), ("mid_market", "system_integrator"),
                                             ("public_sector", "system_integrator")])
    assert [p.name for p in f.idle] == ["Gamma Resale EMEA"]
    assert [p.name for p in f.no_overlap] == ["Gamma Resale EMEA"]
    empty = facts.build(__import__("covey.core.models", fromlist=["x"]).VendorSettings.current().calendar.parse("2025Q3"))
    assert all(_v(v) == (0, 0) for v in empty.flows.values()) and empty.region_gaps == []


def test_svg_parses_and_png_renders(eco):
    f = facts.build(_q1())
    for measure in ("pipeline", "revenue"):
        text = draw.svg(f, "Acme Cloud", measure)
        root = ET.fromstring(text)
        paths = root.findall("{http://www.w3.org/2000/svg}path")
        assert len(paths) == 3 + 3  # one band per non-zero (type, flow) and (flow, segment), both measures
        assert "Gap: no active partner in" in text
    widest = max(float(p.get("stroke-width")) for p in ET.fromstring(draw.svg(f, "Acme", "pipeline")).iter()
                 if p.get("stroke-width") and p.tag.endswith("path"))
    assert widest == draw.MAX_BAND
    assert draw.png(draw.svg(f, "Acme", "pipeline"))[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_and_downloads(eco, client):
    client.force_login(eco.executive)
    page = client.get("/analytics/ecosystem/?period=2026Q1")
    assert page.status_code == 200 and "Gamma Resale EMEA" in page.content.decode()
    svg = client.get("/analytics/ecosystem/?period=2026Q1&format=svg")
    assert svg["Content-Type"] == "image/svg+xml" and ET.fromstring(svg.content) is not None
    png = client.get("/analytics/ecosystem/?period=2026Q1&measure=revenue&format=png")
    assert png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get("/analytics/ecosystem/?period=nope").status_code == 400
    assert client.get("/analytics/ecosystem/?measure=bananas").status_code == 400
    client.force_login(eco.a_admin)
    assert client.get("/analytics/ecosystem/").status_code == 404
