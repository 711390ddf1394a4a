"""A small MDF world for the MDF tests: a USD program whose Gold tier brings 10,000.00 of MDF a
quarter and Silver 4,000.00, partner A at Gold and B at Silver, and this quarter's budget of
50,000.00 (second approval above 8,000.00) with both allocations generated."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n% invoice\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def invoice(name: str = "invoice.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def leads_csv(rows: int) -> SimpleUploadedFile:
    out = io.StringIO()
    out.write("email,name\n")
    for i in range(rows):
        out.write(f"lead{i}@example.com,Lead {i}\n")
    return SimpleUploadedFile("leads.csv", out.getvalue().encode(), content_type="text/csv")


def build_mdf(w, *, name: str = "MDF test program", budget_minor: int = 5_000_000,
              second_above: int | None = 800_000):
    from django.utils import timezone

    from covey.core.models import VendorSettings
    from covey.mdf import services
    from covey.programs import services as programs
    from covey.programs.services import quarter_start_of

    today = timezone.localdate()
    start = quarter_start_of(today - timedelta(days=200))
    before = start - timedelta(days=1)
    program = programs.program_create(name=name, currency="USD", actor=w.vendor_admin, today=before)
    draft = program.versions.get()
    programs.version_update(version=draft, actor=w.vendor_admin, effective_from=start, today=before)
    programs.tier_save(version=draft, actor=w.vendor_admin, code="silver", name="Silver", rank=1,
                       mdf_allowance_minor=400_000, today=before)
    programs.tier_save(version=draft, actor=w.vendor_admin, code="gold", name="Gold", rank=2,
                       mdf_allowance_minor=1_000_000, today=before)
    programs.version_publish(version=draft, actor=w.vendor_admin, today=before)
    programs.enrol(partner=w.partner_a, program=program, tier_code="gold", starts_on=start, actor=w.vendor_admin)
    programs.enrol(partner=w.partner_b, program=program, tier_code="silver", starts_on=start, actor=w.vendor_admin)
    quarter = VendorSettings.current().calendar.quarter_of(today)
    budget = services.budget_create(program=program, period_key=quarter.key, amount_minor=budget_minor,
                                    second_approval_above_minor=second_above, actor=w.vendor_admin)
    services.allocations_generate(budget=budget, actor=w.vendor_admin)
    w.mdf_program, w.mdf_budget = program, budget
    w.mdf_alloc_a = budget.allocations.get(partner=w.partner_a)
    w.mdf_alloc_b = budget.allocations.get(partner=w.partner_b)
    return w


def webinar(w, *, allocation=None, actor=None, cost: int = 1_000_000, share: str = "30", code: str = "WEB-ALPHA-1",
            days_ago: int = 5, title: str = "Alpha cloud webinar"):
    from django.utils import timezone

    from covey.mdf import services

    today = timezone.localdate()
    return services.request_create(
        allocation=allocation or w.mdf_alloc_a, actor=actor or w.a_rep, activity_type="webinar", title=title,
        description="Hour-long webinar for mid-market prospects", starts_on=today - timedelta(days=days_ago),
        ends_on=today - timedelta(days=days_ago), planned_cost_minor=cost, co_investment_percent=share,
        campaign_code=code, expected_leads=40, expected_pipeline_minor=20_000_000)
