"""Joint proposal and account plan workflows: every write goes through here.

Views, the API and tests call these; each validates, writes inside a transaction, leaves an audit
record and tells the people who wait on it. Errors are ``ValidationError`` (shown on the form or as
a 422) or ``PermissionDenied`` (a 403) with messages meant for the person who caused them.

The proposal's life: draft → submitted (for pricing approval) → approved or changes requested →
sent to the customer → accepted or declined. Lines are locked while submitted and after sending.
Changing an approved proposal voids the approval (audited) and returns it to draft, so the vendor
never stands behind prices it has not seen.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.models import AuditEvent, StaffRole, User
from covey.core.money import Money
from covey.core.notify import notify
from covey.core.schemas import MAX_AMOUNT_MINOR
from covey.core.services import create_object, update_object
from covey.joint import access, rules
from covey.joint.models import (
    MARK_FROM,
    AccountPlanStep,
    JointAccountPlan,
    JointProposal,
    LineKind,
    ProposalLine,
    ProposalStatus,
    Side,
)

log = logging.getLogger(__name__)

TRANSITION = AuditEvent.Action.TRANSITION
MAX_QUANTITY = 1_000_000

PARTNER_NOT_ON_DEAL = "{partner} is not on this opportunity; put it on the deal first."
LOCKED = "The proposal is {status}; its lines and terms cannot change now."
NO_LINES = "Add at least one line before submitting."
EXPIRED = "The proposal's validity date has passed; change it first."
NOT_SUBMITTED = "Only a proposal awaiting pricing approval can be decided."
NOTE_REQUIRED = "Say what needs to change."
CANNOT_MARK = "A proposal that is {status} cannot be marked {target}."
VENDOR_LINES_ONLY = "Only the vendor's sales team prices vendor product lines."
PARTNER_LINES_ONLY = "Only the partner's admins and reps price its service lines."
PRODUCT_REQUIRED = "Choose a product."
PRODUCT_INACTIVE = "{product} is not available for new deals."
PRODUCT_CURRENCY = "{product} is priced in {product_currency}; this proposal is in {currency}."
DESCRIPTION_REQUIRED = "Describe the service."
PRICE_REQUIRED = "Give the service's unit price."
QUANTITY_RANGE = f"The quantity is a whole number from 1 to {MAX_QUANTITY:,}."
LINE_TOO_LARGE = "The line's value is larger than Covey stores."
PARTNER_NO_DISCOUNT = "Partner service lines carry their own price; they take no discount."
OWNER_NOT_STAFF = "The vendor owner must be an active member of the vendor's staff."
OWNER_NOT_MEMBER = "The partner owner must be an active user of {partner}."
STEP_OWNER_SIDE = "The owner of a {side} step must be {who}."
PERIOD_ORDER = "The period ends before it starts."
WRONG_ACCOUNT = "That opportunity is on another account; a plan links only deals of {account}."
ALREADY_LINKED = "That opportunity is already linked to this plan."
NOT_LINKED = "That opportunity is not linked to this plan."


class ProposalExists(ValidationError):
    """A second proposal for the same deal and partner; ``existing`` is the first one."""

    def __init__(self, existing: JointProposal) -> None:
        self.existing = existing
        super().__init__("This deal already has a joint proposal with that partner; open it instead.")


def discount_threshold() -> Decimal:
    """The discount above which a vendor line is non-standard pricing (see covey.joint.rules)."""
    configured = getattr(settings, "COVEY_PROPOSAL_DISCOUNT_THRESHOLD", None)
    return rules.DEFAULT_DISCOUNT_THRESHOLD if configured is None else rules.parse_percent(configured)


def _url(name: str, obj) -> str:
    return reverse(name, kwargs={"public_id": obj.public_id})


def _locked(proposal: JointProposal) -> ValidationError:
    return ValidationError(LOCKED.format(status=proposal.get_status_display().lower()))


def _lock(proposal: JointProposal) -> JointProposal:
    """Re-read the proposal's row under a lock, so two people's steps cannot cross (and update the caller's copy)."""
    fresh = JointProposal.objects.select_for_update().get(pk=proposal.pk)
    for field in ("status", "submitted_by_id", "submitted_at", "decided_by_id", "decided_at", "decision_note", "valid_until"):
        setattr(proposal, field, getattr(fresh, field))
    return proposal


def _check_editable(proposal: JointProposal) -> None:
    if not proposal.is_editable:
        raise _locked(proposal)


def _void_approval(proposal: JointProposal, *, actor, source: str, why: str) -> None:
    """A change to approved pricing sends the proposal back to draft; the voided decision is audited."""
    if proposal.status != ProposalStatus.APPROVED:
        return
    voided = f"approved by {proposal.decided_by} on {proposal.decided_at:%Y-%m-%d %H:%M}" if proposal.decided_by else "approved"
    proposal.status = ProposalStatus.DRAFT
    proposal.decided_by = None
    proposal.decided_at = None
    proposal.decision_note = ""
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit.record(
        actor=actor, action=TRANSITION, obj=proposal, source=source,
        changes={"status": [ProposalStatus.APPROVED.label, ProposalStatus.DRAFT.label], "approval": [voided, f"voided: {why}"]},
    )


# --- proposals -------------------------------------------------------------------------------


def _list_price(product, currency: str, fallback_minor: int) -> int:
    """The catalogue price when it is in the proposal's currency; otherwise the deal line's own price."""
    return product.unit_price_minor if product.currency == currency else fallback_minor


def _copy_opportunity_lines(proposal: JointProposal) -> int:
    """The deal's product lines become vendor lines: catalogue list price, the deal's discount as a percent."""
    made = []
    for line in proposal.opportunity.lines.select_related("product"):
        list_minor = _list_price(line.product, proposal.currency, line.unit_price_minor)
        list_value = list_minor * line.quantity
        net = line.quantity * line.unit_price_minor - line.discount_minor
        percent = rules.effective_discount(Money(list_value, proposal.currency), Money(net, proposal.currency))
        made.append(ProposalLine(
            proposal=proposal, kind=LineKind.VENDOR_PRODUCT, product=line.product, quantity=line.quantity,
            unit_price_minor=list_minor, discount_percent=min(max(percent, Decimal(0)), rules.HUNDRED),
        ))
    for line in made:
        line.save()
    return len(made)


@transaction.atomic
def proposal_create(
    *, opportunity, partner, actor, title: str = "", valid_until=None, notes: str = "", source: str = "web",
) -> JointProposal:
    if not opportunity.partner_links.filter(partner=partner).exists():
        raise ValidationError({"partner": PARTNER_NOT_ON_DEAL.format(partner=partner.name)})
    existing = JointProposal.objects.filter(opportunity=opportunity, partner=partner).first()
    if existing is not None:
        raise ProposalExists(existing)
    proposal = JointProposal(
        opportunity=opportunity, partner=partner, currency=opportunity.currency, created_by=actor,
        title=(title or "").strip() or f"{opportunity.name} — joint proposal"[:200],
        valid_until=valid_until, notes=notes or "",
    )
    proposal.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # two people creating at once: the database lets one through
            proposal.save()
    except IntegrityError:
        existing = JointProposal.objects.filter(opportunity=opportunity, partner=partner).first()
        if existing is None:
            raise
        raise ProposalExists(existing) from None
    copied = _copy_opportunity_lines(proposal)
    audit.record(
        actor=actor, action="create", obj=proposal, source=source,
        changes={"opportunity": [None, opportunity.name], "partner": [None, partner.name], "title": [None, proposal.title],
                 "lines": [None, f"{copied} copied from the opportunity"]},
    )
    return proposal


@transaction.atomic
def proposal_update(*, proposal: JointProposal, actor, source: str = "web", **values) -> dict:
    """Change the terms (title, valid_until, notes)."""
    _lock(proposal)
    _check_editable(proposal)
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
    changes = update_object(proposal, actor=actor, source=source, **values)
    if changes:
        _void_approval(proposal, actor=actor, source=source, why="terms changed")
    return changes


def _check_quantity(quantity: int, unit_price_minor: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": QUANTITY_RANGE})
    if quantity * unit_price_minor > MAX_AMOUNT_MINOR:
        raise ValidationError({"quantity": LINE_TOO_LARGE})


def _percent(value) -> Decimal:
    try:
        return rules.parse_percent(value)
    except rules.PricingError as exc:
        raise ValidationError({"discount_percent": str(exc)}) from None


def _line_audit(proposal: JointProposal, *, actor, source: str, before: str | None, after: str | None) -> None:
    audit.record(actor=actor, action="update", obj=proposal, source=source, changes={"lines": [before, after]})


def _line_text(line: ProposalLine) -> str:
    text = f"{line.quantity} × {line.label} at {Money(line.unit_price_minor, line.proposal.currency)}"
    return text + (f" less {line.discount_percent}%" if line.discount_percent else "")


@transaction.atomic
def proposal_line_add(
    *, proposal: JointProposal, actor, kind: str, quantity: int = 1, product=None, description: str = "",
    unit_price_minor: int | None = None, discount_percent: Decimal | str | int = 0, source: str = "web",
) -> ProposalLine:
    _lock(proposal)
    if not access.can_edit_line_kind(actor, proposal, kind):
        raise PermissionDenied(VENDOR_LINES_ONLY if kind == LineKind.VENDOR_PRODUCT else PARTNER_LINES_ONLY)
    _check_editable(proposal)
    description = (description or "").strip()
    if kind == LineKind.VENDOR_PRODUCT:
        if product is None:
            raise ValidationError({"product": PRODUCT_REQUIRED})
        if not product.is_active:
            raise ValidationError({"product": PRODUCT_INACTIVE.format(product=product.name)})
        if product.currency != proposal.currency:
            raise ValidationError({"product": PRODUCT_CURRENCY.format(
                product=product.name, product_currency=product.currency, currency=proposal.currency)})
        unit_price_minor = product.unit_price_minor  # vendor lines always start from the list price
        percent = _percent(discount_percent)
    elif kind == LineKind.PARTNER_SERVICE:
        product = None
        if not description:
            raise ValidationError({"description": DESCRIPTION_REQUIRED})
        if unit_price_minor is None:
            raise ValidationError({"unit_price": PRICE_REQUIRED})
        if Decimal(str(discount_percent or 0)) != 0:
            raise ValidationError({"discount_percent": PARTNER_NO_DISCOUNT})
        percent = Decimal(0)
    else:
        raise ValidationError({"kind": f"Choose {LineKind.VENDOR_PRODUCT} or {LineKind.PARTNER_SERVICE}."})
    _check_quantity(quantity, unit_price_minor)
    line = ProposalLine(
        proposal=proposal, kind=kind, product=product, description=description, quantity=quantity,
        unit_price_minor=unit_price_minor, discount_percent=percent,
    )
    line.full_clean()
    line.save()
    _line_audit(proposal, actor=actor, source=source, before=None, after="+ " + _line_text(line))
    _void_approval(proposal, actor=actor, source=source, why="a line was added")
    return line


@transaction.atomic
def proposal_line_update(*, line: ProposalLine, actor, source: str = "web", **values) -> bool:
    """Change a line: quantity and discount (vendor lines); quantity, price and description (partner lines)."""
    proposal = _lock(line.proposal)
    if not access.can_edit_line_kind(actor, proposal, line.kind):
        raise PermissionDenied(VENDOR_LINES_ONLY if line.kind == LineKind.VENDOR_PRODUCT else PARTNER_LINES_ONLY)
    _check_editable(proposal)
    allowed = {"quantity", "discount_percent"} if line.kind == LineKind.VENDOR_PRODUCT else {"quantity", "unit_price_minor", "description"}
    wrong = set(values) - allowed
    if wrong:
        field = sorted(wrong)[0]
        message = PARTNER_NO_DISCOUNT if field == "discount_percent" else "This line's kind does not have that field."
        raise ValidationError({field.replace("_minor", ""): message})
    before = _line_text(line)
    if "discount_percent" in values:
        values["discount_percent"] = _percent(values["discount_percent"])
    if "description" in values:
        values["description"] = (values["description"] or "").strip()
        if not values["description"]:
            raise ValidationError({"description": DESCRIPTION_REQUIRED})
    for name, value in values.items():
        setattr(line, name, value)
    _check_quantity(line.quantity, line.unit_price_minor)
    line.full_clean()
    after = _line_text(line)
    if after == before:
        return False
    line.save()
    _line_audit(proposal, actor=actor, source=source, before=before, after=after)
    _void_approval(proposal, actor=actor, source=source, why="a line changed")
    return True


@transaction.atomic
def proposal_line_remove(*, line: ProposalLine, actor, source: str = "web") -> None:
    proposal = _lock(line.proposal)
    if not access.can_edit_line_kind(actor, proposal, line.kind):
        raise PermissionDenied(VENDOR_LINES_ONLY if line.kind == LineKind.VENDOR_PRODUCT else PARTNER_LINES_ONLY)
    _check_editable(proposal)
    _line_audit(proposal, actor=actor, source=source, before=_line_text(line), after=None)
    line.delete()
    _void_approval(proposal, actor=actor, source=source, why="a line was removed")


def pricing_approvers(proposal: JointProposal) -> list[User]:
    """Who decides this proposal's pricing: the partner's manager and the vendor's admins."""
    admins = list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))
    owner = proposal.partner.owner
    return ([owner] if owner is not None else []) + admins


