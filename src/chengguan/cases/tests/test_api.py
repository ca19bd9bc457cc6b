"""API v1 for cases: the contract of API.md, every error a 4xx naming its field, nothing half-stored."""

import io
import json
import uuid

import pytest
from django.test import Client
from PIL import Image

from chengguan.cases.models import Attachment, Case, Event
from chengguan.cases.tests.conftest import PASSWORD, at

pytestmark = pytest.mark.django_db


def token_client(username: str, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/api/v1/auth/token", {"username": username, "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {response.json()['token']}"
    return client


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def new_case_body(world, **extra):
    grid = world.grids[4]
    return {"class_code": "E0102", "lon": grid.center_lon, "lat": grid.center_lat, "description": "垃圾",
            "address": "富春路 1 号", **extra}


def photo(fmt="JPEG", size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def error_of(response):
    return response.json()["error"]


def test_it_issues_tokens_and_refuses_bad_passwords(world):
    client = Client()
    bad = post(client, "/api/v1/auth/token", {"username": "operator", "password": "wrong"})
    assert bad.status_code == 401 and error_of(bad)["field"] == "password"
    good = post(client, "/api/v1/auth/token", {"username": "operator", "password": PASSWORD})
    assert good.status_code == 200 and good.json()["role"] == "operator"


def test_it_throttles_repeated_failed_logins(world):
    client = Client()
    for _ in range(5):
        assert post(client, "/api/v1/auth/token", {"username": "operator", "password": "x"}).status_code == 401
    locked = post(client, "/api/v1/auth/token", {"username": "operator", "password": PASSWORD})
    assert locked.status_code == 429


def test_it_needs_a_token(world):
    response = Client().get("/api/v1/cases")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"


def test_it_walks_the_loop_over_http(world):
    inspector, operator, dispatcher = token_client("inspector"), token_client("operator"), token_client("dispatcher")
    department, checker = token_client("dept-D0101"), inspector
    created = post(inspector, "/api/v1/cases", new_case_body(world))
    assert created.status_code == 201
    case = created.json()
    assert case["state"] == "reported" and case["source"] == "inspector"
    number = case["number"]
    upload = inspector.post(f"/api/v1/cases/{number}/attachments",
                            {"file": io.BytesIO(photo()), "stage": "report"})
    assert upload.status_code == 201, upload.content

    def act(client, operation, **body):
        current = client.get(f"/api/v1/cases/{number}").json()
        response = post(client, f"/api/v1/cases/{number}/actions/{operation}", {"version": current["version"],
                                                                                  **body})
        assert response.status_code == 200, response.content
        return response.json()

    assert act(operator, "register")["suggested_department"] == "D0101"
    assert act(dispatcher, "dispatch")["state"] == "dispatched"
    act(department, "sign")
    evidence = department.post(f"/api/v1/cases/{number}/attachments", {"file": io.BytesIO(photo("PNG")),
                                                                        "stage": "handle"}).json()
    handled = act(department, "feedback", result="已清理", attachments=[evidence["id"]])
    assert handled["state"] == "checking"
    act(checker, "check", fixed=True)
    closed = act(operator, "close")
    assert closed["state"] == "closed"
    assert [c["stage"] for c in closed["clocks"]] == ["register", "dispatch", "handle", "check"]
    assert all(c["on_time"] is not None for c in closed["clocks"])
    assert closed["tasks"][0]["handled_at"] is not None
    assert {a["stage"] for a in closed["attachments"]} == {"report", "handle"}

    public = Client().get(f"/api/v1/public/cases/{number}").json()
    assert public["state"] == "closed" and "reporter" not in public
    assert all("actor" not in e for e in public["timeline"])
    assert {a["stage"] for a in public["attachments"]} == {"report", "handle"}
    image = Client().get(public["attachments"][0]["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    original = Client().get(public["attachments"][0]["url"].replace("variant=public", "variant=original"))
    assert original.status_code == 404

    rated = post(Client(), f"/api/v1/public/cases/{number}/rating", {"score": 5})
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    again = post(Client(), f"/api/v1/public/cases/{number}/rating", {"score": 1})
    assert again.status_code == 409


def test_it_lists_cases_with_keyset_pages_and_filters(world):
    for minute in range(5):
        world.report(now=at(f"2026-11-23 09:0{minute}"))
    client = token_client("operator")
    first = client.get("/api/v1/cases?page_size=2&with_count=1").json()
    assert len(first["items"]) == 2 and first["count"] == 5 and first["next"]
    second = client.get(f"/api/v1/cases?page_size=2&cursor={first['next']}").json()
    third = client.get(f"/api/v1/cases?page_size=2&cursor={second['next']}").json()
    numbers = [c["number"] for page in (first, second, third) for c in page["items"]]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == 5 and third["next"] is None
    assert client.get("/api/v1/cases?state=closed").json()["items"] == []
    assert len(client.get("/api/v1/cases?light=red").json()["items"]) == 5  # all long overdue by now
    bad = client.get("/api/v1/cases?light=purple")
    assert bad.status_code == 422 and error_of(bad)["field"] == "light"
    assert client.get("/api/v1/cases?page_size=500").status_code == 422


def test_it_lists_a_case_in_few_queries(world, django_assert_max_num_queries):
    for minute in range(10):
        world.report(now=at(f"2026-11-23 10:{minute:02d}"))
    client = token_client("operator")
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/cases?page_size=50").json()["items"]) == 10


def test_it_shows_departments_only_their_cases(world):
    case = world.make_case("dispatched")
    other = world.report(now=at("2026-11-23 11:00"))
    water = token_client("dept-D06")
    assert water.get(f"/api/v1/cases/{case.number}").status_code == 404
    sanitation = token_client("dept-D0101")
    assert sanitation.get(f"/api/v1/cases/{case.number}").status_code == 200
    assert [c["number"] for c in sanitation.get("/api/v1/cases").json()["items"]] == [case.number]
    assert sanitation.get(f"/api/v1/cases/{other.number}").status_code == 404


def test_it_returns_the_first_case_for_a_repeated_client_uuid(world):
    client = token_client("inspector")
    key = str(uuid.uuid4())
    first = post(client, "/api/v1/cases", new_case_body(world, client_uuid=key))
    again = post(client, "/api/v1/cases", new_case_body(world, client_uuid=key))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"] and Case.objects.count() == 1


def test_it_takes_gcj02_coordinates(world):
    from chengguan.geo.coords import from_wgs84

    grid = world.grids[4]
    lon, lat = from_wgs84(grid.center_lon, grid.center_lat, "gcj02")
    response = post(token_client("inspector"), "/api/v1/cases",
                    new_case_body(world, lon=float(lon), lat=float(lat), crs="gcj02"))
    assert response.status_code == 201
    assert response.json()["grid_code"] == grid.code
    assert response.json()["lon"] == pytest.approx(grid.center_lon, abs=1e-6)


def test_it_suggests_duplicates_nearby(world):
    first = world.report(now=at("2026-11-23 09:00"))
    second = world.report(now=at("2026-11-23 09:30"))
    client = token_client("operator")
    found = client.get(f"/api/v1/cases/{second.number}/duplicates").json()["items"]
    assert [c["number"] for c in found] == [first.number]
    assert found[0]["distance_m"] < 50


# --- bad input: each a 4xx naming the field, nothing stored ---------------------------------


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"class_code": "E9999"}, 422, "class_code"),
        ({"lon": 121.47, "lat": 31.23}, 422, "lon"),
        ({"lon": "east"}, 422, "lon"),
        ({"lon": 500}, 422, "lon"),
        ({"class_code": None}, 422, "class_code"),
        ({"crs": "mars"}, 422, "crs"),
        ({"urgency": "yesterday"}, 422, "urgency"),
        ({"source": "hotline"}, 403, "source"),
        ({"client_uuid": "not-a-uuid"}, 422, "client_uuid"),
    ],
)
def test_it_refuses_a_bad_report_naming_the_field(world, change, status, field):
    body = new_case_body(world)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = post(token_client("inspector"), "/api/v1/cases", body)
    assert response.status_code == status, response.content
    assert error_of(response)["field"] == field
    assert Case.objects.count() == 0 and Event.objects.count() == 0


