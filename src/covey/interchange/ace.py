"""AWS Partner Central (ACE) Selling API shapes: the pure mapping, no database.

Design:
- ``Deal`` is what Covey knows about an opportunity, as plain values; ``export_request`` turns it
  into a ``CreateOpportunity`` body (no ACE identifier yet) or an ``UpdateOpportunity`` body.
- Every body is checked against the ``partnercentral-selling`` service model that ships inside
  botocore, offline: botocore's own ``ParamValidator`` (types, required members, lengths) plus the
  model's enums and patterns, which that validator does not check. A failure raises
  ``AcePayloadInvalid`` listing every field; nothing is written out.
- ``read_opportunity`` turns a ``GetOpportunity`` response into ``Deal``-shaped changes and reports
  every value outside the model's enums (real responses carry them) instead of failing.
- Stages and industries are many-to-one towards ACE. Import keeps Covey's finer value when it still
  maps to what ACE says (``keep_if_same``), so export → import is the identity.
- Money: Covey holds a deal's yearly amount in minor units; ACE wants a monthly spend as a decimal
  string. The one rounding point is ``monthly_spend`` (half-up to the currency's minor unit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from covey.core.money import Money, MoneyError, currency_exponent

SERVICE = "partnercentral-selling"
ORIGIN = "Partner Referral"
TARGET_COMPANY = "AWS"
FREQUENCY = "Monthly"
MONTHS_A_YEAR = 12
SPEND_DECIMALS = 2  # ACE Amount pattern: at most two decimals

# Covey (Salesforce standard) stage → ACE LifeCycle.Stage.
STAGE_TO_ACE: dict[str, str] = {
    "Prospecting": "Prospect",
    "Qualification": "Qualified",
    "Needs Analysis": "Technical Validation",
    "Value Proposition": "Technical Validation",
    "Id. Decision Makers": "Business Validation",
    "Perception Analysis": "Business Validation",
    "Proposal/Price Quote": "Business Validation",
    "Negotiation/Review": "Committed",
    "Closed Won": "Launched",
    "Closed Lost": "Closed Lost",
}
# ACE stage → the Covey stage a new opportunity gets (the first Covey stage mapping to it).
STAGE_FROM_ACE: dict[str, str] = {}
for _covey, _ace in STAGE_TO_ACE.items():
    STAGE_FROM_ACE.setdefault(_ace, _covey)

OPPORTUNITY_TYPE_TO_ACE = {"new": "Net New Business", "expansion": "Expansion", "renewal": "Flat Renewal"}
OPPORTUNITY_TYPE_FROM_ACE = {v: k for k, v in OPPORTUNITY_TYPE_TO_ACE.items()}

# How a partner takes part → ACE delivery model.
ROLE_TO_DELIVERY = {
    "reseller": "Resell", "distributor": "Resell", "integrator": "Professional Services",
    "technology": "SaaS or PaaS",
}

# Common free-text industries → ACE Customer.Account.Industry. Exact ACE names (any case) match too;
# anything else is "Other" with the text in OtherIndustry.
INDUSTRY_SYNONYMS = {
    "software": "Software and Internet", "technology": "Software and Internet", "internet": "Software and Internet",
    "saas": "Software and Internet", "it": "Software and Internet", "information technology": "Software and Internet",
    "finance": "Financial Services", "banking": "Financial Services", "insurance": "Financial Services",
    "fintech": "Financial Services", "health": "Healthcare", "health care": "Healthcare",
    "pharma": "Life Sciences", "pharmaceuticals": "Life Sciences", "biotech": "Life Sciences",
    "electronics": "Computers and Electronics", "hardware": "Computers and Electronics",
    "media": "Media and Entertainment", "entertainment": "Media and Entertainment",
    "telecom": "Telecommunications", "telco": "Telecommunications", "logistics": "Transportation and Logistics",
    "transportation": "Transportation and Logistics", "construction": "Real Estate and Construction",
    "real estate": "Real Estate and Construction", "public sector": "Government", "government": "Government",
    "nonprofit": "Non-Profit Organization", "non-profit": "Non-Profit Organization", "utilities": "Energy - Power and Utilities",
    "energy": "Energy - Power and Utilities", "oil and gas": "Energy - Oil and Gas", "consulting": "Professional Services",
    "retail": "Retail", "e-commerce": "Retail", "ecommerce": "Retail", "education": "Education",
    "manufacturing": "Manufacturing", "automotive": "Automotive", "hospitality": "Hospitality", "travel": "Travel",
    "gaming": "Gaming", "agriculture": "Agriculture", "aerospace": "Aerospace", "mining": "Mining",
    "marketing": "Marketing and Advertising", "advertising": "Marketing and Advertising",
    "wholesale": "Wholesale and Distribution", "distribution": "Wholesale and Distribution",
    "consumer goods": "Consumer Goods",
}

LOST_REASON_DEFAULT = "Other"
PROBLEM_MIN, PROBLEM_MAX = 20, 2000


class AceError(ValueError):
    """Input Covey cannot turn into (or read from) an ACE payload; the message says why."""


class AcePayloadInvalid(AceError):
    def __init__(self, operation: str, problems: list[str]) -> None:
        self.operation, self.problems = operation, problems
        super().__init__(f"The {operation} payload does not match the AWS Partner Central model: " + "; ".join(problems))


# --- the service model -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def service_model():
    """botocore's ``partnercentral-selling`` model, loaded from the package's data (no network)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def enum_values(shape_name: str) -> tuple[str, ...]:
    return tuple(service_model().shape_for(shape_name).enum)


