"""Clock-driven registration work: overdue reviews, expiry warnings, expiry, won/lost from the CRM.

Each job is set-based and safe to run twice at once: it locks the rows it will change with
``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; a second runner skips them and then finds them
done) and changes only rows still in the state it selected them in. SQLite runs writers one at a
time, so there the second runner simply sees the first one's work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from covey.core import audit
from covey.core.models import StaffRole, User
from covey.core.notify import notify
from covey.core.schedule import periodic
from covey.crm.models import Stage
from covey.registrations.models import (
    AWAITING_REVIEW,
    PROTECTED,
    Registration,
    RegistrationProgram,
    Status,
)
from covey.registrations.services import registration_url, webhook_data
from covey.webhooks.services import emit as emit_webhook

SOURCE = "job"


def _claim(queryset) -> list[Registration]:
    return list(queryset.select_for_update(skip_locked=True, of=("self",)).select_related("partner", "submitted_by"))


@periodic("registrations.review_overdue")
def review_overdue(now: datetime) -> int:
    """Tell the reviewers, once per registration, that a review is past its deadline."""
    with transaction.atomic():
        overdue = _claim(
            Registration.objects.filter(
                status__in=AWAITING_REVIEW, review_due_at__lt=now, review_overdue_notified_at__isnull=True,
            ).order_by("review_due_at")
        )
        if not overdue:
            return 0
        Registration.objects.filter(pk__in=[r.pk for r in overdue]).update(review_overdue_notified_at=now)
        admins = None
        by_reviewer: dict[int, tuple[User, list[Registration]]] = {}
        for reg in overdue:
            if reg.partner.owner_id:
                reviewers = [reg.partner.owner]
            else:
                admins = admins if admins is not None else list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))
                reviewers = admins
            for user in reviewers:
                by_reviewer.setdefault(user.pk, (user, []))[1].append(reg)
        for user, regs in by_reviewer.values():
            lines = "\n".join(f"- {r.company_name} ({r.partner.name}), due {r.review_due_at:%Y-%m-%d %H:%M}" for r in regs)
            notify(
                [user], kind="registration.review_overdue",
                title=f"{len(regs)} registration review{'s are' if len(regs) > 1 else ' is'} overdue",
                body=f"These registrations are past their review deadline:\n{lines}",
                url="/registrations/?overdue=1" if len(regs) > 1 else registration_url(regs[0]),
            )
        return len(overdue)


@periodic("registrations.expiry_warnings")
def expiry_warnings(now: datetime) -> int:
    """Warn the submitter once, ``expiry_warning_days`` before the protection period ends."""
    days = RegistrationProgram.current().expiry_warning_days
    with transaction.atomic():
        due = _claim(
            Registration.objects.filter(
                status__in=PROTECTED, expiry_warned_at__isnull=True, protection_expires_at__gt=now,
                protection_expires_at__lte=now + timedelta(days=days),
            )
        )
        if not due:
            return 0
        Registration.objects.filter(pk__in=[r.pk for r in due]).update(expiry_warned_at=now)
        for reg in due:
            extension = "" if reg.extension_requested_at else " You can ask once for an extension from the registration's page."
            notify(
                [reg.submitted_by], kind="registration.expiry_warning",
                title=f"Protection ends soon: {reg.company_name}",
                body=f"The protection of your registration of {reg.company_name} ends on "
                f"{reg.protection_expires_at:%Y-%m-%d}.{extension}",
                url=registration_url(reg),
            )
        return len(due)


@periodic("registrations.expire")
def expire(now: datetime) -> int:
    """End protection that ran out: the registration expires and the account is free again."""
    with transaction.atomic():
        ended = _claim(Registration.objects.filter(status__in=PROTECTED, protection_expires_at__lte=now))
        if not ended:
            return 0
        before = {r.pk: r.status for r in ended}
        Registration.objects.filter(pk__in=list(before), status__in=PROTECTED).update(status=Status.EXPIRED, holds_claim=False)
        for reg in ended:
            reg.status = Status.EXPIRED
        audit.record_many(
            actor=None, action="transition", objs=ended, source=SOURCE,
            changes_for=lambda r: {"status": [before[r.pk], Status.EXPIRED], "holds_claim": [True, False]},
        )
        for reg in ended:
            emit_webhook("registration.expired", lambda reg=reg: webhook_data(reg))
            notify(
                [reg.submitted_by], kind="registration.expired", title=f"Registration expired: {reg.company_name}",
                body=f"The protection period of your registration of {reg.company_name} ended on "
                f"{reg.protection_expires_at:%Y-%m-%d}; the account is no longer reserved for your partner.",
                url=registration_url(reg),
            )
        return len(ended)


@periodic("registrations.sync_outcomes")
def sync_outcomes(now: datetime) -> int:
    """Converted registrations follow their opportunity: Closed Won → won, Closed Lost → lost (claim released)."""
    changed = 0
    with transaction.atomic():
        for stage, status in ((Stage.CLOSED_WON, Status.WON), (Stage.CLOSED_LOST, Status.LOST)):
            closed = _claim(Registration.objects.filter(status=Status.CONVERTED, opportunity__stage=stage))
            if not closed:
                continue
            values = {"status": status, "decided_at": now}
            if status == Status.LOST:
                values["holds_claim"] = False
            Registration.objects.filter(pk__in=[r.pk for r in closed], status=Status.CONVERTED).update(**values)
            audit.record_many(
                actor=None, action="transition", objs=closed, source=SOURCE,
                changes_for=lambda r, s=status: {"status": [Status.CONVERTED, s]},
            )
            for reg in closed:
                notify(
                    [reg.submitted_by], kind=f"registration.{status}", email=False,
                    title=f"Deal {'won' if status == Status.WON else 'lost'}: {reg.company_name}",
                    body=f"The opportunity from your registration of {reg.company_name} is closed "
                    f"{'won' if status == Status.WON else 'lost'}.",
                    url=registration_url(reg),
                )
            changed += len(closed)
    return changed