def _escalate_non_standard(proposal: JointProposal, totals: rules.Totals, threshold: Decimal, *, actor, source: str):
    """Non-standard pricing goes to the deal desk (level 4) through the co-selling escalations."""
    try:
        from covey.cosell.services import raise_escalation
    except ImportError:  # the co-selling app is older than escalations: nothing to raise into
        log.warning("non-standard pricing on %s, but covey.cosell has no raise_escalation", proposal.public_id)
        return None
    reason = (
        f"Joint proposal “{proposal.title}” with {proposal.partner.name} asks for non-standard pricing: "
        f"a vendor line discounted {totals.max_discount_percent}% (threshold {threshold}%), "
        f"{totals.effective_discount_percent}% over all vendor lines ({totals.vendor_discount} off {totals.vendor_list})."
    )
    return raise_escalation(
        proposal.opportunity, level=4, trigger="non_standard_pricing", reason=reason, actor=actor,
        partner=proposal.partner, source=source,
    )


@transaction.atomic
def proposal_submit(*, proposal: JointProposal, actor, source: str = "web") -> JointProposal:
    _lock(proposal)
    if proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.CHANGES_REQUESTED):
        raise ValidationError(f"A proposal that is {proposal.get_status_display().lower()} cannot be submitted.")
    lines = list(proposal.lines.select_related("product"))
    if not lines:
        raise ValidationError(NO_LINES)
    if proposal.valid_until is not None and proposal.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": EXPIRED})
    before = proposal.get_status_display()
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_by = actor
    proposal.submitted_at = timezone.now()
    proposal.decided_by, proposal.decided_at, proposal.decision_note = None, None, ""
    proposal.save(update_fields=["status", "submitted_by", "submitted_at", "decided_by", "decided_at", "decision_note", "updated_at"])
    totals = proposal.totals(lines)
    threshold = discount_threshold()
    non_standard = rules.is_non_standard(proposal.priced_lines(lines), threshold)
    changes = {"status": [before, proposal.get_status_display()], "grand_total": [None, str(totals.grand_total)]}
    if non_standard:
        changes["non_standard_pricing"] = [None, f"{totals.max_discount_percent}% > {threshold}%"]
    audit.record(actor=actor, action=TRANSITION, obj=proposal, source=source, changes=changes)
    if non_standard:
        _escalate_non_standard(proposal, totals, threshold, actor=actor, source=source)
    notify(
        pricing_approvers(proposal), kind="joint.proposal_submitted", exclude=actor,
        title=f"Pricing approval needed: {proposal.title}",
        body=(f"{actor} submitted the joint proposal with {proposal.partner.name} on {proposal.opportunity.name} "
              f"({totals.grand_total}, vendor discount {totals.effective_discount_percent}%)"
              + (" — non-standard pricing, sent to the deal desk." if non_standard else ".")),
        url=_url("proposal_detail", proposal),
    )
    return proposal


