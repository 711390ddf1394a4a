"""Column conventions of the files Covey reads and writes for accounts and opportunities.

Every format is described as data: for each kind ("accounts", "opportunities") a ``Layout`` lists
which column carries which *canonical field* (the generic format's column names), under which
header the format writes it and which other spellings it accepts, and which ``Vocabulary``
translates the format's words (a Salesforce "Customer - Direct") into Covey's values ("customer").
The importer and the exporter both read these tables, so a mapping is stated once.

Formats
- ``generic``: Covey's own column names (``external_id, name, domain, …``) and values.
- ``salesforce``: Data Loader API names (``Id, Name, AccountId, StageName, …``); report-export
  labels ("Opportunity Name", "Close Date", …) are accepted as aliases on import.
- ``hubspot``: HubSpot export column labels ("Record ID", "Company name", "Deal Stage", …); the
  internal property names (``hs_object_id``, ``dealname``, ``dealstage``, ``closedate``,
  ``deal_currency_code``, ``lifecyclestage``…) are accepted as aliases on import.
- ``salesforce-csv`` and ``salesforce-tree`` are other names of ``salesforce`` and ``sf-tree``.

Every field Covey holds for an account or an opportunity has a column in every format, so an export
re-imports without loss. Where Salesforce or HubSpot has no standard field, the column is a custom
field Covey names (Salesforce ``Domain__c``, ``Region__c``, ``Segment__c``, ``Loss_Reason__c``,
``Campaign_Code__c``; HubSpot "Region", "Segment", "Lead Source", "Campaign Code") and the owner is
written as an e-mail (Salesforce ``Owner.Email``, HubSpot "Company owner" / "Deal owner").
- ``sf-tree``: ``sf data tree export`` JSON; it uses the Salesforce layout with JSON keys in place
  of headers (see ``covey.crm.imports`` for references and plan files).

Value mappings (import → Covey; export writes the first spelling listed)
- Salesforce Account ``Type``: Prospect → prospect; Customer - Direct, Customer - Channel, Customer →
  customer; Former Customer → former; anything else (Technology Partner, Other, blank…) → prospect,
  since a partner-typed account is not a customer.
- Salesforce Opportunity ``Type``: New Customer → new; Existing Customer - Upgrade / Replacement /
  Downgrade → expansion (exported as "Existing Customer - Upgrade"); Renewal → renewal; blank → new.
- Salesforce ``StageName``: Salesforce's standard stage names, which are Covey's stages one to one.
- HubSpot ``Lifecycle Stage``: customer and evangelist → customer; "former customer" (a custom stage
  Covey writes so former customers survive a round trip) → former; any other stage → prospect
  (exported as "lead").
- HubSpot ``Deal Stage`` (default sales pipeline → Salesforce stage, by meaning and by HubSpot's
  default win probability):

      Appointment Scheduled (20%)     → Prospecting          (first meeting booked, not yet qualified)
      Qualified To Buy (40%)          → Qualification
      Presentation Scheduled (60%)    → Value Proposition    (presenting the value case)
      Decision Maker Bought-In (80%)  → Id. Decision Makers
      Contract Sent (90%)             → Negotiation/Review   (both 90%)
      Closed Won / Closed Lost        → Closed Won / Closed Lost

  HubSpot's internal ids (``appointmentscheduled``…) are accepted too. Needs Analysis, Perception
  Analysis and Proposal/Price Quote have no default HubSpot stage: they are exported under their
  Salesforce names, and Salesforce stage names are accepted in a HubSpot file, so an export
  re-imports unchanged.
- HubSpot ``Deal Type``: newbusiness → new; existingbusiness → expansion; renewal (a custom value
  Covey writes) → renewal; blank → new.
- HubSpot "Associated Company IDs" may list several companies ("123;456"): the first is the account.
- Countries: the generic format writes ISO 3166 alpha-2 codes; Salesforce and HubSpot write English
  country names. Every format reads either a code or an English name ("United States", "USA", "UK").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

from covey.core.vocab import Region, Segment
from covey.crm.models import AccountStatus, OpportunityType, Stage

KINDS = ("accounts", "opportunities")
CSV_FORMATS = ("generic", "salesforce", "hubspot")
TREE_FORMAT = "sf-tree"
FORMATS = (*CSV_FORMATS, TREE_FORMAT)
# The names the issue and other tools use for the same formats (``--format salesforce-csv``).
FORMAT_ALIASES = {"salesforce-csv": "salesforce", "salesforce-tree": "sf-tree"}
FORMAT_LABELS = {
    "generic": "Generic CSV",
    "salesforce": "Salesforce CSV (Data Loader)",
    "hubspot": "HubSpot CSV export",
    "sf-tree": "Salesforce data tree JSON",
}

# Canonical fields, in the generic format's column order.
ACCOUNT_FIELDS = (
    "external_id", "name", "domain", "website", "industry", "region", "country", "city", "phone",
    "segment", "employees", "status", "owner_email", "description",
)
OPPORTUNITY_FIELDS = (
    "external_id", "name", "account_external_id", "stage", "type", "amount", "currency", "close_date",
    "lost_reason", "lead_source", "description", "owner_email", "campaign_code",
)
FIELDS = {"accounts": ACCOUNT_FIELDS, "opportunities": OPPORTUNITY_FIELDS}

# Columns a rejects file adds; never reported as unknown when such a file is imported again.
REJECTS_COLUMN = "error"


class Vocabulary:
    """The words a file uses for one of Covey's choice fields, in both directions.

    Reading is case-insensitive. ``other`` is the value for any word not listed (None: refuse it
    with a message naming the accepted words); a blank cell reads as ``blank``.
    """

    def __init__(
        self, *, label: str, read: dict[str, str], write: dict[str, str], blank: str = "",
        other: str | None = None, shown: list[str] | None = None,
    ) -> None:
        self.label = label
        self._read = {k.casefold(): v for k, v in read.items()}
        self._write = write
        self.blank = blank
        self.other = other
        self.shown = shown if shown is not None else list(dict.fromkeys(write.values()))

    def decode(self, text: str) -> str:
        key = text.strip().casefold()
        if not key:
            return self.blank
        if key in self._read:
            return self._read[key]
        if self.other is not None:
            return self.other
        raise ValueError(f"{text.strip()!r} is not a known {self.label}; use one of: {', '.join(self.shown)}")

    def encode(self, value: str) -> str:
        return self._write.get(value, value)


def _choices(label: str, choices, *, blank: str = "") -> Vocabulary:
    """Covey's own values, also accepting their display labels ("Mid-market" for mid_market)."""
    read = {str(c.value): str(c.value) for c in choices}
    read.update({str(c.label): str(c.value) for c in choices})
    return Vocabulary(label=label, read=read, write={str(c.value): str(c.value) for c in choices}, blank=blank)


