"""Evaluation periods: a day, ISO week, month, quarter, year or range of days.

Pure: standard library only. A period is a run of whole local days; `start(tz)` and `end(tz)`
give the half-open interval [start, end) in the city's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_RANGE_DAYS = 3 * 366 + 1


class PeriodError(ValueError):
    """A period text that does not name a period; carries a Chinese and an English message."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Period:
    kind: str  # day | week | month | quarter | year | range
    first: date
    last: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label_zh(self) -> str:
        if self.kind == "day":
            return f"{self.first.year}年{self.first.month}月{self.first.day}日"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}年第{week}周（{self.first:%m-%d}至{self.last:%m-%d}）"
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.kind == "quarter":
            return f"{self.first.year}年第{(self.first.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.first.year}年"
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def start(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=tz)

    def end(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=tz)

    def previous(self) -> Period:
        """The period of the same kind just before this one (a range: as many days before)."""
        before = self.first - timedelta(days=1)
        if self.kind == "day":
            return Period("day", before, before)
        if self.kind == "week":
            return week_of(before)
        if self.kind == "month":
            return month_of(before.year, before.month)
        if self.kind == "quarter":
            return quarter_of(before.year, (before.month - 1) // 3 + 1)
        if self.kind == "year":
            return year_of(before.year)
        return Period("range", self.first - timedelta(days=self.days), before)


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month_of(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period("month", first, following - timedelta(days=1))


def quarter_of(year: int, quarter: int) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    last = month_of(year, 3 * quarter).last
    return Period("quarter", first, last)


def year_of(year: int) -> Period:
    return Period("year", date(year, 1, 1), date(year, 12, 31))


def _year(value: int) -> int:
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise PeriodError(
            f"年份 {value} 超出范围（{FIRST_YEAR}–{LAST_YEAR}）", f"Year {value} is outside {FIRST_YEAR}–{LAST_YEAR}"
        )
    return value


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"无效的日期：{text}", f"Not a date: {text}") from None
    _year(day.year)
    return day


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_period(text: str) -> Period:
    """`YYYY-MM-DD`, `YYYY-Www`, `YYYY-MM`, `YYYY-Qn`, `YYYY` or `A..B` (days, inclusive)."""
    text = (text or "").strip().upper()
    if not text:
        raise PeriodError("缺少评价周期", "The period is missing")
    if ".." in text:
        first_text, _, last_text = text.partition("..")
        first, last = _date(first_text.strip()), _date(last_text.strip())
        if last < first:
            raise PeriodError("周期的结束日期早于开始日期", "The range ends before it starts")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise PeriodError("周期最长三年", "A range may span at most three years")
        return Period("range", first, last)
    if _DAY.match(text):
        day = _date(text)
        return Period("day", day, day)
    if m := _WEEK.match(text):
        year, week = _year(int(m[1])), int(m[2])
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(f"{year} 年没有第 {week} 周", f"{year} has no week {week}") from None
        return week_of(monday)
    if m := _MONTH.match(text):
        year, month = _year(int(m[1])), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"无效的月份：{text}", f"Not a month: {text}")
        return month_of(year, month)
    if m := _QUARTER.match(text):
        return quarter_of(_year(int(m[1])), int(m[2]))
    if m := _YEAR.match(text):
        return year_of(_year(int(m[1])))
    raise PeriodError(
        f"无法识别的周期：{text}（可用 2026-11-25、2026-W48、2026-11、2026-Q4、2026 或 2026-11-01..2026-11-15）",
        f"Unknown period '{text}' (use 2026-11-25, 2026-W48, 2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-15)",
    )


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)
