"""The payout engine: a program version's rules applied to a quarter's facts, as Polars frames.

No database here. ``covey.payouts.facts`` loads the frames with a few set-based queries, this module
turns them into ledger entry drafts, and ``covey.payouts.posting`` compares those with what is posted
and writes the difference in bulk. ``covey.payouts.reference`` computes the same entries one line at a
time with ``Decimal``; the tests and ``covey bench payouts`` hold the two to zero cents of difference.

Arithmetic: money is integer minor units; rates are integer millionths (``ppm``); every amount is
``round(base × rate / 1,000,000)`` half away from zero, computed in 128-bit integers so nothing
overflows or touches a float. Currency conversions (only to compare a deal with a threshold in
another currency, and to add up revenue for accelerators and rebates) use the quarter's FX table
with the same rounding.

Credit (who is credited with how much of a deal, ``_credited``):
- origination: the originator (the partner with role ``sourced``; else the primary partner; else the
  first linked) gets the whole value; every other partner its ``influence_share`` of it;
- split: every partner gets the whole value;
- role_based: the value is divided by the roles' weights (largest remainder), so the parts always add
  up to exactly the deal's value.
Any per-deal amount (a deal's value, a flat fee, a fixed bonus) is credited the same way.

What each rule kind pays is documented in ``covey.programs.rules``; the exact definitions used are
in the functions below, one per kind, and in the reference implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl

from covey.core.money import currency_exponent
from covey.programs import rules as R

PPM = R.PPM
FX_SCALE = 14  # FX factors are integers: base units per minor unit × 10^14

DEALS_SCHEMA = {
    "opp_id": pl.Int64, "opp_ref": pl.Utf8, "account": pl.Utf8, "amount_minor": pl.Int64, "currency": pl.Utf8,
    "close_date": pl.Date, "type": pl.Utf8, "products": pl.List(pl.Utf8),
}
LINKS_SCHEMA = {
    "opp_id": pl.Int64, "link_order": pl.Int64, "partner_id": pl.Int64, "role": pl.Utf8, "is_primary": pl.Boolean,
    "rep_id": pl.Int64, "registered_on": pl.Date, "joint_demo": pl.Boolean,
}
TIERS_SCHEMA = {"partner_id": pl.Int64, "tier": pl.Utf8}
EVENTS_SCHEMA = {"event_id": pl.Int64, "opp_id": pl.Int64, "kind": pl.Utf8, "occurred_on": pl.Date,
                 "amount_minor": pl.Int64}
EARNED_SCHEMA = {"partner_id": pl.Int64, "opp_id": pl.Int64, "currency": pl.Utf8, "amount_minor": pl.Int64}
ENTRY_COLUMNS = {
    "partner_id": pl.Int64, "rep_id": pl.Int64, "opp_id": pl.Int64, "rule_id": pl.Int64, "rule_kind": pl.Utf8,
    "source": pl.Utf8, "key": pl.Utf8, "base_minor": pl.Int64, "rate_ppm": pl.Int64, "amount_minor": pl.Int64,
    "currency": pl.Utf8, "explanation": pl.Utf8, "payable_on": pl.Date, "awaits_payment": pl.Boolean,
    "payout_delay_days": pl.Int64,
}
# Deal-based sources a clawback takes back.
CLAWED_SOURCES = ("deal", "registration", "spiff", "cap")


class MissingRates(ValueError):
    """The quarter's FX table lacks rates the rules need; nothing may be computed or posted."""

    def __init__(self, period_key: str, currencies: list[str]):
        self.currencies = sorted(set(currencies))
        super().__init__(
            f"No exchange rate for {', '.join(self.currencies)} in {period_key}. Add the rates to the FX table "
            "for that quarter, then run it again; nothing was posted."
        )


@dataclass(frozen=True)
class RuleSpec:
    id: int
    kind: str
    name: str
    params: R.Params


@dataclass(frozen=True)
class VersionSpec:
    id: int
    program_id: int
    program_name: str
    currency: str
    credit_model: str
    influence_share: Decimal  # fraction
    role_shares: Mapping[str, Decimal]  # role → fraction weight
    payout_delay_days: int
    rules: tuple[RuleSpec, ...]
    tier_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Quarter:
    key: str  # 2026Q3
    start: date
    end: date
    year_key: str  # FY2026
    year_start: date
    last_of_year: bool


@dataclass
class Facts:
    deals: pl.DataFrame
    links: pl.DataFrame
    tiers: pl.DataFrame
    events: pl.DataFrame
    earned: pl.DataFrame
    fx: Mapping[str, Decimal]  # currency → base units per unit


def empty(schema: Mapping) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(schema))


def frame(rows: list[dict], schema: Mapping) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(schema), orient="row") if rows else empty(schema)


# --- integer arithmetic as expressions ----------------------------------------------------------


