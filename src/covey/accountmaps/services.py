"""Account mapping's writes: list imports, the vendor's list from the CRM, populations, sharing
rules, mapping runs and the co-sell actions. Keyword-only, each ``@transaction.atomic`` so a
refused import or run writes nothing; domain errors are ``ValidationError`` with the messages below.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.urls import reverse
from django.utils import timezone

from covey.accountmaps import importing
from covey.accountmaps.models import (
    FILTER_FIELDS,
    SHAREABLE,
    STANDARD_POPULATIONS,
    AccountList,
    IntroductionRequest,
    ListFile,
    ListForms,
    ListRow,
    ListSource,
    MappingRun,
    MatchedPair,
    Population,
    PopulationKind,
    RunStatus,
    SharingLevel,
    SharingRule,
)
from covey.core import audit
from covey.core.bulk import insert_frame
from covey.core.notify import notify

log = logging.getLogger(__name__)

OUR_LIST_NAME = "Our accounts"
IMPORT_FAILED = "Nothing was imported: {reason}"
NO_ROWS_TO_MATCH = "Nothing was imported: no row has a company name or a usable domain."
NAME_REQUIRED = "Give the population a name."
NAME_TAKEN = "This list already has a population named “{name}”."
NO_FILTER = "Choose at least one filter for a custom population."
STANDARD_KEPT = "The standard populations (customers, open opportunities, prospects) cannot be removed."
BAD_LEVEL = "Choose hidden, counts only, overlapping records or all records."
BAD_FIELDS = "Unknown fields: {fields}."
RUN_BUSY = "A mapping run for this list is already queued or running; its results appear when it finishes."
NOT_OURS_ROW = "This overlap's account is not in the CRM any more."
FULL_FIRST = "Full run: {side} had no earlier run to build on, so every row of it was normalised."
FULL_UPGRADE = "Full run: {side} was last mapped by another version of the engine, so every row of it was normalised."
NO_ACCOUNT_PLAN_PARTNER = "An account plan needs the partner of the list."
MAX_LIST_NAME = 120


# --- lists ---------------------------------------------------------------------------------------


def _ensure_populations(account_list: AccountList, *, actor) -> None:
    have = set(account_list.populations.values_list("kind", flat=True))
    for kind, name in STANDARD_POPULATIONS:
        if kind not in have:
            Population.objects.create(account_list=account_list, kind=kind, name=name, created_by=actor)


def _clean_name(text: str) -> str:
    return " ".join((text or "").replace("\x00", "").split())[:MAX_LIST_NAME]


def _write_rows(account_list: AccountList, frame: pl.DataFrame, *, actor, report: dict, columns: dict, filename: str) -> None:
    version = account_list.version + 1
    insert_frame(ListRow, importing.rows_frame(frame, list_id=account_list.pk, version=version))
    account_list.version = version
    account_list.row_count = frame.height
    account_list.report = report
    account_list.columns = columns
    account_list.filename = filename
    account_list.imported_by = actor if actor is not None and actor.pk else None
    account_list.imported_at = timezone.now()
    account_list.save(update_fields=["version", "row_count", "report", "columns", "filename", "imported_by", "imported_at"])


@transaction.atomic
def list_import(
    *, partner, actor, data: bytes, filename: str, account_list: AccountList | None = None, name: str = "",
    columns: dict[str, str] | None = None, source: str = "web",
) -> tuple[AccountList | None, importing.Upload]:
    """Read an upload into a new list of ``partner`` or a new version of ``account_list``, and queue
    a mapping run. A file that cannot be read (``upload.report.fatal``) writes nothing and returns
    ``None`` as the list; the report says why."""
    filename = _clean_name(filename)[:255] or "upload"
    upload = importing.read_upload(data, filename=filename, columns=columns)
    if not upload.ok:
        return None, upload
    if not upload.report.rows_that_can_match:
        upload.report.fatal = NO_ROWS_TO_MATCH
        return None, upload
    created = account_list is None
    if created:
        account_list = AccountList.objects.create(
            partner=partner, source=ListSource.UPLOAD, name=_clean_name(name) or _clean_name(filename.rsplit(".", 1)[0]) or "Accounts",
        )
        _ensure_populations(account_list, actor=actor)
    _write_rows(account_list, upload.rows, actor=actor, report=upload.report.as_dict(), columns=upload.columns, filename=filename)
    ListFile.objects.update_or_create(account_list=account_list, defaults={"data": data})
    audit.record(actor=actor, action="create" if created else "update", obj=account_list, source=source,
                 changes={"version": [None if created else account_list.version - 1, account_list.version],
                          "rows": [None, account_list.row_count], "file": [None, filename]})
    run_request(account_list=account_list, actor=actor)
    return account_list, upload


def list_remap_columns(*, account_list: AccountList, actor, columns: dict[str, str], source: str = "web"):
    """Read the list's last file again with the columns a person chose (a new version)."""
    stored = ListFile.objects.filter(account_list=account_list).first()
    if stored is None:
        raise ValidationError("This list has no stored file to read again; upload it.")
    return list_import(partner=account_list.partner, actor=actor, data=bytes(stored.data), filename=account_list.filename,
                       account_list=account_list, columns=columns, source=source)


