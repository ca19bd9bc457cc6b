"""Operations from page forms: the same services, typed form fields, errors shown on the page."""

import io

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from openpyxl import load_workbook

from chengguan.cases.permissions import allowed_operations
from chengguan.cases.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(username):
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_it_offers_each_role_only_what_it_may_do(world):
    case = world.make_case("dispatched")
    assert allowed_operations(world.sanitation_user, case) == ["sign", "request_extension", "return", "suspend",
                                                              "follow_up"]
    assert allowed_operations(world.water_user, case) == ["follow_up"]
    assert set(allowed_operations(world.dispatcher, case)) == {"follow_up"}
    assert "supervise" in allowed_operations(world.leader, case)
    assert "cancel" in allowed_operations(world.shiftlead, case)
    assert allowed_operations(world.operator, world.make_case("registered")) == [
        "amend", "follow_up", "merge"]


def test_it_applies_an_operation_from_a_form(world):
    case = world.make_case("checking")
    response = signed_in("inspector").post(
        f"/cases/{case.number}/act/check",
        {"version": case.version, "fixed": "true", "next": "/m/", "note": "现场已清理"},
    )
    assert response.status_code == 302 and response["Location"] == "/m/"
    case.refresh_from_db()
    assert case.state == "closable"


def test_it_shows_the_error_and_changes_nothing(world):
    case = world.make_case("checking")
    client = signed_in("inspector")
    response = client.post(f"/cases/{case.number}/act/check", {"version": case.version - 1, "fixed": "true",
                                                               "next": "/m/"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["案件已被他人更新，请刷新后重试"]
    hx = client.post(f"/cases/{case.number}/act/check", {"version": case.version}, HTTP_HX_REQUEST="true")
    assert hx.status_code == 422 and "fixed" in hx.content.decode()
    case.refresh_from_db()
    assert case.state == "checking"


def test_it_takes_photos_with_the_form(world):
    from PIL import Image

    case = world.make_case("handling")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(out, format="JPEG")
    out.seek(0)
    out.name = "after.jpg"
    response = signed_in("dept-D0101").post(
        f"/cases/{case.number}/act/feedback",
        {"version": case.version, "result": "已清运", "photos": out, "next": "/inbox/"},
    )
    assert response.status_code == 302
    assert case.attachments.get().stage == "handle"


def test_it_refuses_a_redirect_to_another_site(world):
    case = world.make_case("registered")
    response = signed_in("operator").post(f"/cases/{case.number}/act/register",
                                          {"version": case.version, "next": "https://evil.example/"})
    assert response["Location"].startswith("/center/")


def test_it_writes_a_list_to_xlsx():
    from chengguan.web.exports import xlsx_response

    response = xlsx_response("案件.xlsx", "案件清单", ["案件号", "状态"], [["2026112300001", "处置中"]])
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "案件清单" and sheet["A3"].value == "案件号" and sheet["A4"].value == "2026112300001"
    assert "filename*=UTF-8''" in response["Content-Disposition"]


def test_it_offers_a_decision_only_while_a_request_waits(world):
    from chengguan.cases.tests.conftest import at

    case = world.make_case("handling")
    case = world.act(case, "request_extension", world.sanitation_user, at("2026-11-23 10:00"), minutes=60,
                     reason="等待材料")
    assert "decide_extension" in allowed_operations(world.dispatcher, case)
    assert "request_extension" not in allowed_operations(world.sanitation_user, case)


def test_it_reads_a_deadline_without_offset_in_the_citys_zone(world):
    case = world.make_case("registered")
    response = signed_in("dispatcher").post(
        f"/cases/{case.number}/act/dispatch", {"version": case.version, "deadline": "2099-11-30T17:30"})
    assert response.status_code == 302
    task = case.tasks.get()
    from django.utils import timezone

    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == "2099-11-30 17:30"
