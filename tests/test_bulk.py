"""core.bulk: set-based inserts (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from covey.core.bulk import (
    bulk_insert,
    indexes_deferred,
    insert_instances,
    insert_together,
    next_id,
)
from covey.core.models import AuditEvent
from covey.crm.models import Account, Opportunity

pytestmark = pytest.mark.django_db

# Text that breaks naive COPY or CSV handling: quotes, tabs, newlines, backslashes, the COPY null
# marker as literal text, emoji, other scripts, trailing spaces.
AWKWARD = [
    "O'Brien \"Quoted\" & Sons",
    "tab\there",
    "line one\nline two\r\nline three",
    "back\\slash \\N \\t \\\\",
    r"\N",
    "emoji 🚀🤝 and ümlauts, 日本語",
    "trailing space ",
    "",
    "comma, semicolon; pipe | percent % underscore _",
]

ACCOUNT_FIELDS = ["public_id", "name", "domain", "website", "industry", "region", "country", "city", "phone",
                  "segment", "employees", "status", "owner", "external_id", "description", "created_at",
                  "updated_at"]


def _account_rows(n: int):
    base = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    for i in range(n):
        text = AWKWARD[i % len(AWKWARD)]
        yield (
            f"acc_test{i:08d}", f"{text} #{i}", f"d{i}.example", "", "", "", "", text, "", "",
            None if i % 3 == 0 else i * 7,  # NULL integers
            "prospect", None,
            None if i % 2 else f"EXT-{i}",  # NULL next to non-NULL in a unique column
            text,
            base + timedelta(minutes=i, microseconds=i),
            base + timedelta(days=i),
        )


def test_bulk_insert_writes_exactly_the_rows_given_and_they_read_back_unchanged():
    rows = list(_account_rows(50))

    written = bulk_insert(Account, ACCOUNT_FIELDS, iter(rows), batch_size=7)

    assert written == 50
    stored = list(Account.objects.order_by("public_id").values_list(*[
        "owner_id" if f == "owner" else f for f in ACCOUNT_FIELDS
    ]))
    assert stored == rows


def test_the_copy_null_marker_and_empty_text_stay_text_not_null():
    bulk_insert(Account, ACCOUNT_FIELDS, _account_rows(len(AWKWARD)))
    null_marker, empty_text = AWKWARD.index(r"\N"), AWKWARD.index("")

    literal = Account.objects.get(public_id=f"acc_test{null_marker:08d}")
    empty = Account.objects.get(public_id=f"acc_test{empty_text:08d}")
    assert literal.description == r"\N" and literal.city == r"\N"
    assert empty.description == "" and empty.city == ""


def test_json_dates_and_aware_datetimes_read_back_equal():
    at = datetime(2026, 11, 22, 23, 59, 58, 123456, tzinfo=UTC)
    changes = {"name": ["tab\tand\nnewline", "émoji 🚀 \\ \"quote\""], "amount_minor": [None, 4_800_000]}
    bulk_insert(AuditEvent, ["at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
                             "changes", "source"],
                [(at, None, "system", "create", "test.thing", "thg_1", "A thing", changes, "test")])

    event = AuditEvent.objects.get(object_id="thg_1")
    assert event.at == at
    assert event.changes == changes


def test_dates_and_foreign_keys_go_in_by_attname_or_name():
    account = Account.objects.create(name="Harbor Freight Lines", domain="harbor.example")
    close = date(2027, 1, 31)
    fields = ["public_id", "name", "account_id", "owner", "stage", "type", "amount_minor", "currency",
              "close_date", "lost_reason", "lead_source", "description", "created_at", "updated_at"]
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    bulk_insert(Opportunity, fields, [("opp_bulk0000001", "Renewal", account.pk, None, "Qualification", "renewal",
                                       12_345_600, "USD", close, "", "", "", now, now)])

    opp = Opportunity.objects.get(public_id="opp_bulk0000001")
    assert (opp.account, opp.close_date, opp.amount_minor) == (account, close, 12_345_600)
    assert isinstance(opp.amount_minor, int)


def test_a_missing_not_null_column_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="created_at"):
        bulk_insert(Account, ["public_id", "name"], [("acc_x", "No timestamps")])
    assert not Account.objects.exists()


def test_a_row_the_database_refuses_leaves_none_of_the_rows_behind():
    account = Account.objects.create(name="Cedar Health", domain="cedar.example")
    now = datetime(2026, 11, 22, tzinfo=UTC)
    fields = ["public_id", "name", "account", "owner", "stage", "type", "amount_minor", "currency", "close_date",
              "lost_reason", "lead_source", "description", "created_at", "updated_at"]

    def row(public_id: str, amount: int) -> tuple:
        return (public_id, "Deal", account.pk, None, "Prospecting", "new", amount, "USD", date(2027, 1, 1), "", "",
                "", now, now)

    with pytest.raises(IntegrityError):
        bulk_insert(Opportunity, fields, [row("opp_good1", 100), row("opp_good2", 200), row("opp_negative", -1)])

    assert not Opportunity.objects.exists()


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="values for"):
        bulk_insert(Account, ACCOUNT_FIELDS, [("acc_short", "Too short")])
    assert not Account.objects.exists()


def test_explicit_ids_move_the_id_sequence_so_later_inserts_do_not_collide():
    start = next_id(Account) + 1000
    rows = [(start + i, *row) for i, row in enumerate(_account_rows(3))]

    bulk_insert(Account, ["id", *ACCOUNT_FIELDS], rows)
    later = Account.objects.create(name="Made after the bulk insert", domain="later.example")

    assert later.pk > start + 2
    assert next_id(Account) == later.pk + 1


def _schema(model) -> dict:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {name: (tuple(c["columns"]), c["unique"], c["index"], c["foreign_key"]) for name, c in found.items()}


def test_deferring_indexes_for_a_load_puts_back_exactly_what_was_there():
    before = {m: _schema(m) for m in (Account, Opportunity)}

    with transaction.atomic(), indexes_deferred([Account, Opportunity]) as statements:
        assert statements  # there was something to defer
        bulk_insert(Account, ACCOUNT_FIELDS, _account_rows(20))

    assert {m: _schema(m) for m in (Account, Opportunity)} == before
    assert Account.objects.count() == 20
    assert Account.objects.filter(domain="d3.example").exists()  # the indexes answer queries again


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its foreign keys during the load")
def test_a_broken_foreign_key_loaded_while_keys_are_deferred_fails_the_load():
    now = datetime(2026, 11, 22, tzinfo=UTC)
    fields = ["public_id", "name", "account", "owner", "stage", "type", "amount_minor", "currency", "close_date",
              "lost_reason", "lead_source", "description", "created_at", "updated_at"]
    orphan = ("opp_orphan", "No such account", 987_654, None, "Prospecting", "new", 0, "USD", date(2027, 1, 1),
              "", "", "", now, now)

    with pytest.raises(IntegrityError), transaction.atomic(), indexes_deferred([Opportunity]):
        bulk_insert(Opportunity, fields, [orphan])

    assert not Opportunity.objects.exists()
    assert _schema(Opportunity)  # and the keys are back



# --- insert_instances / insert_together: the hot-path single-row writes ----------------------


def _registration(partner, domain="globex.de", **extra):
    from covey.registrations.models import Registration

    return Registration(
        partner=partner, company_name="Globex GmbH", domain=f"https://www.{domain}/", claim_domain=domain,
        normalised_name="globex", amount_minor=2_500_000, currency="EUR", expected_close=date(2027, 3, 1),
        holds_claim=True, **extra,
    )


def test_insert_instances_fills_what_save_would_and_reads_back_equal(cast):
    from covey.core.models import Notification

    notes = [Notification(recipient=cast.a_rep, kind="test", title=text[:200], body=text) for text in AWKWARD]
    insert_instances(notes)
    assert all(n.pk and n.public_id.startswith("ntf_") and not n._state.adding for n in notes)
    stored = {n.pk: n for n in Notification.objects.filter(pk__in=[n.pk for n in notes])}
    for note in notes:
        assert (stored[note.pk].body, stored[note.pk].public_id, stored[note.pk].created_at) == (
            note.body, note.public_id, note.created_at)


def test_insert_instances_refuses_a_saved_instance_or_mixed_models(cast):
    from covey.core.models import Notification

    saved = Notification.objects.create(recipient=cast.a_rep, kind="test", title="Saved")
    with pytest.raises(ValueError):
        insert_instances([saved])
    with pytest.raises(ValueError):
        insert_instances([Notification(recipient=cast.a_rep, kind="t", title="x"), AuditEvent(action="create")])


def test_insert_together_writes_the_parent_and_rows_pointing_at_it(world):
    from covey.core import audit
    from covey.registrations.models import Registration

    reg = _registration(world.partner_a)
    through = Registration.products.through
    links = [through(registration=reg, product=world.product)]
    event = audit.event(actor=world.a_rep, action="create", obj=reg, changes={"status": [None, "submitted"]})
    insert_together([reg], links, [event], [])
    assert reg.pk and links[0].pk and event.pk
    assert list(Registration.objects.get(pk=reg.pk).products.all()) == [world.product]
    assert links[0].registration_id == reg.pk


def test_a_refused_parent_writes_nothing_and_leaves_the_outer_transaction_usable(world):
    from covey.core import audit
    from covey.registrations.models import Registration

    first = _registration(world.partner_a)
    insert_together([first])
    events_before = AuditEvent.objects.count()
    with transaction.atomic():
        second = _registration(world.partner_b)  # the same claimed domain: the claim index refuses it
        event = audit.event(actor=world.b_rep, action="create", obj=second)
        with pytest.raises(IntegrityError):
            insert_together([second], [event])
        assert Registration.objects.count() == 1  # the outer transaction still answers
    assert AuditEvent.objects.count() == events_before and second.pk is None and event.pk is None


def test_insert_together_takes_exactly_one_parent(world):
    with pytest.raises(ValueError):
        insert_together([])
