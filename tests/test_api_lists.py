"""Every list operation of the OpenAPI document, walked over the access tables' world.

A list operation is a GET answering ``{"items": [...], "count": N}``. For each one, as the vendor
admin and (where partners may call it) as partner A's admin:

- paging one item at a time through ``count`` items gives each item exactly once, the same items
  in the same order as one page of 500: the order is total, so offset pages never overlap or skip;
- ``q`` (unless the list is exempt below, with its reason) narrows to a subset that keeps the item a
  word was taken from, and a word found nowhere gives nothing;
- a filter value of the wrong shape (an unknown choice, a malformed id, an impossible date or
  quarter) is a 422 naming the parameter, never a 500 and never an answer that ignores it.

A new list operation fails here until it is reachable from the access tables and either takes ``q``
or is added to ``EXEMPT`` with a reason.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

import covey.urls  # noqa: F401  (loads every router, so the document is complete at collection)
from covey.api import api as covey_api
from tests.test_api import as_user, assert_error
from tests.test_api_access import LISTS, TABLE, _fill, _ids, path_shape

# Lists without ``q``, each with why no one would search it.
EXEMPT = {
    "fx_rates_list": "Currency codes, a quarter and a rate: nothing to search; filter by period.",
    "deal_events_list": "One deal's payment and customer events: a kind, a date, an amount and at most a short note; "
                        "a deal has a handful, read in date order.",
    "mapping_overlaps": "One matrix cell's pairs, whose fields each side shares selectively: a text search over them "
                        "could test values the viewer is not shown, and count is the cell's count.",
}

NO_SUCH_THING = "zzzz-no-such-thing"
ROLES = ("vendor_admin", "a_admin")


def _document() -> dict:
    # The served /api/openapi.json, as JSON (status codes as strings); see test_the_document_is_the_served_one.
    return json.loads(json.dumps(covey_api.get_openapi_schema()))


DOCUMENT = _document()


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _list_operations() -> dict[str, tuple[str, dict]]:
    """operationId → (path, operation) of every GET answering items and count."""
    found = {}
    for path, operations in DOCUMENT["paths"].items():
        get = operations.get("get")
        answer = (get or {}).get("responses", {}).get("200", {}).get("content", {}).get("application/json")
        if answer and {"items", "count"} <= set(_resolve(answer["schema"]).get("properties", {})):
            found[get["operationId"]] = (path, get)
    return found


OPERATIONS = _list_operations()


def _query_parameters(operation: dict) -> dict[str, dict]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


def _example_paths() -> dict[str, str]:
    """OpenAPI path → a request the access tables make on it (ids as placeholders), the plainest one:
    a path whose only query is what the operation requires (the overlaps' cell)."""
    examples: dict[str, list[str]] = {}
    for path in [row[2] for row in TABLE if row[1] == "GET"] + LISTS:
        examples.setdefault(path_shape(path), []).append(path)
    found = {}
    for path, operation in OPERATIONS.values():
        required = {name for name, p in _query_parameters(operation).items() if p.get("required")}
        plain = [e for e in examples.get(path_shape(path), []) if {k for k, _ in parse_qsl(urlsplit(e).query)} == required]
        if plain:
            found[path_shape(path)] = plain[0]
    return found


EXAMPLES = _example_paths()


def _example(operation_id: str) -> str | None:
    return EXAMPLES.get(path_shape(OPERATIONS[operation_id][0]))


TWINS = 4  # partners of one name, so lists ordered by partner name tie


@pytest.fixture(scope="module")
def lists_world(module_full_world, django_db_blocker):
    """The access tables' world plus rows that tie on their list's order and rows for the lists the
    world leaves empty, inside the module's transaction (rolled back when the module ends)."""
    from datetime import date

    from covey.crm.models import DealEvent
    from covey.mdf.models import Allocation
    from covey.partners.models import Partner
    from covey.payouts.models import FxRate, PayoutBatch

    w = module_full_world
    with django_db_blocker.unblock():
        w.twins = [Partner.objects.create(name="Twin Partners", lifecycle="active") for _ in range(TWINS)]
        # Same budget, same partner name: only the id tells them apart. Allocated last partner first, so
        # the allocations' ids run against the partners'; the first ones written are written again, which
        # on PostgreSQL moves their rows behind the others, so a scan no longer meets them in id order.
        twins = [Allocation.objects.create(budget=w.mdf_budget, partner=twin, tier_code="gold", amount_minor=1_000)
                 for twin in reversed(w.twins)]
        Allocation.objects.filter(pk__in=[a.pk for a in twins[:2]]).update(amount_minor=2_000)
        for currency, rate in (("EUR", "1.0842"), ("GBP", "1.2650"), ("JPY", "0.0067")):
            FxRate.objects.create(period_key="2026Q3", currency=currency, base_currency="USD", per_base=rate)
        for _ in range(3):  # one day, three payments
            DealEvent.objects.create(opportunity=w.opportunity_a, kind="paid", occurred_on=date(2026, 9, 1),
                                     amount_minor=100_000, note="Instalment")
        PayoutBatch.objects.update(reference="Transfer BANKREF-2026-0042")
    return w


@pytest.fixture
def full_world(lists_world, db):
    return lists_world


# --- walking every list ----------------------------------------------------------------------------


def _get(api, path: str, **params):
    split = urlsplit(path)
    return api.get(split.path, dict(parse_qsl(split.query)) | {k: str(v) for k, v in params.items()})


def _key(operation_id: str, item: dict):
    """What tells one item of the list from another: its id, or for the few items without one, the fields
    that name them."""
    if operation_id == "registration_conflicts_list":
        return item["domain"]
    if operation_id == "fx_rates_list":
        return item["period"], item["currency"]
    if operation_id == "mdf_roi":
        return item["request"]["id"]
    return item["id"]


def _callers(world, operation_id: str):
    """(role, client, path, the whole list) for the vendor admin and, where partners may call the
    operation, partner A's admin."""
    ids = _ids(world)
    path = _fill(_example(operation_id), ids)
    for role in ROLES:
        api = as_user(getattr(world, role))
        whole = _get(api, path, limit=500)
        if role != "vendor_admin" and whole.status_code in (403, 404):
            continue  # not a partner's list
        assert whole.status_code == 200, (role, whole.content[:300])
        yield role, api, path, whole.json()


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_paging_one_at_a_time_gives_every_item_once_in_the_same_order(full_world, operation_id):
    for role, api, path, whole in _callers(full_world, operation_id):
        keys = [_key(operation_id, item) for item in whole["items"]]
        assert len(keys) == whole["count"] <= 500, role
        assert len(set(keys)) == len(keys), f"{role}: an item twice on one page"
        walked = []
        for offset in range(whole["count"]):
            one = _get(api, path, limit=1, offset=offset).json()
            assert one["count"] == whole["count"] and len(one["items"]) == 1, (role, offset, one)
            walked.append(_key(operation_id, one["items"][0]))
        assert walked == keys, f"{role}: pages of one differ from one page of all"


def test_rows_that_tie_on_the_order_come_by_id(full_world):
    """Allocations order by quarter and partner name; the twins tie on both, so the id decides."""
    api = as_user(full_world.vendor_admin)
    items = api.get("/api/mdf/allocations", {"limit": 500}).json()["items"]
    twins = {t.public_id for t in full_world.twins}
    shown = [a["id"] for a in items if a["partner"]["id"] in twins]
    in_id_order = [a.public_id for a in sorted((t.mdf_allocations.get() for t in full_world.twins), key=lambda a: a.pk)]
    assert shown == in_id_order


# --- q ---------------------------------------------------------------------------------------------

TEXT = ("name", "title", "subject", "company_name", "person_name", "full_name", "domain", "url", "event",
        "explanation", "reference", "body")
REFERENCES = ("opportunity", "partner", "program", "user", "request", "account")


def _text(operation_id: str, item: dict) -> str:
    """Text of the item that its list's q searches."""
    if operation_id == "mdf_claims_list":  # a claim names its request by id; q finds it by the request's title
        from covey.mdf.models import FundRequest

        return FundRequest.objects.get(public_id=item["request"]).title
    if operation_id == "analytics_targets_list":
        return item["partner"]["name"] if item["partner"] else item["tier"]
    for key in TEXT:
        if isinstance(item.get(key), str) and item[key].strip():
            return item[key]
    for key in REFERENCES:
        if isinstance(item.get(key), dict) and item[key].get("name"):
            return item[key]["name"]
    raise AssertionError(f"{operation_id}: no text to search for in {item}")


def _word(text: str) -> str:
    return max(re.findall(r"[^\W_]{3,}", text), key=len)


SEARCHED = sorted(op for op in OPERATIONS if op not in EXEMPT)


@pytest.mark.parametrize("operation_id", SEARCHED)
def test_q_narrows_to_a_subset_that_keeps_the_match_and_an_unknown_word_finds_nothing(full_world, operation_id):
    for role, api, path, whole in _callers(full_world, operation_id):
        if not whole["items"]:
            assert role != "vendor_admin", "the world has nothing in this list to search for"
            continue
        first = whole["items"][0]
        word = _word(_text(operation_id, first))
        found = _get(api, path, q=word, limit=500).json()
        keys = {_key(operation_id, item) for item in found["items"]}
        assert _key(operation_id, first) in keys, f"{role}: q={word!r} lost the item it was taken from"
        assert keys <= {_key(operation_id, item) for item in whole["items"]}, f"{role}: q={word!r} widened the list"
        assert found["count"] == len(found["items"])
        assert _get(api, path, q=word.swapcase()).json()["count"] == found["count"], f"{role}: q is case-sensitive"
        assert _get(api, path, q=NO_SUCH_THING).json() | {"unread": None} == {"items": [], "count": 0, "unread": None}


# --- bad filter values ----------------------------------------------------------------------------


def _bad_value(schema: dict) -> str | None:
    """A value of the wrong shape for a filter, or None for free text (anything is a fine search)."""
    choices = [_resolve(s) for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    s = choices[0]
    if "enum" in s:
        return "no-such-value"
    if "pattern" in s:
        return "not an id"
    if s.get("format") == "date":
        return "2026-02-30"
    if s.get("type") == "boolean":
        return "perhaps"
    if s.get("type") == "integer":
        return "many"
    return None


BAD_FILTERS = sorted(
    (operation_id, name, value)
    for operation_id, (_path, operation) in OPERATIONS.items()
    for name, parameter in _query_parameters(operation).items()
    if name not in ("limit", "offset") and (value := _bad_value(parameter["schema"])) is not None
)


@pytest.mark.parametrize("operation_id,name,value", BAD_FILTERS, ids=[f"{o}-{n}" for o, n, _ in BAD_FILTERS])
def test_a_filter_value_of_the_wrong_shape_is_a_422_naming_it(full_world, operation_id, name, value):
    path = _fill(_example(operation_id), _ids(full_world))
    response = _get(as_user(full_world.vendor_admin), path, **{name: value})
    assert_error(response, 422, "validation_error", field=name)


def test_a_well_formed_id_that_names_nothing_visible_gives_an_empty_list(full_world):
    api = as_user(full_world.b_admin)
    for path, name, value in (("/api/opportunities", "account", full_world.account_a.public_id),
                              ("/api/plans", "opportunity", "opp_000000000000"),
                              ("/api/payouts/ledger", "program", "prg_000000000000")):
        assert api.get(path, {name: value}).json()["count"] == 0, path


def test_a_quarter_filter_takes_any_case_and_surrounding_spaces(full_world):
    api = as_user(full_world.vendor_admin)
    assert api.get("/api/payouts/fx-rates", {"period": " 2026q3 "}).json()["count"] == 3
    assert_error(api.get("/api/payouts/fx-rates", {"period": "2026Q5"}), 422, "validation_error", field="period")


# --- coverage -------------------------------------------------------------------------------------


@pytest.mark.pure
def test_every_list_operation_is_walked_and_takes_q_or_says_why_not():
    assert {"partners_list", "tokens_list", "mapping_overlaps", "mdf_roi"} <= set(OPERATIONS)
    unreachable = sorted(op for op in OPERATIONS if _example(op) is None)
    assert not unreachable, f"list operations with no request in the access tables (TABLE or LISTS): {unreachable}"
    without_q = sorted(op for op, (_, o) in OPERATIONS.items() if "q" not in _query_parameters(o) and op not in EXEMPT)
    assert not without_q, f"list operations without q: give them q, or an entry in EXEMPT saying why: {without_q}"
    stale = sorted(op for op in EXEMPT if op not in OPERATIONS or "q" in _query_parameters(OPERATIONS[op][1]))
    assert not stale, f"EXEMPT names operations that are gone or take q: {stale}"


def test_the_document_is_the_served_one(db):
    assert Client().get("/api/openapi.json").json() == DOCUMENT


ORDERS = [  # (model, order_by(...) or None for the model's own, what page() orders by)
    ("crm.Account", None, ("name", "pk")),  # Meta.ordering ["name"]: names can repeat
    ("crm.Account", ("-name",), ("-name", "-pk")),
    ("crm.Account", (), ("pk",)),  # order cleared: the key alone
    ("crm.Opportunity", None, ("-close_date", "-id")),  # already ends in the id
    ("crm.Product", ("name",), ("name",)),  # product names are unique
    ("mdf.Allocation", ("-budget__period_key", "partner__name"), ("-budget__period_key", "partner__name", "pk")),
    ("partners.Membership", ("partner",), ("partner", "pk")),  # a relation orders by the other model's order
]


@pytest.mark.pure
@pytest.mark.parametrize("model,order,expected", ORDERS)
def test_total_order_ends_in_a_unique_key(model, order, expected):
    from django.apps import apps

    from covey.core.api import total_order

    queryset = apps.get_model(model).objects.all()
    if order is not None:
        queryset = queryset.order_by(*order)
    assert total_order(queryset).query.order_by == expected
