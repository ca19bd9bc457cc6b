"""The leader dashboard's numbers: today and this month at a glance, trends, mixes, hot spots and
the lists a leader chases.

Every figure is one aggregate query (one GROUP BY for a series), written with the ORM so that it
runs the same on SQLite and PostgreSQL. Days and months are the city's (Asia/Shanghai by default):
"today" runs from local midnight to `now`, "this month" from the first of the month. `now` comes
in as an argument, so the numbers can be checked against fixed instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate

from chengguan.cases import clocks, workflow
from chengguan.cases.models import Case, Event, StageClock, Task
from chengguan.cases.queries import visible_cases
from chengguan.geo.models import Grid, Region
from chengguan.worktime.services import working_clock

OPEN = sorted(workflow.OPEN_STATES)
CLOSED = workflow.CLOSED
SOURCE_NAMES = workflow.SOURCE_LABELS
STAGE_NAMES = {
    workflow.VERIFY: ("核实", "verify"),
    workflow.REGISTER: ("立案", "register"),
    workflow.DISPATCH: ("派遣", "dispatch"),
    workflow.HANDLE: ("处置", "handle"),
    workflow.CHECK: ("核查", "check"),
}
# Who owns a running stage when no department does yet.
STAGE_OWNERS = {
    workflow.VERIFY: ("监督员", "inspector"),
    workflow.REGISTER: ("指挥中心受理", "call-takers"),
    workflow.DISPATCH: ("指挥中心派遣", "dispatchers"),
    workflow.CHECK: ("监督员", "inspector"),
}


@dataclass(frozen=True)
class Rate:
    """A share that is "—" (not applicable) when nothing was counted, never 0% or 100%."""

    num: int
    den: int

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None

    @property
    def late(self) -> int:
        return self.den - self.num

    @property
    def percent(self) -> float | None:
        return round(100 * self.num / self.den, 1) if self.den else None

    def __str__(self) -> str:
        return "—" if not self.den else f"{100 * self.num / self.den:.1f}%"


@dataclass(frozen=True)
class Window:
    """The instants the dashboard counts from: now, local midnight, the first of the month."""

    now: datetime
    today: datetime
    month: datetime
    zone: ZoneInfo

    @property
    def yesterday(self) -> datetime:
        return self.today - timedelta(days=1)

    @property
    def today_on(self) -> date:
        return self.today.date()

    @property
    def month_on(self) -> date:
        return self.month.date()


def window(now: datetime, zone: ZoneInfo | str | None = None) -> Window:
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone or ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(now=now, today=today, month=today.replace(day=1), zone=zone)


def zone_of(user) -> ZoneInfo:
    city = getattr(user, "city", None)
    return ZoneInfo(city.timezone if city is not None else settings.TIME_ZONE)


def scope(user) -> tuple[QuerySet[Case], QuerySet[Task]]:
    """The cases and tasks the user may count: their city's (what `visible_cases` lets them see)."""
    cases = visible_cases(user)
    tasks = Task.objects.all()
    if user.city_id:
        tasks = tasks.filter(case__city_id=user.city_id)
    return cases, tasks


