"""Access rows for partner surveys (the contract is in tests/access_rows/__init__.py).

``build`` sends two campaigns to partner A's users only: one open (nobody has answered), one that
a_admin answered with a comment and that is now closed; and keeps a draft. Campaigns and results
are the vendor's (partners: 404); admins and partner managers send and close. A campaign's answer
page is for the people it was sent to (B's users and vendor staff: 404); a_rep's e-mailed link works
signed out or signed in as a_rep, and for anyone else signed in it is a 404.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import OK, PARTNER_A, PARTNER_B, VENDOR, Route, expect, rest

MANAGERS = ("vendor_admin", "partner_manager", "other_manager")
VENDOR_PAGE = expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)
MANAGE = expect(ok=MANAGERS, forbidden=rest(MANAGERS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)
OPEN = {"public_id": "survey_open.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "survey_campaign_list": Route(VENDOR_PAGE),
    "survey_campaign": Route(VENDOR_PAGE, kwargs=OPEN),
    "survey_campaign_send": Route(MANAGE, method="POST", kwargs={"public_id": "survey_draft.public_id"}),
    "survey_campaign_close": Route(MANAGE, method="POST", kwargs=OPEN),
    "survey_answers": Route(VENDOR_PAGE),
    "survey_mine": Route(expect(ok=PARTNER_A + PARTNER_B, hidden=VENDOR)),
    "survey_answer": Route(expect(ok=PARTNER_A, hidden=VENDOR + PARTNER_B), kwargs=OPEN),
    "survey_answer_link": Route(expect(ok=("a_rep",), hidden=rest(("a_rep",)), anonymous=OK),
                                kwargs={"token": "survey_token_a_rep"}),
}

NEW = {"name": "Access pulse", "opens_on": "2026-01-05", "closes_on": "2026-01-19"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("list survey campaigns", "GET", "/api/surveys/campaigns", None,         (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("create survey campaign", "POST", "/api/surveys/campaigns", NEW,        (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("send survey campaign", "POST", "/api/surveys/campaigns/{survey_draft}/send", None,
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("survey results", "GET", "/api/surveys/campaigns/{survey_closed}/results", None,
                                                                             (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("answer survey", "POST", "/api/surveys/campaigns/{survey_open}/answer", {"score": 8},
                                                                             (404, 404, 404, 404, 404, 404, 201, 201, 201, 404, 404)),
]
API_LISTS: list[str] = ["/api/surveys/campaigns"]

SECRET = "Alpha's candid survey comment"


def build(world) -> None:
    from django.utils import timezone

    from covey.surveys import services
    from covey.surveys.models import Invitation

    w = world
    today = timezone.localdate()
    kw = {"actor": w.vendor_admin, "audience_all": False, "partners": [w.partner_a], "opens_on": today,
          "closes_on": today + timedelta(days=7)}
    w.survey_open = services.campaign_create(name="Access survey, open", **kw)
    services.campaign_send(campaign=w.survey_open, actor=w.vendor_admin)
    w.survey_closed = services.campaign_create(name="Access survey, closed", **kw)
    services.campaign_send(campaign=w.survey_closed, actor=w.vendor_admin)
    services.answer_submit(invitation=Invitation.objects.get(campaign=w.survey_closed, user=w.a_admin), score=9, comment=SECRET)
    services.campaign_close(campaign=w.survey_closed, actor=w.vendor_admin)
    w.survey_draft = services.campaign_create(name="Access survey, draft", **kw)
    w.survey_token_a_rep = services.token_for(Invitation.objects.get(campaign=w.survey_open, user=w.a_rep))


def ids(world) -> dict[str, str]:
    w = world
    return {"survey_open": w.survey_open.public_id, "survey_closed": w.survey_closed.public_id,
            "survey_draft": w.survey_draft.public_id}


def secrets(world) -> list[str]:
    return [SECRET]


def state():
    from covey.surveys.models import Answer, Campaign, Invitation

    return (list(Campaign.objects.values_list("public_id", "status").order_by("id")), Answer.objects.count(),
            Invitation.objects.count())