def test_it_refuses_a_report_without_a_place(world):
    body = new_case_body(world)
    del body["lon"], body["lat"]
    response = post(token_client("inspector"), "/api/v1/cases", body)
    assert response.status_code == 422 and error_of(response)["field"] == "lon"


def test_it_refuses_malformed_json(world):
    client = token_client("inspector")
    response = client.post("/api/v1/cases", "{not json", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "malformed"
    case = world.report()
    response = client.post(f"/api/v1/cases/{case.number}/actions/register", "[1,", content_type="application/json")
    assert response.status_code == 400


def test_it_answers_in_the_callers_language(world):
    body = new_case_body(world, class_code="E9999")
    zh = post(token_client("inspector"), "/api/v1/cases", body)
    en = post(token_client("inspector", "en"), "/api/v1/cases", body)
    assert "未知" in error_of(zh)["message"]
    assert "Unknown class" in error_of(en)["message"]


def test_it_refuses_stale_versions_wrong_roles_and_wrong_states(world):
    case = world.report()
    operator = token_client("operator")
    path = f"/api/v1/cases/{case.number}/actions"
    stale = post(operator, f"{path}/register", {"version": case.version + 7})
    assert stale.status_code == 409 and error_of(stale)["field"] == "version"
    missing = post(operator, f"{path}/register", {})
    assert missing.status_code == 422 and error_of(missing)["field"] == "version"
    wrong_role = post(token_client("dispatcher"), f"{path}/register", {"version": case.version})
    assert wrong_role.status_code == 403
    wrong_state = post(token_client("dispatcher"), f"{path}/dispatch", {"version": case.version})
    assert wrong_state.status_code == 409 and error_of(wrong_state)["field"] == "state"
    unknown = post(operator, f"{path}/teleport", {"version": case.version})
    assert unknown.status_code == 404
    reject = post(operator, f"{path}/reject", {"version": case.version})
    assert reject.status_code == 422 and error_of(reject)["field"] == "reason"
    assert Event.objects.filter(case=case).count() == 1
    assert Case.objects.get(pk=case.pk).version == case.version


def test_it_refuses_oversize_and_non_image_uploads(world, settings):
    settings.PHOTO_MAX_BYTES = 2000
    case = world.report()
    client = token_client("inspector")
    path = f"/api/v1/cases/{case.number}/attachments"
    big = client.post(path, {"file": io.BytesIO(photo(size=(800, 800)) + b"\0" * 5000), "stage": "report"})
    assert big.status_code == 413 and error_of(big)["field"] == "file"
    text = client.post(path, {"file": io.BytesIO(b"hello, not a picture"), "stage": "report"})
    assert text.status_code == 422 and error_of(text)["field"] == "file"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    gif.seek(0)
    refused = client.post(path, {"file": gif, "stage": "report"})
    assert refused.status_code == 422
    broken = client.post(path, {"file": io.BytesIO(photo()[:200]), "stage": "report"})
    assert broken.status_code == 422
    bad_stage = client.post(path, {"file": io.BytesIO(photo(size=(8, 8))), "stage": "later"})
    assert bad_stage.status_code == 422 and error_of(bad_stage)["field"] == "stage"
    none = client.post(path, {"stage": "report"})
    assert none.status_code == 422 and error_of(none)["field"] == "file"
    assert Attachment.objects.count() == 0


def test_it_keeps_photo_gps_for_staff_and_strips_it_for_the_public(world):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 3.0, 0.0), 3: "E", 4: (119.0, 57.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 128, 0)).save(out, format="JPEG", exif=exif)
    case = world.report()
    client = token_client("inspector")
    uploaded = client.post(f"/api/v1/cases/{case.number}/attachments",
                           {"file": io.BytesIO(out.getvalue()), "stage": "report"})
    assert uploaded.status_code == 201
    detail = client.get(f"/api/v1/cases/{case.number}").json()
    assert detail["attachments"][0]["gps"] == {"lon": pytest.approx(119.95), "lat": pytest.approx(30.05)}
    public = Client().get(f"/api/v1/public/cases/{case.number}").json()
    served = Client().get(public["attachments"][0]["url"])
    body = b"".join(served.streaming_content)
    assert Image.open(io.BytesIO(body)).getexif().get_ifd(0x8825) == {}
    assert "gps" not in public["attachments"][0]


