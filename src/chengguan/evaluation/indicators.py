"""Evaluation indicators: what each fact counts for as of an instant, and the formulas over them.

Pure: standard library only. A *fact* is one countable thing — a task dispatched to a department,
a case registered in a region, a report by an inspector, a verify or check clock, a call-taker's
registration, a dispatcher's dispatch — with the history needed to say what it counted as at any
instant T. `outcome(fact, T)` gives that as a dict of integer counts (or None: counts nowhere).
Counts add up per subject; `indicator_row` turns counts into rates, a composite score, a grade.

The rules are DOMAIN.md's "Evaluation" section; each function says which rule it carries.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime

# Counts per subject family, in a fixed order (the rollup table stores them positionally).
KEYS: dict[str, tuple[str, ...]] = {
    "departments": (
        "due", "done", "done_on_time", "overdue_open", "reworked", "reworks", "extended",
        "suspended", "returned", "appealed",
    ),
    "regions": ("registered", "suspended", "close_due", "closed", "closed_on_time", "public_reports"),
    "inspectors": (
        "reports", "valid_reports", "missed", "missed_base", "verify_due", "verify_on_time",
        "check_due", "check_on_time",
    ),
    "operators": (
        "accepted", "registered", "register_on_time", "accurate_register",
        "dispatch_due", "dispatches", "dispatch_on_time", "accurate_dispatch",
    ),
}
SUBJECTS = tuple(KEYS)

# Which family each kind of fact counts in.
FAMILY = {
    "task": "departments",
    "region": "regions",
    "report": "inspectors",
    "miss": "inspectors",
    "verify": "inspectors",
    "check": "inspectors",
    "register": "operators",
    "dispatch": "operators",
}

# rate key -> (numerator count, denominator count)
RATES: dict[str, dict[str, tuple[str, str]]] = {
    "departments": {
        "done_rate": ("done", "due"),
        "on_time_rate": ("done_on_time", "due"),
        "rework_rate": ("reworked", "done"),
        "overdue_rate": ("overdue_open", "due"),
        "extension_rate": ("extended", "due"),
    },
    "regions": {
        "close_rate": ("closed", "close_due"),
        "close_on_time_rate": ("closed_on_time", "close_due"),
        "public_rate": ("public_reports", "registered"),
    },
    "inspectors": {
        "valid_rate": ("valid_reports", "reports"),
        "missed_rate": ("missed", "missed_base"),
        "verify_on_time_rate": ("verify_on_time", "verify_due"),
        "check_on_time_rate": ("check_on_time", "check_due"),
    },
    "operators": {
        "register_on_time_rate": ("register_on_time", "registered"),
        "accurate_register_rate": ("accurate_register", "registered"),
        "dispatch_on_time_rate": ("dispatch_on_time", "dispatches"),
        "accurate_dispatch_rate": ("accurate_dispatch", "dispatches"),
    },
}

# Default composites: (rate, weight, inverted) — inverted terms score (1 − rate).
DEFAULT_WEIGHTS: dict[str, list[tuple[str, float, bool]]] = {
    "departments": [
        ("done_rate", 30, False),
        ("on_time_rate", 20, False),
        ("rework_rate", 20, True),
        ("overdue_rate", 20, True),
        ("extension_rate", 10, True),
    ],
    "regions": [("close_rate", 40, False), ("close_on_time_rate", 40, False), ("public_rate", 20, True)],
    "inspectors": [
        ("valid_rate", 40, False),
        ("missed_rate", 20, True),
        ("verify_on_time_rate", 20, False),
        ("check_on_time_rate", 20, False),
    ],
    "operators": [
        ("register_on_time_rate", 25, False),
        ("accurate_register_rate", 25, False),
        ("dispatch_on_time_rate", 25, False),
        ("accurate_dispatch_rate", 25, False),
    ],
}
DEFAULT_GRADES: list[tuple[str, float]] = [("A", 90), ("B", 75), ("C", 60), ("D", 40)]
LOWEST_GRADE = "E"


# ---------------------------------------------------------------------------------------------
# histories


def _before(instant: datetime | None, t: datetime) -> bool:
    return instant is not None and instant <= t


def _within(intervals, t: datetime) -> bool:
    return any(start <= t and (end is None or t < end) for start, end in intervals)


@dataclass(frozen=True)
class TaskHistory:
    """A task dispatched to a department (counted by `dispatched_at`)."""

    dispatched_at: datetime
    deadlines: tuple[tuple[datetime, datetime], ...]  # (from, due) — the deadline in force from then
    feedbacks: tuple[datetime, ...] = ()
    checks: tuple[tuple[datetime, bool], ...] = ()  # (at, fixed)
    suspensions: tuple[tuple[datetime, datetime | None], ...] = ()  # approved .. resumed
    extensions: tuple[datetime, ...] = ()  # approvals
    returned_at: datetime | None = None  # return approved
    void_at: datetime | None = None  # case cancelled or merged
    appealed_at: datetime | None = None  # appeal approved

    def deadline_at(self, t: datetime) -> datetime:
        starts = [start for start, _ in self.deadlines]
        index = bisect_right(starts, t) - 1
        return self.deadlines[max(index, 0)][1]


def task_outcome(h: TaskHistory, t: datetime) -> dict | None:
    """Department counting as of t.

    Tasks returned with approval leave N (counted as `returned`); appealed ones leave it
    (`appealed`); suspended ones leave it (`suspended`, 挂账). Of the rest (N = `due`): done when a
    check passed by t; on time when the feedback that passed came by the deadline then in force;
    overdue-open when, at t, no feedback awaits or passed its check and the deadline is past.
    """
    if h.dispatched_at > t or _before(h.void_at, t):
        return None
    if _before(h.returned_at, t):
        return {"returned": 1}
    if _before(h.appealed_at, t):
        return {"appealed": 1}
    if _within(h.suspensions, t):
        return {"suspended": 1}
    out = {"due": 1}
    checks = [(at, fixed) for at, fixed in h.checks if at <= t]
    feedbacks = [at for at in h.feedbacks if at <= t]
    passed = next((at for at, fixed in checks if fixed), None)
    if passed is not None:
        feedback = max((f for f in feedbacks if f <= passed), default=passed)
        out["done"] = 1
        if feedback <= h.deadline_at(feedback):
            out["done_on_time"] = 1
        failed = sum(1 for at, fixed in checks if not fixed and at <= passed)
        if failed:
            out["reworked"] = 1
            out["reworks"] = failed
    else:
        last_feedback = max(feedbacks, default=None)
        awaiting = last_feedback is not None and not any(at >= last_feedback for at, _ in checks)
        if not awaiting and t > h.deadline_at(t):
            out["overdue_open"] = 1
    if any(at <= t for at in h.extensions):
        out["extended"] = 1
    return out


@dataclass(frozen=True)
class RegionHistory:
    """A case registered in a region (counted by `registered_at`)."""

    registered_at: datetime
    public_source: bool
    closures: tuple[tuple[datetime, datetime | None], ...] = ()  # closed .. reopened
    handled: tuple[tuple[datetime, bool], ...] = ()  # (check passed at, task on time)
    suspensions: tuple[tuple[datetime, datetime | None], ...] = ()
    void_at: datetime | None = None


def region_outcome(h: RegionHistory, t: datetime) -> dict | None:
    """Region counting as of t: 立案, 挂账, 应结案 = 立案 − 挂账, 结案 (closed at t), 按期结案
    (closed, and the handling of its last task on time; a case closed without a task — handled on
    the spot — counts as on time), 公众举报 (non-inspector sources)."""
    if h.registered_at > t or _before(h.void_at, t):
        return None
    out = {"registered": 1}
    if h.public_source:
        out["public_reports"] = 1
    if _within(h.suspensions, t):
        out["suspended"] = 1
        return out
    out["close_due"] = 1
    if _within(h.closures, t):
        out["closed"] = 1
        last = [on_time for at, on_time in h.handled if at <= t]
        if not last or last[-1]:
            out["closed_on_time"] = 1
    return out


@dataclass(frozen=True)
class ReportHistory:
    """A report by an inspector (counted by `reported_at`): valid once registered."""

    reported_at: datetime
    registered_at: datetime | None = None
    void_at: datetime | None = None


def report_outcome(h: ReportHistory, t: datetime) -> dict | None:
    if h.reported_at > t or _before(h.void_at, t):
        return None
    return {"reports": 1, "valid_reports": 1} if _before(h.registered_at, t) else {"reports": 1}


@dataclass(frozen=True)
class MissHistory:
    """A case registered in an inspector's duty grid (counted by `registered_at`)."""

    registered_at: datetime
    public_source: bool
    void_at: datetime | None = None


