"""The citizens' portal in a real browser at phone width, as an anonymous citizen: report a problem with
a map pin and a photo, get the number, track it; staff walk it to closure through the API; the citizen
rates it on the page."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid

from PIL import Image, ImageDraw

from tests.browser.conftest import PASSWORD, shot

OUTSIDE = {"latitude": 31.2304, "longitude": 121.4737}  # Shanghai: far outside the demo city


def picture(before: bool) -> bytes:
    """A street corner with a bin: garbage around it before, swept after."""
    img = Image.new("RGB", (640, 480), (186, 208, 229))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 300, 640, 480), fill=(128, 128, 128))
    draw.rectangle((0, 280, 640, 300), fill=(200, 200, 195))
    draw.rectangle((420, 170, 500, 290), fill=(40, 130, 70))
    draw.rectangle((412, 160, 508, 178), fill=(30, 100, 55))
    if before:
        for x, y, r in ((380, 280, 30), (330, 290, 24), (520, 285, 28), (470, 300, 22), (300, 310, 18)):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(35, 35, 40))
        draw.rectangle((250, 300, 290, 320), fill=(210, 180, 120))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()


class Api:
    """Staff through the native API with bearer tokens."""

    def __init__(self, base: str):
        self.base = base
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            body = self.call("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}, token=None)
            self.tokens[username] = body["token"]
        return self.tokens[username]

    def call(self, method: str, path: str, body: dict | None = None, *, token: str | None = None,
             as_user: str | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if as_user:
            token = self.token(as_user)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())

    def upload(self, number: str, data: bytes, *, stage: str, as_user: str) -> dict:
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="stage"\r\n\r\n{stage}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="after.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1/cases/{number}/attachments", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Authorization": f"Bearer {self.token(as_user)}"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())

    def act(self, number: str, operation: str, *, as_user: str, **fields) -> dict:
        case = self.call("GET", f"/api/v1/cases/{number}", as_user="operator")
        return self.call("POST", f"/api/v1/cases/{number}/actions/{operation}",
                         {"version": case["version"], **fields}, as_user=as_user)


def inside_fuchun(api: Api) -> tuple[float, float]:
    """The centre of the grid of the newest case in 富春街道: a point well inside the street.

    A case's own point may lie a metre from a street's edge, closer than a tap on the map can hit.
    """
    near = api.call("GET", "/api/v1/cases?street=330111001&page_size=1", as_user="operator")["items"][0]
    box = f"{near['lon'] - 0.003},{near['lat'] - 0.003},{near['lon'] + 0.003},{near['lat'] + 0.003}"
    grids = api.call("GET", f"/api/v1/geo/grids?bbox={box}", as_user="operator")["features"]
    lon, lat = next(f["properties"]["center"] for f in grids if f["properties"]["code"] == near["grid_code"])
    return lon, lat


def assignee(case: dict, stage: str) -> str:
    running = [c for c in case["clocks"] if c["stage"] == stage and c["ended_at"] is None]
    return (running[-1]["assignee"] if running else None) or "inspector"


def test_it_lets_a_citizen_report_track_and_rate_a_problem(new_page, server):
    api = Api(server)
    lon, lat = inside_fuchun(api)

    page = new_page(phone=True, geolocation=OUTSIDE, permissions=["geolocation"])
    page.goto("/public/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("#report-button")
    page.wait_for_selector(".leaflet-overlay-pane path")  # the district and street boundaries, drawn without tiles

    # "Use my position" from far away: refused before anything is sent.
    page.click("#locate-me")
    page.wait_for_selector("#place-status .error")
    assert "不在本市城市管理网格范围内" in page.inner_text("#place-status")

    # Tap the map where the problem is.
    page.evaluate("([lat, lon]) => window.publicMap.setView([lat, lon], 17, {animate: false})", [lat, lon])
    page.wait_for_timeout(300)
    x, y = page.evaluate("([lat, lon]) => { const p = window.publicMap.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; }", [lat, lon])
    page.locator("#pub-map").tap(position={"x": x, "y": y})
    page.wait_for_selector("#place-status .ok")
    assert "富春街道" in page.inner_text("#place-status")

    page.set_input_files("#photo-files", files=[{"name": "bin.jpg", "mimeType": "image/jpeg",
                                                 "buffer": picture(before=True)}])
    page.wait_for_selector("#photo-list img")
    page.fill("#class-search", "垃圾")
    assert page.locator(".pub-chip:visible").count() < page.locator(".pub-chip").count()
    page.click(".pub-chip:has-text('垃圾没人清')")
    assert "暴露垃圾" in page.inner_text("#class-chosen")
    page.fill("#description", "垃圾桶旁边堆了好几袋垃圾，两天没人清，有异味。")
    page.fill("#address", "富春路北门公交站旁")
    page.fill("#reporter_phone", "13900001111")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "public-report")

    page.click("#submit-report")
    page.wait_for_url("**/thanks/")
    number = page.inner_text("#case-number").strip()
    assert len(number) == 13 and number.isdigit()

    page.click("#track-link")
    page.wait_for_url(f"**/public/cases/{number}/")
    assert page.inner_text(".pub-state") == "已收到，等待网格监督员到现场核实"
    assert "13900001111" not in page.content()

    # Staff walk it through the loop.
    case = api.call("GET", f"/api/v1/cases/{number}", as_user="operator")
    assert case["source"] == "public" and case["state"] == "verifying" and len(case["attachments"]) == 1
    api.act(number, "verify", as_user=assignee(case, "verify"), valid=True)
    api.act(number, "register", as_user="operator")
    dispatched = api.act(number, "dispatch", as_user="dispatcher")
    department = f"dept-{dispatched['department']}"
    api.act(number, "sign", as_user=department)
    after = api.upload(number, picture(before=False), stage="handle", as_user=department)
    handled = api.act(number, "feedback", as_user=department, result="已清运垃圾并冲洗地面。",
                      attachments=[after["id"]])
    if handled["state"] == "handled":
        handled = api.act(number, "request_check", as_user="operator")
    api.act(number, "check", as_user=assignee(handled, "check"), fixed=True)
    closed = api.act(number, "close", as_user="operator")
    assert closed["state"] == "closed"

    page.reload()
    assert page.inner_text(".pub-state") == "已办结"
    assert "已清运垃圾并冲洗地面。" in page.inner_text(".pub-reply")
    assert page.locator(".pub-photo-rows img").count() == 2
    page.click("label[for=star-5]")
    page.fill("#comment", "处理很快，谢谢！")
    page.click(".pub-rate-form button.primary")
    page.wait_for_selector(".pub-stars-shown")
    assert "5" in page.inner_text(".pub-stars-shown")
    assert page.locator("form.pub-rate-form").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "public-track")

    # Back home: the case is among the recently fixed, with its before and after photos, and this
    # phone remembers it was reported from here.
    page.goto("/public/")
    page.wait_for_load_state("networkidle")
    first = page.locator(".pub-case-card").first
    assert first.locator("a").get_attribute("href") == f"/public/cases/{number}/"
    assert first.locator("img").count() == 2
    assert page.inner_text(".pub-mine-list") == number
    shot(page, "public-home")


def test_it_lets_the_reporter_add_to_a_case_and_send_it_back_when_not_fixed(new_page, server):
    api = Api(server)
    lon, lat = inside_fuchun(api)
    created = api.call("POST", "/api/v1/public/cases", {
        "class_code": "E0102", "lon": lon, "lat": lat, "description": "路口垃圾",
        "reporter": {"phone": "13900002222"}})
    number, code = created["number"], created["reporter_code"]
    case = api.call("GET", f"/api/v1/cases/{number}", as_user="operator")
    api.act(number, "verify", as_user=assignee(case, "verify"), valid=True)
    api.act(number, "register", as_user="operator")
    department = f"dept-{api.act(number, 'dispatch', as_user='dispatcher')['department']}"
    api.act(number, "sign", as_user=department)

    # The reporter adds a note with their phone number.
    page = new_page(phone=True)
    page.goto(f"/public/cases/{number}/")
    page.click("#follow-up summary")
    page.fill("#follow_up-phone", "139 0000 2222")
    page.fill("#follow-up-note", "<b>晚上</b>又多了两袋")
    page.click("#follow-up-form button.primary")
    page.wait_for_selector("#citizen-done")
    assert "反映人补充了情况" in page.inner_text(".pub-timeline")

    # The department sees it in its inbox and on the task page, as text.
    staff = new_page(department)
    staff.goto("/inbox/")
    assert number in staff.inner_text("#inbox-notices")
    staff.goto(f"/inbox/cases/{number}/")
    assert "<b>晚上</b>又多了两袋" in staff.inner_text("li[data-operation=follow_up]")

    handled = api.act(number, "feedback", as_user=department, result="已清运。")
    if handled["state"] == "handled":
        handled = api.act(number, "request_check", as_user="operator")
    api.act(number, "check", as_user=assignee(handled, "check"), fixed=True)
    assert api.act(number, "close", as_user="operator")["state"] == "closed"

    # Closed, but not fixed: the reporter sends it back with the reporter code.
    page.goto(f"/public/cases/{number}/")
    assert page.locator("form.pub-rate-form").count() == 1  # the rating is offered too
    page.click("#dispute summary")
    page.fill("#dispute-code", code)
    page.fill("#dispute-note", "第二天又堆满了")
    page.click("#dispute-form button.primary")
    page.wait_for_selector("#citizen-done")
    assert page.inner_text(".pub-state") == "反映人表示问题没有解决，受理员正在重新审核"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "public-not-fixed")
    case = api.call("GET", f"/api/v1/cases/{number}", as_user="operator")
    assert case["state"] == "pending" and case["events"][-1]["operation"] == "dispute"
