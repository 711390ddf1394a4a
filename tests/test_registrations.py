"""Deal registration workflows (services) and the periodic jobs, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from covey.core.models import AuditEvent, Notification
from covey.core.money import Money
from covey.core.schedule import run_jobs
from covey.crm.models import Account, Opportunity, OpportunityPartner
from covey.registrations import jobs, rules, services
from covey.registrations.models import ConflictResolution, Registration, RegistrationProgram, Status

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sub(name="Globex GmbH", domain="https://www.globex.de/about", minor=2_500_000, currency="EUR", **over):
    values = dict(
        company_name=name, domain=domain, value=Money(minor, currency), expected_close=date(2026, 9, 30),
        contact_name="Hank", contact_email="hank@globex.de", description="Rollout", evidence="Joint discovery call",
    )
    values.update(over)
    return services.Submission(**values)


def submit(world, user=None, partner=None, now=MONDAY, **kw):
    user = user or world.a_rep
    partner = partner or world.partner_a
    return services.submit(partner=partner, actor=user, submission=sub(**kw), now=now)


# --- submit ----------------------------------------------------------------------------------


def test_submit_holds_the_claim_sets_the_sla_audits_and_tells_the_owner(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reg = submit(world, products=[world.product])
    assert reg.status == Status.SUBMITTED and reg.holds_claim
    assert reg.claim_domain == "globex.de" and reg.normalised_name == "globex"
    assert reg.review_due_at == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # two business days
    assert list(reg.products.all()) == [world.product]
    event = AuditEvent.objects.get(object_id=reg.public_id)
    assert event.action == "create" and event.changes["status"] == [None, "submitted"]
    note = Notification.objects.get(kind="registration.submitted")
    assert note.recipient == world.partner_manager and reg.public_id in note.url
    assert mail.outbox and mail.outbox[0].to == [world.partner_manager.email]


def test_sla_counts_business_days_over_a_weekend(world):
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    reg = submit(world, now=friday)
    assert reg.review_due_at == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_second_registration_of_the_same_domain_is_a_conflict_pointing_at_the_holder(world):
    first = submit(world)
    second = submit(world, user=world.b_rep, partner=world.partner_b, name="GLOBEX", domain="globex.de/contact")
    assert second.status == Status.CONFLICT and not second.holds_claim
    assert second.conflict_with == first and second.reason == rules.ALREADY_REGISTERED
    assert Registration.objects.filter(claim_domain="globex.de", holds_claim=True).get() == first


@pytest.mark.parametrize("minor, currency, reason", [
    (999_999, "USD", "The estimated value is below the program minimum of 10,000.00 USD."),
])
def test_a_rule_breaking_submission_is_rejected_at_once_and_takes_no_claim(world, minor, currency, reason):
    reg = submit(world, minor=minor, currency=currency)
    assert reg.status == Status.REJECTED and reg.reason == reason and not reg.holds_claim
    assert reg.decided_by is None and reg.decided_at == MONDAY
    assert submit(world, user=world.b_rep, partner=world.partner_b).holds_claim  # the account is still free


def test_existing_customer_and_open_vendor_opportunity_come_from_the_crm(world):
    Account.objects.create(name="Initech", domain="www.initech.com", status="customer")
    assert submit(world, domain="initech.com").reason == rules.EXISTING_CUSTOMER
    Account.objects.create(name="Hooli", domain="hooli.com")
    hooli = Account.objects.get(domain="hooli.com")
    Opportunity.objects.create(name="Direct", account=hooli, close_date=date(2026, 6, 1))
    assert submit(world, domain="www.hooli.com").reason == rules.OPEN_VENDOR_OPPORTUNITY


def test_a_currency_without_a_minimum_is_accepted_and_flagged(world):
    reg = submit(world, minor=100, currency="JPY")
    assert reg.status == Status.SUBMITTED and reg.no_minimum_configured


@pytest.mark.parametrize("over, field", [
    ({"domain": ""}, "domain"),
    ({"domain": "localhost"}, "domain"),
    ({"domain": "not a domain"}, "domain"),
    ({"name": "   "}, "company_name"),
    ({"name": "x" * 201}, "company_name"),
    ({"minor": 0}, "value"),
    ({"minor": -5}, "value"),
    ({"minor": 10**14}, "value"),
    ({"expected_close": date(2026, 3, 1)}, "expected_close"),
    ({"expected_close": date(2040, 1, 1)}, "expected_close"),
    ({"description": "a\x00b"}, "description"),
    ({"evidence": "e" * 5001}, "evidence"),
    ({"contact_email": "not-mail"}, "contact_email"),
    ({"contact_phone": "call me maybe"}, "contact_phone"),
    ({"deal_type": "renewal"}, "deal_type"),
])
def test_bad_input_names_the_field_and_stores_nothing(world, over, field):
    with pytest.raises(ValidationError) as exc:
        submit(world, **over)
    assert field in exc.value.message_dict
    assert not Registration.objects.exists() and not AuditEvent.objects.filter(object_type="registrations.registration").exists()


# --- review ----------------------------------------------------------------------------------


def test_review_approve_converts_into_account_opportunity_lines_and_sourced_link(world):
    reg = submit(world, products=[world.product], minor=2_500_001, currency="USD")
    services.start_review(registration=reg, actor=world.partner_manager)
    assert reg.status == Status.UNDER_REVIEW
    services.approve(registration=reg, actor=world.partner_manager, now=MONDAY)
    reg.refresh_from_db()
    assert reg.status == Status.CONVERTED and reg.holds_claim
    assert reg.protection_expires_at == MONDAY + timedelta(days=90)
    opp = reg.opportunity
    assert opp.account.domain == "globex.de" and opp.lead_source == "Partner registration"
    assert opp.owner == world.partner_manager and opp.amount_minor == 2_500_001 and opp.currency == "USD"
    assert [(line.product, line.unit_price_minor) for line in opp.lines.all()] == [(world.product, 2_500_001)]
    link = OpportunityPartner.objects.get(opportunity=opp)
    assert link.partner == world.partner_a and link.role == "sourced" and link.is_primary
    assert Notification.objects.filter(recipient=world.a_rep, kind="registration.approved").exists()
    transitions = AuditEvent.objects.filter(object_id=reg.public_id, action="transition").count()
    assert transitions == 3  # review, approve, convert


def test_conversion_reuses_the_crm_account_with_that_domain(world):
    existing = Account.objects.create(name="Globex (CRM)", domain="globex.de")
    reg = submit(world)
    services.approve(registration=reg, actor=world.vendor_admin)
    reg.refresh_from_db()
    assert reg.opportunity.account == existing and reg.account == existing


def test_approval_without_conversion_when_the_program_says_so(world):
    RegistrationProgram.objects.update_or_create(pk=1, defaults={"convert_on_approval": False})
    RegistrationProgram.forget()
    reg = submit(world)
    services.approve(registration=reg, actor=world.vendor_admin)
    assert reg.status == Status.APPROVED and reg.opportunity is None
    services.convert(registration=reg, actor=world.vendor_admin)
    assert reg.status == Status.CONVERTED and reg.opportunity is not None


def test_reject_needs_a_reason_releases_the_claim_and_tells_the_partner(world):
    reg = submit(world)
    with pytest.raises(ValidationError):
        services.reject(registration=reg, actor=world.partner_manager, reason="  ")
    services.reject(registration=reg, actor=world.partner_manager, reason="Customer is in a tender we lead")
    reg.refresh_from_db()
    assert reg.status == Status.REJECTED and not reg.holds_claim and reg.decided_by == world.partner_manager
    assert Notification.objects.filter(recipient=world.a_rep, kind="registration.rejected").exists()
    assert submit(world, user=world.b_rep, partner=world.partner_b).holds_claim
    with pytest.raises(ValidationError):
        services.approve(registration=reg, actor=world.partner_manager)


# --- extension -------------------------------------------------------------------------------


def _approved(world, now=MONDAY, **kw):
    reg = submit(world, now=now, **kw)
    services.approve(registration=reg, actor=world.partner_manager, now=now)
    reg.refresh_from_db()
    return reg


def test_one_extension_request_which_a_manager_grants(world):
    reg = _approved(world)
    services.request_extension(registration=reg, actor=world.a_rep, reason="Budget moved to Q3", now=MONDAY)
    with pytest.raises(ValidationError, match="already requested"):
        services.request_extension(registration=reg, actor=world.a_rep, reason="Again", now=MONDAY)
    assert Notification.objects.filter(recipient=world.partner_manager, kind="registration.extension_requested").exists()
    services.decide_extension(registration=reg, actor=world.partner_manager, grant=True, now=MONDAY)
    assert reg.protection_expires_at == MONDAY + timedelta(days=120) and reg.extension_granted is True
    with pytest.raises(ValidationError):
        services.decide_extension(registration=reg, actor=world.partner_manager, grant=False)


def test_a_refused_extension_keeps_the_date_and_no_request_after_expiry(world):
    reg = _approved(world)
    services.request_extension(registration=reg, actor=world.a_rep, reason="Need time", now=MONDAY)
    services.decide_extension(registration=reg, actor=world.partner_manager, grant=False, now=MONDAY)
    assert reg.protection_expires_at == MONDAY + timedelta(days=90) and reg.extension_granted is False
    late = _approved(world, now=MONDAY, domain="initech.com")
    Registration.objects.filter(pk=late.pk).update(extension_requested_at=None)
    with pytest.raises(ValidationError, match="only be requested while"):
        services.request_extension(registration=late, actor=world.a_rep, reason="x", now=MONDAY + timedelta(days=91))


# --- conflicts -------------------------------------------------------------------------------


def _contest(world):
    holder = submit(world)
    loser = submit(world, user=world.b_rep, partner=world.partner_b, name="Globex AG", domain="globex.de")
    return holder, loser


def test_award_first_rejects_the_others_as_already_registered(world):
    holder, loser = _contest(world)
    resolution = services.resolve_conflict(claim_domain="globex.de", outcome="award_first", actor=world.partner_manager, note="First in")
    loser.refresh_from_db()
    assert loser.status == Status.REJECTED and loser.reason == rules.ALREADY_REGISTERED and loser.resolution == resolution
    assert resolution.holder == holder and Registration.objects.get(pk=holder.pk).holds_claim
    note = Notification.objects.get(recipient=world.b_rep, kind="registration.conflict_resolved")
    assert "Alpha" not in note.body and holder.public_id not in note.body
    with pytest.raises(ValidationError):  # resolved conflicts leave the queue
        services.resolve_conflict(claim_domain="globex.de", outcome="award_first", actor=world.partner_manager)


def test_award_first_when_the_holder_is_gone_gives_the_claim_to_the_earliest_waiting(world):
    holder, loser = _contest(world)
    third = submit(world, user=world.b_admin, partner=world.partner_b, name="Globex", domain="globex.de",
                   now=MONDAY + timedelta(hours=1))
    services.reject(registration=holder, actor=world.partner_manager, reason="Duplicate of a direct deal")
    services.resolve_conflict(claim_domain="globex.de", outcome="award_first", actor=world.other_manager, now=MONDAY)
    loser.refresh_from_db()
    third.refresh_from_db()
    assert loser.holds_claim and loser.status == Status.SUBMITTED and loser.conflict_with is None
    assert third.status == Status.REJECTED


def test_reject_all_needs_a_note_and_rejects_the_waiting_holder_too(world):
    holder, loser = _contest(world)
    with pytest.raises(ValidationError):
        services.resolve_conflict(claim_domain="globex.de", outcome="reject", actor=world.vendor_admin)
    services.resolve_conflict(claim_domain="globex.de", outcome="reject", actor=world.vendor_admin, note="Vendor-led account")
    assert set(Registration.objects.values_list("status", flat=True)) == {Status.REJECTED}
    assert not Registration.objects.filter(holds_claim=True).exists()


def test_split_credit_adds_the_other_partner_to_the_holders_opportunity_as_influencer(world):
    holder, loser = _contest(world)
    with pytest.raises(ValidationError, match="approved"):
        services.resolve_conflict(claim_domain="globex.de", outcome="split_credit", actor=world.vendor_admin)
    services.approve(registration=holder, actor=world.vendor_admin)
    holder.refresh_from_db()
    resolution = services.resolve_conflict(claim_domain="globex.de", outcome="split_credit", actor=world.vendor_admin,
                                           note="Both did discovery")
    link = OpportunityPartner.objects.get(opportunity=holder.opportunity, partner=world.partner_b)
    assert link.role == "influencer" and not link.is_primary
    loser.refresh_from_db()
    assert loser.status == Status.CONVERTED and loser.opportunity == holder.opportunity and loser.resolution == resolution
    assert ConflictResolution.objects.get().outcome == "split_credit"
    assert AuditEvent.objects.filter(object_type="registrations.conflictresolution").exists()


def test_possible_duplicates_are_found_by_name_under_other_domains(world):
    a = submit(world, name="Globex Corporation", domain="globex.com")
    b = submit(world, user=world.b_rep, partner=world.partner_b, name="Globex GmbH", domain="globex.de")
    submit(world, name="Initech", domain="initech.com")
    found = services.possible_duplicates(a)
    assert [(r.pk, s >= 90) for r, s in found] == [(b.pk, True)]


# --- jobs ------------------------------------------------------------------------------------


def test_overdue_reviews_notify_the_owner_once(world):
    reg = submit(world)
    assert jobs.review_overdue(MONDAY + timedelta(days=1)) == 0
    later = MONDAY + timedelta(days=3)
    assert Registration.objects.overdue(later).get() == reg
    assert jobs.review_overdue(later) == 1
    assert jobs.review_overdue(later + timedelta(hours=1)) == 0
    assert Notification.objects.filter(recipient=world.partner_manager, kind="registration.review_overdue").count() == 1


def test_expiry_warning_once_then_expiry_releases_the_claim(world):
    reg = _approved(world)
    ends = reg.protection_expires_at
    assert jobs.expiry_warnings(ends - timedelta(days=15)) == 0
    assert jobs.expiry_warnings(ends - timedelta(days=14)) == 1
    assert jobs.expiry_warnings(ends - timedelta(days=13)) == 0
    assert Notification.objects.filter(recipient=world.a_rep, kind="registration.expiry_warning").count() == 1
    assert jobs.expire(ends - timedelta(seconds=1)) == 0
    assert jobs.expire(ends) == 1
    reg.refresh_from_db()
    assert reg.status == Status.EXPIRED and not reg.holds_claim
    assert jobs.expire(ends + timedelta(days=1)) == 0
    assert Notification.objects.filter(recipient=world.a_rep, kind="registration.expired").count() == 1
    assert AuditEvent.objects.filter(object_id=reg.public_id, action="transition", actor=None).exists()
    assert submit(world, user=world.b_rep, partner=world.partner_b, now=ends).holds_claim


def test_a_granted_extension_is_warned_about_again(world):
    reg = _approved(world)
    jobs.expiry_warnings(reg.protection_expires_at - timedelta(days=10))
    services.request_extension(registration=reg, actor=world.a_rep, reason="More time", now=MONDAY + timedelta(days=80))
    services.decide_extension(registration=reg, actor=world.partner_manager, grant=True)
    assert jobs.expire(MONDAY + timedelta(days=95)) == 0
    assert jobs.expiry_warnings(MONDAY + timedelta(days=110)) == 1


def test_outcomes_follow_the_opportunity(world):
    won = _approved(world)
    lost = submit(world, domain="initech.com", name="Initech")
    services.approve(registration=lost, actor=world.partner_manager, now=MONDAY)
    lost.refresh_from_db()
    Opportunity.objects.filter(pk=won.opportunity_id).update(stage="Closed Won")
    Opportunity.objects.filter(pk=lost.opportunity_id).update(stage="Closed Lost")
    assert jobs.sync_outcomes(MONDAY) == 2
    assert jobs.sync_outcomes(MONDAY) == 0
    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.status, won.holds_claim) == (Status.WON, True)
    assert (lost.status, lost.holds_claim) == (Status.LOST, False)


def test_the_jobs_are_registered_with_the_scheduler(world):
    results = run_jobs(MONDAY)
    for name in ("registrations.review_overdue", "registrations.expiry_warnings", "registrations.expire",
                 "registrations.sync_outcomes"):
        assert results[name] == 0


# --- program ---------------------------------------------------------------------------------


def test_program_update_is_validated_audited_and_seen_at_once(world):
    program = RegistrationProgram.current()
    assert program.minimum_for("EUR") == Money(1_000_000, "EUR")
    changes = services.update_program(actor=world.vendor_admin, minimums={"CHF": 500_000}, protection_days=60)
    assert set(changes) == {"minimums", "protection_days"}
    assert RegistrationProgram.current().protection_days == 60
    assert AuditEvent.objects.filter(object_type="registrations.registrationprogram").exists()
    with pytest.raises(ValidationError):
        services.update_program(actor=world.vendor_admin, minimums={"XXX": 5})
    with pytest.raises(ValidationError):
        services.update_program(actor=world.vendor_admin, protection_days=0)
    assert submit(world, minor=2_500_000, currency="EUR").no_minimum_configured
