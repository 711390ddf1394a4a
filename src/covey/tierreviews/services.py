"""Taking a tier review, deciding its proposals, and recording satisfaction scores.

A review of quarter Q measures the year ending on Q's last day, so it is taken once Q is over (the
scheduler does it on the first day of the next quarter; a manager may take it earlier by hand, which
the scheduler then finds). A decision applies from the first day of the quarter after it is made —
tiers, like rules, never change mid-quarter — through an ordinary enrolment, so payouts, the library
and the portal all see the new tier the same way.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.access import can_manage_lifecycle
from covey.core.models import StaffRole, User, VendorSettings
from covey.core.notify import notify
from covey.core.validators import clean_text
from covey.programs.models import Program, ProgramVersion
from covey.programs.services import enrol, governing_general, next_quarter_start
from covey.tierreviews import selectors
from covey.tierreviews.models import (
    Change,
    ProposalStatus,
    SatisfactionScore,
    TierProposal,
    TierReview,
)
from covey.tierreviews.standing import (
    Facts,
    TierSpec,
    change,
    checks,
    next_tier,
    qualifies,
    standing,
)

NO_VERSION = "{program} has no published version with tiers to review against."
NO_DECIDE = "Only an admin or the partner's own manager decides its tier."
NOT_PENDING = "This proposal has already been decided."
NO_CHANGE_TO_DECIDE = "The partner stays in its tier; there is nothing to decide."
UNKNOWN_TIER = "Choose one of the program's tiers."
REASON_REQUIRED = "Say why you choose a different tier than the review proposes."
NO_SATISFACTION = "Only an admin or the partner's own manager records its satisfaction scores."
SCORE_INVALID = "Enter a score from 0 to 10 with at most one decimal."
FUTURE_DATE = "The measurement date cannot be in the future."


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def reviewed_quarter(today: date):
    """The last complete quarter before ``today``."""
    calendar = VendorSettings.current().calendar
    return calendar.previous(calendar.quarter_of(today))


def review_version(program: Program, *, as_of: date, today: date) -> ProgramVersion | None:
    """The tiers a review applies: those of the version in force when changes start, else today's."""
    for day in (next_quarter_start(today), today, as_of):
        version = governing_general(program, day)
        if version is not None and version.tiers.exists():
            return version
    return None


def _evidence(specs: list[TierSpec], facts: Facts, *, as_of: date, currency: str, unconverted: list[str]) -> dict:
    def plain(value):
        return str(value) if isinstance(value, Decimal) else value

    return {
        "as_of": as_of.isoformat(),
        "since": (as_of - selectors.YEAR + timedelta(days=1)).isoformat(),
        "currency": currency,
        "facts": {"sales_minor": facts.sales_minor, "certified": facts.certified,
                  "satisfaction": plain(facts.satisfaction), "deals": facts.deals},
        "unconverted": unconverted,
        "tiers": [
            {"code": t.code, "name": t.name, "rank": t.rank, "qualifies": qualifies(t, facts),
             "checks": [{"measure": c.measure, "required": plain(c.required), "actual": plain(c.actual), "met": c.met}
                        for c in checks(t, facts)]}
            for t in specs
        ],
    }


