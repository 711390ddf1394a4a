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
API_TABLE: list[tuple] = []
API_LISTS: list[str] = []
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
