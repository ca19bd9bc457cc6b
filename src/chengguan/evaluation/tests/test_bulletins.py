"""The four ones (四个一) over a small city walked through the real loop: the numbers agree with
`evaluate`, the supervision list groups and lights its cases at the instant asked, the command
writes each file once, and the API and pages serve JSON, xlsx and a PDF with Chinese in it.

The PDF test fails (never skips) without poppler-utils or a CJK font.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from chengguan.cases.tests.conftest import World, at
from chengguan.evaluation import bulletins
from chengguan.evaluation.facts import close_day
from chengguan.evaluation.management.commands.bulletins import due_kinds
from chengguan.evaluation.models import ClosedDay
from chengguan.evaluation.render import parse_document
from chengguan.evaluation.services import evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return World()


def section(doc: dict, heading_part: str) -> dict:
    return next(s for s in doc["sections"] if heading_part in s["heading"])


def without_link(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "_link"} for r in rows]


def summary(doc: dict, label: str):
    return next(s for s in doc["summary"] if s["label"] == label)


def busy_week(world: World) -> dict:
    """W47 (16–22 Nov): water closes on time, sanitation's task runs overdue. W48 (23–29 Nov): the reverse."""
    return {
        "w47_water": world.make_case("closed", start="2026-11-16 09:00", class_code="C0101", grid=1),
        "w47_garbage": world.make_case("handling", start="2026-11-16 10:00"),
        "w48_garbage": world.make_case("closed", start="2026-11-23 09:00"),
        "w48_garbage2": world.make_case("closed", start="2026-11-23 11:00"),
        "w48_water": world.make_case("handling", start="2026-11-23 09:30", class_code="C0101", grid=1),
        "w48_waiting": world.make_case("registered", start="2026-11-24 09:00", grid=2),
    }


# ---------------------------------------------------------------------------------------------
# numbers


def test_it_reports_the_day_before_with_the_numbers_of_evaluate(world):
    busy_week(world)
    doc = bulletins.build("daily", date(2026, 11, 24), city=world.city, now=at("2026-11-26 08:00"))
    parse_document(doc)
    midnight = at("2026-11-24 00:00")
    assert doc["period"] == "2026-11-23" and doc["as_of"] == midnight.isoformat()
    departments = evaluate("departments", "2026-11-23", city=world.city, as_of=midnight)
    table = section(doc, "部门")["table"]
    assert without_link(table["rows"]) == departments["rows"]
    assert table["totals"]["due"] == departments["totals"]["due"] == 3
    streets = evaluate("regions", "2026-11-23", city=world.city, as_of=midnight, level="street")
    assert without_link(section(doc, "街道")["table"]["rows"]) == streets["rows"]
    # intake 3 on the 23rd, none on the 22nd; filings and closures likewise
    assert summary(doc, "上报")["value"] == 3 and summary(doc, "上报")["delta"] is None
    assert summary(doc, "立案")["value"] == streets["totals"]["registered"] == 3
    assert summary(doc, "结案")["value"] == 2
    assert summary(doc, "按期处置率")["value"] == departments["totals"]["on_time_rate"]
    # the best three are ranked departments only: the unscored street office is left out
    best = section(doc, "红黑榜")["groups"][0]["table"]["rows"]
    assert [r["code"] for r in best] == [r["code"] for r in departments["rows"] if r["score"] is not None][:3]
    # at midnight the W47 garbage task is long overdue: it heads the overdue list
    overdue = section(doc, "超期")["table"]["rows"]
    assert overdue[0]["light"] == "red" and overdue[0]["minutes_over"] > 0
    # the same numbers from the end-of-day snapshot
    close_day(world.city, date(2026, 11, 23))
    again = bulletins.build("daily", date(2026, 11, 24), city=world.city, now=at("2026-11-26 08:00"))
    assert section(again, "部门")["table"]["rows"] == table["rows"]