def _pattern_ok(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # \p{L} and friends: Python's re cannot check them; botocore never does either
        return True


def _walk(value: Any, shape, path: str, problems: list[str], *, unknown: dict[str, list] | None = None) -> None:
    """Enum and pattern checks over ``value`` (botocore's validator checks neither).

    With ``unknown`` given, enum misses are collected there instead of being problems, and members
    the model does not know are reported under ``<path>.<name>`` as ``"(unknown field)"``.
    """
    if value is None:
        return
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        for name, item in value.items():
            sub = f"{path}.{name}" if path else name
            if name in members:
                _walk(item, members[name], sub, problems, unknown=unknown)
            elif unknown is not None:
                unknown.setdefault(sub, []).append("(unknown field)")
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{index}]", problems, unknown=unknown)
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            if unknown is not None:
                unknown.setdefault(re.sub(r"\[\d+\]", "[]", path), []).append(value)
            else:
                problems.append(f"{path}: {value!r} is not one of the allowed values")
        pattern = shape.metadata.get("pattern")
        if unknown is None and pattern and not _pattern_ok(pattern, value):
            problems.append(f"{path}: {value!r} does not match the pattern {pattern}")


def validate(operation: str, params: dict) -> None:
    """Raise ``AcePayloadInvalid`` unless ``params`` is a valid request body of ``operation``."""
    from botocore.validate import ParamValidator

    shape = service_model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    problems = [line.strip() for line in report.generate_report().splitlines()[1:] if line.strip()] if report.has_errors() else []
    # botocore would generate a missing idempotency token; a file sent later must carry its own.
    problems += [f"Missing required parameter {name} (the idempotency token)" for name, member in shape.members.items()
                 if member.metadata.get("idempotencyToken") and not params.get(name)]
    _walk(params, shape, "", problems)
    if problems:
        raise AcePayloadInvalid(operation, problems)


def unknown_values(operation: str, response: dict) -> dict[str, list]:
    """Values of a response of ``operation`` outside the model's enums, and unknown members, by path."""
    found: dict[str, list] = {}
    _walk(response, service_model().operation_model(operation).output_shape, "", [], unknown=found)
    return found


# --- mapping -----------------------------------------------------------------------------------


