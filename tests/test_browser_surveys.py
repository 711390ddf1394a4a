"""Partner NPS end to end in a real Chromium: the vendor admin writes a campaign and sends it; the
partner rep opens the e-mailed link signed out, answers 9 with a comment, cannot answer twice; the
admin reads NPS 100.0 and the comment on the results page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_campaign_sent_answered_by_link_once_and_read(page, site):  # noqa: F811
    from covey.core.models import Notification
    from covey.surveys.models import Answer

    w, url = site
    today = timezone.localdate()
    log_in(page, url, w.vendor_admin)
    page.get_by_role("link", name="Partner surveys").click()
    page.get_by_label("Name").fill("Browser pulse")
    page.get_by_label("Opens on").fill(today.isoformat())
    page.get_by_label("Closes on").fill((today + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Sent to 5 partner users.").wait_for()
    page.get_by_role("button", name="Log out").click()

    body = Notification.objects.get(kind="survey.invitation", recipient=w.a_rep).body
    link = re.search(r"https?://\S+/surveys/answer/\S+/", body).group(0)
    path = link.split("/surveys/", 1)[1]
    page.goto(f"{url}/surveys/{path}")
    page.get_by_text("How likely is it that you would recommend").wait_for()
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Choose a score from 0 to 10.").first.wait_for()
    page.get_by_label("9", exact=True).check()
    page.get_by_label("Anything you would like to add? (optional)").fill("Fast answers from the channel team")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Thank you: your answer has been recorded.").wait_for()
    page.goto(f"{url}/surveys/{path}")
    page.get_by_text("You have already answered this survey.").wait_for()
    assert Answer.objects.get().score == 9

    log_in(page, url, w.vendor_admin)
    page.get_by_role("link", name="Partner surveys").click()
    page.get_by_role("link", name="Browser pulse").click()
    page.get_by_text("Fast answers from the channel team").wait_for()
    assert "100.0" in page.locator("main").inner_text()