def test_it_compares_the_week_with_the_four_before(world):
    cases = busy_week(world)
    doc = bulletins.build("weekly", date(2026, 11, 30), city=world.city, now=at("2026-11-30 08:00"))
    parse_document(doc)
    assert doc["period"] == "2026-W48"
    trend = section(doc, "前四周")["table"]["rows"]
    assert [r["week"] for r in trend] == ["2026-W48", "2026-W47", "2026-W46", "2026-W45", "2026-W44"]
    assert [r["intake"] for r in trend[:2]] == [4, 2]
    this_week = evaluate("departments", "2026-W48", city=world.city, as_of=at("2026-11-30 00:00"))
    assert trend[0]["on_time_rate"] == this_week["totals"]["on_time_rate"]
    last_week = evaluate("departments", "2026-W47", city=world.city, as_of=at("2026-11-23 00:00"))
    assert trend[1]["on_time_rate"] == last_week["totals"]["on_time_rate"]
    chart = section(doc, "前四周")["chart"]
    assert chart["type"] == "line" and chart["categories"][-1] == "第48周"
    # sanitation rose from second to first, water fell from first to second
    moves = {g["heading"]: g["table"]["rows"] for g in section(doc, "升降")["groups"]}
    assert [(m["code"], m["previous_rank"], m["rank"]) for m in moves["上升"]] == [("D0101", 2, 1)]
    assert [(m["code"], m["previous_rank"], m["rank"]) for m in moves["下降"]] == [("D06", 1, 2)]
    classes = section(doc, "高发")["table"]["rows"]
    assert (classes[0]["code"], classes[0]["n"], classes[0]["previous"]) == ("E0102", 3, 1)
    spots = section(doc, "热点")["table"]["rows"]
    assert spots[0]["code"] == cases["w48_garbage"].grid_code and spots[0]["n"] == 2
    commentary = " ".join(section(doc, "简评")["paragraphs"])
    assert commentary.startswith("2026年第48周（11-23至11-29），全市立案 4 件，较前四周平均增加")
    assert "排名上升最多的是环卫处" in commentary and "暴露垃圾" in commentary


def test_it_sums_up_the_month_with_every_table_of_evaluate(world):
    busy_week(world)
    evaluator = world.leader
    evaluator.role = "evaluator"
    evaluator.save()
    from chengguan.evaluation.services import decide_appeal, submit_appeal

    appeal = submit_appeal(actor=world.water_user, case_number=busy_week_water(world), reason="暴雨不可抗力",
                           now=at("2026-11-25 10:00"))
    decide_appeal(appeal.pk, actor=evaluator, approve=True, note="属实", now=at("2026-11-25 11:00"))
    doc = bulletins.build("monthly", date(2026, 12, 1), city=world.city, now=at("2026-12-01 08:00"))
    parse_document(doc)
    t = at("2026-12-01 00:00")
    assert doc["period"] == "2026-11" and doc["as_of"] == t.isoformat()
    expected = {
        "专业部门": evaluate("departments", "2026-11", city=world.city, as_of=t),
        "街道": evaluate("regions", "2026-11", city=world.city, as_of=t, level="street"),
        "社区": evaluate("regions", "2026-11", city=world.city, as_of=t, level="community"),
        "监督员": evaluate("inspectors", "2026-11", city=world.city, as_of=t),
        "受理员": evaluate("operators", "2026-11", city=world.city, as_of=t),
    }
    for heading, result in expected.items():
        assert without_link(section(doc, heading)["table"]["rows"]) == result["rows"], heading
    assert doc["config_version"] == expected["专业部门"]["config_version"]
    notes = section(doc, "专业部门")["table"]["notes"]
    assert any("核减" in n and "暴雨不可抗力" in n for n in notes)
    grades = section(doc, "等级")
    assert grades["chart"]["categories"] == ["A", "B", "C", "D", "E"]
    department_grades = grades["table"]["rows"][0]
    scored = [r for r in expected["专业部门"]["rows"] if r["grade"]]
    assert sum(department_grades[g] for g in "ABCDE") == len(scored)


