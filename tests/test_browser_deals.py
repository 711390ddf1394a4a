"""Deal registration end to end in a real Chromium: a partner rep registers, the partner manager
approves, a dated plan with tasks on both sides appears, the partner works it in its portal, and a
second partner registering the same company learns only that it is already registered."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _register(tab, url: str, *, company: str, domain: str, value: str) -> None:
    tab.goto(f"{url}/registrations/new/")
    tab.get_by_label("Company name").fill(company)
    tab.get_by_label("Web domain").fill(domain)
    tab.get_by_label("Contact name").fill("Dana Buyer")
    tab.get_by_label("Estimated value").fill(value)
    tab.get_by_label("Expected close").fill((date.today() + timedelta(days=75)).isoformat())
    tab.get_by_label("Joint work so far").fill("Discovery workshop held together last week")
    tab.get_by_role("button", name="Submit registration").click()


def _log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()


def test_register_approve_plan_and_the_second_partner_sees_only_already_registered(page, site):  # noqa: F811
    from covey.plans.playbooks import install_current

    install_current()  # an earlier transactional test may have emptied the shipped playbooks
    w, url = site

    # 1. Partner A's rep registers a deal.
    log_in(page, url, w.a_rep)
    _register(page, url, company="Globex GmbH", domain="https://www.globex.de/about", value="250000")
    assert page.get_by_role("heading", name="Registration submitted").is_visible()
    _log_out(page)

    # 2. A's partner manager approves it; the deal is converted and its plan created.
    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/registrations/")
    page.locator("main").get_by_role("link", name="Globex GmbH").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("Converted|Approved")).first.is_visible()
    _log_out(page)

    # 3. The partner sees the plan in its portal: dated tasks owned by the partner and by the vendor.
    log_in(page, url, w.a_rep)
    page.goto(f"{url}/registrations/")
    page.locator("main").get_by_role("link", name="Globex GmbH").click()
    page.locator("main").get_by_role("link", name=re.compile("Globex")).filter(has_not_text="registrations").last.click()
    page.get_by_role("link", name="Deal room").click()
    plan = page.locator(".plan").first
    assert plan.is_visible()
    sides = plan.locator("td .badge").all_inner_texts()
    assert any("Partner" in s for s in sides) and any("Vendor" in s for s in sides), sides
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", plan.inner_text()), "tasks carry due dates"
    _log_out(page)

    # 4. Partner B registers the same company under another spelling: only "already registered".
    log_in(page, url, w.b_rep)
    _register(page, url, company="GLOBEX", domain="globex.de", value="300000")
    assert page.get_by_role("heading", name="Already registered").is_visible()
    text = page.content()
    assert "This account is already registered." in text
    assert "Alpha" not in text and w.a_rep.email not in text
