"""Working-time arithmetic on a precomputed table of working intervals.

Pure: standard library and numpy only. The calendar (zone, working periods, exceptions to
the Monday–Friday rule, the years whose holidays were entered) comes in as arguments.

The table lists every working interval of the years it covers as epoch seconds, with the
working seconds that came before each one. ``W(t)``, the working time from the start of the
table to the instant ``t``, is then one binary search, and so is its inverse:

- ``elapsed(a, b) = W(b) - W(a)`` in whole minutes (rounded towards zero);
- ``add(a, n)`` is the earliest instant ``t`` with ``W(t) = W(a) + n`` minutes.

Scalar calls take aware datetimes and keep their microseconds exact (whole seconds in the
table, the microseconds carried apart), so a start at 09:00:30.25 stays 09:00:30.25 later;
the batch calls take and return integer (or float) epoch seconds.
"""

from __future__ import annotations

import bisect
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from chengguan.errors import DomainError, Invalid

__all__ = [
    "DEFAULT_PERIODS",
    "OutsideTableError",
    "WorkingTimeTable",
    "naive_add",
    "naive_elapsed",
    "parse_periods",
    "zone_named",
]

Period = tuple[time, time]

# 08:30–12:00 and 13:30–17:30: 450 working minutes a day.
DEFAULT_PERIODS: tuple[Period, ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))

_US = 1_000_000  # microseconds in a second
_MINUTE_US = 60 * _US
_DAY_S = 86_400
_HINT_S = 8 * 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
# datetime can't go past these years; a table is never asked to.
MIN_YEAR, MAX_YEAR = 2, 9998


class OutsideTableError(DomainError):
    """An instant or a result falls outside the years the table covers.

    ``first_year``/``last_year`` say which years a wider table must cover (for a result past
    the end, an estimate that may need to grow again). The service layer catches this and
    rebuilds a wider table; it reaches a user only if the span is beyond any calendar.
    """

    status = 422
    code = "outside_calendar"

    def __init__(self, first_year: int, last_year: int):
        super().__init__(
            f"时间超出工作日历的计算范围（需要 {first_year}–{last_year} 年）",
            f"Time outside the working calendar's range (years {first_year}–{last_year} needed)",
        )
        self.first_year = first_year
        self.last_year = last_year


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"未知时区：{name}", f"Unknown time zone: {name}", field="timezone") from exc


def parse_periods(pairs: Iterable[Sequence[str]]) -> tuple[Period, ...]:
    """Working periods from ``[["08:30", "12:00"], ...]``; ``"24:00"`` may end the last one.

    An end of ``time(0, 0)`` means midnight at the end of the day (24:00). Periods must be in
    order and must not overlap; an empty list is refused (a calendar with no working time
    would never reach a deadline).
    """
    periods: list[Period] = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Invalid(
                f"工作时段格式应为 [开始, 结束]：{pair!r}",
                f"A working period is [start, end]: {pair!r}",
                field="working_hours",
            )
        bounds = []
        for text in pair:
            match = _HHMM.match(str(text).strip())
            if not match or (match[1] == "24" and match[2] != "00"):
                raise Invalid(
                    f"时间格式应为 HH:MM：{text!r}",
                    f"Times are written HH:MM: {text!r}",
                    field="working_hours",
                )
            bounds.append(time(int(match[1]) % 24, int(match[2])))
        if str(pair[0]).strip().startswith("24"):
            raise Invalid("时段不能从 24:00 开始", "A period can't start at 24:00", field="working_hours")
        periods.append((bounds[0], bounds[1]))
    _check_periods(periods)
    return tuple(periods)


def _offsets(period: Period) -> tuple[int, int]:
    """Seconds after local midnight of a period's bounds (an end at 00:00 means 24:00)."""
    start, end = period
    a = start.hour * 3600 + start.minute * 60 + start.second
    b = end.hour * 3600 + end.minute * 60 + end.second
    return a, (b or _DAY_S)


def _check_periods(periods: Sequence[Period]) -> None:
    if not periods:
        raise Invalid("至少需要一个工作时段", "At least one working period is needed", field="working_hours")
    previous_end = 0
    for period in periods:
        a, b = _offsets(period)
        if not previous_end <= a < b:
            raise Invalid(
                "工作时段须按时间先后排列且互不重叠",
                "Working periods must be in order and must not overlap",
                field="working_hours",
            )
        previous_end = b


def _split(instant: datetime) -> tuple[int, int]:
    """(whole epoch seconds, microseconds) of an aware instant."""
    try:
        d = instant - _EPOCH
    except TypeError:
        raise ValueError(f"an aware datetime is needed, got {instant!r}") from None
    return d.days * _DAY_S + d.seconds, d.microseconds