def busy_week_water(world: World) -> str:
    from chengguan.cases.models import Case

    return Case.objects.filter(class_code="C0101", state="handling").get().number


# ---------------------------------------------------------------------------------------------
# supervision


def test_it_lists_red_yellow_and_supervised_cases_by_department(world):
    garbage = world.make_case("handling", start="2026-11-23 09:00")
    water = world.make_case("handling", start="2026-11-23 09:00", class_code="C0101", grid=1)
    waiting = world.make_case("registered", start="2026-11-23 09:10", grid=2)
    world.act(water, "supervise", world.leader, at("2026-11-23 10:00"), note="请尽快处置")
    garbage.refresh_from_db()
    red_at = garbage.stage_due_at + timedelta(minutes=1)
    doc = bulletins.build("supervision", date(2026, 11, 24), city=world.city, as_of=red_at, now=red_at)
    parse_document(doc)
    groups = section(doc, "督查清单")["groups"]
    assert [g["heading"].split("（")[0] for g in groups] == ["环卫处", "水务集团", bulletins.UNASSIGNED[0]]
    rows = {g["heading"].split("（")[0]: g["table"]["rows"] for g in groups}
    (red,) = rows["环卫处"]
    assert (red["number"], red["light"], red["minutes_over"]) == (garbage.number, "red", 1)
    assert red["_link"] == f"/center/cases/{garbage.number}/"
    assert red["supervise_link"].endswith("#cc-actions")
    (supervised,) = rows["水务集团"]
    assert (supervised["number"], supervised["light"], supervised["supervised"]) == (water.number, "green", "督办")
    assert rows[bulletins.UNASSIGNED[0]][0]["number"] == waiting.number
    assert summary(doc, "红灯（超期）")["value"] == 2 and summary(doc, "督办案件")["value"] == 1
    # between the yellow mark and the deadline the same case is yellow, and nothing waits yet
    yellow_at = garbage.stage_yellow_at + timedelta(minutes=1)
    early = bulletins.build("supervision", date(2026, 11, 23), city=world.city, as_of=yellow_at, now=red_at)
    lights = {r["number"]: r["light"] for g in section(early, "督查清单")["groups"] for r in g["table"]["rows"]}
    assert lights[garbage.number] == "yellow"
    assert summary(early, "黄灯（将到期）")["value"] >= 1
    # a department sees its own cases only
    own = bulletins.build("supervision", date(2026, 11, 24), city=world.city, as_of=red_at, now=red_at,
                          department=world.sanitation)
    assert [r["number"] for g in section(own, "督查清单")["groups"] for r in g["table"]["rows"]] == [garbage.number]


def test_it_builds_the_lists_without_a_query_per_case(world):
    for hour in (9, 10):
        world.make_case("handling", start=f"2026-11-23 {hour:02d}:00")
    t = at("2026-11-25 12:00")

    def queries(kind: str, day: date) -> int:
        with CaptureQueriesContext(connection) as ctx:
            bulletins.build(kind, day, city=world.city, as_of=t, now=t)
        return len(ctx.captured_queries)

    few = {k: queries(k, date(2026, 11, 25)) for k in ("supervision", "daily", "weekly")}
    for hour in (11, 13, 14, 15):
        world.make_case("handling", start=f"2026-11-23 {hour:02d}:00", grid=hour % 9)
    world.make_case("handling", start="2026-11-23 16:00", class_code="C0101")
    assert {k: queries(k, date(2026, 11, 25)) for k in few} == few


# ---------------------------------------------------------------------------------------------
# dates


