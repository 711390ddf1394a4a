"""The payout rules computed the slow, obvious way: one link at a time, with ``Decimal``.

This is the yardstick for ``covey.payouts.engine``: the property tests and ``covey bench payouts``
compute every entry both ways and require zero cents of difference. It shares no code with the
engine beyond the parsed parameters (``covey.programs.rules``) and ``covey.core.money.split``, and it
reads plain dicts, so a reader can check each rule against its description in a few lines.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from covey.core.money import currency_exponent, split

ONE = Decimal(1)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def times(base: int, rate: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        return round_half_up(Decimal(base) * rate)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Reference:
    """Entries of one version for one quarter: ``run()`` → {key: (partner_id, amount_minor, currency, source)}."""

    def __init__(self, version, quarter, *, deals: Iterable[Mapping], links: Iterable[Mapping],
                 tiers: Mapping[int, str], events: Iterable[Mapping], earned: Iterable[Mapping],
                 fx: Mapping[str, Decimal]):
        self.version, self.quarter, self.tiers, self.fx = version, quarter, tiers, fx
        self.deals = {d["opp_id"]: dict(d) for d in deals}
        self.events = list(events)
        self.links = [dict(link) for link in links if link["opp_id"] in self.deals]
        self.by_deal: dict[int, list[dict]] = defaultdict(list)
        for link in sorted(self.links, key=lambda x: x["link_order"]):
            self.by_deal[link["opp_id"]].append(link)
        self.earned = list(earned)
        self.out: dict[str, tuple[int, int, str, str]] = {}

    # --- helpers -----------------------------------------------------------------------------

    def convert(self, amount: int, source: str, target: str) -> int:
        if source == target:
            return amount
        with localcontext() as ctx:
            ctx.prec = 80
            base = Decimal(amount) * Decimal(self.fx[source]) / Decimal(10) ** currency_exponent(source)
            return round_half_up(base / Decimal(self.fx[target]) * Decimal(10) ** currency_exponent(target))

    def credit(self, opp_id: int, value: int) -> dict[int, int]:
        """link_order → the part of ``value`` credited to that link of the deal."""
        links = self.by_deal[opp_id]
        model = self.version.credit_model
        if model == "split":
            return {link["link_order"]: value for link in links}
        if model == "origination":
            def rank(link):
                return (0 if link["role"] == "sourced" else 1 if link["is_primary"] else 2, link["link_order"])
            origin = min(links, key=rank)["link_order"]
            return {link["link_order"]: value if link["link_order"] == origin
                    else times(value, self.version.influence_share) for link in links}
        weights = [self.version.role_shares.get(link["role"], Decimal(0)) for link in links]
        if sum(weights) == 0:
            return {link["link_order"]: 0 for link in links}
        parts = split(value, [int(w * 1_000_000) for w in weights])
        return {link["link_order"]: part for link, part in zip(links, parts, strict=True)}

    def won_in_quarter(self, deal) -> bool:
        return self.quarter.start <= deal["close_date"] <= self.quarter.end

    def evidence_ok(self, link, requires) -> bool:
        if "approved_registration" in requires and link.get("registered_on") is None:
            return False
        return not ("joint_demo" in requires and not link.get("joint_demo"))

    def add(self, key: str, partner_id: int, amount: int, currency: str, source: str) -> None:
        if amount:
            self.out[key] = (partner_id, amount, currency, source)

    def deal_links(self, rule, *, in_quarter: bool = True):
        common = rule.params.common
        for opp_id, links in self.by_deal.items():
            deal = self.deals[opp_id]
            if in_quarter and not self.won_in_quarter(deal):
                continue
            credited = self.credit(opp_id, deal["amount_minor"])
            for link in links:
                if link["role"] in common.roles and self.evidence_ok(link, common.requires):
                    yield deal, link, credited[link["link_order"]]

    # --- the rules -----------------------------------------------------------------------------

    def run(self) -> dict[str, tuple[int, int, str, str]]:
        for rule in self.version.rules:
            method = getattr(self, f"_{rule.kind}", None)
            if method and rule.kind not in ("cap", "clawback"):
                method(rule)
        for rule in self.version.rules:
            if rule.kind == "cap":
                self._cap(rule)
        for rule in self.version.rules:
            if rule.kind == "clawback":
                self._clawback(rule)
        return self.out

    def _resale_margin(self, rule):
        p = rule.params
        for deal, link, credited in self.deal_links(rule):
            band = p.band_for(self.convert(deal["amount_minor"], deal["currency"], p.currency))
            tier = self.tiers.get(link["partner_id"])
            if band is None or tier not in band.rates:
                continue
            self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}", link["partner_id"],
                     times(credited, band.rates[tier]), deal["currency"], "deal")

    def _referral_commission(self, rule):
        p = rule.params
        if p.mode == "percent_first_year":
            for deal, link, credited in self.deal_links(rule):
                self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}", link["partner_id"],
                         times(credited, p.rate), deal["currency"], "deal")
        elif p.mode == "flat_fee":
            for deal, link, _ in self.deal_links(rule):
                if deal["type"] == "new":
                    fee = self.credit(deal["opp_id"], p.fee_minor)[link["link_order"]]
                    self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}", link["partner_id"], fee,
                             p.currency, "deal")
        else:
            for deal, link, credited in self.deal_links(rule, in_quarter=False):
                churned = [e["occurred_on"] for e in self.events if e["opp_id"] == deal["opp_id"] and e["kind"] == "churned"]
                churned_on = min(churned) if churned else None
                for month in range(1, p.months + 1):
                    due = add_months(deal["close_date"], month)
                    if not self.quarter.start <= due <= self.quarter.end or (churned_on and due >= churned_on):
                        continue
                    with localcontext() as ctx:
                        ctx.prec = 60
                        amount = round_half_up(Decimal(credited) * p.rate / 12)
                    self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}:m{month}", link["partner_id"],
                             amount, deal["currency"], "recurring")

    def _registration_bonus(self, rule):
        p = rule.params
        for deal, link, credited in self.deal_links(rule):
            if link.get("registered_on") is None:
                continue
            if (deal["close_date"] - link["registered_on"]).days > p.close_within_days:
                continue
            if self.convert(deal["amount_minor"], deal["currency"], p.currency) < p.min_value_minor:
                continue
            self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}", link["partner_id"],
                     times(credited, p.rate), deal["currency"], "registration")

    def revenue(self, currency: str, start: date, end: date) -> dict[int, int]:
        totals: dict[int, int] = defaultdict(int)
        for opp_id, links in self.by_deal.items():
            deal = self.deals[opp_id]
            if not start <= deal["close_date"] <= end:
                continue
            credited = self.credit(opp_id, deal["amount_minor"])
            for link in links:
                totals[link["partner_id"]] += self.convert(credited[link["link_order"]], deal["currency"], currency)
        return totals

    def _accelerator(self, rule):
        p = rule.params
        for partner, revenue in self.revenue(p.currency, self.quarter.start, self.quarter.end).items():
            above = revenue - p.target_for(self.tiers.get(partner, ""))
            if above > 0:
                self.add(f"r{rule.id}:p{partner}:{self.quarter.key}", partner, times(above, p.rate), p.currency,
                         "accelerator")

    def _annual_rebate(self, rule):
        p = rule.params
        if not self.quarter.last_of_year:
            return
        for partner, revenue in self.revenue(p.currency, self.quarter.year_start, self.quarter.end).items():
            rate = p.rate_for(revenue)
            if rate:
                self.add(f"r{rule.id}:p{partner}:{self.quarter.year_key}", partner, times(revenue, rate), p.currency,
                         "rebate")

    def _spiff(self, rule):
        p = rule.params
        for deal, link, _ in self.deal_links(rule):
            if not p.starts_on <= deal["close_date"] <= p.ends_on:
                continue
            if self.convert(deal["amount_minor"], deal["currency"], p.currency) < p.min_value_minor:
                continue
            if p.products and not set(p.products) & set(deal.get("products") or ()):
                continue
            rep = link.get("rep_id")
            self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}:u{rep if rep is not None else 'none'}",
                     link["partner_id"], p.amount_minor, p.currency, "spiff")

    def _outcome_bonus(self, rule):
        p = rule.params
        if p.event == "renewal":
            for deal, link, credited in self.deal_links(rule):
                if deal["type"] != "renewal":
                    continue
                if p.rate:
                    amount, currency = times(credited, p.rate), deal["currency"]
                else:
                    amount, currency = self.credit(deal["opp_id"], p.amount_minor)[link["link_order"]], p.currency
                self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}", link["partner_id"], amount, currency,
                         "outcome")
            return
        for event in self.events:
            if event["kind"] != "adoption" or not self.quarter.start <= event["occurred_on"] <= self.quarter.end:
                continue
            deal = self.deals.get(event["opp_id"])
            if deal is None or (p.within_days and (event["occurred_on"] - deal["close_date"]).days > p.within_days):
                continue
            fixed = self.credit(deal["opp_id"], p.amount_minor)
            for link in self.by_deal[deal["opp_id"]]:
                if link["role"] in p.common.roles and self.evidence_ok(link, p.common.requires):
                    self.add(f"r{rule.id}:p{link['partner_id']}:o{deal['opp_id']}:e{event['event_id']}",
                             link["partner_id"], fixed[link["link_order"]], p.currency, "outcome")

    def _cap(self, rule):
        p = rule.params
        kinds = {r.id: r.kind for r in self.version.rules}
        totals: dict = defaultdict(int)
        for key, (partner, amount, currency, _source) in list(self.out.items()):
            rule_id = int(key.split(":", 1)[0][1:])
            if kinds.get(rule_id) not in p.applies_to or currency != p.currency:
                continue
            if p.scope == "deal":
                parts = key.split(":")
                if len(parts) < 3 or not parts[2].startswith("o"):
                    continue
                totals[(partner, int(parts[2][1:]))] += amount
            else:
                totals[partner] += amount
        for group, total in totals.items():
            if total <= p.amount_minor:
                continue
            if p.scope == "deal":
                partner, opp = group
                self.add(f"r{rule.id}:p{partner}:o{opp}", partner, p.amount_minor - total, p.currency, "cap")
            else:
                self.add(f"r{rule.id}:p{group}:{self.quarter.key}", group, p.amount_minor - total, p.currency, "cap")

    def _clawback(self, rule):
        p = rule.params
        kinds = {"churn": "churned", "refund": "refunded"}
        wanted = {kinds[e] for e in p.events}
        earned: dict = defaultdict(int)
        for row in self.earned:
            earned[(row["partner_id"], row["opp_id"], row["currency"])] += row["amount_minor"]
        for key, (partner, amount, currency, source) in self.out.items():
            parts = key.split(":")
            if source in ("deal", "registration", "spiff", "cap") and len(parts) >= 3 and parts[2].startswith("o"):
                earned[(partner, int(parts[2][1:]), currency)] += amount
        for event in self.events:
            if event["kind"] not in wanted or not self.quarter.start <= event["occurred_on"] <= self.quarter.end:
                continue
            deal = self.deals.get(event["opp_id"])
            if deal is None or (event["occurred_on"] - deal["close_date"]).days > p.within_days:
                continue
            for (partner, opp, currency), amount in list(earned.items()):
                if opp != deal["opp_id"] or not amount:
                    continue
                if event["kind"] == "refunded":
                    with localcontext() as ctx:
                        ctx.prec = 60
                        back = round_half_up(Decimal(amount) * (event.get("amount_minor") or 0)
                                             / max(deal["amount_minor"], 1))
                else:
                    back = amount
                self.add(f"r{rule.id}:p{partner}:o{opp}:e{event['event_id']}:{currency}", partner, -back, currency,
                         "clawback")
