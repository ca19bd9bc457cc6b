"""Evaluation over cases walked through the real loop, with numbers worked out by hand."""

from __future__ import annotations

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
