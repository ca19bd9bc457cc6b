"""The evaluation pages in a real browser: the ranking with its grades and trend chart, the street
map shaded by grade, and the cases behind a count adding up to it; a department's view."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import SCREENSHOTS, shot


def period_with_cases() -> str:
    """This month once a week of it has passed; else the last seven days (the demo simulates a week)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the demo city's zone
    if today.day >= 7:
        return f"{today:%Y-%m}"
    return f"{today - timedelta(days=6)}..{today}"


def test_the_ranking_map_and_explain(new_page):
    page = new_page("leader")
    page.goto(f"/evaluation/?tab=departments&period={period_with_cases()}")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-tab=departments][aria-current=page]").count() == 1
    ranked = page.locator("table.ev-table tbody tr .ev-grade")
    assert ranked.count() >= 3
    page.wait_for_function("document.querySelector('#ev-trend canvas') !== null")
    page.wait_for_timeout(800)  # the chart's entry animation
    shot(page, "evaluation-ranking", full_page=False)

    page.click("[data-tab=streets]")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelector('#ev-map[data-ready]') !== null")
    shaded = page.locator("#ev-map path.leaflet-interactive")
    assert shaded.count() >= 20  # the demo city's 24 streets
    fills = {shaded.nth(i).get_attribute("fill") for i in range(shaded.count())}
    assert fills & {"#1f9d55", "#68a83a", "#d69e2e", "#dd6b20", "#d64545"}
    page.locator(".ev-visuals").scroll_into_view_if_needed()
    page.locator(".ev-map-card").screenshot(path=str(SCREENSHOTS / "evaluation-map.png"))

    page.click("[data-tab=departments]")
    page.wait_for_load_state("networkidle")
    link = page.locator("table.ev-table td[data-key=due] a").filter(has_text=re.compile(r"^[1-9]\d*$")).first
    number = int(link.inner_text())
    link.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-adds-up=true]").count() == 1
    assert int(page.locator("[data-total]").inner_text()) == number
    counts = [int(c) for c in page.locator("td[data-count]").all_inner_texts()]
    assert sum(counts) == number
    shot(page, "evaluation-explain", full_page=False)


def test_a_department_reads_the_ranking_and_its_appeals(new_page):
    page = new_page("dept-D0101")
    page.goto("/evaluation/")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.ev-table tbody tr").count() >= 10
    assert page.locator("[data-tab]").count() == 1
    page.click(".ev-subnav >> text=申诉核减")
    page.wait_for_load_state("networkidle")
    assert page.locator("form textarea[name=reason]").count() == 1


def test_a_bad_period_shows_its_message(new_page):
    page = new_page("evaluator")
    response = page.goto("/evaluation/?period=2026-13")
    assert response.status == 422
    assert "无效的月份" in page.locator("[data-error]").inner_text()