def test_it_names_the_period_each_date_reports():
    assert bulletins.report_period("daily", date(2026, 11, 24)).label == "2026-11-23"
    assert bulletins.report_period("weekly", date(2026, 11, 30)).label == "2026-W48"  # a Monday
    assert bulletins.report_period("weekly", date(2026, 11, 29)).label == "2026-W47"  # W48 not over yet
    assert bulletins.report_period("monthly", date(2026, 12, 1)).label == "2026-11"
    assert bulletins.report_period("monthly", date(2026, 1, 15)).label == "2025-12"
    assert bulletins.report_period("supervision", date(2026, 11, 24)) is None
    assert due_kinds(date(2026, 11, 24)) == ["supervision", "daily"]
    assert due_kinds(date(2026, 11, 30)) == ["supervision", "daily", "weekly"]
    assert due_kinds(date(2027, 2, 1)) == ["supervision", "daily", "weekly", "monthly"]


# ---------------------------------------------------------------------------------------------
# the command


def test_the_command_writes_each_file_once(world, tmp_path):
    busy_week(world)
    out = io.StringIO()
    call_command("bulletins", kind="daily", date="2026-11-24", out=str(tmp_path), stdout=out)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["daily-2026-11-24.json", "daily-2026-11-24.pdf", "daily-2026-11-24.xlsx"]
    written = json.loads((tmp_path / "daily-2026-11-24.json").read_text())
    assert written["period"] == "2026-11-23"
    assert (tmp_path / "daily-2026-11-24.pdf").read_bytes().startswith(b"%PDF")
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = io.StringIO()
    call_command("bulletins", kind="daily", date="2026-11-24", out=str(tmp_path), stdout=again, verbosity=2)
    assert "already written" in again.getvalue()
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


