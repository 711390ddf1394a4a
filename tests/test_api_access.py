"""Who reaches what through the API, as one explicit table.

Each row is one request on partner A's objects; each column one member of the cast. 404 means the
object does not exist for that person (partner B must never learn A's objects exist), 403 that they
can see it but their role may not change it. A refused request changes nothing.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.matrix import features
from tests.test_api import as_user, assert_error

ROLES = ("vendor_admin", "partner_manager", "other_manager", "sales_rep", "finance", "executive",
         "a_admin", "a_rep", "a_readonly", "b_admin", "b_rep")

OPP = "/api/opportunities/{opportunity_a}"
# partner_manager owns partner A, other_manager owns partner B; activity A was logged by A's rep.
# The editors of accounts are CRM_EDITORS; deleting account A is refused (it has an opportunity),
# so for them that row shows the permission gate passed and the service said no.
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
TABLE = [
    ("read partner", "GET", "/api/partners/{partner_a}", None,              (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("list members", "GET", "/api/partners/{partner_a}/members", None,      (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change partner", "PATCH", "/api/partners/{partner_a}", {"description": "Changed"},
                                                                            (200, 200, 403, 403, 403, 403, 200, 403, 403, 404, 404)),
    ("read settings", "GET", "/api/settings", None,                         (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("change settings", "PATCH", "/api/settings", {"company_name": "Acme Cloud Inc"},
                                                                            (200, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("add member", "POST", "/api/partners/{partner_a}/members", {"email": "new.person@alpha.example", "role": "rep"},
                                                                            (201, 201, 403, 403, 403, 403, 201, 403, 403, 404, 404)),
    ("change member role", "PATCH", "/api/partners/{partner_a}/members/{a_rep_user}", {"role": "read_only"},
                                                                            (200, 200, 403, 403, 403, 403, 200, 403, 403, 404, 404)),
    ("remove member", "DELETE", "/api/partners/{partner_a}/members/{a_readonly_user}", None,
                                                                            (204, 204, 403, 403, 403, 403, 204, 403, 403, 404, 404)),
    ("read account", "GET", "/api/accounts/{account_a}", None,              (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change account", "PATCH", "/api/accounts/{account_a}", {"industry": "Changed"},
                                                                            (200, 200, 200, 200, 403, 403, 403, 403, 403, 404, 404)),
    ("delete account", "DELETE", "/api/accounts/{account_a}", None,         (422, 422, 422, 422, 403, 403, 403, 403, 403, 404, 404)),
    ("read opportunity", "GET", OPP, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change opportunity", "PATCH", OPP, {"stage": "Negotiation/Review"},   (200, 200, 200, 200, 403, 403, 403, 403, 403, 404, 404)),
    ("delete opportunity", "DELETE", OPP, None,                             (204, 204, 204, 204, 403, 403, 403, 403, 403, 404, 404)),
    ("add line", "POST", OPP + "/lines", {"product": "{product}", "quantity": 1},
                                                                            (201, 201, 201, 201, 403, 403, 403, 403, 403, 404, 404)),
    ("remove line", "DELETE", OPP + "/lines/{line_a}", None,                (204, 204, 204, 204, 403, 403, 403, 403, 403, 404, 404)),
    ("add partner", "POST", OPP + "/partners", {"partner": "{partner_b}", "role": "influencer"},
                                                                            (201, 201, 201, 201, 403, 403, 403, 403, 403, 404, 404)),
    ("remove partner", "DELETE", OPP + "/partners/{link_a}", None,          (204, 204, 204, 204, 403, 403, 403, 403, 403, 404, 404)),
    ("read activity", "GET", "/api/activities/{activity_a}", None,          (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change activity", "PATCH", "/api/activities/{activity_a}", {"notes": "Changed"},
                                                                            (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("delete activity", "DELETE", "/api/activities/{activity_a}", None,     (204, 204, 204, 204, 403, 403, 204, 204, 403, 404, 404)),
    # The catalogue and "who am I" are the same for everyone signed in.
    ("read product", "GET", "/api/products/{product}", None,               (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("who am I", "GET", "/api/me", None,                                    (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # Creates: the role decides; partner B cannot attach an activity to A's deal it cannot see.
    ("create account", "POST", "/api/accounts", {"name": "New Co"},         (201, 201, 201, 201, 403, 403, 403, 403, 403, 403, 403)),
    ("create opportunity", "POST", "/api/opportunities", {"name": "New", "account": "{account_a}", "close_date": "2026-10-01"},
                                                                            (201, 201, 201, 201, 403, 403, 403, 403, 403, 403, 403)),
    ("create partner", "POST", "/api/partners", {"name": "New Partner"},     (201, 201, 201, 403, 403, 403, 403, 403, 403, 403, 403)),
    ("log activity", "POST", "/api/activities", {"subject": "Call", "opportunity": "{opportunity_a}"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 422, 422)),
]
for _feature in features():
    TABLE += _feature.API_TABLE
CASES = [(name, method, path, body, role, expected)
         for name, method, path, body, statuses in TABLE for role, expected in zip(ROLES, statuses, strict=True)]
CODES = {403: "forbidden", 404: "not_found", 422: "validation_error"}


# The access tables read one world built once per module (see conftest.module_full_world);
# ``full_world`` resolves to it here, each test inside its own rolled-back savepoint.
@pytest.fixture
def full_world(module_full_world, db):
    return module_full_world



def _ids(world) -> dict[str, str]:
    names = ("partner_a", "partner_b", "account_a", "opportunity_a", "line_a", "link_a", "activity_a", "product")
    found = {name: getattr(world, name).public_id for name in names}
    found |= {"a_rep_user": world.a_rep.public_id, "a_readonly_user": world.a_readonly.public_id}
    for feature in features():
        found.update(feature.ids(world))
    return found


def _fill(text: str, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], text)


def _state():
    """Everything a refused request could have touched."""
    from covey.core.models import AuditEvent
    from covey.crm.models import Account, Activity, Opportunity, OpportunityLine, OpportunityPartner
    from covey.partners.models import Partner

    return (
        AuditEvent.objects.count(),
        list(Partner.objects.values_list("public_id", "description", "lifecycle").order_by("id")),
        list(Account.objects.values_list("public_id", "industry").order_by("id")),
        list(Opportunity.objects.values_list("public_id", "stage", "amount_minor").order_by("id")),
        list(OpportunityLine.objects.values_list("public_id").order_by("id")),
        list(OpportunityPartner.objects.values_list("public_id", "is_primary").order_by("id")),
        list(Activity.objects.values_list("public_id", "notes").order_by("id")),
        [feature.state() for feature in features()],
    )


@pytest.mark.parametrize("name,method,path,body,role,expected", CASES, ids=[f"{c[0]}-{c[4]}" for c in CASES])
def test_who_reaches_what(full_world, name, method, path, body, role, expected):
    world = full_world
    ids = _ids(world)
    api = as_user(getattr(world, role))
    path = _fill(path, ids)
    body = json.loads(_fill(json.dumps(body), ids)) if body is not None else None
    before = _state()

    response = api.get(path) if method == "GET" else api.send(method, path, body)

    if expected >= 400:
        assert_error(response, expected, CODES[expected])
        assert _state() == before, "a refused request changed something"
    else:
        assert response.status_code == expected, response.content[:300]
        if method != "GET":
            assert _state() != before


HIDDEN_FROM_B = [row for row in TABLE if "{" in row[2] and row[4][-1] == 404]


@pytest.mark.parametrize("name,method,path,body", [row[:4] for row in HIDDEN_FROM_B], ids=[row[0] for row in HIDDEN_FROM_B])
def test_the_outsider_cannot_tell_an_invisible_object_from_a_missing_one(full_world, name, method, path, body):
    """Partner B's 404 for A's object is word for word the 404 for an id that never existed."""
    world = full_world
    ids = _ids(world)
    missing = {key: value.split("_")[0] + "_000000000000" for key, value in ids.items()}
    api = as_user(world.b_rep)
    answers = []
    for id_map in (ids, missing):
        filled = json.loads(_fill(json.dumps(body), id_map)) if body is not None else None
        response = api.get(_fill(path, id_map)) if method == "GET" else api.send(method, _fill(path, id_map), filled)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]


LISTS = [
    "/api/partners", "/api/accounts", "/api/opportunities", "/api/activities", "/api/products",
    "/api/opportunities?partner={partner_a}", "/api/opportunities?account={account_a}",
    "/api/activities?opportunity={opportunity_a}", "/api/activities?partner={partner_a}",
    "/api/accounts?q=Customer", "/api/opportunities?q=Deal",
]
for _feature in features():
    LISTS += _feature.API_LISTS


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("role", ["b_rep", "b_admin"])
def test_partner_a_objects_never_appear_in_partner_b_lists(full_world, role, path):
    world = full_world
    ids = _ids(world)
    a_ids = {v for k, v in ids.items() if k.endswith("_a")}
    response = as_user(getattr(world, role)).get(_fill(path, ids))
    assert response.status_code == 200
    text = (b"".join(response.streaming_content) if response.streaming else response.content).decode()  # exports stream
    assert not any(i in text for i in a_ids), f"{path} leaks partner A's objects to {role}"
    assert "Alpha" not in text and "Customer A" not in text


# Paths whose last part is one of a fixed set, written out in the rows: the OpenAPI template they fill.
ENUMERATED = [(r"^/api/recognition/rules/\w+$", "/api/recognition/rules/{kind}"),
              (r"^/api/(exports|imports)/[\w-]+$", r"/api/\1/{kind}")]


def path_shape(path: str) -> str:
    """A row's path as the OpenAPI template it calls, parameters as ``{}`` (for the completeness test)."""
    path = path.split("?")[0]
    for pattern, template in ENUMERATED:
        path = re.sub(pattern, template, path)
    return re.sub(r"{\w+}", "{}", path)