def review_run(*, program: Program, actor: User | None = None, today: date | None = None,
               source: str = "web") -> TierReview:
    """Take (or return the already taken) review of the last complete quarter for ``program``."""
    today = _today(today)
    quarter = reviewed_quarter(today)
    existing = TierReview.objects.filter(program=program, period_key=quarter.key).first()
    if existing is not None:
        return existing
    version = review_version(program, as_of=quarter.end, today=today)
    if version is None:
        raise ValidationError({"program": NO_VERSION.format(program=program.name)})
    specs = selectors.tier_specs(version)
    enrolments = selectors.current_enrolments(program, today)
    measured = selectors.measure(list(enrolments), program=program, as_of=quarter.end)
    try:
        with transaction.atomic():
            review = TierReview.objects.create(program=program, period_key=quarter.key, as_of=quarter.end,
                                               effective_from=next_quarter_start(today), version=version,
                                               created_by=actor)
            proposals = []
            for pid, enrolment in enrolments.items():
                facts = measured.facts[pid]
                best = standing(specs, facts)
                moved = change(specs, enrolment.tier_code, best.code)
                proposals.append(TierProposal(
                    review=review, partner_id=pid, current_tier=enrolment.tier_code, proposed_tier=best.code,
                    change=moved, status=ProposalStatus.NONE_NEEDED if moved == Change.KEEP else ProposalStatus.PENDING,
                    evidence=_evidence(specs, facts, as_of=quarter.end, currency=program.currency,
                                       unconverted=measured.unconverted.get(pid, []))))
            TierProposal.objects.bulk_create(proposals)
            audit.record(actor=actor, action="create", obj=review, source=source,
                         changes={"proposals": [None, len(proposals)],
                                  "pending": [None, sum(p.status == ProposalStatus.PENDING for p in proposals)]})
            _ask_managers(review, [(enrolments[p.partner_id].partner, p) for p in proposals
                                   if p.status == ProposalStatus.PENDING], actor=actor)
    except IntegrityError:  # taken at the same moment by the scheduler or another manager
        return TierReview.objects.get(program=program, period_key=quarter.key)
    return review


def _ask_managers(review: TierReview, pending, *, actor) -> None:
    if not pending:
        return
    admins = list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))
    by_manager: dict[int, tuple[User, int]] = {}
    for partner, _ in pending:
        for manager in ([partner.owner] if partner.owner_id else admins):
            user, n = by_manager.get(manager.pk, (manager, 0))
            by_manager[manager.pk] = (user, n + 1)
    url = reverse("tier_review_detail", kwargs={"public_id": review.public_id})
    for user, n in by_manager.values():
        notify([user], kind="tier_review.ready", exclude=actor, url=url,
               title=f"{review}: {n} tier change{'s' if n != 1 else ''} await your decision",
               body="Each proposal shows the partner's results against every tier's requirements.")


@transaction.atomic
def proposal_decide(*, proposal: TierProposal, actor: User, tier_code: str | None = None, reason: str = "",
                    today: date | None = None, source: str = "web") -> TierProposal:
    """Approve the proposed tier (``tier_code`` None or equal to it) or override it with a reason."""
    proposal = TierProposal.objects.select_for_update().select_related("review__program", "review__version",
                                                                        "partner").get(pk=proposal.pk)
    if not can_manage_lifecycle(actor, proposal.partner):
        raise PermissionDenied(NO_DECIDE)
    if proposal.status == ProposalStatus.NONE_NEEDED:
        raise ValidationError(NO_CHANGE_TO_DECIDE)
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(NOT_PENDING)
    reason = clean_text(reason, field="reason", limit=500)
    chosen = (tier_code or "").strip() or proposal.proposed_tier
    codes = set(proposal.review.version.tiers.values_list("code", flat=True))
    if chosen not in codes:
        raise ValidationError({"tier_code": UNKNOWN_TIER})
    overridden = chosen != proposal.proposed_tier
    if overridden and not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    today = _today(today)
    applies_from = max(proposal.review.effective_from, next_quarter_start(today))
    if chosen != proposal.current_tier:
        enrol(partner=proposal.partner, program=proposal.review.program, tier_code=chosen, starts_on=applies_from,
              actor=actor, source=source,
              reason=reason or f"{proposal.review}: {proposal.get_change_display().lower()} on the review's evidence")
    proposal.status = ProposalStatus.OVERRIDDEN if overridden else ProposalStatus.APPROVED
    proposal.decided_tier, proposal.reason = chosen, reason
    proposal.decided_by, proposal.decided_at, proposal.applies_from = actor, timezone.now(), applies_from
    proposal.save(update_fields=["status", "decided_tier", "reason", "decided_by", "decided_at", "applies_from"])
    audit.record(actor=actor, action="transition", obj=proposal, source=source,
                 changes={"status": [ProposalStatus.PENDING, proposal.status], "tier": [proposal.current_tier, chosen],
                          "from": [None, applies_from.isoformat()]})
    if chosen != proposal.current_tier:
        from covey.webhooks.services import emit as emit_webhook

        emit_webhook("tier.changed", lambda: {
            "partner": {"id": proposal.partner.public_id, "name": proposal.partner.name},
            "program": {"id": proposal.review.program.public_id, "name": proposal.review.program.name},
            "from_tier": proposal.current_tier, "to_tier": chosen, "applies_from": applies_from,
            "review": proposal.review.period_key, "overridden": overridden, "reason": reason})
        names = dict(proposal.review.version.tiers.values_list("code", "name"))
        admins = [m.user for m in proposal.partner.memberships.filter(role="admin").select_related("user")]
        notify(admins, kind="tier.changed", exclude=actor,
               url=reverse("tier_progress", kwargs={"public_id": proposal.partner.public_id}),
               title=f"{proposal.review.program}: your tier becomes {names.get(chosen, chosen)} from {applies_from:%d %b %Y}",
               body=f"Until then you stay {names.get(proposal.current_tier, proposal.current_tier)}.")
    return proposal


