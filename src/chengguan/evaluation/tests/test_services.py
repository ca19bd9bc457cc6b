"""Evaluation over cases walked through the real loop, with numbers worked out by hand."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chengguan.cases.tests.conftest import World, at
from chengguan.errors import Conflict, Forbidden, Invalid
from chengguan.evaluation import services
from chengguan.evaluation.facts import close_day, rebuild
from chengguan.evaluation.models import Fact, Rollup

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return World()


def row(result, code):
    return next(r for r in result["rows"] if r["code"] == code)


def test_department_counts_through_the_loop(world):
    done = world.make_case("closed", start="2026-11-23 09:00")  # Monday; garbage → 环卫处, 450 working min
    open_case = world.make_case("handling", start="2026-11-23 10:00")
    result = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-23 12:00"))
    sanitation = row(result, "D0101")
    assert sanitation["due"] == 2
    assert sanitation["done"] == 1 and sanitation["done_on_time"] == 1
    assert sanitation["overdue_open"] == 0
    assert sanitation["done_rate"] == 0.5
    # the water company had nothing: not applicable, no score, no rank
    water = row(result, "D06")
    assert water["due"] == 0 and water["done_rate"] is None and water["score"] is None and water["rank"] is None
    # the open task's deadline is 450 working minutes after 10:02 on Monday: Tuesday 10:02
    later = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-24 10:03"))
    assert row(later, "D0101")["overdue_open"] == 1
    before = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-24 10:02"))
    assert row(before, "D0101")["overdue_open"] == 0
    explained = services.explain("departments", "2026-11", "due", "D0101", city=world.city,
                                 as_of=at("2026-11-24 10:03"))
    assert sorted(explained["cases"]) == sorted([done.number, open_case.number])
    assert explained["total"] == 2


def test_rollup_snapshot_and_one_by_one_agree(world):
    world.make_case("closed", start="2026-11-23 09:00")
    world.make_case("handling", start="2026-11-23 10:00")
    world.make_case("checking", start="2026-11-24 09:00")
    midnight = at("2026-11-25 00:00")
    one_by_one = services.evaluate("departments", "2026-11", city=world.city, as_of=midnight)
    close_day(world.city, midnight.date() - timedelta(days=1))
    from_snapshot = services.evaluate("departments", "2026-11", city=world.city, as_of=midnight)
    assert one_by_one["rows"] == from_snapshot["rows"]
    for subject in ("regions", "inspectors", "operators"):
        a = services.evaluate(subject, "2026-11", city=world.city, as_of=midnight)
        assert a["rows"]
    assert Rollup.objects.filter(snapshot=True).exists()
    assert Fact.objects.count() > 0
    rebuild(world.city)
    again = services.evaluate("departments", "2026-11", city=world.city, as_of=midnight)
    assert again["rows"] == one_by_one["rows"]


def test_appeal_removes_the_task_from_then_on(world):
    case = world.make_case("handling", start="2026-11-23 09:00")
    evaluator = world.leader
    evaluator.role = "evaluator"
    evaluator.save()
    appeal = services.submit_appeal(actor=world.sanitation_user, case_number=case.number, reason="暴雨不可抗力",
                                    now=at("2026-11-23 10:00"))
    with pytest.raises(Conflict):
        services.submit_appeal(actor=world.sanitation_user, case_number=case.number, reason="again",
                               now=at("2026-11-23 10:01"))
    with pytest.raises(Forbidden):
        services.decide_appeal(appeal.pk, actor=world.sanitation_user, approve=True)
    services.decide_appeal(appeal.pk, actor=evaluator, approve=True, note="属实", now=at("2026-11-23 11:00"))
    before = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-23 10:30"))
    after = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-23 11:30"))
    assert row(before, "D0101")["due"] == 1 and row(before, "D0101")["appealed"] == 0
    assert row(after, "D0101")["due"] == 0 and row(after, "D0101")["appealed"] == 1
    assert row(after, "D0101")["appeal_notes"][0]["reason"] == "暴雨不可抗力"


def test_publication_and_correction(world):
    world.make_case("closed", start="2026-11-23 09:00")
    evaluator = world.leader
    evaluator.role = "evaluator"
    evaluator.save()
    first = services.publish(city=world.city, subject="departments", period="2026-11", actor=evaluator,
                             as_of=at("2026-11-24 00:00"), now=at("2026-11-24 08:00"))
    assert first.version == 1 and len(first.checksum) == 64
    with pytest.raises(Invalid):
        services.publish(city=world.city, subject="departments", period="2026-11", actor=evaluator,
                         as_of=at("2026-11-24 00:00"), now=at("2026-11-24 08:00"))
    second = services.publish(city=world.city, subject="departments", period="2026-11", actor=evaluator,
                              as_of=at("2026-11-24 00:00"), reason="更正", now=at("2026-11-24 09:00"))
    assert second.version == 2
    assert services.publication_json(first)["checksum_ok"]


def test_department_counts_match_a_direct_count_of_tasks(world):
    """Every path a task can take, then the table against a plain count over the task rows."""
    from chengguan.cases.models import Task

    t0 = at("2026-11-23 09:00")
    dept = world.sanitation_user
    world.make_case("closed", start="2026-11-23 09:00")
    world.make_case("handling", start="2026-11-23 09:30")
    returned = world.make_case("handling", start="2026-11-23 10:00")
    returned = world.act(returned, "return", dept, t0 + timedelta(hours=2), reason="不属本部门")
    world.act(returned, "decide_return", world.dispatcher, t0 + timedelta(hours=2, minutes=5), approve=True)
    suspended = world.make_case("handling", start="2026-11-23 10:30")
    suspended = world.act(suspended, "suspend", dept, t0 + timedelta(hours=3), reason="待拆迁")
    world.act(suspended, "decide_suspend", world.dispatcher, t0 + timedelta(hours=3, minutes=5), approve=True)
    cancelled = world.make_case("handling", start="2026-11-23 11:00")
    world.act(cancelled, "cancel", world.shiftlead, t0 + timedelta(hours=4), reason="重复登记")
    reworked = world.make_case("checking", start="2026-11-23 11:30")
    reworked = world.act(reworked, "check", world.inspector, t0 + timedelta(hours=5), fixed=False)
    reworked = world.act(reworked, "sign", dept, t0 + timedelta(hours=5, minutes=1))
    reworked = world.act(reworked, "feedback", dept, t0 + timedelta(hours=5, minutes=2), result="重新清理")
    world.act(reworked, "check", world.inspector, t0 + timedelta(hours=5, minutes=3), fixed=True)
    extended = world.make_case("handling", start="2026-11-23 13:30")
    extended = world.act(extended, "request_extension", dept, t0 + timedelta(hours=6), minutes=450, reason="设备")
    world.act(extended, "decide_extension", world.dispatcher, t0 + timedelta(hours=6, minutes=1), approve=True)

    as_of = at("2026-11-30 12:00")  # a week on: the open tasks are late
    got = row(services.evaluate("departments", "2026-11", city=world.city, as_of=as_of), "D0101")
    tasks = Task.objects.filter(department=world.sanitation, dispatched_at__lt=at("2026-12-01 00:00"))
    counted = tasks.exclude(case__state="cancelled").filter(returned=False, appealed=False)
    due = counted.filter(suspended_at__isnull=True)
    assert got["returned"] == tasks.filter(returned=True).count() == 1
    assert got["suspended"] == counted.filter(suspended_at__isnull=False).count() == 1
    # closed, handling, reworked and extended: the returned, suspended and cancelled ones are out
    assert got["due"] == due.count() == 4
    assert got["done"] == due.filter(status="done").count() == 2
    assert got["done_on_time"] == due.filter(status="done", on_time=True).count() == 2
    assert got["reworked"] == due.filter(status="done", reworks__gt=0).count() == 1
    assert got["extended"] == due.filter(extended_minutes__gt=0).count() == 1
    open_late = [t for t in due.exclude(status="done") if t.due_at < as_of and t.status == "open"]
    assert got["overdue_open"] == len(open_late) == 2
    # The composite, by hand: 处置率 2/4, 按期 2/4, 返工率 1/2, 超期 2/4, 延期 1/4
    # = 15 + 10 + 10 + 10 + 7.5
    expected = 0.5 * 30 + 0.5 * 20 + (1 - 0.5) * 20 + (1 - 0.5) * 20 + (1 - 0.25) * 10
    assert got["score"] == round(expected, 2) == 52.5
    assert got["grade"] == "D"
    for key in ("due", "done", "overdue_open", "returned", "suspended", "reworks"):
        explained = services.explain("departments", "2026-11", key, "D0101", city=world.city, as_of=as_of)
        assert explained["total"] == got[key]


def test_admin_adds_a_configuration_version(world, client):
    from chengguan.evaluation.indicators import DEFAULT_WEIGHTS
    from chengguan.evaluation.models import EvaluationConfig
    from chengguan.org.models import User

    admin_user = User.objects.create_superuser("root", password="a-long-test-password-1")
    client.force_login(admin_user)
    weights = {k: [list(t) for t in v] for k, v in DEFAULT_WEIGHTS.items()}
    weights["departments"][0][1] = 40  # now sums to 110
    import json

    form = {"weights": json.dumps(weights), "grades": json.dumps([["A", 90], ["B", 75], ["C", 60], ["D", 40]]),
            "yellow_fraction": "0.8", "note": "提高处置率权重"}
    answer = client.post("/admin/evaluation/evaluationconfig/add/", form)
    assert answer.status_code == 200 and "100" in answer.content.decode()
    assert not EvaluationConfig.objects.exists()
    weights["departments"][1][1] = 10  # 40 + 10 + 20 + 20 + 10
    form["weights"] = json.dumps(weights)
    answer = client.post("/admin/evaluation/evaluationconfig/add/", form)
    assert answer.status_code == 302
    config = services.current_config()
    assert config.version == EvaluationConfig.objects.get().version
    world.make_case("closed", start="2026-11-23 09:00")
    result = services.evaluate("departments", "2026-11", city=world.city, as_of=at("2026-11-24 00:00"))
    assert result["config_version"] == config.version


def test_the_light_threshold_is_configuration_new_clocks_follow(world):
    first = world.report(now=at("2026-11-23 09:00"))  # register stage: 30 working minutes
    assert first.stage == "register" and first.stage_yellow_at == at("2026-11-23 09:24")  # 80% by default
    weights = {k: [list(t) for t in v] for k, v in services.current_config().weights.items()}
    services.save_config(weights=weights, grades=[["A", 90], ["B", 75], ["C", 60], ["D", 40]],
                         yellow_fraction=0.5, note="黄灯提前到一半", actor=world.leader)
    second = world.report(now=at("2026-11-23 09:00"), grid=5)
    assert second.stage_yellow_at == at("2026-11-23 09:15")
    first.refresh_from_db()
    assert first.stage_yellow_at == at("2026-11-23 09:24")  # a running clock keeps its marks
    with pytest.raises(Invalid):
        services.save_config(weights=weights, grades=[["A", 90]], yellow_fraction=1.5, note="x", actor=None)


def test_the_rollup_has_a_column_for_every_count_of_the_widest_family():
    from chengguan.evaluation.models import ROLLUP_WIDTH

    columns = {f.name for f in Rollup._meta.fields if re.fullmatch(r"n\d+", f.name)}
    assert columns == {f"n{i}" for i in range(ROLLUP_WIDTH)}
