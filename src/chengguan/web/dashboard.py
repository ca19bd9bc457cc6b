"""The leader dashboard (领导驾驶舱): today and this month at a glance, trends, hot spots, and the
red and supervised cases to chase — each number a link to the cases behind it.

The numbers come from `chengguan.web.figures`; this module parses, renders and exports.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date

from chengguan.cases import workflow
from chengguan.cases.permissions import allowed_operations
from chengguan.web import figures
from chengguan.web.exports import xlsx_response
from chengguan.web.roles import role_required

VIEWERS = ("leader", "evaluator", "shiftlead", "admin")
LIST_SIZE = 20
DRILL_SIZE = 500
EXPORT_SIZE = 10_000
SUPERVISE_NOTES = ("请尽快处置", "请今日内办结并反馈", "请说明超期原因", "请主要负责人牵头处理")


def english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def board(**params) -> str:
    """A link to the command center's case board with these filters.

    The board's dates are whole local days (`created_before` includes its day); its default tab
    holds open cases only, so counts of everything reported ask for the `all` tab.
    """
    return "/center/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def reported(**params) -> str:
    """The board listing every case reported (open or not) with these filters."""
    return board(queue="all", **params)


def drill(**params) -> str:
    """A link to the cases behind a dashboard number."""
    return "/dashboard/cases/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def may_supervise(user) -> bool:
    return user.role in workflow.TABLE["supervise"].roles


def _chase(request, qs, w, *, en: bool) -> list[dict]:
    rows = [figures.chase_row(case, w, english=en) for case in qs[:LIST_SIZE]]
    supervisor = may_supervise(request.user)
    for row in rows:
        row["over"] = figures.duration(row["minutes_over"], english=en)
        row["can_supervise"] = supervisor and "supervise" in allowed_operations(request.user, row["case"])
    return rows


def _links(w: figures.Window) -> dict:
    today, month = w.today_on.isoformat(), w.month_on.isoformat()
    return {
        "reported_today": reported(created_after=today),
        "reported_month": reported(created_after=month),
        "registered_today": drill(measure="registered", period="today"),
        "registered_month": drill(measure="registered", period="month"),
        "closed_today": drill(measure="closed", period="today"),
        "closed_month": drill(measure="closed", period="month"),
        "handled_today": drill(measure="handled", period="today"),
        "handled_month": drill(measure="handled", period="month"),
        "handled_late_today": drill(measure="handled_late", period="today"),
        "handled_late_month": drill(measure="handled_late", period="month"),
        "closed_late_today": drill(measure="closed_late", period="today"),
        "closed_late_month": drill(measure="closed_late", period="month"),
        "open": board(state="open"),
        "red": board(state="open", light="red"),
        "yellow": board(state="open", light="yellow"),
        "green": board(state="open", light="green"),
        "supervised": board(state="open", supervised="1"),
        "supervised_red": board(state="open", supervised="1", light="red"),
    }


def _chart_data(cases, tasks, w, *, en: bool) -> dict:
    month = w.month_on.isoformat()
    trend = figures.trend(cases, tasks, w)
    trend["intake_links"] = [reported(created_after=d, created_before=d) for d in trend["days"]]
    trend["closed_links"] = [drill(measure="closed", day=d) for d in trend["days"]]
    classes = figures.class_mix(cases, w, english=en)
    for row in classes:
        row["href"] = reported(class_code=row["code"], created_after=month)
    streets = figures.by_street(cases, w)
    for row in streets:
        row["href"] = reported(street=row["code"], created_after=month)
    sources = figures.source_mix(cases, w, english=en)
    for row in sources:
        row["href"] = reported(source=row["code"], created_after=month)
    return {"trend": trend, "classes": classes, "streets": streets, "sources": sources}


def _hot_spots(cases, w) -> tuple[list[dict], dict]:
    grids = figures.hot_grids(cases, w)
    features = []
    for row in grids:
        row["href"] = drill(measure="reported", period="month", grid=row["code"])
        if row["geometry"]:
            features.append({
                "type": "Feature",
                "id": row["code"],
                "geometry": row["geometry"],
                "properties": {k: row[k] for k in ("rank", "code", "name", "community", "street", "n", "open", "red",
                                                   "href", "center")},
            })
    return grids, {"type": "FeatureCollection", "features": features}


def _back(request) -> str:
    """Where a supervise form returns: this page with the case just supervised (`done=`), at the lists.

    The query changes with every case, so the browser loads the page afresh even when only the
    fragment would otherwise differ (an HTMX redirect to the same address and `#chase` would not).
    """
    params = request.GET.copy()
    params.pop("done", None)
    return request.path + "?" + (params.urlencode() + "&" if params else "") + "done="


@role_required(*VIEWERS)
def index(request):
    en = english(request)
    w = figures.window(timezone.now(), figures.zone_of(request.user))
    cases, tasks = figures.scope(request.user)
    head = figures.headline(cases, tasks, w)
    charts = _chart_data(cases, tasks, w, en=en)
    grids, hot = _hot_spots(cases, w)
    charts["hot"] = hot
    recent = request.GET.get("red") == "recent"
    red = _chase(request, figures.red_cases(cases, w, recent=recent), w, en=en)
    supervised = _chase(request, figures.supervised_cases(cases, w), w, en=en)
    return render(request, "web/dashboard/index.html", {
        "w": w,
        "head": head,
        "links": _links(w),
        "charts": charts,
        "grids": grids,
        "red": red,
        "supervised": supervised,
        "red_total": head["overdue"],
        "red_recent": recent,
        "back": _back(request),
        "done": request.GET.get("done", ""),
        "supervised_total": head["supervised"],
        "may_supervise": may_supervise(request.user),
        "supervise_notes": SUPERVISE_NOTES,
        "city": request.user.city,
        "streets_height": max(260, 26 * len(charts["streets"]) + 60),
        "labels": CHART_LABELS[en],
    })


CHART_LABELS = {
    False: {"intake": "上报", "closed": "结案", "on_time": "按期处置率", "cases": "件", "rate": "按期率",
            "closed_s": "已结案", "open_s": "在办", "other_s": "其他", "empty": "本月暂无数据",
            "cases_n": "案件数", "rank": "第 {n} 名", "open": "在办", "red": "超期", "street": "街道",
            "community": "社区"},
    True: {"intake": "Reported", "closed": "Closed", "on_time": "Handled on time", "cases": "", "rate": "On time",
           "closed_s": "Closed", "open_s": "Open", "other_s": "Other", "empty": "No data this month yet",
           "cases_n": "Cases", "rank": "No. {n}", "open": "open", "red": "overdue", "street": "Street",
           "community": "Community"},
}

EXPORT_HEADERS = {
    False: ["案件号", "小类", "地址", "状态", "当前环节", "责任单位", "阶段时限", "超时（分钟）", "督办", "督办次数",
            "上报时间"],
    True: ["Case", "Class", "Address", "State", "Stage", "Held by", "Stage deadline", "Minutes over", "Supervised",
           "Supervisions", "Reported"],
}


@role_required(*VIEWERS)
def export(request, which: str):
    """The red or the supervised list, whole (not only the top rows), as an xlsx workbook."""
    en = english(request)
    w = figures.window(timezone.now(), figures.zone_of(request.user))
    cases, _ = figures.scope(request.user)
    if which == "red":
        qs = figures.red_cases(cases, w, recent=request.GET.get("red") == "recent")
        title = "Overdue cases" if en else "超期（红灯）案件"
    elif which == "supervised":
        qs = figures.supervised_cases(cases, w)
        title = "Supervised cases" if en else "督办案件"
    else:
        raise Http404(which)
    rows = []
    for case in qs[:EXPORT_SIZE]:
        row = figures.chase_row(case, w, english=en)
        rows.append([
            row["number"], row["class_name"], row["address"], row["state_name"], row["stage_name"], row["holder"],
            row["due_at"], row["minutes_over"], ("yes" if en else "是") if row["supervised"] else "",
            row["priority"], case.reported_at,
        ])
    filename = f"{'overdue' if which == 'red' else 'supervised'}-{w.today_on:%Y%m%d}.xlsx"
    return xlsx_response(filename, title, EXPORT_HEADERS[en], rows)


FILTER_NAMES = {"grid": ("网格", "grid"), "street": ("街道", "street"), "class_code": ("小类", "class"),
                "source": ("来源", "source")}


def _drill_params(request):
    """measure, period, day and filters of a drill-down; None when `day` is not a date."""
    measure = request.GET.get("measure", "reported")
    if measure not in figures.MEASURES:
        raise Http404(measure)
    period = request.GET.get("period", "month")
    if period not in {"today", "month"}:
        raise Http404(period)
    day = None
    if request.GET.get("day"):
        try:
            day = parse_date(request.GET["day"])
        except ValueError:  # well formed, but no such day
            day = None
        if day is None:
            return None
    filters = {k: request.GET.get(k) or None for k in FILTER_NAMES}
    return measure, period, day, filters


def _drill_row(case, names: dict, en: bool) -> dict:
    return {
        "case": case,
        "number": case.number,
        "class_name": (case.small_class.name_en if en else "") or case.small_class.name,
        "street_name": names.get(case.street_code, case.street_code),
        "state_name": workflow.STATE_LABELS[case.state][int(en)],
        "department": case.department.name if case.department_id else "",
    }


@role_required(*VIEWERS)
def cases_behind(request):
    """The cases a dashboard number counts (立案, 结案, 按期 …), with an xlsx export."""
    en = english(request)
    parsed = _drill_params(request)
    if parsed is None:
        return HttpResponseBadRequest("day 应为 YYYY-MM-DD" if not en else "'day' must be a date (YYYY-MM-DD)")
    measure, period, day, filters = parsed
    w = figures.window(timezone.now(), figures.zone_of(request.user))
    cases, tasks = figures.scope(request.user)
    qs = figures.cases_behind(cases, tasks, w, measure, period=period, day=day, **filters)
    zh_name, en_name, _ = figures.MEASURES[measure]
    if day is not None:
        when = day.isoformat()
    elif period == "today":
        when = "Today" if en else "今日"
    else:
        when = "This month" if en else "本月"
    title = f"{when} · {en_name if en else zh_name}"
    export = request.GET.get("format") == "xlsx"
    found = list(qs[:EXPORT_SIZE if export else DRILL_SIZE])
    names = figures.region_names({c.street_code for c in found})
    rows = [_drill_row(c, names, en) for c in found]
    if export:
        headers = (["Case", "Class", "Street", "Address", "State", "Department", "Reported", "Registered", "Closed"]
                   if en else ["案件号", "小类", "街道", "地址", "状态", "部门", "上报时间", "立案时间", "结案时间"])
        return xlsx_response(f"{measure}-{w.today_on:%Y%m%d}.xlsx", title, headers, [
            [r["number"], r["class_name"], r["street_name"], r["case"].address, r["state_name"], r["department"],
             r["case"].reported_at, r["case"].registered_at, r["case"].closed_at] for r in rows
        ])
    total = len(rows) if len(rows) < DRILL_SIZE else qs.count()
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(request, "web/dashboard/cases.html", {
        "title": title,
        "rows": rows,
        "total": total,
        "shown": len(rows),
        "filters": [(FILTER_NAMES[k][int(en)], v) for k, v in filters.items() if v],
        "xlsx": f"{request.path}?{query.urlencode()}",
    })


urlpatterns = [
    path("", index, name="dashboard"),
    path("export/<str:which>.xlsx", export, name="dashboard-export"),
    path("cases/", cases_behind, name="dashboard-cases"),
]
