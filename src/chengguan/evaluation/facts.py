"""Evaluation facts: what each case and task did, and when, kept in step with the loop.

`refresh_case` rebuilds a case's facts from its events, tasks and clocks inside the operation's
transaction (a `case_changed` receiver) and moves final outcomes in and out of the rollup, so
that evaluation never scans the case tables. `close_day` writes the end-of-day snapshot of facts
still pending, which answers "as of midnight" from the rollup alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q

from chengguan.cases import workflow
from chengguan.cases.models import Case, Event, StageClock, Task
from chengguan.evaluation import indicators as ind
from chengguan.evaluation.models import ROLLUP_WIDTH, ClosedDay, Fact, Rollup
from chengguan.evaluation.periods import day_start, local_day

PUBLIC_SOURCES = frozenset({"public", "hotline", "open311", "media", "leader"})

# The rollup families a fact adds to: region facts count for their grid and their community.
ROLLUP_FAMILIES = {
    "task": ("departments",),
    "region": ("grids", "communities"),
    "report": ("inspectors",),
    "miss": ("inspectors",),
    "verify": ("inspectors",),
    "check": ("inspectors",),
    "register": ("operators",),
    "dispatch": ("operators",),
}
FAMILY_KEYS = {
    "departments": ind.KEYS["departments"],
    "grids": ind.KEYS["regions"],
    "communities": ind.KEYS["regions"],
    "inspectors": ind.KEYS["inspectors"],
    "operators": ind.KEYS["operators"],
}


@dataclass
class Spec:
    kind: str
    ref: int
    subject: str
    counted_at: datetime
    history: object
    final_at: datetime | None = None
    community: str = ""


def _zone(case: Case) -> ZoneInfo:
    return ZoneInfo(case.city.timezone)


def _later(*instants: datetime | None) -> datetime | None:
    known = [i for i in instants if i is not None]
    return max(known) if known else None


def derive(case: Case, events: list[Event], tasks: list[Task], clocks: list[StageClock], appeals: dict,
           duty_inspector: str | None) -> list[Spec]:
    """The facts of one case, from what the loop wrote (pure over the rows given)."""
    void_at = None
    end_at = None
    registered_at = None
    closures: list[list] = []
    for event in events:
        if event.operation in ("cancel", "merge"):
            void_at = event.at
        if event.to_state in workflow.END_STATES and event.from_state not in workflow.END_STATES:
            end_at = event.at
        elif event.from_state in workflow.END_STATES and event.to_state not in workflow.END_STATES:
            end_at = None
        if registered_at is None and (event.operation == "register" or (
                event.operation == "close" and event.from_state == workflow.REPORTED)):
            registered_at = event.at
        if event.operation == "close":
            closures.append([event.at, None])
        elif event.from_state == workflow.CLOSED != event.to_state and closures and closures[-1][1] is None:
            closures[-1][1] = event.at  # reopened, or disputed by the reporter
    if case.state not in workflow.END_STATES:
        end_at = None
    elif end_at is None:  # ended by a bulk writer without an ending event
        end_at = case.closed_at or (events[-1].at if events else case.reported_at)
    if registered_at is None and case.registered_at is not None and not any(
        e.operation in ("register", "close") for e in events
    ):
        registered_at = case.registered_at  # an imported case: registered when the export says it was created
    if not closures and case.state == workflow.CLOSED and case.closed_at is not None:
        closures.append([case.closed_at, None])  # an imported case closed without a close event
    specs: list[Spec] = []
    by_task: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        seq = event.data.get("task") if isinstance(event.data, dict) else None
        if seq is not None:
            by_task[seq].append(event)

    handled: list[tuple[datetime, bool]] = []
    all_suspensions: list[tuple[datetime, datetime | None]] = []
    clock_by_end = {(c.stage, c.ended_at): c for c in clocks if c.ended_at is not None}
    for task in tasks:
        history, passed_at = _task_history(task, by_task.get(task.seq, []), void_at, appeals.get(task.pk))
        all_suspensions.extend(history.suspensions)
        if passed_at is not None:
            handled.append((passed_at, task.on_time is not False))
        terminal = history.returned_at or passed_at or history.void_at
        final = _later(terminal, history.appealed_at) if terminal else None
        if final is None and end_at is not None:
            final = _later(end_at, history.appealed_at)
        if task.counted:
            specs.append(Spec("task", task.seq, task.department.code, task.dispatched_at, history, final))
        dispatch_clock = clock_by_end.get((workflow.DISPATCH, task.dispatched_at))
        if task.dispatched_by_id and dispatch_clock is not None:
            specs.append(Spec(
                "dispatch", task.seq, str(task.dispatched_by_id), dispatch_clock.started_at,
                ind.DispatchHistory(dispatch_clock.started_at, task.dispatched_at, dispatch_clock.due_at,
                                    returned_at=history.returned_at, void_at=void_at),
                end_at or history.returned_at,
            ))

    if registered_at is not None:
        public = case.source in PUBLIC_SOURCES
        specs.append(Spec(
            "region", 0, case.grid_code, registered_at,
            ind.RegionHistory(registered_at, public, tuple(tuple(c) for c in closures), tuple(sorted(handled)),
                              tuple(sorted(all_suspensions, key=lambda s: s[0])), void_at),
            end_at, community=case.community_code,
        ))
        if duty_inspector:
            specs.append(Spec("miss", 0, duty_inspector, registered_at,
                              ind.MissHistory(registered_at, public, void_at), end_at))
    if case.source in ("inspector", "volunteer") and case.reporter_id:
        specs.append(Spec("report", 0, str(case.reporter_id), case.reported_at,
                          ind.ReportHistory(case.reported_at, registered_at, void_at), end_at))

    decisions = {e.at: e for e in events if e.operation in ("register", "reject", "close") and e.actor_id}
    for clock in clocks:
        if clock.stage in (workflow.VERIFY, workflow.CHECK) and clock.assignee_id:
            specs.append(Spec(
                clock.stage, clock.pk, str(clock.assignee_id), clock.started_at,
                ind.ClockHistory(clock.stage, clock.started_at, clock.due_at, clock.ended_at, void_at),
                end_at,
            ))
        elif clock.stage == workflow.REGISTER and clock.ended_at is not None:
            decision = decisions.get(clock.ended_at)
            if decision is None:
                continue
            specs.append(Spec(
                "register", clock.pk, str(decision.actor_id), clock.started_at,
                ind.RegisterHistory(clock.started_at, clock.ended_at, clock.due_at,
                                    registered=decision.operation != "reject", cancelled_at=void_at),
                end_at,
            ))
    return specs


def _task_history(task: Task, events: list[Event], void_at, appealed_at) -> tuple[ind.TaskHistory, datetime | None]:
    deadlines = []
    feedbacks, checks, extensions = [], [], []
    suspensions: list[list] = []
    returned_at = None
    for event in events:
        op, data = event.operation, event.data
        if op == "dispatch" and event.due_at:
            deadlines.append((event.at, event.due_at))
        elif op == "feedback":
            feedbacks.append(event.at)
        elif op == "check":
            fixed = event.to_state != workflow.DISPATCHED
            checks.append((event.at, fixed))
            if not fixed and event.due_at:
                deadlines.append((event.at, event.due_at))
        elif op == "decide_extension" and data.get("approve"):
            extensions.append(event.at)
            if event.due_at:
                deadlines.append((event.at, event.due_at))
        elif op == "decide_return" and data.get("approve"):
            returned_at = event.at
        elif op == "decide_suspend" and data.get("approve"):
            suspensions.append([event.at, None])
        elif op == "resume":
            if suspensions and suspensions[-1][1] is None:
                suspensions[-1][1] = event.at
            if event.due_at:
                deadlines.append((event.at, event.due_at))
    if not deadlines:  # written by an import: the task row holds the one deadline
        deadlines.append((task.dispatched_at, task.due_at))
    if not checks and task.handled_at is not None:
        feedbacks = feedbacks or [task.handled_at]
        checks.append((task.handled_at, True))
    passed_at = next((at for at, fixed in checks if fixed), None)
    history = ind.TaskHistory(
        dispatched_at=task.dispatched_at,
        deadlines=tuple(sorted(deadlines)),
        feedbacks=tuple(feedbacks),
        checks=tuple(checks),
        suspensions=tuple(tuple(s) for s in suspensions),
        extensions=tuple(extensions),
        returned_at=returned_at,
        void_at=void_at,
        appealed_at=appealed_at,
    )
    return history, passed_at


# ---------------------------------------------------------------------------------------------
# writing facts and the rollup


def _vector(family: str, outcome: dict) -> list[int]:
    return [outcome.get(key, 0) for key in FAMILY_KEYS[family]]


def _rollup_add(city_id: int, rows: dict) -> None:
    """rows: (family, subject, day, snapshot, mark) -> vector; added onto what is stored."""
    if not rows:
        return
    table = Rollup._meta.db_table
    width = ROLLUP_WIDTH
    columns = ", ".join(f"n{i}" for i in range(width))
    sets = ", ".join(f"n{i} = {table}.n{i} + excluded.n{i}" for i in range(width))
    # Table and column names are our own constants; every value goes as a parameter.
    sql = (
        f"INSERT INTO {table} (city_id, family, subject, day, snapshot, mark, {columns}) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s, %s, {', '.join(['%s'] * width)}) "
        f"ON CONFLICT (city_id, family, snapshot, mark, day, subject) DO UPDATE SET {sets}"
    )
    params = []
    # In key order, so that concurrent operations lock shared rollup rows in the same order (no deadlock).
    for (family, subject, day, snapshot, mark), vector in sorted(rows.items(), key=lambda item: item[0]):
        if any(vector):
            params.append([city_id, family, subject, day, snapshot, mark, *vector, *[0] * (width - len(vector))])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _contribute(rows: dict, fact_kind: str, subject: str, community: str, day: date, mark: date,
                outcome: dict | None, sign: int, snapshot: bool = False) -> None:
    if not outcome:
        return
    for family in ROLLUP_FAMILIES[fact_kind]:
        key_subject = community if family == "communities" else subject
        vector = _vector(family, outcome)
        key = (family, key_subject, day, snapshot, mark)
        current = rows.setdefault(key, [0] * len(vector))
        for i, value in enumerate(vector):
            current[i] += sign * value


def _duty_inspector(case: Case) -> str | None:
    if not case.grid_id:
        return None
    from chengguan.cases.services import grid_inspector

    inspector = grid_inspector(case.grid_id)
    return str(inspector.pk) if inspector else None


@dataclass
class Plan:
    """What refreshing some cases writes: facts to create, update and delete, and rollup deltas."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    delete: list = field(default_factory=list)
    rollup: dict = field(default_factory=dict)


