"""Deal registration workflows: submit, review, approve, reject, convert, extend, resolve conflicts.

Every step validates, writes inside one transaction and leaves an audit record (action
"transition" for workflow steps). Views, the API and the periodic jobs all come through here.
Errors are ``ValidationError`` with messages for the person who caused them.

Submission is the hot path (partners and integrations post many at once), so it does little: the
program comes from a per-process cache, the CRM facts are one query, the registration one insert in a
savepoint, the products one insert, the audit record one insert and the notification one insert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from covey.core import audit
from covey.core.bulk import insert_together
from covey.core.ids import assign_public_id
from covey.core.models import StaffRole, User
from covey.core.money import Money, is_currency, split
from covey.core.normalise import normalise_company, normalise_domain
from covey.core.notify import compose as compose_notifications
from covey.core.notify import notify
from covey.core.notify import written as notifications_written
from covey.core.periods import add_business_days
from covey.core.sql import prepared_cursor
from covey.core.validators import clean_text
from covey.crm.models import CLOSED_STAGES, Account, AccountStatus, Opportunity, Product
from covey.partners.models import Partner
from covey.registrations import rules
from covey.registrations.models import (
    AWAITING_REVIEW,
    LIVE,
    PROTECTED,
    ConflictOutcome,
    ConflictResolution,
    DealType,
    Registration,
    RegistrationProgram,
    Status,
)
from covey.webhooks.services import emit as emit_webhook

# --- limits and messages ---------------------------------------------------------------------

MAX_VALUE_MINOR = 10**13  # 100 billion in major units: above any real deal, so a typo is caught
MAX_CLOSE_YEARS = 5
LIMITS = {
    "company_name": 200, "domain": 300, "contact_name": 200, "contact_email": 254, "contact_phone": 40,
    "description": 5000, "evidence": 5000,
}
REASON_MAX = 1000
NOTE_MAX = 2000
LEAD_SOURCE = "Partner registration"

DOMAIN_INVALID = "Enter the company's web domain, such as example.com or https://www.example.com."
COMPANY_REQUIRED = "Enter the company's name."
VALUE_NOT_POSITIVE = "The estimated value must be more than zero."
VALUE_TOO_LARGE = "The estimated value is larger than any deal Covey accepts; check the amount."
CLOSE_IN_PAST = "The expected close date cannot be in the past."
CLOSE_TOO_FAR = f"The expected close date must be within {MAX_CLOSE_YEARS} years."
PHONE_INVALID = "Enter a phone number using digits, spaces and + ( ) - . only."
NUL_TEXT = "Text cannot contain NUL characters."
REASON_REQUIRED = "Give a reason; the partner reads it."
NOT_AWAITING_REVIEW = "Only a submitted or under-review registration can be {action}."
EXTENSION_ONCE = "An extension was already requested for this registration."
EXTENSION_NOT_RUNNING = "An extension can only be requested while the protection period is running."
NO_PENDING_EXTENSION = "There is no extension request waiting for a decision."
NOT_CONVERTIBLE = "Only an approved registration can be converted to an opportunity."
NO_CONFLICTS = "There are no unresolved conflicting registrations for this account."
SPLIT_NEEDS_HOLDER = "Credit can only be split with a registration that holds the account and has been approved."
PHONE_RE = re.compile(r"^[0-9+()\-. /]*$")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- submission ------------------------------------------------------------------------------


@dataclass
class Submission:
    """What a partner types; validated by ``clean_submission`` before anything is stored."""

    company_name: str
    domain: str
    value: Money
    expected_close: date
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    products: list[Product] = field(default_factory=list)
    description: str = ""
    evidence: str = ""
    deal_type: str = DealType.NEW


def clean_submission(sub: Submission, *, today: date | None = None) -> tuple[str, str]:
    """Check the input; return (claim domain, normalised name) or raise field errors."""
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        text = getattr(sub, name) or ""
        if "\x00" in text:
            errors[name] = NUL_TEXT
        elif len(text) > limit:
            errors[name] = f"At most {limit} characters (this has {len(text)})."
    if "company_name" not in errors and not sub.company_name.strip():
        errors["company_name"] = COMPANY_REQUIRED
    claim = normalise_domain(sub.domain) if "domain" not in errors else ""
    if "domain" not in errors and not claim:
        errors["domain"] = DOMAIN_INVALID
    if sub.contact_email and "contact_email" not in errors:
        try:
            validate_email(sub.contact_email)
        except ValidationError:
            errors["contact_email"] = "Enter a valid e-mail address."
    if sub.contact_phone and "contact_phone" not in errors and not PHONE_RE.match(sub.contact_phone):
        errors["contact_phone"] = PHONE_INVALID
    if not is_currency(sub.value.currency):
        errors["currency"] = f"{sub.value.currency!r} is not an ISO 4217 currency code such as USD or EUR."
    elif sub.value.minor <= 0:
        errors["value"] = VALUE_NOT_POSITIVE
    elif sub.value.minor > MAX_VALUE_MINOR:
        errors["value"] = VALUE_TOO_LARGE
    today = today or timezone.localdate()
    if sub.expected_close < today:
        errors["expected_close"] = CLOSE_IN_PAST
    elif sub.expected_close > today + timedelta(days=366 * MAX_CLOSE_YEARS):
        errors["expected_close"] = CLOSE_TOO_FAR
    if sub.deal_type not in DealType.values:
        errors["deal_type"] = "Choose new business or expansion."
    if errors:
        raise ValidationError(errors)
    return claim, normalise_company(sub.company_name)[:200]


def program_rules(program: RegistrationProgram) -> rules.ProgramRules:
    return rules.ProgramRules(
        minimums=program.minimums or {}, allow_expansion=program.allow_expansion,
        block_open_vendor_opportunity=program.block_open_vendor_opportunity,
    )


def _accounts_with_domain(claim: str):
    # Account.domain holds the host as typed minus scheme and "www." (the CRM form strips them).
    return Account.objects.filter(domain__in=[claim, f"www.{claim}"])


def _account_facts_sql() -> str:
    account, opportunity = Account._meta.db_table, Opportunity._meta.db_table
    registration = Registration._meta.db_table
    # The closed stages are written into the text, not passed as parameters: PostgreSQL's cached
    # (generic) plan of a prepared statement must know them to look up the account's opportunities
    # by index; with them as parameters it scans every open opportunity instead.
    closed = ", ".join("'" + stage.value.replace("'", "''") + "'" for stage in CLOSED_STAGES)
    return (
        f"SELECT a.id, a.status, EXISTS (SELECT 1 FROM {opportunity} o WHERE o.account_id = a.id"
        f" AND o.stage NOT IN ({closed})"
        f" AND NOT EXISTS (SELECT 1 FROM {registration} r WHERE r.opportunity_id = o.id))"
        f" FROM {account} a WHERE a.domain IN (%s, %s) ORDER BY a.id LIMIT 20"
    )


def account_facts(claim: str) -> tuple[rules.AccountFacts, int | None]:
    """What the CRM knows about the company with this registrable domain, in one query.

    A "vendor opportunity" is an open opportunity that did not come from a registration: an open
    deal converted from another partner's registration is that partner's claim, which the claim
    index answers ("already registered") without telling anyone more.

    Account.domain holds the host as typed minus scheme and "www." (the CRM form strips them), so an
    exact match on the indexed column finds it. Plain SQL because this runs on every submission and
    the ORM's query building cost more CPU than the database's work (``covey bench registrations``).
    """
    with prepared_cursor() as cursor:
        cursor.execute(_account_facts_sql(), [claim, f"www.{claim}"])
        rows = cursor.fetchall()
    if not rows:
        return rules.AccountFacts(), None
    facts = rules.AccountFacts(
        is_customer=any(status == AccountStatus.CUSTOMER for _, status, _ in rows),
        has_open_vendor_opportunity=any(bool(open_) for _, _, open_ in rows),
    )
    return facts, rows[0][0]


def _reviewers_of(partner) -> list[User]:
    """Who reviews a partner's registrations: its owning manager, or the admins when it has none."""
    if partner.owner_id:
        if Partner.owner.is_cached(partner):  # loaded with the submitter's membership: no query
            return [partner.owner] if partner.owner.is_active else []
        return list(User.objects.filter(pk=partner.owner_id, is_active=True))
    return list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))


