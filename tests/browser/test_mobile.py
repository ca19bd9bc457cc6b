"""城管通 on a phone: report with a photo and a pinyin search, the duplicate warning, a report made
offline and sent once when the signal returns, and verifying a citizen's report from the task list."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import PASSWORD, shot

# Inside the demo city, in the core of 富春街道 that the demo account `inspector` patrols.
FUCHUN = {"longitude": 119.9452, "latitude": 30.0561, "accuracy": 8}


def api(server: str, method: str, path: str, body: dict | None = None, *, token: str | None = None,
        files: dict | None = None):
    """Call the running server's API; return (status, JSON)."""
    headers = {"Accept": "application/json"}
    data = None
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (body or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         "Content-Type: image/jpeg\r\n\r\n".encode() + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def token_for(server: str, username: str) -> str:
    status, body = api(server, "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


def numbers_described(server: str, token: str, text: str) -> list[str]:
    """The numbers of every case whose description holds `text` (through the API's search)."""
    status, body = api(server, "GET", f"/api/v1/cases?q={urllib.parse.quote(text)}&page_size=50", token=token)
    assert status == 200, body
    return [c["number"] for c in body["items"]]


def photo(width: int = 3000, height: int = 2000, colour=(60, 120, 170)) -> bytes:
    """A camera-sized JPEG: a street, a kerb and a heap of rubbish, enough to look like a photo."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 0.55, width, height], fill=(120, 120, 118))
    draw.rectangle([0, height * 0.52, width, height * 0.56], fill=(200, 200, 195))
    draw.ellipse([width * 0.35, height * 0.45, width * 0.65, height * 0.8], fill=(90, 70, 40))
    draw.ellipse([width * 0.45, height * 0.5, width * 0.58, height * 0.66], fill=(200, 60, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def as_file(data: bytes, name: str = "photo.jpg") -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def field_page(new_page, username: str = "inspector", where: dict = FUCHUN):
    page = new_page(username, phone=True, geolocation=where, permissions=["geolocation"])
    page.goto("/m/#report")
    page.wait_for_selector("#m-where.ok")  # the phone's fix, located in a grid
    return page


def tall_shot(page, name: str, height: int = 1500) -> None:
    """A screenshot of a long phone page in one piece, the tab bar where the thumb finds it."""
    page.set_viewport_size({"width": 390, "height": height})
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name, full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})


def fill_report(page, *, search: str, description: str, photos: int = 1) -> None:
    page.set_input_files("#m-photo-input", files=[as_file(photo(), f"p{i}.jpg") for i in range(photos)])
    page.wait_for_function(f"document.querySelectorAll('#m-photos .m-thumb').length === {photos}")
    page.fill("#m-class-q", search)
    page.locator("#m-class-list .m-option").first.click()
    page.fill("#m-description", description)


def wait_sent(page, description: str) -> str:
    """The outbox row for this report turns to 已发送; its case number."""
    row = page.locator("#m-queue-list .m-queue-item", has_text=description[:24])
    row.and_(page.locator("[data-state=sent]")).wait_for(timeout=20_000)
    return row.locator("a").inner_text()


def test_it_reports_a_case_with_a_photo_and_a_pinyin_class_search(new_page, server):
    page = field_page(new_page)
    description = f"人行道上有暴露垃圾 {uuid.uuid4().hex[:6]}"
    page.set_input_files("#m-photo-input", files=[as_file(photo())])
    page.wait_for_selector("#m-photos .m-thumb img")
    page.fill("#m-class-q", "blj")  # pinyin initials of 暴露垃圾, letters skipped
    first = page.locator("#m-class-list .m-option").first
    assert "暴露垃圾" in first.inner_text()
    first.click()
    assert "暴露垃圾" in page.locator("#m-class-chosen").inner_text()
    page.fill("#m-description", description)
    page.fill("#m-address", "富春路与桂花路口东北角")
    tall_shot(page, "mobile-report")
    if page.locator("#m-dup").is_visible():  # the demo city may hold the same problem nearby
        page.click("#m-dup-go")
    else:
        page.click("#m-submit")
    number = wait_sent(page, description)
    assert page.locator("#m-toast").inner_text().endswith(number)
    token = token_for(server, "inspector")
    status, case = api(server, "GET", f"/api/v1/cases/{number}", token=token)
    assert status == 200
    assert (case["description"], case["class_name"], case["source"]) == (description, "暴露垃圾", "inspector")
    assert abs(case["lon"] - FUCHUN["longitude"]) < 1e-6 and abs(case["lat"] - FUCHUN["latitude"]) < 1e-6
    assert [a["stage"] for a in case["attachments"]] == ["report"]
    assert case["attachments"][0]["width"] == 1600  # shrunk on the phone from 3000 px
    # the form is ready for the next report, and the new case heads my recent reports
    assert page.locator("#m-photos .m-thumb").count() == 0 and page.locator("#m-class-q").is_visible()
    page.goto("/m/#mine")
    assert number in page.locator("#m-reports li").first.inner_text()


def test_it_reports_a_self_handled_problem_with_photos_before_and_after(new_page, server):
    page = field_page(new_page, "volunteer", where={"longitude": 119.9512, "latitude": 30.0601, "accuracy": 9})
    description = f"电线杆上的小广告已清除 {uuid.uuid4().hex[:6]}"
    fill_report(page, search="blj", description=description)
    page.check("#m-self")
    assert page.locator("#m-before-label").inner_text() == "处理前照片"
    page.click("#m-submit")
    assert page.locator("#m-report-error").inner_text() == "自处理需要处理后照片"
    page.set_input_files("#m-after-input", files=[as_file(photo(1600, 1200, (150, 170, 190)), "after.jpg")])
    page.wait_for_selector("#m-photos-after .m-thumb img")
    if page.locator("#m-dup").is_visible():
        page.click("#m-dup-go")
    else:
        page.click("#m-submit")
    number = wait_sent(page, description)
    _, case = api(server, "GET", f"/api/v1/cases/{number}", token=token_for(server, "volunteer"))
    assert (case["source"], case["self_handled"], case["state"]) == ("volunteer", True, "reported")
    assert [a["stage"] for a in case["attachments"]] == ["report", "handle"]


def test_it_warns_of_the_same_problem_nearby_before_sending(new_page, server):
    where = {"longitude": 119.9491, "latitude": 30.0553, "accuracy": 6}
    token = token_for(server, "inspector2")
    status, first = api(server, "POST", "/api/v1/cases", {
        "class_code": "E0406", "lon": where["longitude"], "lat": where["latitude"], "description": "路面积水约 20 米",
        "address": "桂花西路 18 号前", "client_uuid": str(uuid.uuid4())}, token=token)
    assert status == 201, first
    page = field_page(new_page, where=where)
    description = f"道路积水 {uuid.uuid4().hex[:6]}"
    fill_report(page, search="dljs", description=description)
    warning = page.locator("#m-dup")
    warning.wait_for()
    assert first["number"] in warning.inner_text() and "约 0 m" in warning.inner_text()
    warning.scroll_into_view_if_needed()
    shot(page, "mobile-duplicate", full_page=False)
    page.click("#m-submit")  # not yet: the inspector must choose first
    assert "附近已有同类案件" in page.locator("#m-report-error").inner_text()
    page.click("text=放弃上报")
    assert page.locator("#m-photos .m-thumb").count() == 0 and not warning.is_visible()
    assert page.locator("#m-queue-list .m-queue-item", has_text=description).count() == 0
    # the same report again, sent anyway: a second case at the spot, linked by nobody but sent
    fill_report(page, search="dljs", description=description)
    page.click("#m-dup-go")
    number = wait_sent(page, description)
    assert number != first["number"]


def test_it_keeps_a_report_made_offline_and_sends_it_once_when_online(new_page, server):
    where = {"longitude": 119.9433, "latitude": 30.0588, "accuracy": 15}
    page = field_page(new_page, where=where)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the worker now controls the page and holds a copy of it
    page.wait_for_selector("#m-where.ok")
    context = page.context
    context.set_offline(True)
    description = f"无照游商占道经营 离线 {uuid.uuid4().hex[:6]}"
    fill_report(page, search="wzjy", description=description, photos=2)
    page.click("#m-submit")
    row = page.locator("#m-queue-list .m-queue-item", has_text=description[:24])
    row.wait_for()
    assert row.get_attribute("data-state") == "waiting"
    assert "待发送 1 条" in page.locator("#m-status").inner_text() and "离线" in page.locator("#m-status").inner_text()
    page.wait_for_selector("#m-toast:not(.show)", state="attached")
    page.locator("#queue").scroll_into_view_if_needed()
    shot(page, "mobile-offline", full_page=False)
    # the page opens without signal (the service worker's copy) and the report is still there
    assert page.reload().from_service_worker
    page.wait_for_selector("#m-queue-list .m-queue-item")
    kept = page.locator("#m-queue-list .m-queue-item", has_text=description[:24])
    assert kept.get_attribute("data-state") == "waiting"
    context.set_offline(False)
    number = wait_sent(page, description)
    token = token_for(server, "inspector")
    assert numbers_described(server, token, description) == [number]
    _, case = api(server, "GET", f"/api/v1/cases/{number}", token=token)
    assert [a["stage"] for a in case["attachments"]] == ["report", "report"]
    assert "待发送" not in page.locator("#m-status").inner_text()


def test_it_sends_a_report_once_when_answers_are_lost_on_the_way(new_page, server):
    where = {"longitude": 119.9418, "latitude": 30.0527, "accuracy": 10}
    # no service worker here, so that the test sees (and cuts) every request of the page
    page = new_page("inspector", phone=True, geolocation=where, permissions=["geolocation"], service_workers="block")
    page.goto("/m/#report")
    page.wait_for_selector("#m-where.ok")
    lost = {"case": 0, "photo": 0}

    def lose_first_answer(kind):
        def handler(route):
            if route.request.method != "POST" or lost[kind]:
                route.continue_()
                return
            lost[kind] += 1
            route.fetch()  # the server takes it ...
            route.abort("connectionreset")  # ... and the phone never hears back

        return handler

    page.route("**/api/v1/cases", lose_first_answer("case"))
    page.route("**/api/v1/cases/*/attachments", lose_first_answer("photo"))
    description = f"井盖破损 应答丢失 {uuid.uuid4().hex[:6]}"
    fill_report(page, search="井盖", description=description, photos=2)
    page.click("#m-submit")
    if page.locator("#m-dup").is_visible():
        page.click("#m-dup-go")
    row = page.locator("#m-queue-list .m-queue-item", has_text=description[:24])
    # A queued report waits before its first try too: wait for the lost answer, then for the wait after it.
    for _ in range(150):
        if lost["case"]:
            break
        page.wait_for_timeout(100)
    row.and_(page.locator("[data-state=waiting]")).wait_for()
    assert lost == {"case": 1, "photo": 0}
    # retried by itself after a short wait; the repeat returns the first case, whose first photo is lost again
    for _ in range(150):
        if lost["photo"]:
            break
        page.wait_for_timeout(100)
    row.and_(page.locator("[data-state=waiting]")).wait_for()
    assert "照片 0/2" in row.inner_text()
    assert lost == {"case": 1, "photo": 1}
    row.locator("text=重试").click()  # the person need not wait for the next try
    number = wait_sent(page, description)
    token = token_for(server, "inspector")
    assert numbers_described(server, token, description) == [number]
    _, case = api(server, "GET", f"/api/v1/cases/{number}", token=token)
    assert [a["stage"] for a in case["attachments"]] == ["report", "report"]  # the lost photo is not sent twice


def test_it_serves_volunteers_in_english_without_tasks(new_page):
    page = new_page("volunteer", phone=True, language="en-US", geolocation=FUCHUN, permissions=["geolocation"])
    page.goto("/m/")
    assert page.locator("#report h1").inner_text() == "Report a problem"
    assert [text.split()[-1] for text in page.locator(".m-tabs a").all_inner_texts()] == ["Report", "Mine"]
    page.fill("#m-class-q", "garbage")
    assert "exposed garbage" in page.locator("#m-class-list .m-option").first.inner_text()
    page.click("#m-submit")
    assert page.locator("#m-report-error").inner_text() == "Take at least one photo"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_it_verifies_a_citizens_report_in_the_inspectors_grid(new_page, server):
    page = new_page("inspector", phone=True, geolocation=FUCHUN, permissions=["geolocation"])
    page.goto("/m/")
    grids = page.evaluate("fetch('/m/grids.json').then(r => r.json())")["features"]
    assert grids, "the demo inspector patrols some grids"
    lon, lat = min((g["properties"]["center"] for g in grids),
                   key=lambda c: abs(c[0] - FUCHUN["longitude"]) + abs(c[1] - FUCHUN["latitude"]))
    status, created = api(server, "POST", "/api/v1/public/cases", {
        "class_code": "E0102", "lon": lon, "lat": lat, "address": "富春街道桂花西路 9 号旁",
        "description": f"小区门口垃圾堆了三天没人清 {uuid.uuid4().hex[:4]}", "client_uuid": str(uuid.uuid4())})
    assert status == 201, created
    number = created["number"]
    status, _ = api(server, "POST", f"/api/v1/cases/{number}/attachments", {"stage": "report"},
                    token=token_for(server, "operator"), files={"file": ("citizen.jpg", photo(1200, 900))})
    assert status == 201
    page.goto("/m/")
    page.wait_for_selector(".m-order:has-text('按距离由近到远')")  # re-sorted from the phone's position
    card = page.locator(f"#task-{number}")
    assert page.locator("[data-stage=verify]").first.get_attribute("data-number") == number
    assert "小区门口垃圾" in card.inner_text() and card.locator("img").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "mobile-tasks", full_page=False)
    card.locator("input[type=file]").set_input_files(files=[as_file(photo(2400, 1800, (90, 140, 90)))])
    card.locator(".m-previews img").wait_for()
    card.locator("input[name=note]").fill("现场确有垃圾堆放，约 2 立方米")
    card.locator("button[name=valid][value=true]").click()
    page.wait_for_selector(f"text=已核实：{number}")
    assert page.locator(f"#task-{number}").count() == 0
    status, case = api(server, "GET", f"/api/v1/cases/{number}", token=token_for(server, "inspector"))
    assert case["state"] == "pending"
    verify = next(e for e in case["events"] if e["operation"] == "verify")
    assert verify["actor"] == "inspector" and verify["note"] == "现场确有垃圾堆放，约 2 立方米"
    assert [a["stage"] for a in case["attachments"]] == ["report", "check"]


@pytest.mark.parametrize("username", ["operator", "dept-D0101"])
def test_it_keeps_other_roles_out(new_page, username):
    page = new_page(username, phone=True)
    response = page.goto("/m/")
    assert response.status == 403
