"""The import upload pages: who may use them, what they show, and that bad files import nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.urls import NoReverseMatch, include, path, reverse

from covey.core.models import AuditEvent
from covey.crm.models import Account, Opportunity

FIXTURES = Path(__file__).parent / "fixtures" / "crm"

# The lead mounts covey.crm.import_urls at the site root, before covey.crm.urls (whose
# "accounts/<public_id>/" would otherwise catch "accounts/import/"); until then this module does.
# Navigation entries whose pages are not built yet get placeholders so the layout renders.
urlpatterns = [path("", include("covey.crm.import_urls")), path("", include("covey.urls"))]
for _name in ("partner_list", "account_list", "opportunity_list", "activity_list", "product_list"):
    try:
        reverse(_name, urlconf="covey.urls")
    except NoReverseMatch:
        urlpatterns.append(path(f"__placeholder__/{_name}/", lambda request: HttpResponse(""), name=_name))

pytestmark = pytest.mark.urls(__name__)


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/csv")


def post(client, url_name: str, file: SimpleUploadedFile, **fields):
    return client.post(reverse(url_name), {"file": file, "format": "auto", **fields})


@pytest.mark.parametrize("who", ["vendor_admin", "partner_manager", "sales_rep"])
def test_crm_editors_see_the_upload_form(cast, login, who):
    response = login(getattr(cast, who)).get(reverse("account_import"))

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"Import valid rows only" in response.content


@pytest.mark.parametrize("who", ["finance", "executive", "a_admin", "a_rep", "a_readonly", "b_rep"])
@pytest.mark.parametrize("url_name", ["account_import", "opportunity_import"])
def test_everyone_else_is_refused_even_with_a_valid_file(cast, login, who, url_name):
    client = login(getattr(cast, who))

    assert client.get(reverse(url_name)).status_code == 403
    assert post(client, url_name, upload("Accounts.json")).status_code == 403
    assert Account.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in(client, cast):
    response = client.get(reverse("opportunity_import"))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_uploading_a_file_imports_it_and_shows_the_counts(cast, login):
    response = post(login(cast.sales_rep), "account_import", upload("salesforce_accounts.csv"))

    assert response.status_code == 200
    assert b"Import finished" in response.content
    report = response.context["report"]
    assert report.counts["accounts"].created == 3 and Account.objects.count() == 3
    assert set(AuditEvent.objects.filter(source="import").values_list("actor_id", flat=True)) == {cast.sales_rep.pk}


def test_a_data_tree_with_nested_accounts_and_opportunities_imports_on_the_opportunities_page(cast, login):
    import_accounts = post(login(cast.sales_rep), "account_import", upload("Accounts.json"))
    response = post(login(cast.sales_rep), "opportunity_import", upload("Opportunities.json"))

    assert import_accounts.status_code == response.status_code == 200
    assert response.context["report"].counts["opportunities"].created == 5
    assert Opportunity.objects.count() == 5


def test_a_file_with_bad_rows_shows_each_problem_and_imports_nothing(cast, login):
    Account.objects.create(name="Acme", external_id="ACC-1")
    content = (
        b"external_id,name,account_external_id,stage,amount,currency,close_date\n"
        b"O-1,Good,ACC-1,Prospecting,10.00,USD,2026-01-31\n"
        b"O-2,Bad,ACC-1,Won,10.001,USD,2026-01-31\n"
    )

    response = post(login(cast.sales_rep), "opportunity_import", upload("deals.csv", content))

    assert response.status_code == 200
    assert b"Nothing was imported" in response.content
    html = response.content.decode()
    assert "Row 3" in html and "stage" in html and "is not a known stage" in html
    assert "more than 2 decimal places for USD" in html
    assert Opportunity.objects.count() == 0


def test_import_valid_rows_only_imports_the_good_rows_and_lists_the_rejected(cast, login):
    Account.objects.create(name="Acme", external_id="ACC-1")
    content = (
        b"external_id,name,account_external_id,stage,close_date\n"
        b"O-1,Good,ACC-1,Prospecting,2026-01-31\n"
        b"O-2,Bad,ACC-1,Won,2026-01-31\n"
    )

    response = post(login(cast.sales_rep), "opportunity_import", upload("deals.csv", content), skip_invalid="on")

    assert b"Imported, with rejected rows" in response.content and b"is not a known stage" in response.content
    assert list(Opportunity.objects.values_list("external_id", flat=True)) == ["O-1"]


def test_a_file_over_the_size_limit_is_refused_with_the_limit(cast, login, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    content = b"external_id,name\n" + b"".join(b"A-%d,Company %d\n" % (i, i) for i in range(200))

    response = post(login(cast.sales_rep), "account_import", upload("big.csv", content))

    html = response.content.decode()
    assert "uploads are limited to 1.0\xa0KB" in html and "covey import" in html
    assert Account.objects.count() == 0


def test_a_windows_1252_file_explains_itself_and_imports_with_the_encoding_chosen(cast, login):
    content = "external_id,name\nA-1,Café\n".encode("cp1252")
    client = login(cast.sales_rep)

    refused = post(client, "account_import", upload("a.csv", content))
    assert "Windows-1252" in refused.content.decode() and Account.objects.count() == 0

    post(client, "account_import", upload("a.csv", content), encoding="cp1252")
    assert Account.objects.get().name == "Café"


def test_a_plan_file_on_the_upload_page_asks_for_the_data_files(cast, login):
    response = post(login(cast.sales_rep), "account_import", upload("plan.json"))

    assert "upload the data files themselves" in response.content.decode()


def test_a_nul_byte_in_an_uploaded_file_is_a_row_error_not_a_crash(cast, login):
    response = post(login(cast.sales_rep), "account_import", upload("a.csv", b"external_id,name\nA-1,Bad\x00name\n"))

    assert response.status_code == 200 and b"NUL character" in response.content
    assert Account.objects.count() == 0