def our_list_get() -> AccountList:
    account_list, created = AccountList.objects.get_or_create(
        partner=None, defaults={"name": OUR_LIST_NAME, "source": ListSource.CRM},
    )
    if created:
        _ensure_populations(account_list, actor=None)
    return account_list


def _crm_frame() -> pl.DataFrame:
    from covey.crm.models import OPEN_STAGES, Account, Opportunity

    open_opps = Opportunity.objects.filter(account=OuterRef("pk"), stage__in=OPEN_STAGES)
    values = Account.objects.annotate(has_open=Exists(open_opps)).values_list(
        "public_id", "name", "website", "domain", "country", "city", "phone", "industry", "region", "employees",
        "owner__full_name", "status", "has_open",
    )
    schema = {"id": pl.String, "name": pl.String, "website": pl.String, "domains": pl.String, "country": pl.String,
              "city": pl.String, "phone": pl.String, "attr_industry": pl.String, "attr_region": pl.String,
              "attr_employees": pl.String, "attr_owner": pl.String, "attr_status": pl.String, "open": pl.Boolean}
    rows = [(*r[:9], None if r[9] is None else str(r[9]), r[10], r[11], bool(r[12])) for r in values.iterator(chunk_size=5000)]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(
        row=pl.lit(None, dtype=pl.Int64),
        attr_open_opportunity=pl.when(pl.col("open")).then(pl.lit("yes")).otherwise(pl.lit("no")),
    ).drop("open")


@transaction.atomic
def our_list_rebuild(*, actor, source: str = "web") -> AccountList:
    """A new version of the vendor's list from the CRM's accounts (status, open opportunities, owner…)."""
    account_list = AccountList.objects.select_for_update().get(pk=our_list_get().pk)
    frame = _crm_frame()
    report = {"source": "CRM accounts", "rows": frame.height, "accounts": frame.height, "counts": {}, "problems": []}
    _write_rows(account_list, frame, actor=actor, report=report, columns={}, filename="")
    audit.record(actor=actor, action="update", obj=account_list, source=source,
                 changes={"version": [account_list.version - 1, account_list.version], "rows": [None, frame.height]})
    _drop_unused_versions(account_list)
    return account_list


def _drop_unused_versions(account_list: AccountList) -> None:
    """Rows of versions that neither the list nor a run still showing or making results uses."""
    keep = {account_list.version}
    active = MappingRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
    if account_list.partner_id is None:
        lists = AccountList.objects.filter(partner__isnull=False).values_list("pk", flat=True)
        for list_id in lists:
            last = (MappingRun.objects.filter(their_list_id=list_id, status=RunStatus.DONE)
                    .order_by("-finished_at", "-id").values_list("our_version", flat=True).first())
            if last is not None:
                keep.add(last)
        keep |= set(active.values_list("our_version", flat=True))
    else:
        last = (MappingRun.objects.filter(their_list=account_list, status=RunStatus.DONE)
                .order_by("-finished_at", "-id").values_list("their_version", flat=True).first())
        if last is not None:
            keep.add(last)
        keep |= set(active.filter(their_list=account_list).values_list("their_version", flat=True))
    ListRow.objects.filter(account_list=account_list).exclude(version__in=keep).delete()


# --- populations ---------------------------------------------------------------------------------