STAGES = Vocabulary(
    label="stage", read={s.value: s.value for s in Stage}, write={s.value: s.value for s in Stage},
)

GENERIC_STATUS = _choices("account status", AccountStatus, blank=AccountStatus.PROSPECT)
GENERIC_TYPE = _choices("opportunity type", OpportunityType, blank=OpportunityType.NEW)
REGIONS = _choices("region", Region)
SEGMENTS = _choices("segment", Segment)

SALESFORCE_ACCOUNT_TYPE = Vocabulary(
    label="account type",
    read={
        "Prospect": AccountStatus.PROSPECT,
        "Customer - Direct": AccountStatus.CUSTOMER, "Customer - Channel": AccountStatus.CUSTOMER,
        "Customer": AccountStatus.CUSTOMER,
        "Former Customer": AccountStatus.FORMER, "Former": AccountStatus.FORMER,
    },
    write={AccountStatus.PROSPECT: "Prospect", AccountStatus.CUSTOMER: "Customer - Direct",
           AccountStatus.FORMER: "Former Customer"},
    blank=AccountStatus.PROSPECT, other=AccountStatus.PROSPECT,
)
SALESFORCE_OPPORTUNITY_TYPE = Vocabulary(
    label="opportunity type",
    read={
        "New Customer": OpportunityType.NEW, "New Business": OpportunityType.NEW,
        "Existing Customer - Upgrade": OpportunityType.EXPANSION,
        "Existing Customer - Replacement": OpportunityType.EXPANSION,
        "Existing Customer - Downgrade": OpportunityType.EXPANSION,
        "Existing Business": OpportunityType.EXPANSION,
        "Renewal": OpportunityType.RENEWAL,
    },
    write={OpportunityType.NEW: "New Customer", OpportunityType.EXPANSION: "Existing Customer - Upgrade",
           OpportunityType.RENEWAL: "Renewal"},
    blank=OpportunityType.NEW,
    shown=["New Customer", "Existing Customer - Upgrade", "Existing Customer - Replacement",
           "Existing Customer - Downgrade", "Renewal"],
)

