"""Incentive rules as typed, validated parameters — plain Python, no database.

A program version holds a list of rules; each rule is a *kind* plus parameters stored as JSON. This
module turns that JSON into frozen dataclasses (``parse_rule``) or refuses it with messages naming
the field (``RuleInvalid.errors``: ``{"bands.1.from": "…"}``), so the builder's forms, the API, the
payout engine and the program guide all read the same validated shape.

Conventions:
- Money is integer minor units in the rule's ``currency`` (JSON: ``{"currency": "USD", "fee": "500.00"}``
  is parsed with ``covey.core.money.parse_amount``, so "500.00" means 50,000 minor units).
- Rates are percents with at most four decimals (``"12.5"`` = 12.5 %), kept as ``Decimal`` fractions
  and, for the vectorised engine, as integer millionths (``rate_ppm``): 12.5 % = 125,000 ppm.
- Amounts are rounded once per entry, half away from zero (ROUND_HALF_UP), in the entry's currency.
- A threshold or fee is in the rule's currency; deals in other currencies are converted with the
  period's FX table before being compared (the engine does that, not this module).

Rule kinds (``KINDS``), each with what it pays:
- ``resale_margin``: a reseller's margin, a percent of its credited deal value, by tier and deal-size
  band (bands must not overlap).
- ``referral_commission``: percent of first-year value, a flat fee per new customer, or a recurring
  percent of the monthly value for N months while the customer stays.
- ``registration_bonus``: an extra percent on deals the partner registered (approved registration)
  above a minimum value, closed within N days of approval.
- ``accelerator``: a percent of the partner's credited revenue above its quarterly target — on the
  portion above target only.
- ``annual_rebate``: at fiscal year end, the percent of the highest threshold reached, on the year's
  credited revenue.
- ``spiff``: a fixed amount per qualifying deal, paid per partner rep, inside a date box, optionally
  only for some products and above a deal size.
- ``outcome_bonus``: a fixed amount or percent when a customer renews or reaches an adoption milestone.
- ``clawback``: when a customer churns or is refunded within N days of closing, what was earned on the
  deal is taken back (in proportion to the refund).
- ``cap``: a ceiling on what chosen rules pay per deal or per partner per period.
Every deal-based rule may also require evidence: an approved registration or a logged joint demo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from covey.core.money import MoneyError, is_currency, parse_amount

KINDS = (
    "resale_margin", "referral_commission", "registration_bonus", "accelerator", "annual_rebate",
    "spiff", "outcome_bonus", "clawback", "cap",
)
KIND_LABELS = {
    "resale_margin": "Reseller margin", "referral_commission": "Referral commission",
    "registration_bonus": "Deal registration bonus", "accelerator": "Quarterly accelerator",
    "annual_rebate": "Annual rebate", "spiff": "SPIFF", "outcome_bonus": "Outcome bonus",
    "clawback": "Clawback", "cap": "Cap",
}
# Which partner involvements (crm.PartnerInvolvement) a deal-based rule pays by default.
DEFAULT_ROLES = {
    "resale_margin": ("reseller", "distributor"),
    "referral_commission": ("sourced", "referral"),
    "registration_bonus": ("sourced", "referral", "reseller", "distributor", "integrator", "technology"),
    "spiff": ("sourced", "referral", "reseller", "distributor", "integrator", "technology"),
    "outcome_bonus": ("sourced", "referral", "reseller", "distributor", "integrator", "technology"),
}
ROLES = ("sourced", "referral", "reseller", "distributor", "integrator", "technology", "influencer")
EVIDENCE = ("approved_registration", "joint_demo")
EVIDENCE_LABELS = {"approved_registration": "an approved deal registration", "joint_demo": "a logged joint demo"}
REFERRAL_MODES = ("percent_first_year", "flat_fee", "recurring")
OUTCOMES = ("renewal", "adoption_milestone")
CLAWBACK_EVENTS = ("churn", "refund")
CAP_SCOPES = ("deal", "partner_period")
CAPPABLE = ("resale_margin", "referral_commission", "registration_bonus", "accelerator", "spiff", "outcome_bonus")
PPM = 1_000_000  # rates as integer millionths of the base
MAX_RATE_PCT = Decimal(100)
MAX_MONTHS = 120
MAX_DAYS = 3660

REQUIRED = "This field is required."
NOT_A_PERCENT = "Enter a percent such as 12.5 (at most four decimals)."
PERCENT_RANGE = "A percent must be between 0 and 100."
NOT_WHOLE = "Enter a whole number."


class RuleInvalid(ValueError):
    """Parameters that cannot make a rule; ``errors`` maps each field path to a message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# --- the parameter types -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """Deals whose value (in the rule's currency) is ≥ ``from_minor`` and < ``to_minor`` (None: no top)."""

    from_minor: int
    to_minor: int | None
    rates: Mapping[str, Decimal]  # tier code → rate as a fraction (0.30 = 30 %)

    def contains(self, value_minor: int) -> bool:
        return value_minor >= self.from_minor and (self.to_minor is None or value_minor < self.to_minor)