def _round_div(numerator: pl.Expr, denominator: pl.Expr | int) -> pl.Expr:
    """numerator / denominator rounded half away from zero (denominator > 0), on 128-bit integers."""
    n = numerator.cast(pl.Int128)
    d = denominator.cast(pl.Int128) if isinstance(denominator, pl.Expr) else pl.lit(denominator, pl.Int128)
    magnitude = n.abs()
    q = magnitude // d
    q = (q + pl.when(magnitude % d * 2 >= d).then(1).otherwise(0).cast(pl.Int128)).cast(pl.Int64)
    return pl.when(n < 0).then(-q).otherwise(q)  # (128-bit integers cannot be negated; the result fits 64)


def times_ppm(base: pl.Expr, ppm: pl.Expr | int) -> pl.Expr:
    ppm_expr = ppm if isinstance(ppm, pl.Expr) else pl.lit(ppm, pl.Int64)
    return _round_div(base.cast(pl.Int128) * ppm_expr.cast(pl.Int128), PPM)


def fx_factor(per_base: Decimal, currency: str) -> int:
    """Base units per *minor* unit of ``currency``, × 10^FX_SCALE, as an exact integer."""
    scaled = per_base.scaleb(FX_SCALE - currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"the FX rate {per_base} for {currency} has more decimals than Covey keeps")
    return int(scaled)


def _converted(amount: pl.Expr, from_factor: pl.Expr, to_factor: int) -> pl.Expr:
    """``amount`` minor units of one currency in minor units of another (factors from ``fx_factor``)."""
    return _round_div(amount.cast(pl.Int128) * from_factor.cast(pl.Int128), to_factor)


# --- text ----------------------------------------------------------------------------------------


