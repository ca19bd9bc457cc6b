"""The department inbox: own tasks only, tabs, lights, search, paging, export, the task page, the month's figures."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from chengguan.cases.models import Task
from chengguan.cases.pages.inbox import Month, department_figures
from chengguan.cases.tests.conftest import PASSWORD, SH, at

pytestmark = pytest.mark.django_db


def signed_in(username: str, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def listed(html: str) -> list[str]:
    """Case numbers in the inbox table, in the order shown."""
    return re.findall(r'<tr data-href="/inbox/cases/\d+/" data-case="(\d+)"', html)


def tab_count(html: str, tab: str) -> int:
    found = re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    assert found, tab
    return int(found.group(1))


def figure(html: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}">([^<]*)<', html)
    assert found, key
    return found.group(1).strip()


def walk(world, case, *steps):
    """Apply (operation, actor, "YYYY-mm-dd HH:MM", fields) steps in order."""
    for operation, actor, when, fields in steps:
        case = world.act(case, operation, actor, at(when), **fields)
    return case


# --- who may see what -----------------------------------------------------------------------


def test_it_lists_only_the_departments_own_tasks(world, django_assert_max_num_queries):
    garbage = world.make_case("dispatched")  # exposed garbage → 环卫处
    cover = world.make_case("dispatched", class_code="C0101")  # manhole cover → 水务集团
    client = signed_in("dept-D0101")
    with django_assert_max_num_queries(9):  # 8, and one for the reminders and follow-ups box
        html = client.get("/inbox/").content.decode()
    assert listed(html) == [garbage.number]
    assert "环卫处" in html
    assert listed(signed_in("dept-D06").get("/inbox/").content.decode()) == [cover.number]


def test_it_shows_another_departments_case_as_not_found(world):
    cover = world.make_case("dispatched", class_code="C0101")
    response = signed_in("dept-D0101").get(f"/inbox/cases/{cover.number}/")
    assert response.status_code == 404
    assert "不是派给本部门的任务" in response.content.decode()
    assert signed_in("dept-D0101").get("/inbox/cases/2026010100001/").status_code == 404


@pytest.mark.parametrize("username", ["operator", "dispatcher", "inspector", "leader"])
def test_it_refuses_other_roles(world, username):
    case = world.make_case("dispatched")
    client = signed_in(username)
    for url in ("/inbox/", f"/inbox/cases/{case.number}/", "/inbox/export"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "无权访问" in response.content.decode()


def test_it_tells_an_account_with_no_department_so(world):
    from chengguan.org.models import User

    loose = User(username="dept-none", role="department", city=world.city)
    loose.set_password(PASSWORD)
    loose.save()
    world.make_case("dispatched")
    html = signed_in("dept-none").get("/inbox/").content.decode()
    assert "尚未关联专业部门" in html and listed(html) == []


def test_it_sends_strangers_to_sign_in(world):
    response = Client().get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the list -------------------------------------------------------------------------------


def test_it_orders_open_tasks_by_deadline(world):
    normal = world.make_case("dispatched", start="2026-11-23 09:00")  # due Tue 09:02
    urgent = world.make_case("dispatched", start="2026-11-23 10:00", urgency="urgent")  # due Mon 12:02
    later = world.make_case("dispatched", start="2026-11-24 09:00")  # due Wed 09:02
    html = signed_in("dept-D0101").get("/inbox/").content.decode()
    assert listed(html) == [urgent.number, normal.number, later.number]


def test_it_puts_each_task_under_its_tab(world, django_assert_max_num_queries):
    dispatched = world.make_case("dispatched")
    handling = world.make_case("handling")
    awaiting = world.make_case("checking")
    done = world.make_case("closable")
    suspended = world.make_case("handling")
    suspended = walk(world, suspended, ("suspend", world.sanitation_user, "2026-11-23 11:00", {"reason": "等预算"}),
                     ("decide_suspend", world.dispatcher, "2026-11-23 11:10", {"approve": True}))
    client = signed_in("dept-D0101")
    expected = {
        "dispatched": [dispatched.number],
        "handling": [handling.number],
        "awaiting": [awaiting.number],
        "suspended": [suspended.number],
        "done": [done.number],
    }
    for tab, numbers in expected.items():
        html = client.get(f"/inbox/?tab={tab}").content.decode()
        assert listed(html) == numbers, tab
        assert tab_count(html, tab) == 1
        if tab == "awaiting":
            assert "已按期反馈" in html  # fed back, clock paused: no "time left" to count down
    with django_assert_max_num_queries(9):  # the same few queries for four rows as for one
        html = client.get("/inbox/").content.decode()
    assert sorted(listed(html)) == sorted([dispatched.number, handling.number, awaiting.number, suspended.number])
    assert tab_count(html, "open") == 4


def test_it_counts_lights_and_filters_by_them(world):
    now = timezone.localtime()
    overdue = world.make_case("handling", start="2026-11-02 09:00")  # due 11-03: long past
    fresh = world.make_case("dispatched", start=now.strftime("%Y-%m-%d %H:%M"))  # due a working day from now
    client = signed_in("dept-D0101")
    html = client.get("/inbox/").content.decode()
    chips = dict(re.findall(r'data-light="(red|yellow|green)"[^>]*>\s*<span class="dot"></span>[^<]*<b>(\d+)</b>',
                            html))
    assert chips == {"red": "1", "yellow": "0", "green": "1"}
    assert listed(client.get("/inbox/?light=red").content.decode()) == [overdue.number]
    assert listed(client.get("/inbox/?light=green").content.decode()) == [fresh.number]
    assert 'class="over"' in client.get("/inbox/?light=red").content.decode()


def test_it_searches_by_number_address_and_text(world):
    first = world.make_case("dispatched", address="富春路 18 号", description="垃圾桶满溢")
    second = world.make_case("dispatched", address="江滨西大道", description="绿化带内有建筑垃圾")
    client = signed_in("dept-D0101")
    assert listed(client.get("/inbox/", {"q": first.number}).content.decode()) == [first.number]
    assert listed(client.get("/inbox/", {"q": "江滨"}).content.decode()) == [second.number]
    assert listed(client.get("/inbox/", {"q": "建筑垃圾"}).content.decode()) == [second.number]
    html = client.get("/inbox/", {"q": "没有这个地方"}).content.decode()
    assert listed(html) == [] and "没有符合条件的任务" in html


def test_it_pages_through_the_list_without_repeating(world):
    numbers = [world.make_case("dispatched", start=f"2026-11-2{day} 09:00").number for day in (3, 4, 5)]
    client = signed_in("dept-D0101")
    html = client.get("/inbox/?size=2").content.decode()
    assert listed(html) == numbers[:2]
    next_url = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    html = client.get("/inbox/" + next_url).content.decode()
    assert listed(html) == numbers[2:]
    assert 'rel="next"' not in html


def test_it_returns_only_the_list_to_htmx(world):
    case = world.make_case("dispatched")
    response = signed_in("dept-D0101").get("/inbox/?tab=dispatched", HTTP_HX_REQUEST="true",
                                           HTTP_HX_TARGET="inbox-list")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="inbox-list"')
    assert listed(html) == [case.number] and "<html" not in html


def test_it_exports_the_list_to_xlsx(world, django_assert_max_num_queries):
    mine = world.make_case("handling", address="富春路 18 号")
    world.make_case("dispatched", class_code="C0101")
    client = signed_in("dept-D0101")
    with django_assert_max_num_queries(5):
        response = client.get("/inbox/export?tab=open")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows[0][:4] == ("案件号", "状态", "小类", "地址")
    assert [r[0] for r in rows[1:]] == [mine.number]
    assert rows[1][1] == "处置中" and rows[1][3] == "富春路 18 号"


# --- the task page --------------------------------------------------------------------------


def forms(html: str) -> list[str]:
    return re.findall(r'<form class="act [^"]*" method="post" action="/cases/\d+/act/(\w+)"', html)


def test_it_offers_exactly_the_allowed_operations(world, django_assert_max_num_queries):
    case = world.make_case("dispatched")
    client = signed_in("dept-D0101")
    with django_assert_max_num_queries(10):
        html = client.get(f"/inbox/cases/{case.number}/").content.decode()
    assert forms(html) == ["sign", "request_extension", "return", "suspend", "follow_up"]
    assert f'name="version" value="{case.version}"' in html
    assert f'name="next" value="/inbox/cases/{case.number}/"' in html

    case = walk(world, case, ("sign", world.sanitation_user, "2026-11-23 09:30", {}))
    html = client.get(f"/inbox/cases/{case.number}/").content.decode()
    assert forms(html) == ["feedback", "request_extension", "return", "suspend", "follow_up"]
    feedback = html[html.index("act/feedback"):html.index("</form>", html.index("act/feedback"))]
    assert re.search(r'<textarea name="result" required', feedback)
    assert 'type="file" name="photos" accept="image/*" capture="environment" multiple' in feedback

    case = walk(world, case, ("feedback", world.sanitation_user, "2026-11-23 10:00", {"result": "已清运"}))
    html = client.get(f"/inbox/cases/{case.number}/").content.decode()
    assert forms(html) == ["follow_up"]
    assert "等待监督员核查" in html


def test_it_shows_the_task_facts_deadline_and_history(world):
    case = world.report(now=at("2026-11-23 09:00"), address="富春路 18 号", description="垃圾堆放在人行道上")
    case = walk(world, case, ("register", world.operator, "2026-11-23 09:05", {}),
                ("dispatch", world.dispatcher, "2026-11-23 09:10", {"note": "请今天上午处理"}))
    html = signed_in("dept-D0101").get(f"/inbox/cases/{case.number}/").content.decode()
    assert "垃圾堆放在人行道上" in html and "富春路 18 号" in html and "暴露垃圾" in html
    assert 'data-due="2026-11-24T09:10:00+08:00"' in html  # one working day of 450 minutes
    assert "请今天上午处理" in html  # the dispatcher's note
    assert re.findall(r'<li data-operation="(\w+)"', html) == ["report", "register", "dispatch"]
    assert 'id="task-map"' in html and f'data-grid="{case.grid_code}"' in html


def test_it_tells_a_reworked_task_why_it_came_back(world):
    case = world.make_case("checking")
    case = walk(world, case, ("check", world.inspector, "2026-11-23 11:00", {"fixed": False, "note": "仍有垃圾残留"}))
    html = signed_in("dept-D0101").get(f"/inbox/cases/{case.number}/").content.decode()
    assert "核查未通过，需返工" in html and "仍有垃圾残留" in html
    assert forms(html)[0] == "sign"  # a reworked task is signed for again
    listing = signed_in("dept-D0101").get("/inbox/?tab=dispatched").content.decode()
    assert listed(listing) == [case.number] and 'class="tag rework"' in listing


def test_it_offers_extensions_in_working_hours_and_days(world):
    case = world.make_case("handling")
    html = signed_in("dept-D0101").get(f"/inbox/cases/{case.number}/").content.decode()
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)
    assert [int(v) for v, _ in options] == [120, 240, 450, 900, 1350, 2250, 4500]
    assert options[2][1].startswith("1 个工作日 → 11-25 09:02")  # due Tue 09:02, plus one working day


def test_it_shows_pending_and_decided_requests(world):
    case = world.make_case("handling")
    case = walk(world, case,
                ("request_extension", world.sanitation_user, "2026-11-23 10:00", {"minutes": 450, "reason": "等配件"}),
                ("decide_extension", world.dispatcher, "2026-11-23 10:30", {"approve": True, "minutes": 240}),
                ("suspend", world.sanitation_user, "2026-11-23 11:00", {"reason": "冬季无法施工"}))
    html = signed_in("dept-D0101").get(f"/inbox/cases/{case.number}/").content.decode()
    requests = re.findall(r'data-request="(\w+)" data-approved="(\w+)"', html)
    assert requests == [("suspend", "pending"), ("extension", "true")]
    assert "冬季无法施工" in html and "待审批" in html and "已批准" in html
    assert "1 个工作日" in html and "批准 4 个工作小时" in html
    assert "suspend" not in forms(html) and "request_extension" in forms(html)


def test_it_speaks_english_when_asked(world):
    case = world.make_case("handling")
    html = signed_in("dept-D0101", language="en").get(f"/inbox/cases/{case.number}/").content.decode()
    assert "Report the fix" in html and "exposed garbage" in html


# --- the month's figures --------------------------------------------------------------------


def build_month(world):
    """Tasks of 环卫处 around November 2026, each walked through real operations."""
    dept, disp, insp = world.sanitation_user, world.dispatcher, world.inspector
    # A: done on time
    a = world.make_case("handling", start="2026-11-23 09:00")
    walk(world, a, ("feedback", dept, "2026-11-23 10:00", {"result": "已清理"}),
         ("check", insp, "2026-11-23 10:30", {"fixed": True}))
    # B: done late (due Tue 09:02, fed back Wed)
    b = world.make_case("handling", start="2026-11-23 09:00")
    walk(world, b, ("feedback", dept, "2026-11-25 10:00", {"result": "已清理"}),
         ("check", insp, "2026-11-25 11:00", {"fixed": True}))
    # C: reworked once, then done on time (the deadline moved by the wait for the failed check)
    c = world.make_case("handling", start="2026-11-23 09:00")
    walk(world, c, ("feedback", dept, "2026-11-23 11:00", {"result": "已清理"}),
         ("check", insp, "2026-11-23 14:00", {"fixed": False}),
         ("sign", dept, "2026-11-23 14:10", {}),
         ("feedback", dept, "2026-11-23 15:00", {"result": "已彻底清理"}),
         ("check", insp, "2026-11-23 16:00", {"fixed": True}))
    # D: signed, never fed back: overdue
    world.make_case("handling", start="2026-11-23 09:00")
    # E: three working days more, approved: still open, not overdue on 11-26
    e = world.make_case("handling", start="2026-11-23 09:00")
    walk(world, e, ("request_extension", dept, "2026-11-23 10:00", {"minutes": 1350, "reason": "等配件"}),
         ("decide_extension", disp, "2026-11-23 10:30", {"approve": True}))
    # F: returned with approval: not due
    f = world.make_case("dispatched", start="2026-11-23 09:00")
    walk(world, f, ("return", dept, "2026-11-23 09:30", {"reason": "非本部门"}),
         ("decide_return", disp, "2026-11-23 09:40", {"approve": True}))
    # G: suspended: shown apart, not due
    g = world.make_case("handling", start="2026-11-23 09:00")
    walk(world, g, ("suspend", dept, "2026-11-23 10:00", {"reason": "冬季无法施工"}),
         ("decide_suspend", disp, "2026-11-23 10:10", {"approve": True}))
    # I: dispatched at 00:00 on 1 November, Beijing time (still October in UTC): counts, done on time
    i = world.make_case("handling", start="2026-10-31 23:58")
    walk(world, i, ("feedback", dept, "2026-11-02 09:00", {"result": "已清理"}),
         ("check", insp, "2026-11-02 10:00", {"fixed": True}))
    # H: dispatched at 23:52 on 31 October: not this month
    world.make_case("handling", start="2026-10-31 23:50")
    # another department's task: not ours
    world.make_case("handling", class_code="C0101", start="2026-11-23 09:00")


def test_it_computes_the_months_figures_in_one_query(world, django_assert_num_queries):
    build_month(world)
    assert Task.objects.get(case__reported_at=at("2026-10-31 23:58")).dispatched_at.astimezone(SH).day == 1
    month = Month.of("2026-11", at("2026-11-26 09:00"))
    with django_assert_num_queries(1):
        found = department_figures(world.sanitation.pk, month, now=at("2026-11-26 09:00"))
    assert {k: found[k] for k in ("received", "returned", "suspended", "due", "done", "done_on_time",
                                  "overdue_open", "reworked", "reworks", "extended")} == {
        "received": 8, "returned": 1, "suspended": 1, "due": 6, "done": 4, "done_on_time": 3,
        "overdue_open": 1, "reworked": 1, "reworks": 1, "extended": 1,
    }
    assert found["on_time_rate"] == 3 / 6 and found["done_rate"] == 4 / 6
    assert found["rework_rate"] == 1 / 4 and found["extension_rate"] == 1 / 6
    # as of a later instant the extended task is overdue too
    later = department_figures(world.sanitation.pk, month, now=at("2026-11-27 10:00"))
    assert later["overdue_open"] == 2
    # October holds only the task dispatched before midnight
    october = department_figures(world.sanitation.pk, Month.of("2026-10", at("2026-11-26 09:00")),
                                 now=at("2026-11-26 09:00"))
    assert october["received"] == 1 and october["on_time_rate"] == 0.0


def test_it_shows_the_figures_on_the_inbox(world):
    build_month(world)
    html = signed_in("dept-D0101").get("/inbox/?month=2026-11").content.decode()
    assert figure(html, "received") == "8"
    assert figure(html, "done") == "4"
    assert figure(html, "done_on_time") == "3"
    assert figure(html, "on_time_rate") == "50.0%"
    assert figure(html, "reworked") == "1"
    assert figure(html, "extended") == "1"
    assert figure(html, "returned") == "1"
    assert figure(html, "suspended") == "1"


def test_it_shows_a_dash_for_a_rate_with_nothing_to_count(world):
    build_month(world)
    html = signed_in("dept-D06").get("/inbox/?month=2026-10").content.decode()
    assert figure(html, "received") == "0"
    assert figure(html, "on_time_rate") == "—" and figure(html, "done_rate") == "—"
    assert "0.0%" not in html and "100.0%" not in html


def test_it_reads_the_month_in_beijing_time():
    month = Month.of("2026-11", timezone.now())
    assert month.start.isoformat() == "2026-11-01T00:00:00+08:00"
    assert month.end - month.start == timedelta(days=30)
    assert Month.of("2026-12", timezone.now()).following() == "2027-01"
    assert Month.of("nonsense", at("2026-03-01 00:30")).key == "2026-03"
