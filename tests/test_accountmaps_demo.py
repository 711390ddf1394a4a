"""The account mapping demo scenario: the demo partner's list overlaps the demo accounts, a run has
finished, the vendor's prospects are shared with the partner as overlapping records; it runs once
and a reset removes it."""

from __future__ import annotations

import pytest

from covey.accountmaps import selectors
from covey.accountmaps.models import AccountList, ListRow, MappingRun, MatchedPair


@pytest.fixture
def demo(db, settings):
    from covey.demo.generator import seed_database

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    result = seed_database(size="small", seed=42)
    return {login.role: login.email for login in result.logins}


def test_the_demo_partner_has_a_mapped_list_with_one_population_shared_as_records(demo):
    from covey.core.models import User
    from covey.demo.mapping_scenario import seed_mapping

    pairs = seed_mapping(manager_email=demo["Partner manager"], partner_admin_email=demo["Partner admin"])
    assert pairs >= 50
    account_list = AccountList.objects.get(name="Partner CRM export")
    assert account_list.runs.get().status == "done"
    rep = User.objects.get(email=demo["Partner rep"])
    view = selectors.mapping_view(user=rep, their_list=account_list)
    shared = [p for p in view.ours if p.shows_records]
    assert [p.population.name for p in shared] == ["Prospects"] and shared[0].fields == ("name", "country", "industry")
    assert sum(selectors.matrix(view).values()) > 0
    assert seed_mapping(manager_email=demo["Partner manager"], partner_admin_email=demo["Partner admin"]) == 0


def test_a_demo_reset_removes_the_scenario(demo):
    from covey.demo.generator import existing_seed, wipe
    from covey.demo.mapping_scenario import seed_mapping

    seed_mapping(manager_email=demo["Partner manager"], partner_admin_email=demo["Partner admin"])
    wipe(existing_seed())
    assert not AccountList.objects.exists() and not ListRow.objects.exists()
    assert not MappingRun.objects.exists() and not MatchedPair.objects.exists()
