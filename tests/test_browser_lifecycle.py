"""The partner lifecycle end to end in a real Chromium: a company applies on the public page; two
evaluators score it and a manager compares it with two other candidates; it is approved, its new
admin (invited by e-mail) signs the agreement, a vendor admin countersigns, the onboarding plan is
there and the partner is activated. The other partner learns nothing of it."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lifecycle-browser-9"


def _log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()


def _other_candidates(w) -> list:
    """Two candidates that applied earlier and were scored by the partner manager."""
    from covey.lifecycle import services

    made = []
    for name, domain, score in (("Southwind Systems", "southwind-systems.example", "3"), ("Eastgate Partners", "eastgate.example", "5")):
        application = services.application_submit(answers=services.ApplicationInput(
            company_name=name, website=f"https://{domain}", contact_name="Sam Candidate", contact_email=f"sam@{domain}",
            types=["reseller"], regions=["na"], employees=25,
        ), ip="192.0.2.20")
        round_ = services.round_open(partner=application.partner, actor=w.partner_manager)
        services.scorecard_submit(round_=round_, evaluator=w.partner_manager, scores={
            spec["code"]: services.ScoreInput(value=score, level="medium") for spec in round_.criteria
        })
        made.append(application.partner)
    return made


def _score(tab, numbers: str, level: str) -> None:
    for field in tab.locator("input[type=number]").all():
        field.fill(numbers)
    for select in tab.locator("main select").all():
        select.select_option(level)
    tab.locator("textarea").first.fill("Strong delivery team; two certified engineers already.")
    tab.get_by_role("button", name="Save scorecard").click()


def test_apply_evaluate_compare_approve_sign_countersign_onboard_activate(page, site):  # noqa: F811
    from covey.agreements.services import template_create
    from covey.lifecycle import criteria, playbooks
    from covey.plans.playbooks import install_current

    install_current()
    playbooks.install_current()  # an earlier transactional test may have emptied the shipped rows
    criteria.install_current()
    w, url = site
    template_create(actor=w.vendor_admin, name="Standard partner agreement", title="Partner program agreement",
                    body="# Partner program agreement\n\nThe partner may resell and implement our products.\n\n- Term: one year")
    assert len(_other_candidates(w)) == 2

    # 1. A company applies on the public page, without logging in.
    page.goto(f"{url}/partner-with-us/")
    page.get_by_label("Company name").fill("Northpeak Consulting")
    page.get_by_label("Website").fill("northpeak-consulting.example")
    page.get_by_label("System integrator").check()
    page.get_by_label("Europe, Middle East & Africa").check()
    page.get_by_label("Mid-market").check()
    page.get_by_label("Number of employees").fill("45")
    page.get_by_label("Capabilities").fill("Implementation, training and managed services")
    page.get_by_label("Your name").fill("Nora Peak")
    page.get_by_label("Your work e-mail").fill("nora@northpeak-consulting.example")
    page.get_by_role("button", name="Send application").click()
    assert page.get_by_role("heading", name="Application received").is_visible()

    # 2. The partner manager finds it in the pipeline, opens a round and scores it.
    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/pipeline/")
    applied = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Applied")))
    assert applied.get_by_text("Northpeak Consulting").is_visible()
    applied.get_by_role("link", name="Evaluate").first.click()
    page.get_by_role("button", name="Open an evaluation round").click()
    _score(page, "4", "high")
    assert page.get_by_text(re.compile(r"Your scorecard is saved")).is_visible()
    _log_out(page)

    # 3. A second evaluator (the vendor admin) scores it too; the total is the average of both.
    log_in(page, url, w.vendor_admin)
    page.goto(f"{url}/evaluation/")
    page.get_by_role("link", name="Northpeak Consulting").click()
    page.get_by_role("link", name="Score this candidate").click()
    _score(page, "3", "medium")
    # Means 3.5 on the 1–5 criteria and (5+3)/2 = 4 on the two High/Medium/Low ones; weights 2, 2, 1.5, 2, 1.5, 1:
    # 10 × (2×0.7 + 2×0.7 + 1.5×0.8 + 2×0.7 + 1.5×0.8 + 1×0.7) / 10 = 7.30
    assert page.locator(".round-total").inner_text() == "7.30 / 10"
    _log_out(page)

    # 4. The manager compares it side by side with the two other candidates.
    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/evaluation/")
    for name in ("Northpeak Consulting", "Southwind Systems", "Eastgate Partners"):
        page.get_by_label(f"Compare {name}").check()
    page.get_by_role("button", name="Compare selected").click()
    assert page.get_by_role("heading", name="Side by side").is_visible()
    assert page.locator("svg.compare-chart rect").count() == 3 * 6
    header = page.locator("thead").inner_text().lower()  # headers are styled in capitals
    assert all(n.lower() in header for n in ("Northpeak Consulting", "Southwind Systems", "Eastgate Partners"))

    # 5. It is approved with the standard agreement: the applicant is invited as partner admin.
    page.goto(f"{url}/evaluation/")
    page.get_by_role("link", name="Northpeak Consulting").click()
    page.get_by_role("link", name="Journey and decision").click()
    page.get_by_label("Agreement to issue").select_option(label="Standard partner agreement")
    page.get_by_role("button", name="Approve application").click()
    assert page.locator("#lifecycle-badge").inner_text() == "Onboarding"
    assert page.get_by_role("heading", name="Onboarding plan").is_visible()
    _log_out(page)

    # 6. The new partner admin follows the invitation, chooses a password and signs.
    invitation = next(m for m in mail.outbox if "nora@northpeak-consulting.example" in m.to and "invited" in m.subject)
    link = re.search(r"https?://\S+/password-reset/\S+/", invitation.body).group(0)
    page.goto(url + "/" + link.split("/", 3)[3])
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    page.goto(f"{url}/login/")
    page.get_by_label("E-mail").fill("nora@northpeak-consulting.example")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/agreements/")
    page.get_by_role("link", name="Partner program agreement").click()
    page.get_by_label("Your full name").fill("Nora Peak")
    page.get_by_label(re.compile("I have read this agreement")).check()
    page.get_by_role("button", name="Sign agreement").click()
    assert page.locator("#agreement-status").inner_text() == "Signed by the partner"
    _log_out(page)

    # 7. A vendor admin countersigns; the signed PDF is kept.
    log_in(page, url, w.vendor_admin)
    page.goto(f"{url}/agreements/")
    page.locator("main").get_by_role("link", name="Partner program agreement").click()
    page.get_by_label("Your full name").fill("Vera Admin")
    page.get_by_label(re.compile("I have read this agreement")).check()
    page.get_by_role("button", name="Countersign agreement").click()
    assert page.locator("#agreement-status").inner_text() == "Countersigned"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download signed PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    # 8. With the countersignature it can be activated; the onboarding plan is there for both sides.
    from covey.partners.models import Partner

    partner = Partner.objects.get(name="Northpeak Consulting")
    page.goto(f"{url}/partners/{partner.public_id}/journey/")
    page.get_by_role("button", name="Activate partner").click()
    assert page.locator("#lifecycle-badge").inner_text() == "Active"
    plan = page.locator(".plan").first
    assert "First 30 days" in plan.inner_text() and re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", plan.inner_text())
    _log_out(page)

    # 9. The partner sees its own plan and status; partner B cannot even reach the page.
    page.goto(f"{url}/login/")
    page.get_by_label("E-mail").fill("nora@northpeak-consulting.example")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/partners/{partner.public_id}/journey/")
    assert page.locator("#lifecycle-badge").inner_text() == "Active"
    assert page.get_by_role("heading", name="Onboarding plan").is_visible()
    assert "Southwind" not in page.content() and "/ 10" not in page.content()
    _log_out(page)
    log_in(page, url, w.b_rep)
    response = page.goto(f"{url}/partners/{partner.public_id}/journey/")
    assert response.status == 404 and "Northpeak" not in page.content()
