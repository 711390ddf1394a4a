"""Word lists the generator composes believable names and text from.

All of it is invented for Covey's demo: the vendor "Larkspur Cloud", its catalogue, partner and
customer names built from word parts, places and phrases. Person names come from Faker's bundled
name pools (ASCII ones only, so e-mail addresses stay plain), drawn with our own seeded RNG.
"""

from __future__ import annotations

import importlib
from functools import cache

VENDOR = {
    "company_name": "Larkspur Cloud",
    "domain": "larkspurcloud.example",
    "base_currency": "USD",
    "fiscal_year_start_month": 2,  # FY2027 runs from 1 Feb 2026 to 31 Jan 2027
}

# (code, name, family, yearly price in cents, recurring)
PRODUCTS = [
    ("LKS-TEAM", "Larkspur Platform Team", "Platform", 1_200_000, True),
    ("LKS-BUS", "Larkspur Platform Business", "Platform", 3_600_000, True),
    ("LKS-ENT", "Larkspur Platform Enterprise", "Platform", 9_600_000, True),
    ("LKS-PIPE", "Pipelines Add-on", "Add-ons", 1_800_000, True),
    ("LKS-GOV", "Governance Pack", "Add-ons", 2_400_000, True),
    ("LKS-AI", "Insight Assistant", "Add-ons", 1_500_000, True),
    ("LKS-SUP", "Premium Support", "Support", 720_000, True),
    ("LKS-ONB", "Onboarding Services", "Services", 1_000_000, False),
    ("LKS-TRN", "Training Pass", "Services", 250_000, False),
]

# The vendor's own people: (e-mail local part, full name, staff role). The first of each role
# is the one printed by ``covey demo``.
STAFF = [
    ("admin", "Maya Okafor", "admin"),
    ("pm", "Daniel Reyes", "partner_manager"),
    ("pm2", "Priya Raman", "partner_manager"),
    ("pm3", "Tomasz Nowak", "partner_manager"),
    ("sales", "Grace Liu", "sales_rep"),
    ("sales2", "Marcus Bell", "sales_rep"),
    ("finance", "Hannah Fischer", "finance"),
    ("exec", "Oliver Grant", "executive"),
]

# --- places -----------------------------------------------------------------------------------

# region → [(country, weight)]
COUNTRIES = {
    "na": [("US", 82), ("CA", 18)],
    "emea": [("GB", 24), ("DE", 20), ("FR", 12), ("NL", 9), ("SE", 6), ("ES", 7), ("IE", 5),
             ("IT", 7), ("AE", 5), ("ZA", 5)],
    "apac": [("AU", 30), ("JP", 20), ("SG", 15), ("IN", 25), ("NZ", 10)],
    "latam": [("BR", 45), ("MX", 30), ("CO", 10), ("CL", 8), ("AR", 7)],
}

