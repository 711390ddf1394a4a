"""The access matrix: every web route, tried by every member of the cast, against partner A's objects.

Each row names a URL pattern, how to fill its arguments from the test world, the method, and what
each person must get. Partner B's people are outsiders: they must get 404 for every one of A's
objects and must never see A's names or ids anywhere, on any page. ``test_every_route_is_in_the_matrix``
fails when someone adds a URL pattern without a row here, so the matrix keeps guarding as Covey
grows. (API operations have their own table in ``test_api_access.py``, checked for completeness
below as well.)
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.matrix import (  # noqa: F401 (the vocabulary rows are written in)
    ACTIVITY_A_EDITORS,
    ACTIVITY_LOGGERS,
    ACTIVITY_WRITE_A,
    ADMIN_ONLY,
    CAST,
    CRM_CREATE,
    CRM_EDITORS,
    CRM_WRITE_A,
    EVERYONE,
    LOGIN,
    OK,
    PARTNER_A,
    PARTNER_A_EDITORS,
    PARTNER_B,
    PARTNER_WRITE_A,
    PUBLIC,
    READ_A,
    SIGNED_IN,
    VENDOR,
    Route,
    expect,
    features,
    rest,
)

A_OPP = {"public_id": "opportunity_a.public_id"}
WEB_ROUTES: dict[str, Route] = {
    # core
    "home": Route(EVERYONE),
    "login": Route(PUBLIC),
    "health": Route(PUBLIC),
    "logout": Route({w: LOGIN for w in CAST}, method="POST"),  # everyone lands on the log-in page
    "password_reset": Route(PUBLIC),
    "password_reset_done": Route(PUBLIC),
    "password_reset_confirm": Route(PUBLIC, kwargs={"uidb64": "=MQ", "token": "=set-password"}),
    "password_reset_complete": Route(PUBLIC),
    "vendor_settings": Route(ADMIN_ONLY),
    # suggestions are scoped: partner B searching for "Deal" must not be offered A's deal
    "lookup": Route(EVERYONE, kwargs={"kind": "=opportunities"}, query="?q=Deal"),
    "token_list": Route(EVERYONE),
    # a token belongs to one person; anyone else is told it does not exist
    "token_revoke": Route(
        expect(ok=("a_admin",), hidden=rest(("a_admin",))), method="POST", kwargs={"public_id": "token_a.public_id"},
    ),
    # partners
    "partner_list": Route(EVERYONE),
    "partner_create": Route(expect(ok=("vendor_admin", "partner_manager", "other_manager"),
                                   forbidden=rest(("vendor_admin", "partner_manager", "other_manager")))),
    "partner_detail": Route(READ_A, kwargs={"public_id": "partner_a.public_id"}),
    "partner_edit": Route(PARTNER_WRITE_A, kwargs={"public_id": "partner_a.public_id"}),
    "partner_member_add": Route(PARTNER_WRITE_A, method="POST", kwargs={"public_id": "partner_a.public_id"}),
    "partner_member_role": Route(
        PARTNER_WRITE_A, method="POST", kwargs={"public_id": "partner_a.public_id", "user_id": "a_rep.public_id"},
    ),
    "partner_member_remove": Route(
        PARTNER_WRITE_A, method="POST", kwargs={"public_id": "partner_a.public_id", "user_id": "a_rep.public_id"},
    ),
    # accounts
    "account_list": Route(EVERYONE),
    "account_export": Route(EVERYONE),
    "account_import": Route(CRM_CREATE),
    "account_create": Route(CRM_CREATE),
    "account_detail": Route(READ_A, kwargs={"public_id": "account_a.public_id"}),
    "account_edit": Route(CRM_WRITE_A, kwargs={"public_id": "account_a.public_id"}),
    "account_delete": Route(CRM_WRITE_A, kwargs={"public_id": "account_a.public_id"}),
    # opportunities
    "opportunity_list": Route(EVERYONE),
    "opportunity_export": Route(EVERYONE),
    "opportunity_import": Route(CRM_CREATE),
    "opportunity_create": Route(CRM_CREATE),
    "opportunity_detail": Route(READ_A, kwargs=A_OPP),
    "opportunity_edit": Route(CRM_WRITE_A, kwargs=A_OPP),
    "opportunity_delete": Route(CRM_WRITE_A, kwargs=A_OPP),
    "opportunity_line_add": Route(CRM_WRITE_A, method="POST", kwargs=A_OPP),
    "opportunity_line_remove": Route(CRM_WRITE_A, method="POST", kwargs={**A_OPP, "line_id": "line_a.public_id"}),
    "opportunity_partner_add": Route(CRM_WRITE_A, method="POST", kwargs=A_OPP),
    "opportunity_partner_remove": Route(CRM_WRITE_A, method="POST", kwargs={**A_OPP, "link_id": "link_a.public_id"}),
    # activities
    "activity_list": Route(EVERYONE),
    "activity_create": Route(expect(ok=ACTIVITY_LOGGERS, forbidden=rest(ACTIVITY_LOGGERS))),
    "activity_detail": Route(READ_A, kwargs={"public_id": "activity_a.public_id"}),
    "activity_edit": Route(ACTIVITY_WRITE_A, kwargs={"public_id": "activity_a.public_id"}),
    "activity_delete": Route(ACTIVITY_WRITE_A, kwargs={"public_id": "activity_a.public_id"}),
    # products: the catalogue is public to signed-in users, managed by admins
    "product_list": Route(EVERYONE),
    "product_create": Route(ADMIN_ONLY),
    "product_edit": Route(ADMIN_ONLY, kwargs={"public_id": "product.public_id"}),
    # notifications: each person's own inbox; opening someone else's notification is a 404
    "notification_list": Route(EVERYONE),
    "notification_read_all": Route(EVERYONE, method="POST"),
    "notification_open": Route(
        expect(ok=("a_rep",), hidden=rest(("a_rep",))), method="POST", kwargs={"public_id": "notification_a.public_id"},
    ),
}
for _feature in features():
    _clash = set(_feature.WEB_ROUTES) & set(WEB_ROUTES)
    assert not _clash, f"{_feature.__name__} repeats rows: {_clash}"
    WEB_ROUTES.update(_feature.WEB_ROUTES)


# The access tables read one world built once per module (see conftest.module_full_world);
# ``full_world`` resolves to it here, each test inside its own rolled-back savepoint.
@pytest.fixture
def full_world(module_full_world, db):
    return module_full_world



def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _web_patterns() -> dict[str, str]:
    """URL name -> route, for every pattern outside the API (which has its own table)."""
    found = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/") or route.startswith("static/"):
            continue
        found[pattern.name or route] = route
    return found


def test_every_route_is_in_the_matrix():
    routes = _web_patterns()
    missing = sorted(set(routes) - set(WEB_ROUTES))
    stale = sorted(set(WEB_ROUTES) - set(routes))
    assert not missing, f"add these routes to WEB_ROUTES in {__file__}: {missing}"
    assert not stale, f"these WEB_ROUTES rows name routes that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(WEB_ROUTES))
def test_matrix_rows_name_every_member_of_the_cast(name):
    assert sorted(WEB_ROUTES[name].expected) == sorted(CAST)


def _resolve(world, path: str):
    if path.startswith("="):  # a literal value, not a path into the world
        return path[1:]
    obj = world
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _secrets_of_partner_a(world) -> list[str]:
    """Strings that only someone entitled to partner A's data may ever see."""
    feature_secrets = [s for feature in features() for s in feature.secrets(world)]
    return feature_secrets + [
        world.partner_a.name, world.partner_a.public_id, world.opportunity_a.name, world.opportunity_a.public_id,
        world.account_a.name, world.account_a.public_id, world.activity_a.subject, world.activity_a.public_id,
        world.a_rep.email, world.a_admin.email,
    ]


