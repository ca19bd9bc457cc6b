"""Working calendars: seeding them, and the per-process working clock built from one.

The arithmetic itself is in ``arith.py``; this module loads a calendar from the database,
keeps one ``WorkingClock`` per calendar and revision in each process, and widens its table
when an instant falls outside it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import chinese_calendar
import numpy as np
from django.db import transaction
from django.db.models import F

from chengguan.errors import Invalid
from chengguan.worktime.arith import (
    DEFAULT_PERIODS,
    MAX_YEAR,
    MIN_YEAR,
    OutsideTableError,
    WorkingTimeTable,
    parse_periods,
)
from chengguan.worktime.models import CalendarDay, CalendarYear, WorkCalendar

__all__ = [
    "DEFAULT_CODE",
    "WorkingClock",
    "bump_revision",
    "default_calendar",
    "forget_clocks",
    "package_years",
    "seed_calendar",
    "working_clock",
]

DEFAULT_CODE = "cn-default"
SOURCE = "chinese-calendar"
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
# Years of margin around the entered years in a fresh table, and the most a table may span.
MARGIN_BEFORE, MARGIN_AFTER, WIDEN_PAD = 1, 5, 5
MAX_SPAN_YEARS = 300

T = TypeVar("T")


# -- revisions ---------------------------------------------------------------------------


def bump_revision(calendar: WorkCalendar | int) -> int | None:
    """Move a calendar's revision forward in the database; returns the new revision.

    Given an instance, also sets its ``revision`` so the caller's object is current. Called
    by the signals on every change to a calendar, its days or its years.

    The step is random (1 to 2**20), not 1: a change rolled back after a clock was cached for
    it (a test's transaction, a failed admin save) must not leave a cached clock under the
    revision that the next real change gets.
    """
    pk = calendar if isinstance(calendar, int) else calendar.pk
    rows = WorkCalendar.objects.filter(pk=pk)
    rows.update(revision=F("revision") + secrets.randbelow(2**20) + 1)
    revision = rows.values_list("revision", flat=True).first()
    if isinstance(calendar, WorkCalendar) and revision is not None:
        calendar.revision = revision
    return revision


# -- seeding -----------------------------------------------------------------------------


def package_years() -> list[int]:
    """Years whose holidays the installed chinese-calendar package knows."""
    return sorted({day.year for day in chinese_calendar.holidays})


def _package_note(day: date, workday: bool) -> str:
    _, name = chinese_calendar.get_holiday_detail(day)
    zh = HOLIDAY_NAMES.get(name, name or "")
    if workday:
        return f"{zh}调休上班" if zh else "调休上班"
    return zh or "休息日"


def seed_calendar(calendar: WorkCalendar, years: Iterable[int] | None = None) -> int:
    """Enter holidays and adjusted workdays from the chinese-calendar package.

    Writes only the days that differ from Monday–Friday, with the holiday's Chinese name as
    the note, and marks each year as entered. ``years`` defaults to every year the package
    knows; years it doesn't know are skipped (not marked entered). Days entered by hand for
    a date the package doesn't mention are kept. Idempotent: returns the number of days
    created or changed, so a second run returns 0.
    """
    known = set(package_years())
    wanted = sorted(known if years is None else known.intersection(years))
    if not wanted:
        return 0
    with transaction.atomic():
        existing = {row.day: row for row in CalendarDay.objects.filter(calendar=calendar, day__year__in=wanted)}
        created: list[CalendarDay] = []
        changed: list[CalendarDay] = []
        for year in wanted:
            day = date(year, 1, 1)
            while day.year == year:
                workday = chinese_calendar.is_workday(day)
                if workday != (day.weekday() < 5):
                    note = _package_note(day, workday)
                    row = existing.get(day)
                    if row is None:
                        created.append(CalendarDay(calendar=calendar, day=day, is_workday=workday, note=note))
                    elif (row.is_workday, row.note) != (workday, note):
                        row.is_workday, row.note = workday, note
                        changed.append(row)
                day += timedelta(days=1)
        CalendarDay.objects.bulk_create(created)
        CalendarDay.objects.bulk_update(changed, ["is_workday", "note"])
        entered = set(CalendarYear.objects.filter(calendar=calendar, year__in=wanted).values_list("year", flat=True))
        new_years = [CalendarYear(calendar=calendar, year=y, source=SOURCE) for y in wanted if y not in entered]
        CalendarYear.objects.bulk_create(new_years)
        if created or changed or new_years:
            bump_revision(calendar)
    return len(created) + len(changed)


def default_calendar() -> WorkCalendar:
    """The mainland China calendar ``cn-default``, created and seeded on first use."""
    calendar, _ = WorkCalendar.objects.get_or_create(
        code=DEFAULT_CODE,
        defaults={
            "name": "中国大陆工作日历",
            "timezone": "Asia/Shanghai",
            "working_hours": [["08:30", "12:00"], ["13:30", "17:30"]],
        },
    )
    if not calendar.years.exists():
        seed_calendar(calendar)
    return calendar


# -- the clock ---------------------------------------------------------------------------


def _year_spans(years: list[int]) -> str:
    """[2027, 2028, 2029, 2031] -> "2027–2029、2031"."""
    spans: list[list[int]] = []
    for year in years:
        if spans and spans[-1][1] == year - 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


class WorkingClock:
    """A calendar's working and natural time, for deadlines and elapsed time.

    Every method takes ``working=``: ``True`` counts the calendar's working time, ``False``
    natural time (plain elapsed time, in absolute terms, whatever the zone's DST does).
    Results are aware datetimes in the calendar's zone. Instants outside the current table
    make it rebuild wider (up to ``MAX_SPAN_YEARS``), so any year works; a year nobody
    entered counts Monday–Friday, and ``warning`` says so.
    """

    def __init__(self, table: WorkingTimeTable, *, calendar_id: int | None = None, revision: int | None = None):
        self.calendar_id = calendar_id
        self.revision = revision
        self.table = table
        self.zone = table.zone
        self._lock = threading.Lock()

    # working or natural --------------------------------------------------------------

    def add(self, start: datetime, minutes: int, *, working: bool) -> datetime:
        """The deadline ``minutes`` after ``start`` (see ``WorkingTimeTable.add``)."""
        if not working:
            return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.zone)
        return self._run(lambda table: table.add(start, minutes))

    def elapsed(self, start: datetime, end: datetime, *, working: bool) -> int:
        """Whole minutes from ``start`` to ``end``; negative (towards zero) if ``end`` is earlier."""
        if not working:
            d = end.astimezone(UTC) - start.astimezone(UTC)
            m = abs(d) // timedelta(minutes=1)
            return m if d >= timedelta(0) else -m
        return self._run(lambda table: table.elapsed(start, end))

    def add_batch(self, starts: np.ndarray, minutes: np.ndarray, *, working: bool) -> np.ndarray:
        """``add`` over arrays of epoch seconds; returns epoch seconds."""
        if not working:
            return np.asarray(starts) + np.asarray(minutes, dtype=np.int64) * 60
        return self._run(lambda table: table.add_batch(starts, minutes))

    def elapsed_batch(self, starts: np.ndarray, ends: np.ndarray, *, working: bool) -> np.ndarray:
        """``elapsed`` over arrays of epoch seconds; returns whole minutes (int64)."""
        if not working:
            d = np.asarray(ends) - np.asarray(starts)
            return (np.sign(d) * (np.abs(d) // 60)).astype(np.int64)
        return self._run(lambda table: table.elapsed_batch(starts, ends))

    # the years nobody entered -----------------------------------------------------------

    def fallback_years(self, *instants: datetime) -> list[int]:
        """Years from the first to the last instant (in the calendar's zone) not entered."""
        if not instants:
            return []
        years = [instant.astimezone(self.zone).year for instant in instants]
        known = self.table.known_years
        return [y for y in range(min(years), max(years) + 1) if y not in known]

    def warning(self, *instants: datetime, language: str = "zh-hans") -> str:
        """What to show next to a deadline that touches a year nobody entered, else "".

        Chinese by default, e.g. "2027 年节假日安排尚未录入，按周一至周五计算"; pass
        ``language="en"`` (any code starting with "en") for the English text, e.g.
        "Holidays for 2027 have not been entered yet; counted Monday to Friday.".
        Pass every instant the deadline spans (its start and the deadline itself).
        """
        years = self.fallback_years(*instants)
        if not years:
            return ""
        spans = _year_spans(years)
        if language.lower().startswith("en"):
            spans = spans.replace("、", ", ")
            return f"Holidays for {spans} have not been entered yet; counted Monday to Friday."
        return f"{spans} 年节假日安排尚未录入，按周一至周五计算"

    # widening ----------------------------------------------------------------------------

    def _run(self, compute: Callable[[WorkingTimeTable], T]) -> T:
        for _ in range(64):
            table = self.table
            try:
                return compute(table)
            except OutsideTableError as outside:
                self._widen(table, outside.first_year, outside.last_year)
        raise Invalid("时间超出工作日历的计算范围", "Time outside the working calendar's range")

    def cover(self, first_year: int, last_year: int) -> None:
        """Widen the table now to these years, if it falls short and the span is allowed (else
        the arithmetic widens or refuses when it gets there)."""
        table = self.table
        if not table.first_year <= first_year <= last_year <= table.last_year:
            with contextlib.suppress(Invalid):
                self._widen(table, first_year, last_year)

    def _widen(self, seen: WorkingTimeTable, first_year: int, last_year: int) -> None:
        with self._lock:
            if self.table is not seen:  # another thread already widened it
                return
            first, last = _span_over(seen.first_year, seen.last_year, first_year, last_year)
            grows = first < seen.first_year or last > seen.last_year
            if not grows or last - first + 1 > MAX_SPAN_YEARS:
                raise Invalid(
                    f"时间超出工作日历的计算范围（{first_year}–{last_year} 年）",
                    f"Time outside the working calendar's range (years {first_year}–{last_year})",
                )
            self.table = seen.widened(first, last)


def _span_over(first: int, last: int, first_year: int, last_year: int) -> tuple[int, int]:
    """The years first..last stretched over first_year..last_year, with WIDEN_PAD years to spare
    on a side that grows, within MIN_YEAR..MAX_YEAR."""
    first = min(first_year - (WIDEN_PAD if first_year < first else 0), first)
    last = max(last_year + (WIDEN_PAD if last_year > last else 0), last)
    return max(first, MIN_YEAR), min(last, MAX_YEAR)


_clocks: dict[int, WorkingClock] = {}
_clocks_lock = threading.Lock()


def _build_clock(calendar: WorkCalendar, covering: tuple[int, int] | None = None) -> WorkingClock:
    periods = parse_periods(calendar.working_hours) if calendar.working_hours else DEFAULT_PERIODS
    special = dict(CalendarDay.objects.filter(calendar=calendar).values_list("day", "is_workday"))
    known = set(CalendarYear.objects.filter(calendar=calendar).values_list("year", flat=True))
    first = min(known, default=2024) - MARGIN_BEFORE
    last = max(known, default=2026) + MARGIN_AFTER
    if covering is not None:
        wider = _span_over(first, last, *covering)
        if wider[1] - wider[0] + 1 <= MAX_SPAN_YEARS:  # else widened lazily, and refused there, as ever
            first, last = wider
    table = WorkingTimeTable(calendar.timezone, periods, special, known, first, last)
    return WorkingClock(table, calendar_id=calendar.pk, revision=calendar.revision)


def working_clock(calendar: WorkCalendar, covering: tuple[int, int] | None = None) -> WorkingClock:
    """The calendar's clock, cached per process by (calendar id, revision).

    Any change to the calendar, its days or its years moves its revision forward, so a
    calendar loaded after the change gets a fresh clock in every process. Pass an instance
    loaded in this request (or after the change): an old instance keeps its old revision.
    ``covering=(first year, last year)``: a caller about to work across these years gets a
    table built over them at once (a bulk import of old records), not built and then widened.
    """
    clock = _clocks.get(calendar.pk)
    if clock is not None and clock.revision == calendar.revision:
        if covering is not None:
            clock.cover(*covering)
        return clock
    with _clocks_lock:
        clock = _clocks.get(calendar.pk)
        if clock is None or clock.revision != calendar.revision:
            clock = _build_clock(calendar, covering)
            _clocks[calendar.pk] = clock
    return clock


def forget_clocks() -> None:
    """Drop every cached clock in this process."""
    with _clocks_lock:
        _clocks.clear()