@transaction.atomic
def proposal_decide(*, proposal: JointProposal, actor, approve: bool, note: str = "", source: str = "web") -> JointProposal:
    if not access.can_decide_pricing(actor, proposal):
        raise PermissionDenied("Pricing is approved by a vendor admin or the partner's manager.")
    _lock(proposal)
    if proposal.status != ProposalStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED)
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": NOTE_REQUIRED})
    proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.CHANGES_REQUESTED
    proposal.decided_by, proposal.decided_at, proposal.decision_note = actor, timezone.now(), note
    proposal.full_clean(validate_constraints=False)
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit.record(
        actor=actor, action=TRANSITION, obj=proposal, source=source,
        changes={"status": [ProposalStatus.SUBMITTED.label, proposal.get_status_display()], "decision_note": [None, note or None]},
    )
    verdict = "approved the pricing of" if approve else "asked for changes to"
    notify(
        [proposal.submitted_by], kind="joint.proposal_decided", exclude=actor,
        title=f"{'Pricing approved' if approve else 'Changes requested'}: {proposal.title}",
        body=f"{actor} {verdict} the joint proposal on {proposal.opportunity.name}." + (f"\n\n{note}" if note else ""),
        url=_url("proposal_detail", proposal),
    )
    return proposal


@transaction.atomic
def proposal_mark(*, proposal: JointProposal, actor, status: str, source: str = "web") -> JointProposal:
    """Record what happened with the customer: sent, then accepted or declined."""
    _lock(proposal)
    if status not in MARK_FROM:
        raise ValidationError({"status": "Mark a proposal sent, accepted or declined."})
    target = ProposalStatus(status)
    if proposal.status not in MARK_FROM[target]:
        raise ValidationError(CANNOT_MARK.format(status=proposal.get_status_display().lower(), target=target.label.lower()))
    if target == ProposalStatus.SENT and proposal.valid_until is not None and proposal.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": EXPIRED})
    before = proposal.get_status_display()
    proposal.status = target
    proposal.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=TRANSITION, obj=proposal, source=source, changes={"status": [before, target.label]})
    return proposal