def registration_url(registration: Registration) -> str:
    return f"/registrations/{registration.public_id}/"


def webhook_data(registration: Registration) -> dict:
    """What webhook subscribers receive about a registration (vendor-side: they see every partner)."""
    return {
        "id": registration.public_id, "status": registration.status,
        "partner": {"id": registration.partner.public_id, "name": registration.partner.name},
        "company_name": registration.company_name, "domain": registration.claim_domain,
        "value": {"amount_minor": registration.amount_minor, "currency": registration.currency},
        "expected_close": registration.expected_close, "reason": registration.reason,
        "protection_expires_at": registration.protection_expires_at,
    }


def submit(*, partner, actor, submission: Submission, source: str = "web", now: datetime | None = None) -> Registration:
    """Record a registration: rejected by a program rule, holding the claim, or in conflict with the holder."""
    now = _now(now)
    claim, normalised = clean_submission(submission, today=timezone.localdate(now))
    program = RegistrationProgram.current()
    facts, account_id = account_facts(claim)
    verdict = rules.check(program_rules(program), value=submission.value, deal_type=submission.deal_type, facts=facts)
    registration = Registration(
        partner=partner, submitted_by=actor if actor is not None and actor.pk else None,
        company_name=submission.company_name.strip(), domain=submission.domain.strip(), claim_domain=claim,
        normalised_name=normalised, contact_name=submission.contact_name.strip(),
        contact_email=submission.contact_email.strip(), contact_phone=submission.contact_phone.strip(),
        amount_minor=submission.value.minor, currency=submission.value.currency,
        no_minimum_configured=verdict.no_minimum_configured, expected_close=submission.expected_close,
        description=submission.description, evidence=submission.evidence, deal_type=submission.deal_type,
        submitted_at=now, account_id=account_id,
    )
    if verdict.ok:
        registration.status = Status.SUBMITTED
        registration.holds_claim = True
        registration.review_due_at = add_business_days(now, program.review_sla_business_days)
    else:
        # A broken program rule is decided on the spot, by the rules themselves (decided_by None).
        registration.status = Status.REJECTED
        registration.reason = verdict.reason
        registration.decided_at = now
    products = list({p.pk: p for p in submission.products}.values())
    for _attempt in range(3):
        try:
            _store(registration, products=products, partner=partner, actor=actor, source=source)
            return registration
        except IntegrityError:
            if not registration.holds_claim:
                raise
            # Another registration holds the claim (on PostgreSQL this insert waited for it to
            # commit); record this one as a conflict pointing at it. A holder released in between
            # (rare) leaves no one to point at: try to claim again.
            registration.pk = None
            holder_id = (
                Registration.objects.filter(claim_domain=claim, holds_claim=True).values_list("pk", flat=True).first()
            )
            if holder_id is not None:
                registration.holds_claim = False
                registration.status = Status.CONFLICT
                registration.reason = rules.ALREADY_REGISTERED
                registration.review_due_at = None
                registration.conflict_with_id = holder_id
    raise IntegrityError("could not settle the claim for this domain")


