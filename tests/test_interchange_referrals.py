"""Microsoft Partner Center referrals: export follows the published status/substatus table, deal
values stay exact decimals, imports create or update opportunities and refuse illegal transitions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from covey.crm.models import Opportunity
from covey.interchange import referrals, services
from covey.interchange.models import ReferralLink

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"


def sample() -> dict:
    return json.loads((FIXTURES / "ms_referral.json").read_text(), parse_float=Decimal)


# --- the published table (pure) ---------------------------------------------------------------


@pytest.mark.pure
@pytest.mark.parametrize(("old", "new"), [
    (("New", "Pending"), ("New", "Received")), (("New", "Pending"), ("Active", "Accepted")),
    (("New", "Received"), ("Closed", "Declined")), (("Active", "Accepted"), ("Closed", "Won")),
    (("Active", "Accepted"), ("Active", "Accepted")), (("Closed", "Lost"), ("Closed", "Lost")),
])
def test_published_transitions_are_allowed(old, new):
    referrals.check_transition(old, new)


@pytest.mark.pure
@pytest.mark.parametrize(("old", "new", "message"), [
    (("Active", "Accepted"), ("New", "Pending"), "An? Active referral cannot become New"),
    (("Closed", "Won"), ("Active", "Accepted"), "cannot become Active"),
    (("Closed", "Won"), ("Closed", "Lost"), "stays Won"),
    (None, ("Active", "Won"), "substatus must be one of Accepted"),
    (None, ("Open", "Pending"), "must be one of New, Active, Closed"),
])
def test_illegal_transitions_are_refused_with_a_message(old, new, message):
    with pytest.raises(referrals.ReferralError, match=message):
        referrals.check_transition(old, new)


@pytest.mark.pure
def test_deal_values_are_written_as_exact_json_numbers():
    text = referrals.dumps({"dealValue": Decimal("24000.10"), "n": 1, "s": "x"}, indent=None)
    assert text == '{"dealValue": 24000.10, "n": 1, "s": "x"}'
    assert json.loads(text, parse_float=Decimal)["dealValue"] == Decimal("24000.10")


@pytest.mark.pure
def test_a_float_deal_value_is_refused():
    doc = {"status": "New", "substatus": "Pending", "details": {"dealValue": 10.5, "currency": "USD"}}
    with pytest.raises(referrals.ReferralError, match="Decimal"):
        referrals.read_referral(doc)


@pytest.mark.pure
@pytest.mark.parametrize("value", ["-1", "1e30", "0.001"])
def test_an_impossible_deal_value_is_refused(value):
    doc = {"status": "New", "substatus": "Pending", "details": {"dealValue": Decimal(value), "currency": "USD"}}
    with pytest.raises(referrals.ReferralError, match="dealValue"):
        referrals.read_referral(doc)


@pytest.mark.pure
@pytest.mark.parametrize(("employees", "size"), [(None, None), (5, "1to9employees"), (50, "10to50employees"),
                                                  (300, "251to1000employees"), (50_000, "Morethan20000employees")])
def test_company_sizes_follow_the_published_buckets(employees, size):
    assert referrals.size_for(employees) == size


# --- export -----------------------------------------------------------------------------------


def test_an_open_deal_exports_as_an_active_accepted_referral_without_claiming_consent(world):
    body = services.referral_export(opportunity=world.opportunity_a)
    assert (body["status"], body["substatus"]) == ("Active", "Accepted")
    assert body["externalReferenceId"] == world.opportunity_a.public_id
    assert body["details"]["dealValue"] == Decimal("24000.00") and body["details"]["currency"] == "USD"
    assert body["details"]["closingDateTime"] == "2026-12-15T00:00:00Z"
    assert body["consent"] == {"consentToToShareInfoWithOthers": False, "consentToContact": False}
    assert body["customerProfile"]["name"] == world.account_a.name


@pytest.mark.parametrize(("stage", "status"), [("Closed Won", ("Closed", "Won")), ("Closed Lost", ("Closed", "Lost"))])
def test_closed_deals_export_as_closed_referrals(world, stage, status):
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage=stage, lost_reason="Budget cut")
    world.opportunity_a.refresh_from_db()
    body = services.referral_export(opportunity=world.opportunity_a)
    assert (body["status"], body["substatus"]) == status
    assert body["statusReason"] == (None if stage == "Closed Won" else "Budget cut")


def test_export_then_import_changes_nothing(world):
    opp = world.opportunity_a
    before = (opp.stage, opp.amount_minor, opp.currency, opp.close_date)
    raw = referrals.dumps(services.referral_export(opportunity=opp))
    report = services.referrals_import(raw=raw, actor=world.sales_rep)
    opp.refresh_from_db()
    assert report.unchanged == [opp.public_id]
    assert (opp.stage, opp.amount_minor, opp.currency, opp.close_date) == before


# --- import -----------------------------------------------------------------------------------


def test_the_published_referral_creates_an_opportunity_with_its_consent(world):
    report = services.referrals_import(raw=json.dumps(sample(), default=str), actor=world.vendor_admin)
    opp = Opportunity.objects.get(public_id=report.created[0])
    assert opp.account.name == "Contoso Customer Inc" and opp.account.country == "US"
    assert opp.amount_minor == 5_000_000 and opp.stage == "Prospecting"
    assert opp.close_date == date(2018, 11, 6) and "expiry" in report.warnings[0]  # the sample has no closing date
    link = ReferralLink.objects.get(opportunity=opp)
    assert (link.referral_id, link.status, link.substatus) == ("61c65491-2f2c-461a-84b4-3654499bc1d9", "New", "Pending")
    assert link.consent_to_share and link.consent_to_contact


def test_a_won_referral_closes_the_deal_won_with_the_exact_value(world):
    services.referrals_import(raw=json.dumps(sample(), default=str), actor=world.vendor_admin)
    won = sample()
    won.update(status="Closed", substatus="Won")
    won["details"]["dealValue"] = Decimal("51234.56")
    report = services.referrals_import(raw=referrals.dumps(won), actor=world.vendor_admin)
    opp = Opportunity.objects.get(public_id=report.updated[0])
    assert opp.stage == "Closed Won" and opp.amount_minor == 5_123_456


def test_reopening_a_closed_referral_is_refused_and_nothing_changes(world):
    closed = sample()
    closed.update(status="Closed", substatus="Lost", statusReason="Went with a competitor")
    services.referrals_import(raw=referrals.dumps(closed), actor=world.vendor_admin)
    opp = ReferralLink.objects.get().opportunity
    assert (opp.stage, opp.lost_reason) == ("Closed Lost", "Went with a competitor")
    reopened = sample()
    reopened.update(status="Active", substatus="Accepted")
    with pytest.raises(services.ImportRefused, match="A Closed referral cannot become Active"):
        services.referrals_import(raw=referrals.dumps(reopened), actor=world.vendor_admin)
    link = ReferralLink.objects.get()
    assert (link.status, link.substatus) == ("Closed", "Lost")


def test_a_referral_for_a_won_covey_deal_cannot_set_it_back_to_new(world):
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won")
    doc = {"externalReferenceId": world.opportunity_a.public_id, "status": "New", "substatus": "Pending"}
    with pytest.raises(services.ImportRefused, match="cannot become New"):
        services.referrals_import(raw=json.dumps(doc), actor=world.sales_rep)
    assert not ReferralLink.objects.exists()


def test_a_file_with_one_bad_referral_writes_nothing(world):
    good = sample()
    bad = {"status": "Closed", "substatus": "Accepted"}
    count = Opportunity.objects.count()
    with pytest.raises(services.ImportRefused, match="substatus"):
        services.referrals_import(raw=referrals.dumps([good, bad]), actor=world.sales_rep)
    assert Opportunity.objects.count() == count and not ReferralLink.objects.exists()