def miss_outcome(h: MissHistory, t: datetime) -> dict | None:
    if h.registered_at > t or _before(h.void_at, t):
        return None
    return {"missed_base": 1, "missed": 1} if h.public_source else {"missed_base": 1}


@dataclass(frozen=True)
class ClockHistory:
    """A verify or check clock issued to an inspector (counted by `started_at`).

    Counted when done by t, or overdue at t; on time when it ended by its deadline.
    """

    stage: str  # verify | check
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None = None
    void_at: datetime | None = None


def clock_outcome(h: ClockHistory, t: datetime) -> dict | None:
    if h.started_at > t or _before(h.void_at, t):
        return None
    if _before(h.ended_at, t):
        out = {f"{h.stage}_due": 1}
        if h.ended_at <= h.due_at:
            out[f"{h.stage}_on_time"] = 1
        return out
    if t > h.due_at:
        return {f"{h.stage}_due": 1}
    return None


@dataclass(frozen=True)
class RegisterHistory:
    """A call-taker's decision at the register stage (counted by the register clock's start)."""

    started_at: datetime
    decided_at: datetime
    due_at: datetime
    registered: bool  # False: rejected
    cancelled_at: datetime | None = None


def register_outcome(h: RegisterHistory, t: datetime) -> dict | None:
    """受理数, 按时立案, 准确立案 = registered and not cancelled (cancelled cases count here only)."""
    if h.decided_at > t:
        return None
    out = {"accepted": 1}
    if h.registered:
        out["registered"] = 1
        if h.decided_at <= h.due_at:
            out["register_on_time"] = 1
        if not _before(h.cancelled_at, t):
            out["accurate_register"] = 1
    return out