def _clean_filters(filters: dict) -> dict:
    out = {}
    for name in FILTER_FIELDS:
        value = filters.get(name)
        if value in (None, ""):
            continue
        if name.startswith("employees_"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValidationError({name: "Give a whole number."}) from None
            if value < 0 or value > 2_000_000_000:
                raise ValidationError({name: "Give a number between 0 and 2,000,000,000."})
        else:
            value = _clean_name(str(value))[:100]
        out[name] = value
    return out


@transaction.atomic
def population_create(*, account_list: AccountList, actor, name: str, filters: dict, source: str = "web") -> Population:
    name = _clean_name(name)
    if not name:
        raise ValidationError({"name": NAME_REQUIRED})
    if account_list.populations.filter(name__iexact=name).exists():
        raise ValidationError({"name": NAME_TAKEN.format(name=name)})
    cleaned = _clean_filters(filters)
    if not cleaned:
        raise ValidationError(NO_FILTER)
    population = Population.objects.create(account_list=account_list, name=name, kind=PopulationKind.CUSTOM,
                                           filters=cleaned, created_by=actor)
    audit.record(actor=actor, action="create", obj=population, source=source, changes={"filters": [None, cleaned]})
    return population


@transaction.atomic
def population_delete(*, population: Population, actor, source: str = "web") -> None:
    if population.kind != PopulationKind.CUSTOM:
        raise ValidationError(STANDARD_KEPT)
    audit.record(actor=actor, action="delete", obj=population, source=source, changes={"filters": [population.filters, None]})
    population.delete()


# --- sharing -------------------------------------------------------------------------------------


@transaction.atomic
def sharing_set(*, population: Population, partner, actor, level: str, fields=(), source: str = "web") -> SharingRule:
    if level not in SharingLevel.values:
        raise ValidationError({"level": BAD_LEVEL})
    unknown = [f for f in fields if f not in SHAREABLE]
    if unknown:
        raise ValidationError({"fields": BAD_FIELDS.format(fields=", ".join(map(str, unknown)))})
    chosen = [f for f in SHAREABLE if f in fields] if level == SharingLevel.OVERLAPS else []
    rule = SharingRule.objects.select_for_update().filter(population=population, partner=partner).first()
    before = (rule.level, rule.fields) if rule else (SharingLevel.COUNTS, [])
    if rule is None:
        rule = SharingRule(population=population, partner=partner)
    rule.level, rule.fields, rule.updated_by, rule.updated_at = level, chosen, actor, timezone.now()
    rule.save()
    if before != (level, chosen):
        audit.record(actor=actor, action="update", obj=population, source=source, changes={
            f"sharing with {partner.name}": [f"{before[0]} {','.join(before[1])}".strip(), f"{level} {','.join(chosen)}".strip()],
        })
    return rule


# --- runs ----------------------------------------------------------------------------------------


def run_request(*, account_list: AccountList, actor) -> MappingRun:
    """Queue a mapping run of the vendor's list against ``account_list`` (refused while one is active)."""
    if MappingRun.objects.filter(their_list=account_list, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists():
        raise ValidationError(RUN_BUSY)
    run = MappingRun.objects.create(partner_id=account_list.partner_id, their_list=account_list,
                                    their_version=account_list.version, requested_by=actor if actor and actor.pk else None)
    from covey.accountmaps.tasks import run_mapping

    # The database task backend writes the task in this transaction, so the worker sees it exactly
    # when the run (and the rows it reads) are committed; the immediate backend runs it here and now.
    run_mapping.enqueue(run.pk)
    return run


def _progress(run: MappingRun, percent: int, stage: str) -> None:
    MappingRun.objects.filter(pk=run.pk).update(progress=percent, stage=stage)


def _frame(account_list: AccountList, version: int) -> pl.DataFrame:
    values = ListRow.objects.filter(account_list=account_list, version=version).values_list(
        "external_id", "name", "website", "domains", "country", "city", "phone")
    return pl.DataFrame(list(values.iterator(chunk_size=10_000)), orient="row",
                        schema={c: pl.String for c in ("id", "name", "website", "domains", "country", "city", "phone")})


def _row_keys(account_list: AccountList, version: int) -> pl.DataFrame:
    """external id → the first row with it (rows sharing an id are one account)."""
    rows = (ListRow.objects.filter(account_list=account_list, version=version).values("external_id")
            .annotate(first=Min("pk")).values_list("external_id", "first"))
    return pl.DataFrame(list(rows), orient="row", schema={"external_id": pl.String, "first": pl.Int64})


def run_webhook_data(run: MappingRun) -> dict:
    """The payload of ``mapping.run.finished``."""
    return {
        "id": run.public_id, "status": run.status, "error": run.error or None,
        "partner": {"id": run.partner.public_id, "name": run.partner.name},
        "list": {"id": run.their_list.public_id, "name": run.their_list.name},
        "counts": run.counts, "started_at": run.started_at, "finished_at": run.finished_at,
    }


def _emit_finished(pk: int) -> None:
    from covey.webhooks.services import emit

    emit("mapping.run.finished", lambda: run_webhook_data(
        MappingRun.objects.select_related("partner", "their_list").get(pk=pk)))


def _stored_forms(account_list: AccountList) -> tuple[pl.DataFrame | None, str]:
    """The normal forms the list's last run kept, or None and why a run cannot build on them."""
    from covey.mapping.engine import FORMS_VERSION

    side = "our list" if account_list.is_ours else "their list"
    stored = ListForms.objects.filter(account_list=account_list).first()
    if stored is None:
        return None, FULL_FIRST.format(side=side)
    if stored.forms_version != FORMS_VERSION:
        return None, FULL_UPGRADE.format(side=side)
    return pl.read_parquet(io.BytesIO(bytes(stored.data))), ""


def _store_forms(account_list: AccountList, version: int, forms: pl.DataFrame) -> None:
    from covey.mapping.engine import FORMS_VERSION

    buffer = io.BytesIO()
    forms.write_parquet(buffer)
    ListForms.objects.update_or_create(account_list=account_list, defaults={
        "version": version, "forms_version": FORMS_VERSION, "data": buffer.getvalue(), "created_at": timezone.now()})


def run_execute(*, run_id: int, now: datetime | None = None) -> MappingRun | None:
    """Do one queued run (the background task's body). The pairs are written in one transaction and
    the run marked done in it, so the previous run's results stay until this one is complete.

    Incremental: each list's last run kept its rows' normal forms (``ListForms``); this run hands
    them to the engine, which normalises only the rows added or edited since and recomputes every
    global step over both lists — see "Incremental runs" in ``covey.mapping.engine`` for why that
    is exactly a full run's result. A list without usable forms (its first run, or forms of another
    engine version) is normalised in full, and ``full_reason`` says so. The pairs themselves are
    written anew: they point at the rows of the versions just matched.
    """
    from covey.mapping import match_accounts
    from covey.mapping.engine import list_changes

    claimed = MappingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now or timezone.now(), progress=5, stage="Reading the lists")
    if not claimed:
        return None
    run = MappingRun.objects.select_related("their_list").get(pk=run_id)
    try:
        ours = our_list_get()
        if ours.version == 0 or ours.source == ListSource.CRM:
            ours = our_list_rebuild(actor=None, source="run")
        their_list = run.their_list
        MappingRun.objects.filter(pk=run.pk).update(our_version=ours.version)
        our_frame, their_frame = _frame(ours, ours.version), _frame(their_list, run.their_version)
        (our_forms, our_reason), (their_forms, their_reason) = _stored_forms(ours), _stored_forms(their_list)
        changes = {"ours": list_changes(our_forms, our_frame), "theirs": list_changes(their_forms, their_frame)}
        incremental = our_forms is not None and their_forms is not None
        if incremental:
            changed = sum(c["rows_rematched"] for c in changes.values())
            _progress(run, 30, f"Matching (incremental: {changed:,} added or edited rows to normalise)")
        else:
            _progress(run, 30, "Matching (full run)")
        result = match_accounts(our_frame, their_frame, previous=(our_forms, their_forms), keep_forms=True)
        _progress(run, 80, "Saving the overlaps")
        matches = result.matches
        our_keys, their_keys = _row_keys(ours, ours.version), _row_keys(their_list, run.their_version)
        pairs = (
            matches.join(our_keys.rename({"external_id": "our_id", "first": "our_row_id"}), on="our_id")
            .join(their_keys.rename({"external_id": "their_id", "first": "their_row_id"}), on="their_id")
            .select(run_id=pl.lit(run.pk, dtype=pl.Int64), our_row_id="our_row_id", their_row_id="their_row_id",
                    kind="kind", score=pl.col("score").fill_null(0.0))
        )
        full_reason = " ".join(r for r in (our_reason, their_reason) if r)
        with transaction.atomic():
            insert_frame(MatchedPair, pairs)
            counts = {"pairs": pairs.height, "our_rows": our_frame.height, "their_rows": their_frame.height,
                      "by_kind": {k: int(v) for k, v in pairs.group_by("kind").len().iter_rows()},
                      "seconds": round(sum(result.seconds.values()), 3),
                      "normalised_rows": result.counts["normalised_rows"],
                      "reused_forms": result.counts["reused_forms"], "changes": changes}
            MappingRun.objects.filter(pk=run.pk).update(
                status=RunStatus.DONE, progress=100, stage="Finished", our_version=ours.version, counts=counts,
                incremental=incremental, full_reason=full_reason[:200],
                rematched_rows=result.counts["normalised_rows"], finished_at=timezone.now())
            _store_forms(ours, ours.version, result.forms[0])
            _store_forms(their_list, run.their_version, result.forms[1])
            # The previous runs' pairs go once this one is complete.
            MatchedPair.objects.filter(run__their_list=their_list).exclude(run_id=run.pk).delete()
            _drop_unused_versions(their_list)
            _drop_unused_versions(ours)
            _emit_finished(run.pk)
    except Exception as exc:  # noqa: BLE001 - a failed run is reported on the page, never half-written
        log.exception("mapping run %s failed", run.pk)
        with transaction.atomic():
            MappingRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, stage="Failed", error=str(exc)[:1000],
                                                        finished_at=timezone.now())
            _emit_finished(run.pk)
    run.refresh_from_db()
    return run


