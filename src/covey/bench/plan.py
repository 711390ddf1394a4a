"""The registration benchmark's data and traffic plan, generated from a seed (pure: no database).

The same ``(size, clients, conflict_share, seed)`` always gives the same plan, so two runs measure
the same work. Each client stands for one partner rep and sends its queue of registrations in
order; the plan is laid out in *rounds* (round ``r`` is every client's ``r``-th request), and the
partners competing for a contested company sit in the same round, so their requests reach the
server at about the same moment — with different spellings of the name and of the web address,
but the same registrable domain.

Besides unique and contested companies, a few registrations are meant to be refused by the
program rules (an existing customer, an open vendor opportunity, a value under the minimum) so
the rule checks do real work, and a few name an existing prospect account that breaks no rule.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

# What each registration is meant to test, and the outcome the program's default rules give it.
UNIQUE = "unique"  # a company nobody else registers → submitted
CONTESTED = "contested"  # several partners at once → exactly one submitted, the rest conflict
CUSTOMER = "customer"  # an existing customer account → rejected (new business only)
OPEN_OPPORTUNITY = "open_opportunity"  # the vendor already works the account → rejected
BELOW_MINIMUM = "below_minimum"  # under the program minimum → rejected
PROSPECT = "prospect"  # an existing account with only closed deals → submitted

EXPECTED = {
    UNIQUE: {"submitted"},
    CONTESTED: {"submitted", "conflict"},
    CUSTOMER: {"rejected"},
    OPEN_OPPORTUNITY: {"rejected"},
    BELOW_MINIMUM: {"rejected"},
    PROSPECT: {"submitted"},
}
# Share of the plan for each rule case (the rest, after contested, is unique companies).
RULE_SHARES = {CUSTOMER: 0.03, OPEN_OPPORTUNITY: 0.03, BELOW_MINIMUM: 0.03, PROSPECT: 0.03}

CURRENCIES = ("USD", "EUR", "GBP")
SUFFIXES = ("com", "de", "co.uk", "io", "fr", "nl", "com.au", "ca")
LEGAL = {"com": "Inc.", "de": "GmbH", "co.uk": "Ltd", "io": "Inc", "fr": "SAS", "nl": "B.V.", "com.au": "Pty Ltd", "ca": "Corp."}
_FIRST = (
    "Amber", "Basalt", "Cobalt", "Drift", "Ember", "Fable", "Granite", "Harbor", "Indigo", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Prairie", "Quarry", "Rook", "Sable", "Tidal",
    "Umber", "Vantage", "Willow", "Xenon", "Yarrow", "Zephyr",
)
_SECOND = (
    "Analytics", "Logistics", "Foods", "Health", "Robotics", "Energy", "Media", "Outfitters",
    "Textiles", "Freight", "Labs", "Foundry", "Dental", "Hotels", "Motors", "Pharma",
)
PRODUCTS = (  # (code, name, price in minor units)
    ("BNCH-CORE", "Bench Core Platform", 2_400_000),
    ("BNCH-FLOW", "Bench Workflow Add-on", 900_000),
    ("BNCH-DATA", "Bench Data Connector", 600_000),
    ("BNCH-SUP", "Bench Premium Support", 300_000),
)


@dataclass(frozen=True)
class Company:
    name: str
    domain: str  # the registrable domain, as the normaliser should find it


@dataclass(frozen=True)
class AccountSpec:
    """An existing vendor CRM account the rule checks must find."""

    name: str
    domain: str
    status: str  # "customer" or "prospect"
    open_opportunity: bool  # the vendor works an open deal on it
    closed_opportunity: bool  # only a closed deal (breaks no rule)


@dataclass(frozen=True)
class Submission:
    client: int
    round: int
    kind: str
    company_name: str  # as typed
    domain: str  # as typed
    claim_domain: str  # what the normaliser must make of it
    amount: str  # decimal string in major units
    currency: str
    products: tuple[int, ...]  # indexes into PRODUCTS
    close_in_days: int

    def body(self, product_ids: list[str], today_iso_offset) -> dict:
        """The JSON body of ``POST /api/registrations`` (``today_iso_offset(days)`` → "YYYY-MM-DD")."""
        slug = self.claim_domain.split(".")[0]
        return {
            "company_name": self.company_name,
            "domain": self.domain,
            "contact_name": f"Buyer {self.round}-{self.client}",
            "contact_email": f"buyer{self.round}.{self.client}@{self.claim_domain}",
            "contact_phone": "",
            "value": {"amount": self.amount, "currency": self.currency},
            "products": [product_ids[i] for i in self.products],
            "expected_close": today_iso_offset(self.close_in_days),
            "deal_type": "new",
            "description": f"Bench registration for {slug}: rollout across {1 + self.round % 9} teams.",
            "evidence": "Joint discovery call held; the buyer asked for a quote.",
        }


@dataclass
class Plan:
    size: int
    clients: int
    conflict_share: float
    seed: int
    partners: int
    accounts: list[AccountSpec]
    submissions: list[Submission]
    contested: dict[str, int] = field(default_factory=dict)  # claim domain → partners competing

    def queues(self) -> list[list[Submission]]:
        """Each client's requests in the order it sends them."""
        out: list[list[Submission]] = [[] for _ in range(self.clients)]
        for sub in sorted(self.submissions, key=lambda s: (s.round, s.client)):
            out[sub.client].append(sub)
        return out

    def kinds(self) -> Counter:
        return Counter(s.kind for s in self.submissions)


