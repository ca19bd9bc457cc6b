"""The leader dashboard: its numbers for a hand-built set of cases, its access, its lists and actions.

Figures are checked at fixed instants (`figures.window(now)`); the page itself counts from the real
clock, so page tests build their cases relative to now.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import PASSWORD, World, at
from chengguan.org.models import User
from chengguan.web import figures

NOW = at("2026-11-25 16:00")  # a Wednesday afternoon
PAGE_QUERIES = 30


@pytest.fixture
def world(db):
    return World()


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def add_user(world: World, username: str, role: str) -> User:
    user = User(username=username, role=role, city=world.city)
    user.set_password(PASSWORD)
    user.save()
    return user


def act(world, case, operation, actor, when, **fields):
    return world.act(case, operation, actor, at(when), **fields)


@pytest.fixture
def month(world):
    """November 2026 up to Wednesday 25th 16:00, case by case (see each comment)."""
    cases = {}
    # A: reported, handled on time and closed this morning.
    cases["a"] = world.make_case("closed", start="2026-11-25 09:00")
    # B: reported Monday, dispatched, reported back a day late this morning, checked and closed.
    b = world.report(now=at("2026-11-23 09:00"))
    b = act(world, b, "register", world.operator, "2026-11-23 09:01")
    b = act(world, b, "dispatch", world.dispatcher, "2026-11-23 09:02")
    b = act(world, b, "sign", world.sanitation_user, "2026-11-23 09:03")
    b = act(world, b, "feedback", world.sanitation_user, "2026-11-25 10:00", result="已清理")
    b = act(world, b, "check", world.inspector, "2026-11-25 10:05", fixed=True)
    cases["b"] = act(world, b, "close", world.operator, "2026-11-25 10:10")
    # C: reported last month, registered on the 2nd, never dispatched: red.
    c = world.report(now=at("2026-10-30 09:00"), grid=0)
    cases["c"] = act(world, c, "register", world.operator, "2026-11-02 09:00")
    # D: reported this morning, never registered (red at 09:30), supervised by the leader.
    d = world.report(now=at("2026-11-25 09:00"), grid=1)
    cases["d"] = act(world, d, "supervise", world.leader, "2026-11-25 11:00", note="请今日内立案")
    # E: just reported (green); F: reported 25 minutes ago (yellow after 24 of its 30 minutes).
    cases["e"] = world.report(now=at("2026-11-25 15:50"), grid=2)
    cases["f"] = world.report(now=at("2026-11-25 15:35"), grid=2, class_code="C0101")
    # G: fixed on the spot by the inspector, closed by the call-taker: registered and closed on time.
    g = world.report(now=at("2026-11-25 11:00"), self_handled=True)
    cases["g"] = act(world, g, "close", world.operator, "2026-11-25 11:05")
    # H: reported yesterday, rejected.
    h = world.report(now=at("2026-11-24 09:00"), grid=3)
    cases["h"] = act(world, h, "reject", world.operator, "2026-11-24 09:10", reason="不属于城管范围")
    return cases


def figures_for(user, now=NOW):
    w = figures.window(now)
    cases, tasks = figures.scope(user)
    return w, cases, tasks


# ------------------------------------------------------------------------------------------------
# the numbers


def test_it_counts_today_and_this_month(world, month):
    w, cases, tasks = figures_for(world.leader)
    head = figures.headline(cases, tasks, w)
    today, this_month = head["today"], head["month"]
    assert (today["reported"], today["registered"], today["closed"]) == (5, 2, 3)  # A D E F G · A G · A B G
    assert (this_month["reported"], this_month["registered"], this_month["closed"]) == (7, 4, 3)
    assert (today["handled_on_time"].num, today["handled_on_time"].den) == (1, 2)  # A on time, B late
    assert str(today["handled_on_time"]) == "50.0%"
    assert (today["closed_on_time"].num, today["closed_on_time"].den) == (2, 3)  # A and self-handled G
    assert str(this_month["closed_on_time"]) == "66.7%"
    assert head["open"] == 4  # C D E F
    assert head["lights"] == {"red": 2, "yellow": 1, "green": 1}
    assert head["overdue"] == 2
    assert head["yesterday"] == {"reported": 1, "registered": 0, "closed": 0}  # H
    assert (head["supervised"], head["supervised_red"]) == (1, 1)


def test_it_counts_the_day_in_shanghai_not_in_utc(world):
    # 23:30 on the 24th in Shanghai is 15:30 UTC: it belongs to the 24th; 00:30 on the 25th to the 25th.
    world.report(now=at("2026-11-24 23:30"))
    world.report(now=at("2026-11-25 00:30"))
    w, cases, tasks = figures_for(world.leader, at("2026-11-25 08:00"))
    head = figures.headline(cases, tasks, w)
    assert head["today"]["reported"] == head["yesterday"]["reported"] == 1
    trend = figures.trend(cases, tasks, w)
    assert len(trend["days"]) == 30 and trend["days"][-1] == "2026-11-25" and trend["days"][0] == "2026-10-27"
    assert trend["intake"][-2:] == [1, 1]
    assert sum(trend["intake"]) == 2


def test_it_shows_a_dash_for_a_rate_with_nothing_to_count(world):
    w, cases, tasks = figures_for(world.leader)
    head = figures.headline(cases, tasks, w)
    for period in ("today", "month"):
        for key in ("handled_on_time", "closed_on_time"):
            assert str(head[period][key]) == "—"
            assert head[period][key].value is None
    assert figures.trend(cases, tasks, w)["on_time_rate"] == [None] * 30
    assert str(figures.Rate(0, 4)) == "0.0%" and str(figures.Rate(4, 4)) == "100.0%"


def test_it_draws_thirty_days_of_intake_closures_and_on_time_handling(world, month):
    w, cases, tasks = figures_for(world.leader)
    trend = figures.trend(cases, tasks, w)
    by_day = dict(zip(trend["days"], zip(trend["intake"], trend["closed"], trend["on_time_rate"], strict=True),
                      strict=True))
    assert by_day["2026-11-25"] == (5, 3, 50.0)
    assert by_day["2026-11-24"] == (1, 0, None)
    assert by_day["2026-11-23"] == (1, 0, None)
    assert by_day["2026-10-30"] == (1, 0, None)


def test_it_ranks_classes_streets_sources_and_grids(world, month):
    world.report(now=at("2026-11-25 10:00"), actor=world.operator, source="hotline", grid=4)
    w, cases, _ = figures_for(world.leader)
    classes = figures.class_mix(cases, w)
    assert [(c["code"], c["name"], c["n"]) for c in classes] == [("E0102", "暴露垃圾", 7), ("C0101", "上水井盖", 1)]
    assert figures.class_mix(cases, w, english=True)[0]["name"] == "exposed garbage"
    streets = figures.by_street(cases, w)
    assert streets == [{"code": "330111001", "name": "富春街道", "n": 8, "closed": 3, "open": 4, "other": 1,
                        "red": 2}]
    assert [(s["code"], s["n"]) for s in figures.source_mix(cases, w)] == [("inspector", 7), ("hotline", 1)]
    grids = figures.hot_grids(cases, w)
    assert [(g["code"][-3:], g["n"]) for g in grids] == [("005", 4), ("003", 2), ("002", 1), ("004", 1)]
    top = grids[0]
    assert (top["rank"], top["street"], top["community"], top["open"]) == (1, "富春街道", "测试社区", 1)
    assert top["geometry"]["type"] == "Polygon"


def test_it_lists_red_cases_longest_overdue_first_in_working_time(world, month):
    w, cases, _ = figures_for(world.leader)
    rows = [figures.chase_row(case, w) for case in figures.red_cases(cases, w)]
    assert [r["number"] for r in rows] == [month["c"].number, month["d"].number]
    assert [c.number for c in figures.red_cases(cases, w, recent=True)] == [month["d"].number, month["c"].number]
    c, d = rows
    assert (c["stage_name"], c["holder"], c["light"]) == ("派遣", "指挥中心派遣", "red")
    # D's filing clock ran out at 09:30; to 16:00 is 09:30–12:00 and 13:30–16:00: 300 working minutes.
    assert d["minutes_over"] == 300
    assert figures.duration(d["minutes_over"]) == "5小时00分"
    assert figures.duration(d["minutes_over"], english=True) == "5 h 00 min"
    assert d["supervised"] is True


def test_it_calls_a_case_overdue_at_night_though_no_working_minute_has_passed(world):
    case = world.report(now=at("2026-11-25 17:00"))  # its 30 filing minutes end at 17:30, the end of the day
    w, cases, _ = figures_for(world.leader, at("2026-11-25 21:00"))
    row = figures.chase_row(figures.red_cases(cases, w).get(pk=case.pk), w)
    assert (row["light"], row["minutes_over"], row["late"], row["late_minutes"]) == ("red", 0, True, False)
    w = figures.window(at("2026-11-26 09:00"))
    row = figures.chase_row(figures.red_cases(cases, w).get(pk=case.pk), w)
    assert (row["minutes_over"], row["late_minutes"]) == (30, True)


def test_it_lists_supervised_cases_with_the_latest_instruction(world, month):
    w, cases, _ = figures_for(world.leader)
    d = Case.objects.get(pk=month["d"].pk)
    act(world, d, "supervise", world.leader, "2026-11-25 15:00", note="请说明超期原因")
    rows = [figures.chase_row(case, w) for case in figures.supervised_cases(cases, w)]
    assert len(rows) == 1
    assert rows[0]["supervision"].note == "请说明超期原因"
    assert rows[0]["supervision_count"] == 2


def test_it_explains_a_number_with_the_cases_behind_it(world, month):
    w, cases, tasks = figures_for(world.leader)

    def numbers(measure, **kwargs):
        return {c.number for c in figures.cases_behind(cases, tasks, w, measure, **kwargs)}

    m = {k: v.number for k, v in month.items()}
    assert numbers("closed", period="today") == {m["a"], m["b"], m["g"]}
    assert numbers("closed_late", period="month") == {m["b"]}
    assert numbers("handled_late", period="today") == {m["b"]}
    assert numbers("registered", period="month") == {m["a"], m["b"], m["c"], m["g"]}
    assert numbers("reported", period="month", grid=world.grids[2].code) == {m["e"], m["f"]}
    assert numbers("reported", day=at("2026-11-24 12:00").date()) == {m["h"]}


# ------------------------------------------------------------------------------------------------
# the page


@pytest.fixture
def live(world):
    """Cases relative to the real clock: one long overdue, one supervised, one just reported."""
    now = timezone.now()
    world.report(now=now - timedelta(minutes=1), grid=8)
    red = world.report(now=now - timedelta(days=20), grid=0)
    red = world.act(red, "register", world.operator, now - timedelta(days=20) + timedelta(minutes=1))
    watched = world.report(now=now - timedelta(days=15), grid=1)
    watched = world.act(watched, "supervise", world.leader, now - timedelta(days=14), note="请尽快处置")
    return {"red": red, "watched": watched}


@pytest.mark.parametrize("role", ["leader", "evaluator", "shiftlead", "admin"])
def test_it_opens_the_dashboard_for_leaders_evaluators_shift_leads_and_admins(world, role):
    if role in ("evaluator", "admin"):
        add_user(world, role, role)
    response = signed_in(role).get("/dashboard/")
    assert response.status_code == 200
    assert "领导驾驶舱" in response.content.decode()


@pytest.mark.parametrize("username", ["dept-D0101", "inspector", "operator", "dispatcher", "volunteer"])
def test_it_refuses_other_roles(world, username):
    client = signed_in(username)
    for url in ("/dashboard/", "/dashboard/export/red.xlsx", "/dashboard/cases/?measure=closed"):
        assert client.get(url).status_code == 403


def test_it_sends_strangers_to_sign_in(db):
    response = Client().get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_links_each_number_to_the_cases_behind_it(world, live):
    page = signed_in("leader").get("/dashboard/").content.decode()
    today = timezone.localtime().date().isoformat()
    month_start = timezone.localtime().date().replace(day=1).isoformat()
    for href in (f"/center/?queue=all&amp;created_after={today}", f"/center/?queue=all&amp;created_after={month_start}",
                 "/center/?state=open&amp;light=red", "/center/?state=open&amp;light=yellow",
                 "/center/?state=open&amp;supervised=1", "/dashboard/cases/?measure=closed&amp;period=today",
                 "/dashboard/cases/?measure=handled_late&amp;period=month"):
        assert f'href="{href}"' in page, href


def test_it_embeds_the_chart_data(world, live):
    page = signed_in("leader").get("/dashboard/").content.decode()
    data = json.loads(re.search(r'<script id="dash-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert set(data) == {"trend", "classes", "streets", "sources", "hot"}
    assert len(data["trend"]["days"]) == 30
    assert data["hot"]["type"] == "FeatureCollection"
    assert 'src="/static/vendor/echarts/echarts.min.js"' in page


def test_it_shows_rates_as_a_dash_when_nothing_was_done(world):
    page = signed_in("leader").get("/dashboard/").content.decode()
    for key in ("handled", "closed_on_time"):
        tile = re.search(rf'data-kpi="{key}".*?class="dash-late"', page, re.S)[0]
        assert tile.count("<b>—</b>") == 2
        assert "%" not in tile


def test_it_keeps_its_queries_few_however_many_cases(world, live):
    client = signed_in("leader")
    client.get("/dashboard/")  # warm the working-time tables

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    now = timezone.now()
    for i in range(12):
        case = world.report(now=now - timedelta(days=10, minutes=i), grid=i % 9)
        case = world.act(case, "register", world.operator, now - timedelta(days=10) + timedelta(minutes=1))
        if i % 2:
            world.act(case, "supervise", world.leader, now - timedelta(days=9), note="请尽快处置")
    assert count() == before
    assert before <= PAGE_QUERIES


def test_it_bounds_the_queries_of_each_list(world, live, django_assert_max_num_queries):
    client = signed_in("leader")
    client.get("/dashboard/")
    with django_assert_max_num_queries(PAGE_QUERIES):
        client.get("/dashboard/")
    with django_assert_max_num_queries(8):
        client.get("/dashboard/cases/?measure=reported&period=month")
    with django_assert_max_num_queries(8):
        client.get("/dashboard/export/supervised.xlsx")


def test_it_offers_supervision_to_leaders_only(world, live):
    leader_page = signed_in("leader").get("/dashboard/").content.decode()
    assert f'action="/cases/{live["red"].number}/act/supervise"' in leader_page
    shiftlead_page = signed_in("shiftlead").get("/dashboard/").content.decode()
    assert live["red"].number in shiftlead_page
    assert "/act/supervise" not in shiftlead_page


def test_it_supervises_a_red_case_from_the_list(world, live):
    client = signed_in("leader")
    page = client.get("/dashboard/").content.decode()
    number = live["red"].number
    form = re.search(rf'<form method="post" action="/cases/{number}/act/supervise".*?</form>', page, re.S)[0]
    version = re.search(r'name="version" value="(\d+)"', form)[1]
    next_url = re.search(r'name="next" value="([^"]+)"', form)[1]
    response = client.post(f"/cases/{number}/act/supervise",
                           {"version": version, "note": "请今日内办结并反馈", "next": next_url})
    assert response.status_code == 302 and response["Location"] == f"/dashboard/?done={number}#chase"
    case = Case.objects.get(number=number)
    assert case.supervised and case.priority == 1
    page = client.get(response["Location"]).content.decode()
    assert re.search(rf'<tr data-case="{number}" class="dash-done">', page)
    supervised = re.search(r'data-list="supervised".*?</table>', page, re.S)[0]
    assert number in supervised and "请今日内办结并反馈" in supervised
    assert f"已督办：{number}" in page


def test_it_returns_to_the_same_order_after_supervising(world, live):
    page = signed_in("leader").get("/dashboard/?red=recent&done=2026000000001").content.decode()
    number = live["red"].number
    assert f'name="next" value="/dashboard/?red=recent&amp;done={number}#chase"' in page
    assert 'aria-current="true">新近超期' in page


def test_it_answers_htmx_with_a_redirect_or_the_refusal(world, live):
    client = signed_in("leader")
    number = live["red"].number
    refused = client.post(f"/cases/{number}/act/supervise", {"version": live["red"].version, "note": ""},
                          HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and 'role="alert"' in refused.content.decode()
    assert not Case.objects.get(number=number).supervised
    done = client.post(f"/cases/{number}/act/supervise",
                       {"version": live["red"].version, "note": "请尽快处置", "next": "/dashboard/#chase"},
                       HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Redirect"] == "/dashboard/#chase"


def test_it_exports_the_red_and_supervised_lists(world, live):
    client = signed_in("leader")
    for which, number in (("red", live["red"].number), ("supervised", live["watched"].number)):
        response = client.get(f"/dashboard/export/{which}.xlsx")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet["A3"].value == "案件号"
        numbers = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
        assert number in numbers
    assert client.get("/dashboard/export/everything.xlsx").status_code == 404


def test_it_lists_and_exports_the_cases_behind_a_number(world, live):
    client = signed_in("leader")
    page = client.get("/dashboard/cases/?measure=reported&period=month&grid=" + world.grids[0].code)
    assert page.status_code == 200
    this_month = live["red"].reported_at >= figures.window(timezone.now()).month
    assert (live["red"].number in page.content.decode()) == this_month
    workbook = client.get("/dashboard/cases/?measure=registered&period=month&format=xlsx")
    assert load_workbook(io.BytesIO(workbook.content)).active["A3"].value == "案件号"
    assert client.get("/dashboard/cases/?measure=everything").status_code == 404
    assert client.get("/dashboard/cases/?measure=closed&day=yesterday").status_code == 400
    assert client.get("/dashboard/cases/?measure=closed&day=2026-13-45").status_code == 400
    assert client.get("/dashboard/cases/?measure=closed&period=decade").status_code == 404


def test_it_speaks_english(world, live):
    client = signed_in("leader")
    client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    page = client.get("/dashboard/").content.decode()
    assert "Leader dashboard" in page and "Overdue (red) cases" in page
    assert "exposed garbage" in page
    labels = json.loads(re.search(r'<script id="dash-labels" type="application/json">(.*?)</script>', page, re.S)[1])
    assert labels["intake"] == "Reported"


def test_it_counts_only_its_own_city(world, live):
    from chengguan.geo.models import City
    from chengguan.worktime.services import default_calendar

    other = City.objects.create(code="330200", name="宁波市", calendar=default_calendar())
    stranger = User(username="leader-nb", role="leader", city=other)
    stranger.set_password(PASSWORD)
    stranger.save()
    w, cases, tasks = figures_for(stranger, timezone.now())
    assert figures.headline(cases, tasks, w)["open"] == 0
    page = signed_in("leader-nb").get("/dashboard/").content.decode()
    assert live["red"].number not in page


def test_it_takes_the_service_refusal_of_a_closed_case(world):
    closed = world.make_case("closed")
    client = signed_in("leader")
    response = client.post(f"/cases/{closed.number}/act/supervise",
                           {"version": closed.version, "note": "请尽快处置"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert Case.objects.get(pk=closed.pk).supervised is False
