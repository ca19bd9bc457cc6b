"""Two people act on the same case at once: exactly one wins, the other gets a conflict."""

import threading

import pytest
from django.db import close_old_connections

from chengguan.cases import services
from chengguan.cases.models import Case, Event
from chengguan.cases.tests.conftest import World, at
from chengguan.errors import Conflict


@pytest.fixture
def live_world(transactional_db):
    return World()


def test_it_lets_one_of_two_simultaneous_operations_win(live_world):
    w = live_world
    case = w.make_case("registered")
    barrier = threading.Barrier(2)
    results = []

    def dispatch(department):
        try:
            barrier.wait()
            services.dispatch_case(case.number, actor=w.dispatcher, version=case.version,
                                   now=at("2026-11-23 10:00"), department=department)
            results.append("ok")
        except Conflict:
            results.append("conflict")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=dispatch, args=(code,)) for code in ("D0101", "D06")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    final = Case.objects.get(pk=case.pk)
    assert final.tasks.count() == 1
    assert Event.objects.filter(case=final, operation="dispatch").count() == 1


def test_it_hands_out_distinct_numbers_to_simultaneous_reports(live_world):
    w = live_world
    barrier = threading.Barrier(4)
    numbers, errors = [], []

    def report():
        try:
            barrier.wait()
            numbers.append(w.report(now=at("2026-11-23 09:00")).number)
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=report) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"2026112300{n:03d}" for n in range(1, 5)]


def test_simultaneous_closures_keep_the_evaluation_rollup_exact(live_world):
    """Cases of one department closed at once all add to the same rollup rows: none is lost, none
    deadlocks, and the rollup equals one rebuilt from scratch."""
    from chengguan.evaluation import services as evaluation
    from chengguan.evaluation.facts import rebuild
    from chengguan.evaluation.models import Rollup

    w = live_world
    cases = [w.make_case("closable", start=f"2026-11-23 {9 + i}:00") for i in range(4)]
    barrier = threading.Barrier(len(cases))
    errors = []

    def close(case):
        try:
            barrier.wait()
            services.close_case(case.number, actor=w.operator, version=case.version, now=at("2026-11-23 16:00"))
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=close, args=(case,)) for case in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    def table():
        result = evaluation.evaluate("regions", "2026-11", city=w.city, as_of=at("2026-11-30 00:00"), level="grid")
        return [(r["code"], r["registered"], r["closed"]) for r in result["rows"] if r["registered"]]

    before = table()
    columns = ("family", "subject", "day", "snapshot", "mark", *(f"n{i}" for i in range(10)))

    def rollup():
        return sorted(row for row in Rollup.objects.filter(city=w.city).values_list(*columns) if any(row[5:]))

    stored = rollup()
    rebuild(w.city)
    assert table() == before and sum(r[2] for r in before) == 4
    assert rollup() == stored
