"""Account mapping's services: importing lists (and refusing bad ones), the vendor's list from the
CRM, runs in the background that keep the previous results until they finish, populations,
sharing rules with their audit, and the co-sell actions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from covey.accountmaps import selectors, services
from covey.accountmaps.models import (
    AccountList,
    ListForms,
    ListRow,
    MappingRun,
    MatchedPair,
    PopulationKind,
    RunStatus,
)
from tests.access_rows.mapping import A_LIST_CSV, build


@pytest.fixture
def mapped(world):
    build(world)
    return world


def _pairs(account_list) -> set[tuple[str, str, str]]:
    run = account_list.runs.filter(status=RunStatus.DONE).first()
    return set(MatchedPair.objects.filter(run=run).values_list("our_row__name", "their_row__external_id", "kind"))


def test_an_uploaded_list_is_read_stored_and_mapped_against_the_crm(mapped):
    w = mapped
    a = w.map_list_a
    assert a.row_count == 5 and a.version == 1
    assert a.columns["name"] == "Company name" and a.columns["status"] == "Type" and a.columns["industry"] == "Industry"
    assert ListRow.objects.filter(account_list=a, status="customer").count() == 4
    run = a.runs.get()
    assert run.status == RunStatus.DONE and run.progress == 100 and run.counts["pairs"] == 4
    assert _pairs(a) == {
        ("Northwind Traders", "ALPHA-ROW-1", "domain"), ("Globex Corporation", "ALPHA-ROW-2", "domain"),
        ("Initech", "ALPHA-ROW-3", "domain"), ("Customer A Ltd", "ALPHA-ROW-5", "domain"),
    }
    ours = services.our_list_get()
    assert ours.populations.count() == 3 and ours.source == "crm"
    assert ListRow.objects.get(account_list=ours, version=ours.version, name="Initech").open_opportunity


@pytest.mark.parametrize("content, reason", [
    (b"", "is empty"),
    (b"Colour,Size\nred,10\n", "No column looks like a company name"),
    (b"Name,Website\n,\n  ,gmail.com\n", "no row has a company name"),
    (b"\x00\x01\x02binary", "binary content"),
])
def test_a_file_that_cannot_be_read_writes_nothing_and_says_why(cast, content, reason):
    before = (AccountList.objects.count(), ListRow.objects.count(), MappingRun.objects.count())
    account_list, upload = services.list_import(partner=cast.partner_a, actor=cast.a_admin, data=content, filename="bad.csv")
    assert account_list is None and reason in upload.report.fatal
    assert (AccountList.objects.count(), ListRow.objects.count(), MappingRun.objects.count()) == before


def test_rejected_rows_are_reported_and_nul_bytes_never_reach_the_database(cast):
    big = "x" * 3000
    filler = "".join(f"f{i},Filler Company {i},filler-{i}.example\n" for i in range(200))  # past the binary sniff
    csv = (f"Id,Name,Website\n{filler}1,Acme\x00 Corp,acme-corp.example\n1,Acme again,acme.example\n2,,\n"
           f"3,Free Mail Co,gmail.com\n4,{big},big.example\n").encode()
    account_list, upload = services.list_import(partner=cast.partner_a, actor=cast.a_admin, data=csv, filename="rows.csv")
    counts = upload.report.counts
    assert counts["duplicate_id"] == 1 and counts["cannot_match"] == 1 and counts["never_alone_domain"] == 1
    assert counts["cell_too_long"] == 1
    assert account_list.report["counts"] == dict(counts)
    assert not any("\x00" in name for name in ListRow.objects.values_list("name", flat=True))
    assert ListRow.objects.filter(account_list=account_list, name="Acme Corp").exists()


def test_a_refresh_keeps_the_previous_results_until_the_new_run_finishes(mapped, settings):
    w = mapped
    first = w.map_list_a.runs.get()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # no worker has started yet
    smaller = A_LIST_CSV.replace("ALPHA-ROW-2,Globex Corp,globex-corp.example,US,Customer,Energy,5400\n", "")
    account_list, _ = services.list_import(partner=w.partner_a, actor=w.a_admin, data=smaller.encode(), filename="v2.csv",
                                           account_list=w.map_list_a)
    assert account_list.version == 2
    view = selectors.mapping_view(user=w.vendor_admin, their_list=account_list)
    assert view.run == first and view.active_run is not None
    assert sum(selectors.matrix(view).values()) > 0  # still the first run's answer
    with pytest.raises(ValidationError):
        services.run_request(account_list=account_list, actor=w.a_admin)  # one at a time

    services.run_execute(run_id=view.active_run.pk)
    view = selectors.mapping_view(user=w.vendor_admin, their_list=account_list)
    assert view.run != first and view.run.their_version == 2
    assert ("Globex Corporation", "ALPHA-ROW-2", "domain") not in _pairs(account_list)
    assert not MatchedPair.objects.filter(run=first).exists()
    assert not ListRow.objects.filter(account_list=account_list, version=1).exists()


def _run_pairs(run) -> set[tuple]:
    return set(MatchedPair.objects.filter(run=run).values_list("our_row__external_id", "their_row__external_id", "kind", "score"))


def test_a_refresh_is_mapped_incrementally_with_the_same_result_as_a_full_run(mapped, login):
    w = mapped
    first = w.map_list_a.runs.get()
    assert not first.incremental and "no earlier run" in first.full_reason
    refreshed = (A_LIST_CSV.replace("ALPHA-ROW-2,Globex Corp,globex-corp.example,US,Customer,Energy,5400\n", "")  # removed
                 .replace("Initech LLC,initech-software.example", "Initech LLC,initech.example")  # edited: other domain
                 + "ALPHA-ROW-6,Globex Corporation,,US,Customer,Energy,5400\n")  # added: the same name, no domain
    account_list, _ = services.list_import(partner=w.partner_a, actor=w.a_admin, data=refreshed.encode(),
                                           filename="v2.csv", account_list=w.map_list_a)
    run = account_list.runs.first()
    assert run.status == RunStatus.DONE and run.incremental and not run.full_reason
    assert run.counts["changes"]["theirs"] == {"added": 1, "removed": 1, "edited": 1, "rows_rematched": 2, "rows": 5}
    assert run.rematched_rows == 2  # the two changed rows of theirs; ours (the CRM) did not change
    incremental = _run_pairs(run)
    assert ("Initech", "ALPHA-ROW-3", "domain") not in {p[:3] for p in incremental}
    assert ("Globex Corporation", "ALPHA-ROW-6", "name_exact") in {
        (n, t, k) for n, t, k in MatchedPair.objects.filter(run=run).values_list("our_row__name", "their_row__external_id", "kind")}

    page = login(w.a_admin).get(f"/mapping/lists/{account_list.public_id}/run/")
    assert "Incremental" in page.content.decode() and "2 added or edited rows re-matched" in page.content.decode()

    ListForms.objects.all().delete()  # no forms: the next run is a full one, and must agree
    full = services.run_request(account_list=account_list, actor=w.a_admin)
    full.refresh_from_db()
    assert not full.incremental and "no earlier run" in full.full_reason and full.rematched_rows > 2
    assert _run_pairs(full) == {(o, t, k, s) for o, t, k, s in incremental}


def test_a_run_that_fails_is_reported_and_changes_no_results(mapped, monkeypatch):
    w = mapped
    import covey.mapping

    monkeypatch.setattr(covey.mapping, "match_accounts", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("engine down")))
    run = services.run_request(account_list=w.map_list_a, actor=w.a_admin)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "engine down" in run.error
    view = selectors.mapping_view(user=w.vendor_admin, their_list=w.map_list_a)
    assert view.run == w.map_run_a and MatchedPair.objects.filter(run=w.map_run_a).count() == 4


def test_custom_populations_filter_rows_and_standard_ones_stay(mapped):
    w = mapped
    assert w.map_pop_a_custom.filters == {"industry": "Retail"}
    rows = ListRow.objects.filter(account_list=w.map_list_a, version=1).filter(w.map_pop_a_custom.row_filter())
    assert set(rows.values_list("external_id", flat=True)) == {"ALPHA-ROW-1", "ALPHA-ROW-5"}
    big = services.population_create(account_list=w.map_list_a, actor=w.a_admin, name="Large", filters={"employees_min": "1000"})
    assert set(ListRow.objects.filter(account_list=w.map_list_a).filter(big.row_filter()).values_list("external_id", flat=True)) == {
        "ALPHA-ROW-1", "ALPHA-ROW-2"}
    with pytest.raises(ValidationError, match="already has a population"):
        services.population_create(account_list=w.map_list_a, actor=w.a_admin, name="large", filters={"industry": "X"})
    with pytest.raises(ValidationError, match="at least one filter"):
        services.population_create(account_list=w.map_list_a, actor=w.a_admin, name="Everything", filters={})
    with pytest.raises(ValidationError, match="cannot be removed"):
        services.population_delete(population=w.map_pop_a_customers, actor=w.a_admin)


def test_sharing_changes_are_audited_and_fields_only_count_for_overlapping_records(mapped):
    from covey.core.models import AuditEvent

    w = mapped
    rule = services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.partner_manager,
                                level="counts", fields=["country"])
    assert rule.fields == []
    services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.partner_manager, level="all")
    event = AuditEvent.objects.filter(object_id=w.map_pop_ours_prospects.public_id).latest("id")
    assert event.changes == {"sharing with Alpha Integrations": ["counts", "all"]}
    with pytest.raises(ValidationError):
        services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.partner_manager, level="secret")
    with pytest.raises(ValidationError, match="Unknown fields"):
        services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.partner_manager,
                             level="overlaps", fields=["phone"])


def test_an_overlap_becomes_a_joint_account_plan_or_an_introduction_request(mapped):
    from covey.core.models import Notification

    w = mapped
    plan = services.plan_from_pair(pair=w.map_pair_a, actor=w.sales_rep)
    assert plan.account == w.account_a and plan.partner == w.partner_a
    intro = services.introduction_request(pair=w.map_pair_a, actor=w.sales_rep, note="They run our platform in two regions")
    assert intro.from_vendor and intro.their_name == "Customer A"
    assert Notification.objects.filter(recipient=w.a_admin, kind="mapping.introduction").exists()
    services.introduction_request(pair=w.map_pair_a, actor=w.a_rep)
    assert Notification.objects.filter(recipient=w.partner_manager, kind="mapping.introduction").exists()
    assert not Notification.objects.filter(recipient__in=[w.b_admin, w.b_rep], kind="mapping.introduction").exists()


def test_populations_of_the_vendor_list_follow_the_crm(mapped):
    w = mapped
    w.account_b.status = "customer"
    w.account_b.save()
    ours = services.our_list_rebuild(actor=w.vendor_admin)
    customers = ours.populations.get(kind=PopulationKind.CUSTOMERS)
    names = set(ListRow.objects.filter(account_list=ours, version=ours.version).filter(customers.row_filter())
                .values_list("name", flat=True))
    assert names == {"Northwind Traders", "Customer B Ltd"}
