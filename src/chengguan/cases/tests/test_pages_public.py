"""The citizens' portal: report with photos in one go, track by number, rate once; public data only."""

import io
import os
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image

from chengguan.cases import photos, services
from chengguan.cases.models import Attachment, Case, CaseNumberCounter, Event
from chengguan.cases.tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The rate limits count per address in the shared cache; each test starts with none used.
    cache.clear()
    yield
    cache.clear()


def image(name="photo.jpg", fmt="JPEG", size=(80, 60), colour=(200, 40, 40)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    out.seek(0)
    out.name = name
    return out


def form(world, **extra) -> dict:
    grid = world.grids[4]
    return {"class_code": "E0102", "lon": f"{grid.center_lon:.7f}", "lat": f"{grid.center_lat:.7f}",
            "crs": "wgs84", "description": "小区门口垃圾堆了两天", "address": "富春路 88 号北门",
            "reporter_name": "", "reporter_phone": "", **extra}


def nothing_stored():
    return (Case.objects.count(), Attachment.objects.count(), Event.objects.count(),
            CaseNumberCounter.objects.filter(last__gt=0).count()) == (0, 0, 0, 0)


def public_case(world, **extra):
    grid = world.grids[4]
    fields = {"class_code": "E0102", "lon": grid.center_lon, "lat": grid.center_lat, "description": "垃圾",
              "reporter_name": "李女士", "reporter_phone": "13812345678", "source": "public",
              "now": at("2026-11-23 09:00"), **extra}
    case, _ = services.report_case(actor=None, **fields)
    return case


def walk(world, case, *steps, start="2026-11-23 09:05"):
    """Apply operations in turn, one minute apart: (operation, actor or None for the case's department, fields)."""
    when = at(start)
    for operation, actor, fields in steps:
        actor = actor or world.department_user(case)
        case = services.apply_operation(case, operation, actor=actor, version=case.version, now=when, **fields)
        when = when.replace(minute=when.minute + 1)
    return case


def to_closed(world, case, *, result="已清运完毕"):
    return walk(world, case, ("verify", world.inspector, {"valid": True}), ("register", world.operator, {}),
                ("dispatch", world.dispatcher, {}), ("sign", None, {}), ("feedback", None, {"result": result}),
                ("check", world.inspector, {"fixed": True}), ("close", world.operator, {}))


# --- report ----------------------------------------------------------------------------------


def test_it_shows_the_report_form_with_everyday_kinds_of_problem(world):
    page = Client().get("/public/report/").content.decode()
    assert "我要反映问题" not in page and "问题在哪里" in page
    assert 'value="E0102"' in page and "垃圾没人清" in page  # everyday words for 暴露垃圾
    assert 'value="C0101"' in page  # every other class is there for the search
    assert 'name="website"' in page  # the honeypot
    assert "只有处理此事的工作人员能看到" in page


def test_it_takes_a_report_with_photos_in_one_go(world):
    response = Client().post("/public/report/", {
        **form(world, reporter_name="李女士", reporter_phone="138 1234 5678"),
        "photos": [image("a.jpg"), image("b.png", "PNG")],
    })
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/public/cases/{case.number}/thanks/"
    assert (case.source, case.state, case.class_code, case.grid_code) == ("public", "verifying", "E0102",
                                                                          world.grids[4].code)
    assert case.reporter is None and (case.reporter_name, case.reporter_phone) == ("李女士", "138 1234 5678")
    assert sorted(case.attachments.values_list("stage", "content_type")) == [("report", "image/jpeg"),
                                                                             ("report", "image/png")]
    thanks = Client().get(response["Location"]).content.decode()
    assert case.number in thanks and f"/public/cases/{case.number}/" in thanks


def test_it_answers_the_page_script_in_json_and_takes_a_repeat_once(world):
    client = Client()
    key = str(uuid.uuid4())
    first = client.post("/public/report/", {**form(world, client_uuid=key), "photos": [image()]},
                        HTTP_ACCEPT="application/json")
    again = client.post("/public/report/", {**form(world, client_uuid=key), "photos": [image()]},
                        HTTP_ACCEPT="application/json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"] == Case.objects.get().number
    assert first.json()["url"] == f"/public/cases/{first.json()['number']}/thanks/"
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(("change", "status", "field", "words"), [
    ({"lon": "119.90", "lat": "30.00"}, 422, "location", "不在本市城市管理网格范围内"),
    ({"lon": "", "lat": ""}, 422, "location", "请在地图上点选"),
    ({"class_code": "E9999"}, 422, "class_code", "没有这个问题类别"),
    ({"class_code": ""}, 422, "class_code", "请选择问题类别"),
    ({"description": "长" * 2001}, 422, "description", "问题描述太长了"),
    ({"reporter_phone": "call me maybe"}, 422, "reporter_phone", "电话号码格式不对"),
    ({"description": ""}, 422, "description", "请简单描述问题，或上传一张照片"),
])
def test_it_refuses_a_bad_field_naming_it_and_stores_nothing(world, change, status, field, words):
    response = Client().post("/public/report/", form(world, **change))
    page = response.content.decode()
    assert response.status_code == status
    assert f'<li data-field="{field}">' in page and words in page
    assert nothing_stored()


def test_it_refuses_a_file_that_is_not_a_photo_and_stores_nothing(world):
    text = io.BytesIO(b"%PDF-1.4 not a photo at all")
    text.name = "report.pdf"
    response = Client().post("/public/report/", {**form(world), "photos": [image(), text]})
    page = response.content.decode()
    assert response.status_code == 422
    assert '<li data-field="photos">' in page and "report.pdf 不是照片" in page
    assert nothing_stored()


def test_it_refuses_an_oversized_photo_with_413_and_stores_nothing(world, settings):
    settings.PHOTO_MAX_BYTES = 2000
    noise = Image.frombytes("RGB", (60, 60), os.urandom(60 * 60 * 3))
    big = io.BytesIO()
    noise.save(big, format="PNG")
    big.seek(0)
    big.name = "big.png"
    assert len(big.getvalue()) > 2000
    response = Client().post("/public/report/", {**form(world), "photos": [big]}, HTTP_ACCEPT="application/json")
    assert response.status_code == 413
    assert "big.png" in response.json()["errors"]["photos"]
    assert nothing_stored()


def test_it_refuses_more_than_four_photos(world):
    response = Client().post("/public/report/", {**form(world), "photos": [image(f"{i}.jpg") for i in range(5)]})
    assert response.status_code == 422 and "最多上传 4 张照片" in response.content.decode()
    assert nothing_stored()


def test_it_shows_errors_in_english_when_asked(world):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/public/report/"})
    response = client.post("/public/report/", form(world, lon="119.90", lat="30.00"))
    assert response.status_code == 422 and "outside the city&#x27;s grids" in response.content.decode()


def test_it_stores_nothing_from_a_robot_that_fills_the_honeypot(world):
    response = Client().post("/public/report/", {**form(world), "website": "http://spam.example"})
    assert response.status_code == 400
    assert nothing_stored()


def test_it_refuses_a_form_post_without_its_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/public/report/", form(world)).status_code == 403
    page = client.get("/public/report/")
    token = page.cookies["csrftoken"].value
    assert client.post("/public/report/", {**form(world), "csrfmiddlewaretoken": token}).status_code == 302
    assert Case.objects.count() == 1


def test_it_limits_reports_per_address(world, settings):
    settings.PUBLIC_RATE_PER_MINUTE = 2
    client = Client()
    assert [client.post("/public/report/", form(world)).status_code for _ in range(3)] == [302, 302, 429]
    assert Case.objects.count() == 2


def test_it_shows_html_in_a_description_as_text(world):
    Client().post("/public/report/", form(world, description='<script>alert("x")</script><b>垃圾</b>'))
    case = Case.objects.get()
    assert case.description == '<script>alert("x")</script><b>垃圾</b>'
    page = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;垃圾&lt;/b&gt;" in page
    assert "<script>alert(" not in page and "<b>垃圾</b>" not in page


# --- map data ----------------------------------------------------------------------------------


def test_it_tells_the_map_which_street_a_point_is_in(world):
    grid = world.grids[4]
    inside = Client().get("/public/geo/locate", {"lon": grid.center_lon, "lat": grid.center_lat})
    assert inside.status_code == 200
    assert inside.json()["street"] == "富春街道" and inside.json()["community"] == "测试社区"
    outside = Client().get("/public/geo/locate", {"lon": 119.9, "lat": 30.0})
    assert outside.status_code == 422 and outside.json()["error"]["field"] == "lon"


def test_it_draws_the_district_and_streets_without_signing_in(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        body = Client().get("/public/geo/regions").json()
    assert sorted(f["properties"]["level"] for f in body["features"]) == ["district", "street"]
    grids = Client().get("/public/geo/grids", {"bbox": "119.95,30.05,119.951,30.051"}).json()
    assert grids["features"] and all(set(f["properties"]) == {"code"} for f in grids["features"])


# --- track -------------------------------------------------------------------------------------


def test_it_shows_a_case_without_anyone_s_personal_data(world):
    world.sanitation_user.display_name = "王建国"
    world.sanitation_user.save()
    world.inspector.display_name = "赵监督"
    world.inspector.save()
    case = public_case(world)
    photos.add_photo(case, data=image().getvalue(), filename="a.jpg", stage="report", actor=None)
    case = walk(world, case, ("verify", world.inspector, {"valid": True}), ("register", world.operator, {}),
                ("dispatch", world.dispatcher, {}), ("sign", None, {}))
    after = photos.add_photo(case, data=image(colour=(20, 160, 60)).getvalue(), filename="b.jpg", stage="handle",
                             actor=world.sanitation_user)
    case = services.apply_operation(case, "feedback", actor=world.sanitation_user, version=case.version,
                                    now=at("2026-11-23 10:00"), note="内部：联系了赵监督", result="垃圾已清运",
                                    attachments=[after.pk])
    page = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert "部门已处理" in page and "环卫处" in page and "垃圾已清运" in page
    assert "?variant=thumb" in page and "variant=original" not in page
    for private in ("李女士", "13812345678", "138****5678", "王建国", "赵监督", "dept-D0101", "inspector",
                    "内部：联系了"):
        assert private not in page


def test_it_explains_each_end_in_plain_words(world):
    rejected = walk(world, public_case(world), ("verify", world.inspector, {"valid": True}),
                    ("reject", world.operator, {"reason": "属于物业管理范围，请联系小区物业"}))
    survivor = public_case(world)
    merged = walk(world, public_case(world), ("merge", world.operator, {"into": survivor.number}))
    suspended = walk(world, public_case(world), ("verify", world.inspector, {"valid": True}),
                     ("register", world.operator, {}), ("dispatch", world.dispatcher, {}), ("sign", None, {}),
                     ("suspend", None, {"reason": "需等待管线迁改，预计明年春季施工"}),
                     ("decide_suspend", world.dispatcher, {"approve": True}))
    invalid = walk(world, public_case(world), ("verify", world.inspector, {"valid": False}))

    def page(case):
        return Client().get(f"/public/cases/{case.number}/").content.decode()

    assert "不予立案" in page(rejected) and "属于物业管理范围，请联系小区物业" in page(rejected)
    assert f'href="/public/cases/{survivor.number}/"' in page(merged) and "已合并办理" in page(merged)
    assert "暂缓处理" in page(suspended) and "需等待管线迁改，预计明年春季施工" in page(suspended)
    assert "未发现所反映的问题" in page(invalid)
    assert 'class="stopped"' in page(rejected) and 'class="paused"' in page(suspended)


def test_it_finds_a_case_by_its_number(world):
    case = public_case(world)
    found = Client().get("/public/cases/", {"number": f" {case.number} "})
    assert found.status_code == 302 and found["Location"] == f"/public/cases/{case.number}/"
    missing = Client().get("/public/cases/", {"number": "2099010100001"})
    assert missing.status_code == 404 and "没有找到案件 2099010100001" in missing.content.decode()
    assert Client().get("/public/cases/", {"number": "abc"}).status_code == 422
    unknown = Client().get("/public/cases/2099010100001/")
    assert unknown.status_code == 404 and "没有找到案件 2099010100001" in unknown.content.decode()


# --- rate --------------------------------------------------------------------------------------


def test_it_takes_one_rating_only_after_closure(world):
    case = public_case(world)
    early = Client().post(f"/public/cases/{case.number}/rating", {"score": "5"})
    assert early.status_code == 409 and "结案后才能评价" in early.content.decode()
    case = to_closed(world, case)
    assert 'name="score"' in Client().get(f"/public/cases/{case.number}/").content.decode()
    rated = Client().post(f"/public/cases/{case.number}/rating", {"score": "4", "comment": "清理得很干净"})
    assert rated.status_code == 302 and rated["Location"] == f"/public/cases/{case.number}/#rating"
    again = Client().post(f"/public/cases/{case.number}/rating", {"score": "1"})
    assert again.status_code == 409 and "已评价过" in again.content.decode()
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (4, "清理得很干净")
    page = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert 'name="score"' not in page and "<b>4</b> / 5" in page


def test_it_refuses_a_rating_without_stars_or_with_a_long_comment(world):
    case = to_closed(world, public_case(world))
    assert Client().post(f"/public/cases/{case.number}/rating", {"score": ""}).status_code == 422
    assert Client().post(f"/public/cases/{case.number}/rating", {"score": "9"}).status_code == 422
    long = Client().post(f"/public/cases/{case.number}/rating", {"score": "3", "comment": "长" * 501})
    assert long.status_code == 422 and "评价内容太长了" in long.content.decode()
    case.refresh_from_db()
    assert case.rating is None


# --- home --------------------------------------------------------------------------------------


def test_it_shows_recently_fixed_cases_with_before_and_after_photos(world, django_assert_max_num_queries):
    numbers = []
    for i in range(3):
        case = public_case(world, now=at(f"2026-11-23 0{i + 7}:00"))
        photos.add_photo(case, data=image().getvalue(), filename="before.jpg", stage="report", actor=None)
        photos.add_photo(case, data=image(colour=(0, 200, 0)).getvalue(), filename="after.jpg", stage="handle",
                         actor=None)
        numbers.append(to_closed(world, case).number)
    to_closed(world, public_case(world))  # no photos: listed after those that have them
    Case.objects.update(closed_at=timezone.now())  # within the last 30 days whenever the test runs
    with django_assert_max_num_queries(9):
        response = Client().get("/public/")
    page = response.content.decode()
    assert response.status_code == 200 and "我要反映问题" in page
    assert all(f"/public/cases/{n}/" in page for n in numbers)
    assert page.count("?variant=thumb") == 6 and "富春街道" in page
    assert page.index(numbers[0]) < page.index(Case.objects.exclude(number__in=numbers).get().number)