CITIES = {
    "US": ["New York", "Chicago", "Austin", "Denver", "Seattle", "Boston", "Atlanta", "San Diego",
           "Columbus", "Nashville", "Phoenix", "Minneapolis", "Raleigh", "Portland", "Pittsburgh",
           "Salt Lake City", "Charlotte", "Kansas City", "San Jose", "Philadelphia"],
    "CA": ["Toronto", "Vancouver", "Montréal", "Calgary", "Ottawa", "Waterloo"],
    "GB": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Birmingham", "Glasgow", "Cambridge"],
    "DE": ["Berlin", "München", "Hamburg", "Frankfurt am Main", "Köln", "Stuttgart", "Düsseldorf", "Leipzig"],
    "FR": ["Paris", "Lyon", "Toulouse", "Nantes", "Lille", "Bordeaux"],
    "NL": ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag"],
    "SE": ["Stockholm", "Göteborg", "Malmö", "Uppsala"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"],
    "IE": ["Dublin", "Cork", "Galway"],
    "IT": ["Milano", "Roma", "Torino", "Bologna"],
    "AE": ["Dubai", "Abu Dhabi"],
    "ZA": ["Johannesburg", "Cape Town", "Durban"],
    "AU": ["Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"],
    "JP": ["Tokyo", "Osaka", "Nagoya", "Fukuoka", "Yokohama"],
    "SG": ["Singapore"],
    "IN": ["Bengaluru", "Mumbai", "Pune", "Hyderabad", "Chennai", "Gurugram"],
    "NZ": ["Auckland", "Wellington", "Christchurch"],
    "BR": ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Porto Alegre"],
    "MX": ["Ciudad de México", "Monterrey", "Guadalajara", "Querétaro"],
    "CO": ["Bogotá", "Medellín", "Cali"],
    "CL": ["Santiago", "Valparaíso"],
    "AR": ["Buenos Aires", "Córdoba", "Rosario"],
}

CALLING_CODES = {
    "US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31", "SE": "46", "ES": "34",
    "IE": "353", "IT": "39", "AE": "971", "ZA": "27", "AU": "61", "JP": "81", "SG": "65", "IN": "91",
    "NZ": "64", "BR": "55", "MX": "52", "CO": "57", "CL": "56", "AR": "54",
}

TLDS = {
    "US": ".com", "CA": ".ca", "GB": ".co.uk", "DE": ".de", "FR": ".fr", "NL": ".nl", "SE": ".se",
    "ES": ".es", "IE": ".ie", "IT": ".it", "AE": ".ae", "ZA": ".co.za", "AU": ".com.au", "JP": ".co.jp",
    "SG": ".sg", "IN": ".in", "NZ": ".co.nz", "BR": ".com.br", "MX": ".com.mx", "CO": ".com.co",
    "CL": ".cl", "AR": ".com.ar",
}

GOVERNMENT_TLDS = {"US": ".gov", "GB": ".gov.uk", "AU": ".gov.au", "IN": ".gov.in", "NZ": ".govt.nz",
                   "BR": ".gov.br", "MX": ".gob.mx", "SG": ".gov.sg", "ZA": ".gov.za"}

LEGAL_SUFFIXES = {
    "US": ["Inc.", "LLC", "Corp."], "CA": ["Inc.", "Ltd."], "GB": ["Ltd", "plc"], "DE": ["GmbH", "AG"],
    "FR": ["SAS", "SA"], "NL": ["B.V."], "SE": ["AB"], "ES": ["S.L.", "S.A."], "IE": ["Ltd"],
    "IT": ["S.p.A.", "S.r.l."], "AE": ["LLC"], "ZA": ["(Pty) Ltd"], "AU": ["Pty Ltd"], "JP": ["K.K."],
    "SG": ["Pte. Ltd."], "IN": ["Pvt. Ltd."], "NZ": ["Limited"], "BR": ["Ltda."], "MX": ["S.A. de C.V."],
    "CO": ["S.A.S."], "CL": ["SpA"], "AR": ["S.R.L."],
}

# Which of Faker's locales supply person names for a country (ASCII names only are kept).
NAME_LOCALES = {
    "US": ["en_US"], "CA": ["en_US", "fr_FR"], "GB": ["en_GB"], "DE": ["de_DE"], "FR": ["fr_FR"],
    "NL": ["nl_NL"], "SE": ["sv_SE"], "ES": ["es_ES"], "IE": ["en_GB"], "IT": ["it_IT"],
    "AE": ["en_GB", "en_IN"], "ZA": ["en_GB"], "AU": ["en_GB", "en_US"], "JP": ["ja_romaji"],
    "SG": ["en_US", "en_IN"], "IN": ["en_IN"], "NZ": ["en_GB"], "BR": ["pt_BR"], "MX": ["es_MX"],
    "CO": ["es_MX", "es_ES"], "CL": ["es_MX", "es_ES"], "AR": ["es_ES", "it_IT"],
}

# Faker's ja_JP pool is in Japanese script; these romanised names keep e-mails plain ASCII.
_JA_FIRST = ["Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mei", "Kaito", "Sakura",
             "Riku", "Yuna", "Daiki", "Emi", "Kenji", "Naomi", "Takeshi", "Akiko"]
_JA_LAST = ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
            "Kobayashi", "Kato", "Yoshida", "Yamada", "Matsumoto", "Inoue", "Kimura", "Hayashi"]