def _store(registration: Registration, *, products: list[Product], partner, actor, source: str) -> None:
    """Write the registration (whose insert the claim index may refuse with an ``IntegrityError``)
    with its products, its audit record and the reviewers' notification, all or nothing.

    On PostgreSQL that is one statement (``insert_together``): submission is the hot path, and this
    saves eight round trips a registration. Nothing else is written before it, so a refused claim
    rolls back nothing else.
    """
    assign_public_id(registration)  # the audit record and the notification's link name it
    through = Registration.products.through
    links = [through(registration=registration, product=p) for p in products]
    event = audit.event(
        actor=actor, action="create", obj=registration, source=source,
        changes={
            "status": [None, registration.status], "partner": [None, partner.name],
            "domain": [None, registration.claim_domain], "value": [None, registration.value.plain()],
            **({"reason": [None, registration.reason]} if registration.reason else {}),
        },
    )
    notes = []
    if registration.status == Status.SUBMITTED:
        notes = compose_notifications(
            _reviewers_of(partner), kind="registration.submitted", exclude=actor,
            title=f"Registration to review: {registration.company_name} ({partner.name})",
            body=f"{partner.name} registered {registration.company_name} ({registration.claim_domain}), "
            f"{registration.value.plain()}. Review due {registration.review_due_at:%Y-%m-%d %H:%M}.",
            url=registration_url(registration),
        )
    insert_together([registration], links, [event], notes)
    notifications_written(notes)
    emit_webhook("registration.submitted", lambda: webhook_data(registration))


# --- reading helpers -------------------------------------------------------------------------