def _plan_case(plan: Plan, case: Case, events, tasks, clocks, appeals, existing: dict, duty: str | None) -> bool:
    """Add one case's changes to `plan`; True when any fact changed."""
    tz = _zone(case)
    specs = derive(case, events, tasks, clocks, appeals, duty)
    keep = set()
    changed = False
    for spec in specs:
        keep.add((spec.kind, spec.ref))
        history = ind.history_to_json(spec.history)
        final_outcome = ind.outcome(spec.kind, spec.history, spec.final_at) if spec.final_at else None
        day = local_day(spec.counted_at, tz)
        final_day = local_day(spec.final_at, tz) if spec.final_at else None
        old = existing.get((spec.kind, spec.ref))
        if old is not None:
            if (old.history == history and old.final_at == spec.final_at and old.subject == spec.subject
                    and old.community == spec.community):
                continue
            if old.final_at is not None:
                _contribute(plan.rollup, old.kind, old.subject, old.community, old.day, old.final_day, old.outcome, -1)
        fact = old or Fact(city_id=case.city_id, case=case, kind=spec.kind, ref=spec.ref)
        fact.subject, fact.community = spec.subject, spec.community
        fact.counted_at, fact.day = spec.counted_at, day
        fact.final_at, fact.final_day = spec.final_at, final_day
        fact.history, fact.outcome = history, final_outcome
        if spec.final_at is not None:
            _contribute(plan.rollup, spec.kind, spec.subject, spec.community, day, final_day, final_outcome, +1)
        (plan.update if old is not None else plan.create).append(fact)
        changed = True
    for key, fact in existing.items():
        if key in keep:
            continue
        if fact.final_at is not None:
            _contribute(plan.rollup, fact.kind, fact.subject, fact.community, fact.day, fact.final_day,
                        fact.outcome, -1)
        plan.delete.append(fact.pk)
        changed = True
    return changed


