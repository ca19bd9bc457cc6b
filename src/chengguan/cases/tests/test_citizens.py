"""The reporter on the portal: follow-ups that reach the department, "not fixed" after closure,
their cases by phone number, end states with their reasons — pages and API."""

import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from PIL import Image

from chengguan.cases import citizens, services
from chengguan.cases.models import Attachment, Case, Event
from chengguan.cases.tests.conftest import PASSWORD, at
from chengguan.notify.models import Outbox

pytestmark = pytest.mark.django_db
PHONE = "138 1234 5678"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Attempts count per case number, and numbers repeat from test to test.
    cache.clear()
    yield
    cache.clear()


def photo() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 40)).save(out, format="JPEG")
    out.seek(0)
    out.name = "still-there.jpg"
    return out


def reported(world, state="handling", phone=PHONE, **kwargs):
    return world.make_case(state, reporter_phone=phone, **kwargs)


def api(client, path, body, **extra):
    return client.post(f"/api/v1/public{path}", json.dumps(body), content_type="application/json", **extra)


def test_it_derives_a_stable_reporter_code_per_case():
    code = citizens.reporter_code("2026112300001")
    assert code == citizens.reporter_code("2026112300001")
    assert code != citizens.reporter_code("2026112300002")
    assert len(code) == 8 and set(code) <= set(citizens.ALPHABET)


@pytest.mark.parametrize("phone", ["13812345678", "+86 138-1234-5678", "0086 13812345678", "(138) 1234 5678"])
def test_it_reads_a_phone_number_digit_by_digit(phone):
    assert citizens.phone_key(phone) == "13812345678"


# --- follow-up ---------------------------------------------------------------------------------


def test_it_takes_a_reporters_follow_up_to_the_department(world):
    world.sanitation_user.email = "sanitation@example.gov.cn"
    world.sanitation_user.save()
    case = reported(world)
    response = Client().post(f"/public/cases/{case.number}/follow-up",
                             {"phone": "+86 13812345678", "note": "<b>又堆了</b> 两袋", "photos": [photo()]})
    assert response.status_code == 302 and response["Location"].endswith("?done=follow_up#citizen")
    event = Event.objects.get(case=case, operation="follow_up")
    assert (event.actor_id, event.actor_role, event.note) == (None, "citizen", "<b>又堆了</b> 两袋")
    assert Attachment.objects.get(event=event).stage == "follow_up"
    message = Outbox.objects.get(event=event)
    assert (message.audience, message.channel, message.recipient) == ("department", "email",
                                                                       "sanitation@example.gov.cn")
    assert "两袋" in message.body and "附照片 1 张" in message.body
    # The department sees it on its task page and in its inbox, as text.
    staff = Client()
    assert staff.login(username="dept-D0101", password=PASSWORD)
    page = staff.get(f"/inbox/cases/{case.number}/").content.decode()
    assert "&lt;b&gt;又堆了&lt;/b&gt; 两袋" in page and "<b>又堆了</b>" not in page
    assert "反映人（市民）" in page
    inbox = staff.get("/inbox/").content.decode()
    assert 'data-count="follow_ups"' in inbox and case.number in inbox
    # The public page says something was added, not what.
    public = Client().get(f"/public/cases/{case.number}/?done=follow_up").content.decode()
    assert "反映人补充了情况" in public and "两袋" not in public


def test_it_refuses_a_follow_up_from_someone_else_and_stores_nothing(world):
    case = reported(world)
    before = Event.objects.count()
    response = Client().post(f"/public/cases/{case.number}/follow-up", {"phone": "13900000000", "note": "假的"})
    assert response.status_code == 403
    assert "电话号码与该案件登记的不一致" in response.content.decode()
    response = Client().post(f"/public/cases/{case.number}/follow-up", {"code": "AAAAAAAA", "note": "假的"})
    assert response.status_code == 403 and "查询码不正确" in response.content.decode()
    response = Client().post(f"/public/cases/{case.number}/follow-up", {"note": "谁都不是"})
    assert response.status_code == 422
    assert Event.objects.count() == before and not Attachment.objects.filter(stage="follow_up").exists()