# (internal id, export label, Salesforce stage)
HUBSPOT_PIPELINE = (
    ("appointmentscheduled", "Appointment Scheduled", Stage.PROSPECTING),
    ("qualifiedtobuy", "Qualified To Buy", Stage.QUALIFICATION),
    ("presentationscheduled", "Presentation Scheduled", Stage.VALUE_PROPOSITION),
    ("decisionmakerboughtin", "Decision Maker Bought-In", Stage.ID_DECISION_MAKERS),
    ("contractsent", "Contract Sent", Stage.NEGOTIATION),
    ("closedwon", "Closed Won", Stage.CLOSED_WON),
    ("closedlost", "Closed Lost", Stage.CLOSED_LOST),
)
_hubspot_stage_read: dict[str, str] = {s.value: s.value for s in Stage}
for _internal, _label, _stage in HUBSPOT_PIPELINE:
    _hubspot_stage_read[_internal] = _stage.value
    _hubspot_stage_read[_label] = _stage.value
HUBSPOT_STAGES = Vocabulary(
    label="deal stage",
    read=_hubspot_stage_read,
    write={s.value: s.value for s in Stage} | {stage.value: label for _i, label, stage in HUBSPOT_PIPELINE},
    shown=[label for _i, label, _s in HUBSPOT_PIPELINE]
    + [s.value for s in Stage if s not in {st for _i, _l, st in HUBSPOT_PIPELINE}],
)
HUBSPOT_DEAL_TYPE = Vocabulary(
    label="deal type",
    read={
        "newbusiness": OpportunityType.NEW, "New Business": OpportunityType.NEW,
        "existingbusiness": OpportunityType.EXPANSION, "Existing Business": OpportunityType.EXPANSION,
        "renewal": OpportunityType.RENEWAL,
    },
    write={OpportunityType.NEW: "newbusiness", OpportunityType.EXPANSION: "existingbusiness",
           OpportunityType.RENEWAL: "renewal"},
    blank=OpportunityType.NEW,
)
HUBSPOT_LIFECYCLE = Vocabulary(
    label="lifecycle stage",
    read={"customer": AccountStatus.CUSTOMER, "evangelist": AccountStatus.CUSTOMER,
          "former customer": AccountStatus.FORMER, "former": AccountStatus.FORMER},
    write={AccountStatus.PROSPECT: "lead", AccountStatus.CUSTOMER: "customer",
           AccountStatus.FORMER: "former customer"},
    blank=AccountStatus.PROSPECT, other=AccountStatus.PROSPECT,
)


# --- countries -------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "uae": "AE", "south korea": "KR", "korea": "KR", "russia": "RU", "czech republic": "CZ",
    "holland": "NL", "the netherlands": "NL", "vietnam": "VN", "turkey": "TR",
}


@cache
def _country_names() -> tuple[dict[str, str], dict[str, str]]:
    from babel import Locale

    by_code = {code: name for code, name in Locale("en").territories.items() if len(code) == 2 and code.isalpha()}
    by_name = {name.casefold(): code for code, name in by_code.items()}
    by_name.update(_COUNTRY_ALIASES)
    return by_code, by_name


def country_from_text(text: str) -> str:
    """An ISO alpha-2 code from a code ("de") or an English name ("Germany"); ValueError otherwise."""
    value = text.strip()
    if not value:
        return ""
    if len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    code = _country_names()[1].get(value.casefold())
    if code is None:
        raise ValueError(f"{value!r} is not a country; use an English name such as Germany or a two-letter code such as DE")
    return code


def country_name(code: str) -> str:
    """English name of a stored code, or the code itself when it has none (round-trips either way)."""
    return _country_names()[0].get(code, code) if code else ""


def domain_from_website(website: str) -> str:
    """``https://www.example.com/about`` → ``example.com``; used when a format carries no domain."""
    text = website.strip()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