@dataclass(frozen=True)
class DispatchHistory:
    """A dispatcher's dispatch (counted by the dispatch clock's start)."""

    started_at: datetime
    dispatched_at: datetime
    due_at: datetime
    returned_at: datetime | None = None
    void_at: datetime | None = None


def dispatch_outcome(h: DispatchHistory, t: datetime) -> dict | None:
    """应派遣数 = dispatches made; 按时派遣; 准确派遣 = not returned with approval."""
    if h.dispatched_at > t or _before(h.void_at, t):
        return None
    out = {"dispatch_due": 1, "dispatches": 1}
    if h.dispatched_at <= h.due_at:
        out["dispatch_on_time"] = 1
    if not _before(h.returned_at, t):
        out["accurate_dispatch"] = 1
    return out


HISTORIES = {
    "task": (TaskHistory, task_outcome),
    "region": (RegionHistory, region_outcome),
    "report": (ReportHistory, report_outcome),
    "miss": (MissHistory, miss_outcome),
    "verify": (ClockHistory, clock_outcome),
    "check": (ClockHistory, clock_outcome),
    "register": (RegisterHistory, register_outcome),
    "dispatch": (DispatchHistory, dispatch_outcome),
}


def outcome(kind: str, history, t: datetime) -> dict | None:
    return HISTORIES[kind][1](history, t)


# ---------------------------------------------------------------------------------------------
# history <-> JSON (the fact table stores histories as JSON)


def _dump(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    return value


def _load(value):
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value)
    if isinstance(value, list):
        return tuple(_load(v) for v in value)
    return value


def history_to_json(history) -> dict:
    return {name: _dump(getattr(history, name)) for name in history.__dataclass_fields__}


def history_from_json(kind: str, data: dict):
    cls = HISTORIES[kind][0]
    return cls(**{name: _load(value) for name, value in data.items()})


# ---------------------------------------------------------------------------------------------
# formulas


def add_counts(total: dict, part: dict | None) -> dict:
    if part:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def rate(numerator: int, denominator: int) -> float | None:
    """A rate whose denominator is 0 is not applicable: None, never 0% or 100%."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Config:
    """Weights and grade bands in force (configuration with history; `version` names it)."""

    version: int = 0
    weights: dict = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_WEIGHTS.items()})
    grades: list = field(default_factory=lambda: list(DEFAULT_GRADES))
    yellow_fraction: float = 0.8


def composite(rates: dict, terms) -> tuple[float | None, bool]:
    """Weighted score 0–100 over the applicable terms; (score, renormalised?).

    A term whose rate is not applicable drops out and the others' weights are scaled up to the
    full 100; the second value says so. With no applicable term there is no score (None) and so
    nothing renormalised (False).
    """
    total_weight = sum(weight for _, weight, _ in terms)
    applicable = [(rates[key], weight, inverted) for key, weight, inverted in terms if rates.get(key) is not None]
    used = sum(weight for _, weight, _ in applicable)
    if not applicable or used == 0:
        return None, False
    points = sum(weight * ((1 - value) if inverted else value) for value, weight, inverted in applicable)
    return round(points * 100 / used, 2), used != total_weight


def grade(score: float | None, bands) -> str | None:
    if score is None:
        return None
    for letter, floor in bands:
        if score >= floor:
            return letter
    return LOWEST_GRADE


def indicator_row(subject: str, counts: dict, config: Config) -> dict:
    """Counts (missing keys are 0) → the row's counts, rates, score, grade and whether renormalised."""
    row = {key: counts.get(key, 0) for key in KEYS[subject]}
    for name, (numerator, denominator) in RATES[subject].items():
        row[name] = rate(row[numerator], row[denominator])
    score, renormalised = composite(row, config.weights[subject])
    row["score"] = score
    row["grade"] = grade(score, config.grades)
    row["renormalised"] = renormalised
    return row


def rank_rows(rows: list[dict]) -> list[dict]:
    """Order by score (best first) and give competition ranks (1, 2, 2, 4); no score: no rank."""
    scored = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], r["code"]))
    unscored = sorted((r for r in rows if r["score"] is None), key=lambda r: r["code"])
    previous, rank = None, 0
    for position, row in enumerate(scored, start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    for row in unscored:
        row["rank"] = None
    return scored + unscored
