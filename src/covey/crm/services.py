"""CRM workflows: every write to accounts, opportunities, lines, partner links and activities.

Views, the API and the CLI call these; each validates, writes inside a transaction and leaves an
audit record. Errors are ``ValidationError`` with messages meant for the person who caused them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from covey.core import audit
from covey.core.services import create_object, delete_object, update_object
from covey.crm.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    Product,
    Stage,
)

ACCOUNT_HAS_OPPORTUNITIES = "This account has opportunities; delete or move them first."
LOST_REASON_REQUIRED = "Say why the opportunity was lost."
PARTNER_ALREADY_ON_DEAL = "That partner is already on this opportunity."
LINE_CURRENCY_MISMATCH = "The product is priced in {product}, the opportunity in {opportunity}."


def _check_lost_reason(*, stage: str, lost_reason: str) -> None:
    if stage == Stage.CLOSED_LOST and not (lost_reason or "").strip():
        raise ValidationError({"lost_reason": LOST_REASON_REQUIRED})


# --- accounts --------------------------------------------------------------------------------


def account_create(*, actor, source: str = "web", **values) -> Account:
    return create_object(Account, actor=actor, source=source, **values)


def account_update(*, account: Account, actor, source: str = "web", **values) -> dict:
    return update_object(account, actor=actor, source=source, **values)


@transaction.atomic
def account_delete(*, account: Account, actor, source: str = "web") -> None:
    if account.opportunities.exists():
        raise ValidationError(ACCOUNT_HAS_OPPORTUNITIES)
    delete_object(account, actor=actor, source=source)


# --- opportunities ---------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(*, actor, source: str = "web", **values) -> Opportunity:
    _check_lost_reason(stage=values.get("stage", Stage.PROSPECTING), lost_reason=values.get("lost_reason", ""))
    opportunity = create_object(Opportunity, actor=actor, source=source, **values)
    Opportunity.objects.filter(pk=opportunity.pk).update(stage_changed_at=opportunity.created_at)
    opportunity.stage_changed_at = opportunity.created_at
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, actor, source: str = "web", **values) -> dict:
    if "currency" in values and values["currency"] != opportunity.currency and opportunity.lines.exists():
        raise ValidationError({"currency": "Remove the product lines before changing the currency."})
    _check_lost_reason(
        stage=values.get("stage", opportunity.stage),
        lost_reason=values.get("lost_reason", opportunity.lost_reason),
    )
    changes = update_object(opportunity, actor=actor, source=source, **values)
    if "stage" in changes:
        opportunity.stage_changed_at = timezone.now()
        Opportunity.objects.filter(pk=opportunity.pk).update(stage_changed_at=opportunity.stage_changed_at)
        if opportunity.stage in (Stage.CLOSED_WON, Stage.CLOSED_LOST):
            from covey.webhooks.services import emit as emit_webhook

            emit_webhook("opportunity.won" if opportunity.stage == Stage.CLOSED_WON else "opportunity.lost",
                         lambda: opportunity_webhook_data(opportunity))
    return changes


def opportunity_webhook_data(opportunity: Opportunity) -> dict:
    return {
        "id": opportunity.public_id, "name": opportunity.name, "stage": opportunity.stage,
        "account": {"id": opportunity.account.public_id, "name": opportunity.account.name},
        "amount": {"amount_minor": opportunity.amount_minor, "currency": opportunity.currency},
        "close_date": opportunity.close_date, "lost_reason": opportunity.lost_reason,
        "partners": [{"id": link.partner.public_id, "name": link.partner.name, "role": link.role, "is_primary": link.is_primary}
                     for link in opportunity.partner_links.select_related("partner")],
    }


def opportunity_delete(*, opportunity: Opportunity, actor, source: str = "web") -> None:
    delete_object(opportunity, actor=actor, source=source)


def _sync_amount_from_lines(opportunity: Opportunity, *, actor, source: str) -> None:
    """With product lines, the opportunity's amount is their total; keep it so."""
    total = opportunity.lines.aggregate(
        t=Sum(F("quantity") * F("unit_price_minor") - F("discount_minor"))
    )["t"] or 0
    if total != opportunity.amount_minor:
        update_object(opportunity, actor=actor, source=source, amount_minor=max(total, 0))


@transaction.atomic
def opportunity_line_add(
    *, opportunity: Opportunity, product: Product, quantity: int, actor,
    unit_price_minor: int | None = None, discount_minor: int = 0, source: str = "web",
) -> OpportunityLine:
    if unit_price_minor is None:
        if product.currency != opportunity.currency:
            raise ValidationError(LINE_CURRENCY_MISMATCH.format(product=product.currency, opportunity=opportunity.currency))
        unit_price_minor = product.unit_price_minor
    if discount_minor > quantity * unit_price_minor:
        raise ValidationError({"discount_minor": "The discount is larger than the line's value."})
    line = OpportunityLine(
        opportunity=opportunity, product=product, quantity=quantity,
        unit_price_minor=unit_price_minor, discount_minor=discount_minor,
    )
    line.full_clean()
    line.save()
    audit.record(
        actor=actor, action="update", obj=opportunity, source=source,
        changes={"lines": [None, f"+ {quantity} × {product.name}"]},
    )
    _sync_amount_from_lines(opportunity, actor=actor, source=source)
    return line