def possible_duplicates(registration: Registration, *, limit: int = 10) -> list[tuple[Registration, float]]:
    """Live registrations with a very similar company name but another domain (for reviewers only)."""
    first_word = (registration.normalised_name.split() or [""])[0]
    if not first_word:
        return []
    candidates = (
        Registration.objects.filter(status__in=LIVE + (Status.CONFLICT,), normalised_name__startswith=first_word[:4])
        .exclude(pk=registration.pk).exclude(claim_domain=registration.claim_domain)
        .select_related("partner")[:500]
    )
    return rules.duplicate_candidates(registration.company_name, registration.claim_domain, candidates)[:limit]


# --- review ----------------------------------------------------------------------------------


def _transition(registration: Registration, *, actor, source: str, changes: dict, fields: list[str]) -> None:
    registration.save(update_fields=fields)
    audit.record(actor=actor, action="transition", obj=registration, source=source, changes=changes)


def _locked(registration: Registration) -> Registration:
    """Re-read the row under a lock so two managers deciding at once cannot both win."""
    fresh = Registration.objects.select_for_update(of=("self",)).select_related("partner").get(pk=registration.pk)
    registration.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    registration._state = fresh._state
    return registration


@transaction.atomic
def start_review(*, registration: Registration, actor, source: str = "web") -> Registration:
    _locked(registration)
    if registration.status != Status.SUBMITTED:
        raise ValidationError("Only a submitted registration can be taken into review.")
    registration.status = Status.UNDER_REVIEW
    _transition(registration, actor=actor, source=source, changes={"status": [Status.SUBMITTED, Status.UNDER_REVIEW]},
                fields=["status"])
    return registration


@transaction.atomic
def approve(*, registration: Registration, actor, source: str = "web", now: datetime | None = None) -> Registration:
    now = _now(now)
    _locked(registration)
    if registration.status not in AWAITING_REVIEW:
        raise ValidationError(NOT_AWAITING_REVIEW.format(action="approved"))
    program = RegistrationProgram.current()
    before = registration.status
    registration.status = Status.APPROVED
    registration.decided_at = now
    registration.decided_by = actor
    registration.protection_starts_at = now
    registration.protection_expires_at = now + timedelta(days=program.protection_days)
    _transition(
        registration, actor=actor, source=source,
        changes={"status": [before, Status.APPROVED], "protection_expires_at": [None, registration.protection_expires_at.isoformat()]},
        fields=["status", "decided_at", "decided_by", "protection_starts_at", "protection_expires_at"],
    )
    notify(
        [registration.submitted_by], kind="registration.approved", exclude=actor,
        title=f"Registration approved: {registration.company_name}",
        body=f"Your registration of {registration.company_name} is approved and protected until "
        f"{registration.protection_expires_at:%Y-%m-%d}.",
        url=registration_url(registration),
    )
    emit_webhook("registration.approved", lambda: webhook_data(registration))
    if program.convert_on_approval:
        convert(registration=registration, actor=actor, source=source)
    return registration


@transaction.atomic
def reject(*, registration: Registration, actor, reason: str, source: str = "web", now: datetime | None = None) -> Registration:
    reason = clean_text(reason, field="reason", limit=REASON_MAX, required=REASON_REQUIRED)
    _locked(registration)
    if registration.status not in AWAITING_REVIEW:
        raise ValidationError(NOT_AWAITING_REVIEW.format(action="rejected"))
    _close(registration, status=Status.REJECTED, actor=actor, source=source, reason=reason, now=_now(now))
    notify(
        [registration.submitted_by], kind="registration.rejected", exclude=actor,
        title=f"Registration rejected: {registration.company_name}",
        body=f"Your registration of {registration.company_name} was rejected: {reason}",
        url=registration_url(registration),
    )
    emit_webhook("registration.rejected", lambda: webhook_data(registration))
    return registration


def _close(registration: Registration, *, status: str, actor, source: str, reason: str = "", now: datetime) -> None:
    """Move to a final state and release the claim (the conflict queue may then award it)."""
    before = registration.status
    registration.status = status
    registration.holds_claim = False
    fields = ["status", "holds_claim"]
    changes: dict = {"status": [before, status]}
    if reason:
        registration.reason = reason[:REASON_MAX]
        fields.append("reason")
        changes["reason"] = [None, registration.reason]
    if status == Status.REJECTED:
        registration.decided_at = now
        registration.decided_by = actor if actor is not None and actor.pk else None
        fields += ["decided_at", "decided_by"]
    _transition(registration, actor=actor, source=source, changes=changes, fields=fields)


# --- conversion ------------------------------------------------------------------------------