def test_it_takes_a_follow_up_by_api_with_the_reporter_code(world):
    case = reported(world, phone="")
    response = api(Client(), f"/cases/{case.number}/follow-ups",
                   {"code": citizens.reporter_code(case.number).lower(), "note": "晚上更多"})
    assert response.status_code == 201, response.content
    assert Event.objects.filter(case=case, operation="follow_up", note="晚上更多").exists()
    response = api(Client(), f"/cases/{case.number}/follow-ups", {"code": "WRONG123", "note": "x"})
    assert response.status_code == 403 and response.json()["error"]["field"] == "code"
    response = api(Client(), f"/cases/{case.number}/follow-ups", {"code": citizens.reporter_code(case.number)})
    assert response.status_code == 422 and response.json()["error"]["field"] == "note"


def test_it_takes_photos_with_an_api_follow_up(world):
    case = reported(world)
    response = Client().post(f"/api/v1/public/cases/{case.number}/follow-ups",
                             {"phone": PHONE, "photos": [photo()]})
    assert response.status_code == 201, response.content
    assert Attachment.objects.filter(case=case, stage="follow_up", event__operation="follow_up").count() == 1


def test_it_limits_the_attempts_to_prove_who_one_is(world, settings):
    settings.PUBLIC_PROOF_PER_HOUR = 3
    case = reported(world)
    statuses = [api(Client(), f"/cases/{case.number}/follow-ups", {"phone": "13900000000", "note": "x"}).status_code
                for _ in range(4)]
    assert statuses == [403, 403, 403, 429]


# --- not fixed ---------------------------------------------------------------------------------


