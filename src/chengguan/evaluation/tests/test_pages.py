"""Evaluation pages through Django's test client: who may open what, the explain links add up,
appeals and configuration through the forms, bad periods as a 4xx with the message, query counts."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from chengguan.cases.tests.conftest import PASSWORD
from chengguan.evaluation.models import Appeal, EvaluationConfig, Publication

pytestmark = pytest.mark.django_db

AS_OF = "2026-11-24T12:00"


def signed_in(username: str, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def page(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, (url, response.status_code, response.content[:500])
    return response.content.decode()


def explain_links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/evaluation/explain/\?[^"]+)"', html)]


def cell(html: str, code: str, key: str) -> str:
    row = re.search(rf'<tr data-code="{code}".*?</tr>', html, re.S).group(0)
    return re.search(rf'data-key="{key}"[^>]*>(?:<a href="[^"]*">)?([^<]*)<', row).group(1)


# ---------------------------------------------------------------------------------------------
# the ranking


@pytest.mark.parametrize("username", ["leader", "evaluator", "admin", "shiftlead"])
def test_readers_open_every_tab(world, username):
    client = signed_in(username)
    for tab in ("departments", "streets", "communities", "grids", "inspectors", "operators"):
        html = page(client, "/evaluation/", tab=tab, period="2026-11", as_of=AS_OF)
        assert f'data-tab="{tab}" aria-current="page"' in html
    streets = page(client, "/evaluation/", tab="streets", period="2026-11", as_of=AS_OF)
    assert 'id="ev-map"' in streets and "富春街道" in streets and 'id="ev-map-data"' in streets


def test_the_departments_table_shows_grades_not_applicable_and_links(world):
    html = page(signed_in("leader"), "/evaluation/", period="2026-11", as_of=AS_OF)
    assert cell(html, "D0101", "due") == "2"
    assert cell(html, "D06", "done_rate") == "—"
    assert 'class="ev-grade grade-' in html
    assert 'data-code="D06" data-grade=""' in html  # nothing to grade: not applicable
    links = explain_links(html)
    assert any("key=due" in link and "code=D0101" in link for link in links)


def test_every_explain_link_adds_up_to_its_number(world):
    client = signed_in("leader")
    for tab in ("departments", "streets", "inspectors", "operators"):
        html = page(client, "/evaluation/", tab=tab, period="2026-11", as_of=AS_OF)
        links = explain_links(html)
        assert links, tab
        for link in links:
            explained = client.get(link)
            assert explained.status_code == 200, link
            body = explained.content.decode()
            assert 'data-adds-up="true"' in body, link
            total = int(re.search(r"data-total>(\d+)<", body).group(1))
            counts = [int(n) for n in re.findall(r"<td class=\"num\" data-count>(\d+)</td>", body)]
            assert sum(counts) == total == int(re.search(r"data-row-value>(\d+)<", body).group(1))


def test_the_explain_page_lists_the_cases_with_links(world):
    html = page(signed_in("leader"), "/evaluation/explain/", subject="departments", period="2026-11",
                as_of="2026-11-24T12:00:00+08:00", key="due", code="D0101")
    assert f'href="/center/cases/{world.done.number}/"' in html
    assert f'href="/center/cases/{world.open.number}/"' in html
    department = page(signed_in("dept-D0101"), "/evaluation/explain/", subject="departments", period="2026-11",
                      key="due", code="D0101")
    assert f'href="/inbox/cases/{world.open.number}/"' in department


def test_a_department_sees_the_ranking_but_explains_only_itself(world):
    client = signed_in("dept-D06")
    html = page(client, "/evaluation/", period="2026-11", as_of=AS_OF)
    assert 'data-code="D0101"' in html and 'data-code="D06"' in html
    assert all("code=D06" in link for link in explain_links(html))
    page(client, "/evaluation/explain/", 403, subject="departments", period="2026-11", key="due", code="D0101")
    page(client, "/evaluation/", 403, tab="streets")
    page(client, "/evaluation/config/", 403)


def test_inspectors_see_their_own_row_and_strangers_sign_in(world):
    html = page(signed_in("inspector"), "/evaluation/", period="2026-11", as_of=AS_OF)
    assert re.findall(r'<tr data-code="([^"]+)"', html) == [str(world.inspector.pk)]
    page(signed_in("volunteer"), "/evaluation/", 403)
    anonymous = Client().get("/evaluation/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert Client().get("/evaluation/appeals/").status_code == 302


@pytest.mark.parametrize(("params", "message"), [
    ({"period": "2026-13"}, "无效的月份"),
    ({"period": "2026-11-30..2026-11-01"}, "结束日期早于开始日期"),
    ({"period": "whenever"}, "无法识别的周期"),
    ({"as_of": "2099-01-01T00:00"}, "截至时间不能晚于现在"),
    ({"as_of": "noon"}, "截至时间格式无效"),
])
def test_bad_input_is_a_4xx_page_with_the_message(world, params, message):
    response = signed_in("leader").get("/evaluation/", params)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_the_message_follows_the_language(world):
    response = signed_in("leader", "en").get("/evaluation/", {"period": "2026-13"})
    assert response.status_code == 422 and "Not a month" in response.content.decode()
    page(signed_in("leader"), "/evaluation/", 404, tab="planets")
    bad = signed_in("leader").get("/evaluation/explain/", {"subject": "departments", "period": "x", "key": "due",
                                                           "code": "D0101"})
    assert bad.status_code == 422
    wrong_key = signed_in("leader").get("/evaluation/explain/", {"subject": "departments", "key": "done_rate",
                                                                 "code": "D0101"})
    assert wrong_key.status_code == 422


def test_period_kinds_and_trends(world):
    client = signed_in("leader")
    for kind, label in (("week", "2026-W"), ("quarter", "-Q"), ("year", "data-period>20"), ("day", "2026-"),
                        ("range", "..")):
        html = page(client, "/evaluation/", kind=kind)
        assert label in html, kind
    week = page(client, "/evaluation/", period="2026-W48", as_of=AS_OF)
    assert "<polyline" in week and 'id="ev-chart-data"' in week
    assert "2026-W43" in week  # five weeks back in the chart


def test_rank_change_against_the_previous_period(world):
    # D0101 ranked in week 48 only: no previous rank, no arrow; the grade colour shows
    html = page(signed_in("leader"), "/evaluation/", period="2026-W48", as_of=AS_OF)
    row = re.search(r'<tr data-code="D0101".*?</tr>', html, re.S).group(0)
    assert "上期无排名" in row


def test_the_ranking_takes_a_fixed_number_of_queries(world):
    client = signed_in("leader")
    client.get("/evaluation/", {"tab": "grids", "period": "2026-11"})
    counts = []
    for tab in ("grids", "communities"):
        with CaptureQueriesContext(connection) as queries:
            page(client, "/evaluation/", tab=tab, period="2026-11", as_of=AS_OF)
        counts.append(len(queries))
    assert max(counts) <= 30, counts


def test_the_export_is_a_workbook(world):
    response = signed_in("leader").get("/evaluation/", {"period": "2026-11", "as_of": AS_OF, "format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[2][:5] == ["排名", "名称", "代码", "等级", "综合得分"]
    sanitation = next(v for v in values[3:] if v[2] == "D0101")
    assert sanitation[0] == 1 and sanitation[5] == 2


def test_names_are_escaped(world):
    world.water.name = '<script>alert("x")</script>'
    world.water.save()
    html = page(signed_in("leader"), "/evaluation/", period="2026-11", as_of=AS_OF)
    assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------------------------------------
# appeals


def test_the_appeal_flow_through_the_pages(world):
    department = signed_in("dept-D0101")
    form = page(department, "/evaluation/appeals/", case=world.open.number)
    assert f'value="{world.open.number}"' in form and 'id="ev-tasks"' in form
    refused = department.post("/evaluation/appeals/", {"case": world.open.number, "reason": " "})
    assert refused.status_code == 422 and "reason" in refused.content.decode()
    sent = department.post("/evaluation/appeals/", {"case": world.open.number, "reason": "暴雨不可抗力"})
    assert sent.status_code == 302
    again = department.post("/evaluation/appeals/", {"case": world.open.number, "reason": "再次"})
    assert again.status_code == 409
    appeal = Appeal.objects.get()
    assert f'data-appeal="{appeal.pk}" data-status="pending"' in page(department, "/evaluation/appeals/")
    assert f'data-appeal="{appeal.pk}"' not in page(signed_in("dept-D06"), "/evaluation/appeals/")

    evaluator = signed_in("evaluator")
    pending = page(evaluator, "/evaluation/appeals/")
    assert f'<div class="card ev-appeal" data-appeal="{appeal.pk}">' in pending and "暴雨不可抗力" in pending
    assert department.post(f"/evaluation/appeals/{appeal.pk}/decision", {"decision": "approve"}).status_code == 403
    decided = evaluator.post(f"/evaluation/appeals/{appeal.pk}/decision", {"decision": "approve", "note": "属实"})
    assert decided.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "approved" and appeal.decision_note == "属实"
    html = page(signed_in("leader"), "/evaluation/", period="2026-11")
    assert "暴雨不可抗力" in html and cell(html, "D0101", "appealed") == "1"
    page(signed_in("leader"), "/evaluation/appeals/", 403)


def test_a_bad_decision_is_a_message(world):
    appeal = signed_in("dept-D0101").post("/evaluation/appeals/", {"case": world.open.number, "reason": "x"})
    assert appeal.status_code == 302
    evaluator = signed_in("evaluator")
    response = evaluator.post(f"/evaluation/appeals/{Appeal.objects.get().pk}/decision", {"decision": "maybe"},
                              follow=True)
    assert "请选择核减或驳回" in response.content.decode()
    assert Appeal.objects.get().status == "pending"
    missing = evaluator.post("/evaluation/appeals/999999/decision", {"decision": "approve"}, follow=True)
    assert "申诉不存在" in missing.content.decode()


# ---------------------------------------------------------------------------------------------
# publications and configuration


def test_publishing_through_the_page(world):
    evaluator = signed_in("evaluator")
    response = evaluator.post("/evaluation/publications/", {"tab": "departments", "period": "2026-11",
                                                             "as_of": AS_OF})
    assert response.status_code == 302
    publication = Publication.objects.get()
    detail = page(evaluator, response["Location"])
    assert 'data-checksum="ok"' in detail and publication.checksum in detail
    assert cell(detail, "D0101", "due") == "2"
    again = evaluator.post("/evaluation/publications/", {"tab": "departments", "period": "2026-11", "as_of": AS_OF})
    assert again.status_code == 422 and "更正须填写原因" in again.content.decode()
    future = evaluator.post("/evaluation/publications/", {"tab": "streets", "period": "2026-11",
                                                          "as_of": "2099-01-01T00:00"})
    assert future.status_code == 422
    fixed = evaluator.post("/evaluation/publications/", {"tab": "departments", "period": "2026-11", "as_of": AS_OF,
                                                         "reason": "核减后更正"})
    assert fixed.status_code == 302
    listing = page(signed_in("leader"), "/evaluation/publications/")
    assert "核减后更正" in listing and listing.index("v2") < listing.index("v1")
    assert page(signed_in("leader"), "/evaluation/publications/", 422, period="nope")
    assert signed_in("leader").post("/evaluation/publications/", {"tab": "departments",
                                                                   "period": "2026-11"}).status_code == 403
    page(signed_in("dept-D0101"), f"/evaluation/publications/{publication.pk}/")
    page(signed_in("leader"), "/evaluation/publications/999999/", 404)
    page(signed_in("inspector"), "/evaluation/publications/", 403)


def config_post(**changes) -> dict:
    body = {f"w-departments-{k}": v for k, v in (("done_rate", "30"), ("on_time_rate", "20"), ("rework_rate", "20"),
                                                   ("overdue_rate", "20"), ("extension_rate", "10"))}
    body.update({"inv-departments-rework_rate": "on", "inv-departments-overdue_rate": "on",
                 "inv-departments-extension_rate": "on"})
    body.update({"w-regions-close_rate": "40", "w-regions-close_on_time_rate": "40", "w-regions-public_rate": "20",
                 "inv-regions-public_rate": "on"})
    body.update({"w-inspectors-valid_rate": "40", "w-inspectors-missed_rate": "20", "inv-inspectors-missed_rate": "on",
                 "w-inspectors-verify_on_time_rate": "20", "w-inspectors-check_on_time_rate": "20"})
    body.update({f"w-operators-{k}": "25" for k in ("register_on_time_rate", "accurate_register_rate",
                                                    "dispatch_on_time_rate", "accurate_dispatch_rate")})
    body.update({"grade-A": "90", "grade-B": "75", "grade-C": "60", "grade-D": "40", "yellow_fraction": "0.8",
                 "note": "按期处置率加重"})
    body.update(changes)
    return body


def test_editing_the_configuration_creates_a_version(world):
    evaluator = signed_in("evaluator")
    html = page(evaluator, "/evaluation/config/")
    assert 'name="w-departments-done_rate" value="30"' in html and 'data-version="0"' in html
    saved = evaluator.post("/evaluation/config/", config_post(**{"w-departments-done_rate": "20",
                                                                 "w-departments-on_time_rate": "30"}))
    assert saved.status_code == 302
    row = EvaluationConfig.objects.get()
    assert row.note == "按期处置率加重" and ["on_time_rate", 30, False] in row.weights["departments"]
    after = page(signed_in("leader"), "/evaluation/config/")
    assert f'data-version="{row.version}"' in after and 'name="w-departments-on_time_rate" value="30"' in after
    assert "disabled" in after  # a leader reads, an evaluator edits
    assert f"data-config>{row.version}<" in page(signed_in("leader"), "/evaluation/", period="2026-11")


@pytest.mark.parametrize(("changes", "message"), [
    ({"w-departments-done_rate": "50"}, "权重之和应为 100"),
    ({"w-departments-done_rate": "many"}, "权重无效"),
    ({"grade-B": "95"}, "等级分界应从高到低"),
    ({"yellow_fraction": "2"}, "黄灯比例应在 0 与 1 之间"),
    ({"note": ""}, "请填写变更说明"),
])
def test_a_bad_configuration_is_refused_with_the_message(world, changes, message):
    response = signed_in("evaluator").post("/evaluation/config/", config_post(**changes))
    assert response.status_code == 422 and message in response.content.decode()
    assert not EvaluationConfig.objects.exists()


def test_only_evaluators_save_the_configuration(world):
    assert signed_in("leader").post("/evaluation/config/", config_post()).status_code == 403
    assert not EvaluationConfig.objects.exists()


def test_navigation_names_the_evaluation_pages(world):
    assert 'href="/evaluation/"' in page(signed_in("leader"), "/dashboard/")
    inbox = page(signed_in("dept-D0101"), "/inbox/")
    assert 'href="/evaluation/"' in inbox and 'href="/evaluation/appeals/"' in inbox
