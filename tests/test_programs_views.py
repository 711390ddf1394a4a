"""The program builder pages: an admin designs a program (tiers, typed rules), publishes it, cannot
change it once its quarter has begun, drafts the next version, pilots it and rolls it out; partners
are enrolled at tiers with history; a partner user reads only its own tier's guide (page and PDF)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from covey.core.models import AuditEvent
from covey.programs import services
from covey.programs.models import Enrolment, Program, Rule, Tier, VersionStatus

pytestmark = pytest.mark.django_db

SPIFF = {"name": "Winter SPIFF", "currency": "USD", "amount": "250.00", "starts_on": "2026-01-05", "ends_on": "2026-03-31",
         "products": "CCP", "min_value": "5000"}
MARGIN = {"currency": "USD", "bands": [{"from": "0", "to": "50000", "rates": {"silver": "15", "gold": "20"}},
                                       {"from": "50000", "rates": {"silver": "20", "gold": "25"}}]}
BONUS = {"currency": "USD", "rate": "5", "min_value": "10000", "close_within_days": "90"}


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _program(cast, *, publish: bool = True, enrol: bool = True) -> Program:
    """Resale program: Silver and Gold, a margin and a registration bonus; v1 governs this quarter."""
    admin = cast.vendor_admin
    program = services.program_create(name="Resale Program", currency="USD", actor=admin, summary="Resell and earn.")
    v1 = program.versions.get()
    services.tier_save(version=v1, actor=admin, code="silver", name="Silver", rank=1)
    services.tier_save(version=v1, actor=admin, code="gold", name="Gold", rank=2, min_annual_sales_minor=25_000_000,
                       mdf_allowance_minor=500_000, dedicated_manager=True, perks=["Roadmap previews"])
    services.rule_save(version=v1, actor=admin, kind="resale_margin", name="Reseller margin", params=MARGIN)
    services.rule_save(version=v1, actor=admin, kind="registration_bonus", name="Registration bonus", params=BONUS)
    if publish:
        services.version_publish(version=v1, actor=admin)
    if enrol:
        services.enrol(partner=cast.partner_a, program=program, tier_code="gold", actor=cast.partner_manager,
                       starts_on=services.quarter_start_of(timezone.localdate()))
    return program


def _detail(program, version) -> str:
    return f"{url('program_detail', program.public_id)}?version={version.public_id}"


# --- list and create -------------------------------------------------------------------------


def test_the_program_list_starts_empty_and_offers_to_create_one(cast, login):
    html = login(cast.vendor_admin).get(url("program_list")).content.decode()
    assert "No programs yet" in html and url("program_create") in html


def test_the_program_list_searches_by_name(cast, login):
    _program(cast)
    services.program_create(name="Referral Program", currency="EUR", actor=cast.vendor_admin)
    html = login(cast.executive).get(url("program_list"), {"q": "referral"}).content.decode()
    assert "Referral Program" in html and "Resale Program" not in html
    html = login(cast.executive).get(url("program_list"), {"q": "nothing like it"}).content.decode()
    assert "No programs match these filters" in html


def test_an_admin_creates_a_program_with_a_draft_first_version(cast, login):
    response = login(cast.vendor_admin).post(url("program_create"), {"name": "Reseller 2027", "currency": "EUR", "summary": ""})
    program = Program.objects.get(name="Reseller 2027")
    assert response.status_code == 302 and response["Location"] == url("program_detail", program.public_id)
    version = program.versions.get()
    assert version.status == VersionStatus.DRAFT and version.number == 1


def test_a_duplicate_program_name_is_shown_on_the_form(cast, login):
    _program(cast)
    response = login(cast.vendor_admin).post(url("program_create"), {"name": "Resale Program", "currency": "USD"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Program.objects.count() == 1


def test_staff_who_do_not_design_programs_read_but_cannot_create(cast, login):
    program = _program(cast)
    client = login(cast.sales_rep)
    assert client.get(url("program_detail", program.public_id)).status_code == 200
    assert client.get(url("program_create")).status_code == 403


# --- detail, tiers and typed rules -----------------------------------------------------------


def test_the_program_page_shows_versions_tiers_benefits_and_rules_in_plain_language(cast, login):
    program = _program(cast)
    html = login(cast.executive).get(url("program_detail", program.public_id)).content.decode()
    assert "Version 1" in html and "Published" in html and "Locked" in html
    assert "Roadmap previews" in html and "Dedicated manager" in html and "250,000.00 USD" in html
    assert ("Register a deal over 10,000.00 USD and close it within 90 days of approval: 5% on top of your margin." in html)
    assert "under 50,000.00 USD: 20% margin" in html
    assert "Alpha Integrations" in html  # enrolled at Gold


def test_a_tier_is_added_with_requirements_and_perks(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    response = login(cast.vendor_admin).post(url("tier_create", version.public_id), {
        "code": "platinum", "name": "Platinum", "rank": "3", "min_annual_sales": "1,000,000.00", "min_certified_people": "4",
        "mdf_allowance": "20000", "lead_sharing": "on", "perks": "Co-branded content\nRoadmap previews\n",
    })
    assert response.status_code == 302
    tier = version.tiers.get(code="platinum")
    assert tier.min_annual_sales_minor == 100_000_000 and tier.mdf_allowance_minor == 2_000_000
    assert tier.perks == ["Co-branded content", "Roadmap previews"] and tier.lead_sharing


def test_a_tier_with_a_rank_already_taken_is_refused_next_to_the_rank(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    response = login(cast.vendor_admin).post(url("tier_create", version.public_id), {"code": "bronze", "name": "Bronze", "rank": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["rank"] == ["Another tier already has rank 1."]
    assert not version.tiers.filter(code="bronze").exists()


def test_the_rule_kind_chooser_lists_every_kind(cast, login):
    program = _program(cast, publish=False, enrol=False)
    html = login(cast.vendor_admin).get(url("rule_create", program.versions.get().public_id)).content.decode()
    for label in ("Reseller margin", "Referral commission", "SPIFF", "Quarterly accelerator", "Clawback", "Cap"):
        assert label in html


def test_the_spiff_form_has_the_spiff_parameters_as_typed_fields(cast, login):
    program = _program(cast, publish=False, enrol=False)
    form = login(cast.vendor_admin).get(url("rule_create", program.versions.get().public_id), {"kind": "spiff"}).context["form"]
    assert {"currency", "amount", "starts_on", "ends_on", "products", "min_value", "roles", "requires"} <= set(form.fields)
    assert form["starts_on"].field.widget.input_type == "date"
    assert form.initial["currency"] == "USD"


def test_a_spiff_that_ends_before_it_starts_is_refused_next_to_the_end_date_and_nothing_is_saved(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    target = url("rule_create", version.public_id) + "?kind=spiff"
    client = login(cast.vendor_admin)
    response = client.post(target, SPIFF | {"ends_on": "2025-12-31"})
    assert response.status_code == 200
    assert response.context["form"].errors["ends_on"] == ["The SPIFF cannot end before it starts."]
    assert not version.rules.filter(kind="spiff").exists()

    response = client.post(target, SPIFF)
    assert response.status_code == 302
    rule = version.rules.get(kind="spiff")
    assert rule.params == {"currency": "USD", "amount": "250.00", "starts_on": "2026-01-05", "ends_on": "2026-03-31",
                           "products": ["CCP"], "min_value": "5000"}


def test_overlapping_margin_bands_are_refused_on_the_band_that_overlaps(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    response = login(cast.vendor_admin).post(url("rule_create", version.public_id) + "?kind=resale_margin", {
        "name": "Margin", "currency": "USD", "bands.0.from": "0", "bands.0.to": "50000", "bands.0.rates.gold": "20",
        "bands.1.from": "40000", "bands.1.rates.gold": "25", "bands.1.rates.silver": "-3",
    })
    errors = response.context["form"].errors
    assert "overlaps band 1" in errors["bands.1.from"][0]
    assert errors["bands.1.rates.silver"] == ["A percent must be between 0 and 100."]
    assert version.rules.count() == 2


def test_editing_a_rule_shows_its_stored_parameters_and_saves_the_change(cast, login):
    program = _program(cast, publish=False, enrol=False)
    rule = program.versions.get().rules.get(kind="resale_margin")
    client = login(cast.vendor_admin)
    form = client.get(url("rule_edit", rule.public_id)).context["form"]
    assert form.initial["bands.1.rates.gold"] == "25" and form.initial["bands.0.to"] == "50000"
    data = {k: v for k, v in form.initial.items() if v not in (None, "")} | {"bands.1.rates.gold": "27.5"}
    assert client.post(url("rule_edit", rule.public_id), data).status_code == 302
    rule.refresh_from_db()
    assert rule.params["bands"][1]["rates"]["gold"] == "27.5"


def test_a_rule_and_a_tier_are_removed_after_confirmation(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    rule, tier = version.rules.get(kind="registration_bonus"), version.tiers.get(code="silver")
    client = login(cast.vendor_admin)
    assert "Remove Registration bonus" in client.get(url("rule_delete", rule.public_id)).content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()
    client.post(url("rule_delete", rule.public_id))
    client.post(url("tier_delete", tier.public_id))
    assert not Rule.objects.filter(pk=rule.pk).exists() and not Tier.objects.filter(pk=tier.pk).exists()


# --- publishing and locking ------------------------------------------------------------------


def test_publishing_asks_first_then_locks_the_version_for_its_quarter(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    client = login(cast.vendor_admin)
    html = client.get(url("version_publish", version.public_id)).content.decode()
    assert "Publish version 1 of Resale Program?" in html and "locked at once" in html
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT

    response = client.post(url("version_publish", version.public_id), follow=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.is_locked()
    html = response.content.decode()
    assert 'id="locked-note"' in html and url("tier_create", version.public_id) not in html


def test_publishing_a_version_with_an_incomplete_rule_is_refused_with_the_reason(cast, login):
    program = _program(cast, publish=False, enrol=False)
    version = program.versions.get()
    Rule.objects.create(version=version, kind="cap", name="Broken cap", params={"scope": "deal"})
    response = login(cast.vendor_admin).post(url("version_publish", version.public_id), follow=True)
    assert any("rule Broken cap" in m or "required" in m for m in messages_of(response))
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


@pytest.mark.parametrize("route, data", [
    ("tier_create", {"code": "bronze", "name": "Bronze", "rank": "5"}),
    ("version_edit", {"credit_model": "split", "payout_frequency": "monthly", "payout_delay_days": "10"}),
    ("rule_create", SPIFF),
])
def test_a_post_to_change_a_locked_version_is_refused_recorded_and_changes_nothing(cast, login, route, data):
    program = _program(cast)
    version = program.versions.get()
    target = url(route, version.public_id) + ("?kind=spiff" if route == "rule_create" else "")
    before = (version.tiers.count(), version.rules.count(), version.credit_model)
    response = login(cast.vendor_admin).post(target, data, follow=True)
    assert any(m.startswith("This version is locked") for m in messages_of(response))
    version.refresh_from_db()
    assert (version.tiers.count(), version.rules.count(), version.credit_model) == before
    refused = AuditEvent.objects.filter(action="refused", object_id=version.public_id)
    assert refused.count() == 1 and refused.get().actor == cast.vendor_admin


def test_a_rule_of_a_locked_version_cannot_be_edited_or_removed(cast, login):
    program = _program(cast)
    rule = program.versions.get().rules.get(kind="resale_margin")
    client = login(cast.vendor_admin)
    response = client.get(url("rule_edit", rule.public_id), follow=True)
    assert any("is locked" in m for m in messages_of(response))
    client.post(url("rule_delete", rule.public_id))
    assert Rule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(action="refused", object_id=rule.version.public_id).count() == 1


def test_a_new_draft_copies_the_current_version_and_starts_next_quarter(cast, login):
    program = _program(cast)
    v1 = program.versions.get()
    response = login(cast.vendor_admin).post(url("version_create", program.public_id), {"based_on": v1.public_id})
    v2 = program.versions.get(number=2)
    assert response["Location"] == _detail(program, v2)
    assert v2.status == VersionStatus.DRAFT and v2.effective_from == services.next_quarter_start(timezone.localdate())
    assert set(v2.tiers.values_list("code", flat=True)) == {"silver", "gold"} and v2.rules.count() == 2


def test_version_settings_are_edited_and_a_bad_share_is_named(cast, login):
    program = _program(cast)
    v2 = services.version_draft(program=program, actor=cast.vendor_admin)
    client = login(cast.partner_manager)
    base = {"effective_from": v2.effective_from.isoformat(), "credit_model": "role_based", "payout_frequency": "monthly",
            "payout_delay_days": "45", "role_sourced": "70", "role_reseller": "30"}
    response = client.post(url("version_edit", v2.public_id), base | {"role_reseller": "130"})
    assert response.context["form"].errors["role_reseller"] == [services.SHARE_INVALID]
    assert client.post(url("version_edit", v2.public_id), base).status_code == 302
    v2.refresh_from_db()
    assert v2.credit_model == "role_based" and v2.role_shares == {"sourced": "70", "reseller": "30"}
    assert v2.payout_delay_days == 45 and v2.payout_frequency == "monthly"


# --- pilots and enrolments -------------------------------------------------------------------


def test_a_pilot_is_given_partners_published_and_rolled_out_to_everyone(cast, login):
    program = _program(cast)
    v2 = services.version_draft(program=program, actor=cast.vendor_admin)
    client = login(cast.vendor_admin)
    assert client.post(url("version_pilot", v2.public_id), {"partners": [cast.partner_a.public_id]}).status_code == 302
    v2.refresh_from_db()
    assert v2.pilot and list(v2.pilot_partners.all()) == [cast.partner_a]
    client.post(url("version_publish", v2.public_id))
    assert "Roll out pilot version 2" in client.get(url("version_roll_out", v2.public_id)).content.decode()
    response = client.post(url("version_roll_out", v2.public_id))
    v3 = program.versions.get(number=3)
    assert response["Location"] == _detail(program, v3)
    assert not v3.pilot and v3.status == VersionStatus.PUBLISHED and v3.rules.count() == 2


def test_a_partner_manager_enrols_its_partner_and_the_history_shows_on_program_and_partner_pages(cast, login):
    program = _program(cast, enrol=False)
    client = login(cast.partner_manager)
    start = services.quarter_start_of(timezone.localdate())
    client.post(url("enrolment_create", program.public_id), {"partner": cast.partner_a.public_id, "tier_code": "silver",
                                                             "starts_on": start.isoformat(), "reason": "New partner"})
    later = date.fromordinal(start.toordinal() + 10)
    client.post(url("enrolment_create", program.public_id), {"partner": cast.partner_a.public_id, "tier_code": "gold",
                                                             "starts_on": later.isoformat(), "reason": "Tier review"})
    rows = list(Enrolment.objects.filter(partner=cast.partner_a).order_by("starts_on").values_list("tier_code", "ends_on"))
    assert rows == [("silver", date.fromordinal(later.toordinal() - 1)), ("gold", None)]
    html = client.get(url("program_detail", program.public_id)).content.decode()
    assert "Tier review" in html and "New partner" in html
    partner_page = login(cast.a_rep).get(url("partner_detail", cast.partner_a.public_id)).content.decode()
    assert "Resale Program" in partner_page and "gold" in partner_page


def test_a_partner_manager_cannot_enrol_someone_elses_partner(cast, login):
    program = _program(cast, enrol=False)
    response = login(cast.other_manager).post(url("enrolment_create", program.public_id), {
        "partner": cast.partner_a.public_id, "tier_code": "gold", "starts_on": "2026-10-01"})
    assert response.status_code == 200 and "partner" in response.context["form"].errors
    assert not Enrolment.objects.exists()


def test_an_unknown_tier_is_refused_on_the_enrolment_form(cast, login):
    program = _program(cast, enrol=False)
    response = login(cast.vendor_admin).post(url("enrolment_create", program.public_id), {
        "partner": cast.partner_b.public_id, "tier_code": "diamond", "starts_on": "2026-10-01"})
    assert "tier_code" in response.context["form"].errors and not Enrolment.objects.exists()


# --- the guide -------------------------------------------------------------------------------


def test_a_partner_user_is_taken_to_its_own_tiers_guide(cast, login):
    program = _program(cast)
    client = login(cast.a_rep)
    response = client.get(url("program_detail", program.public_id))
    assert response["Location"] == url("program_guide", program.public_id)
    html = client.get(url("program_guide", program.public_id)).content.decode()
    assert "Your tier: <strong>Gold</strong>" in html
    assert "Register a deal over 10,000.00 USD and close it within 90 days of approval: 5% on top of your margin." in html
    assert "under 50,000.00 USD: 20% margin" in html and "15% margin" not in html  # Silver's rate is not its own
    assert "Annual sales of at least 250,000.00 USD" in html and "Roadmap previews" in html


def test_a_partner_cannot_preview_a_draft_through_the_guide(cast, login):
    program = _program(cast)
    v2 = services.version_draft(program=program, actor=cast.vendor_admin)
    services.rule_save(version=v2, actor=cast.vendor_admin, kind="clawback", name="Secret clawback", params={"within_days": "30"})
    html = login(cast.a_rep).get(url("program_guide", program.public_id), {"version": v2.public_id}).content.decode()
    assert "Secret clawback" not in html and "version 1" in html


def test_vendor_staff_preview_a_draft_guide_by_tier(cast, login):
    program = _program(cast)
    v2 = services.version_draft(program=program, actor=cast.vendor_admin)
    html = login(cast.vendor_admin).get(url("program_guide", program.public_id), {"version": v2.public_id, "tier": "silver"}).content.decode()
    assert "Draft preview" in html and "under 50,000.00 USD: 15% margin" in html and "25% margin" not in html


def test_the_guide_downloads_as_a_pdf(cast, login):
    program = _program(cast)
    response = login(cast.a_admin).get(url("program_guide_pdf", program.public_id))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert "guide-" in response["Content-Disposition"] and "-gold.pdf" in response["Content-Disposition"]


def test_the_other_partner_cannot_reach_the_program_or_its_guide(cast, login):
    program = _program(cast)
    client = login(cast.b_rep)
    for name in ("program_detail", "program_guide", "program_guide_pdf"):
        assert client.get(url(name, program.public_id)).status_code == 404
    assert "Resale Program" not in client.get(url("program_list")).content.decode()


# --- the demo scenario -----------------------------------------------------------------------


def test_the_demo_scenario_is_made_once_through_the_services_and_removed_on_reset(cast):
    from covey.demo.programs_scenario import PROGRAM_NAME, remove_programs, seed_programs
    from covey.partners.models import Partner, PartnerTypeTag

    for name in ("Cedar Resale", "Dune Resale", "Elm Resale"):
        PartnerTypeTag.objects.create(partner=Partner.objects.create(name=name, lifecycle="active"), code="reseller")
    kwargs = {"admin_email": cast.vendor_admin.email, "manager_email": cast.partner_manager.email,
              "partner_admin_email": cast.a_admin.email, "other_rep_email": cast.b_rep.email}
    assert seed_programs(**kwargs) == 5
    assert seed_programs(**kwargs) == 0
    program = Program.objects.get(name=PROGRAM_NAME)
    v1, v2, v3 = program.versions.order_by("number")
    assert v1.is_locked() and services.governing_general(program, timezone.localdate()) == v1
    assert set(v1.tiers.values_list("code", flat=True)) == {"silver", "gold", "platinum"}
    assert set(v1.rules.values_list("kind", flat=True)) == {"resale_margin", "registration_bonus", "spiff", "accelerator"}
    assert v2.status == VersionStatus.DRAFT and v2.rules.filter(kind="clawback").exists()
    assert v3.pilot and v3.status == VersionStatus.PUBLISHED and v3.pilot_partners.count() == 3
    history = list(Enrolment.objects.filter(partner=cast.partner_a).order_by("starts_on").values_list("tier_code", flat=True))
    assert history == ["silver", "gold"]
    assert remove_programs() == 1 and not Program.objects.exists() and not Enrolment.objects.exists()


def test_saving_a_pilot_with_no_partners_makes_it_a_general_version_again(cast, login):
    program = _program(cast)
    v2 = services.version_draft(program=program, actor=cast.vendor_admin, pilot=True)
    services.pilot_partners_set(version=v2, partners=[cast.partner_a], actor=cast.vendor_admin)
    response = login(cast.vendor_admin).post(url("version_pilot", v2.public_id), {}, follow=True)
    assert any("general version again" in m for m in messages_of(response))
    v2.refresh_from_db()
    assert not v2.pilot and not v2.pilot_partners.exists()


def test_a_partner_enrolled_before_anything_is_published_is_told_so(cast, login):
    program = _program(cast, publish=False)
    client = login(cast.a_rep)
    assert "No published version yet" in client.get(url("program_guide", program.public_id)).content.decode()
    assert client.get(url("program_guide_pdf", program.public_id)).status_code == 404


def test_a_published_pilot_is_compared_with_the_rest_of_the_program(world, login):
    from datetime import timedelta

    from covey.crm.models import Opportunity
    from covey.payouts.models import LedgerEntry
    from covey.programs.selectors import pilot_comparison

    program = _program(world)
    services.enrol(partner=world.partner_b, program=program, tier_code="silver", actor=world.vendor_admin,
                   starts_on=services.quarter_start_of(timezone.localdate()))
    v2 = services.version_draft(program=program, actor=world.vendor_admin, pilot=True)
    services.pilot_partners_set(version=v2, partners=[world.partner_a], actor=world.vendor_admin)
    services.version_publish(version=v2, actor=world.vendor_admin)
    v2.refresh_from_db()
    assert v2.pilot and v2.status == "published"
    assert pilot_comparison(v2, today=timezone.localdate()) is None  # not in effect yet
    inside = v2.effective_from + timedelta(days=10)
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won", close_date=v2.effective_from + timedelta(days=3))
    Opportunity.objects.filter(pk=world.opportunity_b.pk).update(stage="Closed Won", close_date=v2.effective_from - timedelta(days=3))
    from covey.core.models import VendorSettings

    key = VendorSettings.current().calendar.quarter_of(inside).key
    LedgerEntry.objects.create(program=program, partner=world.partner_a, period_key=key, source="deal", key="k1",
                               amount_minor=720_000, currency="USD", explanation="30% of 24,000.00 USD",
                               payable_on=inside)
    pilot, rest = pilot_comparison(v2, today=inside)
    assert (pilot["label"], pilot["partners"], pilot["deals"]) == ("Pilot partners", 1, 1)
    assert [str(m) for m in pilot["revenue"]] == ["24,000.00 USD"] and [str(m) for m in pilot["incentives"]] == ["7,200.00 USD"]
    assert (rest["partners"], rest["deals"], rest["revenue"], rest["incentives"]) == (1, 0, [], [])  # B's deal closed before
    from django.template.loader import render_to_string

    html = render_to_string("programs/_pilot_comparison.html", {"version": v2, "pilot_comparison": [pilot, rest]})
    assert "Pilot partners" in html and "7,200.00 USD" in html and "Everyone else enrolled" in html


def test_a_program_is_renamed_and_its_currency_is_fixed_once_a_version_is_published(cast, login):
    program = _program(cast)
    client = login(cast.partner_manager)
    response = client.post(url("program_edit", program.public_id),
                           {"name": "Reseller Program 2027", "currency": "USD", "summary": "Resell and earn more."})
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.name, program.summary) == ("Reseller Program 2027", "Resell and earn more.")
    response = client.post(url("program_edit", program.public_id), {"name": "X", "currency": "EUR", "summary": ""})
    assert response.status_code == 200 and "cannot change once a version has been published" in response.content.decode()
    program.refresh_from_db()
    assert (program.name, program.currency) == ("Reseller Program 2027", "USD")  # nothing half-saved
    assert login(cast.a_admin).get(url("program_edit", program.public_id)).status_code == 403