# --- account plans ---------------------------------------------------------------------------


def _check_owners(partner, vendor_owner, partner_owner) -> None:
    errors = {}
    if vendor_owner is not None and (not vendor_owner.is_vendor or not vendor_owner.is_active):
        errors["vendor_owner"] = OWNER_NOT_STAFF
    if partner_owner is not None and not _is_member(partner_owner, partner):
        errors["partner_owner"] = OWNER_NOT_MEMBER.format(partner=partner.name)
    if errors:
        raise ValidationError(errors)


def _is_member(user, partner) -> bool:
    membership = None if user.is_vendor else user.membership
    return bool(user.is_active and membership and membership.partner_id == partner.pk)


def _check_period(start, end) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationError({"period_end": PERIOD_ORDER})


def _names(objs) -> str:
    return ", ".join(sorted(str(o) for o in objs)) or None  # type: ignore[return-value]


@transaction.atomic
def plan_create(
    *, account, partner, actor, title: str, target_products=(), source: str = "web", **values,
) -> JointAccountPlan:
    _check_owners(partner, values.get("vendor_owner"), values.get("partner_owner"))
    _check_period(values.get("period_start"), values.get("period_end"))
    plan = create_object(
        JointAccountPlan, actor=actor, source=source, account=account, partner=partner,
        title=(title or "").strip(), created_by=actor, **values,
    )
    products = list(target_products)
    if products:
        plan.target_products.set(products)
        audit.record(actor=actor, action="update", obj=plan, source=source, changes={"target_products": [None, _names(products)]})
    _notify_owners(plan, actor=actor, before=(None, None))
    return plan