def _thousands(n: pl.Expr) -> pl.Expr:
    """A non-negative integer with thousands separators: 1234567 → "1,234,567"."""
    groups = [((n // 10 ** (3 * i)) % 1000).cast(pl.Utf8) for i in range(7)]
    padded = [g.str.zfill(3) for g in groups]
    expr = groups[0]
    for top in range(1, 7):
        text = pl.concat_str([groups[top], *[padded[i] for i in range(top - 1, -1, -1)]], separator=",")
        expr = pl.when(n >= 10 ** (3 * top)).then(text).otherwise(expr)
    return expr


def money_text(minor: pl.Expr, currency: pl.Expr, exponent: pl.Expr) -> pl.Expr:
    """``-1234567`` EUR → ``"-12,345.67 EUR"`` (the form ``Money.plain`` gives)."""
    magnitude = minor.abs()
    unit = pl.lit(10, pl.Int64).pow(exponent)
    whole = _thousands(magnitude // unit)
    fraction = (magnitude % unit).cast(pl.Utf8).str.zfill(exponent)  # zfill pads to each row's width
    number = pl.when(exponent > 0).then(pl.concat_str([whole, pl.lit("."), fraction])).otherwise(whole)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, number, pl.lit(" "), currency])


def percent_text(ppm: pl.Expr | int) -> pl.Expr:
    """125000 ppm → ``"12.5%"``."""
    value = ppm if isinstance(ppm, pl.Expr) else pl.lit(ppm, pl.Int64)
    whole = (value // 10_000).cast(pl.Utf8)
    decimals = (value % 10_000).cast(pl.Utf8).str.zfill(4).str.strip_chars_end("0")
    return pl.when(decimals == "").then(pl.concat_str([whole, pl.lit("%")])).otherwise(
        pl.concat_str([whole, pl.lit("."), decimals, pl.lit("%")]))


def rate_ppm(rate: Decimal) -> int:
    return R.rate_ppm(rate)


def pct(rate: Decimal) -> str:
    ppm = rate_ppm(rate)
    whole, decimals = divmod(ppm, 10_000)
    return f"{whole}%" if not decimals else f"{whole}.{str(decimals).zfill(4).rstrip('0')}%"


# --- the run -------------------------------------------------------------------------------------


def compute(version: VersionSpec, quarter: Quarter, facts: Facts) -> pl.DataFrame:
    """Every entry the version's rules give for the quarter, as a frame with ``ENTRY_COLUMNS``.

    Raises ``MissingRates`` when a rule needs a conversion the quarter's FX table cannot make.
    """
    parts = list(compute_chunks(version, quarter, facts, chunks=1))
    return parts[0][1] if parts else empty(ENTRY_COLUMNS)


def compute_chunks(version: VersionSpec, quarter: Quarter, facts: Facts, *, chunks: int):
    """The entries in ``chunks`` parts by partner: (partner ids, entries) pairs, one at a time.

    Every rule's result for a partner depends only on that partner's credited links (credit itself
    is worked out once, over every link of every deal), so the parts are independent: the caller
    can write one part to the ledger while the next is computed.
    """
    ctx = _Context(version, quarter, facts)
    partners = ctx.credit["partner_id"].unique().sort()
    for number in range(max(chunks, 1)):
        members = partners.gather_every(max(chunks, 1), offset=number) if chunks > 1 else partners
        yield members.to_list(), _entries_for(ctx.only(members) if chunks > 1 else ctx, facts)


def _entries_for(ctx: _Context, facts: Facts) -> pl.DataFrame:
    version = ctx.version
    parts: list[pl.DataFrame] = []
    for rule in version.rules:
        handler = _HANDLERS.get(rule.kind)
        if handler is not None:
            made = handler(ctx, rule)
            if made is not None and made.height:
                parts.append(made.select(list(ENTRY_COLUMNS)))
    entries = pl.concat(parts, how="vertical") if parts else empty(ENTRY_COLUMNS)
    # Caps limit what the other rules paid; then clawbacks take back what a deal earned net of caps,
    # in earlier quarters (``facts.earned``) and in this one.
    for rule in version.rules:
        if rule.kind == "cap":
            entries = pl.concat([entries, _cap(ctx, rule, entries).select(list(ENTRY_COLUMNS))], how="vertical")
    clawbacks = [rule for rule in version.rules if rule.kind == "clawback"]
    if clawbacks:
        mine = ctx.credit["partner_id"].unique()
        earned = pl.concat([
            facts.earned.filter(pl.col("partner_id").is_in(mine.implode())).select(list(EARNED_SCHEMA)),
            entries.filter(pl.col("source").is_in(CLAWED_SOURCES) & pl.col("opp_id").is_not_null())
            .select(list(EARNED_SCHEMA)),
        ]).group_by("partner_id", "opp_id", "currency").agg(pl.col("amount_minor").sum())
        for rule in clawbacks:
            entries = pl.concat([entries, _clawback(ctx, rule, earned).select(list(ENTRY_COLUMNS))], how="vertical")
    return entries


class _Context:
    """The quarter's facts joined once into the shapes the rules read."""

    def __init__(self, version: VersionSpec, quarter: Quarter, facts: Facts):
        self.version, self.quarter, self.facts = version, quarter, facts
        currencies = set(facts.deals["currency"].unique().to_list()) | {r.params.currency for r in version.rules
                                                                         if hasattr(r.params, "currency")}
        self.exponents = {c: currency_exponent(c) for c in currencies}
        self._factors: dict[str, int] = {}
        missing = []
        for currency in currencies:
            if currency in facts.fx:
                self._factors[currency] = fx_factor(Decimal(facts.fx[currency]), currency)
            elif len(currencies) > 1:
                missing.append(currency)
        self._needs_fx = len(currencies) > 1
        if missing and self._needs_fx:
            raise MissingRates(quarter.key, missing)
        deals = facts.deals.with_columns(
            pl.col("currency").replace_strict(self.exponents, return_dtype=pl.Int64).alias("exp"),
            self.factor_expr(pl.col("currency")).alias("fx"),
        )
        self.deals = deals
        self.links = facts.links.join(deals, on="opp_id", how="inner").join(facts.tiers, on="partner_id", how="left")
        # The words every deal-based explanation shares, made once for all the rules.
        self.credit = _credited(self.links, version, "amount_minor", "credited").with_columns(
            _deal_words().alias("deal_text"))
        self.won_in_quarter = self.credit.filter(pl.col("close_date").is_between(quarter.start, quarter.end))

    def only(self, partners: pl.Series) -> _Context:
        """The same context with the credited links of ``partners`` only (every deal's credit, already
        worked out over all its links, is unchanged)."""
        part = object.__new__(_Context)
        part.__dict__.update(self.__dict__)
        part.credit = self.credit.filter(pl.col("partner_id").is_in(partners.implode()))
        part.won_in_quarter = self.won_in_quarter.filter(pl.col("partner_id").is_in(partners.implode()))
        return part

    def factor_expr(self, currency: pl.Expr) -> pl.Expr:
        if not self._factors:
            return pl.lit(1, pl.Int128)
        return currency.replace_strict(self._factors, default=None, return_dtype=pl.Int128)

    def to_currency(self, amount: pl.Expr, target: str) -> pl.Expr:
        """Deal-currency amounts (in rows with ``currency``/``fx``) in minor units of ``target``."""
        if not self._needs_fx:
            return amount
        return pl.when(pl.col("currency") == target).then(amount).otherwise(
            _converted(amount, pl.col("fx"), self._factors[target]))

    def after_delay(self, day: pl.Expr) -> pl.Expr:
        return day + pl.duration(days=self.version.payout_delay_days)

    def exponent(self, currency: str) -> int:
        return self.exponents.get(currency) or currency_exponent(currency)


def _originator(links: pl.DataFrame) -> pl.Expr:
    """True on each deal's originating link: role sourced, else the primary link, else the first."""
    rank = (pl.when(pl.col("role") == "sourced").then(0).when(pl.col("is_primary")).then(1).otherwise(2) * 1_000_000_000
            + pl.col("link_order"))
    return rank == rank.min().over("opp_id")


def _credited(links: pl.DataFrame, version: VersionSpec, value: str, out: str) -> pl.DataFrame:
    """``links`` with ``out`` = the part of the per-deal ``value`` credited to each link, and
    ``share_note`` (why, for explanations; empty when the partner is credited the whole value)."""
    model = version.credit_model
    if model == "split":
        return links.with_columns(pl.col(value).alias(out), pl.lit("").alias("share_note"))
    if model == "origination":
        influence = rate_ppm(version.influence_share)
        origin = _originator(links)
        return links.with_columns(
            pl.when(origin).then(pl.col(value)).otherwise(times_ppm(pl.col(value), influence)).alias(out),
            pl.when(origin).then(pl.lit("")).otherwise(pl.lit(f"your {pct(version.influence_share)} influence share of "))
            .alias("share_note"),
        )
    weights = {role: rate_ppm(share) for role, share in version.role_shares.items()}
    with_weight = links.with_columns(
        pl.col("role").replace_strict(weights, default=0, return_dtype=pl.Int64).alias("_w"))
    total_w = pl.col("_w").sum().over("opp_id")
    exact = pl.col(value).cast(pl.Int128) * pl.col("_w").cast(pl.Int128)
    with_parts = with_weight.with_columns(
        pl.when(total_w > 0).then(exact // total_w.cast(pl.Int128)).otherwise(0).cast(pl.Int64).alias("_floor"),
        pl.when(total_w > 0).then(exact % total_w.cast(pl.Int128)).otherwise(0).cast(pl.Int64).alias("_rem"),
    )
    leftover = (pl.when(pl.col("_w").sum().over("opp_id") > 0).then(pl.col(value)).otherwise(0)
                - pl.col("_floor").sum().over("opp_id"))
    # Largest remainder first; ties to the earlier link, like covey.core.money.split.
    order = pl.struct([(-pl.col("_rem")).alias("r"), pl.col("link_order").alias("o")]).rank("ordinal").over("opp_id")
    credited = with_parts.with_columns(
        (pl.col("_floor") + pl.when(order <= leftover).then(1).otherwise(0)).cast(pl.Int64).alias(out),
    )
    share = _round_div(pl.col("_w") * 100, total_w).cast(pl.Utf8)  # the role's weight, for the text only
    note = pl.when(pl.col("_w") == total_w).then(pl.lit("")).otherwise(
        pl.concat_str([pl.lit("your "), pl.col("role"), pl.lit(" share ("), share, pl.lit("%) of ")]))
    return credited.with_columns(note.alias("share_note")).drop(["_w", "_floor", "_rem"])


def _evidence(frame: pl.DataFrame, requires: tuple[str, ...]) -> pl.DataFrame:
    if "approved_registration" in requires:
        frame = frame.filter(pl.col("registered_on").is_not_null())
    if "joint_demo" in requires:
        frame = frame.filter(pl.col("joint_demo"))
    return frame


def _deal_rows(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    common = rule.params.common
    rows = ctx.won_in_quarter.filter(pl.col("role").is_in(list(common.roles)))
    return _evidence(rows, common.requires)


def _entries(rows: pl.DataFrame, rule: RuleSpec, *, source: str, key: pl.Expr, base: pl.Expr | None,
             ppm: pl.Expr | int | None, amount: pl.Expr, currency: pl.Expr | str, explanation: pl.Expr,
             payable_on: pl.Expr, awaits_payment: bool, delay_days: int = 0, rep: pl.Expr | None = None,
             opp: bool = True) -> pl.DataFrame:
    """The rows as ledger entry drafts. ``awaits_payment``: earned on a deal, so payable only once the
    customer has paid, ``delay_days`` later (and not before ``payable_on``)."""
    currency_expr = pl.lit(currency) if isinstance(currency, str) else currency
    ppm_expr = None if ppm is None else (pl.lit(ppm, pl.Int64) if isinstance(ppm, int) else ppm)
    return rows.select(
        pl.col("partner_id").cast(pl.Int64),
        (rep if rep is not None else pl.lit(None, pl.Int64)).cast(pl.Int64).alias("rep_id"),
        (pl.col("opp_id") if opp else pl.lit(None, pl.Int64)).cast(pl.Int64).alias("opp_id"),
        pl.lit(rule.id, pl.Int64).alias("rule_id"),
        pl.lit(rule.kind).alias("rule_kind"),
        pl.lit(source).alias("source"),
        key.alias("key"),
        (base if base is not None else pl.lit(None, pl.Int64)).cast(pl.Int64).alias("base_minor"),
        (ppm_expr if ppm_expr is not None else pl.lit(None, pl.Int64)).cast(pl.Int64).alias("rate_ppm"),
        amount.cast(pl.Int64).alias("amount_minor"),
        currency_expr.alias("currency"),
        explanation.alias("explanation"),
        payable_on.alias("payable_on"),
        pl.lit(awaits_payment).alias("awaits_payment"),
        pl.lit(delay_days if awaits_payment else 0, pl.Int64).alias("payout_delay_days"),
    ).filter(pl.col("amount_minor") != 0)


def _deal_key(rule: RuleSpec, suffix: str = "") -> pl.Expr:
    return pl.concat_str([pl.lit(f"r{rule.id}:p"), pl.col("partner_id").cast(pl.Utf8), pl.lit(":o"),
                          pl.col("opp_id").cast(pl.Utf8), pl.lit(suffix)])


def _of_deal(ctx: _Context) -> pl.Expr:
    """"48,000.00 USD of Acme (opp_…)", or "4,800.00 USD (your 10% influence share of 48,000.00 USD) of …"."""
    return pl.col("deal_text")


def _deal_words() -> pl.Expr:
    value = money_text(pl.col("credited"), pl.col("currency"), pl.col("exp"))
    whole = money_text(pl.col("amount_minor"), pl.col("currency"), pl.col("exp"))
    shared = pl.when(pl.col("share_note") == "").then(value).otherwise(
        pl.concat_str([value, pl.lit(" ("), pl.col("share_note"), whole, pl.lit(")")]))
    return pl.concat_str([shared, pl.lit(" of "), pl.col("account"), pl.lit(" ("), pl.col("opp_ref"), pl.lit(")")])


def _fixed_credit(ctx: _Context, rows: pl.DataFrame, amount_minor: int) -> pl.DataFrame:
    """``rows`` (credited links) with ``fixed`` = the per-deal ``amount_minor`` credited like the value
    (over every link of the deal, so filtering some links out first changes nobody's share)."""
    deals = ctx.links.join(rows.select("opp_id").unique(), on="opp_id", how="semi")
    shares = _credited(deals.with_columns(pl.lit(amount_minor, pl.Int64).alias("_fixed")), ctx.version, "_fixed", "fixed")
    return rows.join(shares.select("opp_id", "link_order", "fixed"), on=["opp_id", "link_order"], how="left")


# --- one function per rule kind --------------------------------------------------------------------


def _resale_margin(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.ResaleMargin = rule.params
    rows = _deal_rows(ctx, rule).with_columns(ctx.to_currency(pl.col("amount_minor"), params.currency).alias("_size"))
    parts = []
    for band in params.bands:
        in_band = pl.col("_size") >= band.from_minor
        if band.to_minor is not None:
            in_band = in_band & (pl.col("_size") < band.to_minor)
        rates = {tier: rate_ppm(rate) for tier, rate in band.rates.items()}
        chosen = rows.filter(in_band & pl.col("tier").is_in(list(rates))).with_columns(
            pl.col("tier").replace_strict(rates, return_dtype=pl.Int64).alias("_ppm"))
        if not chosen.height:
            continue
        band_text = _band_text(band, params.currency)
        tier_name = pl.col("tier").replace_strict(dict(ctx.version.tier_names), default=pl.col("tier"))
        parts.append(_entries(
            chosen, rule, source="deal", key=_deal_key(rule), base=pl.col("credited"), ppm=pl.col("_ppm"),
            amount=times_ppm(pl.col("credited"), pl.col("_ppm")), currency=pl.col("currency"),
            explanation=pl.concat_str([
                percent_text(pl.col("_ppm")), pl.lit(" reseller margin ("), tier_name, pl.lit(f", {band_text}) on "),
                _of_deal(ctx), pl.lit(" = "), money_text(times_ppm(pl.col("credited"), pl.col("_ppm")),
                                                         pl.col("currency"), pl.col("exp")),
            ]),
            payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
        ))
    return pl.concat(parts) if parts else empty(ENTRY_COLUMNS)


def _band_text(band: R.Band, currency: str) -> str:
    from covey.core.money import Money

    start = Money(band.from_minor, currency).plain()
    if band.to_minor is None:
        return f"deals of {start} or more" if band.from_minor else "deals of any size"
    top = Money(band.to_minor, currency).plain()
    return f"deals under {top}" if not band.from_minor else f"deals from {start} to under {top}"


def _referral(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.ReferralCommission = rule.params
    if params.mode == "percent_first_year":
        rows = _deal_rows(ctx, rule)
        ppm = rate_ppm(params.rate)
        amount = times_ppm(pl.col("credited"), ppm)
        return _entries(
            rows, rule, source="deal", key=_deal_key(rule), base=pl.col("credited"), ppm=ppm, amount=amount,
            currency=pl.col("currency"),
            explanation=pl.concat_str([pl.lit(f"{pct(params.rate)} referral commission on first-year value "),
                                       _of_deal(ctx), pl.lit(" = "), money_text(amount, pl.col("currency"), pl.col("exp"))]),
            payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
        )
    if params.mode == "flat_fee":
        rows = _fixed_credit(ctx, _deal_rows(ctx, rule).filter(pl.col("type") == "new"), params.fee_minor)
        fee = money_text(pl.col("fixed"), pl.lit(params.currency), pl.lit(ctx.exponent(params.currency)))
        return _entries(
            rows, rule, source="deal", key=_deal_key(rule), base=None, ppm=None, amount=pl.col("fixed"),
            currency=params.currency,
            explanation=pl.concat_str([pl.lit("Referral fee for a new customer: "), pl.col("account"), pl.lit(" ("),
                                       pl.col("opp_ref"), pl.lit(") = "), fee]),
            payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
        )
    return _recurring(ctx, rule, params)


def _recurring(ctx: _Context, rule: RuleSpec, params: R.ReferralCommission) -> pl.DataFrame:
    ppm = rate_ppm(params.rate)
    q = ctx.quarter
    common = params.common
    rows = _evidence(ctx.credit.filter(pl.col("role").is_in(list(common.roles))), common.requires)
    churned = ctx.facts.events.filter(pl.col("kind") == "churned").group_by("opp_id").agg(
        pl.col("occurred_on").min().alias("_churned_on"))
    months = (rows.join(churned, on="opp_id", how="left")
              .with_columns(pl.int_ranges(1, params.months + 1).alias("_month")).explode("_month")
              .with_columns(pl.col("close_date").dt.offset_by(pl.format("{}mo", pl.col("_month"))).alias("_due"))
              .filter(pl.col("_due").is_between(q.start, q.end))
              .filter(pl.col("_churned_on").is_null() | (pl.col("_due") < pl.col("_churned_on"))))
    amount = _round_div(pl.col("credited").cast(pl.Int128) * ppm, PPM * 12)
    return _entries(
        months, rule, source="recurring", key=_deal_key(rule, "") + pl.lit(":m") + pl.col("_month").cast(pl.Utf8),
        base=pl.col("credited"), ppm=ppm, amount=amount, currency=pl.col("currency"),
        explanation=pl.concat_str([
            pl.lit(f"{pct(params.rate)} recurring commission, month "), pl.col("_month").cast(pl.Utf8),
            pl.lit(f" of {params.months}, on a twelfth of "), _of_deal(ctx), pl.lit(" = "),
            money_text(amount, pl.col("currency"), pl.col("exp")),
        ]),
        payable_on=pl.col("_due"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
    )


def _registration_bonus(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.RegistrationBonus = rule.params
    ppm = rate_ppm(params.rate)
    rows = _deal_rows(ctx, rule).filter(
        pl.col("registered_on").is_not_null()
        & ((pl.col("close_date") - pl.col("registered_on")).dt.total_days() <= params.close_within_days)
        & (ctx.to_currency(pl.col("amount_minor"), params.currency) >= params.min_value_minor))
    amount = times_ppm(pl.col("credited"), ppm)
    return _entries(
        rows, rule, source="registration", key=_deal_key(rule), base=pl.col("credited"), ppm=ppm, amount=amount,
        currency=pl.col("currency"),
        explanation=pl.concat_str([
            pl.lit(f"{pct(params.rate)} deal registration bonus (registered, closed within "
                   f"{params.close_within_days} days) on "), _of_deal(ctx), pl.lit(" = "),
            money_text(amount, pl.col("currency"), pl.col("exp")),
        ]),
        payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
    )


def _revenue(ctx: _Context, rows: pl.DataFrame, currency: str) -> pl.DataFrame:
    """Credited revenue per partner in ``currency`` (each link converted, then summed)."""
    return rows.with_columns(ctx.to_currency(pl.col("credited"), currency).alias("_conv")).group_by("partner_id").agg(
        pl.col("_conv").sum().alias("revenue"), pl.col("tier").first().alias("tier"))


def _accelerator(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.Accelerator = rule.params
    ppm = rate_ppm(params.rate)
    revenue = _revenue(ctx, ctx.won_in_quarter, params.currency)
    targets = {tier: params.target_for(tier) for tier in ctx.version.tier_names} or {}
    revenue = revenue.with_columns(
        pl.col("tier").replace_strict(targets, default=params.target_minor, return_dtype=pl.Int64).alias("_target"))
    above = revenue.with_columns((pl.col("revenue") - pl.col("_target")).alias("_above")).filter(pl.col("_above") > 0)
    cur, exp = pl.lit(params.currency), pl.lit(ctx.exponent(params.currency))
    amount = times_ppm(pl.col("_above"), ppm)
    q = ctx.quarter
    return _entries(
        above, rule, source="accelerator", key=pl.concat_str([pl.lit(f"r{rule.id}:p"), pl.col("partner_id").cast(pl.Utf8),
                                                              pl.lit(f":{q.key}")]),
        base=pl.col("_above"), ppm=ppm, amount=amount, currency=params.currency,
        explanation=pl.concat_str([
            pl.lit(f"{pct(params.rate)} accelerator on {q.key} revenue above target: "),
            money_text(pl.col("revenue"), cur, exp), pl.lit(" credited − "), money_text(pl.col("_target"), cur, exp),
            pl.lit(" target = "), money_text(pl.col("_above"), cur, exp), pl.lit(" above; "),
            money_text(amount, cur, exp),
        ]),
        payable_on=ctx.after_delay(pl.lit(q.end)), awaits_payment=False, opp=False,
    )


def _annual_rebate(ctx: _Context, rule: RuleSpec) -> pl.DataFrame | None:
    params: R.AnnualRebate = rule.params
    q = ctx.quarter
    if not q.last_of_year:
        return None
    year = ctx.credit.filter(pl.col("close_date").is_between(q.year_start, q.end))
    revenue = _revenue(ctx, year, params.currency)
    thresholds = sorted(params.thresholds, key=lambda t: t.from_minor)
    ppm_expr = pl.lit(0, pl.Int64)
    for t in thresholds:  # the highest threshold reached wins
        ppm_expr = pl.when(pl.col("revenue") >= t.from_minor).then(pl.lit(rate_ppm(t.rate), pl.Int64)).otherwise(ppm_expr)
    reached = revenue.with_columns(ppm_expr.alias("_ppm")).filter(pl.col("_ppm") > 0)
    cur, exp = pl.lit(params.currency), pl.lit(ctx.exponent(params.currency))
    amount = times_ppm(pl.col("revenue"), pl.col("_ppm"))
    return _entries(
        reached, rule, source="rebate",
        key=pl.concat_str([pl.lit(f"r{rule.id}:p"), pl.col("partner_id").cast(pl.Utf8), pl.lit(f":{q.year_key}")]),
        base=pl.col("revenue"), ppm=pl.col("_ppm"), amount=amount, currency=params.currency,
        explanation=pl.concat_str([
            percent_text(pl.col("_ppm")), pl.lit(f" annual rebate on {q.year_key} credited revenue of "),
            money_text(pl.col("revenue"), cur, exp), pl.lit(" = "), money_text(amount, cur, exp),
        ]),
        payable_on=ctx.after_delay(pl.lit(q.end)), awaits_payment=False, opp=False,
    )


def _spiff(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.Spiff = rule.params
    rows = _deal_rows(ctx, rule).filter(
        pl.col("close_date").is_between(params.starts_on, params.ends_on)
        & (ctx.to_currency(pl.col("amount_minor"), params.currency) >= params.min_value_minor))
    if params.products:
        rows = rows.filter(pl.col("products").list.set_intersection(list(params.products)).list.len() > 0)
    fee = money_text(pl.lit(params.amount_minor), pl.lit(params.currency), pl.lit(ctx.exponent(params.currency)))
    rep_known = pl.col("rep_id").is_not_null()
    return _entries(
        rows, rule, source="spiff",
        key=_deal_key(rule, ":u") + pl.col("rep_id").cast(pl.Utf8).fill_null("none"),
        base=None, ppm=None, amount=pl.lit(params.amount_minor), currency=params.currency,
        explanation=pl.concat_str([
            pl.lit(f"SPIFF {rule.name} ({params.starts_on:%Y-%m-%d} to {params.ends_on:%Y-%m-%d}) for "),
            pl.when(rep_known).then(pl.lit("the partner rep who registered ")).otherwise(pl.lit("")),
            pl.col("account"), pl.lit(" ("), pl.col("opp_ref"), pl.lit(") = "), fee,
        ]),
        payable_on=pl.col("close_date"), awaits_payment=True,
        delay_days=ctx.version.payout_delay_days, rep=pl.col("rep_id"),
    )


def _outcome_bonus(ctx: _Context, rule: RuleSpec) -> pl.DataFrame:
    params: R.OutcomeBonus = rule.params
    q = ctx.quarter
    if params.event == "renewal":
        rows = _deal_rows(ctx, rule).filter(pl.col("type") == "renewal")
        if params.rate:
            ppm = rate_ppm(params.rate)
            amount = times_ppm(pl.col("credited"), ppm)
            return _entries(
                rows, rule, source="outcome", key=_deal_key(rule), base=pl.col("credited"), ppm=ppm, amount=amount,
                currency=pl.col("currency"),
                explanation=pl.concat_str([pl.lit(f"{pct(params.rate)} renewal bonus on "), _of_deal(ctx), pl.lit(" = "),
                                           money_text(amount, pl.col("currency"), pl.col("exp"))]),
                payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
            )
        rows = _fixed_credit(ctx, rows, params.amount_minor)
        return _entries(
            rows, rule, source="outcome", key=_deal_key(rule), base=None, ppm=None, amount=pl.col("fixed"),
            currency=params.currency,
            explanation=pl.concat_str([pl.lit("Renewal bonus: "), pl.col("account"), pl.lit(" ("), pl.col("opp_ref"),
                                       pl.lit(") renewed = "),
                                       money_text(pl.col("fixed"), pl.lit(params.currency), pl.lit(ctx.exponent(params.currency)))]),
            payable_on=pl.col("close_date"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
        )
    milestones = ctx.facts.events.filter((pl.col("kind") == "adoption") & pl.col("occurred_on").is_between(q.start, q.end))
    common = params.common
    rows = _evidence(ctx.credit.filter(pl.col("role").is_in(list(common.roles))), common.requires).join(
        milestones.select("opp_id", "event_id", "occurred_on"), on="opp_id", how="inner")
    if params.within_days:
        rows = rows.filter((pl.col("occurred_on") - pl.col("close_date")).dt.total_days() <= params.within_days)
    rows = _fixed_credit(ctx, rows, params.amount_minor)
    return _entries(
        rows, rule, source="outcome", key=_deal_key(rule, ":e") + pl.col("event_id").cast(pl.Utf8), base=None, ppm=None,
        amount=pl.col("fixed"), currency=params.currency,
        explanation=pl.concat_str([pl.lit("Adoption milestone bonus: "), pl.col("account"), pl.lit(" ("), pl.col("opp_ref"),
                                   pl.lit(") reached a milestone on "), pl.col("occurred_on").cast(pl.Utf8), pl.lit(" = "),
                                   money_text(pl.col("fixed"), pl.lit(params.currency), pl.lit(ctx.exponent(params.currency)))]),
        payable_on=ctx.after_delay(pl.col("occurred_on")), awaits_payment=False,
    )


def _clawback(ctx: _Context, rule: RuleSpec, earned: pl.DataFrame) -> pl.DataFrame:
    params: R.Clawback = rule.params
    q = ctx.quarter
    kinds = [{"churn": "churned", "refund": "refunded"}[e] for e in params.events]
    events = ctx.facts.events.filter(pl.col("kind").is_in(kinds) & pl.col("occurred_on").is_between(q.start, q.end))
    if not events.height:
        return empty(ENTRY_COLUMNS)
    deals = ctx.deals.select("opp_id", "opp_ref", "account", "close_date", pl.col("amount_minor").alias("deal_minor"),
                             pl.col("currency").alias("deal_currency"))
    hit = events.rename({"amount_minor": "refund_minor"}).join(deals, on="opp_id", how="inner").filter(
        (pl.col("occurred_on") - pl.col("close_date")).dt.total_days() <= params.within_days)
    earned = earned.join(hit, on="opp_id", how="inner").filter(pl.col("amount_minor") != 0)
    refund = pl.col("kind") == "refunded"
    amount = pl.when(refund).then(
        -_round_div(pl.col("amount_minor").cast(pl.Int128) * pl.col("refund_minor").fill_null(0).cast(pl.Int128),
                    pl.max_horizontal(pl.col("deal_minor"), pl.lit(1)))
    ).otherwise(-pl.col("amount_minor"))
    exp = pl.col("currency").replace_strict({**ctx.exponents, **{c: currency_exponent(c) for c in
                                                                 earned["currency"].unique().to_list()}},
                                            return_dtype=pl.Int64)
    what = pl.when(refund).then(pl.lit("refunded")).otherwise(pl.lit("churned"))
    return _entries(
        earned, rule, source="clawback", key=_deal_key(rule, ":e") + pl.col("event_id").cast(pl.Utf8) + pl.lit(":")
        + pl.col("currency"),
        base=pl.col("amount_minor"), ppm=None, amount=amount, currency=pl.col("currency"),
        explanation=pl.concat_str([
            pl.lit("Clawback: "), pl.col("account"), pl.lit(" ("), pl.col("opp_ref"), pl.lit(") "), what,
            pl.lit(" on "), pl.col("occurred_on").cast(pl.Utf8),
            pl.lit(f", within {params.within_days} days of closing; earned "), money_text(pl.col("amount_minor"), pl.col("currency"), exp),
            pl.lit(", taken back "), money_text(-amount, pl.col("currency"), exp),
        ]),
        payable_on=pl.col("occurred_on"), awaits_payment=False,
    )


def _cap(ctx: _Context, rule: RuleSpec, entries: pl.DataFrame) -> pl.DataFrame:
    params: R.Cap = rule.params
    counted = entries.filter(pl.col("rule_kind").is_in(list(params.applies_to)) & (pl.col("currency") == params.currency))
    if not counted.height:
        return empty(ENTRY_COLUMNS)
    cur, exp = pl.lit(params.currency), pl.lit(ctx.exponent(params.currency))
    cap_text = money_text(pl.lit(params.amount_minor), cur, exp)
    if params.scope == "deal":
        totals = counted.filter(pl.col("opp_id").is_not_null()).group_by("partner_id", "opp_id").agg(
            pl.col("amount_minor").sum().alias("_total"), pl.col("payable_on").min().alias("payable_on"))
        over = totals.filter(pl.col("_total") > params.amount_minor).join(
            ctx.deals.select("opp_id", "opp_ref", "account"), on="opp_id", how="left")
        return _entries(
            over, rule, source="cap", key=_deal_key(rule), base=pl.col("_total"), ppm=None,
            amount=pl.lit(params.amount_minor) - pl.col("_total"), currency=params.currency,
            explanation=pl.concat_str([pl.lit("Cap per deal: "), pl.col("account"), pl.lit(" ("), pl.col("opp_ref"),
                                       pl.lit(") earned "), money_text(pl.col("_total"), cur, exp),
                                       pl.lit(", capped at "), cap_text]),
            payable_on=pl.col("payable_on"), awaits_payment=True, delay_days=ctx.version.payout_delay_days,
        )
    q = ctx.quarter
    totals = counted.group_by("partner_id").agg(pl.col("amount_minor").sum().alias("_total"))
    over = totals.filter(pl.col("_total") > params.amount_minor)
    return _entries(
        over, rule, source="cap", key=pl.concat_str([pl.lit(f"r{rule.id}:p"), pl.col("partner_id").cast(pl.Utf8),
                                                      pl.lit(f":{q.key}")]),
        base=pl.col("_total"), ppm=None, amount=pl.lit(params.amount_minor) - pl.col("_total"), currency=params.currency,
        explanation=pl.concat_str([pl.lit(f"Cap per quarter: {q.key} earnings of "), money_text(pl.col("_total"), cur, exp),
                                   pl.lit(" capped at "), cap_text]),
        payable_on=ctx.after_delay(pl.lit(q.end)), awaits_payment=False, opp=False,
    )


_HANDLERS = {
    "resale_margin": _resale_margin, "referral_commission": _referral, "registration_bonus": _registration_bonus,
    "accelerator": _accelerator, "annual_rebate": _annual_rebate, "spiff": _spiff, "outcome_bonus": _outcome_bonus,
}