def _between(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lte": end})


def _last_task_on_time():
    """Whether the last done task of the case (the handling that closed it) was on time."""
    return Subquery(
        Task.objects.filter(case=OuterRef("pk"), status=Task.Status.DONE).order_by("-seq").values("on_time")[:1]
    )


def closed_on_time() -> Q:
    """按期结案: closed, and the handling of its last task on time (a self-handled case always is)."""
    return Q(self_handled=True) | Q(last_on_time=True)


def headline(cases: QuerySet[Case], tasks: QuerySet[Task], w: Window) -> dict:
    """Today's and this month's intake, filings, closures, on-time rates; open cases by light."""
    now, today, month = w.now, w.today, w.month
    yesterday, before_today = w.yesterday, w.today - timedelta(microseconds=1)
    first = min(month, yesterday)
    closed_today = Q(state=CLOSED) & _between("closed_at", today, now)
    closed_month = Q(state=CLOSED) & _between("closed_at", month, now)
    flow = (
        cases.filter(_between("reported_at", first, now) | _between("registered_at", first, now)
                     | _between("closed_at", first, now))
        .annotate(last_on_time=_last_task_on_time())
        .aggregate(
            reported_yesterday=Count("pk", filter=_between("reported_at", yesterday, before_today)),
            registered_yesterday=Count("pk", filter=_between("registered_at", yesterday, before_today)),
            closed_yesterday=Count("pk", filter=Q(state=CLOSED) & _between("closed_at", yesterday, before_today)),
            reported_today=Count("pk", filter=_between("reported_at", today, now)),
            reported_month=Count("pk", filter=_between("reported_at", month, now)),
            registered_today=Count("pk", filter=_between("registered_at", today, now)),
            registered_month=Count("pk", filter=_between("registered_at", month, now)),
            closed_today=Count("pk", filter=closed_today),
            closed_month=Count("pk", filter=closed_month),
            closed_on_time_today=Count("pk", filter=closed_today & closed_on_time()),
            closed_on_time_month=Count("pk", filter=closed_month & closed_on_time()),
        )
    )
    done = Q(status=Task.Status.DONE)
    handled = tasks.filter(done, _between("handled_at", month, now)).aggregate(
        done_today=Count("pk", filter=Q(handled_at__gte=today)),
        done_month=Count("pk"),
        on_time_today=Count("pk", filter=Q(handled_at__gte=today, on_time=True)),
        on_time_month=Count("pk", filter=Q(on_time=True)),
    )
    counted = cases.filter(state__in=OPEN).aggregate(
        n_open=Count("pk"),
        n_red=Count("pk", filter=Q(stage_due_at__lt=now)),
        n_yellow=Count("pk", filter=Q(stage_due_at__gte=now, stage_yellow_at__lt=now)),
        n_green=Count("pk", filter=Q(stage_yellow_at__gte=now)),
        n_supervised=Count("pk", filter=Q(supervised=True)),
        n_supervised_red=Count("pk", filter=Q(supervised=True, stage_due_at__lt=now)),
    )
    lights = {k.removeprefix("n_"): v for k, v in counted.items()}
    return {
        "today": {
            "reported": flow["reported_today"],
            "registered": flow["registered_today"],
            "closed": flow["closed_today"],
            "handled_on_time": Rate(handled["on_time_today"], handled["done_today"]),
            "closed_on_time": Rate(flow["closed_on_time_today"], flow["closed_today"]),
        },
        "yesterday": {
            "reported": flow["reported_yesterday"],
            "registered": flow["registered_yesterday"],
            "closed": flow["closed_yesterday"],
        },
        "month": {
            "reported": flow["reported_month"],
            "registered": flow["registered_month"],
            "closed": flow["closed_month"],
            "handled_on_time": Rate(handled["on_time_month"], handled["done_month"]),
            "closed_on_time": Rate(flow["closed_on_time_month"], flow["closed_month"]),
        },
        "open": lights["open"],
        "lights": {"red": lights["red"], "yellow": lights["yellow"], "green": lights["green"]},
        "overdue": lights["red"],
        "unclocked": lights["open"] - lights["red"] - lights["yellow"] - lights["green"],
        "supervised": lights["supervised"],
        "supervised_red": lights["supervised_red"],
    }


def _by_day(qs: QuerySet, field: str, zone: ZoneInfo, **counts) -> dict[date, dict]:
    rows = qs.annotate(day=TruncDate(field, tzinfo=zone)).values("day").annotate(**counts).order_by("day")
    return {row["day"]: row for row in rows}


def trend(cases: QuerySet[Case], tasks: QuerySet[Task], w: Window, *, days: int = 30) -> dict:
    """The last `days` local days: intake and closures per day, and the day's on-time handling rate."""
    first = w.today - timedelta(days=days - 1)
    dates = [(first + timedelta(days=i)).date() for i in range(days)]
    intake = _by_day(cases.filter(_between("reported_at", first, w.now)), "reported_at", w.zone, n=Count("pk"))
    closed = _by_day(cases.filter(Q(state=CLOSED) & _between("closed_at", first, w.now)), "closed_at", w.zone,
                     n=Count("pk"))
    handled = _by_day(tasks.filter(Q(status=Task.Status.DONE) & _between("handled_at", first, w.now)), "handled_at",
                      w.zone, n=Count("pk"), n_on_time=Count("pk", filter=Q(on_time=True)))
    return {
        "days": [d.isoformat() for d in dates],
        "intake": [intake.get(d, {}).get("n", 0) for d in dates],
        "closed": [closed.get(d, {}).get("n", 0) for d in dates],
        "on_time_rate": [Rate(handled[d]["n_on_time"], handled[d]["n"]).percent if d in handled else None
                         for d in dates],
    }


def class_mix(cases: QuerySet[Case], w: Window, *, english: bool = False, limit: int = 10) -> list[dict]:
    """This month's most reported small classes."""
    rows = (
        cases.filter(_between("reported_at", w.month, w.now))
        .values("class_code", "small_class__name", "small_class__name_en")
        .annotate(n=Count("pk"))
        .order_by("-n", "class_code")[:limit]
    )
    return [
        {"code": r["class_code"], "name": (r["small_class__name_en"] if english else "") or r["small_class__name"],
         "n": r["n"]}
        for r in rows
    ]


def region_names(codes) -> dict[str, str]:
    if not codes:
        return {}
    return dict(Region.objects.filter(code__in=list(codes)).values_list("code", "name"))


def by_street(cases: QuerySet[Case], w: Window) -> list[dict]:
    """This month's reports by street: closed, still open, and ended otherwise (invalid, rejected …)."""
    rows = list(
        cases.filter(_between("reported_at", w.month, w.now))
        .values("street_code")
        .annotate(
            n=Count("pk"),
            closed=Count("pk", filter=Q(state=CLOSED)),
            open=Count("pk", filter=Q(state__in=OPEN)),
            red=Count("pk", filter=Q(state__in=OPEN, stage_due_at__lt=w.now)),
        )
        .order_by("-n", "street_code")
    )
    names = region_names({r["street_code"] for r in rows})
    return [
        {"code": r["street_code"], "name": names.get(r["street_code"], r["street_code"] or "—"), "n": r["n"],
         "closed": r["closed"], "open": r["open"], "other": r["n"] - r["closed"] - r["open"], "red": r["red"]}
        for r in rows
    ]


def source_mix(cases: QuerySet[Case], w: Window, *, english: bool = False) -> list[dict]:
    rows = (
        cases.filter(_between("reported_at", w.month, w.now)).values("source").annotate(n=Count("pk")).order_by("-n")
    )
    return [
        {"code": r["source"], "name": SOURCE_NAMES.get(r["source"], (r["source"], r["source"]))[int(english)],
         "n": r["n"]}
        for r in rows
    ]


def hot_grids(cases: QuerySet[Case], w: Window, *, limit: int = 10) -> list[dict]:
    """The grids with most reports this month, with their community, street and polygon."""
    rows = list(
        cases.filter(_between("reported_at", w.month, w.now))
        .exclude(grid_code="")
        .values("grid_code")
        .annotate(
            n=Count("pk"),
            open=Count("pk", filter=Q(state__in=OPEN)),
            red=Count("pk", filter=Q(state__in=OPEN, stage_due_at__lt=w.now)),
        )
        .order_by("-n", "grid_code")[:limit]
    )
    grids = {
        g.code: g
        for g in Grid.objects.filter(code__in=[r["grid_code"] for r in rows]).select_related("community__parent")
    }
    found = []
    for rank, r in enumerate(rows, start=1):
        grid = grids.get(r["grid_code"])
        community = grid.community if grid else None
        street = community.parent if community else None
        found.append({
            "rank": rank,
            "code": r["grid_code"],
            "name": grid.name if grid else "",
            "community": community.name if community else "",
            "street": street.name if street else "",
            "street_code": street.code if street else "",
            "n": r["n"],
            "open": r["open"],
            "red": r["red"],
            "geometry": grid.geometry if grid else None,
            "center": [grid.center_lon, grid.center_lat] if grid else None,
        })
    return found


# ------------------------------------------------------------------------------------------------
# the lists a leader chases


def _chase_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("small_class", "department", "city__calendar").prefetch_related(
        Prefetch("clocks", queryset=StageClock.objects.filter(ended_at__isnull=True, paused_at__isnull=True),
                 to_attr="running_clocks"),
    )


def red_cases(cases: QuerySet[Case], w: Window, *, recent: bool = False) -> QuerySet[Case]:
    """Open cases past their stage deadline: the longest overdue first, or (`recent`) the newly red first."""
    order = ("-stage_due_at", "-pk") if recent else ("stage_due_at", "pk")
    return _chase_rows(cases.filter(state__in=OPEN, stage_due_at__lt=w.now).order_by(*order))


def supervised_cases(cases: QuerySet[Case], w: Window) -> QuerySet[Case]:
    """Open cases under supervision (督办): the most pressing first, with the latest supervision."""
    return _chase_rows(
        cases.filter(state__in=OPEN, supervised=True).order_by(
            F("stage_due_at").asc(nulls_last=True), "-priority", "pk")
    ).prefetch_related(
        Prefetch("events", queryset=Event.objects.filter(operation="supervise").select_related("actor")
                 .order_by("-at", "-id"), to_attr="supervisions"),
    )


def minutes_over(case: Case, now: datetime) -> int | None:
    """How far past (positive) or before (negative) its stage deadline the case is, in the clock's own time."""
    if case.stage_due_at is None:
        return None
    running = [c for c in getattr(case, "running_clocks", []) if c.stage == case.stage]
    working = running[0].working_time if running else True
    cal = working_clock(case.city.calendar)
    return -clocks.minutes_left(cal, now, case.stage_due_at, working=working)


def chase_row(case: Case, w: Window, *, english: bool = False) -> dict:
    """One row of a chase list: what it is, who holds it, how late it is."""
    lang = int(english)
    department = case.department.name if case.department_id else ""
    if case.stage in STAGE_OWNERS:
        holder = STAGE_OWNERS[case.stage][lang]
    else:
        holder, department = department or "—", ""
    supervisions = getattr(case, "supervisions", None)
    latest = supervisions[0] if supervisions else None
    light = clocks.light(w.now, case.stage_yellow_at, case.stage_due_at) if case.stage_due_at else None
    over = minutes_over(case, w.now)
    return {
        "case": case,
        "number": case.number,
        "version": case.version,
        "class_name": (case.small_class.name_en if english else "") or case.small_class.name,
        "address": case.address,
        "state_name": workflow.STATE_LABELS[case.state][lang],
        "stage_name": STAGE_NAMES.get(case.stage, ("", ""))[lang] if case.stage else "",
        "holder": holder,
        "department": department,  # the department behind a stage someone else holds (a check, say)
        "due_at": case.stage_due_at,
        "light": light,
        "minutes_over": over,
        # Red is past the deadline; in working time that may still be 0 minutes (a night, a weekend).
        "late": light == clocks.RED,
        "late_minutes": light == clocks.RED and over is not None and over > 0,
        "supervised": case.supervised,
        "priority": case.priority,
        "supervision": latest,
        "supervision_count": len(supervisions) if supervisions is not None else None,
    }


def duration(minutes: int | None, *, english: bool = False) -> str:
    """7小时30分 / 7 h 30 min (absolute value; the column says whether it is over or left)."""
    if minutes is None:
        return "—"
    hours, mins = divmod(abs(int(minutes)), 60)
    if english:
        return f"{hours} h {mins:02d} min" if hours else f"{mins} min"
    return f"{hours}小时{mins:02d}分" if hours else f"{mins}分"


# ------------------------------------------------------------------------------------------------
# the cases behind a number

MEASURES = {
    # measure: (中文, English, the instant it is counted by)
    "reported": ("上报", "reported", "reported_at"),
    "registered": ("立案", "registered", "registered_at"),
    "closed": ("结案", "closed", "closed_at"),
    "closed_late": ("超期结案", "closed late", "closed_at"),
    "handled": ("处置（核查通过）", "handled (check passed)", "handled_at"),
    "handled_late": ("超期处置", "handled late", "handled_at"),
}


def cases_behind(cases: QuerySet[Case], tasks: QuerySet[Task], w: Window, measure: str, *, period: str = "month",
                 grid: str | None = None, street: str | None = None, class_code: str | None = None,
                 source: str | None = None, day: date | None = None) -> QuerySet[Case]:
    """The cases a dashboard number counts, so that every number can be explained."""
    if day is not None:
        start = datetime.combine(day, datetime.min.time(), tzinfo=w.zone)
        end = min(start + timedelta(days=1) - timedelta(microseconds=1), w.now)
    else:
        start, end = (w.today if period == "today" else w.month), w.now
    field = MEASURES[measure][2]
    if measure.startswith("handled"):
        done = tasks.filter(Q(status=Task.Status.DONE) & _between("handled_at", start, end))
        if measure == "handled_late":
            done = done.filter(on_time=False)
        qs = cases.filter(pk__in=done.values("case_id"))
    else:
        qs = cases.filter(_between(field, start, end))
        if measure.startswith("closed"):
            qs = qs.filter(state=CLOSED)
        if measure == "closed_late":
            qs = qs.annotate(last_on_time=_last_task_on_time()).exclude(closed_on_time())
    if grid:
        qs = qs.filter(grid_code=grid)
    if street:
        qs = qs.filter(street_code=street)
    if class_code:
        qs = qs.filter(class_code=class_code)
    if source:
        qs = qs.filter(source=source)
    return qs.select_related("small_class", "department").order_by(f"-{field}" if not measure.startswith(
        "handled") else "-reported_at", "-pk")
