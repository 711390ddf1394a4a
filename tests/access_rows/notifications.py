"""Access rows for in-app notifications over the API (the contract is in tests/access_rows/__init__.py):
everyone lists and marks their own; another person's notification does not exist for them (404),
whoever they are. The inbox pages are in the core's web matrix."""

from __future__ import annotations

WEB_ROUTES: dict = {}

EVERYONE = (200,) * 11
SECRET = "Alpha's private heads-up for its rep"
#                                                                             admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("list my notifications", "GET", "/api/notifications", None,              EVERYONE),
    ("mark A rep's notification read", "POST", "/api/notifications/{notification_a}/read", None,
                                                                              (404, 404, 404, 404, 404, 404, 404, 200, 404, 404, 404)),
    ("mark all mine read", "POST", "/api/notifications/read-all", None,       EVERYONE),
]
API_LISTS: list[str] = ["/api/notifications", "/api/notifications?q=Alpha"]


def build(world) -> None:
    from covey.core.models import Notification

    world.notification_a = Notification.objects.create(recipient=world.a_rep, kind="test.secret", title=SECRET,
                                                       body="For A's rep only.", url="/")
    # Everyone has one unread notice, so "mark all mine read" changes something for each of them.
    Notification.objects.bulk_create(Notification(recipient=getattr(world, role), kind="test.inbox",
                                                  title="Your weekly digest", body="", url="/") 
                                    for role in ("vendor_admin", "partner_manager", "other_manager", "sales_rep",
                                                 "finance", "executive", "a_admin", "a_rep", "a_readonly",
                                                 "b_admin", "b_rep"))


def ids(world) -> dict[str, str]:
    return {"notification_a": world.notification_a.public_id}


def secrets(world) -> list[str]:
    return [SECRET]


def state():
    from covey.core.models import Notification

    return list(Notification.objects.filter(kind__startswith="test.").order_by("id").values_list("public_id", "read_at"))