@dataclass
class Deal:
    """A Covey opportunity as plain values (built from the ORM by ``services.deal_of``)."""

    public_id: str
    name: str
    stage: str
    type: str
    amount_minor: int
    currency: str
    close_date: date
    account_name: str
    description: str = ""
    lost_reason: str = ""
    website: str = ""
    industry: str = ""
    country: str = ""
    city: str = ""
    partner_roles: list[str] = field(default_factory=list)
    recurring_lines: bool = True
    ace_identifier: str = ""
    ace_last_modified: str = ""
    contacts: list[Person] = field(default_factory=list)  # the customer's people (from its registrations)
    team: list[Person] = field(default_factory=list)  # the vendor's deal team on it
    campaign_code: str = ""


@dataclass(frozen=True)
class Person:
    """A contact or team member as Covey knows them; ``contact()`` is what ACE accepts of it."""

    name: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""

    def contact(self) -> dict[str, str]:
        """ACE's ``Contact``: the name split at the last space, the e-mail (lower case) and the phone
        (E.164: "+" and digits) only when they fit the model's patterns; nothing when nothing does."""
        shape = service_model().shape_for("Contact").members
        words = " ".join(self.name.split())
        first, _, last = words.rpartition(" ") if " " in words else (words, "", "")
        phone = re.sub(r"[\s().-]", "", self.phone)
        values = {"FirstName": first[:80], "LastName": last[:80], "BusinessTitle": " ".join(self.title.split())[:80],
                  "Email": self.email.strip().lower(), "Phone": phone}
        out = {}
        for key, value in values.items():
            pattern = shape[key].metadata.get("pattern")
            if value and (pattern is None or _pattern_ok(pattern, value)):
                out[key] = value
        return out if {"Email", "LastName", "FirstName"} & set(out) else {}


MAX_TEAM = 10  # PartnerOpportunityTeamMembersList's maximum


def _contacts(people: list[Person], limit: int | None = None) -> list[dict]:
    found: list[dict] = []
    for person in people:
        contact = person.contact()
        if contact and contact not in found:
            found.append(contact)
    return found[:limit] if limit else found


def marketing(campaign_code: str) -> dict | None:
    """ACE's ``Marketing`` for a deal that came from a campaign (Covey's campaign code, e.g. an MDF
    activity's); None without one (ACE then records no marketing source)."""
    code = " ".join((campaign_code or "").split())
    if not code:
        return None
    return {"CampaignName": code[:255], "Source": "Marketing Activity"}


def industry_to_ace(text: str) -> tuple[str, str]:
    """(Industry, OtherIndustry) for a free-text industry; ("", "") when Covey has none."""
    text = (text or "").strip()
    if not text:
        return "", ""
    by_lower = {v.lower(): v for v in enum_values("Industry")}
    if text.lower() in by_lower:
        return by_lower[text.lower()], ""
    if text.lower() in INDUSTRY_SYNONYMS:
        return INDUSTRY_SYNONYMS[text.lower()], ""
    return "Other", text[:255]


def industry_from_ace(industry: str | None, other: str | None) -> str:
    if industry == "Other" and other:
        return other
    return industry or ""