@transaction.atomic
def opportunity_line_remove(*, line: OpportunityLine, actor, source: str = "web") -> None:
    opportunity = line.opportunity
    audit.record(
        actor=actor, action="update", obj=opportunity, source=source,
        changes={"lines": [f"{line.quantity} × {line.product.name}", None]},
    )
    line.delete()
    _sync_amount_from_lines(opportunity, actor=actor, source=source)


@transaction.atomic
def opportunity_partner_add(
    *, opportunity: Opportunity, partner, role: str, is_primary: bool = False, actor, source: str = "web",
) -> OpportunityPartner:
    if opportunity.partner_links.filter(partner=partner).exists():
        raise ValidationError(PARTNER_ALREADY_ON_DEAL)
    # The first partner on a deal is its primary; naming a new primary demotes the old one.
    if not opportunity.partner_links.exists():
        is_primary = True
    elif is_primary:
        opportunity.partner_links.filter(is_primary=True).update(is_primary=False)
    link = OpportunityPartner(opportunity=opportunity, partner=partner, role=role, is_primary=is_primary)
    link.full_clean()
    link.save()
    audit.record(
        actor=actor, action="update", obj=opportunity, source=source,
        changes={"partners": [None, f"{partner.name} ({link.get_role_display()}{', primary' if is_primary else ''})"]},
    )
    return link


@transaction.atomic
def opportunity_partner_remove(*, link: OpportunityPartner, actor, source: str = "web") -> None:
    opportunity = link.opportunity
    audit.record(
        actor=actor, action="update", obj=opportunity, source=source,
        changes={"partners": [f"{link.partner.name} ({link.get_role_display()})", None]},
    )
    was_primary = link.is_primary
    link.delete()
    if was_primary:
        successor = opportunity.partner_links.order_by("created_at", "id").first()
        if successor:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])


# --- activities ------------------------------------------------------------------------------


def activity_create(*, actor, source: str = "web", **values) -> Activity:
    opportunity = values.get("opportunity")
    if opportunity is not None and values.get("account") is None:
        values["account"] = opportunity.account
    if values.get("partner") is None and actor is not None and not actor.is_vendor and actor.membership:
        values["partner"] = actor.membership.partner  # a partner user always logs for its own partner
    return create_object(Activity, actor=actor, source=source, created_by=actor, **values)


def activity_update(*, activity: Activity, actor, source: str = "web", **values) -> dict:
    return update_object(activity, actor=actor, source=source, **values)


def activity_delete(*, activity: Activity, actor, source: str = "web") -> None:
    delete_object(activity, actor=actor, source=source)


# --- deal events (billing and customer-success facts partner payouts depend on) ---------------

EVENT_NOT_WON = "Record payments, churn, refunds and adoption on a won deal only."
EVENT_IN_FUTURE = "That day has not come yet; record what has happened."
EVENT_BEFORE_CLOSE = "The deal closed on {close}; an event cannot come before it."
EVENT_AMOUNT = "Payments and refunds need the amount, in {currency}."


@transaction.atomic
def deal_event_record(*, opportunity, kind: str, occurred_on, actor, amount_minor: int | None = None, note: str = "",
                      source: str = "web"):
    """Record that the customer of a won deal paid, churned, was refunded or reached an adoption
    milestone. Payouts read these facts at the next run of the quarter (payable after payment,
    clawbacks after early churn or refund, outcome bonuses)."""
    from covey.core.validators import clean_text
    from covey.crm.models import DealEvent, DealEventKind, Stage

    if kind not in DealEventKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DealEventKind.values)}."})
    if opportunity.stage != Stage.CLOSED_WON:
        raise ValidationError(EVENT_NOT_WON)
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": EVENT_IN_FUTURE})
    if opportunity.close_date and occurred_on < opportunity.close_date:
        raise ValidationError({"occurred_on": EVENT_BEFORE_CLOSE.format(close=opportunity.close_date)})
    if amount_minor is not None and amount_minor < 0:
        raise ValidationError({"amount": "An amount is never negative."})
    if kind in (DealEventKind.PAID, DealEventKind.REFUNDED) and not amount_minor:
        raise ValidationError({"amount": EVENT_AMOUNT.format(currency=opportunity.currency)})
    note = clean_text(note, field="note", limit=300)
    event = DealEvent.objects.create(opportunity=opportunity, kind=kind, occurred_on=occurred_on,
                                     amount_minor=amount_minor, note=note, created_by=actor)
    audit.record(actor=actor, action="create", obj=opportunity, source=source,
                 changes={"event": [None, f"{event.get_kind_display()} on {occurred_on}"],
                          "amount": [None, amount_minor]})
    return event
