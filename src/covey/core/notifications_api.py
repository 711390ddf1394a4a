"""Your in-app notifications over the API: list them (unread first if you ask), mark one or all
read. Everyone sees only their own; another person's notification does not exist for you (404)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router

from covey.core.api import page, user_of
from covey.core.models import Notification
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, OutSchema, Paging

router = Router(tags=["notifications"])


class NotificationOut(OutSchema):
    id: str
    kind: str = Field(description='What happened, e.g. "registration.approved"')
    title: str
    body: str
    url: str = Field(description="The page it is about, a path inside Covey (may be empty)")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(OutSchema):
    items: list[NotificationOut]
    count: int
    unread: int = Field(description="How many of all your notifications are unread, whatever the filters")


class NotificationFilters(Paging):
    unread: bool | None = Field(None, description="true: only unread; false: only read")
    kind: str | None = Field(None, max_length=60)
    q: str | None = Field(None, max_length=100, description="Text in the title or body")


class ReadAllOut(OutSchema):
    marked: int = Field(description="How many were unread and are now read")


def notification_out(n: Notification) -> dict:
    return {"id": n.public_id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
            "created_at": n.created_at, "read_at": n.read_at}


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS}, operation_id="notifications_list",
            summary="List my notifications", description="Your own notifications, newest first.")
def notifications_list(request: HttpRequest, filters: Query[NotificationFilters]):
    mine = Notification.objects.filter(recipient=user_of(request))
    qs = mine
    if filters.unread is not None:
        qs = qs.filter(read_at__isnull=filters.unread)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(body__icontains=filters.q))
    answer = page(qs.order_by("-created_at", "-id"), filters, notification_out)
    return {**answer, "unread": mine.filter(read_at__isnull=True).count()}


@router.post("/notifications/{id}/read", response={200: NotificationOut, **WRITE_ERRORS}, operation_id="notifications_read",
             summary="Mark a notification read", description="Marking a read one again keeps its first read time.")
def notification_read(request: HttpRequest, id: str):
    note = get_object_or_404(Notification, public_id=id[:40], recipient=user_of(request))
    if note.read_at is None:
        note.read_at = timezone.now()
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=note.read_at)
    return notification_out(note)


@router.post("/notifications/read-all", response={200: ReadAllOut, **WRITE_ERRORS}, operation_id="notifications_read_all",
             summary="Mark all my notifications read",
             description="Every unread notification of yours is marked read now; answers how many were.")
def notifications_read_all(request: HttpRequest):
    marked = Notification.objects.filter(recipient=user_of(request), read_at__isnull=True).update(read_at=timezone.now())
    return {"marked": marked}
