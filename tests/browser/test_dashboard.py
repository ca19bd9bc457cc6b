"""The leader dashboard in a real browser: tiles, ECharts charts, the hot-spot map, and supervising a
red case from the list.

The red case is the test's own: an urgent road collapse (an emergency: its handling limit counts
natural time) reported, registered and dispatched through the API with a deadline a minute away,
as soon as the browser tests start (`soon_red` in conftest.py); this module supervises it last,
when it has turned red.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.browser.conftest import SCREENSHOTS, shot

CHART_IDS = ["chart-trend", "chart-classes", "chart-sources", "chart-streets"]


def painted_pixels(page, chart_id: str) -> int:
    """Pixels an ECharts canvas has drawn on (0 for a blank or missing canvas)."""
    return page.evaluate("""(id) => {
        const canvas = document.querySelector('#' + id + ' canvas');
        if (!canvas) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted;
    }""", chart_id)


def test_it_shows_the_city_at_a_glance_with_charts(new_page, soon_red):
    page = new_page("leader")
    assert page.url.endswith("/dashboard/")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "领导驾驶舱"
    month = page.locator('[data-kpi="reported"] a[data-period="month"] b').inner_text()
    assert int(month) > 0
    assert page.locator('[data-kpi="reported"] a[data-period="month"]').get_attribute("href").startswith(
        "/center/?queue=all&created_after=")
    assert page.locator('[data-kpi="overdue"]').get_attribute("href") == "/center/?state=open&light=red"
    for chart_id in CHART_IDS:
        page.wait_for_function("(id) => document.querySelector('#' + id + ' canvas') !== null", arg=chart_id)
    page.wait_for_timeout(900)  # let the charts finish their entry animation
    for chart_id in CHART_IDS:
        assert painted_pixels(page, chart_id) > 2000, chart_id
    # the hot spots: ten grids in the table, and as many shaded polygons on the map
    rows = page.locator(".dash-hot-table tbody tr[data-grid]")
    assert rows.count() == 10
    page.wait_for_function("document.querySelectorAll('#hot-map path.leaflet-interactive').length >= 10")
    shot(page, "dashboard", full_page=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".dash-charts").screenshot(path=str(SCREENSHOTS / "dashboard-charts.png"))
    page.locator(".dash-hot").screenshot(path=str(SCREENSHOTS / "dashboard-hotspots.png"))


def test_it_opens_the_cases_behind_a_grid(new_page):
    page = new_page("leader")
    first = page.locator(".dash-hot-table tbody tr[data-grid]").first
    grid, count = first.get_attribute("data-grid"), int(first.locator("td.num a").first.inner_text())
    first.locator("td.num a").first.click()
    page.wait_for_load_state("networkidle")
    assert f"grid={grid}" in page.url
    assert page.locator("table.list tbody tr[data-case]").count() == count


def test_it_fits_a_phone(new_page):
    page = new_page("leader", phone=True)
    page.goto("/dashboard/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert painted_pixels(page, "chart-trend") > 1000


def test_it_supervises_a_red_case_from_the_list(new_page, soon_red):
    wait = (soon_red["due_at"] - datetime.now(UTC)).total_seconds() + 2
    if wait > 0:
        time.sleep(wait)
    number = soon_red["number"]
    page = new_page("leader")
    page.goto("/dashboard/?red=recent#chase")
    row = page.locator(f'table[data-list="red"] tr[data-case="{number}"]')
    assert row.count() == 1
    assert "路面塌陷" in row.inner_text()
    assert row.locator(".light-red").count() == 1
    assert row.locator("[data-supervised]").count() == 0
    row.locator("summary").click()
    row.locator("input[name=note]").fill("请立即设置围挡，今日内抢修完毕并反馈")
    shot(page, "dashboard-supervise", full_page=False)
    row.locator("button.danger").click()
    page.wait_for_url(f"**/dashboard/?red=recent&done={number}#chase")
    page.wait_for_load_state("networkidle")
    assert f"已督办：{number}" in page.locator(".messages").inner_text()
    row = page.locator(f'table[data-list="red"] tr[data-case="{number}"]')
    assert row.locator("[data-supervised]").count() == 1
    assert row.locator("summary").inner_text() == "再次督办"
    watched = page.locator(f'table[data-list="supervised"] tr[data-case="{number}"]')
    assert "请立即设置围挡" in watched.inner_text()
    assert int(page.locator('[data-kpi="supervised"] .dash-big').inner_text()) >= 1
