"""Access rows for the co-sell interchange (the contract is in tests/access_rows/__init__.py).

Exchanging deals with AWS and Microsoft is the vendor's sales team's business: CRM editors may,
other vendor staff are refused (403), partner users are not told the pages exist (404). ``build``
adds one pending AWS engagement invitation.
"""

from __future__ import annotations

from tests.matrix import CRM_EDITORS, PARTNER_A, PARTNER_B, Route, expect, rest

EDITORS_PAGE = expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)
A_OPP = {"public_id": "opportunity_a.public_id"}
INVITATION_TITLE = "Alpha co-sell invitation from AWS"

WEB_ROUTES: dict[str, Route] = {
    "interchange_home": Route(EDITORS_PAGE),
    # An empty POST (no decision) comes back to the page with a message.
    "interchange_invitation_decide": Route(EDITORS_PAGE, method="POST",
                                           kwargs={"public_id": "engagement_invitation.public_id"}),
    "opportunity_ace_export": Route(EDITORS_PAGE, kwargs=A_OPP),
    "opportunity_referral_export": Route(EDITORS_PAGE, kwargs=A_OPP),
}

EDITORS = (200, 200, 200, 200, 403, 403, 404, 404, 404, 404, 404)
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
ACE_RESPONSE = {
    "Id": "O2468", "Catalog": "AWS", "LastModifiedDate": "2026-02-01T09:30:00Z",
    "PartnerOpportunityIdentifier": "{opportunity_a}",
    "LifeCycle": {"Stage": "Qualified", "ReviewStatus": "Submitted", "TargetCloseDate": "2026-12-15"},
}
REFERRAL = {
    "id": "ref-access-table", "externalReferenceId": "{opportunity_a}", "status": "Active", "substatus": "Accepted",
    "details": {"dealValue": 24000, "currency": "USD", "closingDateTime": "2026-12-15T00:00:00Z"},
}
API_TABLE: list[tuple] = [
    ("opportunity as ACE request", "GET", "/api/opportunities/{opportunity_a}/ace", None, EDITORS),
    ("opportunity as referral", "GET", "/api/opportunities/{opportunity_a}/referral", None, EDITORS),
    ("import ACE responses", "POST", "/api/interchange/ace/import", ACE_RESPONSE, EDITORS),
    ("import referrals", "POST", "/api/interchange/referrals/import", REFERRAL, EDITORS),
]
API_LISTS: list[str] = []


def build(world) -> None:
    from covey.interchange.models import EngagementInvitation

    world.engagement_invitation = EngagementInvitation.objects.create(
        identifier="engi-accesstable01", title=INVITATION_TITLE, company_name=world.account_a.name,
        payload={"Project": {"Title": INVITATION_TITLE, "TargetCompletionDate": "2026-12-15"}},
    )


def ids(world) -> dict[str, str]:
    return {"engagement_invitation": world.engagement_invitation.public_id}


def secrets(world) -> list[str]:
    return [INVITATION_TITLE, world.engagement_invitation.identifier]


def state():
    from covey.interchange.models import AceLink, EngagementInvitation, ReferralLink

    return (
        list(AceLink.objects.values_list("identifier", "review_status", "opportunity_id").order_by("id")),
        list(ReferralLink.objects.values_list("referral_id", "status", "substatus").order_by("id")),
        list(EngagementInvitation.objects.values_list("identifier", "status", "opportunity_id").order_by("id")),
    )
