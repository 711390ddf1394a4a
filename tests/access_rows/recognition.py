"""Access rows for recognition (the contract is in tests/access_rows/__init__.py): the awards page
and its button and rules are the vendor's (partners: 404); admins and partner managers give awards,
admins alone change the rules. ``build`` gives partner A an award, which only A and the vendor see
(on the dashboards)."""

from __future__ import annotations

from tests.matrix import PARTNER_A, PARTNER_B, VENDOR, Route, expect, rest

RUNNERS = ("vendor_admin", "partner_manager", "other_manager")
ADMIN = ("vendor_admin",)
HIDDEN = PARTNER_A + PARTNER_B

WEB_ROUTES: dict[str, Route] = {
    "recognition_awards": Route(expect(ok=VENDOR, hidden=HIDDEN)),
    "recognition_give": Route(expect(ok=RUNNERS, forbidden=rest(RUNNERS, HIDDEN), hidden=HIDDEN), method="POST"),
    "recognition_rule_save": Route(expect(ok=ADMIN, forbidden=rest(ADMIN, HIDDEN), hidden=HIDDEN), method="POST",
                                   kwargs={"kind": "=top_coseller"}),
}
#                                                                          admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("list awards", "GET", "/api/recognition/awards", None,                (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("leaderboards", "GET", "/api/recognition/leaderboards?period=2025Q4", None,
                                                                           (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("give awards", "POST", "/api/recognition/awards/run", {"period": "2025Q4"},
                                                                           (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("list award rules", "GET", "/api/recognition/rules", None,            (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("change award rule", "PATCH", "/api/recognition/rules/top_coseller", {"threshold": "5"},
                                                                           (200, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
]
API_LISTS: list[str] = ["/api/recognition/awards", "/api/recognition/awards?q=Alpha"]
SECRET = "Alpha's award: a quarter to remember"


def build(world) -> None:
    from covey.recognition.models import Award

    world.award_a = Award.objects.create(period_key="2025Q4", kind="top_coseller", partner=world.partner_a,
                                         value="1.00 USD", explanation=SECRET)


def ids(world) -> dict[str, str]:
    return {}


def secrets(world) -> list[str]:
    return [SECRET]


def state():
    from covey.recognition.models import Award, AwardRule

    return (list(Award.objects.values_list("period_key", "kind", "partner_id").order_by("id")),
            list(AwardRule.objects.values_list("kind", "enabled", "threshold").order_by("kind")))