def _notify_owners(plan: JointAccountPlan, *, actor, before: tuple) -> None:
    new = [u for u, old_id in ((plan.vendor_owner, before[0]), (plan.partner_owner, before[1]))
           if u is not None and u.pk != old_id]
    notify(
        new, kind="joint.plan_owner", exclude=actor, title=f"You own the joint account plan “{plan.title}”",
        body=f"{actor} made you an owner of the joint plan for {plan.account.name} with {plan.partner.name}.",
        url=_url("joint_plan_detail", plan),
    )


@transaction.atomic
def plan_update(*, plan: JointAccountPlan, actor, source: str = "web", target_products=None, **values) -> dict:
    vendor_owner = values.get("vendor_owner", plan.vendor_owner)
    partner_owner = values.get("partner_owner", plan.partner_owner)
    _check_owners(plan.partner, vendor_owner, partner_owner)
    _check_period(values.get("period_start", plan.period_start), values.get("period_end", plan.period_end))
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
    before_owners = (plan.vendor_owner_id, plan.partner_owner_id)
    changes = update_object(plan, actor=actor, source=source, **values)
    if target_products is not None:
        old = list(plan.target_products.all())
        new = list(target_products)
        if {p.pk for p in old} != {p.pk for p in new}:
            plan.target_products.set(new)
            changes["target_products"] = [_names(old), _names(new)]
            audit.record(actor=actor, action="update", obj=plan, source=source,
                         changes={"target_products": changes["target_products"]})
    _notify_owners(plan, actor=actor, before=before_owners)
    return changes


