"""Browser tests: a real Chromium (Debian's /usr/bin/chromium) driven by Playwright.

They check the first security property the way a person meets it: through the log-in form and the
pages, not through the test client.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("COVEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `./dev test` installs it, or set COVEY_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def site(transactional_db, world, live_server):
    return world, live_server.url


def log_in(page, base_url: str, user) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def test_partner_rep_sees_only_its_own_opportunities(page, site):
    w, url = site
    log_in(page, url, w.a_rep)
    page.goto(f"{url}/opportunities/")
    table = page.locator("main")
    assert table.get_by_role("link", name="Deal A").is_visible()
    assert "Deal B" not in page.content()
    assert "Beta Resellers" not in page.content()


def test_vendor_admin_sees_every_opportunity(page, site):
    w, url = site
    log_in(page, url, w.vendor_admin)
    page.goto(f"{url}/opportunities/")
    assert page.locator("main").get_by_role("link", name="Deal A").is_visible()
    assert page.locator("main").get_by_role("link", name="Deal B").is_visible()


def test_outsider_following_a_direct_link_to_another_partners_opportunity_gets_404(page, site):
    w, url = site
    log_in(page, url, w.b_rep)
    response = page.goto(f"{url}/opportunities/{w.opportunity_a.public_id}/")
    assert response is not None and response.status == 404
    assert "Deal A" not in page.content()
    # The same page is there for the partner it belongs to.
    page.context.clear_cookies()
    log_in(page, url, w.a_rep)
    response = page.goto(f"{url}/opportunities/{w.opportunity_a.public_id}/")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", name="Deal A").is_visible()


def test_a_wrong_password_is_refused_with_a_message(page, site):
    w, url = site
    page.goto(f"{url}/login/")
    page.get_by_label("E-mail").fill(w.a_rep.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.url.endswith("/login/")