# --- layouts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str  # canonical field
    header: str  # the header (or JSON key) this format writes
    aliases: tuple[str, ...] = ()  # other headers accepted on import
    vocab: Vocabulary | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Layout:
    fmt: str
    kind: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]  # canonical fields whose column must be present
    country_names: bool = False  # write English names rather than codes
    _by_field: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_field.update({c.field: c for c in self.columns})

    def column(self, name: str) -> Column | None:
        return self._by_field.get(name)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def match(self, headers: list[str]) -> dict[str, int]:
        """Canonical field → index of the first file column that carries it (case-insensitive)."""
        wanted = {name.strip().casefold(): c.field for c in self.columns for name in c.names}
        found: dict[str, int] = {}
        for index, header in enumerate(headers):
            canonical = wanted.get(header.strip().casefold())
            if canonical is not None and canonical not in found:
                found[canonical] = index
        return found

    def vocab(self, name: str) -> Vocabulary | None:
        column = self.column(name)
        return column.vocab if column else None


ACCOUNT_REQUIRED = ("external_id", "name")
OPPORTUNITY_REQUIRED = ("external_id", "name", "account_external_id", "stage", "close_date")

GENERIC_ACCOUNTS = Layout(
    "generic", "accounts",
    tuple(
        Column(name, name, vocab={"status": GENERIC_STATUS, "region": REGIONS, "segment": SEGMENTS}.get(name))
        for name in ACCOUNT_FIELDS
    ),
    ACCOUNT_REQUIRED,
)
GENERIC_OPPORTUNITIES = Layout(
    "generic", "opportunities",
    tuple(Column(name, name, vocab={"stage": STAGES, "type": GENERIC_TYPE}.get(name)) for name in OPPORTUNITY_FIELDS),
    OPPORTUNITY_REQUIRED,
)

SALESFORCE_ACCOUNTS = Layout(
    "salesforce", "accounts",
    (
        Column("external_id", "Id", ("Account ID",)),
        Column("name", "Name", ("Account Name",)),
        Column("website", "Website"),
        Column("industry", "Industry"),
        Column("country", "BillingCountry", ("Billing Country",)),
        Column("city", "BillingCity", ("Billing City",)),
        Column("phone", "Phone"),
        Column("status", "Type", ("Account Type",), SALESFORCE_ACCOUNT_TYPE),
        Column("employees", "NumberOfEmployees", ("Employees",)),
        Column("description", "Description", ("Account Description",)),
        # Covey's fields without a standard Account field: custom fields, and the owner by e-mail
        # (the relationship column a SOQL export of Owner.Email writes).
        Column("domain", "Domain__c", ("Domain",)),
        Column("region", "Region__c", ("Region",), REGIONS),
        Column("segment", "Segment__c", ("Segment",), SEGMENTS),
        Column("owner_email", "Owner.Email", ("Owner Email",)),
    ),
    ACCOUNT_REQUIRED,
    country_names=True,
)
SALESFORCE_OPPORTUNITIES = Layout(
    "salesforce", "opportunities",
    (
        Column("external_id", "Id", ("Opportunity ID",)),
        Column("name", "Name", ("Opportunity Name",)),
        Column("account_external_id", "AccountId", ("Account ID",)),
        Column("stage", "StageName", ("Stage",), STAGES),
        Column("type", "Type", ("Opportunity Type",), SALESFORCE_OPPORTUNITY_TYPE),
        Column("amount", "Amount"),
        Column("currency", "CurrencyIsoCode", ("Opportunity Currency", "Currency")),
        Column("close_date", "CloseDate", ("Close Date",)),
        Column("lead_source", "LeadSource", ("Lead Source",)),
        Column("description", "Description"),
        Column("lost_reason", "Loss_Reason__c", ("Loss Reason",)),
        Column("owner_email", "Owner.Email", ("Owner Email",)),
        Column("campaign_code", "Campaign_Code__c", ("Campaign Code",)),
    ),
    OPPORTUNITY_REQUIRED,
)