def test_it_takes_a_citizens_report_without_a_login(world):
    grid = world.grids[0]
    response = post(Client(), "/api/v1/public/cases", {
        "class_code": "E0102", "lon": grid.center_lon, "lat": grid.center_lat, "description": "<b>垃圾</b>",
        "reporter": {"name": "王", "phone": "13800138000"},
    })
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "verifying" and "13800138000" not in json.dumps(body)
    stored = Case.objects.get(number=body["number"])
    assert stored.source == "public" and stored.description == "<b>垃圾</b>"


def test_it_serves_the_openapi_document(world):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/cases/{number}/actions/{operation}" in paths
    assert "/api/v1/geo/locate" in paths and "/api/v1/catalog/classes" in paths


def test_it_answers_unknown_endpoints_and_methods_in_the_error_shape(world):
    client = token_client("operator", "en")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = client.delete("/api/v1/auth/token")
    assert wrong.status_code == 405 and error_of(wrong)["message"] == "Method not allowed"
    unknown_case = client.get("/api/v1/cases/2099010100001")
    assert unknown_case.status_code == 404 and error_of(unknown_case)["field"] == "number"


def test_it_ignores_body_keys_that_shadow_its_own_arguments(world):
    case = world.report()
    body = {"version": case.version, "actor": "someone", "case": "x", "operation": "y", "now": "z", "fields": 1}
    response = post(token_client("operator"), f"/api/v1/cases/{case.number}/actions/register", body)
    assert response.status_code == 200 and response.json()["state"] == "registered"