def _find_or_create_account(registration: Registration, *, actor, source: str) -> Account:
    from covey.crm import services as crm

    if registration.account_id:
        account = Account.objects.filter(pk=registration.account_id).first()
        if account is not None:
            return account
    account = _accounts_with_domain(registration.claim_domain).order_by("id").first()
    if account is not None:
        return account
    return crm.account_create(
        actor=actor, source=source, name=registration.company_name, domain=registration.claim_domain,
        owner=registration.partner.owner, description=f"Created from deal registration {registration.public_id}.",
    )


@transaction.atomic
def convert(*, registration: Registration, actor, source: str = "web") -> Registration:
    """Turn an approved registration into an account (found or created), opportunity, lines and the
    partner's sourced link, then start the co-selling engagement."""
    from covey.crm import services as crm

    _locked(registration)
    if registration.status != Status.APPROVED:
        raise ValidationError(NOT_CONVERTIBLE)
    partner = registration.partner
    account = _find_or_create_account(registration, actor=actor, source=source)
    opportunity = crm.opportunity_create(
        actor=actor, source=source, name=f"{registration.company_name} – {partner.name}"[:255], account=account,
        owner=partner.owner, type=registration.deal_type, amount_minor=registration.amount_minor,
        currency=registration.currency, close_date=registration.expected_close, lead_source=LEAD_SOURCE,
        description=(registration.description or "")[:5000],
    )
    products = list(registration.products.order_by("id"))
    # The registered value is spread over the products, so the lines add up to what the partner
    # registered (the opportunity's amount follows its lines) whatever the list prices are.
    shares = split(registration.amount_minor, [1] * len(products)) if products else []
    for product, share in zip(products, shares, strict=True):
        crm.opportunity_line_add(
            opportunity=opportunity, product=product, quantity=1, unit_price_minor=share, actor=actor, source=source,
        )
    crm.opportunity_partner_add(
        opportunity=opportunity, partner=partner, role="sourced", is_primary=True, actor=actor, source=source,
    )
    registration.status = Status.CONVERTED
    registration.account = account
    registration.opportunity = opportunity
    _transition(
        registration, actor=actor, source=source,
        changes={"status": [Status.APPROVED, Status.CONVERTED], "opportunity": [None, opportunity.public_id]},
        fields=["status", "account", "opportunity"],
    )
    submitter = registration.submitted_by
    contact = submitter if submitter is not None and not submitter.is_vendor else None
    _start_engagement(opportunity, partner=partner, actor=actor, source=source, partner_contact=contact)
    return registration


def _start_engagement(opportunity, *, partner, actor, source: str, partner_contact) -> None:
    """Hand the deal to co-selling (engagement model and plan). Until that feature is integrated the
    function may be missing; a registration must still convert."""
    try:
        from covey.cosell.services import start_engagement
    except ImportError:
        return
    start_engagement(
        opportunity, partner=partner, sourced_by_partner=True, actor=actor, source=source,
        partner_contact=partner_contact,  # the rep who registered the deal works it for the partner
    )


# --- protection period -----------------------------------------------------------------------


@transaction.atomic
def request_extension(*, registration: Registration, actor, reason: str, source: str = "web",
                      now: datetime | None = None) -> Registration:
    now = _now(now)
    reason = clean_text(reason, field="reason", limit=REASON_MAX, required="Say why the deal needs more time.")
    _locked(registration)
    if registration.extension_requested_at is not None:
        raise ValidationError(EXTENSION_ONCE)
    if registration.status not in PROTECTED or not registration.protection_expires_at or registration.protection_expires_at <= now:
        raise ValidationError(EXTENSION_NOT_RUNNING)
    registration.extension_requested_at = now
    registration.extension_reason = reason
    _transition(
        registration, actor=actor, source=source, changes={"extension_requested": [None, reason]},
        fields=["extension_requested_at", "extension_reason"],
    )
    notify(
        _reviewers_of(registration.partner), kind="registration.extension_requested", exclude=actor,
        title=f"Extension requested: {registration.company_name} ({registration.partner.name})",
        body=f"{registration.partner.name} asks to extend the protection of {registration.company_name}: {reason}",
        url=registration_url(registration),
    )
    return registration


