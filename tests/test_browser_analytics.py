"""Analytics in a real Chromium: a partner manager opens the program dashboard and a Chart.js chart
draws on its canvas, drills into a metric's records, and downloads a partner's QBR pack as a PDF;
a partner user sees its own dashboard and nobody else's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

Q = "2026Q2"


def _won(w, name, partner, amount):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    account = Account.objects.create(name=f"{name} buyer", domain=f"{name.lower().replace(' ', '-')}.example")
    opp = Opportunity.objects.create(name=name, account=account, stage="Closed Won", amount_minor=amount, currency="USD",
                                     close_date=date(2026, 5, 12), created_at=datetime(2026, 4, 3, tzinfo=UTC))
    OpportunityPartner.objects.create(opportunity=opp, partner=partner, role="sourced", is_primary=True)


def _canvas_drawn(tab, key: str) -> bool:
    """True once Chart.js has painted something on the canvas (some pixel is not transparent)."""
    return tab.evaluate("""(key) => {
        const c = document.getElementById('canvas-' + key);
        if (!c || !c.dataset.drawn || !c.width) return false;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
    }""", key)


def test_manager_sees_charts_drills_into_a_metric_and_downloads_the_qbr_pdf(page, site):  # noqa: F811
    w, url = site
    _won(w, "Harbour Analytics deal", w.partner_a, 4_200_000)
    _won(w, "Beta Analytics deal", w.partner_b, 1_100_000)

    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/analytics/?period={Q}")
    assert page.get_by_role("heading", name="Program dashboard").is_visible()
    page.wait_for_function("() => document.querySelector('#canvas-trend') && document.querySelector('#canvas-trend').dataset.drawn")
    assert _canvas_drawn(page, "trend")
    assert _canvas_drawn(page, "pareto")
    assert page.locator("[data-value=sourced_revenue]").inner_text() == "53,000.00 USD"

    # The definition is next to the name, and the records behind the figure one click away.
    assert "closed won" in page.locator("abbr[data-metric=sourced_revenue]").get_attribute("title")
    page.locator("tr", has=page.locator("abbr[data-metric=sourced_revenue]")).get_by_role("link", name="Records").click()
    assert page.get_by_role("heading", name="Partner-sourced revenue: the records behind it").is_visible()
    assert page.get_by_role("link", name="Harbour Analytics deal").is_visible()

    # The QBR pack of partner A for the quarter, as a PDF.
    page.goto(f"{url}/analytics/scorecards/{w.partner_a.public_id}/{Q}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="QBR pack (PDF)").click()
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert download.value.suggested_filename == f"qbr-{w.partner_a.public_id}-{Q}.pdf"
    _assert_the_qbr_pack_looks_right(path, w.partner_a.name)


def _assert_the_qbr_pack_looks_right(path, partner_name: str) -> None:
    """Render the pack's first page to an image, as a reader's viewer would, and look at it: the
    scorecard's words and figures are on it, and the charts put colour on the page."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    first = pdf[0]
    text = first.get_textpage().get_text_range()
    assert partner_name in text and "Scorecard" in text
    assert "42,000.00" in text  # the quarter's sourced revenue, as the scorecard shows it
    image = first.render(scale=1).to_pil().convert("RGB")
    width, height = image.size
    assert width < height  # a portrait page
    pixels = list(image.getdata())
    inked = sum(1 for r, g, b in pixels if r + g + b < 600)
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 60)
    assert inked > len(pixels) // 200, "the page is (nearly) blank"
    assert coloured > 500, "no chart colour on the first page"


def test_a_partner_sees_its_own_dashboard_only(page, site):  # noqa: F811
    w, url = site
    _won(w, "Harbour Analytics deal", w.partner_a, 4_200_000)
    _won(w, "Beta Analytics deal", w.partner_b, 1_100_000)
    log_in(page, url, w.b_rep)
    page.goto(f"{url}/analytics/ours/?period={Q}")
    page.wait_for_function("() => document.querySelector('#canvas-trend') && document.querySelector('#canvas-trend').dataset.drawn")
    assert page.locator("[data-value=sourced_revenue]").inner_text() == "11,000.00 USD"
    assert "Harbour" not in page.content() and "Alpha" not in page.content()
