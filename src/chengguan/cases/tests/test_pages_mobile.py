"""城管通 (/m/): who may open it, which tasks it lists and in what order, its figures, its queries."""

import io
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from chengguan.cases import photos
from chengguan.cases.models import Case
from chengguan.cases.pages import mobile
from chengguan.cases.tests.conftest import PASSWORD, at

pytestmark = pytest.mark.django_db


def signed_in(username, **options):
    client = Client(**options)
    assert client.login(username=username, password=PASSWORD)
    return client


def public_report(world, grid, *, now=None, **kwargs):
    """A citizen's report: it waits for the grid's inspector to verify it."""
    return world.report(actor=None, grid=grid, now=now or at("2026-11-23 09:00"), **kwargs)


def jpeg(colour=(200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


def task_numbers(html: str, stage: str) -> list[str]:
    return re.findall(rf'data-number="(\d+)"\s+data-stage="{stage}"', html)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize("username", ["inspector", "volunteer"])
def test_it_opens_for_inspectors_and_volunteers(world, username):
    response = signed_in(username).get("/m/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "上报问题" in html and 'id="m-report"' in html and "我的数据" in html
    assert ('id="tasks"' in html) == (username == "inspector")  # volunteers have no verify/check duties


@pytest.mark.parametrize("username", ["operator", "shiftlead", "dispatcher", "dept-D0101", "leader"])
def test_it_refuses_other_roles(world, username):
    response = signed_in(username).get("/m/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert signed_in(username).get("/m/tasks").status_code == 403


def test_it_sends_strangers_to_sign_in(world):
    response = Client().get("/m/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_lists_only_open_verify_and_check_tasks_of_mine(world):
    to_verify = public_report(world, 4)
    verified = world.act(public_report(world, 5), "verify", world.inspector, at("2026-11-23 09:10"), valid=True)
    to_check = world.make_case("checking", grid=2)
    checked = world.make_case("closable", grid=3)
    handling = world.make_case("handling", grid=6)
    world.city.auto_request_check = False
    world.city.save()
    others = world.make_case("handling", grid=7)
    others = world.act(others, "feedback", world.sanitation_user, at("2026-11-23 09:50"), result="已清运")
    others = world.act(others, "request_check", world.operator, at("2026-11-23 10:00"), inspector="inspector2")
    html = signed_in("inspector").get("/m/").content.decode()
    assert task_numbers(html, "verify") == [to_verify.number]
    assert set(task_numbers(html, "check")) == {to_check.number, others.number}  # all nine grids are mine
    for number in (verified.number, checked.number, handling.number):
        assert number not in html.split('id="report"')[0]
    # inspector2 patrols no grid: only the check assigned to them by name
    html2 = signed_in("inspector2").get("/m/").content.decode()
    assert task_numbers(html2, "verify") == [] and task_numbers(html2, "check") == [others.number]
    assert "派给" in html  # the inspector sees that this one was assigned to someone else


def test_it_orders_tasks_nearest_first_when_the_phone_gives_a_position(world):
    west = public_report(world, 0, now=at("2026-11-23 09:00"))  # north-west grid, due first
    east = public_report(world, 8, now=at("2026-11-23 09:05"))  # south-east grid
    client = signed_in("inspector")
    assert task_numbers(client.get("/m/tasks").content.decode(), "verify") == [west.number, east.number]
    near_east = {"lon": world.grids[8].center_lon + 0.0002, "lat": world.grids[8].center_lat}
    html = client.get("/m/tasks", near_east).content.decode()
    assert task_numbers(html, "verify") == [east.number, west.number]
    assert "按距离由近到远" in html and "约 20 m" in html
    near_west = {"lon": world.grids[0].center_lon, "lat": world.grids[0].center_lat}
    assert task_numbers(client.get("/m/", near_west).content.decode(), "verify") == [west.number, east.number]
    # a position that is not a point is ignored, not an error
    assert client.get("/m/tasks", {"lon": "east", "lat": "91"}).status_code == 200


def test_it_shows_each_task_with_its_photo_time_left_and_form(world, media):
    case = public_report(world, 4, address="富春路 88 号", description="路边垃圾堆放")
    photo = photos.add_photo(case, data=jpeg(), filename="a.jpg", stage="report", actor=None)
    checking = world.make_case("checking", grid=1)
    case.refresh_from_db()
    html = signed_in("inspector").get("/m/").content.decode()
    card = html[html.index(f'id="task-{case.number}"'):html.index(f'id="task-{checking.number}"')]
    assert f"/api/v1/cases/{case.number}/attachments/{photo.pk}?variant=thumb" in card
    assert "富春路 88 号" in card and "路边垃圾堆放" in card
    assert "超时" in card  # the verify clock of a report made on 2026-11-23 ran out long ago
    assert f'action="/cases/{case.number}/act/verify"' in card
    assert f'name="version" value="{case.version}"' in card and 'name="next" value="/m/"' in card
    assert 'name="valid" value="true"' in card and 'name="valid" value="false"' in card
    check_card = html[html.index(f'id="task-{checking.number}"'):]
    assert f'action="/cases/{checking.number}/act/check"' in check_card
    assert 'name="fixed" value="true"' in check_card and "已清理" in check_card  # the department's feedback


def test_it_verifies_from_the_task_form(world):
    case = public_report(world, 4)
    client = signed_in("inspector")
    response = client.post(f"/cases/{case.number}/act/verify",
                           {"version": case.version, "valid": "true", "next": "/m/"})
    assert response.status_code == 302 and response["Location"] == "/m/"
    case.refresh_from_db()
    assert case.state == "pending"
    html = client.get("/m/").content.decode()
    assert task_numbers(html, "verify") == [] and f"已核实：{case.number}" in html


def test_it_reads_the_page_in_a_fixed_number_of_queries(world, media, django_assert_max_num_queries):
    client = signed_in("inspector")
    public_report(world, 0)
    world.make_case("checking", grid=1)
    with django_assert_max_num_queries(14):
        assert client.get("/m/").status_code == 200
    for grid in range(2, 9):
        case = public_report(world, grid)
        photos.add_photo(case, data=jpeg(), filename="a.jpg", stage="report", actor=None)
        world.report(grid=grid)
    for grid in (3, 5, 7):
        world.make_case("checking", grid=grid)
    with django_assert_max_num_queries(14):
        html = client.get("/m/").content.decode()
    assert len(task_numbers(html, "verify")) == 8 and len(task_numbers(html, "check")) == 4
    with django_assert_max_num_queries(6):
        client.get("/m/tasks", {"lon": 119.951, "lat": 30.051})


def test_it_counts_this_months_figures(world):
    inspector = world.inspector
    world.report(now=at("2026-10-30 10:00"))  # last month
    registered = world.make_case("registered", start="2026-11-23 09:00")
    world.report(now=at("2026-11-24 09:00"))
    self_handled = world.report(now=at("2026-11-24 10:00"), self_handled=True)
    world.act(self_handled, "close", world.operator, at("2026-11-24 10:30"))
    on_time = public_report(world, 1, now=at("2026-11-23 09:00"))
    world.act(on_time, "verify", inspector, at("2026-11-23 09:30"), valid=True)
    late = public_report(world, 2, now=at("2026-11-23 09:00"))
    world.act(late, "verify", inspector, at("2026-11-23 14:00"), valid=False)
    public_report(world, 3, now=at("2026-11-23 09:00"))  # still open and overdue
    public_report(world, 5, now=at("2026-11-30 11:50"))  # still open, not yet due
    checked = world.make_case("closable", grid=6, start="2026-11-23 09:00")
    assert registered.registered_at and checked.state == "closable"
    figures = mobile.figures(inspector, now=at("2026-11-30 12:00"))
    assert figures["month"] == "2026-11"
    assert (figures["reports"], figures["valid"], figures["valid_rate"]) == (4, 3, 75)
    assert figures["verify"] == {"due": 3, "on_time": 1, "done": 2, "open": 2, "rate": 33}
    assert figures["check"] == {"due": 1, "on_time": 1, "done": 1, "open": 0, "rate": 100}
    nothing = mobile.figures(world.volunteer, now=at("2026-11-30 12:00"))
    assert nothing["valid_rate"] is None and nothing["verify"]["rate"] is None  # shown as —, never 0%


def test_it_shows_my_recent_reports_newest_first(world):
    first = world.report(now=timezone.now() - timedelta(hours=2), description="第一件")
    second = world.report(now=timezone.now() - timedelta(hours=1), description="第二件")
    volunteers = world.report(actor=world.volunteer, now=timezone.now())
    html = signed_in("inspector").get("/m/").content.decode()
    mine = html[html.index('id="m-reports"'):]
    assert mine.index(second.number) < mine.index(first.number)
    assert volunteers.number not in mine
    assert 'id="kpi-reports">2<' in html


def test_it_offers_my_most_used_classes_first(world):
    for grid in (0, 1, 2):
        world.report(grid=grid, class_code="C0101", now=timezone.now() - timedelta(days=1))
    world.report(grid=3, class_code="E0102", now=timezone.now() - timedelta(days=1))
    html = signed_in("inspector").get("/m/").content.decode()
    data = json.loads(re.search(r'<script id="m-classes" type="application/json">(.*?)</script>', html, re.S)[1])
    assert data["frequent"][:2] == ["C0101", "E0102"]
    garbage = next(c for c in data["classes"] if c["code"] == "E0102")
    assert garbage["name"] == "暴露垃圾" and garbage["kind"] == "event"


def test_it_reports_through_the_api_with_the_page_session_and_its_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="inspector", password=PASSWORD)
    client.get("/m/")
    token = client.cookies["csrftoken"].value
    body = {"class_code": "E0102", "lon": world.grids[4].center_lon, "lat": world.grids[4].center_lat,
            "crs": "wgs84", "description": "手机上报", "client_uuid": str(uuid.uuid4())}
    first = client.post("/api/v1/cases", json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert first.status_code == 201 and first.json()["source"] == "inspector"
    again = client.post("/api/v1/cases", json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert Case.objects.filter(description="手机上报").count() == 1


def test_it_gives_the_inspectors_duty_grids_as_geojson(world):
    grids = signed_in("inspector").get("/m/grids.json").json()
    assert grids["type"] == "FeatureCollection" and len(grids["features"]) == 9
    assert grids["features"][0]["properties"]["code"] == world.grids[0].code
    assert signed_in("volunteer").get("/m/grids.json").json()["features"] == []


def test_it_shows_one_case_with_only_the_buttons_the_inspector_may_press(world, media):
    case = public_report(world, 4, description="井盖缺失")
    photos.add_photo(case, data=jpeg(), filename="a.jpg", stage="report", actor=None)
    html = signed_in("inspector").get(f"/m/cases/{case.number}/").content.decode()
    assert "井盖缺失" in html and f'action="/cases/{case.number}/act/verify"' in html
    assert "/act/check" not in html and "?variant=thumb" in html
    assert signed_in("inspector2").get(f"/m/cases/{case.number}/").status_code == 404  # not in their grids
    report = world.report(actor=world.volunteer)
    html = signed_in("volunteer").get(f"/m/cases/{report.number}/").content.decode()
    assert "/act/verify" not in html and "/act/follow_up" in html


def test_it_serves_a_service_worker_scoped_to_the_field_page(world):
    response = Client().get("/m/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/m/"
    body = response.content.decode()
    assert f'var VERSION = "{mobile.shell_version()}"' in body
    assert "/static/cases/mobile.js" in body and "/static/vendor/leaflet/leaflet.js" in body
    manifest = Client().get("/m/manifest.webmanifest").json()
    assert manifest["start_url"] == "/m/" and manifest["short_name"] == "城管通"
