"""Token scopes: a read-only token reads what its user can and changes nothing, refused in one place.

The walk over the OpenAPI document sends every unsafe operation with a read-only token and expects
the scope's 403 — not a 404 from looking something up, not a 422 from reading the body — so a new
endpoint cannot forget the check: there is none to forget.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.test_api import SECRET_CSRF, Api, assert_error

UNSAFE = ("post", "put", "patch", "delete")


def token(user, scope: str) -> Api:
    from covey.core.models import ApiToken

    return Api(key=ApiToken.issue(user=user, name=f"{scope} test", scope=scope)[1])


def test_a_read_token_reads_what_its_user_reads_and_no_more(world):
    own = token(world.a_rep, "read")
    assert own.get("/api/me").status_code == 200
    assert own.get(f"/api/opportunities/{world.opportunity_a.public_id}").status_code == 200
    assert own.get(f"/api/opportunities/{world.opportunity_b.public_id}").status_code == 404  # B's deal stays invisible
    names = {o["name"] for o in own.get("/api/opportunities").json()["items"]}
    assert names == {"Deal A"}


def test_a_read_token_changes_nothing_and_says_why(world):
    from covey.core.models import AuditEvent
    from covey.crm.models import Account

    reader = token(world.sales_rep, "read")
    before = (Account.objects.count(), AuditEvent.objects.count())
    body = assert_error(reader.post("/api/accounts", {"name": "New Co"}), 403, "insufficient_scope")
    assert "read-only" in body["detail"]
    assert_error(reader.patch(f"/api/accounts/{world.account_a.public_id}", {"industry": "X"}), 403, "insufficient_scope")
    assert_error(reader.delete(f"/api/opportunities/{world.opportunity_a.public_id}"), 403, "insufficient_scope")
    assert (Account.objects.count(), AuditEvent.objects.count()) == before

    writer = token(world.sales_rep, "read_write")
    assert writer.post("/api/accounts", {"name": "New Co"}).status_code == 201


def test_a_read_write_token_is_still_bound_by_its_role(world):
    writer = token(world.a_readonly, "read_write")  # a read-only partner member: the role refuses, not the scope
    assert_error(writer.patch(f"/api/activities/{world.activity_a.public_id}", {"notes": "x"}), 403, "forbidden")


def test_the_session_is_not_scoped(world):
    browser = Client()
    browser.force_login(world.sales_rep)
    browser.cookies["csrftoken"] = SECRET_CSRF
    response = browser.post("/api/accounts", '{"name": "From the browser"}', content_type="application/json",
                            headers={"x-csrftoken": SECRET_CSRF})
    assert response.status_code == 201


def test_a_read_token_is_looked_up_with_its_user_in_one_query(cast):
    from covey.api import user_for_token
    from covey.core.models import ApiToken

    token_, key = ApiToken.issue(user=cast.a_rep, name="r", scope="read")
    ApiToken.objects.filter(pk=token_.pk).update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        user = user_for_token(key)
        assert user.token_scope == "read" and user.membership.partner == cast.partner_a
    assert len(queries) == 1


def _unsafe_operations() -> list[tuple[str, str]]:
    schema = Client().get("/api/openapi.json").json()
    return [(method, path) for path, ops in schema["paths"].items() for method in ops if method in UNSAFE]


def test_every_unsafe_operation_in_the_schema_refuses_a_read_token(world):
    from covey.core.models import AuditEvent

    operations = _unsafe_operations()
    assert len(operations) > 50  # the whole API, not a handful
    ids = {"id": world.opportunity_a.public_id}
    for reader in (token(world.vendor_admin, "read"), token(world.a_admin, "read")):
        before = AuditEvent.objects.count()
        wrong = []
        for method, path in operations:
            url = re.sub(r"{(\w+)}", lambda m: ids.get(m.group(1), "xyz_unknown"), path)
            response = reader.send(method.upper(), url, {})
            if response.status_code != 403 or response.json().get("code") != "insufficient_scope":
                wrong.append(f"{method.upper()} {path}: {response.status_code} {response.content[:120]!r}")
        assert not wrong, "\n".join(wrong)
        assert AuditEvent.objects.count() == before


# --- creating and revoking tokens ------------------------------------------------------------


def test_the_settings_page_creates_a_token_with_the_chosen_scope(login, cast):
    from covey.core.models import ApiToken

    client = login(cast.a_rep)
    page = client.get("/settings/tokens/")
    assert b'value="read"' in page.content and b'value="read_write"' in page.content
    response = client.post("/settings/tokens/", {"name": "Reporting", "scope": "read"})
    assert response.status_code == 200 and b"cvy_" in response.content and b"Read only" in response.content
    assert ApiToken.objects.get(user=cast.a_rep, name="Reporting").scope == "read"
    response = client.post("/settings/tokens/", {"name": "Bad", "scope": "admin"})
    assert b"Select a valid choice" in response.content
    assert not ApiToken.objects.filter(name="Bad").exists()


def test_tokens_over_the_api_never_widen_the_scope(cast):
    from covey.core.models import ApiToken

    writer = token(cast.a_rep, "read_write")
    created = writer.post("/api/tokens", {"name": "Dashboards", "scope": "read"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["scope"] == "read" and body["key"].startswith("cvy_")
    made = Api(key=body["key"])
    assert made.get("/api/me").status_code == 200
    assert_error(made.post("/api/tokens", {"name": "Escalate", "scope": "read_write"}), 403, "insufficient_scope")
    assert writer.post("/api/tokens", {"name": "Default"}).json()["scope"] == "read"  # read unless asked
    assert_error(writer.post("/api/tokens", {"name": "x", "scope": "root"}), 422, "validation_error", "scope")

    listed = writer.get("/api/tokens").json()
    assert listed["count"] == 3 and {t["name"] for t in listed["items"]} == {"read_write test", "Dashboards", "Default"}
    assert "key" not in listed["items"][0]
    other = token(cast.b_rep, "read_write")
    assert other.get("/api/tokens").json()["count"] == 1  # own tokens only
    assert_error(other.delete(f"/api/tokens/{body['id']}"), 404, "not_found")

    assert writer.delete(f"/api/tokens/{body['id']}").status_code == 204
    assert ApiToken.objects.get(public_id=body["id"]).revoked_at is not None
    assert_error(made.get("/api/me"), 401, "not_authenticated")


def test_a_replayed_token_create_never_repeats_the_key(cast):
    writer = token(cast.a_rep, "read_write")
    first = writer.post("/api/tokens", {"name": "Once"}, headers={"Idempotency-Key": "k1"})
    again = writer.post("/api/tokens", {"name": "Once"}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["key"].startswith("cvy_") and again.json()["key"] == ""
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.pure
def test_tokens_from_before_scopes_migrate_to_read_write():
    import importlib

    migration = importlib.import_module("covey.core.migrations.0006_apitoken_scope").Migration
    (add,) = migration.operations
    assert add.name == "scope" and add.field.default == "read_write"