def test_it_puts_a_closed_case_the_reporter_says_is_not_fixed_back_before_the_call_taker(world):
    case = reported(world, "closed")
    page = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert 'id="dispute-form"' in page and 'action="/public/cases/' in page
    response = Client().post(f"/public/cases/{case.number}/not-fixed", {"phone": PHONE, "note": "垃圾还在"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.closed_at, case.stage) == ("pending", None, "register")
    event = Event.objects.get(case=case, operation="dispute")
    assert (event.from_state, event.to_state, event.note, event.actor_role) == ("closed", "pending", "垃圾还在",
                                                                               "citizen")
    # The call-taker files it again, and the loop runs as before.
    case = services.register_case(case, actor=world.operator, version=case.version, now=at("2026-11-24 09:00"))
    assert case.state == "registered"
    public = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert "反映人表示问题没有解决" in public


def test_it_takes_not_fixed_only_within_the_days_after_closure(world):
    case = reported(world, "closed")
    later = case.closed_at + timedelta(days=31)
    with pytest.raises(services.Conflict) as err:
        services.apply_as_citizen(case, "dispute", note="还在", now=later)
    assert err.value.code == "dispute_too_late"
    case.refresh_from_db()
    assert case.state == "closed"


def test_it_refuses_not_fixed_on_an_open_case_and_without_a_note(world):
    case = reported(world, "handling")
    response = api(Client(), f"/cases/{case.number}/not-fixed", {"phone": PHONE, "note": "还在"})
    assert response.status_code == 409 and response.json()["error"]["field"] == "state"
    closed = reported(world, "closed")
    response = api(Client(), f"/cases/{closed.number}/not-fixed", {"phone": PHONE})
    assert response.status_code == 422 and response.json()["error"]["field"] == "note"


def test_it_caps_how_often_one_case_is_sent_back(world, settings):
    settings.PUBLIC_DISPUTE_LIMIT = 1
    case = reported(world, "closed")
    case = services.apply_as_citizen(case, "dispute", note="还在", now=case.closed_at + timedelta(hours=1))
    now = case.updated_at
    for operation, actor, fields in [("register", world.operator, {}), ("dispatch", world.dispatcher, {}),
                                     ("sign", world.sanitation_user, {}),
                                     ("feedback", world.sanitation_user, {"result": "再次清理"}),
                                     ("check", world.inspector, {"fixed": True}), ("close", world.operator, {})]:
        now += timedelta(minutes=1)
        case = world.act(case, operation, actor, now, **fields)
    with pytest.raises(services.Conflict) as err:
        services.apply_as_citizen(case, "dispute", note="又脏了", now=now + timedelta(minutes=1))
    assert err.value.code == "dispute_limit"


# --- my cases by phone -------------------------------------------------------------------------


def test_it_lists_a_phones_cases_only_with_one_of_their_numbers(world):
    first = reported(world, "closed")
    second = world.make_case("registered", start="2026-11-24 09:00", reporter_phone="+86 138-1234-5678")
    reported(world, "handling", phone="13900000000")
    response = api(Client(), "/my-cases", {"phone": "13812345678", "number": first.number})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "138****5678"
    assert [item["number"] for item in body["items"]] == [second.number, first.number]
    assert "13812345678" not in response.content.decode()
    response = api(Client(), "/my-cases", {"phone": "13812345678", "number": ""})
    assert response.status_code == 422 and response.json()["error"]["field"] == "number"
    response = api(Client(), "/my-cases", {"phone": "13900000000", "number": first.number})
    assert response.status_code == 403 and response.json()["error"]["field"] == "phone"


def test_it_shows_my_cases_on_a_page_with_the_phone_masked(world):
    case = reported(world, "registered")
    assert Client().get("/public/mine/").status_code == 200
    response = Client().post("/public/mine/", {"phone": PHONE, "number": case.number})
    html = response.content.decode()
    assert response.status_code == 200 and "138****5678" in html and case.number in html
    assert "1234" not in html.split('id="mine-results"')[1].split(case.number)[0]
    response = Client().post("/public/mine/", {"phone": PHONE, "number": "2099010100001"})
    assert response.status_code == 404


# --- at report time and at the end ---------------------------------------------------------------


def test_it_gives_the_reporter_code_once_at_report_time(world):
    grid = world.grids[4]
    client = Client()
    response = client.post("/public/report/", {
        "class_code": "E0102", "lon": f"{grid.center_lon:.7f}", "lat": f"{grid.center_lat:.7f}", "crs": "wgs84",
        "description": "垃圾", "reporter_phone": PHONE, "reporter_email": "me@example.com"})
    assert response.status_code == 302
    number = Case.objects.get().number
    code = citizens.reporter_code(number)
    assert code in client.get(response["Location"]).content.decode()
    assert code not in Client().get(response["Location"]).content.decode()  # another browser: no code
    message = Outbox.objects.get(case__number=number)
    assert (message.channel, message.recipient) == ("email", "me@example.com") and code in message.body
    response = api(Client(), "/cases", {"class_code": "E0102", "lon": grid.center_lon, "lat": grid.center_lat,
                                        "description": "又一处"})
    assert response.status_code == 201 and len(response.json()["reporter_code"]) == 8


def test_it_refuses_a_malformed_email_naming_the_field(world):
    grid = world.grids[4]
    response = api(Client(), "/cases", {"class_code": "E0102", "lon": grid.center_lon, "lat": grid.center_lat,
                                        "reporter": {"email": "not an address"}})
    assert response.status_code == 422 and response.json()["error"]["field"] == "reporter.email"


def test_it_says_whose_job_a_rejected_case_is(world):
    case = reported(world, "reported")
    world.act(case, "reject", world.operator, at("2026-11-23 10:00"), reason="属供电部门管理",
              refer_to="国网供电服务热线 95598")
    html = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert "属供电部门管理" in html and "国网供电服务热线 95598" in html and 'id="referred-to"' in html


def test_it_offers_a_rating_after_closure_and_shows_the_closing_note(world):
    case = reported(world, "closable")
    case = world.act(case, "close", world.operator, at("2026-11-23 12:00"), reason="已清运并冲洗地面")
    html = Client().get(f"/public/cases/{case.number}/").content.decode()
    assert f'action="/public/cases/{case.number}/rating"' in html
    assert "已清运并冲洗地面" in html