HUBSPOT_COMPANIES = Layout(
    "hubspot", "accounts",
    (
        Column("external_id", "Record ID", ("Company ID", "hs_object_id")),
        Column("name", "Company name", ("Name",)),
        Column("domain", "Company Domain Name", ("Domain",)),
        Column("website", "Website URL"),
        Column("industry", "Industry"),
        Column("country", "Country/Region", ("Country",)),
        Column("city", "City"),
        Column("phone", "Phone Number"),
        Column("status", "Lifecycle Stage", ("lifecyclestage",), HUBSPOT_LIFECYCLE),
        Column("employees", "Number of Employees", ("numberofemployees",)),
        Column("description", "Description", ("Company Description",)),
        # Custom company properties for what HubSpot has no default property for, and the owner.
        Column("region", "Region", ("covey_region",), REGIONS),
        Column("segment", "Segment", ("covey_segment",), SEGMENTS),
        Column("owner_email", "Company owner", ("Company Owner Email",)),
    ),
    ACCOUNT_REQUIRED,
    country_names=True,
)
HUBSPOT_DEALS = Layout(
    "hubspot", "opportunities",
    (
        Column("external_id", "Record ID", ("Deal ID", "hs_object_id")),
        Column("name", "Deal Name", ("dealname",)),
        Column("stage", "Deal Stage", ("dealstage",), HUBSPOT_STAGES),
        Column("amount", "Amount"),
        Column("currency", "Currency", ("Deal currency code", "deal_currency_code")),
        Column("close_date", "Close Date", ("closedate",)),
        Column("type", "Deal Type", ("dealtype",), HUBSPOT_DEAL_TYPE),
        Column("account_external_id", "Associated Company IDs",
               ("Associated Company IDs (Primary)", "Associated Company ID")),
        Column("lost_reason", "Closed Lost Reason", ("closed_lost_reason",)),
        Column("description", "Deal Description", ("Description",)),
        Column("owner_email", "Deal owner", ("Deal Owner Email",)),
        Column("lead_source", "Lead Source", ("covey_lead_source",)),
        Column("campaign_code", "Campaign Code", ("covey_campaign_code",)),
    ),
    OPPORTUNITY_REQUIRED,
)

LAYOUTS: dict[tuple[str, str], Layout] = {
    ("generic", "accounts"): GENERIC_ACCOUNTS,
    ("generic", "opportunities"): GENERIC_OPPORTUNITIES,
    ("salesforce", "accounts"): SALESFORCE_ACCOUNTS,
    ("salesforce", "opportunities"): SALESFORCE_OPPORTUNITIES,
    ("hubspot", "accounts"): HUBSPOT_COMPANIES,
    ("hubspot", "opportunities"): HUBSPOT_DEALS,
    # The data tree uses Salesforce's API names as JSON keys.
    ("sf-tree", "accounts"): SALESFORCE_ACCOUNTS,
    ("sf-tree", "opportunities"): SALESFORCE_OPPORTUNITIES,
}

# Salesforce sObject names in a data tree ↔ Covey kinds.
SOBJECT_KINDS = {"Account": "accounts", "Opportunity": "opportunities"}
KIND_SOBJECTS = {v: k for k, v in SOBJECT_KINDS.items()}


def canonical_format(fmt: str) -> str:
    """``salesforce-csv`` → ``salesforce``, ``salesforce-tree`` → ``sf-tree``; other names as given."""
    return FORMAT_ALIASES.get(fmt, fmt)


def layout(fmt: str, kind: str) -> Layout:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use accounts or opportunities")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return LAYOUTS[(fmt, kind)]


def detect_csv_format(kind: str, headers: list[str]) -> tuple[str | None, str | None]:
    """Guess the format from a CSV header row: ``(format, None)`` or ``(None, hint)``.

    The format whose columns match most headers wins; a tie, or no match at all, is refused rather
    than guessed. The hint says when the columns look like the *other* kind.
    """
    scores = {fmt: len(LAYOUTS[(fmt, kind)].match(headers)) for fmt in CSV_FORMATS}
    best = max(scores.values())
    winners = [fmt for fmt, score in scores.items() if score == best]
    other = "opportunities" if kind == "accounts" else "accounts"
    other_best = max(len(LAYOUTS[(fmt, other)].match(headers)) for fmt in CSV_FORMATS)
    if other_best > best:
        return None, f"The columns look like {other}; import this file with “covey import {other}”."
    if best > 0 and len(winners) == 1:
        return winners[0], None
    return None, None
