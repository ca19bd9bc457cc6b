"""The department inbox in a real browser: 环卫处 signs, asks for more time, reports the fix with photos."""

from __future__ import annotations

import io
import json
import re
import urllib.request

from openpyxl import load_workbook
from PIL import Image

from tests.browser.conftest import PASSWORD, shot


def call(server: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(server + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def upload(server: str, number: str, data: bytes, token: str) -> None:
    """A report photo through the API (multipart `file` and `stage`)."""
    boundary = "----chengguan-test-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"stage\"\r\n\r\nreport\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"before.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{server}/api/v1/cases/{number}/attachments", data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status in {200, 201}


def token(server: str, username: str) -> str:
    return call(server, "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]


def dispatched_case(server: str, description: str, note: str) -> str:
    """A case reported by an inspector, registered by the call-taker and dispatched to 环卫处, through the API."""
    inspector = token(server, "inspector")
    community = call(server, "GET", "/api/v1/geo/regions?level=community", token=inspector)["features"][0]
    grid = call(server, "GET", f"/api/v1/geo/grids?community={community['properties']['code']}&limit=1",
                token=inspector)["features"][0]
    lon, lat = grid["properties"]["center"]
    case = call(server, "POST", "/api/v1/cases", {"class_code": "E0102", "lon": lon, "lat": lat,
                                                  "address": "富春路 18 号东侧", "description": description},
                token=inspector)
    upload(server, case["number"], jpeg((150, 120, 90)), inspector)
    case = call(server, "GET", f"/api/v1/cases/{case['number']}", token=inspector)
    case = call(server, "POST", f"/api/v1/cases/{case['number']}/actions/register", {"version": case["version"]},
                token=token(server, "operator"))
    case = call(server, "POST", f"/api/v1/cases/{case['number']}/actions/dispatch",
                {"version": case["version"], "department": "D0101", "note": note},
                token=token(server, "dispatcher"))
    assert case["state"] == "dispatched" and case["department"] == "D0101"
    return case["number"]


def jpeg(color=(40, 160, 90)) -> bytes:
    """A small generated photo: a coloured ground with a row of light blocks."""
    out = io.BytesIO()
    image = Image.new("RGB", (320, 240), color)
    for x in range(0, 320, 40):
        image.paste((240, 240, 240), (x, 100, x + 20, 140))
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_it_signs_asks_for_time_and_reports_the_fix(new_page, server):
    number = dispatched_case(server, "人行道上堆放生活垃圾约两立方", "请今天下班前清运完毕")
    page = new_page("dept-D0101")

    page.goto("/inbox/")
    assert page.locator(".inbox-dept").inner_text() == "区环境卫生管理处"
    assert page.locator("#figures-title").inner_text() == "本月考评"
    page.click('.inbox-tabs a[data-tab="dispatched"]')
    page.wait_for_selector('.inbox-tabs a[data-tab="dispatched"].active')
    page.wait_for_url(re.compile(r"/inbox/\?tab=dispatched$"))  # the tab is in the address, for back and reload
    row = page.locator(f'tr[data-case="{number}"]')
    assert "待签收" in row.inner_text()
    page.fill("#inbox-search input[name=q]", number)
    page.wait_for_function("document.querySelectorAll('#inbox-list tbody tr').length === 1")

    page.goto(f"/inbox/cases/{number}/")
    assert page.locator(".task-head [data-state]").get_attribute("data-state") == "dispatched"
    assert "请今天下班前清运完毕" in page.locator(".deadline .note").inner_text()
    page.wait_for_function("[...document.querySelectorAll('.photos img')].some(i => i.naturalWidth > 0)")
    page.click(".photos a.photo")  # the report photo opens large
    page.wait_for_function("document.querySelector('#photo-view').open && "
                           "document.querySelector('#photo-view img').naturalWidth > 0")
    page.click("#photo-view .close")
    page.wait_for_selector("#task-map path.leaflet-interactive")  # the grid drawn around the point, no tiles needed
    page.click("form.act-sign button[type=submit]")
    page.locator(".messages .success", has_text=f"已签收：{number}").wait_for()
    assert page.locator(".task-head [data-state]").get_attribute("data-state") == "handling"

    page.click("details.act-more >> text=申请延期")
    page.select_option("form.act-extension select[name=minutes]", "450")
    page.fill("form.act-extension textarea[name=reason]", "垃圾量大，需调用压缩车")
    page.click("form.act-extension button[type=submit]")
    page.locator(".messages .success", has_text=f"已申请延期：{number}").wait_for()
    pending = page.locator(".request[data-request=extension]")
    assert pending.get_attribute("data-approved") == "pending"
    assert "待审批" in pending.inner_text() and "垃圾量大，需调用压缩车" in pending.inner_text()
    assert page.locator("form.act-extension").count() == 0  # one pending request at a time

    form = page.locator("form.act-feedback")
    form.locator("button[type=submit]").click()  # no result yet: the browser holds the form back
    assert page.locator(".task-head [data-state]").get_attribute("data-state") == "handling"
    form.locator("textarea[name=result]").fill("已清运生活垃圾约两立方，路面已冲洗")
    form.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "after-1.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    form.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "after-2.jpg", "mimeType": "image/jpeg", "buffer": jpeg((30, 90, 170))}])
    previews = form.locator(".previews li.preview img")
    previews.nth(1).wait_for()
    assert previews.count() == 2  # a second shot adds to the first
    assert page.evaluate("document.querySelector('form.act-feedback input[type=file]').files.length") == 2
    shot(page, "inbox-task")
    form.locator(".preview .remove").nth(1).click()
    assert form.locator(".previews li.preview").count() == 1
    form.locator("button[type=submit]").click()
    page.locator(".messages .success", has_text=f"已处置反馈：{number}").wait_for()
    assert page.locator(".task-head [data-state]").get_attribute("data-state") in {"handled", "checking"}
    assert page.locator("form.act-feedback").count() == 0
    photo = page.locator(".handle-photos img")
    assert photo.count() == 1
    photo.first.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('.handle-photos img').naturalWidth > 0")
    history = page.locator(".history li").all_inner_texts()
    assert any("处置反馈" in item and "已清运生活垃圾约两立方" in item for item in history)
    assert any("申请延期" in item and "1 个工作日" in item for item in history)

    page.goto("/inbox/?tab=awaiting")
    assert page.locator(f'tr[data-case="{number}"]').count() == 1


def test_it_refuses_a_feedback_without_a_result_and_keeps_the_photos(new_page, server):
    number = dispatched_case(server, "垃圾桶满溢", "")
    page = new_page("dept-D0101")
    page.goto(f"/inbox/cases/{number}/")
    page.click("form.act-sign button[type=submit]")
    page.wait_for_selector(".messages .success")
    form = page.locator("form.act-feedback")
    form.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    form.locator("textarea[name=result]").fill("   ")  # only spaces: the browser lets it go, the server refuses
    form.locator("button[type=submit]").click()
    alert = form.locator(".form-error [role=alert]")
    alert.wait_for()
    assert "result" in alert.inner_text()
    assert form.locator(".previews li.preview").count() == 1  # nothing lost: fix the text and send again
    assert page.locator(".task-head [data-state]").get_attribute("data-state") == "handling"


def test_it_orders_a_busy_inbox_by_deadline_and_exports_it(new_page, server):
    page = new_page("dept-J001")  # the street office: the demo city's busiest department
    page.goto("/inbox/")
    rows = page.locator("#inbox-list tbody tr")
    assert rows.count() > 10
    deadlines = page.locator("#inbox-list td.c-due").all_inner_texts()
    assert deadlines == sorted(deadlines)  # soonest (or most overdue) first
    chips = {key: int(page.locator(f".chip[data-light={key}] b").inner_text()) for key in ("red", "yellow", "green")}
    assert sum(chips.values()) > 0
    shot(page, "inbox", full_page=False)

    with page.expect_download() as download:
        page.click("a.export")
    with open(download.value.path(), "rb") as file:
        book = load_workbook(io.BytesIO(file.read()))
    exported = [r[0] for r in book.active.iter_rows(min_row=4, values_only=True)]
    assert download.value.suggested_filename.endswith(".xlsx")
    assert len(exported) == int(page.locator('.inbox-tabs a[data-tab="open"] .count').inner_text())

    if chips["red"]:
        page.click(".chip[data-light=red]")
        page.wait_for_selector(".chip[data-light=red].on")
        assert page.locator("#inbox-list tbody tr").count() == min(chips["red"], 50)
        assert page.locator("#inbox-list tbody .light-red").count() == page.locator("#inbox-list tbody tr").count()


def test_it_fits_a_phone(new_page, server):
    page = new_page("dept-J001", phone=True)
    page.goto("/inbox/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("thead").is_hidden()  # rows become cards
    shot(page, "inbox-phone", full_page=False)

    number = dispatched_case(server, "路边散落垃圾", "")
    page = new_page("dept-D0101", phone=True)
    page.goto("/inbox/")
    page.locator(f'tr[data-case="{number}"] .c-class').click()  # a tap anywhere on the card opens the task
    page.wait_for_url(re.compile(rf"/inbox/cases/{number}/$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sign = page.locator("form.act-sign button[type=submit]")
    assert sign.is_visible() and sign.bounding_box()["y"] < 844  # the first thing to do is on the first screen
    shot(page, "inbox-task-phone", full_page=False)


def test_it_brings_new_tasks_in_without_a_reload(new_page, server):
    page = new_page("dept-D0101")
    page.goto("/inbox/?tab=dispatched")
    page.evaluate("window.notReloaded = true")
    number = dispatched_case(server, "果皮箱周边散落垃圾", "")
    page.evaluate("document.dispatchEvent(new CustomEvent('inbox-seen'))")  # as when the tab is looked at again
    page.wait_for_selector(f'tr[data-case="{number}"].new')  # flashes once, so the eye finds it
    assert page.evaluate("window.notReloaded") is True
    assert re.match(r"^\(\d+\) 待办任务", page.title())