def monthly_spend(amount_minor: int, currency: str) -> str:
    """The yearly deal amount as ACE's monthly spend, a decimal string (the one rounding point:
    half-up to the currency's minor unit, or to cents for three-decimal currencies — ACE takes two)."""
    places = min(currency_exponent(currency), SPEND_DECIMALS)
    monthly = Decimal(amount_minor).scaleb(-currency_exponent(currency)) / MONTHS_A_YEAR
    return str(monthly.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def yearly_from_monthly(amount: str, currency: str) -> int:
    """ACE's monthly spend (a decimal string) as a yearly amount in minor units, exactly."""
    if not isinstance(amount, str) or not re.fullmatch(r"(0|[1-9][0-9]{0,14})(\.[0-9]{0,2})?", amount):
        raise AceError(f"ExpectedCustomerSpend amount {amount!r} is not a decimal string with at most 15 digits "
                       f"and 2 decimals.")
    try:
        return Money.from_decimal(Decimal(amount) * MONTHS_A_YEAR, currency).minor
    except (MoneyError, ArithmeticError, TypeError) as exc:
        raise AceError(f"ExpectedCustomerSpend amount {amount!r} {currency}: {exc}") from None


def delivery_models(roles: list[str], recurring: bool) -> list[str]:
    found = []
    for role in roles:
        model = ROLE_TO_DELIVERY.get(role)
        if model and model not in found:
            found.append(model)
    if recurring and "SaaS or PaaS" not in found:
        found.append("SaaS or PaaS")
    return found or ["Other"]


def _website(deal: Deal) -> str:
    site = (deal.website or "").strip()
    return site if 4 <= len(site) <= 255 else ""


def business_problem(deal: Deal) -> str:
    """ACE wants 20–2,000 characters; Covey's description, or a sentence naming the deal."""
    text = " ".join((deal.description or "").split())
    if len(text) < PROBLEM_MIN:
        text = f"{deal.name} for {deal.account_name}. {text}".strip()
    if len(text) < PROBLEM_MIN:
        text = f"{text} (shared from Covey {deal.public_id})"
    return text[:PROBLEM_MAX]


def lost_reason_to_ace(text: str) -> str:
    by_lower = {v.lower(): v for v in enum_values("ClosedLostReason")}
    return by_lower.get((text or "").strip().lower(), LOST_REASON_DEFAULT)


def client_token(public_id: str) -> str:
    """Idempotent: the same Covey opportunity always creates at most one ACE opportunity."""
    return f"covey-{public_id}"


def export_request(deal: Deal, *, catalog: str = "AWS") -> tuple[str, dict]:
    """(operation, body): CreateOpportunity for a deal ACE has not seen, UpdateOpportunity otherwise."""
    if deal.stage not in STAGE_TO_ACE:
        raise AceError(f"Stage {deal.stage!r} has no AWS Partner Central equivalent.")
    if deal.type not in OPPORTUNITY_TYPE_TO_ACE:
        raise AceError(f"Opportunity type {deal.type!r} has no AWS Partner Central equivalent.")
    try:
        spend = monthly_spend(deal.amount_minor, deal.currency)
    except MoneyError as exc:
        raise AceError(f"Amount: {exc}") from None
    industry, other_industry = industry_to_ace(deal.industry)
    account: dict[str, Any] = {"CompanyName": deal.account_name[:120]}
    if industry:
        account["Industry"] = industry
    if other_industry:
        account["OtherIndustry"] = other_industry
    if _website(deal):
        account["WebsiteUrl"] = _website(deal)
    country = (deal.country or "").upper()
    if country in enum_values("CountryCode"):
        address: dict[str, Any] = {"CountryCode": country}
        if deal.city:
            address["City"] = deal.city[:255]
        account["Address"] = address
    customer: dict[str, Any] = {"Account": account}
    contacts = _contacts(deal.contacts)
    if contacts:
        customer["Contacts"] = contacts
    lifecycle: dict[str, Any] = {"Stage": STAGE_TO_ACE[deal.stage], "TargetCloseDate": deal.close_date.isoformat()}
    if deal.stage == "Closed Lost":
        lifecycle["ClosedLostReason"] = lost_reason_to_ace(deal.lost_reason)
    body: dict[str, Any] = {
        "Catalog": catalog,
        "PartnerOpportunityIdentifier": deal.public_id[:64],
        "OpportunityType": OPPORTUNITY_TYPE_TO_ACE[deal.type],
        "NationalSecurity": "No",
        "Customer": customer,
        "LifeCycle": lifecycle,
        "Project": {
            "Title": deal.name[:255],
            "CustomerBusinessProblem": business_problem(deal),
            "DeliveryModels": delivery_models(deal.partner_roles, deal.recurring_lines),
            "ExpectedCustomerSpend": [{
                "Amount": spend,
                "CurrencyCode": deal.currency,
                "Frequency": FREQUENCY,
                "TargetCompany": TARGET_COMPANY,
            }],
        },
    }
    if marketing(deal.campaign_code):
        body["Marketing"] = marketing(deal.campaign_code)
    if deal.ace_identifier:
        operation = "UpdateOpportunity"
        body["Identifier"] = deal.ace_identifier
        body["LastModifiedDate"] = deal.ace_last_modified
    else:
        operation = "CreateOpportunity"
        body["ClientToken"] = client_token(deal.public_id)
        body["Origin"] = ORIGIN
        team = _contacts(deal.team, MAX_TEAM)  # UpdateOpportunity has no team: ACE keeps the first one
        if team:
            body["OpportunityTeam"] = team
    validate(operation, body)
    return operation, body


# --- import ------------------------------------------------------------------------------------


@dataclass
class AceOpportunity:
    """What a GetOpportunity response says, in Covey's terms; ``None`` where it says nothing usable."""

    identifier: str
    catalog: str
    last_modified: str
    partner_identifier: str
    title: str
    company_name: str
    website: str
    industry: str
    country: str
    city: str
    stage: str | None  # the Covey stage for ACE's stage (None: unknown or absent)
    aws_stage: str
    review_status: str
    review_comments: str
    close_date: date | None
    type: str | None
    amount_minor: int | None
    currency: str | None
    lost_reason: str
    description: str
    unknown: dict[str, list]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def read_opportunity(response: Any) -> AceOpportunity:
    """A GetOpportunity response read leniently; ``AceError`` only when it cannot name an opportunity."""
    if not isinstance(response, dict):
        raise AceError("A GetOpportunity response must be a JSON object.")
    identifier = _text(response.get("Id")) or _text(response.get("Identifier"))
    if not re.fullmatch(r"O[0-9]{1,19}", identifier):
        raise AceError(f"The response has no ACE opportunity id (Id like 'O1234567'), got {identifier or 'nothing'!r}.")
    unknown = unknown_values("GetOpportunity", response)
    customer = response.get("Customer") if isinstance(response.get("Customer"), dict) else {}
    account = customer.get("Account") if isinstance(customer.get("Account"), dict) else {}
    address = account.get("Address") if isinstance(account.get("Address"), dict) else {}
    life = response.get("LifeCycle") if isinstance(response.get("LifeCycle"), dict) else {}
    project = response.get("Project") if isinstance(response.get("Project"), dict) else {}
    aws_stage = _text(life.get("Stage"))
    close = None
    if _text(life.get("TargetCloseDate")):
        try:
            close = date.fromisoformat(_text(life.get("TargetCloseDate"))[:10])
        except ValueError:
            unknown.setdefault("LifeCycle.TargetCloseDate", []).append(life.get("TargetCloseDate"))
    amount_minor = currency = None
    spends = project.get("ExpectedCustomerSpend") if isinstance(project.get("ExpectedCustomerSpend"), list) else []
    for spend in spends:
        if not isinstance(spend, dict):
            continue
        code = _text(spend.get("CurrencyCode"))
        if _text(spend.get("Frequency")) == FREQUENCY and _text(spend.get("Amount")) and code:
            try:
                amount_minor, currency = yearly_from_monthly(_text(spend.get("Amount")), code), code
            except AceError:
                unknown.setdefault("Project.ExpectedCustomerSpend[].Amount", []).append(spend.get("Amount"))
            break
    industry = account.get("Industry") if account.get("Industry") in enum_values("Industry") else None
    return AceOpportunity(
        identifier=identifier,
        catalog=_text(response.get("Catalog")) or "AWS",
        last_modified=_text(response.get("LastModifiedDate")),
        partner_identifier=_text(response.get("PartnerOpportunityIdentifier")),
        title=_text(project.get("Title")),
        company_name=_text(account.get("CompanyName")),
        website=_text(account.get("WebsiteUrl")),
        industry=industry_from_ace(industry, _text(account.get("OtherIndustry"))),
        country=_text(address.get("CountryCode")),
        city=_text(address.get("City")),
        stage=STAGE_FROM_ACE.get(aws_stage),
        aws_stage=aws_stage,
        review_status=_text(life.get("ReviewStatus")),
        review_comments=_text(life.get("ReviewComments")),
        close_date=close,
        type=OPPORTUNITY_TYPE_FROM_ACE.get(_text(response.get("OpportunityType"))),
        amount_minor=amount_minor,
        currency=currency,
        lost_reason=_text(life.get("ClosedLostReason")),
        description=_text(project.get("CustomerBusinessProblem")),
        unknown=unknown,
    )


def keep_if_same(current: str, incoming: str | None, to_ace: dict[str, str]) -> str:
    """Covey's finer value when it maps to the same ACE value as the incoming one."""
    if incoming is None:
        return current
    return current if to_ace.get(current) == to_ace.get(incoming) else incoming


def simulate_get_opportunity(operation: str, body: dict, *, identifier: str, last_modified: str) -> dict:
    """What GetOpportunity would answer after ``body`` was sent (for tests and dry runs)."""
    response = {k: v for k, v in body.items() if k not in ("ClientToken", "Origin")}
    response.update({"Id": identifier, "LastModifiedDate": last_modified, "Identifier": None})
    response.pop("Identifier")
    response["LifeCycle"] = {**body.get("LifeCycle", {}), "ReviewStatus": "Approved"}
    return response


# --- engagement invitations --------------------------------------------------------------------


@dataclass
class AceInvitation:
    identifier: str
    payload_type: str  # "OpportunityInvitation" or "LeadInvitation"
    catalog: str
    status: str
    title: str
    company_name: str
    rejection_reason: str
    expires_at: str
    payload: dict
    unknown: dict[str, list]


def read_invitation(response: Any) -> AceInvitation:
    if not isinstance(response, dict):
        raise AceError("A GetEngagementInvitation response must be a JSON object.")
    identifier = _text(response.get("Id")) or _text(response.get("Arn"))
    if not identifier:
        raise AceError("The engagement invitation has no Id.")
    unknown = unknown_values("GetEngagementInvitation", response)
    payload = response.get("Payload") if isinstance(response.get("Payload"), dict) else {}
    kinds = enum_values("EngagementInvitationPayloadType")
    payload_type = _text(response.get("PayloadType"))
    if payload_type not in kinds:  # unknown or missing: the payload's own key says which it is
        payload_type = next((k for k in kinds if isinstance(payload.get(k), dict)), "OpportunityInvitation")
    invite = payload.get(payload_type) if isinstance(payload.get(payload_type), dict) else {}
    customer = invite.get("Customer") if isinstance(invite.get("Customer"), dict) else {}
    status = _text(response.get("Status")).upper() or "PENDING"
    return AceInvitation(
        identifier=identifier, payload_type=payload_type, catalog=_text(response.get("Catalog")) or "AWS",
        status=status if status in enum_values("InvitationStatus") else "PENDING",
        title=_text(response.get("EngagementTitle")) or _text(response.get("InvitationMessage"))[:255], company_name=_text(customer.get("CompanyName")),
        rejection_reason=_text(response.get("RejectionReason")), expires_at=_text(response.get("ExpirationDate")),
        payload=invite, unknown=unknown,
    )


def decision_request(invitation: AceInvitation | Any, *, accept: bool, reason: str = "") -> tuple[str, dict]:
    """The AcceptEngagementInvitation / RejectEngagementInvitation body for a decision, validated."""
    body: dict[str, Any] = {"Catalog": invitation.catalog, "Identifier": invitation.identifier}
    operation = "AcceptEngagementInvitation" if accept else "RejectEngagementInvitation"
    if not accept and reason:
        body["RejectionReason"] = reason
    validate(operation, body)
    return operation, body


def is_invitation(document: dict) -> bool:
    return "PayloadType" in document or _text(document.get("Id")).startswith("engi-") or "InvitationDate" in document