def _to_us(instant: datetime) -> int:
    sec, us = _split(instant)
    return sec * _US + us


def _local_instant_s(day: date, offset_s: int, zone: ZoneInfo) -> int:
    """Epoch seconds of the wall time ``day`` + ``offset_s`` in ``zone`` (fold=0 in a DST gap)."""
    wall = datetime.combine(day, time(0), tzinfo=zone) + timedelta(seconds=offset_s)
    return int(wall.timestamp())


def _working_intervals(
    zone: ZoneInfo,
    offsets: Sequence[tuple[int, int]],
    special_days: Mapping[date, bool],
    first_year: int,
    last_year: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) in epoch seconds of every working period of every workday, in order.

    The same instants as ``_local_instant_s`` of each period's ends, computed per day: on a day
    whose UTC offset is the same at its midnight and at the next one (every day but the few
    with a clock change) each instant is the wall time minus that offset, as whole arrays;
    the days with a change take ``_local_instant_s`` boundary by boundary.
    """
    first = date(first_year, 1, 1).toordinal()
    count = date(last_year, 12, 31).toordinal() - first + 1
    days = [date.fromordinal(first + i) for i in range(count + 1)]
    second = timedelta(seconds=1)
    midnight = np.fromiter(
        (datetime.combine(day, time(0), tzinfo=zone).utcoffset() // second for day in days), dtype=np.int64,
        count=count + 1,
    )
    work = (np.arange(first, first + count) + 6) % 7 < 5  # Monday to Friday (date.weekday of the ordinal)
    for day, workday in special_days.items():
        if 0 <= day.toordinal() - first < count:
            work[day.toordinal() - first] = workday
    steady = midnight[:-1] == midnight[1:]
    wall = (first - _EPOCH_ORDINAL + np.arange(count, dtype=np.int64)) * _DAY_S
    starts = np.zeros((count, len(offsets)), dtype=np.int64)
    ends = np.zeros((count, len(offsets)), dtype=np.int64)
    for k, (a, b) in enumerate(offsets):
        starts[:, k] = wall + a - midnight[:-1]
        ends[:, k] = wall + b - midnight[:-1]
    for i in np.flatnonzero(work & ~steady).tolist():
        for k, (a, b) in enumerate(offsets):
            starts[i, k] = _local_instant_s(days[i], a, zone)
            ends[i, k] = _local_instant_s(days[i], b, zone)
    return starts[work].ravel(), ends[work].ravel()


class WorkingTimeTable:
    """Working intervals of the years ``first_year``..``last_year`` in one zone.

    ``special_days`` maps a date to whether it is a workday, overriding the Monday–Friday
    rule (holidays on weekdays, adjusted workdays 调休 on weekends); it is honoured in any
    year. ``known_years`` are the years whose holidays were entered: any other year is
    counted Monday–Friday apart from whatever special days it has, and
    ``fallback_years`` names it so the pages can say so.

    Instants (and results) outside the covered years raise ``OutsideTableError``; build a wider
    table with ``widened``. The table is immutable once built.
    """

    def __init__(
        self,
        timezone: str,
        periods: Sequence[Period] = DEFAULT_PERIODS,
        special_days: Mapping[date, bool] | None = None,
        known_years: Iterable[int] = (),
        first_year: int = 2000,
        last_year: int = 2040,
    ):
        if not MIN_YEAR <= first_year <= last_year <= MAX_YEAR:
            raise ValueError(f"bad year range {first_year}..{last_year}")
        _check_periods(periods)
        self.timezone = timezone
        self.zone = zone_named(timezone)
        self.periods: tuple[Period, ...] = tuple(periods)
        self.special_days: Mapping[date, bool] = dict(special_days or {})
        self.known_years: frozenset[int] = frozenset(known_years)
        self.first_year = first_year
        self.last_year = last_year
        self.lo_s = _local_instant_s(date(first_year, 1, 1), 0, self.zone)
        self.hi_s = _local_instant_s(date(last_year + 1, 1, 1), 0, self.zone)

        offsets = [_offsets(p) for p in self.periods]
        s, e = _working_intervals(self.zone, offsets, self.special_days, first_year, last_year)
        if len(s):
            # A wall time in a DST gap can map behind the previous period's end: clip so the
            # intervals never overlap, then drop the empty ones (and join touching ones).
            reached = np.maximum.accumulate(e)
            s[1:] = np.maximum(s[1:], reached[:-1])
            keep = e > s
            s, e = s[keep], e[keep]
            touching = np.flatnonzero(s[1:] == e[:-1])
            if len(touching):
                e = np.delete(e, touching)
                s = np.delete(s, touching + 1)
        lengths = e - s
        self.starts: np.ndarray = s
        self.ends: np.ndarray = e
        self.cum: np.ndarray = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.cum_end: np.ndarray = self.cum + lengths
        self.total_s = int(self.cum_end[-1]) if len(s) else 0
        self.lengths: np.ndarray = lengths
        # Python lists for the scalar path (bisect on a list beats a numpy call on one value),
        # in whole seconds: small ints keep the arithmetic cheap; the microseconds of an
        # instant ride along apart.
        self._starts_l = s.tolist()
        self._ends_l = e.tolist()
        self._cum_l = self.cum.tolist()
        self._cum_end_l = self.cum_end.tolist()
        # Where each day of the table (counted from its start), and each 8 working hours,
        # begin in those lists: the scalar searches then bisect a few entries, not all.
        days = np.arange(self.lo_s, self.hi_s + 2 * _DAY_S, _DAY_S)
        self._day_hint = np.searchsorted(s, days, side="right").tolist()
        marks = np.arange(0, self.total_s + 2 * _HINT_S, _HINT_S)
        self._end_hint = np.searchsorted(self.cum_end, marks, side="left").tolist()
        self._cum_hint = np.searchsorted(self.cum, marks, side="right").tolist()
        day_s = sum(b - a for a, b in offsets)
        # A pessimistic year, to guess how far a long deadline reaches past the table.
        self._lean_year_s = max(day_s * 200, 1)

    # -- calendar ---------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        special = self.special_days.get(day)
        return special if special is not None else day.weekday() < 5

    def widened(self, first_year: int, last_year: int) -> WorkingTimeTable:
        """The same calendar over at least these years (and at least the years covered now)."""
        return WorkingTimeTable(
            self.timezone,
            self.periods,
            self.special_days,
            self.known_years,
            max(MIN_YEAR, min(first_year, self.first_year)),
            min(MAX_YEAR, max(last_year, self.last_year)),
        )

    def local_year(self, instant: datetime) -> int:
        return instant.astimezone(self.zone).year

    def fallback_years(self, start: datetime, end: datetime) -> list[int]:
        """Years of the span (in the calendar's zone) whose holidays were never entered."""
        a, b = sorted((self.local_year(start), self.local_year(end)))
        return [y for y in range(a, b + 1) if y not in self.known_years]

    # -- scalar -----------------------------------------------------------------------
    #
    # An instant is (whole epoch second ``sec``, microseconds ``us``). W(instant) is then
    # W(sec) seconds, plus ``us`` microseconds when the instant lies inside a working
    # interval (in a gap, W stands still and the microseconds don't count).

    def _year_of_us(self, t_us: int) -> int:
        return (_EPOCH + timedelta(microseconds=t_us)).astimezone(self.zone).year

    def _outside(self, sec: int) -> OutsideTableError:
        year = self._year_of_us(sec * _US)
        return OutsideTableError(year, year)

    def _worked(self, sec: int, us: int) -> tuple[int, int, int]:
        """(W in whole seconds, the microseconds that count on top, interval index or -1)."""
        if not self.lo_s <= sec <= self.hi_s or (sec == self.hi_s and us):
            raise self._outside(sec)
        hint = self._day_hint
        k = (sec - self.lo_s) // _DAY_S
        i = bisect.bisect_right(self._starts_l, sec, hint[k], hint[k + 1]) - 1
        if i < 0:
            return 0, 0, i
        if sec < self._ends_l[i]:
            return self._cum_l[i] + sec - self._starts_l[i], us, i
        return self._cum_end_l[i], 0, i

    def elapsed_us(self, start: datetime, end: datetime) -> int:
        """Working microseconds from ``start`` to ``end`` (negative if ``end`` is earlier)."""
        a_s, a_us, _ = self._worked(*_split(start))
        b_s, b_us, _ = self._worked(*_split(end))
        return (b_s - a_s) * _US + b_us - a_us

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Working minutes from ``start`` to ``end``, whole minutes only (rounded down).

        If ``end`` is before ``start`` the answer is ``-elapsed(end, start)``: a negative
        count, rounded towards zero, so the two directions always mirror each other.
        """
        a_s, a_us, _ = self._worked(*_split(start))
        b_s, b_us, _ = self._worked(*_split(end))
        seconds = b_s - a_s
        if a_us == b_us:
            return seconds // 60 if seconds >= 0 else -(-seconds // 60)
        d = seconds * _US + b_us - a_us
        return d // _MINUTE_US if d >= 0 else -(-d // _MINUTE_US)

    def add(self, start: datetime, minutes: int) -> datetime:
        """The earliest instant at which ``minutes`` working minutes have passed since ``start``.

        ``add(start, 0)`` is ``start`` itself. For ``minutes > 0`` the result lies in working
        hours (possibly at the very end of a period, e.g. 17:30). For ``minutes < 0`` it is the
        latest instant ``t`` with ``elapsed(t, start) == -minutes``. The result is in the
        calendar's zone.
        """
        minutes = operator.index(minutes)
        if minutes == 0:
            return start
        # The hot path of every deadline: _split and _worked written out in line.
        try:
            d = start - _EPOCH
        except TypeError:
            raise ValueError(f"an aware datetime is needed, got {start!r}") from None
        sec, us = d.days * _DAY_S + d.seconds, d.microseconds
        lo = self.lo_s
        if not lo <= sec <= self.hi_s or (sec == self.hi_s and us):
            raise self._outside(sec)
        hint = self._day_hint
        k = (sec - lo) // _DAY_S
        starts, cum = self._starts_l, self._cum_l
        i = bisect.bisect_right(starts, sec, hint[k], hint[k + 1]) - 1
        if i < 0:
            w, us = 0, 0
        elif sec < self._ends_l[i]:
            w = cum[i] + sec - starts[i]
        else:
            w, us = self._cum_end_l[i], 0
        target = w + minutes * 60  # W of the result: target seconds plus us microseconds
        if minutes > 0:
            if i >= 0 and target < self._cum_end_l[i]:
                j = i  # a short limit that ends in the interval it started in
            else:
                if target > self.total_s or (target == self.total_s and us):
                    raise self._beyond_end(sec, target - self.total_s)
                hint = self._end_hint
                k = target // _HINT_S
                search = bisect.bisect_right if us else bisect.bisect_left
                j = search(self._cum_end_l, target, hint[k], hint[k + 1])
        else:
            if target < 0:
                raise self._before_start(sec, -target)
            hint = self._cum_hint
            k = target // _HINT_S
            j = bisect.bisect_right(cum, target, hint[k], hint[k + 1]) - 1
        result = datetime.fromtimestamp(starts[j] + target - cum[j], self.zone)
        return result.replace(microsecond=us) if us else result

    def _beyond_end(self, sec: float, missing_s: float) -> OutsideTableError:
        years = math.ceil(missing_s / self._lean_year_s) + 1
        first = min(self._year_of_us(int(sec) * _US), self.first_year)
        return OutsideTableError(first, min(MAX_YEAR, self.last_year + years))

    def _before_start(self, sec: float, missing_s: float) -> OutsideTableError:
        years = math.ceil(missing_s / self._lean_year_s) + 1
        last = max(self._year_of_us(int(sec) * _US), self.last_year)
        return OutsideTableError(max(MIN_YEAR, self.first_year - years), last)

    # -- batch ------------------------------------------------------------------------

    def _check_batch(self, t: np.ndarray) -> None:
        if len(t) == 0:
            return
        low, high = t.min(), t.max()
        if low < self.lo_s or high > self.hi_s:
            inside = t[(t >= self.lo_s) & (t <= self.hi_s)]
            years = [self._year_of_us(int(x) * _US) for x in (low, high)]
            if len(inside):
                years.extend((self.first_year, self.last_year))
            raise OutsideTableError(min(years), max(years))

    def _worked_batch(self, t: np.ndarray) -> np.ndarray:
        """W(t) over an array of epoch seconds; sorts large unsorted arrays for the search."""
        if len(self.starts) == 0:
            return np.zeros_like(t)
        order = _order(t)
        if order is not None:
            out = np.empty_like(t)
            out[order] = self._worked_sorted(t[order])
            return out
        return self._worked_sorted(t)

    def _worked_sorted(self, t: np.ndarray) -> np.ndarray:
        j = np.searchsorted(self.starts, t, side="right") - 1
        np.maximum(j, 0, out=j)  # before the first interval: clipped to 0 below
        w = t - self.starts[j]
        np.clip(w, 0, self.lengths[j], out=w)
        w += self.cum[j]
        return w

    def elapsed_batch(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """``elapsed`` over arrays of epoch seconds: working minutes (int64), towards zero."""
        a, b = _as_seconds(starts), _as_seconds(ends)
        self._check_batch(a)
        self._check_batch(b)
        d = self._worked_batch(b) - self._worked_batch(a)
        return (np.sign(d) * np.floor_divide(np.abs(d), 60)).astype(np.int64)

    def add_batch(self, starts: np.ndarray, minutes: np.ndarray | int) -> np.ndarray:
        """``add`` over arrays: epoch seconds in, epoch seconds out (same dtype as ``starts``).

        ``minutes`` may be one number or an array as long as ``starts``.
        """
        s = _as_seconds(starts)
        n = np.broadcast_to(np.asarray(minutes, dtype=np.int64), s.shape)
        self._check_batch(s)
        if len(s) == 0 or not n.any():
            return s.copy()
        order = _order(s)
        if order is not None:
            out = np.empty_like(s)
            out[order] = self._add_sorted(s[order], n[order])
            return out
        return self._add_sorted(s, n)

    def _add_sorted(self, s: np.ndarray, n: np.ndarray) -> np.ndarray:
        """``add_batch`` for starts in ascending order (the searches are then cache-friendly)."""
        target = self._worked_sorted(s) + n * 60
        out = s.copy()
        forward = n > 0
        if forward.any():
            every = bool(forward.all())
            ahead = target if every else target[forward]
            high = int(np.argmax(ahead))
            if ahead[high] > self.total_s:
                k = high if every else int(np.flatnonzero(forward)[high])
                raise self._beyond_end(s[k], ahead[high] - self.total_s)
            j = np.searchsorted(self.cum_end, ahead, side="left")
            moved = self.starts[j] + (ahead - self.cum[j])
            if every:
                return moved.astype(s.dtype, copy=False)
            out[forward] = moved
        backward = n < 0
        if backward.any():
            behind = target[backward]
            low = int(np.argmin(behind))
            if behind[low] < 0:
                k = int(np.flatnonzero(backward)[low])
                raise self._before_start(s[k], -behind[low])
            j = np.searchsorted(self.cum, behind, side="right") - 1
            out[backward] = self.starts[j] + (behind - self.cum[j])
        return out


# Above this size an unsorted batch is sorted first: argsort costs less than the cache misses
# of binary searches for keys in random order.
_SORT_FROM = 4096


def _order(t: np.ndarray) -> np.ndarray | None:
    if len(t) < _SORT_FROM or bool((t[1:] >= t[:-1]).all()):
        return None
    return np.argsort(t)


def _as_seconds(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    return array.astype(np.float64, copy=False)


# -- the naive reference: day by day ---------------------------------------------------


def _day_intervals_us(table: WorkingTimeTable, day: date) -> list[tuple[int, int]]:
    if not table.is_workday(day):
        return []
    out = []
    for period in table.periods:
        a, b = _offsets(period)
        out.append(
            (
                _local_instant_s(day, a, table.zone) * _US,
                _local_instant_s(day, b, table.zone) * _US,
            )
        )
    return out


_NAIVE_MAX_DAYS = 366 * 200


def naive_elapsed(table: WorkingTimeTable, start: datetime, end: datetime) -> int:
    """Reference ``elapsed``: sums each day's overlap with the span, one day at a time.

    Reads only the table's calendar (zone, periods, special days), never its arrays.
    """
    a, b = _to_us(start), _to_us(end)
    if b < a:
        return -naive_elapsed(table, end, start)
    day = start.astimezone(table.zone).date() - timedelta(days=1)
    last = end.astimezone(table.zone).date() + timedelta(days=1)
    total = 0
    while day <= last:
        for p, q in _day_intervals_us(table, day):
            total += max(0, min(b, q) - max(a, p))
        day += timedelta(days=1)
    return total // _MINUTE_US


def naive_add(table: WorkingTimeTable, start: datetime, minutes: int) -> datetime:
    """Reference ``add``: walks the working periods day by day until the minutes run out."""
    if minutes == 0:
        return start
    t = _to_us(start)
    left = abs(int(minutes)) * _MINUTE_US
    step = timedelta(days=1 if minutes > 0 else -1)
    day = start.astimezone(table.zone).date() - step
    for _ in range(_NAIVE_MAX_DAYS):
        intervals = _day_intervals_us(table, day)
        for p, q in intervals if minutes > 0 else reversed(intervals):
            if minutes > 0:
                available = q - max(t, p)
                if available > 0:
                    if left <= available:
                        return _from_us(max(t, p) + left, table.zone)
                    left -= available
            else:
                available = min(t, q) - p
                if available > 0:
                    if left <= available:
                        return _from_us(min(t, q) - left, table.zone)
                    left -= available
        day += step
    raise ValueError("no working time within 200 years")


def _from_us(t_us: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=t_us)).astimezone(zone)