def _spellings(company: Company, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` different (name, address) spellings of one company, all with the same domain."""
    base, domain = company.name, company.domain
    suffix = domain.split(".", 1)[1]
    names = [
        f"{base} {LEGAL[suffix]}", base.upper(), f"{base}, {LEGAL[suffix]}".lower(), f"The {base}",
        f"{base} {LEGAL[suffix]}".replace(" ", "  "), base,
    ]
    addresses = [
        f"https://www.{domain}/", domain, f"WWW.{domain.upper()}/path", f"http://sales.{domain}/contact",
        f"https://{domain}/?ref=partner", f"www.{domain}",
    ]
    rng.shuffle(names)
    rng.shuffle(addresses)
    return list(zip(names[:count], addresses[:count], strict=True))


def _company(index: int, rng: random.Random) -> Company:
    first, second = rng.choice(_FIRST), rng.choice(_SECOND)
    suffix = SUFFIXES[index % len(SUFFIXES)]
    # The index keeps every domain distinct; the words keep names readable.
    return Company(name=f"{first} {second} {index}", domain=f"{first.lower()}{second.lower()}{index}.{suffix}")


def _amount(rng: random.Random, *, below_minimum: bool = False) -> str:
    if below_minimum:
        return f"{rng.randrange(500, 9_000)}.00"
    return f"{rng.randrange(12_000, 400_000)}.{rng.randrange(100):02d}"


def build_plan(*, size: int, clients: int, conflict_share: float = 0.15, seed: int = 1) -> Plan:
    """Lay out ``size`` registrations over ``clients`` clients; see the module docstring."""
    if size < 1 or clients < 1:
        raise ValueError("size and clients must be at least 1")
    if not 0 <= conflict_share <= 1:
        raise ValueError("conflict_share must be between 0 and 1")
    rng = random.Random(f"covey-bench-registrations:{seed}")
    rounds = math.ceil(size / clients)
    free: list[list[int]] = [list(range(clients)) for _ in range(rounds)]  # free client slots per round
    for slots in free:
        rng.shuffle(slots)
    next_company = 0

    def new_company() -> Company:
        nonlocal next_company
        next_company += 1
        return _company(next_company, rng)

    def product_pick() -> tuple[int, ...]:
        return tuple(sorted(rng.sample(range(len(PRODUCTS)), rng.randint(1, 2))))

    subs: list[Submission] = []
    contested: dict[str, int] = {}

    # Contested companies: groups of 2–5 partners, each group in one round.
    contested_total = round(size * conflict_share) if clients >= 2 else 0
    placed = 0
    while contested_total - placed >= 2:
        left = contested_total - placed
        k = min(rng.randint(2, min(5, clients)), left)
        if left - k == 1 and k < min(5, clients):  # leave no single request that cannot form a group
            k += 1
        candidates = [r for r, slots in enumerate(free) if len(slots) >= k]
        if not candidates:
            break
        r = rng.choice(candidates)
        company = new_company()
        contested[company.domain] = k
        currency = rng.choice(CURRENCIES)
        for name, address in _spellings(company, rng, k):
            subs.append(Submission(
                client=free[r].pop(), round=r, kind=CONTESTED, company_name=name, domain=address,
                claim_domain=company.domain, amount=_amount(rng), currency=currency,
                products=product_pick(), close_in_days=rng.randint(30, 240),
            ))
        placed += k

    # Existing CRM accounts: one per rule case below, plus bystanders the lookups must skip.
    rule_counts = {kind: round(size * share) for kind, share in RULE_SHARES.items()}
    accounts: list[AccountSpec] = []
    targets: dict[str, list[Company]] = {CUSTOMER: [], OPEN_OPPORTUNITY: [], PROSPECT: []}
    for kind in targets:
        for _ in range(rule_counts[kind]):
            company = new_company()
            targets[kind].append(company)
            accounts.append(AccountSpec(
                name=f"{company.name} {LEGAL[company.domain.split('.', 1)[1]]}", domain=company.domain,
                status="customer" if kind == CUSTOMER else "prospect",
                open_opportunity=kind == OPEN_OPPORTUNITY, closed_opportunity=kind == PROSPECT,
            ))
    for i in range(max(50, size // 4)):
        company = new_company()
        accounts.append(AccountSpec(
            name=company.name, domain=company.domain, status="customer" if i % 3 == 0 else "prospect",
            open_opportunity=i % 3 == 1, closed_opportunity=i % 3 == 2,
        ))

    # Fill the free slots, round by round, with the rule cases spread at random and unique companies.
    kinds = [kind for kind, n in rule_counts.items() for _ in range(n)]
    remaining = size - len(subs)
    kinds = kinds[:remaining] + [UNIQUE] * max(0, remaining - len(kinds))
    rng.shuffle(kinds)
    slots = [(r, c) for r, clients_free in enumerate(free) for c in sorted(clients_free)]
    for (r, client), kind in zip(slots, kinds, strict=False):
        if kind in targets:
            company = targets[kind].pop()
            name, address = _spellings(company, rng, 1)[0]
        else:
            company = new_company()
            name, address = company.name, rng.choice((company.domain, f"https://www.{company.domain}/"))
        subs.append(Submission(
            client=client, round=r, kind=kind, company_name=name, domain=address,
            claim_domain=company.domain, amount=_amount(rng, below_minimum=kind == BELOW_MINIMUM),
            currency=rng.choice(CURRENCIES), products=product_pick(), close_in_days=rng.randint(30, 240),
        ))
    return Plan(
        size=size, clients=clients, conflict_share=conflict_share, seed=seed,
        partners=max(2 * clients, 64), accounts=accounts, submissions=subs, contested=contested,
    )