def test_it_needs_the_csrf_token_when_a_page_session_writes(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.inspector)
    refused = post(client, "/api/v1/cases", new_case_body(world))
    assert refused.status_code == 403 and error_of(refused)["field"] == "csrf"
    assert Case.objects.count() == 0
    client.get("/m/")  # the page sets the CSRF cookie its scripts send back
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/cases", json.dumps(new_case_body(world)), content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


@pytest.mark.parametrize(("operation", "state", "user", "body", "field"), [
    ("dispatch", "registered", "dispatcher", {"deadline": "2031-02-30T09:00:00+08:00"}, "deadline"),
    ("amend", "registered", "operator", {"class_code": ["E0102"]}, "class_code"),
])
def test_it_refuses_impossible_values_naming_the_field(world, operation, state, user, body, field):
    case = world.make_case(state)
    response = post(token_client(user), f"/api/v1/cases/{case.number}/actions/{operation}",
                    {"version": case.version, **body})
    assert response.status_code == 422 and error_of(response)["field"] == field


def test_it_refuses_an_impossible_point_when_looking_for_duplicates(world):
    response = token_client("inspector").get("/api/v1/cases/nearby?class_code=E0102&lon=inf&lat=30.05")
    assert response.status_code == 422 and error_of(response)["field"] == "lon"


def test_a_time_filter_with_any_valid_offset_answers_and_one_past_the_calendar_is_a_422(world):
    """+23:12 is a valid ISO 8601 offset that PostgreSQL refuses; it is turned into UTC first."""
    world.make_case("registered")
    client = token_client("leader")
    answer = client.get("/api/v1/cases?created_after=0848-07-18T06:59:17.5%2B23:12")
    assert answer.status_code == 200, answer.content
    assert len(answer.json()["items"]) == 1
    answer = client.get("/api/v1/cases?created_before=0001-01-01T00:00:00%2B23:00")
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "created_before"
