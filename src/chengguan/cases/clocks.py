"""Stage clocks: deadlines, yellow marks, lights and minutes left, from a calendar passed in.

Pure: standard library only. `cal` is any object with `add(start, minutes, working=)` and
`elapsed(start, end, working=)` (worktime.services.WorkingClock in production).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

GREEN, YELLOW, RED = "green", "yellow", "red"
YELLOW_FRACTION = 0.8  # green while elapsed ≤ 80% of the limit


class Calendar(Protocol):
    def add(self, start: datetime, minutes: int, *, working: bool) -> datetime: ...

    def elapsed(self, start: datetime, end: datetime, *, working: bool) -> int: ...


@dataclass(frozen=True)
class Marks:
    due_at: datetime
    yellow_at: datetime


def marks(cal: Calendar, started_at: datetime, limit_minutes: int, *, working: bool,
          fraction: float = YELLOW_FRACTION) -> Marks:
    """Deadline and yellow mark of a clock that starts now with this limit.

    `fraction` is the share of the limit that stays green (the city's configured light threshold).
    """
    due = cal.add(started_at, limit_minutes, working=working)
    yellow = cal.add(started_at, math.floor(limit_minutes * fraction), working=working)
    return Marks(due, yellow)


def moved(cal: Calendar, started_at: datetime, due_at: datetime, minutes: int, *, working: bool,
          fraction: float = YELLOW_FRACTION) -> Marks:
    """Marks after the deadline moves by `minutes` (extension, suspension, check wait).

    The yellow mark follows the new effective limit, so the light keeps meaning "share of the
    time allowed".
    """
    due = cal.add(due_at, minutes, working=working)
    effective = cal.elapsed(started_at, due, working=working)
    yellow = cal.add(started_at, math.floor(effective * fraction), working=working)
    return Marks(due, yellow)


def light(at: datetime, yellow_at: datetime, due_at: datetime) -> str:
    if at > due_at:
        return RED
    if at > yellow_at:
        return YELLOW
    return GREEN


def minutes_left(cal: Calendar, at: datetime, due_at: datetime, *, working: bool) -> int:
    """Minutes until the deadline in the clock's own time; negative once overdue."""
    if at <= due_at:
        return cal.elapsed(at, due_at, working=working)
    return -cal.elapsed(due_at, at, working=working)


def on_time(ended_at: datetime, due_at: datetime) -> bool:
    return ended_at <= due_at
