"""The mapping API: uploads as JSON (CSV text or base64 XLSX) with their import report, refusing
bad files with the report and writing nothing; populations, sharing, runs, the matrix and overlap
records, all scoped by the same selector as the pages."""

from __future__ import annotations

import base64
import io

import pytest

from covey.accountmaps.models import AccountList, ListRow
from tests.access_rows.mapping import A_LIST_CSV, build
from tests.test_api import as_user, assert_error


@pytest.fixture
def mapped(world):
    build(world)
    return world


def test_a_partner_uploads_a_csv_and_gets_the_report_and_a_run(world):
    response = as_user(world.a_rep).post("/api/mapping/lists", {"filename": "book.csv", "content": A_LIST_CSV, "name": "Book"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Book" and body["rows"] == 5 and body["partner"]["id"] == world.partner_a.public_id
    assert body["report"]["rows"] == 5 and body["columns"]["status"] == "Type"
    assert body["latest_run"]["status"] == "done" and body["latest_run"]["counts"]["pairs"] == 1  # Customer A


def test_an_xlsx_comes_as_base64(world):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Id", "Name", "Website"])
    book.active.append(["X1", "Initech", "initech-software.example"])
    data = io.BytesIO()
    book.save(data)
    response = as_user(world.a_admin).post("/api/mapping/lists", {
        "filename": "book.xlsx", "content_base64": base64.b64encode(data.getvalue()).decode()})
    assert response.status_code == 201 and response.json()["report"]["encoding"] == "xlsx"


@pytest.mark.parametrize("body, status, field", [
    ({"filename": "x.csv", "content": "Colour\nred\n"}, 422, "content"),
    ({"filename": "x.csv"}, 422, "content"),
    ({"filename": "x.csv", "content": "a", "content_base64": "YQ=="}, 422, "content"),
    ({"filename": "x.xlsx", "content_base64": "not base64!"}, 422, "content_base64"),
    ({"filename": "x\x00.csv", "content": A_LIST_CSV}, 400, None),  # refused before it reaches the endpoint
])
def test_bad_uploads_are_refused_with_a_reason_and_write_nothing(world, body, status, field):
    response = as_user(world.a_admin).post("/api/mapping/lists", body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["code"] == ("validation_error" if status == 422 else "bad_input") and answer["detail"]
    if field:
        assert field in [e["field"] for e in answer["errors"]]
    assert not AccountList.objects.exists() and not ListRow.objects.exists()


def test_the_report_of_an_unreadable_file_comes_back(world):
    answer = as_user(world.a_admin).post("/api/mapping/lists", {"filename": "x.csv", "content": "Colour,Size\nred,1\n"}).json()
    assert "No column looks like a company name" in answer["report"]["fatal"]


def test_a_vendor_names_the_partner_it_may_upload_for(world):
    assert_error(as_user(world.partner_manager).post("/api/mapping/lists", {"filename": "a.csv", "content": A_LIST_CSV}),
                 422, "validation_error", "partner")
    refused = as_user(world.partner_manager).post("/api/mapping/lists", {
        "filename": "a.csv", "content": A_LIST_CSV, "partner": world.partner_b.public_id})
    assert_error(refused, 403, "forbidden")
    ok = as_user(world.partner_manager).post("/api/mapping/lists", {
        "filename": "a.csv", "content": A_LIST_CSV, "partner": world.partner_a.public_id})
    assert ok.status_code == 201


def test_the_matrix_and_overlaps_follow_the_sharing(mapped):
    w = mapped
    base = f"/api/mapping/lists/{w.map_list_a.public_id}"
    matrix = as_user(w.a_rep).get(f"{base}/matrix").json()
    cells = {(c["ours"], c["theirs"]): c["count"] for c in matrix["cells"]}
    assert cells[(w.map_pop_ours_open.public_id, w.map_pop_a_customers.public_id)] == 1
    assert matrix["run"]["status"] == "done"
    overlaps = as_user(w.a_rep).get(f"{base}/overlaps?ours={w.map_pop_ours_open.public_id}&theirs={w.map_pop_a_customers.public_id}")
    assert overlaps.json()["items"][0]["ours"] == {"name": "Customer A Ltd", "country": ""}
    assert overlaps.json()["items"][0]["id"] == w.map_pair_a.public_id


def test_sharing_is_set_through_the_api_by_the_owner_side(mapped):
    w = mapped
    path = f"/api/mapping/populations/{w.map_pop_ours_prospects.public_id}/sharing"
    assert_error(as_user(w.vendor_admin).send("PUT", path, {"level": "all"}), 422, "validation_error", "partner")
    answer = as_user(w.vendor_admin).send("PUT", path, {"level": "overlaps", "fields": ["city"], "partner": w.partner_a.public_id})
    assert answer.status_code == 200 and answer.json()["fields"] == ["city"]
    assert_error(as_user(w.other_manager).send("PUT", path, {"level": "all", "partner": w.partner_a.public_id}), 403, "forbidden")
    assert_error(as_user(w.vendor_admin).send("PUT", path, {"level": "everything", "partner": w.partner_a.public_id}), 422,
                 "validation_error")


def test_a_second_run_while_one_is_going_is_refused(mapped, settings):
    w = mapped
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    first = as_user(w.a_admin).post(f"/api/mapping/lists/{w.map_list_a.public_id}/runs")
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert_error(as_user(w.a_admin).post(f"/api/mapping/lists/{w.map_list_a.public_id}/runs"), 422, "validation_error")
    run = as_user(w.a_readonly).get(f"/api/mapping/runs/{first.json()['id']}").json()
    assert run["progress"] == 0 and run["status"] == "queued"


def test_the_vendors_own_list_is_not_an_api_list(mapped):
    w = mapped
    assert_error(as_user(w.vendor_admin).get(f"/api/mapping/lists/{w.map_our_list.public_id}"), 404, "not_found")


def test_the_rejected_rows_of_a_report_are_for_the_partner_and_its_uploaders(world):
    csv = "Id,Name,Website\nX1,Initech,initech-software.example\nX1,Initech again,initech.example\nX2,Free Co,gmail.com\n"
    created = as_user(world.a_admin).post("/api/mapping/lists", {"filename": "dupes.csv", "content": csv}).json()
    assert created["report"]["counts"] == {"duplicate_id": 1, "never_alone_domain": 1}
    path = f"/api/mapping/lists/{created['id']}"
    for user in (world.a_readonly, world.partner_manager):
        assert len(as_user(user).get(path).json()["report"]["problems"]) == 2
    finance = as_user(world.finance).get(path).json()["report"]
    assert finance["problems"] == [] and finance["counts"] == {"duplicate_id": 1, "never_alone_domain": 1}


def test_a_run_says_whether_it_was_incremental(mapped):
    w = mapped
    path = f"/api/mapping/lists/{w.map_list_a.public_id}/runs"
    first = as_user(w.a_admin).post(path).json()
    again = as_user(w.a_admin).get(f"/api/mapping/runs/{as_user(w.a_admin).post(path).json()['id']}").json()
    assert first["status"] == again["status"] == "done"
    assert again["incremental"] is True and again["full_reason"] == "" and again["rematched_rows"] == 0  # nothing changed
    assert first["incremental"] or first["full_reason"]  # a full run says why