@transaction.atomic
def decide_extension(*, registration: Registration, actor, grant: bool, source: str = "web",
                     now: datetime | None = None) -> Registration:
    now = _now(now)
    _locked(registration)
    if not registration.extension_pending:
        raise ValidationError(NO_PENDING_EXTENSION)
    fields = ["extension_decided_at", "extension_decided_by", "extension_granted"]
    changes: dict = {"extension_granted": [None, grant]}
    registration.extension_decided_at = now
    registration.extension_decided_by = actor
    registration.extension_granted = grant
    if grant and registration.status in PROTECTED and registration.protection_expires_at:
        days = RegistrationProgram.current().extension_days
        before = registration.protection_expires_at
        registration.protection_expires_at = before + timedelta(days=days)
        registration.expiry_warned_at = None  # warn again before the new end
        fields += ["protection_expires_at", "expiry_warned_at"]
        changes["protection_expires_at"] = [before.isoformat(), registration.protection_expires_at.isoformat()]
    _transition(registration, actor=actor, source=source, changes=changes, fields=fields)
    verdict = (
        f"granted: protection now ends {registration.protection_expires_at:%Y-%m-%d}" if grant else "refused"
    )
    notify(
        [registration.submitted_by], kind="registration.extension_decided", exclude=actor,
        title=f"Extension {'granted' if grant else 'refused'}: {registration.company_name}",
        body=f"Your extension request for {registration.company_name} was {verdict}.",
        url=registration_url(registration),
    )
    return registration


# --- conflicts -------------------------------------------------------------------------------


def unresolved_conflicts(claim_domain: str):
    return Registration.objects.filter(claim_domain=claim_domain, status=Status.CONFLICT, resolution__isnull=True)


def holder_of(claim_domain: str) -> Registration | None:
    return Registration.objects.filter(claim_domain=claim_domain, holds_claim=True).select_related("partner").first()


@transaction.atomic
def resolve_conflict(*, claim_domain: str, outcome: str, actor, note: str = "", source: str = "web",
                     now: datetime | None = None) -> ConflictResolution:
    """Settle every unresolved conflict on one account.

    - award_first: the holder keeps the account (or, when the claim was released, the earliest
      waiting registration takes it and goes to review); the others are rejected as already registered.
    - reject: every waiting registration, and the holder too while it still awaits review, is
      rejected with the note as the reason (an approved holder keeps its protection).
    - split_credit: the waiting partners join the holder's opportunity as influencers.
    """
    now = _now(now)
    note = clean_text(note, field="note", limit=NOTE_MAX)
    if outcome not in ConflictOutcome.values:
        raise ValidationError({"outcome": "Choose award to first, reject or split credit."})
    if outcome == ConflictOutcome.REJECT and not note:
        raise ValidationError({"note": REASON_REQUIRED})
    # Lock the contenders (holder first) so two managers resolving at once cannot both act.
    contenders = list(
        Registration.objects.select_for_update(of=("self",))
        .filter(Q(holds_claim=True) | Q(status=Status.CONFLICT, resolution__isnull=True), claim_domain=claim_domain)
        .select_related("partner", "submitted_by").order_by("submitted_at", "id")
    )
    holder = next((r for r in contenders if r.holds_claim), None)
    waiting = [r for r in contenders if not r.holds_claim]
    if not waiting:
        raise ValidationError(NO_CONFLICTS)
    resolution = ConflictResolution(claim_domain=claim_domain, outcome=outcome, note=note, decided_by=actor, decided_at=now)
    if outcome == ConflictOutcome.AWARD_FIRST:
        if holder is None:
            holder, waiting = waiting[0], waiting[1:]
            _award_claim(holder, actor=actor, source=source, now=now)
        for loser in waiting:
            _close(loser, status=Status.REJECTED, actor=actor, source=source, reason=rules.ALREADY_REGISTERED, now=now)
    elif outcome == ConflictOutcome.REJECT:
        for reg in ([holder] if holder is not None and holder.awaiting_review else []) + waiting:
            _close(reg, status=Status.REJECTED, actor=actor, source=source, reason=note, now=now)
    else:
        if holder is None or holder.status not in PROTECTED + (Status.WON,):
            raise ValidationError(SPLIT_NEEDS_HOLDER)
        if holder.status == Status.APPROVED:
            convert(registration=holder, actor=actor, source=source)
        _split_credit(holder, waiting, actor=actor, source=source, now=now)
    resolution.holder = holder
    resolution.save()
    Registration.objects.filter(pk__in=[r.pk for r in waiting]).update(resolution=resolution)
    audit.record(
        actor=actor, action="create", obj=resolution, source=source,
        changes={"outcome": [None, outcome], "registrations": [None, [r.public_id for r in waiting]], "note": [None, note]},
    )
    for reg in waiting:
        notify(
            [reg.submitted_by], kind="registration.conflict_resolved", exclude=actor,
            title=f"Registration decided: {reg.company_name}",
            body=_loser_message(reg), url=registration_url(reg),
        )
    return resolution


