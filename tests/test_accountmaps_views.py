"""The mapping pages: uploading a list (and the report of a bad one), adjusting its columns,
populations, the matrix with its counts and sharing forms, drill-downs, co-sell targets and the
one-click actions."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from covey.accountmaps.models import AccountList, ListRow, SharingRule
from tests.access_rows.mapping import A_LIST_CSV, build


@pytest.fixture
def mapped(world):
    build(world)
    return world


def _file(text: str | bytes, name: str = "accounts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


def test_a_partner_uploads_its_list_and_sees_the_import_report(world, login):
    client = login(world.a_rep)
    response = client.post(reverse("mapping_list_upload"), {"file": _file(A_LIST_CSV), "name": "Our book"}, follow=True)
    assert response.status_code == 200
    account_list = AccountList.objects.get(name="Our book")
    assert account_list.partner == world.partner_a and account_list.row_count == 5
    page = response.content.decode()
    assert "Import report" in page and "Rows read" in page and "mapping has started" in page
    assert account_list.runs.get().status == "done"


def test_a_vendor_uploads_for_a_partner_it_manages_only(world, login):
    client = login(world.partner_manager)
    form = client.get(reverse("mapping_list_upload")).content.decode()
    assert world.partner_a.name in form and world.partner_b.name not in form
    response = client.post(reverse("mapping_list_upload"), {"file": _file(A_LIST_CSV), "partner": world.partner_b.public_id})
    assert response.status_code == 200 and not AccountList.objects.filter(partner=world.partner_b).exists()
    client.post(reverse("mapping_list_upload"), {"file": _file(A_LIST_CSV), "partner": world.partner_a.public_id})
    assert AccountList.objects.filter(partner=world.partner_a).count() == 1


@pytest.mark.parametrize("content, message", [
    ("Colour,Size\nred,10\n", "No column looks like a company name"),
    ("", "The submitted file is empty"),
])
def test_a_bad_file_is_explained_and_nothing_is_written(world, login, content, message):
    response = login(world.a_admin).post(reverse("mapping_list_upload"), {"file": _file(content)})
    assert response.status_code in (200, 422)
    assert message in response.content.decode()
    assert not AccountList.objects.exists() and not ListRow.objects.exists()


def test_an_xlsx_export_with_hubspot_headers_is_read(world, login):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Record ID", "Company name", "Company Domain Name", "Country/Region", "Lifecycle Stage", "Number of Employees"])
    sheet.append([101, "Northwind Traders", "northwind-traders.example", "United States", "customer", 1200])
    sheet.append([102, "Lonely Ltd", "lonely.example", "Germany", "lead", 5])
    data = io.BytesIO()
    book.save(data)
    login(world.a_admin).post(reverse("mapping_list_upload"), {"file": _file(data.getvalue(), "hubspot.xlsx")})
    account_list = AccountList.objects.get(partner=world.partner_a)
    assert account_list.columns["id"] == "Record ID" and account_list.columns["status"] == "Lifecycle Stage"
    assert list(ListRow.objects.filter(account_list=account_list).order_by("row").values_list("external_id", "status", "employees")) == [
        ("101", "customer", 1200), ("102", "prospect", 5)]


def test_the_columns_can_be_adjusted_and_the_file_is_read_again(mapped, login):
    w = mapped
    client = login(w.a_admin)
    page = client.get(reverse("mapping_list_detail", kwargs={"public_id": w.map_list_a.public_id})).content.decode()
    assert "Read again with these columns" in page
    columns = {**w.map_list_a.columns, "industry": "", "region": "Industry"}
    client.post(reverse("mapping_list_columns", kwargs={"public_id": w.map_list_a.public_id}), columns)
    w.map_list_a.refresh_from_db()
    assert w.map_list_a.version == 2 and "industry" not in w.map_list_a.columns
    assert set(ListRow.objects.filter(account_list=w.map_list_a, version=2).values_list("region", flat=True)) >= {"Retail"}


def test_a_refresh_reads_a_new_version(mapped, login):
    w = mapped
    smaller = "\n".join(A_LIST_CSV.splitlines()[:3]) + "\n"
    response = login(w.a_rep).post(reverse("mapping_list_refresh", kwargs={"public_id": w.map_list_a.public_id}),
                                   {"file": _file(smaller)}, follow=True)
    assert "version 2" in response.content.decode()
    w.map_list_a.refresh_from_db()
    assert w.map_list_a.row_count == 2


def test_the_matrix_shows_counts_and_each_side_sets_its_own_sharing(mapped, login):
    w = mapped
    url = reverse("mapping_matrix", kwargs={"public_id": w.map_list_a.public_id})
    page = login(w.partner_manager).get(url).content.decode()
    assert "Accounts in common" in page and "What we share with Alpha Integrations" in page
    assert 'aria-label="Prospects × Customers: 2"' in page
    response = login(w.partner_manager).post(
        reverse("mapping_sharing_set", kwargs={"public_id": w.map_pop_ours_prospects.public_id}),
        {"partner": w.partner_a.public_id, "list": w.map_list_a.public_id, "level": "overlaps", "fields": ["country", "city"]})
    assert response.status_code == 302 and response["Location"] == url
    rule = SharingRule.objects.get(population=w.map_pop_ours_prospects, partner=w.partner_a)
    assert rule.level == "overlaps" and rule.fields == ["country", "city"]
    # The partner cannot change what the vendor shares, nor the other way round.
    refused = login(w.a_admin).post(reverse("mapping_sharing_set", kwargs={"public_id": w.map_pop_ours_prospects.public_id}),
                                    {"partner": w.partner_a.public_id, "level": "all"})
    assert refused.status_code == 403
    refused = login(w.vendor_admin).post(reverse("mapping_sharing_set", kwargs={"public_id": w.map_pop_a_customers.public_id}),
                                         {"level": "all"})
    assert refused.status_code == 403


def test_drill_down_lists_the_records_the_sharing_allows(mapped, login):
    w = mapped
    url = reverse("mapping_overlaps", kwargs={"public_id": w.map_list_a.public_id})
    page = login(w.a_rep).get(f"{url}?ours={w.map_pop_ours_open.public_id}&theirs={w.map_pop_a_customers.public_id}").content.decode()
    assert "Customer A Ltd" in page and "Request introduction" in page and "Start account plan" not in page
    page = login(w.a_rep).get(f"{url}?ours={w.map_pop_ours_prospects.public_id}&theirs={w.map_pop_a_customers.public_id}").content.decode()
    assert "counts only" in page and "Globex Corporation" not in page


def test_co_sell_targets_turn_into_a_plan_or_an_introduction(mapped, login):
    from covey.core.models import Notification
    from covey.joint.models import JointAccountPlan

    w = mapped
    page = login(w.sales_rep).get(reverse("mapping_targets", kwargs={"public_id": w.map_list_a.public_id})).content.decode()
    assert "Our open opportunities at their customers" in page and "Start account plan" in page
    response = login(w.sales_rep).post(reverse("mapping_pair_plan", kwargs={"public_id": w.map_pair_a.public_id}))
    plan = JointAccountPlan.objects.get(account=w.account_a, partner=w.partner_a)
    assert response["Location"] == reverse("joint_plan_detail", kwargs={"public_id": plan.public_id})
    login(w.a_rep).post(reverse("mapping_pair_introduce", kwargs={"public_id": w.map_pair_a.public_id}), {"note": "Let's meet"})
    assert Notification.objects.get(recipient=w.partner_manager, kind="mapping.introduction").body.startswith("Let's meet")


def test_custom_populations_are_added_by_the_lists_side(mapped, login):
    w = mapped
    url = reverse("mapping_population_create", kwargs={"public_id": w.map_list_a.public_id})
    login(w.a_admin).post(url, {"name": "Big accounts", "employees_min": "1000"})
    assert w.map_list_a.populations.filter(name="Big accounts", filters={"employees_min": 1000}).exists()
    page = login(w.a_admin).post(url, {"name": "Nothing"}).content.decode()
    assert "Choose at least one filter" in page
    assert login(w.partner_manager).post(url, {"name": "Vendor idea", "industry": "Retail"}).status_code == 403


def test_the_run_status_polls_while_a_run_is_going(mapped, login, settings):
    w = mapped
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    login(w.a_admin).post(reverse("mapping_run_start", kwargs={"public_id": w.map_list_a.public_id}))
    page = login(w.a_admin).get(reverse("mapping_run_status", kwargs={"public_id": w.map_list_a.public_id})).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Showing the results of the run finished" in page
