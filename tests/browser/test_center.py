"""The command center in a real browser: a case round the loop across the roles, each role's buttons,
the keyboard, the live refresh, the printable sheet and the board at phone width."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, shot

FUCHUN = "330111001"  # 富春街道, the core of the demo city


class Api:
    """The native API as one demo account (bearer token), for the steps other rooms own."""

    def __init__(self, browser, server: str, username: str):
        self.context = browser.new_context(base_url=server)
        self.request = self.context.request
        response = self.request.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert response.ok, response.text()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str) -> dict:
        response = self.request.get(path, headers=self.headers)
        assert response.ok, response.text()
        return response.json()

    def post(self, path: str, **kwargs) -> dict:
        response = self.request.post(path, headers=self.headers, **kwargs)
        assert response.ok, f"{path}: {response.status} {response.text()}"
        return response.json()

    def act(self, number: str, operation: str, **fields) -> dict:
        version = self.get(f"/api/v1/cases/{number}")["version"]
        return self.post(f"/api/v1/cases/{number}/actions/{operation}", data={"version": version, **fields})

    def photo(self, number: str, stage: str, colour: tuple[int, int, int]) -> int:
        out = io.BytesIO()
        image = Image.new("RGB", (640, 480), colour)
        for x in range(0, 640, 80):  # a little texture, so before and after tell apart at a glance
            image.paste((255, 255, 255), (x, 200, x + 40, 280))
        image.save(out, format="JPEG")
        found = self.post(f"/api/v1/cases/{number}/attachments", multipart={
            "file": {"name": f"{stage}.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()},
            "stage": stage,
        })
        return found["id"]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def api(browser, server):
    opened: list[Api] = []

    def open_api(username: str) -> Api:
        opened.append(Api(browser, server, username))
        return opened[-1]

    yield open_api
    for one in opened:
        one.close()


def a_point_in_fuchun(inspector: Api) -> tuple[float, float]:
    """The centre of a random unit grid of 富春街道 (random, so tests do not see each other's duplicates)."""
    streets = inspector.get("/api/v1/geo/regions?level=street")["features"]
    street = next(f for f in streets if f["properties"]["code"] == FUCHUN)
    ring = street["geometry"]["coordinates"][0]
    if isinstance(ring[0][0], list):  # a MultiPolygon
        ring = ring[0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    bbox = f"{min(lons)},{min(lats)},{max(lons)},{max(lats)}"
    grids = inspector.get(f"/api/v1/geo/grids?bbox={bbox}&limit=2000")["features"]
    mine = [g for g in grids if g["properties"]["street_code"] == FUCHUN]
    lon, lat = random.choice(mine)["properties"]["center"]
    return lon, lat


def report(inspector: Api, *, class_code: str = "C0101", description: str = "上水井盖破损，有行人绊倒风险") -> dict:
    lon, lat = a_point_in_fuchun(inspector)
    return inspector.post("/api/v1/cases", data={
        "class_code": class_code, "lon": lon, "lat": lat, "description": description,
        "address": "体育馆路 12 号门前",
    })


def op_buttons(page) -> set[str]:
    return set(page.locator("#cc-actions [data-op]").evaluate_all("els => els.map(e => e.dataset.op)"))


def test_it_walks_a_case_round_the_loop_across_the_roles(new_page, api):
    inspector = api("inspector")
    case = report(inspector)
    number = case["number"]
    inspector.photo(number, "report", (150, 60, 40))

    # The call-taker finds it on the board by keyboard and registers it from the case page.
    operator = new_page("operator")
    operator.goto("/center/")
    expect(operator.locator(f'tr[data-number="{number}"]')).to_be_visible()
    operator.keyboard.press("/")
    expect(operator.locator("#cc-q")).to_be_focused()
    operator.keyboard.type(number)
    operator.keyboard.press("Enter")
    operator.wait_for_url(re.compile(rf"q={number}"))
    expect(operator.locator("tbody tr[data-number]")).to_have_count(1)
    operator.keyboard.press("j")
    expect(operator.locator(f'tr[data-number="{number}"]')).to_have_class(re.compile("selected"))
    operator.keyboard.press("Enter")
    operator.wait_for_url(f"**/center/cases/{number}/")
    assert {"register", "reject", "amend", "merge", "follow_up"} <= op_buttons(operator)
    assert not op_buttons(operator) & {"dispatch", "close", "cancel", "supervise"}
    operator.click("#cc-actions button[data-op=register]")
    expect(operator.locator(".messages .success")).to_contain_text(f"已立案：{number}")
    expect(operator.locator(".cc-case-head .state")).to_have_text("待派遣")
    assert "register" not in op_buttons(operator) and "dispatch" not in op_buttons(operator)

    # The dispatcher sends it with one click to the department the responsibility matrix suggests.
    suggested = inspector.get(f"/api/v1/cases/{number}")["suggested_department"]
    departments = {d["code"]: d["name"] for d in inspector.get("/api/v1/catalog/departments")}
    dispatcher = new_page("dispatcher")
    dispatcher.goto(f"/center/cases/{number}/")
    assert "register" not in op_buttons(dispatcher)
    button = dispatcher.locator("#cc-dispatch-suggested")
    expect(button).to_have_text(f"派遣至 {departments[suggested]}")
    shot(dispatcher, "center-dispatch")
    button.click()
    expect(dispatcher.locator(".cc-case-head .state")).to_have_text("待签收")
    expect(dispatcher.locator(".cc-timeline")).to_contain_text(departments[suggested])
    assert "dispatch" not in op_buttons(dispatcher)

    # The department signs and reports back with a photo; the grid's inspector checks it.
    department = api(f"dept-{suggested}")
    department.act(number, "sign")
    after = department.photo(number, "handle", (40, 130, 70))
    department.act(number, "feedback", result="已更换井盖并恢复路面", attachments=[after])
    checking = inspector.get(f"/api/v1/cases/{number}")
    assert checking["state"] == "checking"
    checker = next((c["assignee"] for c in checking["clocks"] if c["stage"] == "check"), None) or "inspector"
    api(checker).act(number, "check", fixed=True, note="现场核查已修复")

    # The call-taker closes it on the page, with before and after photos side by side.
    operator.goto(f"/center/cases/{number}/")
    expect(operator.locator(".cc-case-head .state")).to_have_text("待结案")
    expect(operator.locator(".cc-before-after figure").first.locator("img")).to_have_count(1)
    expect(operator.locator(".cc-before-after figure").nth(1).locator("img")).to_have_count(1)
    operator.wait_for_load_state("networkidle")
    shot(operator, "center-case")
    operator.click("#cc-actions button[data-op=close]")
    expect(operator.locator(".cc-case-head .state")).to_have_text("已结案")
    assert inspector.get(f"/api/v1/cases/{number}")["state"] == "closed"
    for step in ("上报", "立案", "派遣", "签收", "处置反馈", "核查", "结案"):
        expect(operator.locator(".cc-timeline")).to_contain_text(step)

    # The printable sheet: one A4 page with facts, photos and the timeline; the shell stays off paper.
    operator.click("#cc-print")
    operator.wait_for_url(f"**/center/cases/{number}/print/")
    expect(operator.locator(".cc-sheet")).to_contain_text(number)
    expect(operator.locator(".cc-sheet-photos img")).to_have_count(2)
    expect(operator.locator("#cc-print-now")).to_have_text("打印")
    operator.wait_for_load_state("networkidle")
    shot(operator, "center-print")
    pdf = operator.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # the whole loop on one sheet of paper
    operator.emulate_media(media="print")
    expect(operator.locator(".topbar")).to_be_hidden()
    expect(operator.locator("#cc-print-now")).to_be_hidden()
    sheet = operator.locator(".cc-sheet").bounding_box()
    assert 600 < sheet["width"] <= 190 / 25.4 * 96 + 1  # no wider than A4 less its margins


def test_it_shows_a_leader_only_supervision(new_page, api):
    case = report(api("inspector"))
    leader = new_page("leader")
    leader.goto(f"/center/cases/{case['number']}/")
    assert op_buttons(leader) == {"supervise", "follow_up"}
    leader.fill("#cc-actions form[data-operation=supervise] textarea[name=note]", "请今天内处理")
    leader.click("#cc-actions button[data-op=supervise]")
    expect(leader.locator(".cc-case-head .tag.supervised")).to_be_visible()


def test_it_shows_a_refusal_inside_the_form(new_page, api):
    case = report(api("inspector"))
    operator = new_page("operator")
    operator.goto(f"/center/cases/{case['number']}/")
    operator.on("dialog", lambda dialog: dialog.accept())  # "确定要不予立案吗？"
    operator.locator(".cc-more-ops summary").click()
    form = operator.locator("#cc-actions form[data-operation=reject]")
    form.locator("textarea[name=reason]").evaluate("e => e.removeAttribute('required')")
    form.locator("button[data-op=reject]").click()
    expect(form.locator(".cc-op-error [role=alert]")).to_contain_text("reason")
    expect(operator.locator(".cc-case-head .state")).to_have_text("已上报")


def test_it_moves_through_the_board_with_the_keyboard(new_page):
    page = new_page("shiftlead")
    page.goto("/center/?queue=open")
    expect(page.locator(".cc-keys kbd").first).to_have_text("j")
    rows = page.locator("tbody tr[data-number]")
    first, second = rows.nth(0).get_attribute("data-number"), rows.nth(1).get_attribute("data-number")
    page.keyboard.press("j")
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_have_class(re.compile("selected"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("selected"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/center/cases/{first}/")
    expect(page.locator("#cc-position")).to_have_text(re.compile(r"^1 / \d+$"))
    page.keyboard.press("]")
    page.wait_for_url(f"**/center/cases/{second}/")
    page.keyboard.press("b")
    page.wait_for_url("**/center/?queue=open")
    expect(page.locator(f'tr[data-number="{second}"]')).to_have_class(re.compile("selected"))


def test_it_refreshes_the_board_and_keeps_the_filter_and_the_selection(new_page, api):
    page = new_page("operator")
    page.goto("/center/?queue=register&source=inspector")
    board = page.locator("#cc-board")
    assert re.match(r"every \d+s", board.get_attribute("hx-trigger"))
    assert 30 <= int(board.get_attribute("data-refresh")) <= 60
    page.keyboard.press("j")
    selected = page.locator("tr.selected").get_attribute("data-number")
    new = report(api("inspector"), class_code="C0102", description="污水井盖缺失")["number"]
    page.keyboard.press("r")
    fresh = page.locator(f'tr[data-number="{new}"]')
    expect(fresh).to_have_class(re.compile("fresh"))
    expect(page.locator(f'tr[data-number="{selected}"]')).to_have_class(re.compile("selected"))
    assert page.url.endswith("/center/?queue=register&source=inspector")
    expect(page.locator("#cc-filters select[name=source]")).to_have_value("inspector")


def test_it_filters_from_the_lists_and_keeps_the_filter_in_the_address(new_page):
    page = new_page("dispatcher")
    page.goto("/center/?queue=open")
    page.select_option("#cc-filters select[name=street]", FUCHUN)
    page.wait_for_url(re.compile(rf"street={FUCHUN}"))
    page.locator(".cc-light-red").click()
    page.wait_for_url(re.compile(r"light=red"))
    assert f"street={FUCHUN}" in page.url
    for cell in page.locator("tbody tr[data-number] .cc-light-cell").all_inner_texts():
        assert "红灯" in cell
    shot(page, "center-board-filtered")


def test_it_shows_the_board_to_the_command_center(new_page):
    page = new_page("shiftlead")
    page.goto("/center/?queue=open")
    expect(page.locator(".cc-tabs a.active")).to_contain_text("在办")
    expect(page.locator("tbody tr[data-number]").first).to_be_visible()
    page.locator("tbody tr[data-number]").nth(2).click(position={"x": 600, "y": 10})
    page.go_back()
    page.keyboard.press("j")
    shot(page, "center-board", full_page=False)


def test_it_fits_the_board_and_the_case_on_a_phone(new_page):
    page = new_page("dispatcher", phone=True)
    page.goto("/center/?queue=open")
    rows = page.locator("tbody tr[data-number]")
    expect(rows.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = rows.first.bounding_box()
    assert box["width"] <= 390 and box["height"] >= 60  # a card per case, big enough for a thumb
    shot(page, "center-board-phone", full_page=False)
    number = rows.first.get_attribute("data-number")
    rows.first.locator(".cc-num a").click()
    page.wait_for_url(f"**/center/cases/{number}/")
    expect(page.locator("#cc-actions")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