# --- co-sell actions -----------------------------------------------------------------------------


def _pair_names(pair: MatchedPair) -> str:
    return pair.our_row.name or pair.their_row.name or pair.our_row.external_id


@transaction.atomic
def plan_from_pair(*, pair: MatchedPair, actor, source: str = "web"):
    """A joint account plan with the list's partner on the CRM account behind our side of the pair
    (the joint app's own service: same checks, notifications and audit)."""
    from covey.crm.models import Account
    from covey.joint import services as joint

    account = Account.objects.filter(public_id=pair.our_row.external_id).first()
    if account is None:
        raise ValidationError(NOT_OURS_ROW)
    partner = pair.run.their_list.partner
    return joint.plan_create(account=account, partner=partner, actor=actor, source=source,
                             title=f"{account.name} co-sell plan with {partner.name}"[:200])


@transaction.atomic
def introduction_request(*, pair: MatchedPair, actor, note: str = "", source: str = "web") -> IntroductionRequest:
    """Ask the other side for an introduction: a notification to the partner's admins (from the
    vendor) or to the partner manager, or the vendor admins when nobody owns the partner (from the partner)."""
    from covey.core.models import StaffRole, User
    from covey.partners.models import Membership

    partner = pair.run.their_list.partner
    from_vendor = bool(actor.is_vendor)
    intro = IntroductionRequest.objects.create(
        partner=partner, our_external_id=pair.our_row.external_id, our_name=pair.our_row.name,
        their_external_id=pair.their_row.external_id, their_name=pair.their_row.name, from_vendor=from_vendor,
        note=_clean_name(note)[:1000], requested_by=actor,
    )
    if from_vendor:
        recipients = [m.user for m in Membership.objects.filter(partner=partner, role="admin").select_related("user")]
        name = pair.their_row.name or _pair_names(pair)
    else:
        recipients = [partner.owner] if partner.owner_id else list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))
        name = pair.our_row.name or _pair_names(pair)
    url = reverse("mapping_targets", kwargs={"public_id": pair.run.their_list.public_id})
    notify(recipients, kind="mapping.introduction", exclude=actor,
           title=f"{actor} asks for an introduction to {name}"[:200],
           body=(intro.note or f"{name} is an account you both have.") + " Open the co-sell targets to see the overlap.",
           url=url)
    audit.record(actor=actor, action="create", obj=intro, source=source, changes={"account": [None, name]})
    return intro