# --- satisfaction ---------------------------------------------------------------------------------


def parse_score(value) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"score": SCORE_INVALID}) from None
    if not score.is_finite() or score < 0 or score > 10 or score != score.quantize(Decimal("0.1")):
        raise ValidationError({"score": SCORE_INVALID})
    return score.quantize(Decimal("0.1"))


@transaction.atomic
def satisfaction_record(*, partner, score, measured_on: date, source_text: str, actor: User,
                        today: date | None = None, source: str = "web") -> SatisfactionScore:
    if not can_manage_lifecycle(actor, partner):
        raise PermissionDenied(NO_SATISFACTION)
    errors = {}
    try:
        value = parse_score(score)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if measured_on > _today(today):
        errors["measured_on"] = [FUTURE_DATE]
    text = clean_text(source_text, field="source", limit=120)
    if not text:
        errors["source"] = ["Say where the score comes from, e.g. 'Q3 CSAT survey, 41 answers'."]
    if errors:
        raise ValidationError(errors)
    row = SatisfactionScore.objects.create(partner=partner, score=value, measured_on=measured_on, source=text,
                                           recorded_by=actor)
    audit.record(actor=actor, action="create", obj=row, source=source,
                 changes={"score": [None, str(value)], "measured_on": [None, measured_on.isoformat()]})
    return row


# --- the partner's own view -----------------------------------------------------------------------


def progress(partner, *, today: date | None = None) -> list[dict]:
    """For each program the partner is enrolled in: its tier, the next one, and how far it is from it
    on the year up to ``today`` (live figures, so the partner sees the effect of this quarter's work)."""
    from covey.programs.models import Enrolment

    today = _today(today)
    rows = []
    for enrolment in Enrolment.objects.filter(partner=partner).on(today).select_related("program").order_by("program__name"):
        program = enrolment.program
        version = governing_general(program, today) or review_version(program, as_of=today, today=today)
        if version is None:
            continue
        specs = selectors.tier_specs(version)
        measured = selectors.measure([partner.pk], program=program, as_of=today)
        facts = measured.facts[partner.pk]
        current = next((t for t in specs if t.code == enrolment.tier_code), None)
        upcoming = next_tier(specs, enrolment.tier_code)
        rows.append({
            "program": program, "enrolment": enrolment, "current": current, "next": upcoming, "facts": facts,
            "checks": checks(upcoming, facts) if upcoming else [], "unconverted": measured.unconverted.get(partner.pk, []),
            "scheduled": Enrolment.objects.filter(partner=partner, program=program, starts_on__gt=today)
                         .order_by("starts_on").first(),
            "pending": TierProposal.objects.pending().filter(partner=partner, review__program=program).first(),
        })
    return rows
