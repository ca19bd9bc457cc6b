"""The four ones (四个一) in a real browser: the index, the daily bulletin with its charts, and the
PDF download rasterised for the docs (docs/bulletins.md)."""

from __future__ import annotations

import shutil
import subprocess

from tests.browser.conftest import SCREENSHOTS, shot


def test_a_leader_opens_the_daily_bulletin_and_downloads_its_pdf(new_page, tmp_path):
    page = new_page("leader")
    page.goto("/bulletins/")
    assert page.locator("[data-kind]").count() == 4
    shot(page, "bulletins-index", full_page=False)
    page.click("[data-kind=daily] a.button.primary")
    page.wait_for_selector("[data-bulletin-chart] canvas")
    assert "每日通报" in page.locator("h1").inner_text()
    page.wait_for_timeout(600)  # the charts' entry animation
    shot(page, "bulletin-daily")

    pdf_href = page.locator("[data-download=pdf]").get_attribute("href")
    response = page.request.get(pdf_href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    source = tmp_path / "daily.pdf"
    source.write_bytes(response.body())
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is required: apt install poppler-utils"
    subprocess.run([pdftoppm, "-r", "80", "-f", "1", "-l", "1", "-png", "-singlefile", str(source),
                    str(SCREENSHOTS / "bulletin-daily-pdf")], check=True)
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-l", "1", str(source), "-"], check=True,
                          capture_output=True).stdout.decode()
    assert "每日通报" in text

    page.goto("/bulletins/supervision/")
    page.wait_for_selector("h1")
    shot(page, "bulletin-supervision", full_page=False)
