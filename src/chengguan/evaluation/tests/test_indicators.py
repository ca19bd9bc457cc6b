"""The evaluation indicators (pure): what each fact counts for as of an instant T, and the formulas.

Every expected value below is worked out by hand from DOMAIN.md "Evaluation (综合评价)"; the
comments show the arithmetic. Deadlines are given as instants (the working-time arithmetic that
produced them lives in the clocks, not here). All instants are Asia/Shanghai wall time; Monday
2026-11-23 is the day most tables start on.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.evaluation import indicators as ind
from chengguan.evaluation.indicators import (
    DEFAULT_WEIGHTS,
    KEYS,
    RATES,
    ClockHistory,
    Config,
    DispatchHistory,
    MissHistory,
    RegionHistory,
    RegisterHistory,
    ReportHistory,
    TaskHistory,
    add_counts,
    clock_outcome,
    composite,
    dispatch_outcome,
    grade,
    history_from_json,
    history_to_json,
    indicator_row,
    miss_outcome,
    outcome,
    rank_rows,
    rate,
    region_outcome,
    register_outcome,
    report_outcome,
    task_outcome,
)
from chengguan.evaluation.periods import parse_period

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2026-11-23 09:00' in Shanghai (Mon = 23, Tue = 24, Wed = 25, Thu = 26, Fri = 27 November)."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# ---------------------------------------------------------------------------------------------
# rate: the "not applicable" rule


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 0, None),  # 0/0: not applicable — never 0% …
        (3, 0, None),  # … and never 100%, whatever the numerator
        (0, 5, 0.0),  # a real 0%
        (5, 5, 1.0),  # a real 100%
        (3, 4, 0.75),  # 3/4
        (1, 8, 0.125),  # 1/8
    ],
)
def test_it_gives_a_rate_or_not_applicable(numerator, denominator, expected):
    assert rate(numerator, denominator) == expected


# ---------------------------------------------------------------------------------------------
# departments: one task as of T
#
# The task is dispatched Mon 09:00 with its deadline Mon 17:00 unless a row says otherwise.

DISPATCHED = at("2026-11-23 09:00")
DUE = at("2026-11-23 17:00")


def task(**changes) -> TaskHistory:
    values = {"dispatched_at": DISPATCHED, "deadlines": ((DISPATCHED, DUE),)}
    values.update(changes)
    return TaskHistory(**values)


# Rework, worked by hand: feedback Mon 10:00 (on time), the check fails Mon 12:00 after 2 h awaiting
# it, so the deadline moves 17:00 + 2 h = 19:00 (a new deadline in force from 12:00).
REWORK_DEADLINES = ((DISPATCHED, DUE), (at("2026-11-23 12:00"), at("2026-11-23 19:00")))
# Extension, worked by hand: approved Mon 15:00, the deadline moves from Mon 17:00 to Tue 12:00.
EXTENDED_DEADLINES = ((DISPATCHED, DUE), (at("2026-11-23 15:00"), at("2026-11-24 12:00")))
# Suspension, worked by hand: 挂账 approved Mon 13:00, resumed Wed 13:00 = 48 h suspended, so the
# deadline moves Mon 17:00 + 48 h = Wed 17:00 (in force from the resume).
SUSPENSION = ((at("2026-11-23 13:00"), at("2026-11-25 13:00")),)
RESUMED_DEADLINES = ((DISPATCHED, DUE), (at("2026-11-25 13:00"), at("2026-11-25 17:00")))

TASK_TABLE = [
    # -- crossing the boundary / as-of T before and after events
    ("not dispatched yet at T", task(), "2026-11-23 08:59", None),
    ("counted from the dispatch instant", task(), "2026-11-23 09:00", {"due": 1}),
    ("open before its deadline", task(), "2026-11-23 16:59", {"due": 1}),
    ("open exactly at its deadline is not overdue (on time = at or before)", task(), "2026-11-23 17:00",
     {"due": 1}),
    ("open one minute past its deadline", task(), "2026-11-23 17:01", {"due": 1, "overdue_open": 1}),
    # -- late checks
    ("feedback on time awaiting its check is not overdue",
     task(feedbacks=(at("2026-11-23 16:00"),)), "2026-11-23 18:00", {"due": 1}),
    ("a late feedback awaiting its check is not overdue either",
     task(feedbacks=(at("2026-11-23 18:00"),)), "2026-11-23 19:00", {"due": 1}),
    ("before that late feedback it was overdue",
     task(feedbacks=(at("2026-11-23 18:00"),)), "2026-11-23 17:30", {"due": 1, "overdue_open": 1}),
    ("feedback on time whose check came late the next day is still 按期",
     task(feedbacks=(at("2026-11-23 16:00"),), checks=((at("2026-11-24 10:00"), True),)),
     "2026-11-24 12:00", {"due": 1, "done": 1, "done_on_time": 1}),
    ("a check passing after T does not count as done at T",
     task(feedbacks=(at("2026-11-23 16:00"),), checks=((at("2026-11-24 10:00"), True),)),
     "2026-11-24 09:59", {"due": 1}),
    ("a check passing exactly at T counts as done",
     task(feedbacks=(at("2026-11-23 16:00"),), checks=((at("2026-11-24 10:00"), True),)),
     "2026-11-24 10:00", {"due": 1, "done": 1, "done_on_time": 1}),
    ("feedback exactly at the deadline is on time",
     task(feedbacks=(DUE,), checks=((at("2026-11-23 17:30"), True),)),
     "2026-11-23 18:00", {"due": 1, "done": 1, "done_on_time": 1}),
    ("feedback one minute late: done, not on time",
     task(feedbacks=(at("2026-11-23 17:01"),), checks=((at("2026-11-23 17:30"), True),)),
     "2026-11-23 18:00", {"due": 1, "done": 1}),
    # -- reworks
    ("rework, second feedback 18:30 within the moved deadline 19:00: on time, 返工数 1, 返工次数 1",
     task(deadlines=REWORK_DEADLINES,
          feedbacks=(at("2026-11-23 10:00"), at("2026-11-23 18:30")),
          checks=((at("2026-11-23 12:00"), False), (at("2026-11-23 18:45"), True))),
     "2026-11-23 20:00", {"due": 1, "done": 1, "done_on_time": 1, "reworked": 1, "reworks": 1}),
    ("rework, second feedback 19:30 after the moved deadline 19:00: done late",
     task(deadlines=REWORK_DEADLINES,
          feedbacks=(at("2026-11-23 10:00"), at("2026-11-23 19:30")),
          checks=((at("2026-11-23 12:00"), False), (at("2026-11-23 19:45"), True))),
     "2026-11-23 20:00", {"due": 1, "done": 1, "reworked": 1, "reworks": 1}),
    ("after a failed check, past the old deadline 17:00 but before the moved 19:00: not overdue",
     task(deadlines=REWORK_DEADLINES, feedbacks=(at("2026-11-23 10:00"),),
          checks=((at("2026-11-23 12:00"), False),)),
     "2026-11-23 18:00", {"due": 1}),
    ("after a failed check and past the moved deadline 19:00 with no new feedback: overdue",
     task(deadlines=REWORK_DEADLINES, feedbacks=(at("2026-11-23 10:00"),),
          checks=((at("2026-11-23 12:00"), False),)),
     "2026-11-23 19:01", {"due": 1, "overdue_open": 1}),
    ("a failed check is not done and is no rework yet (返工 counts done tasks only)",
     task(deadlines=REWORK_DEADLINES, feedbacks=(at("2026-11-23 10:00"),),
          checks=((at("2026-11-23 12:00"), False),)),
     "2026-11-23 12:30", {"due": 1}),
    # Two reworks: f1 10:00, c1 fails 11:00 (1 h waited: 17:00 → 18:00); f2 12:00, c2 fails 14:00
    # (2 h waited: 18:00 → 20:00); f3 19:00 ≤ 20:00, c3 passes 19:30 → on time, 返工数 1, 返工次数 2.
    ("two failed checks: 返工数 1, 返工次数 2",
     task(deadlines=((DISPATCHED, DUE), (at("2026-11-23 11:00"), at("2026-11-23 18:00")),
                     (at("2026-11-23 14:00"), at("2026-11-23 20:00"))),
          feedbacks=(at("2026-11-23 10:00"), at("2026-11-23 12:00"), at("2026-11-23 19:00")),
          checks=((at("2026-11-23 11:00"), False), (at("2026-11-23 14:00"), False),
                  (at("2026-11-23 19:30"), True))),
     "2026-11-23 21:00", {"due": 1, "done": 1, "done_on_time": 1, "reworked": 1, "reworks": 2}),
    # -- extensions
    ("extended to Tue 12:00, feedback Tue 11:00 (after the old Mon 17:00): on time and 延期",
     task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),),
          feedbacks=(at("2026-11-24 11:00"),), checks=((at("2026-11-24 14:00"), True),)),
     "2026-11-24 15:00", {"due": 1, "done": 1, "done_on_time": 1, "extended": 1}),
    ("open Mon 18:00 with the extension: not overdue until Tue 12:00",
     task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),)),
     "2026-11-23 18:00", {"due": 1, "extended": 1}),
    ("open Tue 12:01 with the extension: overdue",
     task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),)),
     "2026-11-24 12:01", {"due": 1, "extended": 1, "overdue_open": 1}),
    ("an extension approved after T does not count at T",
     task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),)),
     "2026-11-23 14:00", {"due": 1}),
    # -- suspensions (挂账)
    ("before the suspension is approved it is in N", task(suspensions=SUSPENSION, deadlines=RESUMED_DEADLINES),
     "2026-11-23 12:59", {"due": 1}),
    ("挂账 at T: out of N, counted apart", task(suspensions=SUSPENSION, deadlines=RESUMED_DEADLINES),
     "2026-11-24 10:00", {"suspended": 1}),
    ("still suspended (never resumed)", task(suspensions=((at("2026-11-23 13:00"), None),)),
     "2026-11-30 10:00", {"suspended": 1}),
    ("resumed: back in N from the resume instant", task(suspensions=SUSPENSION, deadlines=RESUMED_DEADLINES),
     "2026-11-25 13:00", {"due": 1}),
    ("resumed: Wed 16:00 is past Mon 17:00 but before the moved Wed 17:00",
     task(suspensions=SUSPENSION, deadlines=RESUMED_DEADLINES), "2026-11-25 16:00", {"due": 1}),
    ("resumed: overdue after the moved deadline Wed 17:00",
     task(suspensions=SUSPENSION, deadlines=RESUMED_DEADLINES), "2026-11-25 17:01",
     {"due": 1, "overdue_open": 1}),
    # -- returns (回退)
    ("before the return is approved it is in N", task(returned_at=at("2026-11-23 11:00")),
     "2026-11-23 10:59", {"due": 1}),
    ("approved return: out of N, counted as returned", task(returned_at=at("2026-11-23 11:00")),
     "2026-11-23 11:00", {"returned": 1}),
    ("an approved return stays a return even past the deadline", task(returned_at=at("2026-11-23 11:00")),
     "2026-11-24 11:00", {"returned": 1}),
    # -- appeals (核减): from the approval instant on
    ("before the appeal is approved: overdue as usual", task(appealed_at=at("2026-11-24 09:00")),
     "2026-11-23 18:00", {"due": 1, "overdue_open": 1}),
    ("from the approval instant on: 核减", task(appealed_at=at("2026-11-24 09:00")),
     "2026-11-24 09:00", {"appealed": 1}),
    ("an appeal approved after the task was done removes it too",
     task(feedbacks=(at("2026-11-23 16:00"),), checks=((at("2026-11-23 16:30"), True),),
          appealed_at=at("2026-11-24 09:00")),
     "2026-11-24 10:00", {"appealed": 1}),
    # -- cancelled / merged cases count nowhere (here)
    ("before the case is cancelled it counts", task(void_at=at("2026-11-23 12:00")), "2026-11-23 11:59",
     {"due": 1}),
    ("cancelled or merged: counts nowhere", task(void_at=at("2026-11-23 12:00")), "2026-11-23 12:00", None),
    ("cancelled after a return: still nowhere",
     task(returned_at=at("2026-11-23 11:00"), void_at=at("2026-11-23 12:00")), "2026-11-23 13:00", None),
]


@pytest.mark.parametrize(("history", "t", "expected"), [row[1:] for row in TASK_TABLE],
                         ids=[row[0] for row in TASK_TABLE])
def test_it_counts_a_task_for_its_department(history, t, expected):
    assert task_outcome(history, at(t)) == expected
    assert outcome("task", history, at(t)) == expected


def test_it_reads_the_deadline_in_force_at_an_instant():
    h = task(deadlines=REWORK_DEADLINES)
    assert h.deadline_at(at("2026-11-23 08:00")) == DUE  # before the first entry: the first deadline
    assert h.deadline_at(at("2026-11-23 11:59")) == DUE
    assert h.deadline_at(at("2026-11-23 12:00")) == at("2026-11-23 19:00")  # in force from its instant
    assert h.deadline_at(at("2026-11-30 12:00")) == at("2026-11-23 19:00")


# ---------------------------------------------------------------------------------------------
# departments: a whole row, worked by hand

FRIDAY_NOON = "2026-11-27 12:00"
DEPARTMENT_TASKS = [
    # a: feedback Mon 16:00 ≤ 17:00, passed Mon 16:30 → due, done, on time
    task(feedbacks=(at("2026-11-23 16:00"),), checks=((at("2026-11-23 16:30"), True),)),
    # b: one rework, the second feedback 19:30 after the moved 19:00 → due, done, reworked, 1 rework
    task(deadlines=REWORK_DEADLINES, feedbacks=(at("2026-11-23 10:00"), at("2026-11-23 19:30")),
         checks=((at("2026-11-23 12:00"), False), (at("2026-11-23 19:45"), True))),
    # c: extended to Tue 12:00, still open on Friday → due, overdue, extended
    task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),)),
    # d: suspended Mon 13:00, never resumed → 挂账 only
    task(suspensions=((at("2026-11-23 13:00"), None),)),
    # e: return approved Mon 11:00 → returned only
    task(returned_at=at("2026-11-23 11:00")),
    # f: extended, feedback Tue 11:00, awaiting its check on Friday → due, extended (not overdue)
    task(deadlines=EXTENDED_DEADLINES, extensions=(at("2026-11-23 15:00"),), feedbacks=(at("2026-11-24 11:00"),)),
    # g: dispatched Saturday, after T → nowhere
    task(dispatched_at=at("2026-11-28 09:00"), deadlines=((at("2026-11-28 09:00"), at("2026-11-28 17:00")),)),
    # h: case merged Tue → nowhere
    task(void_at=at("2026-11-24 09:00")),
]


def test_it_adds_a_department_row_by_hand():
    counts: dict = {}
    for history in DEPARTMENT_TASKS:
        add_counts(counts, task_outcome(history, at(FRIDAY_NOON)))
    # N = a, b, c, f = 4; done = a, b; on time = a; overdue = c; reworked = b (1 failed check);
    # extended = c, f; 挂账 = d; returned = e
    assert counts == {"due": 4, "done": 2, "done_on_time": 1, "overdue_open": 1, "reworked": 1, "reworks": 1,
                      "extended": 2, "suspended": 1, "returned": 1}
    row = indicator_row("departments", counts, Config())
    assert row["appealed"] == 0  # missing keys are 0
    # 处置率 2/4 = .5; 按期处置率 1/4 = .25; 返工率 1/2 = .5; 超期待处置率 1/4 = .25; 延期率 2/4 = .5
    assert (row["done_rate"], row["on_time_rate"], row["rework_rate"], row["overdue_rate"],
            row["extension_rate"]) == (0.5, 0.25, 0.5, 0.25, 0.5)
    # .5×30 + .25×20 + (1−.5)×20 + (1−.25)×20 + (1−.5)×10 = 15 + 5 + 10 + 15 + 5 = 50
    assert row["score"] == 50.0
    assert row["grade"] == "D"  # 40 ≤ 50 < 60
    assert row["renormalised"] is False


def test_it_scores_a_department_with_thirds():
    counts = {"due": 8, "done": 6, "done_on_time": 4, "overdue_open": 1, "reworked": 2, "reworks": 3, "extended": 2}
    row = indicator_row("departments", counts, Config())
    assert row["rework_rate"] == pytest.approx(1 / 3)
    # .75×30 + .5×20 + (1−1/3)×20 + (1−.125)×20 + (1−.25)×10 = 22.5 + 10 + 13.333… + 17.5 + 7.5 = 70.833… → 70.83
    assert row["score"] == 70.83
    assert row["grade"] == "C"


def test_it_renormalises_a_department_with_nothing_done():
    # N = 4, nothing done, 2 overdue: 返工率 = 0/0 is not applicable and drops out (weight 20).
    row = indicator_row("departments", {"due": 4, "overdue_open": 2}, Config())
    assert row["rework_rate"] is None
    assert (row["done_rate"], row["on_time_rate"], row["overdue_rate"], row["extension_rate"]) == (0, 0, 0.5, 0)
    # points = 0×30 + 0×20 + (1−.5)×20 + (1−0)×10 = 20 over weights 30+20+20+10 = 80 → 20 × 100/80 = 25
    assert row["score"] == 25.0
    assert row["renormalised"] is True
    assert row["grade"] == "E"


def test_it_gives_no_score_grade_or_rank_without_an_applicable_rate():
    # Only returned and suspended tasks: N = 0, so every department rate is 0/0.
    row = indicator_row("departments", {"returned": 2, "suspended": 1}, Config())
    for name in RATES["departments"]:
        assert row[name] is None  # not applicable — never 0 or 1
    assert row["score"] is None and row["grade"] is None
    assert row["renormalised"] is False  # no score, so no "renormalised" mark beside it
    ranked = rank_rows([{"code": "D01", **row}])
    assert ranked[0]["rank"] is None


# ---------------------------------------------------------------------------------------------
# regions: one case as of T
#
# Registered Mon 09:00 unless a row says otherwise.

REGISTERED = at("2026-11-23 09:00")


def case(**changes) -> RegionHistory:
    values = {"registered_at": REGISTERED, "public_source": False}
    values.update(changes)
    return RegionHistory(**values)


CLOSED_ON_TIME = {"registered": 1, "close_due": 1, "closed": 1, "closed_on_time": 1}
CLOSED_LATE = {"registered": 1, "close_due": 1, "closed": 1}
OPEN = {"registered": 1, "close_due": 1}
REOPENED = ((at("2026-11-23 16:00"), at("2026-11-24 09:00")), (at("2026-11-25 16:00"), None))

REGION_TABLE = [
    ("not registered yet at T", case(), "2026-11-23 08:59", None),
    ("registered and open: 应结案 = 立案 − 挂账 = 1 − 0", case(), "2026-11-23 10:00", OPEN),
    ("a public source counts as 公众举报", case(public_source=True), "2026-11-23 10:00",
     {**OPEN, "public_reports": 1}),
    ("挂账 at T: counted apart, out of 应结案 (1 − 1 = 0)", case(suspensions=((at("2026-11-23 11:00"), None),)),
     "2026-11-23 12:00", {"registered": 1, "suspended": 1}),
    ("a suspended public case is still 公众举报",
     case(public_source=True, suspensions=((at("2026-11-23 11:00"), None),)),
     "2026-11-23 12:00", {"registered": 1, "suspended": 1, "public_reports": 1}),
    ("resumed: back in 应结案", case(suspensions=((at("2026-11-23 11:00"), at("2026-11-24 11:00")),)),
     "2026-11-24 11:00", OPEN),
    ("closed, last task on time", case(handled=((at("2026-11-23 15:00"), True),),
                                       closures=((at("2026-11-23 16:00"), None),)),
     "2026-11-23 17:00", CLOSED_ON_TIME),
    ("check passed but not closed yet at T", case(handled=((at("2026-11-23 15:00"), True),),
                                                  closures=((at("2026-11-23 16:00"), None),)),
     "2026-11-23 15:30", OPEN),
    ("closed exactly at T", case(handled=((at("2026-11-23 15:00"), True),),
                                 closures=((at("2026-11-23 16:00"), None),)),
     "2026-11-23 16:00", CLOSED_ON_TIME),
    ("closed, last task late", case(handled=((at("2026-11-23 15:00"), False),),
                                    closures=((at("2026-11-23 16:00"), None),)),
     "2026-11-23 17:00", CLOSED_LATE),
    ("first task late, last task on time: 按期 by the last",
     case(handled=((at("2026-11-23 15:00"), False), (at("2026-11-24 10:00"), True)),
          closures=((at("2026-11-24 11:00"), None),)),
     "2026-11-24 12:00", CLOSED_ON_TIME),
    ("first task on time, last task late: not 按期",
     case(handled=((at("2026-11-23 15:00"), True), (at("2026-11-24 10:00"), False)),
          closures=((at("2026-11-24 11:00"), None),)),
     "2026-11-24 12:00", CLOSED_LATE),
    ("self-handled, closed without a task: on time", case(closures=((REGISTERED, None),)),
     "2026-11-23 09:00", CLOSED_ON_TIME),
    ("closed then reopened: not closed at T", case(handled=((at("2026-11-23 15:00"), True),), closures=REOPENED),
     "2026-11-24 10:00", OPEN),
    ("as of the evening of the first closure it was closed on time",
     case(handled=((at("2026-11-23 15:00"), True), (at("2026-11-25 15:00"), False)), closures=REOPENED),
     "2026-11-23 20:00", CLOSED_ON_TIME),
    ("closed again after the reopen, by a late last task",
     case(handled=((at("2026-11-23 15:00"), True), (at("2026-11-25 15:00"), False)), closures=REOPENED),
     "2026-11-25 17:00", CLOSED_LATE),
    ("cancelled or merged: counts nowhere", case(public_source=True, void_at=at("2026-11-23 12:00")),
     "2026-11-23 12:00", None),
    ("before the cancel it counts", case(void_at=at("2026-11-23 12:00")), "2026-11-23 11:00", OPEN),
]


@pytest.mark.parametrize(("history", "t", "expected"), [row[1:] for row in REGION_TABLE],
                         ids=[row[0] for row in REGION_TABLE])
def test_it_counts_a_case_for_its_region(history, t, expected):
    assert region_outcome(history, at(t)) == expected
    assert outcome("region", history, at(t)) == expected


def test_it_scores_a_region_by_hand():
    # 10 registered, 2 挂账 → 应结案 8; 6 closed, 5 on time; 3 public
    counts = {"registered": 10, "suspended": 2, "close_due": 8, "closed": 6, "closed_on_time": 5, "public_reports": 3}
    row = indicator_row("regions", counts, Config())
    # 结案率 6/8 = .75; 按期结案率 5/8 = .625; 公众举报率 3/10 = .3
    assert (row["close_rate"], row["close_on_time_rate"], row["public_rate"]) == (0.75, 0.625, 0.3)
    # .75×40 + .625×40 + (1−.3)×20 = 30 + 25 + 14 = 69
    assert row["score"] == 69.0
    assert row["grade"] == "C"


def test_it_renormalises_a_region_where_everything_is_suspended():
    # 2 registered, both 挂账: 应结案 = 0, so 结案率 and 按期结案率 are not applicable; 1 public of 2.
    row = indicator_row("regions", {"registered": 2, "suspended": 2, "public_reports": 1}, Config())
    assert row["close_rate"] is None and row["close_on_time_rate"] is None
    # only (1 − 1/2) × 20 = 10 over weight 20 → 10 × 100/20 = 50
    assert row["score"] == 50.0 and row["renormalised"] is True


# ---------------------------------------------------------------------------------------------
# inspectors


@pytest.mark.parametrize(
    ("history", "t", "expected"),
    [
        (ReportHistory(at("2026-11-23 09:00")), "2026-11-23 08:59", None),
        (ReportHistory(at("2026-11-23 09:00")), "2026-11-23 09:30", {"reports": 1}),
        # valid once registered (at 10:00), not before
        (ReportHistory(at("2026-11-23 09:00"), at("2026-11-23 10:00")), "2026-11-23 09:59", {"reports": 1}),
        (ReportHistory(at("2026-11-23 09:00"), at("2026-11-23 10:00")), "2026-11-23 10:00",
         {"reports": 1, "valid_reports": 1}),
        # a cancelled case counts nowhere
        (ReportHistory(at("2026-11-23 09:00"), at("2026-11-23 10:00"), at("2026-11-23 11:00")),
         "2026-11-23 11:00", None),
    ],
)
def test_it_counts_an_inspectors_report(history, t, expected):
    assert report_outcome(history, at(t)) == expected
    assert outcome("report", history, at(t)) == expected


@pytest.mark.parametrize(
    ("history", "t", "expected"),
    [
        (MissHistory(at("2026-11-23 09:00"), public_source=True), "2026-11-23 08:59", None),
        # a public report in the inspector's duty grid is a miss (漏报) and in the base
        (MissHistory(at("2026-11-23 09:00"), public_source=True), "2026-11-23 09:00",
         {"missed": 1, "missed_base": 1}),
        # the inspector's own (or another inspector's) report is only in the base
        (MissHistory(at("2026-11-23 09:00"), public_source=False), "2026-11-23 09:00", {"missed_base": 1}),
        (MissHistory(at("2026-11-23 09:00"), public_source=True, void_at=at("2026-11-23 10:00")),
         "2026-11-23 10:00", None),
    ],
)
def test_it_counts_a_miss(history, t, expected):
    assert miss_outcome(history, at(t)) == expected
    assert outcome("miss", history, at(t)) == expected


VERIFY_START, VERIFY_DUE = at("2026-11-23 09:00"), at("2026-11-23 10:00")


@pytest.mark.parametrize(
    ("history", "t", "expected"),
    [
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE), "2026-11-23 08:59", None),
        # open and not yet due: not counted (neither done nor overdue)
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE), "2026-11-23 09:30", None),
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE), "2026-11-23 10:00", None),
        # open and overdue at T: due, not on time
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE), "2026-11-23 10:01", {"verify_due": 1}),
        # done 09:50 ≤ 10:00: due, on time
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE, at("2026-11-23 09:50")), "2026-11-23 10:30",
         {"verify_due": 1, "verify_on_time": 1}),
        # done exactly at the deadline: on time
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE, VERIFY_DUE), "2026-11-23 10:00",
         {"verify_due": 1, "verify_on_time": 1}),
        # done before T? no: at 09:40 it is still open and not due
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE, at("2026-11-23 09:50")), "2026-11-23 09:40", None),
        # done late at 10:30: overdue at 10:15, due and late at 11:00
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE, at("2026-11-23 10:30")), "2026-11-23 10:15",
         {"verify_due": 1}),
        (ClockHistory("verify", VERIFY_START, VERIFY_DUE, at("2026-11-23 10:30")), "2026-11-23 11:00",
         {"verify_due": 1}),
        # the check clock counts under its own keys (120 minutes: 14:00 → 16:00)
        (ClockHistory("check", at("2026-11-23 14:00"), at("2026-11-23 16:00"), at("2026-11-23 15:00")),
         "2026-11-23 15:00", {"check_due": 1, "check_on_time": 1}),
        (ClockHistory("check", at("2026-11-23 14:00"), at("2026-11-23 16:00")), "2026-11-23 16:01",
         {"check_due": 1}),
        (ClockHistory("check", at("2026-11-23 14:00"), at("2026-11-23 16:00"), void_at=at("2026-11-23 16:00")),
         "2026-11-23 17:00", None),
    ],
)
def test_it_counts_a_verify_or_check_clock(history, t, expected):
    assert clock_outcome(history, at(t)) == expected
    assert outcome(history.stage, history, at(t)) == expected


def test_it_scores_an_inspector_by_hand():
    counts = {"reports": 20, "valid_reports": 18, "missed": 2, "missed_base": 10, "verify_due": 5,
              "verify_on_time": 5, "check_due": 4, "check_on_time": 3}
    row = indicator_row("inspectors", counts, Config())
    # 有效上报率 18/20 = .9; 漏报率 2/10 = .2; 按时核实率 5/5 = 1; 按时核查率 3/4 = .75
    assert (row["valid_rate"], row["missed_rate"], row["verify_on_time_rate"], row["check_on_time_rate"]) == (
        0.9, 0.2, 1.0, 0.75)
    # .9×40 + (1−.2)×20 + 1×20 + .75×20 = 36 + 16 + 20 + 15 = 87
    assert row["score"] == 87.0 and row["grade"] == "B" and row["renormalised"] is False


def test_it_renormalises_an_inspector_with_reports_only():
    # 9 of 10 valid; no cases in the duty grids, no clocks: three rates are 0/0
    row = indicator_row("inspectors", {"reports": 10, "valid_reports": 9}, Config())
    assert row["missed_rate"] is None and row["verify_on_time_rate"] is None and row["check_on_time_rate"] is None
    # .9 × 40 = 36 over weight 40 → 36 × 100/40 = 90 → exactly the A boundary
    assert row["score"] == 90.0 and row["grade"] == "A" and row["renormalised"] is True


# ---------------------------------------------------------------------------------------------
# operators

REG_START, REG_DUE = at("2026-11-23 09:00"), at("2026-11-23 09:30")


@pytest.mark.parametrize(
    ("history", "t", "expected"),
    [
        (RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, True), "2026-11-23 09:19", None),
        # registered 09:20 ≤ 09:30: on time and accurate
        (RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, True), "2026-11-23 10:00",
         {"accepted": 1, "registered": 1, "register_on_time": 1, "accurate_register": 1}),
        # registered exactly at the deadline: on time
        (RegisterHistory(REG_START, REG_DUE, REG_DUE, True), "2026-11-23 10:00",
         {"accepted": 1, "registered": 1, "register_on_time": 1, "accurate_register": 1}),
        # registered 09:40 > 09:30: late, still accurate
        (RegisterHistory(REG_START, at("2026-11-23 09:40"), REG_DUE, True), "2026-11-23 10:00",
         {"accepted": 1, "registered": 1, "accurate_register": 1}),
        # rejected (不予立案): accepted only
        (RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, False), "2026-11-23 10:00", {"accepted": 1}),
        # cancelled on Tuesday: accurate until then …
        (RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, True, at("2026-11-24 09:00")),
         "2026-11-23 12:00", {"accepted": 1, "registered": 1, "register_on_time": 1, "accurate_register": 1}),
        # … and from then on counts against 准确立案率 (the one place a cancelled case counts)
        (RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, True, at("2026-11-24 09:00")),
         "2026-11-24 09:00", {"accepted": 1, "registered": 1, "register_on_time": 1}),
    ],
)
def test_it_counts_a_call_takers_registration(history, t, expected):
    assert register_outcome(history, at(t)) == expected
    assert outcome("register", history, at(t)) == expected


DIS_START, DIS_DUE = at("2026-11-23 10:00"), at("2026-11-23 10:30")


@pytest.mark.parametrize(
    ("history", "t", "expected"),
    [
        (DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE), "2026-11-23 10:19", None),
        (DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE), "2026-11-23 10:20",
         {"dispatch_due": 1, "dispatches": 1, "dispatch_on_time": 1, "accurate_dispatch": 1}),
        (DispatchHistory(DIS_START, at("2026-11-23 10:45"), DIS_DUE), "2026-11-23 11:00",
         {"dispatch_due": 1, "dispatches": 1, "accurate_dispatch": 1}),
        # return approved 14:00: accurate before, not from then on
        (DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE, at("2026-11-23 14:00")), "2026-11-23 13:59",
         {"dispatch_due": 1, "dispatches": 1, "dispatch_on_time": 1, "accurate_dispatch": 1}),
        (DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE, at("2026-11-23 14:00")), "2026-11-23 14:00",
         {"dispatch_due": 1, "dispatches": 1, "dispatch_on_time": 1}),
        (DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE, void_at=at("2026-11-23 14:00")),
         "2026-11-23 14:00", None),
    ],
)
def test_it_counts_a_dispatch(history, t, expected):
    assert dispatch_outcome(history, at(t)) == expected
    assert outcome("dispatch", history, at(t)) == expected


def test_it_scores_an_operator_by_hand():
    # a call-taker with no dispatches: 12 accepted, 10 registered, 9 on time, 8 still accurate (2 cancelled)
    counts = {"accepted": 12, "registered": 10, "register_on_time": 9, "accurate_register": 8}
    row = indicator_row("operators", counts, Config())
    assert row["register_on_time_rate"] == 0.9 and row["accurate_register_rate"] == 0.8
    assert row["dispatch_on_time_rate"] is None and row["accurate_dispatch_rate"] is None
    # equal weights over the two applicable rates: (.9×25 + .8×25) × 100/50 = 42.5 × 2 = 85
    assert row["score"] == 85.0 and row["grade"] == "B" and row["renormalised"] is True
    # one who both registers and dispatches: 8 registered, 6 on time, 7 still accurate (1 cancelled);
    # 8 dispatches, 4 on time, 1 return approved → 7 accurate
    both = indicator_row("operators", {"accepted": 9, "registered": 8, "register_on_time": 6, "accurate_register": 7,
                                       "dispatch_due": 8, "dispatches": 8, "dispatch_on_time": 4,
                                       "accurate_dispatch": 7}, Config())
    assert both["accurate_dispatch_rate"] == 0.875  # (tasks − returned) / tasks = 7/8
    # (6/8 + 7/8 + 4/8 + 7/8) × 25 = 24/8 × 25 = 75 → exactly the B boundary
    assert both["score"] == 75.0 and both["grade"] == "B" and both["renormalised"] is False


# ---------------------------------------------------------------------------------------------
# crossing the period boundary: a fact belongs to the period of its counting instant
# (dispatched_at, registered_at, the clock's start) and counts as of T, whatever T is


def in_period(instant: datetime, text: str) -> bool:
    period = parse_period(text)
    return period.start(SH) <= instant < period.end(SH)


def test_a_task_dispatched_late_in_november_counts_for_november_as_of_december():
    # dispatched Mon 30 Nov 23:30, deadline Tue 1 Dec 12:00, feedback 1 Dec 11:00, check passes 1 Dec 15:00
    h = TaskHistory(dispatched_at=at("2026-11-30 23:30"),
                    deadlines=((at("2026-11-30 23:30"), at("2026-12-01 12:00")),),
                    feedbacks=(at("2026-12-01 11:00"),), checks=((at("2026-12-01 15:00"), True),))
    assert in_period(h.dispatched_at, "2026-11") and not in_period(h.dispatched_at, "2026-12")
    november_end = parse_period("2026-11").end(SH)  # 1 Dec 00:00
    assert november_end == at("2026-12-01 00:00")
    assert task_outcome(h, november_end) == {"due": 1}  # as of the period's end: open, not yet due
    assert task_outcome(h, at("2026-12-01 14:00")) == {"due": 1}  # awaiting its check
    assert task_outcome(h, at("2026-12-02 00:00")) == {"due": 1, "done": 1, "done_on_time": 1}


def test_a_fact_at_the_very_start_of_a_period_is_in_it_and_not_in_the_one_before():
    registered = at("2026-12-01 00:00")
    assert in_period(registered, "2026-12") and not in_period(registered, "2026-11")
    assert region_outcome(case(registered_at=registered), at("2026-12-01 00:00")) == OPEN


def test_a_registration_whose_clock_started_in_november_counts_there_once_decided():
    # the register clock starts 30 Nov 23:50 (so November's), the call-taker registers 1 Dec 00:10
    h = RegisterHistory(at("2026-11-30 23:50"), at("2026-12-01 00:10"), at("2026-12-01 00:20"), True)
    assert in_period(h.started_at, "2026-11")
    assert register_outcome(h, parse_period("2026-11").end(SH)) is None  # not decided by then
    assert register_outcome(h, at("2026-12-01 00:10")) == {
        "accepted": 1, "registered": 1, "register_on_time": 1, "accurate_register": 1}


# ---------------------------------------------------------------------------------------------
# defaults, composite, grades, ranks


def test_the_default_weights_are_the_domains():
    assert DEFAULT_WEIGHTS["departments"] == [
        ("done_rate", 30, False), ("on_time_rate", 20, False), ("rework_rate", 20, True),
        ("overdue_rate", 20, True), ("extension_rate", 10, True),
    ]
    assert DEFAULT_WEIGHTS["regions"] == [("close_rate", 40, False), ("close_on_time_rate", 40, False),
                                          ("public_rate", 20, True)]
    assert DEFAULT_WEIGHTS["inspectors"] == [("valid_rate", 40, False), ("missed_rate", 20, True),
                                             ("verify_on_time_rate", 20, False), ("check_on_time_rate", 20, False)]
    assert {weight for _, weight, _ in DEFAULT_WEIGHTS["operators"]} == {25}  # equal weights
    for subject, terms in DEFAULT_WEIGHTS.items():
        assert sum(weight for _, weight, _ in terms) == 100
        assert {key for key, _, _ in terms} <= set(RATES[subject])
    config = Config()
    assert config.weights == {k: list(v) for k, v in DEFAULT_WEIGHTS.items()}
    assert config.grades == [("A", 90), ("B", 75), ("C", 60), ("D", 40)]


def test_every_rate_is_over_counts_of_its_family():
    for subject, rates in RATES.items():
        for numerator, denominator in rates.values():
            assert numerator in KEYS[subject] and denominator in KEYS[subject]


REGION_WEIGHTS = DEFAULT_WEIGHTS["regions"]


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        # 1×40 + .75×40 + (1−0)×20 = 40 + 30 + 20 = 90
        ({"close_rate": 1, "close_on_time_rate": 0.75, "public_rate": 0}, (90.0, False)),
        # all perfect: 40 + 40 + 20 = 100; all worst: 0 + 0 + (1−1)×20 = 0
        ({"close_rate": 1, "close_on_time_rate": 1, "public_rate": 0}, (100.0, False)),
        ({"close_rate": 0, "close_on_time_rate": 0, "public_rate": 1}, (0.0, False)),
        # public rate n/a: (.5×40 + .25×40) × 100/80 = 30 × 1.25 = 37.5
        ({"close_rate": 0.5, "close_on_time_rate": 0.25, "public_rate": None}, (37.5, True)),
        # a missing rate is as not applicable as None
        ({"close_rate": 0.5, "close_on_time_rate": 0.25}, (37.5, True)),
        # only the inverted term: (1 − .4) × 20 × 100/20 = 60
        ({"close_rate": None, "close_on_time_rate": None, "public_rate": 0.4}, (60.0, True)),
        # nothing applicable: no score, and so no renormalised score to flag
        ({"close_rate": None, "close_on_time_rate": None, "public_rate": None}, (None, False)),
        ({}, (None, False)),
    ],
)
def test_it_composes_and_renormalises(rates, expected):
    assert composite(rates, REGION_WEIGHTS) == expected


def test_a_zero_weight_term_alone_gives_no_score():
    assert composite({"close_rate": 1.0}, [("close_rate", 0, False), ("public_rate", 100, True)])[0] is None


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (100.0, "A"), (90.0, "A"), (89.99, "B"), (75.0, "B"), (74.99, "C"), (60.0, "C"), (59.99, "D"),
        (40.0, "D"), (39.99, "E"), (0.0, "E"), (None, None),
    ],
)
def test_it_grades_on_the_band_boundaries(score, expected):
    assert grade(score, Config().grades) == expected


@pytest.mark.parametrize(
    ("rates", "score", "letter"),
    [
        # scores composed to exactly the boundaries grade upwards
        ({"close_rate": 1, "close_on_time_rate": 0.75, "public_rate": 0}, 90.0, "A"),  # 40 + 30 + 20
        ({"close_rate": 0.75, "close_on_time_rate": 0.75, "public_rate": 0.25}, 75.0, "B"),  # 30 + 30 + 15
        ({"close_rate": 0.5, "close_on_time_rate": 0.5, "public_rate": 0}, 60.0, "C"),  # 20 + 20 + 20
        ({"close_rate": 0.5, "close_on_time_rate": 0.5, "public_rate": 1}, 40.0, "D"),  # 20 + 20 + 0
        ({"close_rate": 0, "close_on_time_rate": 0, "public_rate": 0.5}, 10.0, "E"),  # 0 + 0 + 10
    ],
)
def test_it_grades_composed_scores_on_the_boundaries(rates, score, letter):
    value, _ = composite(rates, REGION_WEIGHTS)
    assert value == score
    assert grade(value, Config().grades) == letter


def test_it_rounds_float_noise_before_grading():
    # departments: .9×30 + .9×20 + (1−.1)×20 + (1−.1)×20 + (1−.1)×10 = 27+18+18+18+9 = 90 (floats: 89.999…)
    rates = {"done_rate": 0.9, "on_time_rate": 0.9, "rework_rate": 0.1, "overdue_rate": 0.1, "extension_rate": 0.1}
    value, renormalised = composite(rates, DEFAULT_WEIGHTS["departments"])
    assert value == 90.0 and not renormalised
    assert grade(value, Config().grades) == "A"


def test_it_ranks_with_ties_and_unscored_last():
    rows = [
        {"code": "D03", "score": 80.0}, {"code": "D01", "score": 90.0}, {"code": "D05", "score": None},
        {"code": "D02", "score": 80.0}, {"code": "D04", "score": 70.5}, {"code": "D00", "score": None},
    ]
    ranked = rank_rows(rows)
    # 90 → 1; 80, 80 → 2, 2 (ties in code order); 70.5 → 4 (competition ranking skips 3); no score → no rank, last
    assert [(r["code"], r["rank"]) for r in ranked] == [
        ("D01", 1), ("D02", 2), ("D03", 2), ("D04", 4), ("D00", None), ("D05", None),
    ]


def test_it_ranks_a_tie_at_the_top():
    ranked = rank_rows([{"code": c, "score": s} for c, s in [("c", 50.0), ("b", 60.0), ("a", 60.0), ("d", 60.0)]])
    assert [(r["code"], r["rank"]) for r in ranked] == [("a", 1), ("b", 1), ("d", 1), ("c", 4)]
    assert rank_rows([]) == []


def test_indicator_row_follows_a_configured_weighting_and_bands():
    weights = {**DEFAULT_WEIGHTS, "regions": [("close_rate", 100, False)]}
    config = Config(version=3, weights=weights, grades=[("优", 80), ("良", 50)])
    row = indicator_row("regions", {"registered": 4, "close_due": 4, "closed": 3}, config)
    # 3/4 × 100 = 75 → 良 (50 ≤ 75 < 80)
    assert row["score"] == 75.0 and row["grade"] == "良"
    low = indicator_row("regions", {"registered": 4, "close_due": 4, "closed": 1}, config)
    assert low["score"] == 25.0 and low["grade"] == "E"  # below every band


def test_add_counts_ignores_facts_that_count_nowhere():
    total = {"due": 1}
    assert add_counts(total, None) is total and total == {"due": 1}
    assert add_counts(total, {}) == {"due": 1}
    assert add_counts(total, {"due": 1, "reworks": 2}) == {"due": 2, "reworks": 2}


# ---------------------------------------------------------------------------------------------
# JSON round trip of every history kind

EVERY_KIND = [
    ("task", TaskHistory(
        dispatched_at=DISPATCHED, deadlines=REWORK_DEADLINES,
        feedbacks=(at("2026-11-23 10:00"), at("2026-11-23 18:30")),
        checks=((at("2026-11-23 12:00"), False), (at("2026-11-23 18:45"), True)),
        suspensions=((at("2026-11-23 09:30"), at("2026-11-23 09:40")), (at("2026-11-23 09:50"), None)),
        extensions=(at("2026-11-23 09:45"),), returned_at=at("2026-11-24 09:00"),
        void_at=at("2026-11-25 09:00"), appealed_at=at("2026-11-24 10:00"))),
    ("task", task()),
    ("region", RegionHistory(REGISTERED, True, REOPENED, ((at("2026-11-23 15:00"), True),),
                             ((at("2026-11-23 11:00"), None),), at("2026-11-26 09:00"))),
    ("region", case()),
    ("report", ReportHistory(at("2026-11-23 09:00"), at("2026-11-23 10:00"), at("2026-11-23 11:00"))),
    ("report", ReportHistory(at("2026-11-23 09:00"))),
    ("miss", MissHistory(REGISTERED, True, at("2026-11-23 11:00"))),
    ("verify", ClockHistory("verify", VERIFY_START, VERIFY_DUE, at("2026-11-23 09:50"), None)),
    ("check", ClockHistory("check", at("2026-11-23 14:00"), at("2026-11-23 16:00"), None, at("2026-11-23 17:00"))),
    ("register", RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, True, at("2026-11-24 09:00"))),
    ("register", RegisterHistory(REG_START, at("2026-11-23 09:20"), REG_DUE, False)),
    ("dispatch", DispatchHistory(DIS_START, at("2026-11-23 10:20"), DIS_DUE, at("2026-11-23 14:00"),
                                 at("2026-11-23 15:00"))),
]


@pytest.mark.parametrize(("kind", "history"), EVERY_KIND, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EVERY_KIND)])
def test_it_round_trips_every_history_kind_through_json(kind, history):
    text = json.dumps(history_to_json(history))  # plain JSON, no custom encoder
    back = history_from_json(kind, json.loads(text))
    assert back == history
    assert type(back) is type(history)
    for name in history.__dataclass_fields__:
        assert type(getattr(back, name)) is type(getattr(history, name))
    for t in ("2026-11-23 08:00", "2026-11-23 12:00", "2026-11-24 09:30", "2026-11-30 00:00"):
        assert outcome(kind, back, at(t)) == outcome(kind, history, at(t))


def test_it_keeps_the_instant_and_offset_in_json():
    data = history_to_json(ReportHistory(at("2026-11-23 09:00")))
    assert data == {"reported_at": "2026-11-23T09:00:00+08:00", "registered_at": None, "void_at": None}
    ny = ZoneInfo("America/New_York")
    h = ReportHistory(datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ny))  # the second 01:30 (EST) of DST's end
    back = history_from_json("report", json.loads(json.dumps(history_to_json(h))))
    # (compared as instants: Python never calls an ambiguous fold=1 time equal across zones, PEP 495)
    assert back.reported_at.timestamp() == h.reported_at.timestamp()
    assert back.reported_at.utcoffset() == timedelta(hours=-5)


# ---------------------------------------------------------------------------------------------
# properties

BASE = at("2026-11-23 00:00")
minutes = st.integers(min_value=1, max_value=1500)


@st.composite
def task_histories(draw):
    """A task walked through the real loop: feedback, check (fixed / rework), extension, suspend /
    resume, return; then perhaps an appeal or a cancel at any later instant."""
    start = BASE + timedelta(minutes=draw(st.integers(0, 3000)))
    deadlines = [(start, start + timedelta(minutes=draw(st.integers(1, 3000))))]
    feedbacks: list = []
    checks: list = []
    suspensions: list = []
    extensions: list = []
    returned_at = None
    state, now = "handling", start
    for _ in range(draw(st.integers(0, 10))):
        now += timedelta(minutes=draw(minutes))
        due = deadlines[-1][1]
        if state == "handling":
            action = draw(st.sampled_from(["feedback", "feedback", "extend", "suspend", "return"]))
            if action == "feedback":
                feedbacks.append(now)
                state = "handled"
            elif action == "extend":
                extensions.append(now)
                deadlines.append((now, due + timedelta(minutes=draw(minutes))))
            elif action == "suspend":
                suspensions.append([now, None])
                state = "suspended"
            else:
                returned_at = now
                break
        elif state == "handled":
            fixed = draw(st.booleans())
            checks.append((now, fixed))
            if fixed:
                break
            deadlines.append((now, due + (now - feedbacks[-1])))  # moved by the time awaiting the check
            state = "handling"
        else:  # suspended
            suspensions[-1][1] = now
            deadlines.append((now, due + (now - suspensions[-1][0])))  # moved by the time suspended
            state = "handling"
    later = st.none() | st.integers(0, 8000).map(lambda m: start + timedelta(minutes=m))
    return TaskHistory(
        dispatched_at=start, deadlines=tuple(deadlines), feedbacks=tuple(feedbacks), checks=tuple(checks),
        suspensions=tuple(tuple(s) for s in suspensions), extensions=tuple(extensions), returned_at=returned_at,
        void_at=draw(later), appealed_at=draw(later),
    )


def instants_of(h) -> list[datetime]:
    """Every instant a history names, and a minute either side of each."""
    found: list[datetime] = []

    def walk(value):
        if isinstance(value, datetime):
            found.extend([value - timedelta(minutes=1), value, value + timedelta(minutes=1)])
        elif isinstance(value, tuple):
            for v in value:
                walk(v)

    for name in h.__dataclass_fields__:
        walk(getattr(h, name))
    return sorted(found)


@st.composite
def history_and_instants(draw, histories):
    h = draw(histories)
    named = instants_of(h)
    anywhere = st.integers(-60, 20000).map(lambda m: BASE + timedelta(minutes=m))
    ts = draw(st.lists(st.sampled_from(named) | anywhere, min_size=1, max_size=8))
    return h, sorted(ts)


@settings(max_examples=300, deadline=None)
@given(history_and_instants(task_histories()))
def test_task_outcomes_are_consistent(sample):
    h, ts = sample
    for t in ts:
        out = task_outcome(h, t)
        if t < h.dispatched_at or (h.void_at is not None and h.void_at <= t):
            assert out is None
            continue
        assert out is not None
        assert set(out) <= set(KEYS["departments"])
        assert all(isinstance(v, int) and v >= 1 for v in out.values())
        # exactly one of returned / appealed / suspended / due
        assert sum(out.get(k, 0) for k in ("returned", "appealed", "suspended", "due")) == 1
        if "due" not in out:
            assert len(out) == 1
            continue
        assert out.get("done", 0) <= out["due"]
        assert out.get("done_on_time", 0) <= out.get("done", 0)
        assert out.get("reworked", 0) <= out.get("done", 0)
        assert bool(out.get("reworked")) == bool(out.get("reworks"))
        assert out.get("overdue_open", 0) + out.get("done", 0) <= 1  # a done task is never overdue-open
        assert out.get("extended", 0) <= out["due"]
        if out.get("overdue_open"):
            assert t > h.deadline_at(t)


@settings(max_examples=300, deadline=None)
@given(history_and_instants(task_histories()))
def test_task_outcomes_are_monotone(sample):
    h, ts = sample
    outs = [task_outcome(h, t) for t in ts]
    for i, earlier in enumerate(outs):
        for later in outs[i + 1:]:
            if later is None or earlier is None:
                continue
            if earlier.get("done") and "due" in later:
                # once done, done at any later T — and on time, reworked the same
                assert {k: later.get(k) for k in ("done", "done_on_time", "reworked", "reworks")} == {
                    k: earlier.get(k) for k in ("done", "done_on_time", "reworked", "reworks")}
            if earlier.get("extended") and "due" in later:
                assert later.get("extended") == 1
            if "returned" in earlier:
                assert later == earlier
            if "appealed" in earlier:
                assert later in ({"appealed": 1}, {"returned": 1})


@settings(max_examples=200, deadline=None)
@given(task_histories(), st.integers(0, 50000))
def test_a_final_task_outcome_stays_as_it_was(h, extra):
    # what the rollup relies on: once the task is done or returned (and no appeal or cancel follows),
    # its outcome no longer changes
    passed = next((at for at, fixed in h.checks if fixed), None)
    terminal = h.returned_at or passed
    if terminal is None:
        return
    final = max(i for i in (terminal, h.appealed_at, h.void_at) if i is not None)
    assert task_outcome(h, final) == task_outcome(h, final + timedelta(minutes=extra))


@settings(max_examples=100, deadline=None)
@given(task_histories())
def test_task_histories_round_trip_through_json(h):
    assert history_from_json("task", json.loads(json.dumps(history_to_json(h)))) == h


@st.composite
def region_histories(draw):
    """A case walked through registration, tasks handled, 挂账 / resume, close and reopen."""
    registered = BASE + timedelta(minutes=draw(st.integers(0, 3000)))
    closures: list = []
    handled: list = []
    suspensions: list = []
    state, now, handled_since_open = "open", registered, False
    if draw(st.booleans()):  # self-handled: closed on the spot, perhaps reopened later
        closures.append([registered, None])
        state = "closed"
    for _ in range(draw(st.integers(0, 8))):
        now += timedelta(minutes=draw(minutes))
        if state == "open":
            action = draw(st.sampled_from(["handle", "handle", "suspend", "close"]))
            if action == "handle":
                handled.append((now, draw(st.booleans())))
                handled_since_open = True
            elif action == "suspend":
                suspensions.append([now, None])
                state = "suspended"
            elif handled_since_open:
                closures.append([now, None])
                state = "closed"
        elif state == "suspended":
            suspensions[-1][1] = now
            state = "open"
        else:
            closures[-1][1] = now
            state, handled_since_open = "open", False
    return RegionHistory(
        registered_at=registered, public_source=draw(st.booleans()), closures=tuple(tuple(c) for c in closures),
        handled=tuple(handled), suspensions=tuple(tuple(s) for s in suspensions),
        void_at=draw(st.none() | st.integers(0, 8000).map(lambda m: registered + timedelta(minutes=m))),
    )


@settings(max_examples=300, deadline=None)
@given(history_and_instants(region_histories()))
def test_region_outcomes_are_consistent(sample):
    h, ts = sample
    for t in ts:
        out = region_outcome(h, t)
        if t < h.registered_at or (h.void_at is not None and h.void_at <= t):
            assert out is None
            continue
        assert set(out) <= set(KEYS["regions"])
        assert out["registered"] == 1
        assert out.get("suspended", 0) + out.get("close_due", 0) == 1  # 应结案 = 立案 − 挂账
        assert out.get("closed", 0) <= out.get("close_due", 0)
        assert out.get("closed_on_time", 0) <= out.get("closed", 0)
        assert out.get("public_reports", 0) == int(h.public_source)
    assert history_from_json("region", json.loads(json.dumps(history_to_json(h)))) == h


def _later(start, draw):
    return draw(st.none() | st.integers(0, 3000).map(lambda m: start + timedelta(minutes=m)))


@st.composite
def inspector_facts(draw):
    start = BASE + timedelta(minutes=draw(st.integers(0, 3000)))
    kind = draw(st.sampled_from(["report", "miss", "verify", "check"]))
    if kind == "report":
        return kind, ReportHistory(start, _later(start, draw), _later(start, draw))
    if kind == "miss":
        return kind, MissHistory(start, draw(st.booleans()), _later(start, draw))
    due = start + timedelta(minutes=draw(minutes))
    return kind, ClockHistory(kind, start, due, _later(start, draw), _later(start, draw))


@st.composite
def operator_facts(draw):
    start = BASE + timedelta(minutes=draw(st.integers(0, 3000)))
    done = start + timedelta(minutes=draw(st.integers(0, 120)))
    due = start + timedelta(minutes=draw(st.integers(0, 120)))
    if draw(st.booleans()):
        return "register", RegisterHistory(start, done, due, draw(st.booleans()), _later(done, draw))
    return "dispatch", DispatchHistory(start, done, due, _later(done, draw), _later(done, draw))


def facts_for(subject):
    if subject == "departments":
        return task_histories().map(lambda h: ("task", h))
    if subject == "regions":
        return region_histories().map(lambda h: ("region", h))
    return inspector_facts() if subject == "inspectors" else operator_facts()


@st.composite
def subject_facts(draw):
    subject = draw(st.sampled_from(sorted(KEYS)))
    facts = draw(st.lists(facts_for(subject), max_size=12))
    t = BASE + timedelta(minutes=draw(st.integers(0, 15000)))
    return subject, facts, t


@settings(max_examples=300, deadline=None)
@given(subject_facts())
def test_rows_have_rates_in_0_1_and_scores_in_0_100(sample):
    subject, facts, t = sample
    counts: dict = {}
    for kind, h in facts:
        out = outcome(kind, h, t)
        assert out is None or set(out) <= set(KEYS[subject])
        add_counts(counts, out)
        assert history_from_json(kind, json.loads(json.dumps(history_to_json(h)))) == h
    row = indicator_row(subject, counts, Config())
    for name, (_, denominator) in RATES[subject].items():
        value = row[name]
        assert (value is None) == (row[denominator] == 0)
        assert value is None or 0 <= value <= 1
    score = row["score"]
    assert score is None or 0 <= score <= 100
    assert (score is None) == all(row[name] is None for name in RATES[subject])
    assert (row["grade"] is None) == (score is None)
    if score is None:
        assert row["renormalised"] is False
    if all(row[name] is not None for name in RATES[subject]):
        assert row["renormalised"] is False


rate_values = st.none() | st.floats(min_value=0, max_value=1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(KEYS)), st.data())
def test_composite_is_in_0_100_and_says_when_it_renormalised(subject, data):
    terms = DEFAULT_WEIGHTS[subject]
    rates = {key: data.draw(rate_values) for key, _, _ in terms}
    score, renormalised = composite(rates, terms)
    applicable = [key for key, _, _ in terms if rates[key] is not None]
    if not applicable:
        assert (score, renormalised) == (None, False)
        return
    assert 0 <= score <= 100
    assert renormalised == (len(applicable) < len(terms))
    if not renormalised:  # weights sum to 100: the plain weighted sum
        plain = sum(w * ((1 - rates[k]) if inv else rates[k]) for k, w, inv in terms)
        assert score == pytest.approx(plain, abs=0.005 + 1e-9)


@given(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_grades_are_monotone_in_the_score(a, b):
    low, high = sorted((a, b))
    order = "ABCDE"
    bands = Config().grades
    assert order.index(grade(high, bands)) <= order.index(grade(low, bands))


@given(st.lists(st.none() | st.integers(0, 10).map(lambda n: n * 10.0), max_size=12))
def test_ranks_are_competition_ranks(scores):
    rows = [{"code": f"S{i:02d}", "score": s} for i, s in enumerate(scores)]
    ranked = rank_rows(rows)
    assert len(ranked) == len(scores)
    seen_unscored = False
    for row in ranked:
        if row["score"] is None:
            seen_unscored = True
            assert row["rank"] is None
        else:
            assert not seen_unscored  # unscored last
            assert row["rank"] == 1 + sum(1 for s in scores if s is not None and s > row["score"])


def test_outcome_dispatches_on_every_kind():
    assert set(ind.HISTORIES) == set(ind.FAMILY)
    for kind, family in ind.FAMILY.items():
        assert family in KEYS
        assert kind in {k for k, _ in EVERY_KIND}
