"""Account mapping demo scenario, made through the same services a person uses: the demo partner's
uploaded account list — part of it the same companies as the demo CRM's accounts, written the way
another CRM would (other legal forms, ``www.`` and paths on the websites, upper case), part of it
companies the vendor has never heard of — a finished mapping run, and the vendor's "Prospects"
population shared with the demo partner as overlapping records (name, country, industry).

Runs once after ``covey demo`` seeds the small set (``seed_mapping``); it does nothing when the demo
partner already has a list. ``covey seed --reset`` removes it (``generator._delete_mapping_scenario``).
The invented companies are made up for the demo.
"""

from __future__ import annotations

import csv
import io

from django.db import transaction

from covey.core.models import StaffRole, User
from covey.partners.models import Membership

LIST_NAME = "Partner CRM export"
OVERLAPPING = 60  # of the demo accounts, every third one up to this many
SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "S.A.", "")
UNKNOWN = [
    ("Brightwater Logistics", "brightwater-logistics.example", "US", "Transport"),
    ("Copperleaf Dental Group", "copperleaf-dental.example", "CA", "Health"),
    ("Fjordline Seafood", "fjordline-seafood.example", "NO", "Food"),
    ("Kestrel Aerospace", "kestrel-aero.example", "GB", "Manufacturing"),
    ("Lumen Street Media", "lumenstreet.example", "US", "Media"),
    ("Marigold Hotels", "marigold-hotels.example", "IN", "Hospitality"),
    ("Orchard Lane Schools", "orchardlane.example", "AU", "Education"),
    ("Quarry Hill Builders", "quarryhill.example", "IE", "Construction"),
    ("Saltmarsh Energy", "saltmarsh-energy.example", "NL", "Energy"),
    ("Tidewell Insurance", "tidewell.example", "US", "Financial services"),
]


def _list_csv(accounts: list) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Account ID", "Account Name", "Website", "Billing Country", "Industry", "Type", "Number of Employees",
                     "Account Owner"])
    for i, account in enumerate(accounts):
        name = account.name.upper() if i % 7 == 0 else f"{account.name} {SUFFIXES[i % len(SUFFIXES)]}".strip()
        website = f"https://www.{account.domain}/about" if account.domain and i % 2 else (account.domain or "")
        kind = "Customer" if i % 3 else "Prospect"
        writer.writerow([f"P-{1000 + i}", name, website, account.country or "", account.industry or "", kind,
                         account.employees or "", "Partner sales team"])
    for j, (name, domain, country, industry) in enumerate(UNKNOWN):
        writer.writerow([f"P-{2000 + j}", name, domain, country, industry, "Customer" if j % 2 else "Prospect", 40 + 25 * j,
                         "Partner sales team"])
    return out.getvalue().encode()


def seed_mapping(*, manager_email: str, partner_admin_email: str) -> int:
    """Create the scenario; return the overlapping pairs found (0 when it ran before or users are missing)."""
    from covey.accountmaps import services
    from covey.accountmaps.models import AccountList, PopulationKind
    from covey.crm.models import Account

    manager = User.objects.filter(email=manager_email, staff_role=StaffRole.PARTNER_MANAGER).first()
    member = Membership.objects.filter(user__email=partner_admin_email).select_related("partner", "user").first()
    if manager is None or member is None or AccountList.objects.filter(partner=member.partner).exists():
        return 0
    accounts = list(Account.objects.exclude(domain="").order_by("id")[: OVERLAPPING * 3 : 3])
    if not accounts:
        return 0
    with transaction.atomic():
        account_list, upload = services.list_import(partner=member.partner, actor=member.user, data=_list_csv(accounts),
                                                    filename="partner-crm-export.csv", name=LIST_NAME, source="seed")
        if account_list is None:
            return 0
        run = account_list.runs.order_by("-id").first()
        if run is not None and run.status == "queued":  # no worker runs during `covey demo`'s set-up: map now
            services.run_execute(run_id=run.pk)
        prospects = services.our_list_get().populations.get(kind=PopulationKind.PROSPECTS)
        services.sharing_set(population=prospects, partner=member.partner, actor=manager, level="overlaps",
                             fields=["country", "industry"], source="seed")
        customers = account_list.populations.get(kind=PopulationKind.CUSTOMERS)
        services.sharing_set(population=customers, partner=member.partner, actor=member.user, level="overlaps",
                             fields=["country"], source="seed")
    run = account_list.runs.order_by("-id").first()
    return int((run.counts or {}).get("pairs", 0)) if run else 0