def _write(plan: Plan, city_id: int) -> None:
    if plan.delete:
        Fact.objects.filter(pk__in=plan.delete).delete()
    if plan.create:
        Fact.objects.bulk_create(plan.create, batch_size=1000)
    if plan.update:
        Fact.objects.bulk_update(
            plan.update, ["subject", "community", "counted_at", "day", "final_at", "final_day", "history", "outcome"],
            batch_size=1000,
        )
    _rollup_add(city_id, plan.rollup)


def _duty_of(case: Case, existing: dict, duty_by_grid: dict | None = None) -> str | None:
    old_miss = existing.get(("miss", 0))
    if old_miss is not None:
        return old_miss.subject  # who had the grid when the case was registered
    if case.registered_at is None:
        return None
    if duty_by_grid is not None:
        return duty_by_grid.get(case.grid_id)
    return _duty_inspector(case)


def refresh_case(case: Case, *, since: datetime | None = None) -> None:
    """Rebuild one case's facts; move final outcomes into and out of the rollup."""
    from chengguan.evaluation.models import Appeal

    case = Case.objects.select_related("city").get(pk=case.pk)
    events = list(Event.objects.filter(case=case).order_by("at", "id"))
    tasks = list(Task.objects.filter(case=case).select_related("department").order_by("seq"))
    clocks = list(StageClock.objects.filter(case=case).order_by("started_at", "id"))
    appeals = dict(
        Appeal.objects.filter(task__case=case, status=Appeal.Status.APPROVED).values_list("task_id", "decided_at")
    )
    existing = {(f.kind, f.ref): f for f in Fact.objects.filter(case=case)}
    plan = Plan()
    changed = _plan_case(plan, case, events, tasks, clocks, appeals, existing, _duty_of(case, existing))
    _write(plan, case.city_id)
    if since is not None and changed:
        # The snapshot of day D describes the instant D+1 00:00, which counts events at that very instant.
        reopen_days(case.city_id, local_day(since - timedelta(microseconds=1), _zone(case)))


