"""The program builder end to end in a real Chromium: an admin creates a program, adds tiers and a
SPIFF through its typed form (fixing the end date the form refuses), publishes the version for the
current quarter, and finds a change from a tab opened before publishing refused; a partner manager's
enrolment puts partner A at Gold, and A's rep reads its guide in plain language."""

from __future__ import annotations

import re

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()


def _add_tier(tab, name: str, code: str, rank: str) -> None:
    tab.get_by_role("link", name="Add a tier").click()
    tab.locator("#id_name").fill(name)
    tab.get_by_label("Code").fill(code)
    tab.get_by_label("Rank").fill(rank)
    tab.get_by_role("button", name="Save tier").click()
    assert tab.get_by_text(f"Tier {name} saved.").is_visible()


def test_admin_builds_publishes_is_refused_on_the_locked_version_and_the_partner_reads_its_guide(page, site):  # noqa: F811
    from covey.core.models import AuditEvent
    from covey.programs.models import ProgramVersion

    w, url = site
    log_in(page, url, w.vendor_admin)

    # 1. A new program, with two tiers.
    page.get_by_role("link", name="Programs").click()
    assert page.get_by_text("No programs yet").is_visible()
    page.get_by_role("link", name="New program").click()
    page.get_by_label("Name").fill("Channel Program")
    page.get_by_label("Summary").fill("Sell with us and earn more each quarter.")
    page.get_by_role("button", name="Create program").click()
    assert page.get_by_role("heading", name="Channel Program").is_visible()
    _add_tier(page, "Silver", "silver", "1")
    _add_tier(page, "Gold", "gold", "2")

    # 2. A SPIFF through its typed form: an end before the start is refused next to the end date.
    page.get_by_role("link", name="Add a rule").click()
    page.get_by_role("link", name="SPIFF").click()
    assert page.get_by_role("heading", name="New rule: SPIFF").is_visible()
    page.get_by_label("Rule name").fill("Spring SPIFF")
    page.get_by_label("Amount").fill("250.00")
    page.get_by_label("Starts on").fill("2026-03-01")
    page.get_by_label("Ends on").fill("2026-01-31")
    page.get_by_label("Minimum deal value").fill("5000")
    page.get_by_role("button", name="Save rule").click()
    end_field = page.locator(".field", has=page.get_by_label("Ends on"))
    assert end_field.get_by_role("alert").inner_text() == "The SPIFF cannot end before it starts."
    page.get_by_label("Ends on").fill("2026-05-31")
    page.get_by_role("button", name="Save rule").click()
    assert page.get_by_text("Rule Spring SPIFF saved.").is_visible()
    assert page.get_by_text("Between 1 March 2026 and 31 May 2026, close a deal over 5,000.00 USD: 250.00 USD "
                            "for each of your reps on the deal.").is_visible()

    # 3. A second tab opens the version's settings while it is still a draft.
    version = ProgramVersion.objects.get(program__name="Channel Program")
    stale = page.context.new_page()
    stale.goto(f"{url}/programs/versions/{version.public_id}/edit/")
    assert stale.get_by_role("heading", name="Version 1 settings").is_visible()

    # 4. Publish, after the confirmation: the version governs this quarter and is locked at once.
    page.get_by_role("link", name="Publish", exact=True).click()
    assert page.get_by_text(re.compile("locked at once")).is_visible()
    page.get_by_role("button", name="Publish").click()
    assert page.locator("#locked-note").is_visible()
    assert page.get_by_role("link", name="Add a tier").count() == 0

    # 5. The stale tab's change is refused, with the reason, and the attempt is on record.
    stale.get_by_label("Payable after (days)").fill("5")
    stale.get_by_role("button", name="Save settings").click()
    assert stale.get_by_text(re.compile(r"^This version is locked")).is_visible()
    version.refresh_from_db()
    assert version.payout_delay_days == 30
    assert AuditEvent.objects.filter(action="refused", object_id=version.public_id).count() == 1
    stale.close()
    _log_out(page)

    # 6. Partner A's manager enrols it at Gold.
    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/programs/")
    page.get_by_role("link", name="Channel Program").click()
    page.get_by_role("link", name="Enrol a partner").first.click()
    page.get_by_label("Partner").select_option(label="Alpha Integrations")
    page.get_by_label("Tier").select_option(label="Gold")
    page.get_by_role("button", name="Enrol").click()
    assert page.get_by_text("Alpha Integrations is in Channel Program at gold").is_visible()
    _log_out(page)

    # 7. A's rep finds the program in the portal and reads the guide of its own tier.
    log_in(page, url, w.a_rep)
    page.get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Channel Program").click()
    assert page.get_by_role("heading", name="Channel Program — program guide").is_visible()
    assert page.get_by_text(re.compile("Your tier: Gold")).is_visible()
    assert page.get_by_text(re.compile(r"close a deal over 5,000\.00 USD: 250\.00 USD for each of your reps")).is_visible()
    assert page.get_by_role("heading", name="Silver").count() == 0
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith("-gold.pdf")
    _log_out(page)

    # 8. The other partner's rep does not even learn the program exists.
    log_in(page, url, w.b_rep)
    page.goto(f"{url}/programs/")
    assert page.get_by_text("Channel Program").count() == 0