@dataclass(frozen=True, slots=True)
class Common:
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResaleMargin:
    currency: str
    bands: tuple[Band, ...]
    common: Common = Common()

    def band_for(self, value_minor: int) -> Band | None:
        return next((b for b in self.bands if b.contains(value_minor)), None)


@dataclass(frozen=True, slots=True)
class ReferralCommission:
    mode: str
    currency: str
    rate: Decimal = Decimal(0)  # percent_first_year and recurring
    fee_minor: int = 0  # flat_fee
    months: int = 0  # recurring
    common: Common = Common()


@dataclass(frozen=True, slots=True)
class RegistrationBonus:
    currency: str
    rate: Decimal
    min_value_minor: int = 0
    close_within_days: int = 90
    common: Common = Common()


@dataclass(frozen=True, slots=True)
class Accelerator:
    currency: str
    rate: Decimal
    target_minor: int  # every tier without its own target
    targets: Mapping[str, int] = field(default_factory=dict)  # tier code → quarterly target

    def target_for(self, tier: str) -> int:
        return self.targets.get(tier, self.target_minor)


@dataclass(frozen=True, slots=True)
class Threshold:
    from_minor: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class AnnualRebate:
    currency: str
    thresholds: tuple[Threshold, ...]  # ascending

    def rate_for(self, revenue_minor: int) -> Decimal:
        reached = [t.rate for t in self.thresholds if revenue_minor >= t.from_minor]
        return reached[-1] if reached else Decimal(0)


@dataclass(frozen=True, slots=True)
class Spiff:
    currency: str
    amount_minor: int
    starts_on: date
    ends_on: date
    products: tuple[str, ...] = ()  # product codes; empty: any
    min_value_minor: int = 0
    common: Common = Common()


@dataclass(frozen=True, slots=True)
class OutcomeBonus:
    event: str
    currency: str
    amount_minor: int = 0
    rate: Decimal = Decimal(0)  # of the renewal's value (renewal only)
    within_days: int = 0  # adoption: days after the deal closed; 0 = any time
    common: Common = Common()


@dataclass(frozen=True, slots=True)
class Clawback:
    within_days: int
    events: tuple[str, ...] = CLAWBACK_EVENTS


@dataclass(frozen=True, slots=True)
class Cap:
    scope: str
    currency: str
    amount_minor: int
    applies_to: tuple[str, ...] = CAPPABLE  # rule kinds whose entries count toward the cap


Params = ResaleMargin | ReferralCommission | RegistrationBonus | Accelerator | AnnualRebate | Spiff | OutcomeBonus | Clawback | Cap


def rate_ppm(rate: Decimal) -> int:
    """A fraction as integer millionths; exact because percents carry at most four decimals."""
    scaled = rate * PPM
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {rate} has more precision than a millionth")
    return int(scaled)