def _loser_message(reg: Registration) -> str:
    if reg.status == Status.CONVERTED:
        return f"Your partner now shares credit on the deal with {reg.company_name}."
    if reg.holds_claim:
        return f"Your registration of {reg.company_name} now holds the account and is waiting for review."
    return f"Your registration of {reg.company_name} was rejected: {reg.reason}"


def _award_claim(reg: Registration, *, actor, source: str, now: datetime) -> None:
    reg.holds_claim = True
    reg.status = Status.SUBMITTED
    reg.reason = ""
    reg.conflict_with = None
    reg.review_due_at = add_business_days(now, RegistrationProgram.current().review_sla_business_days)
    reg.save(update_fields=["holds_claim", "status", "reason", "conflict_with", "review_due_at"])  # index re-checks
    audit.record(actor=actor, action="transition", obj=reg, source=source,
                 changes={"status": [Status.CONFLICT, Status.SUBMITTED], "holds_claim": [False, True]})


def _split_credit(holder: Registration, waiting: list[Registration], *, actor, source: str, now: datetime) -> None:
    from covey.crm import services as crm

    opportunity = holder.opportunity
    on_deal = set(opportunity.partner_links.values_list("partner_id", flat=True))
    for reg in waiting:
        if reg.partner_id not in on_deal:
            crm.opportunity_partner_add(
                opportunity=opportunity, partner=reg.partner, role="influencer", actor=actor, source=source,
            )
            on_deal.add(reg.partner_id)
        reg.status = Status.CONVERTED
        reg.opportunity = opportunity
        reg.account_id = opportunity.account_id
        reg.reason = "Credit shared: your partner was added to the registered deal as an influencer."
        reg.decided_at = now
        reg.decided_by = actor
        _transition(reg, actor=actor, source=source,
                    changes={"status": [Status.CONFLICT, Status.CONVERTED], "opportunity": [None, opportunity.public_id]},
                    fields=["status", "opportunity", "account", "reason", "decided_at", "decided_by"])


# --- program settings ------------------------------------------------------------------------


PROGRAM_FIELDS = (
    "minimums", "allow_expansion", "block_open_vendor_opportunity", "review_sla_business_days", "protection_days",
    "expiry_warning_days", "extension_days", "convert_on_approval",
)
PROGRAM_LIMITS = {
    "review_sla_business_days": (0, 60), "protection_days": (1, 730), "expiry_warning_days": (0, 365),
    "extension_days": (1, 365),
}


def clean_minimums(minimums: dict) -> dict[str, int]:
    if not isinstance(minimums, dict):
        raise ValidationError({"minimums": "Give a minimum per currency."})
    out: dict[str, int] = {}
    for code, minor in minimums.items():
        if not is_currency(code):
            raise ValidationError({"minimums": f"{code!r} is not an ISO 4217 currency code such as USD or EUR."})
        if isinstance(minor, bool) or not isinstance(minor, int) or not 0 <= minor <= MAX_VALUE_MINOR:
            raise ValidationError({"minimums": f"The minimum for {code} must be a whole number of minor units from 0 up."})
        out[code] = minor
    return dict(sorted(out.items()))


@transaction.atomic
def update_program(*, actor, source: str = "web", **values) -> dict:
    program = RegistrationProgram.objects.select_for_update().get_or_create(pk=1)[0]
    unknown = set(values) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown setting." for name in unknown})
    if "minimums" in values:
        values["minimums"] = clean_minimums(values["minimums"])
    for name, (low, high) in PROGRAM_LIMITS.items():
        if name in values and not (isinstance(values[name], int) and low <= values[name] <= high):
            raise ValidationError({name: f"Must be a whole number from {low} to {high}."})
    before = audit.snapshot(program, list(values))
    for name, value in values.items():
        setattr(program, name, value)
    changes = audit.diff(before, audit.snapshot(program, list(values)))
    if changes:
        program.save()
        audit.record(actor=actor, action="update", obj=program, source=source, changes=changes)
    return changes
