"""Evaluation periods (pure): parsing, labels, `previous()`, and the half-open interval in a time zone.

Calendar facts used below, checked by hand:
- 2026-01-01 is a Thursday, so ISO 2026 has 53 weeks: W01 starts Mon 2025-12-29, W48 starts
  2025-12-29 + 47 × 7 days = Mon 2026-11-23, W53 starts 2025-12-29 + 52 × 7 = Mon 2026-12-28.
- 2027-01-01 is a Friday: 52 weeks. 2020 is a leap year starting on a Wednesday: 53 weeks.
- 2025-01-01 is a Wednesday: 2025-W01 starts Mon 2024-12-30.
- New York in 2026: DST starts Sun 8 March (second Sunday), ends Sun 1 November (first Sunday).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengguan.evaluation.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_RANGE_DAYS,
    Period,
    PeriodError,
    day_start,
    local_day,
    month_of,
    parse_period,
    quarter_of,
    week_of,
    year_of,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def d(text: str) -> date:
    return date.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# parsing every kind

PERIODS = [
    # text, kind, first, last, days, label, label_zh
    ("2026-11-25", "day", "2026-11-25", "2026-11-25", 1, "2026-11-25", "2026年11月25日"),
    ("2024-02-29", "day", "2024-02-29", "2024-02-29", 1, "2024-02-29", "2024年2月29日"),  # leap day
    ("2026-W48", "week", "2026-11-23", "2026-11-29", 7, "2026-W48", "2026年第48周（11-23至11-29）"),
    ("2026-W01", "week", "2025-12-29", "2026-01-04", 7, "2026-W01", "2026年第1周（12-29至01-04）"),
    # week 53 of a Thursday year, crossing into the next year
    ("2026-W53", "week", "2026-12-28", "2027-01-03", 7, "2026-W53", "2026年第53周（12-28至01-03）"),
    # week 53 of a leap year starting on a Wednesday
    ("2020-W53", "week", "2020-12-28", "2021-01-03", 7, "2020-W53", "2020年第53周（12-28至01-03）"),
    # week 1 starting in the previous year
    ("2025-W01", "week", "2024-12-30", "2025-01-05", 7, "2025-W01", "2025年第1周（12-30至01-05）"),
    # months: 28, 29 (leap: 2024 ÷ 4; 2000 ÷ 400), 30 and 31 days; December into the next year
    ("2026-02", "month", "2026-02-01", "2026-02-28", 28, "2026-02", "2026年2月"),
    ("2024-02", "month", "2024-02-01", "2024-02-29", 29, "2024-02", "2024年2月"),
    ("2000-02", "month", "2000-02-01", "2000-02-29", 29, "2000-02", "2000年2月"),
    ("2026-11", "month", "2026-11-01", "2026-11-30", 30, "2026-11", "2026年11月"),
    ("2026-12", "month", "2026-12-01", "2026-12-31", 31, "2026-12", "2026年12月"),
    # quarters: Q1 = 31 + 28 + 31 = 90 (leap: 91); Q2 = 30 + 31 + 30 = 91; Q3 = 31 + 31 + 30 = 92;
    # Q4 = 31 + 30 + 31 = 92
    ("2026-Q1", "quarter", "2026-01-01", "2026-03-31", 90, "2026-Q1", "2026年第1季度"),
    ("2024-Q1", "quarter", "2024-01-01", "2024-03-31", 91, "2024-Q1", "2024年第1季度"),
    ("2026-Q2", "quarter", "2026-04-01", "2026-06-30", 91, "2026-Q2", "2026年第2季度"),
    ("2026-Q3", "quarter", "2026-07-01", "2026-09-30", 92, "2026-Q3", "2026年第3季度"),
    ("2026-Q4", "quarter", "2026-10-01", "2026-12-31", 92, "2026-Q4", "2026年第4季度"),
    ("2026", "year", "2026-01-01", "2026-12-31", 365, "2026", "2026年"),
    ("2024", "year", "2024-01-01", "2024-12-31", 366, "2024", "2024年"),
    # ranges, inclusive: 1..15 November = 15 days
    ("2026-11-01..2026-11-15", "range", "2026-11-01", "2026-11-15", 15, "2026-11-01..2026-11-15",
     "2026-11-01 至 2026-11-15"),
    ("2026-11-01..2026-11-01", "range", "2026-11-01", "2026-11-01", 1, "2026-11-01..2026-11-01",
     "2026-11-01 至 2026-11-01"),
    # across a leap February: 28 Feb, 29 Feb, 1 Mar
    ("2024-02-28..2024-03-01", "range", "2024-02-28", "2024-03-01", 3, "2024-02-28..2024-03-01",
     "2024-02-28 至 2024-03-01"),
    # the bounds themselves
    ("2000", "year", "2000-01-01", "2000-12-31", 366, "2000", "2000年"),
    ("2099", "year", "2099-01-01", "2099-12-31", 365, "2099", "2099年"),
]


@pytest.mark.parametrize(("text", "kind", "first", "last", "days", "label", "label_zh"), PERIODS,
                         ids=[p[0] for p in PERIODS])
def test_it_parses_every_kind(text, kind, first, last, days, label, label_zh):
    period = parse_period(text)
    assert period == Period(kind, d(first), d(last))
    assert period.days == days
    assert period.label == label
    assert period.label_zh == label_zh
    assert parse_period(period.label) == period  # the label names the period again


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-w48", "2026-W48"),  # lower case
        ("2026-q4", "2026-Q4"),
        ("  2026-11  ", "2026-11"),  # surrounding blanks
        ("2026-11-01 .. 2026-11-15", "2026-11-01..2026-11-15"),  # blanks around the dots
    ],
)
def test_it_tolerates_case_and_blanks(text, expected):
    assert parse_period(text).label == expected


def test_the_constructors_agree_with_the_parser():
    assert week_of(d("2026-11-25")) == parse_period("2026-W48")  # a Wednesday → its Monday..Sunday
    assert week_of(d("2026-11-23")) == week_of(d("2026-11-29")) == parse_period("2026-W48")
    assert week_of(d("2027-01-01")) == parse_period("2026-W53")  # Friday 1 Jan 2027 is in ISO 2026
    assert month_of(2026, 12) == parse_period("2026-12")
    assert quarter_of(2026, 4) == parse_period("2026-Q4")
    assert year_of(2026) == parse_period("2026")


# ---------------------------------------------------------------------------------------------
# bad inputs: a PeriodError with both languages

BAD = [
    ("", "The period is missing"),
    ("   ", "The period is missing"),
    (None, "The period is missing"),
    ("2026-13", "Not a month: 2026-13"),
    ("2026-00", "Not a month: 2026-00"),
    ("2026-02-30", "Not a date: 2026-02-30"),  # no 30 February
    ("2026-02-29", "Not a date: 2026-02-29"),  # 2026 is no leap year
    ("2026-W00", "2026 has no week 0"),
    ("2027-W53", "2027 has no week 53"),  # a Friday year has 52 weeks
    ("2026-W54", "2026 has no week 54"),
    ("2026-11-15..2026-11-01", "The range ends before it starts"),
    ("2026-11-01..2026-11-31", "Not a date: 2026-11-31"),
    ("2026-11-01..", "Not a date: "),
    ("..2026-11-01", "Not a date: "),
    ("1999", "Year 1999 is outside 2000–2099"),
    ("2100", "Year 2100 is outside 2000–2099"),
    ("1999-12", "Year 1999 is outside 2000–2099"),
    ("2100-Q1", "Year 2100 is outside 2000–2099"),
    ("1999-W52", "Year 1999 is outside 2000–2099"),
    ("1999-12-31", "Year 1999 is outside 2000–2099"),
    ("1999-12-31..2000-01-05", "Year 1999 is outside 2000–2099"),
    ("2099-12-31..2100-01-01", "Year 2100 is outside 2000–2099"),
]


@pytest.mark.parametrize(("text", "en"), BAD, ids=[repr(b[0]) for b in BAD])
def test_it_refuses_bad_periods_with_clear_messages(text, en):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    error = caught.value
    assert error.en == en
    assert str(error) == en  # the English message is the exception's text
    assert error.zh and error.zh != error.en  # and a Chinese one for the pages
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "26-11", "2026/11", "2026-1", "2026-W5", "abc",
                                  "2026-11-25T08:00", "Q4-2026", "20261"])
def test_it_names_the_accepted_forms_for_an_unknown_text(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert caught.value.en.startswith(f"Unknown period '{text.upper()}'")
    assert "2026-W48" in caught.value.en and "2026-W48" in caught.value.zh
    assert caught.value.zh.startswith("无法识别的周期")


def test_chinese_messages_say_the_same():
    cases = {"": "缺少评价周期", "2026-13": "无效的月份：2026-13", "2026-02-30": "无效的日期：2026-02-30",
             "2027-W53": "2027 年没有第 53 周", "2026-11-15..2026-11-01": "周期的结束日期早于开始日期",
             "1999": "年份 1999 超出范围（2000–2099）"}
    for text, zh in cases.items():
        with pytest.raises(PeriodError) as caught:
            parse_period(text)
        assert caught.value.zh == zh


def test_a_range_is_at_most_max_range_days():
    assert (FIRST_YEAR, LAST_YEAR) == (2000, 2099)
    assert MAX_RANGE_DAYS == 3 * 366 + 1  # = 1099 days, more than any three calendar years (≤ 1096)
    # three calendar years with a leap year: 366 + 365 + 365 = 1096 days — allowed
    assert parse_period("2024-01-01..2026-12-31").days == 1096
    first = d("2024-01-01")
    longest = first + timedelta(days=MAX_RANGE_DAYS - 1)  # 2024-01-01 + 1098 days = 2027-01-03
    assert longest == d("2027-01-03")
    assert parse_period(f"{first}..{longest}").days == MAX_RANGE_DAYS
    with pytest.raises(PeriodError) as caught:
        parse_period(f"{first}..{longest + timedelta(days=1)}")
    assert caught.value.en == "A range may span at most three years"


# ---------------------------------------------------------------------------------------------
# previous()

PREVIOUS = [
    ("2026-03-01", "2026-02-28"),  # day before 1 March in a common year
    ("2024-03-01", "2024-02-29"),  # … and in a leap year
    ("2026-01-01", "2025-12-31"),
    ("2026-W48", "2026-W47"),
    ("2026-W01", "2025-W52"),  # Mon 2025-12-22 .. Sun 2025-12-28; 2025 has 52 weeks
    ("2021-W01", "2020-W53"),  # into the 53-week year
    ("2027-W01", "2026-W53"),
    ("2026-03", "2026-02"),
    ("2024-03", "2024-02"),
    ("2026-01", "2025-12"),
    ("2026-Q1", "2025-Q4"),
    ("2026-Q3", "2026-Q2"),
    ("2026", "2025"),
    # 15 days → the 15 days before: 2026-10-17 .. 2026-10-31 (31 − 14 = 17)
    ("2026-11-01..2026-11-15", "2026-10-17..2026-10-31"),
    # 3 days across leap February → 3 days before: 2024-02-25 .. 2024-02-27
    ("2024-02-28..2024-03-01", "2024-02-25..2024-02-27"),
]


@pytest.mark.parametrize(("text", "expected"), PREVIOUS, ids=[p[0] for p in PREVIOUS])
def test_it_gives_the_previous_period(text, expected):
    period = parse_period(text)
    before = period.previous()
    assert before == parse_period(expected)
    assert before.kind == period.kind
    assert before.last == period.first - timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# start and end: half-open, in the city's time zone


@pytest.mark.parametrize(
    ("text", "tz", "start", "end", "hours"),
    [
        # Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before; 24 h a day
        ("2026-11-25", SH, "2026-11-24 16:00", "2026-11-25 16:00", 24),
        ("2026-W48", SH, "2026-11-22 16:00", "2026-11-29 16:00", 7 * 24),
        ("2026-02", SH, "2026-01-31 16:00", "2026-02-28 16:00", 28 * 24),
        ("2026", SH, "2025-12-31 16:00", "2026-12-31 16:00", 365 * 24),
        # New York, spring forward on Sun 8 March 2026: midnight EST (−5) = 05:00 UTC, the next
        # midnight is EDT (−4) = 04:00 UTC; the day has 23 hours
        ("2026-03-08", NY, "2026-03-08 05:00", "2026-03-09 04:00", 23),
        # fall back on Sun 1 November 2026: 00:00 EDT = 04:00 UTC .. 00:00 EST = 05:00 UTC; 25 hours
        ("2026-11-01", NY, "2026-11-01 04:00", "2026-11-02 05:00", 25),
        # the ISO week holding the spring change: Mon 2 March .. Sun 8 March → 7 × 24 − 1 = 167 h
        ("2026-W10", NY, "2026-03-02 05:00", "2026-03-09 04:00", 167),
        # the week holding the fall change: Mon 26 October .. Sun 1 November → 7 × 24 + 1 = 169 h
        ("2026-W44", NY, "2026-10-26 04:00", "2026-11-02 05:00", 169),
        # March 2026: 31 × 24 − 1 = 743 h; Q4 2026 gains the hour back: 92 × 24 + 1 = 2209 h
        ("2026-03", NY, "2026-03-01 05:00", "2026-04-01 04:00", 743),
        ("2026-Q4", NY, "2026-10-01 04:00", "2027-01-01 05:00", 2209),
        # the whole year: both changes cancel out, 365 × 24 h
        ("2026", NY, "2026-01-01 05:00", "2027-01-01 05:00", 365 * 24),
    ],
)
def test_it_gives_a_half_open_interval_in_the_time_zone(text, tz, start, end, hours):
    period = parse_period(text)
    assert period.start(tz) == utc(start)
    assert period.end(tz) == utc(end)
    # (measured in UTC: Python subtracts two datetimes of the same zone by their wall clocks)
    assert period.end(tz).astimezone(UTC) - period.start(tz).astimezone(UTC) == timedelta(hours=hours)
    # half-open: the start belongs to the period, the end to the next one
    assert local_day(period.start(tz), tz) == period.first
    assert local_day(period.end(tz) - timedelta(microseconds=1), tz) == period.last
    assert local_day(period.end(tz), tz) == period.last + timedelta(days=1)
    assert day_start(period.first, tz) == period.start(tz)


@pytest.mark.parametrize(
    ("instant", "tz", "day"),
    [
        ("2026-11-24 15:59:59", SH, "2026-11-24"),  # 23:59:59 in Shanghai
        ("2026-11-24 16:00:00", SH, "2026-11-25"),  # midnight in Shanghai
        ("2026-11-25 04:59:59", NY, "2026-11-24"),  # 23:59:59 EST
        ("2026-11-25 05:00:00", NY, "2026-11-25"),
        ("2026-07-01 03:59:59", NY, "2026-06-30"),  # 23:59:59 EDT
        ("2026-07-01 04:00:00", NY, "2026-07-01"),
    ],
)
def test_it_finds_the_local_day_of_an_instant(instant, tz, day):
    assert local_day(utc(instant), tz) == d(day)


def test_the_previous_period_ends_where_this_one_starts():
    for text in ("2026-03-09", "2026-W11", "2026-04", "2026-Q2", "2027", "2026-03-08..2026-03-14"):
        period = parse_period(text)
        for tz in (SH, NY):
            assert period.previous().end(tz) == period.start(tz)


# ---------------------------------------------------------------------------------------------
# properties

days_in_bounds = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31))


@st.composite
def periods(draw):
    day = draw(days_in_bounds)
    kind = draw(st.sampled_from(["day", "week", "month", "quarter", "year", "range"]))
    if kind == "day":
        return day, Period("day", day, day)
    if kind == "week":
        return day, week_of(day)
    if kind == "month":
        return day, month_of(day.year, day.month)
    if kind == "quarter":
        return day, quarter_of(day.year, (day.month - 1) // 3 + 1)
    if kind == "year":
        return day, year_of(day.year)
    last = draw(st.dates(min_value=day, max_value=min(day + timedelta(days=MAX_RANGE_DAYS - 1),
                                                      date(LAST_YEAR, 12, 31))))
    return day, Period("range", day, last)


@given(periods(), st.sampled_from([SH, NY, ZoneInfo("UTC")]))
def test_periods_hold_together(sample, tz):
    day, period = sample
    assert period.first <= day <= period.last
    assert period.days == (period.last - period.first).days + 1
    assert parse_period(period.label) == period
    before = period.previous()
    # previous() ends the day before this one starts, is of the same kind, and meets it exactly
    assert before.last == period.first - timedelta(days=1)
    assert before.kind == period.kind
    assert before.end(tz) == period.start(tz)
    if period.kind == "range":
        assert before.days == period.days
    # [start, end): whole local days
    start, end = period.start(tz), period.end(tz)
    assert start < end
    assert local_day(start, tz) == period.first
    assert local_day(end - timedelta(microseconds=1), tz) == period.last
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    assert abs(elapsed - timedelta(days=period.days)) <= timedelta(hours=1)  # DST moves an hour at most
    if tz is not NY:
        assert elapsed == timedelta(days=period.days)


@given(days_in_bounds)
def test_kinds_have_their_shape(day):
    week = week_of(day)
    assert week.first.isoweekday() == 1 and week.days == 7
    month = month_of(day.year, day.month)
    assert month.first.day == 1 and (month.last + timedelta(days=1)).day == 1
    quarter = quarter_of(day.year, (day.month - 1) // 3 + 1)
    assert quarter.first.month in (1, 4, 7, 10) and quarter.days in (90, 91, 92)
    assert year_of(day.year).days in (365, 366)
    assert parse_period(day.isoformat()) == Period("day", day, day)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_a_period_error(text):
    try:
        period = parse_period(text)
    except PeriodError as error:
        assert error.zh and error.en
    else:
        assert period.first <= period.last