# --- parsing -------------------------------------------------------------------------------------


class _Reader:
    """Reads one rule's JSON, collecting every problem before giving up (a form shows them all)."""

    def __init__(self, data: Mapping):
        self.data = data if isinstance(data, Mapping) else {}
        self.errors: dict[str, str] = {}
        if not isinstance(data, Mapping):
            self.errors["params"] = "The parameters must be an object."

    def raw(self, source: Mapping, name: str, path: str, *, required: bool = True):
        value = source.get(name) if isinstance(source, Mapping) else None
        if value in (None, "") and required:
            self.errors.setdefault(path, REQUIRED)
        return value

    def currency(self) -> str:
        code = str(self.raw(self.data, "currency", "currency") or "").strip().upper()
        if code and not is_currency(code):
            self.errors["currency"] = f"{code!r} is not an ISO 4217 currency code such as USD or EUR."
        return code

    def money(self, source: Mapping, name: str, path: str, currency: str, *, required: bool = True,
              positive: bool = False) -> int:
        value = self.raw(source, name, path, required=required)
        if value in (None, ""):
            return 0
        if not is_currency(currency):
            return 0  # the currency error already explains it
        try:
            minor = parse_amount(str(value), currency).minor
        except MoneyError as exc:
            self.errors[path] = str(exc)
            return 0
        if minor < 0:
            self.errors[path] = "An amount cannot be negative."
        elif positive and minor == 0:
            self.errors[path] = "The amount must be more than zero."
        return minor

    def percent(self, source: Mapping, name: str, path: str, *, required: bool = True) -> Decimal:
        value = self.raw(source, name, path, required=required)
        if value in (None, ""):
            return Decimal(0)
        try:
            pct = Decimal(str(value).strip().rstrip("%").strip())
        except InvalidOperation:
            self.errors[path] = NOT_A_PERCENT
            return Decimal(0)
        if not pct.is_finite():
            self.errors[path] = NOT_A_PERCENT
            return Decimal(0)
        if pct < 0 or pct > MAX_RATE_PCT:
            self.errors[path] = PERCENT_RANGE
            return Decimal(0)
        if pct != pct.quantize(Decimal("0.0001")):
            self.errors[path] = NOT_A_PERCENT
            return Decimal(0)
        return pct / 100

    def whole(self, source: Mapping, name: str, path: str, *, low: int, high: int, required: bool = True,
              default: int = 0) -> int:
        value = self.raw(source, name, path, required=required)
        if value in (None, ""):
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.errors[path] = NOT_WHOLE
            return default
        if not low <= number <= high:
            self.errors[path] = f"Enter a number from {low} to {high}."
            return default
        return number

    def day(self, name: str) -> date | None:
        value = self.raw(self.data, name, name)
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.errors[name] = "Enter a date as YYYY-MM-DD."
            return None

    def choices(self, name: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get(name)
        if value in (None, "", []):
            return default
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or any(not isinstance(v, str) for v in items):
            self.errors[name] = "Give a list of choices."
            return default
        unknown = [v for v in items if v not in allowed]
        if unknown:
            self.errors[name] = f"Unknown choice {unknown[0]!r}; choose from {', '.join(allowed)}."
            return default
        return tuple(dict.fromkeys(items))

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = str(self.raw(self.data, name, name) or "")
        if value and value not in allowed:
            self.errors[name] = f"Choose one of {', '.join(allowed)}."
        return value

    def common(self, kind: str) -> Common:
        return Common(roles=self.choices("roles", ROLES, DEFAULT_ROLES.get(kind, ())),
                      requires=self.choices("requires", EVIDENCE, ()))

    def tier_rates(self, source: Mapping, path: str, tiers: frozenset[str]) -> dict[str, Decimal]:
        rates = source.get("rates") if isinstance(source, Mapping) else None
        if not isinstance(rates, Mapping) or not rates:
            self.errors[path] = "Give a rate for at least one tier."
            return {}
        out = {}
        for tier in rates:
            if tiers and tier not in tiers:
                self.errors[f"{path}.{tier}"] = f"There is no tier {tier!r} in this version."
                continue
            out[str(tier)] = self.percent(rates, tier, f"{path}.{tier}")
        return out


def _resale_margin(r: _Reader, tiers: frozenset[str]) -> ResaleMargin:
    currency = r.currency()
    raw_bands = r.data.get("bands")
    bands: list[Band] = []
    if not isinstance(raw_bands, list) or not raw_bands:
        r.errors["bands"] = "Give at least one deal-size band."
        raw_bands = []
    for i, raw in enumerate(raw_bands):
        start = r.money(raw, "from", f"bands.{i}.from", currency)
        top = r.money(raw, "to", f"bands.{i}.to", currency, required=False) if isinstance(raw, Mapping) and raw.get("to") not in (None, "") else None
        if top is not None and top <= start:
            r.errors[f"bands.{i}.to"] = "The top of a band must be above its start."
        bands.append(Band(start, top, r.tier_rates(raw, f"bands.{i}.rates", tiers)))
    ordered = sorted(range(len(bands)), key=lambda i: bands[i].from_minor)
    for before, after in zip(ordered, ordered[1:], strict=False):
        top = bands[before].to_minor
        if top is None or top > bands[after].from_minor:
            r.errors[f"bands.{after}.from"] = f"This band overlaps band {before + 1}; bands must not overlap."
    return ResaleMargin(currency, tuple(bands[i] for i in ordered), r.common("resale_margin"))


def _referral(r: _Reader, tiers: frozenset[str]) -> ReferralCommission:
    mode = r.choice("mode", REFERRAL_MODES)
    currency = r.currency()
    common = r.common("referral_commission")
    if mode == "flat_fee":
        return ReferralCommission(mode, currency, fee_minor=r.money(r.data, "fee", "fee", currency, positive=True),
                                  common=common)
    rate = r.percent(r.data, "rate", "rate")
    months = r.whole(r.data, "months", "months", low=1, high=MAX_MONTHS) if mode == "recurring" else 0
    return ReferralCommission(mode, currency, rate=rate, months=months, common=common)


def _registration_bonus(r: _Reader, tiers: frozenset[str]) -> RegistrationBonus:
    currency = r.currency()
    return RegistrationBonus(
        currency, r.percent(r.data, "rate", "rate"),
        min_value_minor=r.money(r.data, "min_value", "min_value", currency, required=False),
        close_within_days=r.whole(r.data, "close_within_days", "close_within_days", low=1, high=MAX_DAYS,
                                  required=False, default=90),
        common=r.common("registration_bonus"),
    )


def _accelerator(r: _Reader, tiers: frozenset[str]) -> Accelerator:
    currency = r.currency()
    targets = {}
    raw_targets = r.data.get("targets") or {}
    if not isinstance(raw_targets, Mapping):
        r.errors["targets"] = "Give the targets as tier: amount."
        raw_targets = {}
    for tier in raw_targets:
        if tiers and tier not in tiers:
            r.errors[f"targets.{tier}"] = f"There is no tier {tier!r} in this version."
            continue
        targets[str(tier)] = r.money(raw_targets, tier, f"targets.{tier}", currency)
    return Accelerator(currency, r.percent(r.data, "rate", "rate"),
                       r.money(r.data, "target", "target", currency), targets)


def _annual_rebate(r: _Reader, tiers: frozenset[str]) -> AnnualRebate:
    currency = r.currency()
    raw = r.data.get("thresholds")
    if not isinstance(raw, list) or not raw:
        r.errors["thresholds"] = "Give at least one threshold."
        raw = []
    thresholds = []
    for i, item in enumerate(raw):
        if isinstance(item, Mapping) and item.get("currency") not in (None, "", currency):
            r.errors[f"thresholds.{i}.from"] = (
                f"This threshold is in {item.get('currency')}, but the rebate is in {currency}; "
                "give every threshold in the rule's currency."
            )
            continue
        thresholds.append(Threshold(r.money(item, "from", f"thresholds.{i}.from", currency, positive=True),
                                    r.percent(item, "rate", f"thresholds.{i}.rate")))
    for i, (a, b) in enumerate(zip(thresholds, thresholds[1:], strict=False), start=1):
        if b.from_minor <= a.from_minor:
            r.errors[f"thresholds.{i}.from"] = "Thresholds must rise from one to the next."
    return AnnualRebate(currency, tuple(thresholds))


def _spiff(r: _Reader, tiers: frozenset[str]) -> Spiff:
    currency = r.currency()
    starts, ends = r.day("starts_on"), r.day("ends_on")
    if starts and ends and ends < starts:
        r.errors["ends_on"] = "The SPIFF cannot end before it starts."
    products = r.data.get("products") or []
    if not isinstance(products, list) or any(not isinstance(p, str) for p in products):
        r.errors["products"] = "Give the product codes as a list."
        products = []
    return Spiff(
        currency, r.money(r.data, "amount", "amount", currency, positive=True), starts or date.min,
        ends or date.min, tuple(p.strip() for p in products if p.strip()),
        r.money(r.data, "min_value", "min_value", currency, required=False), r.common("spiff"),
    )


def _outcome_bonus(r: _Reader, tiers: frozenset[str]) -> OutcomeBonus:
    event = r.choice("event", OUTCOMES)
    currency = r.currency()
    amount = r.money(r.data, "amount", "amount", currency, required=False)
    rate = r.percent(r.data, "rate", "rate", required=False)
    if not amount and not rate and "amount" not in r.errors and "rate" not in r.errors:
        r.errors["amount"] = "Give an amount or a percent."
    if amount and rate:
        r.errors["rate"] = "Give an amount or a percent, not both."
    if event == "adoption_milestone" and rate:
        r.errors["rate"] = "An adoption milestone pays a fixed amount; a percent needs a renewal's value."
    return OutcomeBonus(event, currency, amount, rate,
                        r.whole(r.data, "within_days", "within_days", low=0, high=MAX_DAYS, required=False),
                        r.common("outcome_bonus"))


def _clawback(r: _Reader, tiers: frozenset[str]) -> Clawback:
    return Clawback(r.whole(r.data, "within_days", "within_days", low=1, high=MAX_DAYS),
                    r.choices("events", CLAWBACK_EVENTS, CLAWBACK_EVENTS))


def _cap(r: _Reader, tiers: frozenset[str]) -> Cap:
    scope = r.choice("scope", CAP_SCOPES)
    currency = r.currency()
    amount = r.money(r.data, "amount", "amount", currency)
    if "amount" not in r.errors and r.data.get("amount") not in (None, "") and str(r.data["amount"]).strip().startswith("-"):
        r.errors["amount"] = "A cap cannot be below zero."
    return Cap(scope, currency, amount, r.choices("applies_to", CAPPABLE, CAPPABLE))


_PARSERS = {
    "resale_margin": _resale_margin, "referral_commission": _referral, "registration_bonus": _registration_bonus,
    "accelerator": _accelerator, "annual_rebate": _annual_rebate, "spiff": _spiff,
    "outcome_bonus": _outcome_bonus, "clawback": _clawback, "cap": _cap,
}


def parse_rule(kind: str, params: Mapping, *, tiers: frozenset[str] | set[str] = frozenset()) -> Params:
    """Validated parameters of a rule of ``kind``, or ``RuleInvalid`` listing every problem.

    ``tiers`` are the tier codes of the program version: rates and targets for other tiers are refused.
    """
    if kind not in _PARSERS:
        raise RuleInvalid({"kind": f"Unknown rule kind {kind!r}; choose from {', '.join(KINDS)}."})
    reader = _Reader(params)
    parsed = _PARSERS[kind](reader, frozenset(tiers))
    if reader.errors:
        raise RuleInvalid(reader.errors)
    return parsed