def test_the_command_writes_what_is_due_and_closes_yesterday(world, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("bulletins", due=True, after="00:00", format="json", stdout=io.StringIO())
    from django.utils import timezone

    from chengguan.evaluation.periods import local_day

    today = local_day(timezone.now(), bulletins.ZoneInfo(world.city.timezone))
    assert ClosedDay.objects.filter(city=world.city, day=today - timedelta(days=1)).exists()
    found = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert found == sorted(f"bulletins/330100/{k}/{today}/{k}-{today}.json" for k in due_kinds(today))
    stamps = [p.stat().st_mtime_ns for p in sorted(tmp_path.rglob("*.json"))]
    call_command("bulletins", due=True, after="00:00", format="json", stdout=io.StringIO())
    assert [p.stat().st_mtime_ns for p in sorted(tmp_path.rglob("*.json"))] == stamps


# ---------------------------------------------------------------------------------------------
# the API and the pages


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required for the bulletin PDF test: apt install poppler-utils"
    return path


def test_the_api_serves_json_xlsx_and_a_pdf_with_chinese_text(world, tmp_path):
    busy_week(world)
    leader = client_for(world.leader)
    doc = leader.get("/api/v1/bulletins/daily?date=2026-11-24")
    assert doc.status_code == 200 and doc["Content-Type"].startswith("application/json")
    assert doc.json()["title"] == "杭州市数字城管每日通报"
    xlsx = leader.get("/api/v1/bulletins/daily?date=2026-11-24&format=xlsx")
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = quote("杭州市数字城管每日通报-2026-11-24.xlsx")
    assert f"filename*=UTF-8''{name}" in xlsx["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames
    pdf = leader.get("/api/v1/bulletins/daily?date=2026-11-24&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in pdf["Content-Disposition"]
    source = tmp_path / "daily.pdf"
    source.write_bytes(pdf.content)
    subprocess.run([_tool("pdftoppm"), "-r", "50", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "p")],
                   check=True)
    (page,) = list(tmp_path.glob("p-*.png"))
    from PIL import Image

    grey = Image.open(page).convert("L")
    assert sum(grey.histogram()[:128]) > 500  # ink on the first page
    text = subprocess.run([_tool("pdftotext"), "-l", "1", str(source), "-"], check=True, capture_output=True)
    assert "杭州市数字城管每日通报" in text.stdout.decode()


def test_the_api_checks_kind_date_format_and_role(world):
    leader = client_for(world.leader)
    assert leader.get("/api/v1/bulletins/yearly").status_code == 404
    bad_date = leader.get("/api/v1/bulletins/daily?date=2026-13-01")
    assert bad_date.status_code == 422 and bad_date.json()["error"]["field"] == "date"
    future = leader.get("/api/v1/bulletins/daily?date=2099-01-01")
    assert future.status_code == 422 and future.json()["error"]["field"] == "date"
    bad_format = leader.get("/api/v1/bulletins/daily?date=2026-11-24&format=docx")
    assert bad_format.status_code == 422 and bad_format.json()["error"]["field"] == "format"
    bad_as_of = leader.get("/api/v1/bulletins/daily?date=2026-11-24&as_of=yesterday")
    assert bad_as_of.status_code == 422 and bad_as_of.json()["error"]["field"] == "as_of"
    for user in (world.operator, world.shiftlead, world.dispatcher):
        assert client_for(user).get("/api/v1/bulletins/weekly?date=2026-11-23").status_code == 200
    assert client_for(world.inspector).get("/api/v1/bulletins/daily?date=2026-11-24").status_code == 403
    assert Client().get("/api/v1/bulletins/daily").status_code == 401
    department = client_for(world.sanitation_user)
    assert department.get("/api/v1/bulletins/daily?date=2026-11-24").status_code == 403
    garbage = world.make_case("handling", start="2026-11-23 09:00")
    world.make_case("registered", start="2026-11-23 09:00", grid=2)
    own = department.get("/api/v1/bulletins/supervision")
    assert own.status_code == 200
    numbers = [r["number"] for s in own.json()["sections"] for g in s.get("groups", []) for r in g["table"]["rows"]]
    assert numbers == [garbage.number]


def test_the_pages_show_the_index_a_bulletin_and_its_downloads(world):
    busy_week(world)
    leader = client_for(world.leader)
    index = leader.get("/bulletins/?date=2026-11-23")
    html = index.content.decode()
    assert index.status_code == 200
    for kind in ("supervision", "daily", "weekly", "monthly"):
        assert f'href="/bulletins/{kind}/?date=2026-11-23"' in html
    assert "2026年第47周" in html  # the weekly issued on Monday 23 Nov reports W47
    page = leader.get("/bulletins/daily/?date=2026-11-24")
    body = page.content.decode()
    assert page.status_code == 200 and "杭州市数字城管每日通报" in body
    assert 'href="/bulletins/daily/download.xlsx?date=2026-11-24"' in body
    assert 'href="/bulletins/daily/download.pdf?date=2026-11-24"' in body
    pdf = leader.get("/bulletins/daily/download.pdf?date=2026-11-24")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert leader.get("/bulletins/yearly/").status_code == 404
    assert leader.get("/bulletins/daily/?date=tomorrow").status_code == 400
    assert client_for(world.inspector).get("/bulletins/").status_code == 403
    assert client_for(world.sanitation_user).get("/bulletins/daily/").status_code == 403
    assert client_for(world.sanitation_user).get("/bulletins/supervision/").status_code == 200


@pytest.mark.parametrize("busy", [False, True], ids=["quiet", "busy"])
def test_it_renders_every_kind_in_every_format(world, busy):
    from chengguan.evaluation.render import render_html, to_pdf, to_xlsx

    if busy:
        busy_week(world)
    t = at("2026-12-01 08:00")
    for kind in ("supervision", "daily", "weekly", "monthly"):
        doc = bulletins.build(kind, date(2026, 12, 1), city=world.city, now=t)
        json.dumps(doc, ensure_ascii=False)
        assert to_pdf(doc).startswith(b"%PDF")
        assert to_xlsx(doc)[:2] == b"PK"
        assert doc["title"] in render_html(doc)
