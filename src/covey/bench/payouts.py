"""The ``payouts`` workload: a quarter of 10,000 partners and N won deals through the payout engine.

Steps: wipe and fill the bench database (``payouts_data``: partners in three tiers, deals with 1–3
partners each in USD and EUR, registrations, payments, refunds and churn; a program with margin bands
by tier, a referral commission, a registration bonus, a SPIFF, an accelerator above tier targets,
caps per deal and per quarter, clawbacks) → run the quarter end to end (``quarter_run``: facts out of
the database, the engine, the ledger rows in; timed, with the process's peak memory) → check every
posted amount against the one-line-at-a-time ``Decimal`` reference → the peer: the per-line ORM style
of OCA's commission module and ERPNext (each deal and its partners read through the ORM, each
partner's tier and registration looked up with a query, each amount computed with ``Decimal`` and
each entry saved through the ORM), timed on a sample of deals in a transaction that is rolled back,
and scaled to N.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from covey.bench import database, stats

TARGETS = {"seconds_at_1m": 30.0, "ratio": 10.0}
RUN_AT = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


@dataclass
class Options:
    lines: int = 100_000
    partners: int = 10_000
    seed: int = 1
    database_url: str = database.DEFAULT_URL
    peer: bool = True
    peer_sample: int = 2_000
    check: bool = True
    timings: dict = field(default_factory=dict)


def run(options: Options, *, progress=print) -> dict:
    from django.db import connection

    from covey.bench import payouts_data
    from covey.payouts.services import quarter_run
    from covey.programs.models import Program

    began = time.perf_counter()
    progress(f"Preparing {database.redact(options.database_url)}: migrate, wipe…")
    database.migrate()
    database.wipe()
    generated = payouts_data.generate(lines=options.lines, partners=options.partners, seed=options.seed,
                                      progress=progress)
    generate_seconds = time.perf_counter() - began
    program = Program.objects.get(pk=generated.program_id)
    connection.close()  # a fresh connection, as a worker would have

    progress(f"Running {payouts_data.QUARTER}: {generated.deals:,} deals, {generated.links:,} partner links…")
    resettable = stats.reset_peak_rss()
    started = time.perf_counter()
    run_record = quarter_run(program=program, period_key=payouts_data.QUARTER, now=RUN_AT, source="cli")
    seconds = time.perf_counter() - started
    peak = (stats.status_mb("VmHWM") if resettable else None) or stats.maxrss_mb()

    result: dict = {
        "workload": "payouts",
        "size": options.lines,
        "lines": options.lines,
        "partners": options.partners,
        "partner_links": generated.links,
        "registrations": generated.registrations,
        "deal_events": generated.events,
        "seed": options.seed,
        "seconds": round(seconds, 3),
        "lines_per_s": stats.per_second(options.lines, seconds),
        "stages": run_record.figures.get("seconds", {}),
        "entries": run_record.figures.get("new_entries", 0),
        "peak_rss_mb": peak,
        "peak_rss_scope": "quarter run (high-water mark reset before it)" if resettable else "whole process",
        "generate_seconds": round(generate_seconds, 1),
        "database": connection.vendor,
    }

    rerun_started = time.perf_counter()
    rerun = quarter_run(program=program, period_key=payouts_data.QUARTER, now=RUN_AT, source="cli")
    result["rerun_seconds"] = round(time.perf_counter() - rerun_started, 3)
    result["rerun_new_entries"] = rerun.figures["new_entries"] + rerun.figures["reversals"]

    if options.check:
        progress("Checking every amount against the Decimal reference…")
        result.update(_check(program))
    if options.peer:
        progress(f"Peer: the per-line ORM style on {options.peer_sample:,} deals…")
        result.update(_peer(program, sample=options.peer_sample, seed=options.seed, lines=options.lines))
        result["ratio"] = round(result["peer_seconds"] / seconds, 1) if seconds else 0.0
    else:
        result.update({"peer": "none", "peer_seconds": 0.0, "ratio": 0.0})
    result["load_average"] = round(__import__("os").getloadavg()[0], 2)
    result["targets_met"] = {
        "seconds_at_1m": (result["seconds"] <= TARGETS["seconds_at_1m"]) if options.lines >= 1_000_000 else None,
        "ratio": result["ratio"] >= TARGETS["ratio"] if options.peer else None,
        "exact": result.get("exact") if options.check else None,
        "rerun_posts_nothing": result["rerun_new_entries"] == 0,
    }
    result["ok"] = (not options.check or result["exact"]) and result["rerun_new_entries"] == 0
    return result


def _frames_to_reference(spec, quarter, facts):
    from covey.payouts.reference import Reference

    tiers = dict(zip(facts.tiers["partner_id"].to_list(), facts.tiers["tier"].to_list(), strict=True))
    return Reference(spec, quarter, deals=facts.deals.to_dicts(), links=facts.links.to_dicts(), tiers=tiers,
                     events=facts.events.to_dicts(), earned=facts.earned.to_dicts(), fx=facts.fx)


def _check(program) -> dict:
    """Every key's posted net amount against the reference's amount, to the cent."""
    from django.db.models import Sum

    from covey.bench import payouts_data
    from covey.payouts import facts as F
    from covey.payouts.models import LedgerEntry
    from covey.payouts.services import governing, version_spec

    began = time.perf_counter()
    quarter = F.quarter_of(payouts_data.QUARTER)
    expected: dict[str, tuple[int, str]] = {}
    for version, partners in governing(program, quarter):
        spec = version_spec(version)
        facts = F.load(spec, quarter, partners)
        members = set(partners)
        for key, (partner, amount, currency, _source) in _frames_to_reference(spec, quarter, facts).run().items():
            if partner in members:
                expected[key] = (amount, currency)
    posted = {(k, c): int(t) for k, c, t in LedgerEntry.objects.filter(program=program, period_key=quarter.key)
              .values_list("key", "currency").annotate(t=Sum("amount_minor")) if t}
    by_key = {k: (a, c) for (k, c), a in posted.items()}
    mismatched = [k for k in set(expected) | set(by_key) if expected.get(k) != by_key.get(k)]
    cents = sum(abs((expected.get(k, (0, ""))[0]) - (by_key.get(k, (0, ""))[0])) for k in mismatched)
    totals: dict[str, int] = defaultdict(int)
    for amount, currency in expected.values():
        totals[currency] += amount
    return {"reference_entries": len(expected), "mismatched_entries": len(mismatched), "cents_difference": cents,
            "exact": not mismatched, "reference_totals": dict(totals), "check_seconds": round(time.perf_counter() - began, 1),
            "mismatch_samples": sorted(mismatched)[:5]}


def _peer(program, *, sample: int, seed: int, lines: int) -> dict:
    """Per-line ORM: each deal read with its partners, their tier and registration looked up one by
    one, each amount in Decimal, each entry saved — inside a transaction rolled back afterwards."""
    from django.db import transaction

    from covey.bench import payouts_data
    from covey.crm.models import DealEvent, Opportunity
    from covey.payouts import facts as F
    from covey.payouts.models import LedgerEntry
    from covey.payouts.reference import Reference
    from covey.payouts.services import governing, version_spec
    from covey.programs.models import Enrolment
    from covey.registrations.models import Registration

    quarter = F.quarter_of(payouts_data.QUARTER)
    version, _ = governing(program, quarter)[0]
    spec = version_spec(version)
    deal_rules = tuple(r for r in spec.rules if r.kind in ("resale_margin", "referral_commission",
                                                            "registration_bonus", "spiff"))
    per_line = type(spec)(**{**spec.__dict__, "rules": deal_rules})
    ids = list(Opportunity.objects.filter(stage="Closed Won", close_date__range=(quarter.start, quarter.end))
               .values_list("id", flat=True))
    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    fx = F.fx_table(quarter.key)
    saved = 0
    started = time.perf_counter()
    with transaction.atomic():
        point = transaction.savepoint()
        for opp in Opportunity.objects.filter(pk__in=chosen).select_related("account"):
            links, tiers = [], {}
            for order, link in enumerate(opp.partner_links.all()):
                enrolment = Enrolment.objects.filter(partner_id=link.partner_id, program=program).on(quarter.end).first()
                registration = (Registration.objects.filter(opportunity=opp, partner_id=link.partner_id,
                                                            status__in=F.APPROVED).order_by("decided_at").first())
                if enrolment is not None:
                    tiers[link.partner_id] = enrolment.tier_code
                links.append({"opp_id": opp.id, "link_order": order, "partner_id": link.partner_id, "role": link.role,
                              "is_primary": link.is_primary, "rep_id": registration.submitted_by_id if registration else None,
                              "registered_on": registration.decided_at.date() if registration else None,
                              "joint_demo": False})
            products = list(opp.lines.values_list("product__code", flat=True))
            events = [{"event_id": e.id, "opp_id": opp.id, "kind": e.kind, "occurred_on": e.occurred_on,
                       "amount_minor": e.amount_minor} for e in DealEvent.objects.filter(opportunity=opp)]
            deal = {"opp_id": opp.id, "opp_ref": opp.public_id, "account": opp.account.name,
                    "amount_minor": opp.amount_minor, "currency": opp.currency, "close_date": opp.close_date,
                    "type": opp.type, "products": products}
            entries = Reference(per_line, quarter, deals=[deal], links=links, tiers=tiers, events=events, earned=[],
                                fx={k: Decimal(v) for k, v in fx.items()}).run()
            for key, (partner, amount, currency, source) in entries.items():
                entry = LedgerEntry(program=program, version=version, partner_id=partner, period_key=quarter.key,
                                    source=source, rule_kind="", opportunity=opp, key=key, amount_minor=amount,
                                    currency=currency, explanation=f"{source} on {opp.name}")
                entry.full_clean()
                entry.save()
                saved += 1
        seconds = time.perf_counter() - started
        transaction.savepoint_rollback(point)
    per_deal = seconds / max(len(chosen), 1)
    return {"peer": "per-line ORM (OCA commission / ERPNext style), deal rules only", "peer_sample_deals": len(chosen),
            "peer_sample_seconds": round(seconds, 2), "peer_entries_saved": saved,
            "peer_seconds": round(per_deal * lines, 1)}