def _shown(value):
    """A value as the audit log shows it: people and dates as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _check_step_owner(plan: JointAccountPlan, side: str, owner) -> None:
    if owner is None:
        return
    if side == Side.VENDOR and not (owner.is_vendor and owner.is_active):
        raise ValidationError({"owner": STEP_OWNER_SIDE.format(side="vendor", who="a member of the vendor's staff")})
    if side == Side.PARTNER and not _is_member(owner, plan.partner):
        raise ValidationError({"owner": STEP_OWNER_SIDE.format(side="partner", who=f"a user of {plan.partner.name}")})


def _notify_step_owner(step: AccountPlanStep, *, actor) -> None:
    due = f" (due {step.due_date:%d %b %Y})" if step.due_date else ""
    notify(
        [step.owner], kind="joint.plan_step_assigned", exclude=actor,
        title=f"Next step for you: {step.text[:120]}",
        body=f"{actor} assigned you a next step on the joint plan “{step.plan.title}” for {step.plan.account.name}{due}.",
        url=_url("joint_plan_detail", step.plan),
    )


@transaction.atomic
def plan_step_add(
    *, plan: JointAccountPlan, actor, text: str, owner_side: str, owner=None, due_date=None, source: str = "web",
) -> AccountPlanStep:
    _check_step_owner(plan, owner_side, owner)
    step = AccountPlanStep(plan=plan, text=(text or "").strip(), owner_side=owner_side, owner=owner, due_date=due_date)
    step.full_clean()
    step.save()
    audit.record(actor=actor, action="update", obj=plan, source=source, changes={"steps": [None, f"+ {step.text}"]})
    _notify_step_owner(step, actor=actor)
    return step


@transaction.atomic
def plan_step_update(*, step: AccountPlanStep, actor, source: str = "web", **values) -> dict:
    """Change a step; ``done`` ticks it (who and when are kept) or reopens it."""
    plan = step.plan
    side = values.get("owner_side", step.owner_side)
    owner = values.get("owner", step.owner)
    _check_step_owner(plan, side, owner)
    if "text" in values:
        values["text"] = (values["text"] or "").strip()
    before = {k: getattr(step, k) for k in values}
    old_owner_id = step.owner_id
    for name, value in values.items():
        setattr(step, name, value)
    if "done" in values and values["done"] != before["done"]:
        step.done_at, step.done_by = (timezone.now(), actor) if step.done else (None, None)
    step.full_clean()
    changes = {k: [_shown(before[k]), _shown(v)] for k, v in values.items() if before[k] != v}
    if not changes:
        return {}
    step.save()
    audit.record(actor=actor, action="update", obj=plan, source=source,
                 changes={f"step “{step.text[:60]}” {k}": v for k, v in changes.items()})
    if step.owner_id is not None and step.owner_id != old_owner_id:
        _notify_step_owner(step, actor=actor)
    return changes


@transaction.atomic
def plan_step_remove(*, step: AccountPlanStep, actor, source: str = "web") -> None:
    audit.record(actor=actor, action="update", obj=step.plan, source=source, changes={"steps": [step.text, None]})
    step.delete()


@transaction.atomic
def plan_link_opportunity(*, plan: JointAccountPlan, opportunity, actor, source: str = "web") -> None:
    if opportunity.account_id != plan.account_id:
        raise ValidationError({"opportunity": WRONG_ACCOUNT.format(account=plan.account.name)})
    if plan.opportunities.filter(pk=opportunity.pk).exists():
        raise ValidationError({"opportunity": ALREADY_LINKED})
    plan.opportunities.add(opportunity)
    audit.record(actor=actor, action="update", obj=plan, source=source, changes={"opportunities": [None, f"+ {opportunity.name}"]})


@transaction.atomic
def plan_unlink_opportunity(*, plan: JointAccountPlan, opportunity, actor, source: str = "web") -> None:
    if not plan.opportunities.filter(pk=opportunity.pk).exists():
        raise ValidationError({"opportunity": NOT_LINKED})
    plan.opportunities.remove(opportunity)
    audit.record(actor=actor, action="update", obj=plan, source=source, changes={"opportunities": [opportunity.name, None]})