@cache
def name_pool(locale: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(first names, last names) of one locale, ASCII letters only, in Faker's order."""
    if locale == "ja_romaji":
        return tuple(_JA_FIRST), tuple(_JA_LAST)
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider

    def plain(values) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for value in values:  # some pools are weighted dicts; the keys are the names
            if value.isascii() and value.isalpha() and 2 < len(value) < 14:
                seen.setdefault(value, None)
        return tuple(seen)

    return plain(provider.first_names), plain(provider.last_names)


# --- partners ---------------------------------------------------------------------------------

STEM_HEADS = [
    "Blue", "Iron", "Harbor", "North", "Silver", "Cedar", "Summit", "Bright", "Granite", "Maple",
    "River", "Stone", "Falcon", "Copper", "Pine", "Clear", "Oak", "Lumen", "Vista", "Apex", "Swift",
    "True", "Ember", "Tide", "Cobalt", "Juniper", "Sterling", "Alder", "Birch", "Coral", "Crescent",
    "Ever", "High", "Lake", "Long", "Meadow", "Mill", "Red", "Sage", "Sky", "Star", "West", "East",
    "Wind", "Frost", "Golden", "Hollow", "Fox", "Bay", "Glen", "Kite", "Lark", "Onyx", "Quill",
]
STEM_TAILS = [
    "peak", "bridge", "line", "field", "gate", "point", "stone", "wave", "path", "crest", "light",
    "forge", "works", "vale", "ridge", "port", "well", "brook", "haven", "mark", "sight", "stack",
    "grid", "shore", "wood", "view", "rock", "ford", "lane", "spring", "loop", "yard",
]

PARTNER_SUFFIXES = {
    "referral": ["Advisors", "Referral Network", "Partners", "Connect", "Ventures", "Advisory Group"],
    "reseller": ["Solutions", "Technologies", "IT", "Systems", "Direct", "Computing", "Tech Supply", "Software Sales"],
    "distributor": ["Distribution", "Distributors", "Supply", "Channel Group", "Trade", "Wholesale Tech"],
    "system_integrator": ["Consulting", "Integrators", "Digital", "Engineering", "Data Consulting", "Analytics", "Cloud Consulting"],
    "msp": ["Managed Services", "Cloud Services", "Networks", "IT Services", "Ops", "Hosting"],
    "technology": ["Software", "Labs", "AI", "Data", "Platforms", "Dev"],
    "co_marketing": ["Media", "Marketing", "Creative", "Studio", "Events"],
    "affiliate": ["Reviews", "Insider", "Digest", "Academy", "Hub", "Guides"],
    "strategic_alliance": ["Group", "Global", "International", "Holdings", "Corporation"],
}

# A partner's secondary types are drawn from types that plausibly go with its first one.
TYPE_COMPANIONS = {
    "referral": ["affiliate", "co_marketing"],
    "reseller": ["system_integrator", "msp", "referral", "distributor"],
    "distributor": ["reseller"],
    "system_integrator": ["reseller", "msp", "technology"],
    "msp": ["reseller", "system_integrator"],
    "technology": ["system_integrator", "co_marketing", "strategic_alliance"],
    "co_marketing": ["affiliate", "referral"],
    "affiliate": ["referral", "co_marketing"],
    "strategic_alliance": ["technology", "system_integrator", "reseller"],
}

PARTNER_PITCH = {
    "referral": "Introduces {segment} buyers to Larkspur through its advisory practice in {place}.",
    "reseller": "Value-added reseller selling to {segment} customers in {place}, with its own pre-sales engineers.",
    "distributor": "Two-tier distributor recruiting and supplying resellers across {place}.",
    "system_integrator": "Data and cloud consultancy delivering Larkspur rollouts for {segment} clients in {place}.",
    "msp": "Runs Larkspur as a managed service for {segment} companies in {place}.",
    "technology": "Software company whose product integrates with Larkspur; joint customers in {place}.",
    "co_marketing": "Agency running joint campaigns and events with Larkspur in {place}.",
    "affiliate": "Publishes reviews and tutorials that send {segment} readers to Larkspur.",
    "strategic_alliance": "Global alliance partner: joint roadmap, shared sales plays and executive sponsorship.",
}

SEGMENT_WORDS = {
    "smb": "small-business", "mid_market": "mid-market", "enterprise": "enterprise",
    "public_sector": "public-sector",
}

# --- accounts ---------------------------------------------------------------------------------

# industry → (share of accounts, name nouns)
INDUSTRIES = {
    "Logistics": (8, ["Freight", "Logistics", "Shipping", "Transport", "Haulage", "Cargo", "Couriers"]),
    "Healthcare": (9, ["Health", "Medical Group", "Clinics", "Care", "Diagnostics"]),
    "Financial Services": (10, ["Capital", "Financial", "Bank", "Insurance", "Payments", "Wealth", "Credit Union"]),
    "Retail": (9, ["Outfitters", "Markets", "Stores", "Home Goods", "Apparel", "Supply Co"]),
    "Manufacturing": (11, ["Manufacturing", "Industries", "Fabrication", "Components", "Machining", "Plastics", "Metals"]),
    "Software": (10, ["Software", "Technologies", "Systems", "Digital", "Labs", "Cloud"]),
    "Education": (4, ["Learning", "Academy", "College", "Schools"]),
    "Energy": (5, ["Energy", "Power", "Renewables", "Utilities", "Solar"]),
    "Media": (4, ["Media", "Studios", "Publishing", "Broadcasting"]),
    "Hospitality": (4, ["Hotels", "Hospitality", "Resorts", "Restaurant Group"]),
    "Telecommunications": (4, ["Telecom", "Communications", "Networks", "Fiber"]),
    "Professional Services": (7, ["Advisory", "Associates", "Legal", "Accounting", "Consulting"]),
    "Construction": (4, ["Builders", "Construction", "Contractors", "Engineering"]),
    "Food & Beverage": (5, ["Foods", "Brewing", "Beverages", "Farms", "Bakeries"]),
    "Life Sciences": (4, ["Pharma", "Biosciences", "Therapeutics", "Genomics"]),
    "Government": (3, ["City Council", "Transit Authority", "Water Authority", "Public Library", "School District",
                       "Port Authority", "Housing Agency", "Health Department"]),
}
# Public bodies named after a district rather than a city ("Harlow County Public Library").
DISTRICT_WORDS = {"US": "County", "CA": "County", "GB": "District", "IE": "County", "AU": "Shire", "NZ": "District"}
DISTRICT_NOUNS = ["Council", "Water Authority", "Public Library", "School District", "Health Department",
                  "Housing Agency"]
PUBLIC_INDUSTRIES = frozenset({"Government", "Education"})

ACCOUNT_BLURBS = [
    "Moving reporting off spreadsheets onto one governed data platform.",
    "Consolidating three regional data teams after an acquisition.",
    "Board asked for weekly margin reporting by product line.",
    "Current tool is end-of-life next year; evaluating replacements.",
    "Data team of {n} engineers; heavy use of open-source pipelines.",
    "Compliance audit flagged access controls on customer data.",
    "",
    "",
]

# --- opportunities ----------------------------------------------------------------------------

OPPORTUNITY_LABELS = {
    "new": ["Platform rollout", "Data platform pilot", "Analytics modernisation", "Initial deployment",
            "Reporting consolidation", "Pilot to production", "Self-service analytics", "Data governance program"],
    "expansion": ["Governance Pack add-on", "Expansion to EMEA team", "Additional workspaces",
                  "Insight Assistant add-on", "Upgrade to Enterprise", "Pipelines for finance",
                  "New business unit", "Premium Support upgrade"],
    "renewal": ["Annual renewal", "Renewal", "Multi-year renewal"],
}

LEAD_SOURCES = [("Web", 30), ("Outbound", 22), ("Event", 12), ("Webinar", 8), ("Inbound call", 6),
                ("Customer referral", 7), ("Marketplace", 5), ("Partner", 10)]

LOST_REASONS = [
    ("Lost to competitor", 30), ("No budget", 18), ("No decision", 20), ("Timing: revisit next year", 10),
    ("Price", 10), ("Missing feature", 7), ("Built in-house", 5),
]
CHURN_REASONS = [("Churned: moved to competitor", 50), ("Churned: budget cut", 30), ("Churned: company acquired", 20)]

# --- activities -------------------------------------------------------------------------------

ACTIVITY_SUBJECTS = {
    "call": ["Discovery call with {first}", "Pricing questions from {first}", "Check-in with champion",
             "Security review follow-up", "Call with {first} about timeline", "Renewal check-in"],
    "meeting": ["Mutual close plan review", "Executive sponsor meeting", "Joint account planning",
                "Technical deep dive", "Procurement kick-off", "Quarterly business review"],
    "demo": ["Platform demo for data team", "Governance Pack demo", "Insight Assistant walkthrough",
             "Pipelines demo for finance", "Proof-of-concept readout"],
    "email": ["Sent proposal and pricing", "Shared security questionnaire answers", "Follow-up after demo",
              "Sent reference customer list", "Shared draft order form"],
    "note": ["Champion confirmed budget", "Competitor in the deal", "Legal review started",
             "Decision moved to next quarter", "Technical win confirmed", "Stakeholder map updated"],
}
ACTIVITY_NOTES = [
    "", "", "",
    "{first} wants a short pilot with two teams before committing.",
    "Procurement needs the security pack and a reference in the same industry.",
    "Partner to lead the implementation estimate; we cover licences.",
    "Budget sits with the CFO; next step is a business case.",
    "They asked about SSO and audit logs — send the admin guide.",
]
PARTNER_ACTIVITY_SUBJECTS = [
    ("meeting", "Quarterly business review"), ("meeting", "Pipeline review with partner team"),
    ("demo", "Enablement session: new release"), ("call", "Partner onboarding call"),
    ("email", "Shared co-selling playbook"), ("note", "Partner hired two pre-sales engineers"),
]
