"""Reads behind the four ones (四个一): the columns they show, the chase lists and the counts that
are not indicators — intake, closures, problem classes and hot spots — each one aggregate query over
an indexed column (the partial indexes on open cases, (city, reported_at), the event log's
(operation, at)), never a query per row.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q

from chengguan.cases import clocks
from chengguan.cases.models import Case, Event, Stage, StageClock
from chengguan.evaluation.periods import Period
from chengguan.geo.models import City, Grid
from chengguan.worktime.services import working_clock

OVERDUE_LIMIT = 200  # rows of the daily overdue list; the count above it is complete
TOP = 10

# (key, 中文, English, format) per subject: the columns the bulletins show.
NAME = ("name", "名称", "Name", "text")
COLUMNS = {
    "departments": [
        ("name", "部门", "Department", "text"), ("due", "应处置数", "Due", "int"), ("done", "处置数", "Done", "int"),
        ("done_on_time", "按期处置数", "Done on time", "int"), ("overdue_open", "超期待处置数", "Overdue open", "int"),
        ("reworked", "返工数", "Reworked", "int"), ("extended", "延期数", "Extended", "int"),
        ("suspended", "挂账数", "Suspended", "int"), ("returned", "回退数", "Returned", "int"),
        ("appealed", "核减数", "Appealed", "int"), ("done_rate", "处置率", "Done rate", "rate"),
        ("on_time_rate", "按期处置率", "On-time rate", "rate"), ("rework_rate", "返工率", "Rework rate", "rate"),
        ("overdue_rate", "超期待处置率", "Overdue rate", "rate"),
        ("extension_rate", "延期率", "Extension rate", "rate"),
    ],
    "regions": [
        NAME, ("registered", "立案数", "Registered", "int"), ("suspended", "挂账数", "Suspended", "int"),
        ("close_due", "应结案数", "Due to close", "int"), ("closed", "结案数", "Closed", "int"),
        ("closed_on_time", "按期结案数", "Closed on time", "int"),
        ("public_reports", "公众举报数", "Public reports", "int"), ("density", "问题密度(件/km²)", "Density", "score"),
        ("close_rate", "结案率", "Close rate", "rate"),
        ("close_on_time_rate", "按期结案率", "Closed on time rate", "rate"),
        ("public_rate", "公众举报率", "Public report rate", "rate"),
    ],
    "inspectors": [
        ("name", "监督员", "Inspector", "text"), ("reports", "上报数", "Reports", "int"),
        ("valid_reports", "有效上报数", "Valid reports", "int"), ("missed", "漏报数", "Missed", "int"),
        ("verify_due", "应核实数", "Verifications due", "int"),
        ("verify_on_time", "按时核实数", "Verified on time", "int"),
        ("check_due", "应核查数", "Checks due", "int"), ("check_on_time", "按时核查数", "Checked on time", "int"),
        ("valid_rate", "有效上报率", "Valid rate", "rate"), ("missed_rate", "漏报率", "Missed rate", "rate"),
        ("verify_on_time_rate", "按时核实率", "Verify on time", "rate"),
        ("check_on_time_rate", "按时核查率", "Check on time", "rate"),
    ],
    "operators": [
        ("name", "受理员/派遣员", "Operator", "text"), ("accepted", "受理数", "Accepted", "int"),
        ("registered", "立案数", "Registered", "int"), ("register_on_time", "按时立案数", "Registered on time", "int"),
        ("dispatches", "派遣数", "Dispatches", "int"), ("dispatch_on_time", "按时派遣数", "Dispatched on time", "int"),
        ("register_on_time_rate", "按时立案率", "Register on time", "rate"),
        ("accurate_register_rate", "准确立案率", "Accurate registration", "rate"),
        ("dispatch_on_time_rate", "按时派遣率", "Dispatch on time", "rate"),
        ("accurate_dispatch_rate", "准确派遣率", "Accurate dispatch", "rate"),
    ],
}
SCORED = [("score", "综合得分", "Score", "score"), ("grade", "等级", "Grade", "grade"), ("rank", "排名", "Rank", "int")]
DAILY_DEPARTMENT = ("name", "due", "done", "done_on_time", "overdue_open", "done_rate", "on_time_rate")
DAILY_STREET = ("name", "registered", "close_due", "closed", "closed_on_time", "close_rate", "close_on_time_rate")
CASE_COLUMNS = [
    ("number", "案件号", "Case", "text"), ("class_name", "小类", "Class", "text"),
    ("address", "地址", "Address", "text"),
    ("stage", "当前阶段", "Stage", "text"), ("department", "责任部门", "Department", "text"),
    ("due_at", "阶段时限", "Due", "datetime"), ("light", "灯", "Light", "light"),
    ("minutes_over", "超时(分钟)", "Minutes over", "int"), ("supervised", "督办", "Supervised", "text"),
]


# ---------------------------------------------------------------------------------------------
# case lists (supervision, overdue)


def open_cases(city: City, t: datetime):
    """Open cases reported by t, each with its running clock; served by the partial indexes on open cases."""
    return (
        Case.objects.filter(city=city, is_open__isnull=False, reported_at__lte=t)
        .select_related("small_class", "department")
        .prefetch_related(Prefetch("clocks", queryset=StageClock.objects.filter(ended_at__isnull=True),
                                   to_attr="running_clocks"))
    )


def case_row(case: Case, t: datetime, cal) -> dict:
    light = clocks.light(t, case.stage_yellow_at, case.stage_due_at) if case.stage_due_at else None
    over = None
    if light == clocks.RED:
        running = [c for c in case.running_clocks if c.stage == case.stage]
        over = -clocks.minutes_left(cal, t, case.stage_due_at, working=running[0].working_time if running else True)
    link = f"/center/cases/{case.number}/"
    return {
        "number": case.number,
        "class_name": case.small_class.name,
        "address": case.address or case.grid_code,
        "stage": Stage(case.stage).label if case.stage else "",
        "department": case.department.name if case.department_id else "",
        "due_at": case.stage_due_at.astimezone(t.tzinfo).isoformat() if case.stage_due_at else None,
        "light": light,
        "minutes_over": over,
        "supervised": "督办" if case.supervised else "",
        "_link": link,
        "supervise_link": link + "#cc-actions",
    }




def overdue_cases(city: City, t: datetime, tz: ZoneInfo) -> tuple[list[dict], int]:
    """Open cases past their stage deadline at t (the longest overdue first): rows and the full count."""
    qs = open_cases(city, t).filter(stage_due_at__lt=t)
    total = qs.count()
    cal = working_clock(city.calendar)
    rows = [case_row(c, t.astimezone(tz), cal) for c in qs.order_by("stage_due_at", "pk")[:OVERDUE_LIMIT]]
    return rows, total


# ---------------------------------------------------------------------------------------------
# counts that are not indicators


def intake(city: City, periods: list[Period], tz: ZoneInfo) -> list[int]:
    """Cases reported in each period: one query over the (city, reported_at) index."""
    first, last = min(p.start(tz) for p in periods), max(p.end(tz) for p in periods)
    counts = Case.objects.filter(city=city, reported_at__gte=first, reported_at__lt=last).aggregate(**{
        f"p{i}": Count("pk", filter=Q(reported_at__gte=p.start(tz), reported_at__lt=p.end(tz)))
        for i, p in enumerate(periods)})
    return [counts[f"p{i}"] for i in range(len(periods))]


def closures(city: City, periods: list[Period], tz: ZoneInfo, t: datetime) -> list[int]:
    """Cases closed in each period (by t): one query over the (operation, at) index of the event log."""
    first, last = min(p.start(tz) for p in periods), max(p.end(tz) for p in periods)
    counts = Event.objects.filter(operation="close", at__gte=first, at__lt=last, at__lte=t,
                                  case__city=city).aggregate(**{
        f"p{i}": Count("case_id", distinct=True, filter=Q(at__gte=p.start(tz), at__lt=p.end(tz)))
        for i, p in enumerate(periods)})
    return [counts[f"p{i}"] for i in range(len(periods))]


def top_classes(city: City, period: Period, tz: ZoneInfo, limit: int = TOP) -> list[dict]:
    rows = list(Case.objects.filter(city=city, reported_at__gte=period.start(tz), reported_at__lt=period.end(tz))
                .values("class_code", "small_class__name").annotate(n=Count("pk")).order_by("-n", "class_code")[:limit])
    before = period.previous()
    prev = dict(Case.objects.filter(city=city, reported_at__gte=before.start(tz), reported_at__lt=before.end(tz),
                                    class_code__in=[r["class_code"] for r in rows])
                .values("class_code").annotate(n=Count("pk")).values_list("class_code", "n"))
    return [{"rank": i, "code": r["class_code"], "name": r["small_class__name"], "n": r["n"],
             "previous": prev.get(r["class_code"], 0), "change": r["n"] - prev.get(r["class_code"], 0)}
            for i, r in enumerate(rows, start=1)]


def hot_spots(city: City, period: Period, tz: ZoneInfo, limit: int = TOP) -> list[dict]:
    rows = list(Case.objects.filter(city=city, reported_at__gte=period.start(tz), reported_at__lt=period.end(tz))
                .exclude(grid_code="").values("grid_code")
                .annotate(n=Count("pk"), open=Count("pk", filter=Q(is_open__isnull=False)))
                .order_by("-n", "grid_code")[:limit])
    grids = {g.code: g for g in Grid.objects.filter(code__in=[r["grid_code"] for r in rows])
             .select_related("community__parent")}
    found = []
    for i, r in enumerate(rows, start=1):
        grid = grids.get(r["grid_code"])
        community = grid.community if grid else None
        street = community.parent if community else None
        found.append({"rank": i, "code": r["grid_code"], "community": community.name if community else "",
                      "street": street.name if street else "", "n": r["n"], "open": r["open"]})
    return found


