"""``covey seed`` / ``covey demo``: deterministic, idempotent, believable generated data."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth.password_validation import validate_password
from django.db.models import Count, F, Q, Sum
from typer.testing import CliRunner

from covey.core.models import AuditEvent, User, VendorSettings
from covey.core.vocab import Region
from covey.crm.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    Product,
    Stage,
)
from covey.demo.generator import DEMO_PASSWORD, SeedRefused, SeedSpec, seed_database
from covey.partners.models import Lifecycle, Membership, Partner, PartnerType, PartnerTypeTag

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)
TINY = SeedSpec("tiny", partners=12, accounts=40, opportunities=160, activities=80)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # logging in 9 times with PBKDF2 is slow


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER


def _snapshot() -> dict:
    return {
        "users": list(User.objects.order_by("id").values_list("public_id", "email", "full_name", "staff_role")),
        "partners": list(Partner.objects.order_by("id").values_list("public_id", "name", "domain", "lifecycle")),
        "accounts": list(Account.objects.order_by("id").values_list("public_id", "name", "domain", "status")),
        "opportunities": list(Opportunity.objects.order_by("id").values_list(
            "public_id", "name", "stage", "amount_minor", "close_date", "created_at")),
        "links": list(OpportunityPartner.objects.order_by("id").values_list("public_id", "role", "is_primary")),
        "activities": list(Activity.objects.order_by("id").values_list("public_id", "subject", "occurred_at")),
        "amount": Opportunity.objects.aggregate(total=Sum("amount_minor"))["total"],
    }


def _wipe_generated() -> None:
    from covey.demo.generator import existing_seed, wipe

    wipe(existing_seed())


# --- determinism and idempotence ---------------------------------------------------------------


def test_the_same_seed_gives_identical_data_public_ids_and_amounts_included(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)
    first = _snapshot()
    _wipe_generated()
    assert not Opportunity.objects.exists()  # a fresh database again

    seed_database(size=TINY, seed=42, today=TODAY)

    assert _snapshot() == first
    assert first["amount"] > 0


def test_a_different_seed_gives_different_data(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)
    first = _snapshot()
    _wipe_generated()

    seed_database(size=TINY, seed=7, today=TODAY)
    second = _snapshot()

    assert {o[0] for o in second["opportunities"]}.isdisjoint({o[0] for o in first["opportunities"]})
    assert second["amount"] != first["amount"]


def test_generating_in_a_second_process_gives_the_same_rows_as_in_one(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY, parallel=False)
    alone = _snapshot()
    _wipe_generated()

    seed_database(size=TINY, seed=42, today=TODAY, parallel=True)

    assert _snapshot() == alone


def test_a_reset_on_the_fast_path_keeps_peoples_records_and_the_schema(fast_passwords):
    from django.db import connection

    def schema():
        with connection.cursor() as cursor:
            return {m: sorted(connection.introspection.get_constraints(cursor, m._meta.db_table))
                    for m in (Account, Opportunity, OpportunityPartner, Activity)}

    before = schema()
    seed_database(size=TINY, seed=42, today=TODAY, parallel=True)
    own_account = Account.objects.create(name="Own Customer", domain="own-customer.example")
    own_deal = Opportunity.objects.create(name="Own deal", account=own_account, close_date=TODAY)
    own_note = Activity.objects.create(kind="note", subject="Own note", opportunity=own_deal, account=own_account)

    seed_database(size=TINY, seed=7, today=TODAY, reset=True, parallel=True)

    assert Activity.objects.filter(pk=own_note.pk, opportunity=own_deal).exists()
    assert Opportunity.objects.count() == TINY.opportunities + 1
    assert schema() == before


def test_seeding_again_with_the_same_seed_and_size_changes_nothing(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)
    before = _snapshot()

    again = seed_database(size=TINY, seed=42, today=TODAY)

    assert again.status == "skipped"
    assert _snapshot() == before
    assert AuditEvent.objects.filter(object_type="covey.seed").count() == 1


def test_another_seed_or_size_is_refused_without_reset(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)

    with pytest.raises(SeedRefused, match="--reset"):
        seed_database(size=TINY, seed=7, today=TODAY)
    with pytest.raises(SeedRefused, match="--reset"):
        seed_database(size="large", seed=42, today=TODAY)


def test_reset_replaces_the_generated_data_and_keeps_what_people_added(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)
    old_ids = {o[0] for o in _snapshot()["opportunities"]}
    own_partner = Partner.objects.create(name="Our Own Partner", domain="own.example", lifecycle="active")
    note_on_generated_deal = Activity.objects.create(
        kind="note", subject="Added by a person", opportunity=Opportunity.objects.first(),
    )

    result = seed_database(size=TINY, seed=7, today=TODAY, reset=True)

    assert result.status == "seeded"
    new_ids = set(Opportunity.objects.values_list("public_id", flat=True))
    assert new_ids and new_ids.isdisjoint(old_ids)
    assert Opportunity.objects.count() == TINY.opportunities
    assert Partner.objects.filter(pk=own_partner.pk).exists()
    assert not Activity.objects.filter(pk=note_on_generated_deal.pk).exists()  # it belonged to a deleted deal
    assert AuditEvent.objects.filter(object_type="covey.seed").count() == 1


def test_reset_stops_with_a_message_when_peoples_records_protect_generated_ones(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)
    own_account = Account.objects.create(name="Own Customer", domain="own-customer.example")
    own_deal = Opportunity.objects.create(name="Own deal", account=own_account, close_date=TODAY)
    OpportunityPartner.objects.create(opportunity=own_deal, partner=Partner.objects.first(), role="reseller",
                                      is_primary=True)
    before = _snapshot()

    with pytest.raises(SeedRefused, match="refer to generated"):
        seed_database(size=TINY, seed=7, today=TODAY, reset=True)

    assert _snapshot() == before  # nothing was deleted


def test_seeding_refuses_a_database_that_already_holds_other_data(cast):
    with pytest.raises(SeedRefused, match="2 partners"):
        seed_database(size=TINY, seed=42, today=TODAY)
    assert Partner.objects.count() == 2


# --- content -----------------------------------------------------------------------------------


def test_every_partner_type_region_lifecycle_and_stage_appears_even_in_a_tiny_set(fast_passwords):
    seed_database(size=TINY, seed=42, today=TODAY)

    assert set(PartnerTypeTag.objects.values_list("code", flat=True)) == set(PartnerType.values)
    assert set(Partner.objects.values_list("region", flat=True)) == set(Region.values)
    assert set(Account.objects.values_list("region", flat=True)) == set(Region.values)
    assert set(Partner.objects.values_list("lifecycle", flat=True)) == set(Lifecycle.values)
    assert set(Opportunity.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Opportunity.objects.values_list("type", flat=True)) == {"new", "expansion", "renewal"}


def test_the_small_demo_set_tells_a_believable_story(fast_passwords):
    result = seed_database(size="small", seed=42, today=TODAY)

    vendor = VendorSettings.current()
    assert (vendor.company_name, vendor.base_currency, vendor.fiscal_year_start_month) == ("Larkspur Cloud", "USD", 2)
    assert result.rows["partners"] == 40 and result.rows["accounts"] == 400 and result.rows["opportunities"] == 1500
    assert 6 <= Product.objects.count() <= 10
    assert Product.objects.values("family").distinct().count() >= 3

    amounts = list(Opportunity.objects.values_list("amount_minor", flat=True))
    assert all(type(a) is int and a > 0 for a in amounts)
    # close dates run from about six quarters back to two ahead; closed deals are in the past
    calendar = vendor.calendar
    quarters = {calendar.quarter_of(d).key for d in Opportunity.objects.values_list("close_date", flat=True)}
    assert len(quarters) == 9
    assert not Opportunity.objects.filter(stage__in=["Closed Won", "Closed Lost"], close_date__gt=TODAY).exists()
    assert not Opportunity.objects.filter(stage="Closed Lost", lost_reason="").exists()
    assert not Opportunity.objects.filter(created_at__gt=F("updated_at")).exists()

    # 35–45% of deals involve a partner; each such deal has exactly one primary; some have two partners
    linked = Opportunity.objects.filter(partner_links__isnull=False).distinct().count()
    assert 0.35 <= linked / 1500 <= 0.45
    primaries = Counter(OpportunityPartner.objects.filter(is_primary=True).values_list("opportunity_id", flat=True))
    assert len(primaries) == linked and set(primaries.values()) == {1}
    assert OpportunityPartner.objects.values("opportunity").annotate(n=Count("id")).filter(n=2).exists()

    # a few partners bring most deals
    per_partner = sorted(OpportunityPartner.objects.values("partner").annotate(n=Count("id"))
                         .values_list("n", flat=True), reverse=True)
    top_fifth = per_partner[: max(1, 40 // 5)]
    assert sum(top_fifth) / sum(per_partner) >= 0.6

    # product lines add up to the deal's amount where a deal has lines
    with_lines = Opportunity.objects.annotate(
        lines_total=Sum(F("lines__quantity") * F("lines__unit_price_minor") - F("lines__discount_minor"))
    ).filter(lines_total__isnull=False)
    assert with_lines.count() > 1000
    assert not with_lines.exclude(amount_minor=F("lines_total")).exists()
    assert OpportunityLine.objects.exists()

    # activities of every kind, some joint, tied to deals and partners
    assert set(Activity.objects.values_list("kind", flat=True)) == {"call", "meeting", "demo", "email", "note"}
    assert Activity.objects.filter(is_joint=True, partner__isnull=False, opportunity__isnull=False).exists()
    assert AuditEvent.objects.filter(source="seed", object_type="crm.opportunity").exists()

    # partner owners are partner managers; memberships cover every partner role
    assert not Partner.objects.exclude(owner__isnull=True).exclude(owner__staff_role="partner_manager").exists()
    assert set(Membership.objects.values_list("role", flat=True)) == {"admin", "rep", "read_only"}
    # accounts look like companies
    assert not Account.objects.filter(Q(domain="") | Q(industry="") | Q(city="")).exists()


# --- log-ins ---------------------------------------------------------------------------------


def test_every_printed_demo_login_exists_with_its_role_and_can_log_in(client, fast_passwords):
    result = seed_database(size=TINY, seed=42, today=TODAY)
    by_role = {login.role: login for login in result.logins}

    expected_staff = {"Vendor admin": "admin", "Partner manager": "partner_manager", "Sales rep": "sales_rep",
                      "Finance": "finance", "Executive": "executive"}
    for role, staff_role in expected_staff.items():
        assert User.objects.get(email=by_role[role].email).staff_role == staff_role
    expected_members = {"Partner admin": "admin", "Partner rep": "rep", "Partner read-only": "read_only",
                        "Partner rep (another partner)": "rep"}
    for role, member_role in expected_members.items():
        membership = Membership.objects.get(user__email=by_role[role].email)
        assert (membership.role, membership.partner.name) == (member_role, by_role[role].partner)
    partner_a = {by_role[r].partner for r in ("Partner admin", "Partner rep", "Partner read-only")}
    assert len(partner_a) == 1 and by_role["Partner rep (another partner)"].partner not in partner_a

    for login in result.logins:
        assert client.login(email=login.email, password=DEMO_PASSWORD), login
        client.logout()


def test_the_demo_password_passes_the_configured_password_validators():
    validate_password(DEMO_PASSWORD, User(email="admin@larkspurcloud.example", full_name="Maya Okafor"))


def test_the_demo_partner_sees_deals_in_every_stage(fast_passwords):
    result = seed_database(size=TINY, seed=42, today=TODAY)
    rep = User.objects.get(email=next(x.email for x in result.logins if x.role == "Partner rep"))

    stages = set(Opportunity.objects.visible_to(rep).values_list("stage", flat=True))

    assert stages == set(Stage.values)


# --- the commands ------------------------------------------------------------------------------


def _cli():
    from covey.cli import app

    return app


def test_covey_demo_without_serving_seeds_once_and_prints_a_login_for_every_role(client):
    runner = CliRunner()

    first = runner.invoke(_cli(), ["demo", "--no-serve"])

    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    logins = AuditEvent.objects.get(object_type="covey.seed").changes["logins"]
    assert len(logins) == 9
    for _role, email, _partner in logins:
        assert email in first.output
    # the printed log-in really works (with the real password hasher)
    assert client.login(email=logins[0][1], password=DEMO_PASSWORD)

    second = runner.invoke(_cli(), ["demo", "--no-serve"])

    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    # the generated 1,500, the one the co-selling scenario's approved registration converted into, the
    # five won deals of the payouts scenario and the two carrying the MDF scenario's webinar campaign code
    assert Opportunity.objects.count() == 1508
    from covey.mdf.models import FundRequest
    from covey.payouts.models import Dispute, LedgerEntry, PayoutBatch, Statement, StatementLine

    assert sorted(FundRequest.objects.values_list("status", flat=True)) == ["approved", "reimbursed"]
    assert StatementLine.objects.filter(entry__source="mdf", entry__amount_minor=500_000).exists()
    from covey.registrations.models import Registration

    statuses = sorted(Registration.objects.values_list("status", flat=True))
    assert statuses == ["conflict", "converted", "rejected", "submitted", "submitted"]
    holder = Registration.objects.get(status="converted")
    assert holder.opportunity.plans.get().tasks.filter(owner_side="partner").exists()
    assert Registration.objects.get(status="conflict").conflict_with == holder

    demo_partner = next(partner for role, _email, partner in logins if role == "Partner admin")
    mine = Statement.objects.get(partner__name=demo_partner, disputes__isnull=False)
    assert mine.status == "disputed" and Dispute.objects.get().statement == mine
    assert PayoutBatch.objects.get().statements.get().status == "approved"
    assert LedgerEntry.objects.exists()

    third = runner.invoke(_cli(), ["seed", "--size", "small", "--reset"])  # the scenarios do not block a reset
    assert third.exit_code == 0, third.output
    assert Opportunity.objects.count() == 1500 and not Registration.objects.exists()
    assert not LedgerEntry.objects.exists() and not Statement.objects.exists() and not PayoutBatch.objects.exists()
    assert not FundRequest.objects.exists() and not LedgerEntry.objects.filter(source="mdf").exists()


def test_covey_seed_prints_timings_and_ends_with_a_json_line(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    runner = CliRunner()

    result = runner.invoke(_cli(), ["seed", "--size", "small", "--today", "2026-11-22"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["size"] == "small" and summary["seconds"] > 0
    assert summary["rows"]["opportunities"] == 1500 and summary["rows"]["partners"] == 40
    assert "Seconds" in result.output  # the timings table

    again = runner.invoke(_cli(), ["seed", "--size", "small", "--today", "2026-11-22"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert json.loads(again.output.strip().splitlines()[-1])["status"] == "skipped"

    other = runner.invoke(_cli(), ["seed", "--size", "small", "--seed", "7"])
    assert other.exit_code == 1 and "--reset" in other.output


def test_covey_seed_explains_an_unknown_size_or_a_bad_date():
    runner = CliRunner()

    size = runner.invoke(_cli(), ["seed", "--size", "huge"])
    day = runner.invoke(_cli(), ["seed", "--today", "22/11/2026"])

    assert size.exit_code == 2 and "small, medium, large" in size.output
    assert day.exit_code == 2 and "YYYY-MM-DD" in day.output
    assert not Opportunity.objects.exists()