def reopen_days(city_id: int, first: date) -> None:
    """Snapshots from `first` on no longer hold (history before their instant changed): drop them."""
    closed = ClosedDay.objects.filter(city_id=city_id, day__gte=first)
    if closed.exists():
        Rollup.objects.filter(city_id=city_id, snapshot=True, mark__gte=first).delete()
        closed.delete()


def refresh_cases(case_ids: Iterable[int], *, chunk: int = 1000) -> None:
    """Rebuild the facts of many cases (after a bulk import wrote them directly).

    Reads each chunk's events, tasks, clocks, appeals and facts in one query apiece, so that a
    city's history is refreshed at thousands of cases a second rather than one case at a time.
    """
    from chengguan.evaluation.models import Appeal

    ids = sorted(set(case_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        with transaction.atomic():
            cases = list(Case.objects.filter(pk__in=part).select_related("city"))
            events, tasks, clocks, facts = (defaultdict(list) for _ in range(4))
            for event in Event.objects.filter(case_id__in=part).order_by("case_id", "at", "id"):
                events[event.case_id].append(event)
            for task in Task.objects.filter(case_id__in=part).select_related("department").order_by("case_id", "seq"):
                tasks[task.case_id].append(task)
            for clock in StageClock.objects.filter(case_id__in=part).order_by("case_id", "started_at", "id"):
                clocks[clock.case_id].append(clock)
            for fact in Fact.objects.filter(case_id__in=part):
                facts[fact.case_id].append(fact)
            appeals: dict[int, dict] = defaultdict(dict)
            for case_id, task_id, decided in Appeal.objects.filter(
                task__case_id__in=part, status=Appeal.Status.APPROVED
            ).values_list("task__case_id", "task_id", "decided_at"):
                appeals[case_id][task_id] = decided
            duty_by_grid = _duty_inspectors({c.grid_id for c in cases if c.grid_id})
            by_city: dict[int, Plan] = defaultdict(Plan)
            earliest: dict[int, datetime] = {}
            for case in cases:
                existing = {(f.kind, f.ref): f for f in facts[case.pk]}
                duty = _duty_of(case, existing, duty_by_grid)
                if _plan_case(by_city[case.city_id], case, events[case.pk], tasks[case.pk], clocks[case.pk],
                              appeals[case.pk], existing, duty):
                    first = earliest.get(case.city_id)
                    earliest[case.city_id] = case.reported_at if first is None else min(first, case.reported_at)
            for city_id, plan in by_city.items():
                _write(plan, city_id)
            for case in cases:
                if case.city_id in earliest:
                    tz = _zone(case)
                    reopen_days(case.city_id, local_day(earliest.pop(case.city_id) - timedelta(microseconds=1), tz))


def _duty_inspectors(grid_ids: set[int]) -> dict[int, str]:
    """Each grid's inspector (the first of its duty grid's, as `grid_inspector` picks)."""
    from chengguan.org.models import User

    found: dict[int, str] = {}
    rows = (
        User.objects.filter(duty_grids__grids__in=grid_ids, role="inspector", is_active=True)
        .order_by("id")
        .values_list("duty_grids__grids", "id")
    )
    for grid_id, user_id in rows:
        found.setdefault(grid_id, str(user_id))
    return found


def on_case_changed(sender, case: Case, event: Event, **kwargs) -> None:
    fresh = getattr(case, "fresh", None)
    if event.operation == "report" and fresh is not None:
        _facts_of_new_report(case, event, fresh["clocks"])
    else:
        refresh_case(case, since=event.at)


def _facts_of_new_report(case: Case, event: Event, clocks: list[StageClock]) -> None:
    """A new case's facts from what intake already holds: one INSERT, no reads (intake is hot)."""
    tz = _zone(case)
    specs = derive(case, [event], [], clocks, {}, None)
    Fact.objects.bulk_create([
        Fact(city_id=case.city_id, case=case, kind=spec.kind, ref=spec.ref, subject=spec.subject,
             community=spec.community, counted_at=spec.counted_at, day=local_day(spec.counted_at, tz),
             history=ind.history_to_json(spec.history))
        for spec in specs
    ])


# ---------------------------------------------------------------------------------------------
# end-of-day snapshots


def close_day(city, day: date) -> int:
    """Write the snapshot of facts pending at the end of `day` (local); returns facts counted."""
    tz = ZoneInfo(city.timezone)
    t = day_start(day + timedelta(days=1), tz)
    pending = Fact.objects.filter(city=city, counted_at__lte=t).filter(
        Q(final_at__isnull=True) | Q(final_at__gte=t)
    ).only("kind", "subject", "community", "day", "history")
    rows: dict = {}
    count = 0
    for fact in pending.iterator(chunk_size=5000):
        history = ind.history_from_json(fact.kind, fact.history)
        _contribute(rows, fact.kind, fact.subject, fact.community, fact.day, day,
                    ind.outcome(fact.kind, history, t), +1, snapshot=True)
        count += 1
    with transaction.atomic():
        Rollup.objects.filter(city=city, snapshot=True, mark=day).delete()
        _rollup_add(city.pk, rows)
        ClosedDay.objects.update_or_create(city=city, day=day)
    return count


def rebuild(city) -> int:
    """Drop and rebuild every fact and rollup row of a city (after restoring or importing data)."""
    with transaction.atomic():
        Fact.objects.filter(city=city).delete()
        Rollup.objects.filter(city=city).delete()
        ClosedDay.objects.filter(city=city).delete()
    ids = list(Case.objects.filter(city=city).values_list("pk", flat=True))
    refresh_cases(ids)
    return len(ids)
