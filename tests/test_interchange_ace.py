"""AWS Partner Central (ACE): every export passes botocore's validator for partnercentral-selling,
stages and industries map to the model's enums, export → GetOpportunity → import gives the deal back,
and values outside the model's enums are reported rather than fatal."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covey.core.money import currency_exponent
from covey.crm.models import Opportunity, Stage
from covey.interchange import ace, services
from covey.interchange.models import AceLink, EngagementInvitation

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def deal(**overrides) -> ace.Deal:
    values = dict(public_id="opp_7Hq2kLm9", name="Data platform migration", stage="Qualification", type="new",
                  amount_minor=2_400_000, currency="USD", close_date=date(2026, 12, 15), account_name="Customer A Ltd",
                  website="customer-a.example", industry="Software", country="US", partner_roles=["reseller"])
    values.update(overrides)
    return ace.Deal(**values)


# --- the mapping tables (pure) -------------------------------------------------------------------

STAGES = [
    ("Prospecting", "Prospect"), ("Qualification", "Qualified"), ("Needs Analysis", "Technical Validation"),
    ("Value Proposition", "Technical Validation"), ("Id. Decision Makers", "Business Validation"),
    ("Perception Analysis", "Business Validation"), ("Proposal/Price Quote", "Business Validation"),
    ("Negotiation/Review", "Committed"), ("Closed Won", "Launched"), ("Closed Lost", "Closed Lost"),
]


@pytest.mark.pure
@pytest.mark.parametrize(("covey_stage", "ace_stage"), STAGES)
def test_each_covey_stage_maps_to_an_ace_stage_of_the_model(covey_stage, ace_stage):
    operation, body = ace.export_request(deal(stage=covey_stage, lost_reason="Price"))
    assert body["LifeCycle"]["Stage"] == ace_stage
    assert ace_stage in ace.enum_values("Stage")


@pytest.mark.pure
def test_every_covey_stage_is_mapped_and_every_ace_stage_has_a_way_back():
    assert set(ace.STAGE_TO_ACE) == {s.value for s in Stage}
    assert set(ace.STAGE_FROM_ACE) == set(ace.enum_values("Stage"))


@pytest.mark.pure
@pytest.mark.parametrize(("text", "industry", "other"), [
    ("Financial Services", "Financial Services", ""),
    ("healthcare", "Healthcare", ""),
    ("Software", "Software and Internet", ""),
    ("Banking", "Financial Services", ""),
    ("Telecom", "Telecommunications", ""),
    ("Quantum widgets", "Other", "Quantum widgets"),
    ("", "", ""),
])
def test_industries_map_to_the_model_enum_or_other_with_the_text(text, industry, other):
    assert ace.industry_to_ace(text) == (industry, other)
    if industry:
        assert industry in ace.enum_values("Industry")
    assert ace.industry_from_ace(industry or None, other or None) == (other or industry)


@pytest.mark.pure
def test_a_new_deal_is_a_create_with_an_idempotent_client_token_and_partner_referral_origin():
    operation, body = ace.export_request(deal())
    assert operation == "CreateOpportunity"
    assert body["ClientToken"] == ace.export_request(deal())[1]["ClientToken"] == "covey-opp_7Hq2kLm9"
    assert body["Origin"] == "Partner Referral"
    assert body["OpportunityType"] == "Net New Business"
    assert body["Customer"]["Account"]["Address"] == {"CountryCode": "US"}
    assert body["Project"]["DeliveryModels"] == ["Resell", "SaaS or PaaS"]


@pytest.mark.pure
def test_yearly_24000_dollars_is_2000_a_month_as_a_decimal_string():
    spend = ace.export_request(deal())[1]["Project"]["ExpectedCustomerSpend"]
    assert spend == [{"Amount": "2000.00", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}]
    assert ace.yearly_from_monthly("2000.00", "USD") == 2_400_000


@pytest.mark.pure
def test_monthly_spend_rounds_once_half_up_and_respects_zero_decimal_currencies():
    assert ace.monthly_spend(1_000, "USD") == "0.83"  # 10.00 / 12 = 0.8333…
    assert ace.monthly_spend(1_002, "USD") == "0.84"  # 0.835 → half up
    assert ace.monthly_spend(120_000, "JPY") == "10000"
    assert ace.monthly_spend(12_345, "BHD") == "1.03"  # 12.345 / 12 = 1.0287…, ACE keeps two decimals


@pytest.mark.pure
def test_a_deal_with_an_ace_id_is_an_update_carrying_identifier_and_last_modified():
    operation, body = ace.export_request(deal(ace_identifier="O1234567", ace_last_modified="2026-01-05T10:00:00Z"))
    assert operation == "UpdateOpportunity"
    assert body["Identifier"] == "O1234567" and body["LastModifiedDate"] == "2026-01-05T10:00:00Z"
    assert "ClientToken" not in body and "Origin" not in body


@pytest.mark.pure
def test_botocore_refuses_a_broken_payload_and_the_error_lists_every_field():
    with pytest.raises(ace.AcePayloadInvalid) as caught:
        ace.validate("CreateOpportunity", {"Catalog": "AWS", "LifeCycle": {"Stage": "Negotiating"},
                                           "Customer": {"Account": {"CompanyName": 42}}})
    problems = " ".join(caught.value.problems)
    assert "ClientToken" in problems  # required, from botocore's ParamValidator
    assert "CompanyName" in problems  # wrong type, from botocore
    assert "LifeCycle.Stage" in problems and "Negotiating" in problems  # enum, checked against the same model


@pytest.mark.pure
def test_a_deal_in_a_currency_ace_cannot_take_is_refused_with_a_message():
    with pytest.raises(ace.AceError, match="XXX"):
        ace.export_request(deal(currency="XXX"))


@pytest.mark.pure
def test_unknown_enum_values_in_a_real_response_are_reported_by_field():
    found = ace.unknown_values("GetOpportunity", fixture("ace_get_opportunity_unknown_need.json"))
    assert found == {"PrimaryNeedsFromAws[]": ["Do Not Need Support from AWS Sales Rep"]}


@pytest.mark.pure
@pytest.mark.parametrize("amount", ["1e999", "-5", "12.345", "9" * 40, ""])
def test_an_unusable_spend_amount_is_reported_not_imported(amount):
    response = fixture("ace_get_opportunity_launched.json")
    response["Project"]["ExpectedCustomerSpend"][0]["Amount"] = amount
    read = ace.read_opportunity(response)
    assert read.amount_minor is None
    if amount:
        assert read.unknown["Project.ExpectedCustomerSpend[].Amount"] == [amount]


@pytest.mark.pure
def test_reading_a_response_with_an_unknown_stage_keeps_going():
    response = fixture("ace_get_opportunity_launched.json")
    response["LifeCycle"]["Stage"] = "Negotiating"
    response["BrandNewField"] = {"x": 1}
    read = ace.read_opportunity(response)
    assert read.stage is None and read.aws_stage == "Negotiating"
    assert read.unknown["LifeCycle.Stage"] == ["Negotiating"]
    assert read.unknown["BrandNewField"] == ["(unknown field)"]


# --- every export validates (property) ----------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@pytest.mark.pure
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stage=st.sampled_from([s.value for s in Stage]), type_=st.sampled_from(["new", "expansion", "renewal"]),
    amount=st.integers(min_value=0, max_value=10**15), currency=st.sampled_from(["USD", "EUR", "JPY", "GBP", "BHD"]),
    close=st.dates(min_value=date(2000, 1, 1), max_value=date(9999, 12, 31)), name=texts, account=texts,
    description=texts, lost=texts, website=texts, industry=texts, country=st.text(max_size=3), city=texts,
    roles=st.lists(st.sampled_from(["sourced", "referral", "reseller", "distributor", "integrator", "technology",
                                    "influencer"]), max_size=4),
    recurring=st.booleans(), ace_id=st.one_of(st.just(""), st.from_regex(r"O[0-9]{1,19}", fullmatch=True)),
)
def test_every_exported_payload_passes_botocores_validator(stage, type_, amount, currency, close, name, account,
                                                           description, lost, website, industry, country, city,
                                                           roles, recurring, ace_id):
    generated = ace.Deal(public_id="opp_Prop3rty", name=name, stage=stage, type=type_, amount_minor=amount,
                         currency=currency, close_date=close, account_name=account, description=description,
                         lost_reason=lost, website=website, industry=industry, country=country, city=city,
                         partner_roles=roles, recurring_lines=recurring, ace_identifier=ace_id,
                         ace_last_modified="2026-01-05T10:00:00Z" if ace_id else "")
    operation, body = ace.export_request(generated)
    ace.validate(operation, body)  # export_request validated already; say it twice where it matters
    # one rounding of the monthly figure, half a unit of the last place ACE keeps, times twelve
    half_unit = 10 ** (currency_exponent(currency) - min(currency_exponent(currency), 2)) / 2
    error = ace.yearly_from_monthly(body["Project"]["ExpectedCustomerSpend"][0]["Amount"], currency) - amount
    assert abs(error) <= 12 * half_unit


# --- with the database --------------------------------------------------------------------------


def test_exporting_the_worlds_deal_validates_and_names_its_partner_role(world):
    exported = services.ace_export(opportunity=world.opportunity_a)
    ace.validate(exported["operation"], exported["request"])
    assert exported["operation"] == "CreateOpportunity"
    assert exported["request"]["PartnerOpportunityIdentifier"] == world.opportunity_a.public_id
    assert "Resell" in exported["request"]["Project"]["DeliveryModels"]


def _simulate(exported: dict, identifier="O7654321") -> dict:
    return ace.simulate_get_opportunity(exported["operation"], exported["request"], identifier=identifier,
                                        last_modified="2026-02-01T09:30:00Z")


FIELDS = ("name", "stage", "type", "amount_minor", "currency", "close_date", "lost_reason")


@pytest.mark.parametrize("stage", [s.value for s in Stage])
def test_export_then_get_opportunity_then_import_changes_nothing_and_links_the_ace_id(world, stage):
    opp = world.opportunity_a
    Opportunity.objects.filter(pk=opp.pk).update(stage=stage, lost_reason="Price" if stage == "Closed Lost" else "",
                                                 amount_minor=1_000_003)
    opp.refresh_from_db()
    before = {f: getattr(opp, f) for f in FIELDS}
    report = services.ace_import(raw=json.dumps(_simulate(services.ace_export(opportunity=opp))),
                                 actor=world.sales_rep)
    opp.refresh_from_db()
    assert report.unchanged == [opp.public_id] and not report.unknown
    assert {f: getattr(opp, f) for f in FIELDS} == before
    link = AceLink.objects.get(opportunity=opp)
    assert (link.identifier, link.review_status, link.last_modified) == ("O7654321", "Approved", "2026-02-01T09:30:00Z")
    again = services.ace_export(opportunity=opp)
    assert again["operation"] == "UpdateOpportunity" and again["request"]["Identifier"] == "O7654321"


def test_a_response_for_a_deal_covey_has_not_seen_creates_it_with_the_same_fields(world):
    exported = services.ace_export(opportunity=world.opportunity_a)
    response = _simulate(exported, identifier="O999")
    response["PartnerOpportunityIdentifier"] = None
    response["Customer"]["Account"]["CompanyName"] = "Brand New Customer"
    response["Customer"]["Account"]["Industry"] = "Other"
    response["Customer"]["Account"]["OtherIndustry"] = "Quantum widgets"
    report = services.ace_import(raw=json.dumps(response), actor=world.sales_rep)
    created = Opportunity.objects.get(public_id=report.created[0])
    a = world.opportunity_a
    assert (created.name, created.stage, created.amount_minor, created.currency, created.close_date, created.type) == (
        a.name, a.stage, a.amount_minor, a.currency, a.close_date, a.type)
    assert created.account.name == "Brand New Customer" and created.account.industry == "Quantum widgets"
    assert AceLink.objects.get(opportunity=created).identifier == "O999"


def test_the_published_samples_import_with_the_unknown_values_reported(world):
    report = services.ace_import(raw=json.dumps([fixture("ace_get_opportunity_launched.json"),
                                                 fixture("ace_get_opportunity_unknown_need.json")]),
                                 actor=world.vendor_admin)
    assert len(report.created) == 2
    assert report.unknown == {"PrimaryNeedsFromAws[]": ["Do Not Need Support from AWS Sales Rep"]}
    launched = AceLink.objects.get(identifier="O1111111").opportunity
    assert launched.stage == "Closed Won" and launched.amount_minor == 531 * 12 * 100  # 531 USD a month
    assert launched.close_date == date(2029, 5, 5) and launched.account.country == "LT"


def test_an_unknown_stage_leaves_the_stage_alone_and_is_reported(world):
    response = _simulate(services.ace_export(opportunity=world.opportunity_a))
    response["LifeCycle"]["Stage"] = "Negotiating"
    response["Project"]["ExpectedCustomerSpend"][0]["Amount"] = "2500.00"
    report = services.ace_import(raw=json.dumps(response), actor=world.sales_rep)
    world.opportunity_a.refresh_from_db()
    assert world.opportunity_a.stage == "Qualification" and world.opportunity_a.amount_minor == 3_000_000
    assert report.unknown == {"LifeCycle.Stage": ["Negotiating"]} and "Negotiating" in report.warnings[0]


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "not JSON"),
    (b"[]", "no opportunities"),
    (b'{"Id": "not-an-id"}', "ACE opportunity id"),
    (b'[{"Id": "O1", "LifeCycle": {"TargetCloseDate": "2027-01-01"}, "Customer": {"Account": {"CompanyName": "X"}}},'
     b' {"Id": "O2", "Customer": {"Account": {"CompanyName": "Y"}}}]', "TargetCloseDate"),
])
def test_a_bad_document_is_refused_whole_and_writes_nothing(world, raw, message):
    before = (Opportunity.objects.count(), AceLink.objects.count())
    with pytest.raises(services.ImportRefused, match=message):
        services.ace_import(raw=raw, actor=world.sales_rep)
    assert (Opportunity.objects.count(), AceLink.objects.count()) == before


def test_importing_the_same_response_twice_changes_nothing_the_second_time(world):
    raw = json.dumps(fixture("ace_get_opportunity_launched.json"))
    first = services.ace_import(raw=raw, actor=world.vendor_admin)
    second = services.ace_import(raw=raw, actor=world.vendor_admin)
    assert len(first.created) == 1 and second.unchanged == first.created and not second.created


def test_a_pending_invitation_is_recorded_then_accepted_into_a_new_opportunity(world):
    report = services.ace_import(raw=json.dumps(fixture("ace_get_engagement_invitation.json")), actor=world.sales_rep)
    assert report.invitations == ["engi-0000001abc3de: Pending"] and not report.created
    invitation = EngagementInvitation.objects.get(identifier="engi-0000001abc3de")
    answer = services.invitation_decide(invitation=invitation, accept=True, actor=world.sales_rep)
    assert answer == {"operation": "AcceptEngagementInvitation",
                      "request": {"Catalog": "AWS", "Identifier": "engi-0000001abc3de"}}
    invitation.refresh_from_db()
    assert invitation.status == "ACCEPTED" and invitation.decided_by == world.sales_rep
    opp = invitation.opportunity
    assert opp.name == "Some New Project Name" and opp.amount_minor == 12_500 * 12 * 100
    assert opp.close_date == date(2029, 10, 5) and opp.account.name == "CreateAWSCatalogWithOriginAwsReferral"
    with pytest.raises(services.ImportRefused, match="already accepted"):
        services.invitation_decide(invitation=invitation, accept=False, actor=world.sales_rep)


def test_rejecting_an_invitation_records_the_reason_and_creates_nothing(world):
    services.ace_import(raw=json.dumps(fixture("ace_get_engagement_invitation.json")), actor=world.sales_rep)
    invitation = EngagementInvitation.objects.get()
    count = Opportunity.objects.count()
    answer = services.invitation_decide(invitation=invitation, accept=False, actor=world.sales_rep,
                                        reason="Unable to support")
    assert answer["operation"] == "RejectEngagementInvitation"
    assert answer["request"]["RejectionReason"] == "Unable to support"
    invitation.refresh_from_db()
    assert (invitation.status, invitation.rejection_reason) == ("REJECTED", "Unable to support")
    assert Opportunity.objects.count() == count


def test_an_invitation_aws_reports_accepted_becomes_an_opportunity_on_import(world):
    accepted = copy.deepcopy(fixture("ace_get_engagement_invitation.json"))
    accepted["Status"] = "ACCEPTED"
    report = services.ace_import(raw=json.dumps(accepted), actor=world.sales_rep)
    assert len(report.created) == 1 and report.invitations == ["engi-0000001abc3de: Accepted"]


def test_every_seeded_partner_sourced_opportunity_exports_a_valid_payload(db, settings):
    from covey.crm.models import OpportunityPartner
    from covey.demo.generator import SeedSpec, seed_database

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_database(size=SeedSpec("tiny", partners=12, accounts=40, opportunities=160, activities=80), seed=42,
                  today=date(2026, 11, 22))
    sourced = Opportunity.objects.filter(
        pk__in=OpportunityPartner.objects.filter(role__in=["sourced", "referral"]).values("opportunity_id"))
    assert sourced.count() > 10
    for opportunity in sourced.select_related("account"):
        exported = services.ace_export(opportunity=opportunity)
        ace.validate(exported["operation"], exported["request"])


# --- customer contacts, the opportunity team, marketing, lead invitations ---------------------------


@pytest.mark.pure
def test_a_person_becomes_an_ace_contact_only_with_what_fits_the_models_patterns():
    person = ace.Person(name="  Jane  van Doe ", email="Jane.Doe@Customer-A.example", phone="+1 (555) 010-2000",
                        title="Head of IT")
    assert person.contact() == {"FirstName": "Jane van", "LastName": "Doe", "BusinessTitle": "Head of IT",
                                "Email": "jane.doe@customer-a.example", "Phone": "+15550102000"}
    # A local phone number (no country code) and a broken address are left out, not sent invalid.
    assert ace.Person(name="Cher", email="not an address", phone="555 0100").contact() == {"FirstName": "Cher"}
    assert ace.Person(phone="+15550102000").contact() == {}  # nobody to name


@pytest.mark.pure
def test_contacts_team_and_campaign_are_exported_and_validated():
    contacts = [ace.Person(name="Jane Doe", email="jane@customer-a.example"), ace.Person(name="Jane Doe", email="jane@customer-a.example")]
    team = [ace.Person(name=f"Seller {i}", email=f"seller{i}@acmecloud.example", title="Account executive") for i in range(12)]
    operation, body = ace.export_request(deal(contacts=contacts, team=team, campaign_code="MDF-2026-Q4-WEBINAR"))
    assert operation == "CreateOpportunity"
    assert body["Customer"]["Contacts"] == [{"FirstName": "Jane", "LastName": "Doe", "Email": "jane@customer-a.example"}]
    assert len(body["OpportunityTeam"]) == ace.MAX_TEAM and body["OpportunityTeam"][0]["BusinessTitle"] == "Account executive"
    assert body["Marketing"] == {"CampaignName": "MDF-2026-Q4-WEBINAR", "Source": "Marketing Activity"}
    # An update keeps the contacts and the campaign; the model has no team on UpdateOpportunity.
    operation, body = ace.export_request(deal(contacts=contacts, team=team, campaign_code="X1", ace_identifier="O1234567",
                                              ace_last_modified="2026-01-01T00:00:00Z"))
    assert operation == "UpdateOpportunity" and "OpportunityTeam" not in body and body["Customer"]["Contacts"]
    assert "Marketing" not in ace.export_request(deal())[1]


def test_the_worlds_deal_exports_its_registration_contact_deal_team_and_campaign(world):
    from covey.cosell.models import DealTeamMember, Engagement
    from covey.registrations.models import Registration

    opp = world.opportunity_a
    Opportunity.objects.filter(pk=opp.pk).update(campaign_code="MDF-7")
    Registration.objects.create(partner=world.partner_a, company_name="Customer A Ltd", domain="customer-a.example",
                                claim_domain="customer-a.example", normalised_name="customer a", amount_minor=1,
                                currency="USD", expected_close=date(2026, 12, 1), status="approved", opportunity=opp,
                                contact_name="Dana Buyer", contact_email="Dana@Customer-A.example",
                                contact_phone="+44 20 7946 0958")
    engagement = Engagement.objects.create(opportunity=opp, partner=world.partner_a, model="co_sell")
    DealTeamMember.objects.create(engagement=engagement, user=world.partner_manager, side="vendor", role="partner_manager")
    DealTeamMember.objects.create(engagement=engagement, user=world.a_rep, side="partner", role="partner_rep")
    opp.refresh_from_db()
    exported = services.ace_export(opportunity=opp)
    body = exported["request"]
    assert body["Customer"]["Contacts"] == [{"FirstName": "Dana", "LastName": "Buyer", "Email": "dana@customer-a.example",
                                             "Phone": "+442079460958"}]
    team = body["OpportunityTeam"]
    assert [m["Email"] for m in team] == [opp.owner.email, world.partner_manager.email]  # the vendor's side only
    assert team[0]["BusinessTitle"] == "Opportunity owner" and team[1]["BusinessTitle"] == "Partner manager"
    assert body["Marketing"] == {"CampaignName": "MDF-7", "Source": "Marketing Activity"}
    ace.validate(exported["operation"], body)


def test_an_accepted_lead_invitation_becomes_a_prospecting_opportunity_with_how_the_lead_came(world):
    report = services.ace_import(raw=json.dumps(fixture("ace_get_engagement_invitation_lead.json")), actor=world.sales_rep)
    assert report.invitations == ["engi-0000002lead01: Pending"] and not report.created
    invitation = EngagementInvitation.objects.get(identifier="engi-0000002lead01")
    assert invitation.is_lead and invitation.company_name == "Acme Corp"
    answer = services.invitation_decide(invitation=invitation, accept=True, actor=world.sales_rep)
    assert answer["operation"] == "AcceptEngagementInvitation"
    opp = EngagementInvitation.objects.get(pk=invitation.pk).opportunity
    assert opp.account.name == "Acme Corp" and opp.account.country == "US" and opp.account.industry == "Aerospace"
    assert (opp.stage, opp.amount_minor, opp.lead_source) == ("Prospecting", 0, "AWS Partner Central lead")
    assert opp.campaign_code == "SQFONL7I"
    assert "Use case: Database" in opp.description and "Investor Implementation Officer" in opp.description
    assert opp.name == "Acme Corp lead" and opp.owner == world.sales_rep  # who accepted it owns it