@pytest.fixture
def matrix_world(full_world):
    from covey.core.models import ApiToken, Notification

    world = full_world
    world.token_a, _ = ApiToken.issue(user=world.a_admin, name="A's integration")
    world.notification_a = Notification.objects.create(
        recipient=world.a_rep, kind="test", title="Deal A needs you", url=f"/opportunities/{world.opportunity_a.public_id}/",
    )
    return world


CASES = [(name, who) for name in sorted(WEB_ROUTES) for who in CAST]


@pytest.mark.parametrize("name, who", CASES, ids=[f"{n}-{w}" for n, w in CASES])
def test_route_answers_each_member_of_the_cast_as_the_matrix_says(client, matrix_world, name, who):
    route = WEB_ROUTES[name]
    url = reverse(name, kwargs={k: _resolve(matrix_world, v) for k, v in route.kwargs.items()}) + route.query
    if who != "anonymous":
        client.force_login(getattr(matrix_world, who))
    response = client.post(url, {}) if route.method == "POST" else client.get(url)
    expected = route.expected[who]

    status = response.status_code
    assert status < 500, f"{name} gave {status} to {who}"
    bounced_to_login = status in (301, 302) and reverse("login") in response.get("Location", "")
    if expected == LOGIN:
        assert bounced_to_login, f"{name}: anonymous got {status}, expected a redirect to log in"
    elif expected == OK:
        assert status < 400 and not bounced_to_login, f"{name}: {who} got {status}, expected success"
    else:
        assert status == expected, f"{name}: {who} got {status}, expected {expected}"

    if who in PARTNER_B:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        leaked = [s for s in _secrets_of_partner_a(matrix_world) if s in text]
        assert not leaked, f"{name} showed partner A's data to {who}: {leaked}"


def test_every_api_operation_is_in_the_api_access_tables():
    """Each OpenAPI operation is tried by the cast in test_api_access.py (its TABLE or LISTS)."""
    from covey.api import api
    from tests.test_api_access import LISTS, TABLE, path_shape

    covered = {(method, path_shape(path)) for _, method, path, _, _ in TABLE}
    covered |= {("GET", path_shape(path)) for path in LISTS}
    operations = {
        (method.upper(), path_shape(path))
        for path, methods in api.get_openapi_schema()["paths"].items()
        for method in methods
    }
    missing = sorted(operations - covered)
    assert not missing, f"add these API operations to TABLE in tests/test_api_access.py: {missing}"
