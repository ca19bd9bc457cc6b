"""Working-time arithmetic, worked out by hand and checked by properties. No database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.errors import Invalid
from chengguan.worktime.arith import (
    DEFAULT_PERIODS,
    OutsideTableError,
    WorkingTimeTable,
    _working_intervals,
    naive_add,
    naive_elapsed,
    parse_periods,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DAY = 450  # working minutes of a day with the default hours


def special_days(years):
    """The days of these years that differ from Monday–Friday, as chinese_calendar knows them."""
    out = {}
    for year in years:
        day = date(year, 1, 1)
        while day.year == year:
            workday = chinese_calendar.is_workday(day)
            if workday != (day.weekday() < 5):
                out[day] = workday
            day += timedelta(days=1)
    return out


# 2025 and 2026 entered; 2027 falls back to Monday–Friday; 2024 and 2028 are margin.
TABLE = WorkingTimeTable("Asia/Shanghai", DEFAULT_PERIODS, special_days([2025, 2026]), {2025, 2026}, 2024, 2028)


def sh(*args):
    return datetime(*args, tzinfo=SH)


ADD_CASES = [
    # (start, minutes, expected, why)
    (sh(2026, 3, 6, 16, 0), 120, sh(2026, 3, 9, 9, 0), "Friday 16:00: 90 on Friday, 30 on Monday"),
    (sh(2026, 3, 6, 16, 0), 90, sh(2026, 3, 6, 17, 30), "ends exactly at the end of the day"),
    (sh(2026, 3, 6, 16, 0), 91, sh(2026, 3, 9, 8, 31), "one minute more crosses the weekend"),
    (sh(2026, 3, 10, 12, 30), 60, sh(2026, 3, 10, 14, 30), "a lunchtime start waits for 13:30"),
    (sh(2026, 3, 10, 12, 30), 0, sh(2026, 3, 10, 12, 30), "zero minutes: the start itself"),
    (sh(2026, 3, 10, 11, 0), 60, sh(2026, 3, 10, 12, 0), "the morning ends at 12:00"),
    (sh(2026, 3, 10, 11, 0), 61, sh(2026, 3, 10, 13, 31), "lunch does not count"),
    (sh(2026, 3, 10, 20, 0), 30, sh(2026, 3, 11, 9, 0), "a night start waits for the morning"),
    (sh(2026, 3, 11, 6, 0), 1, sh(2026, 3, 11, 8, 31), "an early start waits for 08:30"),
    (sh(2026, 3, 9, 8, 30), DAY, sh(2026, 3, 9, 17, 30), "one working day"),
    (sh(2026, 3, 9, 8, 30), DAY + 1, sh(2026, 3, 10, 8, 31), "a day and a minute"),
    (sh(2026, 3, 9, 8, 30), 15 * DAY, sh(2026, 3, 27, 17, 30), "fifteen working days, three weeks"),
    (sh(2026, 9, 30, 17, 0), 60, sh(2026, 10, 8, 9, 0), "National Day: 1–7 October off"),
    (sh(2026, 10, 1, 10, 0), 1, sh(2026, 10, 8, 8, 31), "a start inside the holidays"),
    (sh(2026, 10, 9, 17, 0), 60, sh(2026, 10, 10, 9, 0), "Saturday 10 October is a workday (调休)"),
    (sh(2026, 10, 9, 17, 0), 30 + DAY + 1, sh(2026, 10, 12, 8, 31), "and Sunday is not"),
    (sh(2026, 2, 13, 17, 0), 60, sh(2026, 2, 14, 9, 0), "Saturday before Spring Festival works"),
    (sh(2026, 2, 14, 17, 0), 60, sh(2026, 2, 24, 9, 0), "Spring Festival: 15–23 February off"),
    (sh(2026, 3, 10, 11, 59, 30), 1, sh(2026, 3, 10, 13, 30, 30), "seconds are kept"),
    (
        sh(2026, 3, 10, 17, 29, 0, 500_000),
        1,
        sh(2026, 3, 11, 8, 30, 0, 500_000),
        "and microseconds",
    ),
    (sh(2027, 10, 1, 16, 0), 120, sh(2027, 10, 4, 9, 0), "2027 not entered: Mon–Fri only"),
    (sh(2026, 12, 31, 17, 0), 60, sh(2027, 1, 1, 9, 0), "into a year not entered"),
    (sh(2026, 3, 9, 9, 0), -120, sh(2026, 3, 6, 16, 0), "backwards over a weekend"),
    (sh(2026, 3, 10, 13, 30), -1, sh(2026, 3, 10, 11, 59), "backwards over lunch"),
    (sh(2026, 3, 10, 14, 0), -30, sh(2026, 3, 10, 13, 30), "backwards to the start of a period"),
    (datetime(2026, 3, 6, 8, 0, tzinfo=ZoneInfo("UTC")), 90, sh(2026, 3, 6, 17, 30), "UTC start"),
]


@pytest.mark.parametrize(("start", "minutes", "expected", "why"), ADD_CASES)
def test_it_adds_working_minutes(start, minutes, expected, why):
    assert TABLE.add(start, minutes) == expected, why
    assert naive_add(TABLE, start, minutes) == expected, why


ELAPSED_CASES = [
    # (start, end, minutes, why)
    (sh(2026, 3, 6, 16, 0), sh(2026, 3, 9, 9, 0), 120, "Friday afternoon to Monday morning"),
    (sh(2026, 3, 9, 9, 0), sh(2026, 3, 6, 16, 0), -120, "reversed: negative"),
    (sh(2026, 3, 7, 0, 0), sh(2026, 3, 8, 23, 59), 0, "a weekend"),
    (sh(2026, 10, 1, 0, 0), sh(2026, 10, 8, 0, 0), 0, "National Day holidays"),
    (sh(2026, 3, 10, 17, 30), sh(2026, 3, 11, 8, 30), 0, "a night"),
    (sh(2026, 3, 10, 12, 0), sh(2026, 3, 10, 13, 30), 0, "lunch"),
    (sh(2026, 3, 10, 11, 59, 30), sh(2026, 3, 10, 13, 30, 29), 0, "59 seconds: rounded down"),
    (sh(2026, 3, 10, 11, 59, 30), sh(2026, 3, 10, 13, 30, 30), 1, "one whole minute"),
    (sh(2026, 3, 10, 13, 30, 30), sh(2026, 3, 10, 11, 59, 31), 0, "reversed: towards zero"),
    (sh(2026, 9, 30, 8, 30), sh(2026, 10, 10, 17, 30), 4 * DAY, "30 Sep, 8, 9 and 10 Oct"),
    (sh(2026, 3, 9, 0, 0), sh(2026, 3, 14, 0, 0), 5 * DAY, "a week"),
    (sh(2027, 10, 1, 0, 0), sh(2027, 10, 2, 0, 0), DAY, "1 Oct 2027 not entered: a workday"),
    (sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 10, 0), 0, "no time at all"),
]


@pytest.mark.parametrize(("start", "end", "minutes", "why"), ELAPSED_CASES)
def test_it_counts_working_minutes(start, end, minutes, why):
    assert TABLE.elapsed(start, end) == minutes, why
    assert naive_elapsed(TABLE, start, end) == minutes, why


def test_it_names_the_years_that_fell_back():
    assert TABLE.fallback_years(sh(2026, 1, 1), sh(2026, 12, 31)) == []
    assert TABLE.fallback_years(sh(2026, 12, 31), sh(2028, 1, 2)) == [2027, 2028]
    assert TABLE.fallback_years(sh(2028, 1, 2), sh(2026, 12, 31)) == [2027, 2028]
    # the zone decides the year: 16:30 UTC on 31 December is already New Year in Shanghai
    assert TABLE.fallback_years(*[datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC"))] * 2) == [2027]


def test_it_refuses_instants_outside_the_table_with_the_years_needed():
    with pytest.raises(OutsideTableError) as caught:
        TABLE.add(sh(2035, 3, 1, 9, 0), 60)
    assert (caught.value.first_year, caught.value.last_year) == (2035, 2035)
    with pytest.raises(OutsideTableError):
        TABLE.elapsed(sh(2023, 12, 31, 9, 0), sh(2026, 3, 1))
    with pytest.raises(OutsideTableError) as caught:
        TABLE.add(sh(2028, 12, 1, 9, 0), 3 * 250 * DAY)
    assert caught.value.last_year > 2028
    wider = TABLE.widened(caught.value.first_year, caught.value.last_year)
    assert wider.add(sh(2028, 12, 1, 9, 0), 60) == sh(2028, 12, 1, 10, 0)


def test_a_wider_table_gives_the_same_answers():
    wider = TABLE.widened(2010, 2040)
    for start, minutes, expected, _ in ADD_CASES:
        assert wider.add(start, minutes) == expected
    for start, end, minutes, _ in ELAPSED_CASES:
        assert wider.elapsed(start, end) == minutes


def test_it_wants_aware_datetimes():
    with pytest.raises(ValueError, match="aware"):
        TABLE.add(datetime(2026, 3, 10, 9, 0), 60)  # noqa: DTZ001


def test_it_reads_working_periods():
    assert parse_periods([["08:30", "12:00"], ["13:30", "17:30"]]) == DEFAULT_PERIODS
    assert parse_periods([["00:00", "24:00"]]) == ((time(0), time(0)),)
    for bad in (
        [],
        [["08:30"]],
        [["8h30", "12:00"]],
        [["12:00", "08:30"]],
        [["08:30", "12:00"], ["11:00", "17:00"]],
        [["24:00", "24:00"]],
        [["08:00", "24:30"]],
    ):
        with pytest.raises(Invalid):
            parse_periods(bad)


def test_it_follows_daylight_saving_time():
    # New York, 24-hour "workdays" on the Sundays when the clocks change.
    table = WorkingTimeTable(
        "America/New_York",
        ((time(0), time(0)),),
        {date(2026, 3, 8): True, date(2026, 11, 1): True},
        {2026},
        2026,
        2026,
    )
    spring = datetime(2026, 3, 8, tzinfo=NY)
    autumn = datetime(2026, 11, 1, tzinfo=NY)
    assert table.elapsed(spring, spring + timedelta(days=1)) == 23 * 60
    assert table.elapsed(autumn, autumn + timedelta(days=1)) == 25 * 60
    assert table.add(spring, 23 * 60) == datetime(2026, 3, 9, tzinfo=NY)
    assert naive_elapsed(table, autumn, autumn + timedelta(days=1)) == 25 * 60


def test_office_hours_in_new_york_keep_their_wall_times_across_the_change():
    table = WorkingTimeTable("America/New_York", DEFAULT_PERIODS, {}, set(), 2026, 2026)
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=NY)  # EST; Monday is EDT
    assert table.add(friday, 120) == datetime(2026, 3, 9, 9, 0, tzinfo=NY)
    assert table.elapsed(friday, datetime(2026, 3, 9, 9, 0, tzinfo=NY)) == 120


def test_batches_take_and_give_epoch_seconds():
    starts = np.array([int(case[0].timestamp()) for case in ADD_CASES if case[0].microsecond == 0])
    minutes = np.array([case[1] for case in ADD_CASES if case[0].microsecond == 0])
    expected = np.array([int(case[2].timestamp()) for case in ADD_CASES if case[0].microsecond == 0])
    assert (TABLE.add_batch(starts, minutes) == expected).all()
    assert (TABLE.elapsed_batch(starts, expected) == minutes).all()
    assert TABLE.add_batch(starts.astype(float), minutes).dtype == np.float64
    assert (TABLE.add_batch(starts, 0) == starts).all()
    assert len(TABLE.add_batch(np.array([], dtype=np.int64), np.array([], dtype=np.int64))) == 0
    with pytest.raises(OutsideTableError):
        TABLE.add_batch(np.array([int(sh(2035, 1, 2).timestamp())]), np.array([1]))


# -- properties -------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
    max_value=datetime(2027, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(SH),
)
whole_seconds = instants.map(lambda t: t.replace(microsecond=0))
amounts = st.integers(min_value=0, max_value=40 * DAY)


@given(instants, amounts)
def test_elapsed_undoes_add(start, minutes):
    assert TABLE.elapsed(start, TABLE.add(start, minutes)) == minutes


@given(instants, amounts)
def test_elapsed_undoes_add_backwards(start, minutes):
    assert TABLE.elapsed(TABLE.add(start, -minutes), start) == minutes


@given(instants, amounts, st.integers(min_value=0, max_value=5 * DAY))
def test_add_grows_with_the_minutes(start, minutes, more):
    assert TABLE.add(start, minutes) <= TABLE.add(start, minutes + more)


@given(instants, instants, amounts)
def test_add_grows_with_the_start(a, b, minutes):
    a, b = sorted((a, b))
    assert TABLE.add(a, minutes) <= TABLE.add(b, minutes)


@given(instants, st.integers(min_value=1, max_value=40 * DAY))
def test_a_deadline_falls_in_working_hours(start, minutes):
    due = TABLE.add(start, minutes).astimezone(SH)
    assert due > start
    assert TABLE.is_workday(due.date())
    assert any(a < due.time() <= b for a, b in DEFAULT_PERIODS)


@given(instants, instants)
def test_elapsed_mirrors(a, b):
    assert TABLE.elapsed(a, b) == -TABLE.elapsed(b, a)


@given(
    st.integers(min_value=0, max_value=7 * 24 * 3600),
    st.integers(min_value=0, max_value=7 * 24 * 3600),
)
def test_holidays_never_count(x, y):
    # 1 October 00:00 to 8 October 00:00, 2026: National Day and a weekend.
    start = sh(2026, 10, 1)
    assert TABLE.elapsed(start + timedelta(seconds=x), start + timedelta(seconds=y)) == 0


@given(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 30)),
    st.integers(min_value=0, max_value=15 * 3600),
    st.integers(min_value=0, max_value=15 * 3600),
)
def test_nights_never_count(day, x, y):
    evening = datetime.combine(day, time(17, 30), tzinfo=SH)
    assert TABLE.elapsed(evening + timedelta(seconds=x), evening + timedelta(seconds=y)) == 0


@given(st.lists(st.tuples(whole_seconds, st.integers(min_value=-20 * DAY, max_value=40 * DAY)), max_size=30))
def test_add_batch_agrees_with_add(cases):
    starts = np.array([int(s.timestamp()) for s, _ in cases], dtype=np.int64)
    minutes = np.array([n for _, n in cases], dtype=np.int64)
    expected = [int(TABLE.add(s, n).timestamp()) for s, n in cases]
    assert TABLE.add_batch(starts, minutes).tolist() == expected


@given(st.lists(st.tuples(whole_seconds, whole_seconds), max_size=30))
def test_elapsed_batch_agrees_with_elapsed(cases):
    starts = np.array([int(a.timestamp()) for a, _ in cases], dtype=np.int64)
    ends = np.array([int(b.timestamp()) for _, b in cases], dtype=np.int64)
    assert TABLE.elapsed_batch(starts, ends).tolist() == [TABLE.elapsed(a, b) for a, b in cases]


@settings(max_examples=60)
@given(instants, st.integers(min_value=-20 * DAY, max_value=20 * DAY))
def test_naive_add_agrees(start, minutes):
    assert naive_add(TABLE, start, minutes) == TABLE.add(start, minutes)


@settings(max_examples=60)
@given(instants, instants)
def test_naive_elapsed_agrees(a, b):
    if abs(b - a) > timedelta(days=60):
        b = a + (b - a) / 50
    assert naive_elapsed(TABLE, a, b) == TABLE.elapsed(a, b)


NY_TABLE = WorkingTimeTable("America/New_York", DEFAULT_PERIODS, {}, set(), 2024, 2028)
ny_instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(NY),
)


@settings(max_examples=60)
@given(ny_instants, st.integers(min_value=0, max_value=20 * DAY))
def test_naive_agrees_in_a_zone_with_daylight_saving(start, minutes):
    due = NY_TABLE.add(start, minutes)
    assert naive_add(NY_TABLE, start, minutes) == due
    assert naive_elapsed(NY_TABLE, start, due) == minutes == NY_TABLE.elapsed(start, due)


def test_a_large_unsorted_batch_agrees_with_add():
    # Large batches are sorted before the searches; the answers come back in input order.
    rng = np.random.default_rng(7)
    lo, hi = int(sh(2025, 1, 1).timestamp()), int(sh(2027, 12, 1).timestamp())
    starts = rng.integers(lo, hi, size=10_000)
    minutes = rng.choice([-450, -30, 0, 1, 30, 60, 120, 450, 6750], size=starts.size)
    due = TABLE.add_batch(starts, minutes)
    picked = rng.choice(starts.size, size=500, replace=False)
    for k in picked:
        start = datetime.fromtimestamp(int(starts[k]), SH)
        assert due[k] == int(TABLE.add(start, int(minutes[k])).timestamp())
    assert (TABLE.add_batch(starts.astype(float), minutes) == due).all()
    back = TABLE.elapsed_batch(due, starts)
    assert (back == -minutes).all()


# -- building the table --------------------------------------------------------------------

ODD_ZONES = [
    "Asia/Shanghai",  # DST 1986–1991
    "America/New_York",
    "America/Sao_Paulo",  # clocks changed at midnight
    "Asia/Tehran",
    "Africa/Casablanca",  # DST suspended for Ramadan, a month apart
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Apia",  # 30 December 2011 never happened
    "America/St_Johns",
    "Asia/Gaza",
    "Antarctica/Troll",  # two-hour DST
]


def _intervals_day_by_day(table: WorkingTimeTable) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary through zoneinfo, one wall time at a time (what the table must equal)."""
    starts, ends = [], []
    day, last = date(table.first_year, 1, 1), date(table.last_year, 12, 31)
    while day <= last:
        if table.is_workday(day):
            for start, end in table.periods:
                for out, seconds in ((starts, start.hour * 3600 + start.minute * 60),
                                     (ends, end.hour * 3600 + end.minute * 60 or 86_400)):  # 00:00 ends at 24:00
                    wall = datetime.combine(day, time(0), tzinfo=table.zone) + timedelta(seconds=seconds)
                    out.append(int(wall.timestamp()))  # fold=0, as every deadline is read
        day += timedelta(days=1)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@pytest.mark.parametrize("zone", ODD_ZONES)
@pytest.mark.parametrize("hours", [None, [["00:00", "02:30"], ["02:30", "03:30"], ["22:00", "24:00"]]])
def test_table_boundaries_equal_zoneinfo_wall_times(zone, hours):
    """The table's working periods are found a day at a time from each midnight's offset; on
    every day of a clock change (gaps, repeated hours, a skipped day, changes at midnight) and
    every other day, they are the instants zoneinfo gives for the wall times one by one."""
    periods = parse_periods(hours) if hours else DEFAULT_PERIODS
    special = {date(2011, 12, 29): False, date(2020, 3, 8): True}
    table = WorkingTimeTable(zone, periods, special, (), 1970, 2035)
    offsets = [(a.hour * 3600 + a.minute * 60, b.hour * 3600 + b.minute * 60 or 86_400) for a, b in periods]
    starts, ends = _working_intervals(table.zone, offsets, special, 1970, 2035)
    expected_starts, expected_ends = _intervals_day_by_day(table)
    assert np.array_equal(starts, expected_starts)
    assert np.array_equal(ends, expected_ends)
