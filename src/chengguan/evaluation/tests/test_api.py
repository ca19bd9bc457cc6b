"""Evaluation API over real HTTP: tables, explanations, who may read what, publications, appeals,
configuration — and every refusal a 4xx naming its field."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from chengguan.cases.tests.conftest import PASSWORD
from chengguan.org.models import User

pytestmark = pytest.mark.django_db

AS_OF = "2026-11-24T12:00:00+08:00"
BASE = "/api/v1/evaluation"


def token_client(username: str, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/api/v1/auth/token", {"username": username, "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {response.json()['token']}"
    return client


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def get(client, path, **params):
    return client.get(path, params)


def error_of(response):
    return response.json()["error"]


def row(body, code):
    return next(r for r in body["rows"] if r["code"] == code)


# ---------------------------------------------------------------------------------------------
# tables and explanations


def test_it_returns_the_departments_table_with_ranks(world):
    response = get(token_client("leader"), f"{BASE}/departments", period="2026-11", as_of=AS_OF)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "2026-11" and body["config_version"] == 0
    assert body["as_of"].startswith("2026-11-24T12:00:00")
    sanitation = row(body, "D0101")
    assert sanitation["due"] == 2 and sanitation["done"] == 1 and sanitation["rank"] == 1
    assert sanitation["grade"] in "ABCDE"
    water = row(body, "D06")
    assert water["done_rate"] is None and water["score"] is None and water["rank"] is None
    assert "totals" in body


@pytest.mark.parametrize("key", ["due", "done", "done_on_time", "overdue_open"])
def test_it_explains_a_count_and_the_cases_add_up(world, key):
    body = get(token_client("evaluator"), f"{BASE}/departments", period="2026-11", as_of="2026-11-24T10:03:00+08:00",
               explain=f"{key},D0101").json()
    explained = body["explain"]
    assert explained["key"] == key and explained["code"] == "D0101"
    assert explained["total"] == row(body, "D0101")[key]
    assert sum(item["count"] for item in explained["items"]) == explained["total"]
    assert len(explained["cases"]) == len(explained["items"])
    if key == "due":
        assert sorted(explained["cases"]) == sorted([world.done.number, world.open.number])


@pytest.mark.parametrize("level", ["district", "street", "community", "grid"])
def test_it_explains_regions_at_every_level(world, level):
    client = token_client("shiftlead")
    table = get(client, f"{BASE}/regions", period="2026-11", as_of=AS_OF, level=level).json()
    assert table["level"] == level
    code = next(r["code"] for r in table["rows"] if r["registered"])
    body = get(client, f"{BASE}/regions", period="2026-11", as_of=AS_OF, level=level,
               explain=f"registered,{code}").json()
    assert body["explain"]["total"] == row(body, code)["registered"] == 2


def test_it_defaults_to_this_month_and_now(world):
    body = get(token_client("admin"), f"{BASE}/operators").json()
    assert body["period"] == "2026-11" or len(body["period"]) == 7
    assert body["rows"]


def test_a_department_reads_every_row_but_explains_only_its_own(world):
    client = token_client("dept-D06")
    body = get(client, f"{BASE}/departments", period="2026-11", as_of=AS_OF).json()
    assert {"D0101", "D06"} <= {r["code"] for r in body["rows"]}
    own = get(client, f"{BASE}/departments", period="2026-11", as_of=AS_OF, explain="due,D06")
    assert own.status_code == 200 and own.json()["explain"]["total"] == 0
    other = get(client, f"{BASE}/departments", period="2026-11", as_of=AS_OF, explain="due,D0101")
    assert other.status_code == 403 and error_of(other)["field"] == "explain"
    regions = get(client, f"{BASE}/regions", period="2026-11")
    assert regions.status_code == 403


def test_inspectors_and_operators_see_only_their_own_row(world):
    inspector = token_client("inspector")
    body = get(inspector, f"{BASE}/inspectors", period="2026-11", as_of=AS_OF).json()
    assert [r["code"] for r in body["rows"]] == [str(world.inspector.pk)]
    assert body["rows"][0]["reports"] == 2 and "totals" not in body
    assert get(inspector, f"{BASE}/inspectors", period="2026-11", as_of=AS_OF,
               explain=f"reports,{world.inspector.pk}").json()["explain"]["total"] == 2
    refused = get(inspector, f"{BASE}/inspectors", period="2026-11", explain=f"reports,{world.inspector2.pk}")
    assert refused.status_code == 403
    assert get(inspector, f"{BASE}/departments", period="2026-11").status_code == 403
    operator = get(token_client("operator"), f"{BASE}/operators", period="2026-11", as_of=AS_OF).json()
    assert [r["code"] for r in operator["rows"]] == [str(world.operator.pk)]
    assert operator["rows"][0]["registered"] == 2
    dispatcher = get(token_client("dispatcher"), f"{BASE}/operators", period="2026-11", as_of=AS_OF).json()
    assert [r["code"] for r in dispatcher["rows"]] == [str(world.dispatcher.pk)]
    assert get(token_client("operator"), f"{BASE}/inspectors").status_code == 403


def test_strangers_and_volunteers_are_refused(world):
    assert Client().get(f"{BASE}/departments").status_code == 401
    refused = get(token_client("volunteer"), f"{BASE}/departments")
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "2026-13"}, "period"),
    ({"period": ""}, "period"),
    ({"period": "2026-11-30..2026-11-01"}, "period"),
    ({"period": "soon"}, "period"),
    ({"as_of": "yesterday"}, "as_of"),
    ({"as_of": "2026-11-24T12:00:00"}, "as_of"),
    ({"as_of": "2099-01-01T00:00:00+08:00"}, "as_of"),
    ({"level": "planet"}, "level"),
    ({"explain": "due"}, "explain"),
    ({"explain": "done_rate,D0101"}, "explain"),
])
def test_bad_input_is_a_422_naming_the_field(world, params, field):
    response = get(token_client("leader", "en"), f"{BASE}/{'regions' if 'level' in params else 'departments'}",
                   **params)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field


def test_the_messages_are_clear(world):
    future = get(token_client("leader", "en"), f"{BASE}/departments", as_of="2099-01-01T00:00:00+08:00")
    assert error_of(future)["message"] == "as_of cannot be in the future"
    period = get(token_client("leader"), f"{BASE}/departments", period="2026-13")
    assert "月份" in error_of(period)["message"]


def test_an_unencoded_offset_is_read(world):
    client = token_client("leader")
    response = client.get(f"{BASE}/departments?period=2026-11&as_of=2026-11-24T12:00:00+08:00")
    assert response.status_code == 200
    assert response.json()["as_of"].startswith("2026-11-24T12:00:00")


def test_an_unknown_subject_is_404(world):
    response = get(token_client("leader"), f"{BASE}/planets")
    assert response.status_code == 404 and error_of(response)["field"] == "subject"


def test_the_city_is_the_callers_else_named_else_the_default(world):
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert root.city_id is None
    client = token_client("root")
    assert get(client, f"{BASE}/departments", period="2026-11", as_of=AS_OF).json()["city"] == "330100"
    assert get(client, f"{BASE}/departments", period="2026-11", city="330100").json()["city"] == "330100"
    unknown = get(client, f"{BASE}/departments", period="2026-11", city="999999")
    assert unknown.status_code == 404 and error_of(unknown)["field"] == "city"
    # a user with a city reads it, whatever the parameter says
    assert get(token_client("leader"), f"{BASE}/departments", city="999999").json()["city"] == "330100"


# ---------------------------------------------------------------------------------------------
# publications


def test_publishing_correcting_and_reading_publications(world):
    evaluator = token_client("evaluator")
    first = post(evaluator, f"{BASE}/publications", {"subject": "departments", "period": "2026-11", "as_of": AS_OF})
    assert first.status_code == 201, first.content
    assert first.json()["version"] == 1 and first.json()["checksum_ok"]
    again = post(evaluator, f"{BASE}/publications", {"subject": "departments", "period": "2026-11", "as_of": AS_OF})
    assert again.status_code == 422 and error_of(again)["field"] == "reason"
    second = post(evaluator, f"{BASE}/publications",
                  {"subject": "departments", "period": "2026-11", "as_of": AS_OF, "reason": "申诉核减后更正"})
    assert second.status_code == 201 and second.json()["version"] == 2
    streets = post(evaluator, f"{BASE}/publications", {"subject": "regions", "period": "2026-W48", "level": "street"})
    assert streets.status_code == 201 and streets.json()["level"] == "street"

    listed = get(token_client("leader"), f"{BASE}/publications").json()["items"]
    assert [p["id"] for p in listed] == [streets.json()["id"], second.json()["id"], first.json()["id"]]
    assert "data" not in listed[0]
    only = get(evaluator, f"{BASE}/publications", subject="departments", period="2026-11").json()["items"]
    assert [p["version"] for p in only] == [2, 1]
    assert get(evaluator, f"{BASE}/publications", period="2026-W48").json()["items"][0]["subject"] == "regions"
    bad = get(evaluator, f"{BASE}/publications", period="november")
    assert bad.status_code == 422 and error_of(bad)["field"] == "period"

    detail = get(evaluator, f"{BASE}/publications/{first.json()['id']}").json()
    assert detail["checksum_ok"] and row(detail["data"], "D0101")["due"] == 2
    assert detail["reason"] == "" and detail["config_version"] == 0
    assert get(evaluator, f"{BASE}/publications/999999").status_code == 404
    department = token_client("dept-D0101")
    assert get(department, f"{BASE}/publications/{first.json()['id']}").status_code == 200
    assert get(department, f"{BASE}/publications/{streets.json()['id']}").status_code == 403
    assert get(department, f"{BASE}/publications", subject="departments").status_code == 200
    assert get(department, f"{BASE}/publications").status_code == 403
    assert get(token_client("inspector"), f"{BASE}/publications").status_code == 403


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"subject": "departments", "period": "2026-11", "as_of": "2099-01-01T00:00:00+08:00"}, 422, "as_of"),
    ({"subject": "departments", "period": "2026-11", "as_of": "not a time"}, 422, "as_of"),
    ({"subject": "departments", "period": "2026-Q5"}, 422, "period"),
    ({"subject": "planets", "period": "2026-11"}, 404, "subject"),
    ({"subject": "regions", "period": "2026-11", "level": "planet"}, 422, "level"),
    ({"period": "2026-11"}, 422, "subject"),
])
def test_publishing_refuses_bad_input(world, body, status, field):
    response = post(token_client("evaluator"), f"{BASE}/publications", body)
    assert response.status_code == status, response.content
    assert error_of(response)["field"] == field


def test_only_evaluators_publish(world):
    for username in ("leader", "dept-D0101", "operator"):
        response = post(token_client(username), f"{BASE}/publications", {"subject": "departments", "period": "2026-11"})
        assert response.status_code == 403
    assert post(token_client("admin"), f"{BASE}/publications",
                {"subject": "departments", "period": "2026-11"}).status_code == 201


# ---------------------------------------------------------------------------------------------
# appeals


def test_the_appeal_flow(world):
    department = token_client("dept-D0101")
    created = post(department, f"{BASE}/appeals", {"case": world.open.number, "reason": "暴雨不可抗力"})
    assert created.status_code == 201, created.content
    appeal = created.json()
    assert appeal["status"] == "pending" and appeal["department"] == "D0101" and appeal["task"] == 1
    repeat = post(department, f"{BASE}/appeals", {"case": world.open.number, "reason": "again"})
    assert repeat.status_code == 409

    assert [a["id"] for a in get(department, f"{BASE}/appeals").json()["items"]] == [appeal["id"]]
    assert get(token_client("dept-D06"), f"{BASE}/appeals").json()["items"] == []
    evaluator = token_client("evaluator")
    assert [a["id"] for a in get(evaluator, f"{BASE}/appeals", status="pending").json()["items"]] == [appeal["id"]]
    assert get(evaluator, f"{BASE}/appeals", status="approved").json()["items"] == []

    refused = post(department, f"{BASE}/appeals/{appeal['id']}/decision", {"approve": True, "note": "自己批"})
    assert refused.status_code == 403
    decided = post(evaluator, f"{BASE}/appeals/{appeal['id']}/decision", {"approve": True, "note": "属实"})
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "approved" and decided.json()["note"] == "属实"
    twice = post(evaluator, f"{BASE}/appeals/{appeal['id']}/decision", {"approve": False, "note": ""})
    assert twice.status_code == 409

    body = get(evaluator, f"{BASE}/departments", period="2026-11").json()
    sanitation = row(body, "D0101")
    assert sanitation["appealed"] == 1 and sanitation["due"] == 1
    assert sanitation["appeal_notes"][0]["reason"] == "暴雨不可抗力"
    explained = get(evaluator, f"{BASE}/departments", period="2026-11", explain="appealed,D0101").json()["explain"]
    assert explained["cases"] == [world.open.number] and explained["total"] == 1


def test_a_rejected_appeal_changes_nothing(world):
    appeal = post(token_client("dept-D0101"), f"{BASE}/appeals", {"case": world.open.number, "reason": "不是我们的"})
    response = post(token_client("admin"), f"{BASE}/appeals/{appeal.json()['id']}/decision",
                    {"approve": False, "note": "理由不成立"})
    assert response.json()["status"] == "rejected"
    assert row(get(token_client("leader"), f"{BASE}/departments", period="2026-11").json(), "D0101")["due"] == 2


@pytest.mark.parametrize(("username", "body", "status", "field"), [
    ("dept-D0101", {"case": "2026000000000", "reason": "x"}, 404, "case"),
    ("dept-D06", None, 404, "case"),  # the case was never dispatched to the water company
    ("dept-D0101", {"case": None, "reason": "  "}, 422, "reason"),
    ("dept-D0101", {"reason": "x"}, 422, "case"),
    ("leader", None, 403, "case"),
])
def test_appeals_refuse_bad_input(world, username, body, status, field):
    body = body or {"case": world.open.number, "reason": "x"}
    if body.get("case", "") is None:
        body["case"] = world.open.number
    response = post(token_client(username), f"{BASE}/appeals", body)
    assert response.status_code == status, response.content
    assert error_of(response)["field"] == field


def test_appeal_lists_and_decisions_refuse(world):
    assert get(token_client("leader"), f"{BASE}/appeals").status_code == 403
    bad = get(token_client("evaluator"), f"{BASE}/appeals", status="maybe")
    assert bad.status_code == 422 and error_of(bad)["field"] == "status"
    missing = post(token_client("evaluator"), f"{BASE}/appeals/999999/decision", {"approve": True})
    assert missing.status_code == 404
    appeal = post(token_client("dept-D0101"), f"{BASE}/appeals", {"case": world.open.number, "reason": "x"}).json()
    no_answer = post(token_client("evaluator"), f"{BASE}/appeals/{appeal['id']}/decision", {"note": "?"})
    assert no_answer.status_code == 422 and error_of(no_answer)["field"] == "approve"
    malformed = token_client("evaluator").post(f"{BASE}/appeals/{appeal['id']}/decision", "{",
                                               content_type="application/json")
    assert malformed.status_code == 400


# ---------------------------------------------------------------------------------------------
# configuration


def weights(**changes):
    body = get(token_client("evaluator"), f"{BASE}/config").json()["current"]["weights"]
    body.update(changes)
    return body


def test_configuration_has_history(world):
    client = token_client("evaluator")
    start = get(client, f"{BASE}/config").json()
    assert start["current"]["version"] == 0 and len(start["history"]) == 1
    departments = [["done_rate", 50, False], ["on_time_rate", 50, False]]
    created = post(client, f"{BASE}/config", {"weights": weights(departments=departments),
                                               "grades": [["A", 95], ["B", 80], ["C", 60], ["D", 40]],
                                               "yellow_fraction": 0.75, "note": "按期处置加权"})
    assert created.status_code == 201, created.content
    version = created.json()["version"]
    assert version >= 1 and created.json()["created_by"] == "evaluator"
    after = get(token_client("leader"), f"{BASE}/config").json()
    assert after["current"]["version"] == version and after["current"]["note"] == "按期处置加权"
    assert [h["version"] for h in after["history"]] == [version, 0]
    table = get(client, f"{BASE}/departments", period="2026-11", as_of=AS_OF).json()
    assert table["config_version"] == version
    assert row(table, "D0101")["score"] == 50.0  # done 1/2 and on time 1/2, equally weighted


@pytest.mark.parametrize(("change", "field"), [
    ({"weights": {"departments": [["done_rate", 10, False]]}}, "weights"),
    ({"grades": [["A", 40], ["B", 90]]}, "grades"),
    ({"yellow_fraction": 1.5}, "yellow_fraction"),
    ({"note": " "}, "note"),
])
def test_configuration_refuses_bad_input(world, change, field):
    body = {"weights": weights(), "grades": [["A", 90], ["B", 75], ["C", 60], ["D", 40]], "yellow_fraction": 0.8,
            "note": "ok", **change}
    response = post(token_client("evaluator"), f"{BASE}/config", body)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field


def test_only_evaluators_change_the_configuration(world):
    body = {"weights": weights(), "grades": [["A", 90]], "yellow_fraction": 0.8, "note": "x"}
    assert post(token_client("leader"), f"{BASE}/config", body).status_code == 403
    assert post(token_client("dept-D0101"), f"{BASE}/config", body).status_code == 403
    assert Client().get(f"{BASE}/config").status_code == 401
