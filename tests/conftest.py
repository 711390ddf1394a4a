"""The shared cast every test can use.

Partner A is the partner under test; partner B is the outsider. Each person's password is
``PASSWORD``. ``world`` adds one account, opportunity and activity on each side so a test can try
to reach the other side's records.
"""

from __future__ import annotations

import os
from datetime import date
from types import SimpleNamespace

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's event loop + pytest-django

PASSWORD = "correct-horse-battery-7"


def pytest_configure(config):
    from django.conf import settings

    # Production hashing (PBKDF2, a million rounds) costs ~0.3 s per user; the cast has eleven.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks (e-mails, sweeps) run inline, so a test sees their effects at once (mail.outbox).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def pytest_collection_modifyitems(config, items):
    """Tests marked ``pure`` need no database: on the PostgreSQL pass they would only repeat."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="pure: already ran in the SQLite pass")
    for item in items:
        if item.get_closest_marker("pure"):
            item.add_marker(skip)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _empty_the_ledger_before_the_flush(request):
    """After a transactional test pytest-django empties every table; the ledger refuses deletes (its
    append-only guard), so its rows go first, inside the ledger's maintenance window. Requesting the
    database fixture here makes this teardown run before the flush."""
    if not _is_transactional(request):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from django.db import transaction

    from covey.payouts.ledger import maintenance
    from covey.payouts.models import LedgerEntry

    with transaction.atomic(), maintenance("test teardown"):
        for rel in LedgerEntry._meta.related_objects:  # statement lines and disputes protect their entries
            if rel.related_model is not LedgerEntry:
                rel.related_model.objects.all().delete()
        LedgerEntry.objects.all().delete()


def _user(email, *, role="", name=""):
    from covey.core.models import User

    return User.objects.create_user(email, PASSWORD, staff_role=role, full_name=name or email.split("@")[0].title())


def _member(email, partner, role):
    from covey.partners.models import Membership

    user = _user(email)
    Membership.objects.create(user=user, partner=partner, role=role)
    return user


@pytest.fixture
def cast(db):
    return make_cast()


def make_cast():
    from covey.core.models import VendorSettings
    from covey.partners.models import Partner, PartnerTypeTag

    VendorSettings.objects.update_or_create(pk=1, defaults={"company_name": "Acme Cloud", "domain": "acmecloud.example"})
    c = SimpleNamespace()
    c.vendor_admin = _user("admin@acmecloud.example", role="admin", name="Vera Admin")
    c.partner_manager = _user("pm@acmecloud.example", role="partner_manager", name="Paul Manager")
    c.other_manager = _user("pm2@acmecloud.example", role="partner_manager", name="Olga Manager")
    c.sales_rep = _user("rep@acmecloud.example", role="sales_rep", name="Sam Seller")
    c.finance = _user("finance@acmecloud.example", role="finance", name="Fiona Finance")
    c.executive = _user("exec@acmecloud.example", role="executive", name="Eve Executive")
    c.partner_a = Partner.objects.create(name="Alpha Integrations", domain="alpha.example", lifecycle="active", owner=c.partner_manager)
    c.partner_b = Partner.objects.create(name="Beta Resellers", domain="beta.example", lifecycle="active", owner=c.other_manager)
    PartnerTypeTag.objects.create(partner=c.partner_a, code="system_integrator")
    PartnerTypeTag.objects.create(partner=c.partner_b, code="reseller")
    c.a_admin = _member("admin@alpha.example", c.partner_a, "admin")
    c.a_rep = _member("rep@alpha.example", c.partner_a, "rep")
    c.a_readonly = _member("viewer@alpha.example", c.partner_a, "read_only")
    c.b_admin = _member("admin@beta.example", c.partner_b, "admin")
    c.b_rep = _member("rep@beta.example", c.partner_b, "rep")
    return c


@pytest.fixture
def world(cast):
    """One deal on each side: A's opportunity (with a line and an activity) and B's."""
    return make_world(cast)


def make_world(cast):
    from covey.crm.models import (
        Account,
        Activity,
        Opportunity,
        OpportunityLine,
        OpportunityPartner,
        Product,
    )

    w = cast
    w.product = Product.objects.create(name="Covey Cloud Platform", code="CCP", unit_price_minor=1_200_000, currency="USD")
    for side, partner in (("a", w.partner_a), ("b", w.partner_b)):
        account = Account.objects.create(name=f"Customer {side.upper()} Ltd", domain=f"customer-{side}.example", status="prospect")
        opp = Opportunity.objects.create(
            name=f"Deal {side.upper()}", account=account, owner=w.sales_rep, stage="Qualification",
            amount_minor=2_400_000, currency="USD", close_date=date(2026, 12, 15),
        )
        line = OpportunityLine.objects.create(opportunity=opp, product=w.product, quantity=2, unit_price_minor=1_200_000)
        link = OpportunityPartner.objects.create(opportunity=opp, partner=partner, role="reseller", is_primary=True)
        activity = Activity.objects.create(
            kind="demo", subject=f"Joint demo {side.upper()}", opportunity=opp, account=account, partner=partner, is_joint=True,
            created_by=w.a_rep if side == "a" else w.b_rep,
        )
        setattr(w, f"account_{side}", account)
        setattr(w, f"opportunity_{side}", opp)
        setattr(w, f"line_{side}", line)
        setattr(w, f"link_{side}", link)
        setattr(w, f"activity_{side}", activity)
    return w


@pytest.fixture
def full_world(world):
    """``world`` plus every feature's objects (tests/access_rows/*.py ``build``), for the access tables."""
    return make_full_world(world)


def make_full_world(world):
    from tests.matrix import features

    for feature in features():
        feature.build(world)
    return world


@pytest.fixture(scope="module")
def module_full_world(django_db_setup, django_db_blocker):
    """``full_world`` built once for a whole test module, for the access tables' thousands of cases.

    It lives in a transaction rolled back when the module ends; each test still runs in its own
    savepoint (pytest-django's ``db``), so whatever a request changes is undone before the next one
    and every case starts from the same world, as if it had been built afresh.
    """
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield make_full_world(make_world(make_cast()))
        transaction.set_rollback(True)


@pytest.fixture
def login(client):
    """``login(user)`` returns the test client logged in as ``user``."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def gold_program(world):
    """A published incentive program from Q3 2026 paying resellers 30% margin at Gold, 20% at Silver,
    with partner A enrolled at Gold (the payout tests' world)."""
    from datetime import date

    from covey.programs import services as programs

    before = date(2026, 6, 1)
    admin = world.vendor_admin
    program = programs.program_create(name="Resale Program", currency="USD", actor=admin, today=before)
    draft = program.versions.get()
    programs.version_update(version=draft, actor=admin, effective_from=date(2026, 7, 1), payout_delay_days=30,
                            today=before)
    programs.tier_save(version=draft, actor=admin, code="silver", name="Silver", rank=1, today=before)
    programs.tier_save(version=draft, actor=admin, code="gold", name="Gold", rank=2, today=before)
    programs.rule_save(version=draft, actor=admin, kind="resale_margin", name="Reseller margin", today=before,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "30", "silver": "20"}}]})
    programs.version_publish(version=draft, actor=admin, today=before)
    programs.enrol(partner=world.partner_a, program=program, tier_code="gold", starts_on=date(2026, 7, 1),
                   actor=world.partner_manager)
    return program
