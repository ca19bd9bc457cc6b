"""The command center's pages: the board, its filters, queues and export; the case page and its sheet."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from chengguan.cases.models import Case
from chengguan.cases.pages import center
from chengguan.cases.pages.center import duration_text, left_text, workday_minutes
from chengguan.cases.tests.conftest import PASSWORD, at
from chengguan.geo.models import City, Region
from chengguan.org.models import User

pytestmark = pytest.mark.django_db


def signed_in(username: str, *, english: bool = False) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en" if english else "zh-hans")
    assert client.login(username=username, password=PASSWORD)
    return client


def numbers(response) -> list[str]:
    """Case numbers listed on a board page, in order."""
    return re.findall(r'<tr data-number="(\d+)"', response.content.decode())


def form_fields(html: str, form_marker: str) -> dict[str, str]:
    """The named fields of the first form whose opening tag contains `form_marker`."""
    start = html.index(form_marker)
    start = html.rindex("<form", 0, start)
    body = html[start:html.index("</form>", start)]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
    fields.pop("csrfmiddlewaretoken", None)  # the test client does not check it
    button = re.search(r'<button[^>]*name="(\w+)" value="(\w+)"', body)
    if button:
        fields[button.group(1)] = button.group(2)
    return fields


def fresh_case(world, **kwargs) -> Case:
    """A case reported just now, so that its clock is green."""
    return world.report(now=timezone.now(), **kwargs)


# ---------------------------------------------------------------------------------------------
# who may come in


@pytest.mark.parametrize("username", ["operator", "shiftlead", "dispatcher", "leader"])
def test_it_shows_the_board_to_the_center_and_to_leaders(world, username):
    case = world.make_case("handling")
    response = signed_in(username).get("/center/?queue=open")
    assert response.status_code == 200
    assert numbers(response) == [case.number]
    assert "指挥中心" in response.content.decode()


@pytest.mark.parametrize("username", ["inspector", "volunteer", "dept-D0101"])
def test_it_refuses_the_field_and_the_departments(world, username):
    case = world.make_case("handling")
    client = signed_in(username)
    for url in ("/center/", f"/center/cases/{case.number}/", f"/center/cases/{case.number}/print/",
                "/center/export.xlsx"):
        assert client.get(url).status_code == 403, url


def test_it_sends_strangers_to_sign_in(world):
    case = world.make_case("registered")
    for url in ("/center/", f"/center/cases/{case.number}/", "/center/export.xlsx"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=/center/")


def test_it_hides_cases_of_another_city_and_unknown_numbers(world):
    other_city = City.objects.create(code="330200", name="宁波市", calendar=world.city.calendar)
    stranger = User(username="op2", role="operator", city=other_city)
    stranger.set_password(PASSWORD)
    stranger.save()
    case = world.make_case("registered")
    client = signed_in("op2")
    assert client.get(f"/center/cases/{case.number}/").status_code == 404
    assert numbers(client.get("/center/?queue=all")) == []
    assert signed_in("operator").get("/center/cases/2000010100001/").status_code == 404


# ---------------------------------------------------------------------------------------------
# the board


def test_it_opens_each_role_on_its_own_queue(world):
    reported = world.make_case("reported")
    registered = world.make_case("registered", start="2026-11-23 10:00")
    assert numbers(signed_in("operator").get("/center/")) == [reported.number]
    assert numbers(signed_in("dispatcher").get("/center/")) == [registered.number]
    assert numbers(signed_in("shiftlead").get("/center/")) == [registered.number, reported.number]


def test_it_lists_each_queue(world):
    reported = world.make_case("reported", start="2026-11-23 09:00")
    registered = world.make_case("registered", start="2026-11-23 09:10")
    handling = world.make_case("handling", start="2026-11-23 09:20")
    closable = world.make_case("closable", start="2026-11-23 09:30")
    closed = world.make_case("closed", start="2026-11-23 09:40")
    asking = world.make_case("handling", start="2026-11-23 09:50")
    asking = world.act(asking, "request_extension", world.sanitation_user, at("2026-11-23 11:00"), minutes=60,
                       reason="等待配件")
    hotline = world.report(actor=world.operator, source="hotline", now=at("2026-11-23 10:30"),
                           reporter_name="张先生", reporter_phone="13800001234")
    supervised = world.act(handling, "supervise", world.leader, at("2026-11-23 12:00"), note="尽快处理")
    client = signed_in("shiftlead")

    def listed(queue):
        return set(numbers(client.get(f"/center/?queue={queue}")))

    assert listed("register") == {reported.number}
    assert listed("verify") == {hotline.number}
    assert listed("dispatch") == {registered.number}
    assert listed("approve") == {asking.number}
    assert listed("close") == {closable.number}
    assert listed("supervised") == {supervised.number}
    assert closed.number not in listed("open")
    assert closed.number in listed("all")
    # Every open case of 23 November is long past its stage deadline by now.
    assert listed("overdue") == {reported.number, registered.number, handling.number, asking.number, hotline.number}


def test_it_filters_by_every_field_and_keeps_the_filter_in_the_links(world):
    garbage = world.make_case("handling", start="2026-11-23 09:00", address="体育馆路 1 号")
    cover = world.make_case("handling", class_code="C0101", start="2026-11-24 09:00", description="井盖破损")
    hotline = world.report(actor=world.operator, source="hotline", now=at("2026-11-25 09:00"),
                           address="江滨西大道 9 号")
    supervised = world.act(garbage, "supervise", world.leader, at("2026-11-23 12:00"), note="督办")
    client = signed_in("shiftlead")

    def listed(query):
        response = client.get(f"/center/?queue=all&{query}")
        assert response.status_code == 200, query
        return numbers(response)

    assert listed("class_code=C0101") == [cover.number]
    assert listed("department=D06") == [cover.number]
    assert listed("department=D0101") == [garbage.number]
    assert listed("source=hotline") == [hotline.number]
    assert listed("supervised=1") == [supervised.number]
    assert listed("supervised=0") == [hotline.number, cover.number]
    assert listed("state=handling") == [cover.number, garbage.number]
    assert listed("state=verifying") == [hotline.number]
    assert listed("street=330111001") == [hotline.number, cover.number, garbage.number]
    assert listed("street=330111999") == []
    assert listed("q=体育馆") == [garbage.number]
    assert listed("q=井盖") == [cover.number]
    assert listed(f"q={hotline.number}") == [hotline.number]
    assert listed("created_after=2026-11-24") == [hotline.number, cover.number]
    assert listed("created_before=2026-11-24") == [cover.number, garbage.number]  # the whole last day counts
    assert listed("created_after=2026-11-24&created_before=2026-11-24&class_code=C0101") == [cover.number]
    html = client.get("/center/?queue=all&class_code=C0101&q=井盖").content.decode()
    # Tabs, lights and export carry the filter, so a bookmark or a refresh shows the same list.
    assert 'href="?q=%E4%BA%95%E7%9B%96&amp;class_code=C0101&amp;queue=open"' in html
    assert "export.xlsx?q=%E4%BA%95%E7%9B%96&amp;class_code=C0101&amp;queue=all" in html
    assert 'hx-get="/center/?q=%E4%BA%95%E7%9B%96&amp;class_code=C0101&amp;queue=all"' in html
    assert 'href="/center/map/?q=%E4%BA%95%E7%9B%96&amp;class_code=C0101" id="cc-map-link"' in html


def test_it_filters_by_light_and_counts_the_lights(world):
    late = world.make_case("registered", start="2026-11-23 09:00")
    on_time = fresh_case(world, address="新登路 8 号")
    world.make_case("closed", start="2026-11-23 10:00")
    client = signed_in("shiftlead")
    assert numbers(client.get("/center/?queue=open&light=red")) == [late.number]
    assert numbers(client.get("/center/?queue=open&light=green")) == [on_time.number]
    assert numbers(client.get("/center/?queue=open&light=yellow")) == []
    counts = client.get("/center/?queue=open").context["counts"]
    assert (counts["open"], counts["red"], counts["yellow"], counts["green"]) == (2, 1, 0, 1)
    assert (counts["register"], counts["dispatch"], counts["overdue"]) == (1, 1, 1)
    # Counts follow the other filters: within class C0101 nothing is open.
    counts = client.get("/center/?queue=open&class_code=C0101").context["counts"]
    assert (counts["open"], counts["red"], counts["green"]) == (0, 0, 0)


def test_it_shows_the_row_facts(world):
    case = world.make_case("handling", address="体育馆路 88 号")
    case = world.act(case, "supervise", world.leader, at("2026-11-23 12:00"), note="督办")
    html = signed_in("dispatcher").get("/center/?queue=open").content.decode()
    row = html[html.index(f'<tr data-number="{case.number}"'):]
    row = row[:row.index("</tr>")]
    for text in (case.number, "红灯", "处置中", "暴露垃圾", "富春街道", "体育馆路 88 号", "环卫处", "超时", "监督员",
                 "督办", "11-23 09:00"):
        assert text in row, text


def test_it_pages_newest_first_with_a_cursor(world):
    made = [world.report(now=at("2026-11-23 09:00") + timedelta(minutes=i)) for i in range(30)]
    client = signed_in("operator")
    first = client.get("/center/?queue=register&size=25")
    assert numbers(first) == [c.number for c in reversed(made)][:25]
    next_url = first.context["next_url"]
    assert next_url
    second = client.get("/center/" + next_url)
    assert numbers(second) == [c.number for c in reversed(made)][25:]
    assert second.context["next_url"] == ""
    assert second.context["first_url"]


def test_it_keeps_the_board_to_a_handful_of_queries_whatever_its_size(world, django_assert_max_num_queries):
    for i in range(30):
        case = world.make_case("handling", start=f"2026-11-23 {9 + i // 6:02d}:{(i % 6) * 10:02d}")
    world.act(case, "request_extension", world.sanitation_user, at("2026-11-24 10:00"), minutes=60, reason="等")
    client = signed_in("shiftlead")
    client.get("/center/?queue=open&size=25")  # warm the working-time table of the process
    counted = []
    for size in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/center/?queue=open&size={size}")
        assert len(numbers(response)) == min(size, 30)
        counted.append(len(queries))
    assert counted[0] == counted[1]
    # session, user, street names, the page, its city and calendar, its running clocks, one aggregate
    # of counts, the filter lists
    with django_assert_max_num_queries(10):
        client.get("/center/?queue=open&size=100")
    with django_assert_max_num_queries(8):
        client.get("/center/?queue=open&size=100", HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(7):
        assert client.get("/center/export.xlsx?queue=open").status_code == 200


def test_it_refreshes_as_a_fragment(world):
    case = world.make_case("registered")
    response = signed_in("dispatcher").get("/center/?queue=dispatch", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "<form" not in html
    assert f'data-number="{case.number}"' in html and "cc-tabs" in html and "cc-lights" in html
    assert "HX-Request" in response["Vary"]


def test_it_reports_a_bad_filter_on_the_page(world):
    world.make_case("registered")
    response = signed_in("dispatcher").get("/center/?queue=open&state=flying&created_after=yesterday")
    html = response.content.decode()
    assert response.status_code == 400
    assert "字段 state 的值无效：flying" in html and "created_after 应为日期" in html
    assert numbers(response) == []


def test_it_speaks_english_when_asked(world):
    world.make_case("handling")
    html = signed_in("dispatcher", english=True).get("/center/?queue=open").content.decode()
    assert "Command center" in html and "To dispatch" in html and "handling" in html and "over" in html


def test_it_exports_the_filtered_list_to_xlsx(world):
    garbage = world.make_case("handling", address="体育馆路 1 号")
    world.make_case("handling", class_code="C0101", start="2026-11-24 09:00")
    response = signed_in("shiftlead").get("/center/export.xlsx?queue=open&class_code=E0102")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "案件清单（在办）"
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["案件号", "状态", "亮灯", "剩余时间"] and "当前部门" in header
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["案件号"] == garbage.number and row["状态"] == "处置中" and row["亮灯"] == "红灯"
    assert row["小类"] == "暴露垃圾" and row["当前部门"] == "环卫处" and row["地址"] == "体育馆路 1 号"
    assert row["街道"] == "富春街道" and row["剩余时间"].startswith("超时")


def test_it_exports_no_more_than_the_cap(world):
    for i in range(4):
        world.report(now=at("2026-11-23 09:00") + timedelta(minutes=i))
    center.EXPORT_LIMIT, cap = 3, center.EXPORT_LIMIT
    try:
        response = signed_in("operator").get("/center/export.xlsx?queue=register")
    finally:
        center.EXPORT_LIMIT = cap
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3 + 3 and "前3条" in sheet["A1"].value


# ---------------------------------------------------------------------------------------------
# the case page


def test_it_shows_the_case_with_its_facts_timeline_clocks_and_tasks(world):
    case = world.report(actor=world.operator, source="hotline", now=at("2026-11-23 09:00"), address="迎宾北路 5 号",
                        description="垃圾堆放两天", reporter_name="张先生", reporter_phone="13800001234")
    case = world.act(case, "verify", world.inspector, at("2026-11-23 09:20"), valid=True)
    case = world.act(case, "register", world.operator, at("2026-11-23 09:30"), note="情况属实")
    case = world.act(case, "dispatch", world.dispatcher, at("2026-11-23 09:40"))
    world.operator.display_name = "王丽"
    world.operator.save()
    html = signed_in("dispatcher").get(f"/center/cases/{case.number}/").content.decode()
    for text in (case.number, "待签收", "暴露垃圾", "迎宾北路 5 号", "垃圾堆放两天", "热线", "张先生",
                 "13800001234", "富春街道", "测试社区", "330111001001005", "环卫处", "情况属实",
                 "立案", "王丽", "受理员", "派遣", "处置", "1个工作日", "超时"):
        assert text in html, text
    assert 'id="cc-map"' in html and '"grid": {"type": "Polygon"' in html


def test_it_shows_before_and_after_photos_with_links_to_full_size(world):
    from PIL import Image

    from chengguan.cases import photos

    def jpeg(colour):
        out = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
        return out.getvalue()

    case = world.make_case("handling")
    before = photos.add_photo(case, data=jpeg((200, 10, 10)), filename="before.jpg", stage="report",
                              actor=world.inspector)
    after = photos.add_photo(case, data=jpeg((10, 200, 10)), filename="after.jpg", stage="handle",
                             actor=world.sanitation_user)
    html = signed_in("operator").get(f"/center/cases/{case.number}/").content.decode()
    figures = html[html.index("cc-before-after"):]
    before_at = figures.index(f"/attachments/{before.pk}?variant=thumb")
    after_at = figures.index(f"/attachments/{after.pk}?variant=thumb")
    assert figures.index("处置前") < before_at < figures.index("处置后") < after_at
    assert f'href="/api/v1/cases/{case.number}/attachments/{after.pk}?variant=original"' in html


def act_forms(html: str) -> set[str]:
    return set(re.findall(r'action="/cases/\d+/act/(\w+)"', html))


def test_it_offers_each_role_exactly_its_operations(world):
    reported = world.make_case("reported")
    registered = world.make_case("registered", start="2026-11-23 10:00")
    handling = world.make_case("handling", start="2026-11-23 11:00")

    def offered(username, case):
        return act_forms(signed_in(username).get(f"/center/cases/{case.number}/").content.decode())

    assert offered("operator", reported) == {"register", "reject", "amend", "follow_up", "merge"}
    assert offered("dispatcher", reported) == {"follow_up"}
    assert offered("operator", registered) == {"amend", "follow_up", "merge"}
    assert offered("dispatcher", registered) == {"dispatch", "follow_up"}
    assert offered("shiftlead", registered) >= {"dispatch", "cancel"}
    assert offered("leader", handling) == {"supervise", "follow_up"}
    assert "dispatch" not in offered("operator", registered)
    assert "register" not in offered("dispatcher", reported)


def test_it_dispatches_with_one_click_to_the_suggested_department(world):
    case = world.make_case("registered")
    client = signed_in("dispatcher")
    html = client.get(f"/center/cases/{case.number}/").content.decode()
    assert "派遣至 环卫处" in html
    assert re.search(r'<option value="D0101" selected>环卫处 ★ 建议</option>', html)
    fields = form_fields(html, 'id="cc-dispatch-suggested"')
    assert fields == {"version": str(case.version), "next": f"/center/cases/{case.number}/", "department": "D0101"}
    response = client.post(f"/cases/{case.number}/act/dispatch", fields)
    assert response.status_code == 302 and response["Location"] == f"/center/cases/{case.number}/"
    case.refresh_from_db()
    assert case.state == "dispatched" and case.department.code == "D0101"
    page = client.get(response["Location"]).content.decode()
    assert "已派遣：" in page and "dispatch" not in act_forms(page)


def test_it_decides_a_pending_request_from_the_page(world):
    case = world.make_case("handling")
    case = world.act(case, "request_extension", world.sanitation_user, at("2026-11-23 10:00"), minutes=120,
                     reason="等待配件")
    client = signed_in("dispatcher")
    html = client.get(f"/center/cases/{case.number}/").content.decode()
    assert "环卫处</b> 申请延期 <b>2小时00分</b>" in html and "等待配件" in html
    assert 'name="minutes" type="number" min="1" max="120" value="120"' in html
    fields = form_fields(html, 'data-operation="decide_extension"')
    assert fields["approve"] == "true"
    response = client.post(f"/cases/{case.number}/act/decide_extension", {**fields, "minutes": "60"})
    assert response.status_code == 302
    task = case.tasks.get()
    assert task.extended_minutes == 60
    assert "decide_extension" not in act_forms(client.get(f"/center/cases/{case.number}/").content.decode())


def test_it_shows_an_htmx_refusal_in_the_form(world):
    case = world.make_case("reported")
    response = signed_in("operator").post(f"/cases/{case.number}/act/reject", {"version": case.version},
                                          HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "reason" in response.content.decode()
    html = signed_in("operator").get(f"/center/cases/{case.number}/").content.decode()
    form = html[html.index('data-operation="reject"'):]
    assert 'hx-target="find .cc-op-error"' in html and '<textarea name="reason"' in form[:form.index("</form>")]


def test_it_suggests_duplicates_and_merges_into_one_with_one_click(world):
    first = world.make_case("registered", start="2026-11-23 09:00")
    second = world.report(now=at("2026-11-23 09:30"))
    client = signed_in("operator")
    html = client.get(f"/center/cases/{second.number}/").content.decode()
    section = html[html.index("疑似重复"):]
    assert first.number in section and "合并到此案" in section
    fields = form_fields(section, 'data-operation="merge"')
    assert fields["into"] == first.number
    response = client.post(f"/cases/{second.number}/act/merge", fields)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.state == "cancelled" and second.duplicate_of_id == first.pk
    html = client.get(f"/center/cases/{second.number}/").content.decode()
    assert f"本案已并入 <a href=\"/center/cases/{first.number}/\">" in html


def test_it_shows_the_calendar_warning(world):
    case = world.report(now=at("2031-03-03 09:00"))
    assert case.calendar_warning
    html = signed_in("operator").get(f"/center/cases/{case.number}/").content.decode()
    assert case.calendar_warning in html


def test_it_keeps_the_case_page_to_a_handful_of_queries(world, django_assert_max_num_queries):
    case = world.make_case("handling")
    case = world.act(case, "request_extension", world.sanitation_user, at("2026-11-23 10:00"), minutes=60,
                     reason="等")
    for i in range(5):
        case = world.act(case, "follow_up", world.operator, at("2026-11-23 11:00") + timedelta(minutes=i),
                         note=f"第{i}次联系")
    client = signed_in("shiftlead")
    client.get(f"/center/cases/{case.number}/")
    with django_assert_max_num_queries(12):
        assert client.get(f"/center/cases/{case.number}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/center/cases/{case.number}/print/").status_code == 200
    registered = world.make_case("registered", start="2026-11-24 09:00")
    with django_assert_max_num_queries(12):
        assert client.get(f"/center/cases/{registered.number}/").status_code == 200


def test_it_prints_the_case_sheet(world):
    case = world.make_case("closed")
    response = signed_in("operator").get(f"/center/cases/{case.number}/print/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("城市管理案件卷宗", case.number, "已结案", "暴露垃圾", "办理过程", "结案", "核查", "处置前", "处置后",
                 "打印时间", 'id="cc-print-now"'):
        assert text in html, text
    assert "/act/" not in html


def test_it_names_durations_in_working_days():
    assert duration_text(450 * 2 + 90, False, day=450) == "2个工作日1小时"
    assert duration_text(450, False, day=450) == "1个工作日"
    assert duration_text(125, False) == "2小时05分"
    assert duration_text(1500, True) == "1 d 1 h"
    assert duration_text(1500, False, day=center.HOURS_ONLY) == "25小时00分"
    assert left_text(-30, False) == "超时 30分" and left_text(30, True) == "30 min left"
    assert left_text(0, False, overdue=True) == "已超时" and left_text(0, False) == "剩 0分"
    assert workday_minutes(type("Cal", (), {"working_hours": [["09:00", "12:00"], ["14:00", "18:00"]]})) == 420
    assert workday_minutes(type("Cal", (), {"working_hours": []})) == 450


def test_it_reads_street_names_from_the_regions(world):
    Region.objects.filter(code=world.street.code).update(name="富春街道（新）")
    case = world.make_case("handling")
    html = signed_in("operator").get("/center/?queue=open").content.decode()
    assert f'data-number="{case.number}"' in html and "富春街道（新）" in html
