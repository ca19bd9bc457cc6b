"""The command center's map in a real browser: the city's layers, cases and clusters from the server,
switching layers, a case's popup, the heat by grid, phone width, and the administrator's grid check."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, shot

CORE = "119.94,30.05,119.96,30.07"  # the core of 富春街道, patrolled by the demo inspector


def api_token(page, username: str) -> str:
    response = page.request.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.ok, response.text()
    return response.json()["token"]


def report_cases(page, count: int = 1, *, grid_index: int = 0, address: str = "地图测试点") -> tuple[dict, list[dict]]:
    """Report `count` cases at the centre of one grid of the core, as the demo inspector, through the API."""
    headers = {"Authorization": f"Bearer {api_token(page, 'inspector')}"}
    grids = page.request.get(f"/api/v1/geo/grids?bbox={CORE}", headers=headers).json()["features"]
    grid = grids[grid_index]["properties"]
    lon, lat = grid["center"]
    cases = []
    for i in range(count):
        response = page.request.post(
            "/api/v1/cases",
            headers=headers,
            data={
                "class_code": "E0102",
                "lon": lon,
                "lat": lat,
                "address": f"{address} {i + 1}",
                "description": "地图测试",
            },
        )
        assert response.status == 201, response.text()
        cases.append(response.json())
    return grid, cases


def wait_for_cases(page) -> None:
    page.wait_for_selector(".leaflet-marker-icon.cg-case, .leaflet-marker-icon.marker-cluster")
    page.wait_for_selector("#cg-status[data-total]")


def test_it_draws_the_city_its_cases_and_clusters(new_page):
    page = new_page("operator")
    report_cases(page, 2, grid_index=3)
    page.goto("/center/map/")
    for level in ("district", "street", "community"):  # three requests, answered in any order
        page.wait_for_selector(f"path.cg-{level}", state="attached")
    assert page.locator("path.cg-district").count() >= 1
    assert page.locator("path.cg-street").count() >= 20
    assert page.locator("path.cg-community").count() >= 300
    wait_for_cases(page)
    assert page.locator(".leaflet-marker-icon.marker-cluster").count() >= 1  # the whole city: clustered
    assert int(page.get_attribute("#cg-status", "data-total")) >= 2
    assert page.locator(".cg-legend").is_visible()
    assert page.locator("path.cg-grid").count() == 0  # unit grids wait for a closer zoom
    shot(page, "map-cases", full_page=False)

    zoom = page.evaluate("cgMapPage.map.getZoom()")
    page.locator(".leaflet-marker-icon.marker-cluster").last.click()
    page.wait_for_function(f"cgMapPage.map.getZoom() > {zoom}")
    assert "view=" in page.url


def test_it_hides_and_shows_layers(new_page):
    page = new_page("dispatcher")
    report_cases(page, 1, grid_index=5)
    page.goto("/center/map/")
    page.wait_for_selector("path.cg-district")
    wait_for_cases(page)
    page.uncheck("[data-layer=districts]")
    assert page.locator("path.cg-district").count() == 0
    page.uncheck("[data-layer=cases]")
    assert page.locator(".leaflet-marker-icon.cg-case, .leaflet-marker-icon.marker-cluster").count() == 0
    assert "layers=streets%2Ccommunities%2Cgrids" in page.url or "layers=streets,communities,grids" in page.url
    page.check("[data-layer=districts]")
    page.wait_for_selector("path.cg-district")
    page.check("[data-layer=cases]")
    wait_for_cases(page)
    # The layers chosen survive a reload, from the URL.
    page.uncheck("[data-layer=communities]")
    page.reload()
    page.wait_for_selector("path.cg-district")
    assert not page.is_checked("[data-layer=communities]")
    assert page.locator("path.cg-community").count() == 0


def test_it_opens_a_case_from_its_popup(new_page):
    page = new_page("operator")
    _, [case] = report_cases(page, 1, grid_index=7, address="弹窗测试")
    page.goto(f"/center/map/?view=18/{case['lat']}/{case['lon']}")
    wait_for_cases(page)
    marker = page.locator(f".leaflet-marker-icon.cg-case[title^='{case['number']}']")
    marker.dispatch_event("click")
    popup = page.locator(".leaflet-popup .cg-case-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert case["number"] in text
    assert "暴露垃圾" in text and "弹窗测试 1" in text and "已上报" in text
    link = popup.locator("a.cg-popup-open")
    assert link.get_attribute("href") == f"/center/cases/{case['number']}/"
    link.click()
    page.wait_for_url(f"**/center/cases/{case['number']}/")
    # Zoomed in this far the unit grids are drawn too.
    page.go_back()
    page.wait_for_selector("path.cg-grid", state="attached")


def test_it_filters_like_the_board_and_keeps_it_in_the_url(new_page):
    page = new_page("shiftlead")
    report_cases(page, 1, grid_index=2)
    page.goto("/center/map/")
    wait_for_cases(page)
    everything = int(page.get_attribute("#cg-status", "data-total"))
    page.select_option("select[name=light]", "green")
    page.wait_for_function(f"Number(document.querySelector('#cg-status').dataset.total || 0) < {everything}")
    assert "light=green" in page.url
    page.reload()
    assert page.locator("select[name=light]").input_value() == "green"
    board = page.get_attribute("#cg-board-link", "href")
    assert board.startswith("/center/?") and "light=green" in board


def test_it_shows_the_heat_by_grid(new_page):
    page = new_page("leader")
    grid, _ = report_cases(page, 3, grid_index=4)
    page.goto(
        "/center/map/?state=&period=30&layers=districts,streets,communities,grids,heat&days=30&view=13/30.058/119.952"
    )
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    page.wait_for_selector("#cg-hotlist li")
    assert page.locator("#cg-hot").is_visible()
    assert page.locator(".cg-legend-heat").is_visible()
    heat = page.evaluate("fetch('/center/map/heat.json?days=1').then(r => r.json())")
    assert {g["code"]: g["count"] for g in heat["grids"]}[grid["code"]] >= 3
    page.wait_for_timeout(300)  # the heat canvas draws on the next frame
    shot(page, "map-heat", full_page=False)
    # Close in, the grids themselves are shaded by their counts.
    page.locator(".cg-hot-grid").first.click()
    page.wait_for_selector("path.cg-grid", state="attached")
    shaded = page.evaluate(
        "Array.from(document.querySelectorAll('path.cg-grid')).filter(p => p.getAttribute('fill-opacity') > 0).length"
    )
    assert shaded >= 1


def test_it_fits_a_phone(new_page):
    page = new_page("dispatcher", phone=True)
    page.goto("/center/map/")
    page.wait_for_selector("path.cg-district")
    wait_for_cases(page)
    box = page.locator("#cg-map").bounding_box()
    assert box["height"] > 550 and box["width"] >= 380
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    panel = page.locator("#cg-panel")
    assert panel.bounding_box()["x"] < 0  # tucked away
    page.click(".cg-panel-open")
    page.wait_for_function("document.getElementById('cg-panel').getBoundingClientRect().x >= 0")
    page.select_option("select[name=state]", "")
    page.click(".cg-panel-close")
    page.wait_for_function("document.getElementById('cg-panel').getBoundingClientRect().right <= 0")
    assert "state=&" in page.url or page.url.endswith("state=")
    shot(page, "map-phone", full_page=False)


def test_it_speaks_english(new_page):
    page = new_page("operator", language="en-US")
    page.goto("/center/map/")
    wait_for_cases(page)
    assert page.locator("h1").inner_text() == "Case map"
    assert "Red: overdue" in page.locator(".cg-legend").inner_text()
    assert "In view" in page.locator("#cg-status").inner_text()


def test_it_checks_the_grids_for_the_administrator(new_page):
    page = new_page("admin")
    page.goto("/center/map/")
    page.click("text=网格核查")
    page.wait_for_url("**/center/map/grids/")
    page.select_option("#cg-street", "330111001")
    page.wait_for_url("**street=330111001**")
    page.wait_for_selector("path.cg-grid-check")
    assert page.locator("path.cg-grid-check").count() > 100
    assert page.locator("path.cg-community-boundary").count() > 10
    rows = page.locator("tr[data-grid-code]")
    code = rows.first.get_attribute("data-grid-code")
    page.locator("details summary").click()
    rows.first.click()
    tip = page.locator(".leaflet-tooltip", has_text=code)
    tip.wait_for()
    assert "m²" in tip.inner_text()
    # For the guide: the whole street, and the label a grid shows under the pointer.
    page.goto("/center/map/grids/?street=330111001&community=330111001003")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_selector("path.cg-grid-check")
    box = page.locator("#cg-gridcheck-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(300)
    shot(page, "admin-grids", full_page=False)


def test_it_keeps_the_grid_check_from_other_roles(new_page):
    page = new_page("operator")
    response = page.goto("/center/map/grids/")
    assert response.status == 403
    page.goto("/center/map/")
    assert page.locator("text=网格核查").count() == 0
