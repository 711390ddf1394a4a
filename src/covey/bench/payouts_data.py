"""Generated data for ``covey bench payouts``: a quarter of a real-looking partner program.

Deterministic for a seed. 10,000 partners in three tiers; N won deals in the quarter (1–3 partners
each, in the roles resellers, referrers and influencers take), in USD and EUR; approved registrations
for some of the partners' deals; customer payments for most deals, refunds and churn for a few;
one product line per deal. The program pays margin by tier and deal-size band, a referral
commission, a registration bonus, a SPIFF, a quarterly accelerator above tier targets (marginal),
per-deal and per-quarter caps, and clawbacks. Everything is written set-based
(``core.bulk.insert_frame``: COPY on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import polars as pl

from covey.core.bulk import insert_frame, next_id
from covey.core.ids import public_id_column

QUARTER = "2026Q2"
Q_START, Q_END = date(2026, 4, 1), date(2026, 6, 30)
TIERS = (("silver", "Silver", 1), ("gold", "Gold", 2), ("platinum", "Platinum", 3))
TIER_SHARE = (0.6, 0.3, 0.1)
ROLES = ("reseller", "sourced", "referral", "influencer", "integrator")
ROLE_SHARE = (0.40, 0.25, 0.15, 0.10, 0.10)
PRODUCTS = (("CORE", "Bench Core Platform"), ("ADDON", "Bench Analytics Add-on"), ("DATA", "Bench Data Connector"))
EUR_PER_BASE = "1.0825"

RULES = [
    ("resale_margin", "Reseller margin", {"currency": "USD", "bands": [
        {"from": "0", "to": "50000", "rates": {"silver": "15", "gold": "20", "platinum": "25"}},
        {"from": "50000", "to": "250000", "rates": {"silver": "18", "gold": "24", "platinum": "30"}},
        {"from": "250000", "rates": {"silver": "20", "gold": "27", "platinum": "35"}}]}),
    ("referral_commission", "Referral commission", {"mode": "percent_first_year", "currency": "USD", "rate": "10"}),
    ("registration_bonus", "Registration bonus", {"currency": "USD", "rate": "5", "min_value": "10000",
                                                  "close_within_days": "90"}),
    ("spiff", "Core SPIFF", {"currency": "USD", "amount": "250", "starts_on": "2026-05-01", "ends_on": "2026-06-30",
                             "products": ["CORE"], "min_value": "20000"}),
    ("accelerator", "Quarterly accelerator", {"currency": "USD", "rate": "5", "target": "500000",
                                              "targets": {"gold": "1000000", "platinum": "2000000"}}),
    ("cap", "Cap per deal", {"scope": "deal", "currency": "USD", "amount": "60000",
                             "applies_to": ["resale_margin", "referral_commission", "registration_bonus"]}),
    ("cap", "Cap per quarter", {"scope": "partner_period", "currency": "EUR", "amount": "400000"}),
    ("clawback", "Clawback", {"within_days": "90", "events": ["churn", "refund"]}),
]


@dataclass
class Generated:
    program_id: int
    partner_ids: list[int]
    deals: int
    links: int
    registrations: int
    events: int


def _now() -> datetime:
    return datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _ids(model, count: int) -> np.ndarray:
    first = next_id(model)
    return np.arange(first, first + count, dtype=np.int64)


def generate(*, lines: int, partners: int = 10_000, seed: int = 1, progress=print) -> Generated:
    """Write the program, the partners and ``lines`` won deals with their links and facts."""
    from django.db import connection, transaction

    from covey.core.models import User, VendorSettings
    from covey.crm.models import (
        Account,
        DealEvent,
        Opportunity,
        OpportunityLine,
        OpportunityPartner,
        Product,
    )
    from covey.partners.models import Membership, Partner
    from covey.payouts.models import FxRate
    from covey.programs import services as programs
    from covey.programs.models import Enrolment
    from covey.registrations.models import Registration

    rng = np.random.default_rng(seed)
    now = _now()
    with transaction.atomic():
        VendorSettings.objects.update_or_create(pk=1, defaults={
            "company_name": "Covey Bench Vendor", "domain": "bench-vendor.example", "base_currency": "USD",
            "fiscal_year_start_month": 1})
        admin = User.objects.create(email="admin@bench-vendor.example", full_name="Bench Admin", staff_role="admin",
                                    password="!bench")
        FxRate.objects.create(period_key=QUARTER, currency="EUR", base_currency="USD", per_base=EUR_PER_BASE)
        program = programs.program_create(name="Bench Partner Program", currency="USD", actor=admin,
                                          today=date(2026, 3, 1))
        version = program.versions.get()
        programs.version_update(version=version, actor=admin, effective_from=Q_START, payout_delay_days=30,
                                today=date(2026, 3, 1))
        for code, name, rank in TIERS:
            programs.tier_save(version=version, actor=admin, code=code, name=name, rank=rank, today=date(2026, 3, 1))
        for kind, name, params in RULES:
            programs.rule_save(version=version, actor=admin, kind=kind, name=name, params=params, today=date(2026, 3, 1))
        programs.version_publish(version=version, actor=admin, today=date(2026, 3, 1))
        products = Product.objects.bulk_create([Product(code=c, name=n, unit_price_minor=1_000_000) for c, n in PRODUCTS])

    progress(f"Writing {partners:,} partners, their reps and enrolments…")
    partner_ids = _ids(Partner, partners)
    tier_of = rng.choice(len(TIERS), size=partners, p=TIER_SHARE)
    insert_frame(Partner, pl.DataFrame({
        "id": partner_ids, "name": [f"Bench Partner {i:05d}" for i in range(partners)],
        "legal_name": [f"Bench Partner {i:05d} Ltd" for i in range(partners)], "website": "",
        "domain": [f"benchpartner{i}.example" for i in range(partners)], "region": "na", "country": "US",
        "lifecycle": "active", "description": "", "created_at": now, "updated_at": now,
    }).with_columns(public_id_column("ptn", partners)))
    user_ids = _ids(User, partners)
    insert_frame(User, pl.DataFrame({
        "id": user_ids, "password": "!bench", "email": [f"rep@benchpartner{i}.example" for i in range(partners)],
        "full_name": [f"Bench Rep {i}" for i in range(partners)], "staff_role": "", "is_active": True,
        "date_joined": now,
    }).with_columns(public_id_column("usr", partners)))
    insert_frame(Membership, pl.DataFrame({"user_id": user_ids, "partner_id": partner_ids, "role": "rep",
                                           "created_at": now}))
    insert_frame(Enrolment, pl.DataFrame({
        "partner_id": partner_ids, "program_id": program.id, "tier_code": [TIERS[t][0] for t in tier_of],
        "starts_on": date(2026, 1, 1), "reason": "", "created_at": now,
    }).with_columns(public_id_column("enr", partners)))

    progress(f"Writing {lines:,} won deals, their lines, partners, registrations and events…")
    accounts = max(1000, lines // 10)
    account_ids = _ids(Account, accounts)
    insert_frame(Account, pl.DataFrame({
        "id": account_ids, "name": [f"Bench Customer {i}" for i in range(accounts)],
        "domain": [f"customer{i}.example" for i in range(accounts)], "website": "", "industry": "", "region": "",
        "country": "", "city": "", "phone": "", "segment": "", "status": "customer", "description": "",
        "created_at": now, "updated_at": now,
    }).with_columns(public_id_column("acc", accounts)))
    opp_ids = _ids(Opportunity, lines)
    amount = np.clip(np.round(rng.lognormal(mean=np.log(40_000), sigma=1.0, size=lines) * 100), 500_00, 5_000_000_00)
    currency = np.where(rng.random(lines) < 0.8, "USD", "EUR")
    close = np.datetime64(Q_START, "D") + rng.integers(0, (Q_END - Q_START).days + 1, lines)
    kinds = rng.choice(np.array(["new", "expansion", "renewal"]), size=lines, p=(0.6, 0.3, 0.1))
    insert_frame(Opportunity, pl.DataFrame({
        "id": opp_ids, "name": [f"Bench deal {i}" for i in range(lines)],
        "account_id": account_ids[rng.integers(0, accounts, lines)], "stage": "Closed Won", "type": kinds,
        "amount_minor": amount.astype(np.int64), "currency": currency, "close_date": close, "lost_reason": "",
        "lead_source": "", "description": "", "created_at": now, "updated_at": now,
    }).with_columns(public_id_column("opp", lines)))
    product_ids = np.array([p.id for p in products])
    insert_frame(OpportunityLine, pl.DataFrame({
        "opportunity_id": opp_ids, "product_id": product_ids[rng.choice(3, size=lines, p=(0.6, 0.25, 0.15))],
        "quantity": 1, "unit_price_minor": amount.astype(np.int64), "discount_minor": 0,
    }).with_columns(public_id_column("oli", lines)))

    per_deal = rng.choice([1, 2, 3], size=lines, p=(0.5, 0.35, 0.15))
    deal_of_link = np.repeat(opp_ids, per_deal)
    position = np.concatenate([np.arange(n) for n in per_deal]) if lines else np.array([], dtype=np.int64)
    links = len(deal_of_link)
    # Partners drawn so that some are busy and most are not (a program's usual shape).
    partner_of_link = partner_ids[np.minimum((rng.pareto(1.2, links) * partners / 20).astype(np.int64), partners - 1)]
    link_frame = pl.DataFrame({"opportunity_id": deal_of_link, "partner_id": partner_of_link, "position": position})
    link_frame = link_frame.unique(subset=["opportunity_id", "partner_id"], keep="first", maintain_order=True)
    links = link_frame.height
    roles = rng.choice(np.array(ROLES), size=links, p=ROLE_SHARE)
    link_ids = _ids(OpportunityPartner, links)
    link_frame = link_frame.with_columns(
        pl.Series("id", link_ids), pl.Series("role", roles),
        (pl.col("position") == pl.col("position").min().over("opportunity_id")).alias("is_primary"),
        pl.lit(now).alias("created_at"),
    )
    insert_frame(OpportunityPartner, link_frame.drop("position").with_columns(public_id_column("opl", links)))

    registered = link_frame.filter(pl.Series(rng.random(links) < 0.2))
    regs = registered.height
    deal_close = pl.DataFrame({"opportunity_id": opp_ids, "close_date": close, "amount_minor": amount.astype(np.int64),
                               "currency": currency})
    registered = registered.join(deal_close, on="opportunity_id").with_columns(
        (pl.col("close_date").cast(pl.Datetime("us", "UTC")) - pl.duration(days=pl.Series(rng.integers(5, 120, regs))))
        .alias("decided_at"))
    rep_of = pl.DataFrame({"partner_id": partner_ids, "submitted_by_id": user_ids})
    registered = registered.join(rep_of, on="partner_id")
    insert_frame(Registration, registered.select(
        "partner_id", "submitted_by_id", pl.lit("Bench customer").alias("company_name"),
        pl.concat_str([pl.lit("customer"), pl.col("opportunity_id").cast(pl.Utf8), pl.lit(".example")]).alias("domain"),
        pl.concat_str([pl.lit("customer"), pl.col("opportunity_id").cast(pl.Utf8), pl.lit(".example")]).alias("claim_domain"),
        pl.lit("bench customer").alias("normalised_name"), pl.lit("").alias("contact_name"),
        pl.lit("").alias("contact_email"), pl.lit("").alias("contact_phone"), "amount_minor", "currency",
        pl.lit(False).alias("no_minimum_configured"), pl.col("close_date").alias("expected_close"),
        pl.lit("").alias("description"), pl.lit("").alias("evidence"), pl.lit("new").alias("deal_type"),
        pl.lit("converted").alias("status"), pl.lit("").alias("reason"), pl.lit(False).alias("holds_claim"),
        (pl.col("decided_at") - pl.duration(days=2)).alias("submitted_at"), "decided_at",
        pl.lit("").alias("extension_reason"), pl.col("opportunity_id"),
    ).with_columns(public_id_column("reg", regs)))

    paid = rng.random(lines) < 0.7
    refunded = rng.random(lines) < 0.01
    churned = ~refunded & (rng.random(lines) < 0.005)
    events = []
    for mask, kind, days, share in ((paid, "paid", (5, 40), 1.0), (refunded, "refunded", (5, 60), 0.5),
                                    (churned, "churned", (10, 80), None)):
        count = int(mask.sum())
        if not count:
            continue
        when = np.minimum(close[mask] + rng.integers(*days, count), np.datetime64(Q_END, "D"))
        events.append(pl.DataFrame({
            "opportunity_id": opp_ids[mask], "kind": kind, "occurred_on": when,
            "amount_minor": (amount[mask] * share).astype(np.int64) if share else pl.Series([None] * count, dtype=pl.Int64),
            "note": "", "created_at": now,
        }))
    event_frame = pl.concat(events, how="vertical_relaxed") if events else pl.DataFrame()
    if event_frame.height:
        insert_frame(DealEvent, event_frame.with_columns(public_id_column("dev", event_frame.height)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as after any large load
    return Generated(program_id=program.id, partner_ids=partner_ids.tolist(), deals=lines, links=links,
                     registrations=regs, events=event_frame.height)
