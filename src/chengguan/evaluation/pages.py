"""Evaluation pages (综合评价): the ranking with trends and a map, the cases behind every count,
and the xlsx export. Appeals, publications and configuration live in `manage_pages.py`.

Each table is one `services.evaluate` call (an aggregate), and the trend five more: no query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from chengguan.errors import DomainError, Forbidden, NotFound
from chengguan.evaluation import access, services
from chengguan.evaluation import indicators as ind
from chengguan.evaluation.periods import Period, month_of, quarter_of, week_of, year_of
from chengguan.web.exports import xlsx_response
from chengguan.web.roles import home_for, role_required

PAGE_ROLES = ("leader", "evaluator", "admin", "shiftlead", "department", "inspector", "operator", "dispatcher")
TREND_PERIODS = 5  # earlier periods of the same kind shown beside each row
TABLE_LIMIT = 300  # rows shown on the page; the export holds them all
CHART_ROWS = 8
CENTER_ROLES = ("operator", "shiftlead", "dispatcher", "leader", "admin", "evaluator")

# tab -> (subject, level, 中文, English)
TABS = {
    "departments": ("departments", "", "部门", "Departments"),
    "streets": ("regions", "street", "街道（乡镇）", "Streets"),
    "communities": ("regions", "community", "社区（村）", "Communities"),
    "grids": ("regions", "grid", "单元网格", "Grids"),
    "inspectors": ("inspectors", "", "监督员", "Inspectors"),
    "operators": ("operators", "", "受理员与派遣员", "Operators"),
}
MAP_LEVELS = ("district", "street", "community")
KINDS = {"month": ("月", "Month"), "week": ("周", "Week"), "quarter": ("季度", "Quarter"), "year": ("年", "Year"),
         "day": ("日", "Day"), "range": ("时段", "Range")}

# Columns of each subject: (key, 中文, English, kind) — kind: count (explainable), rate, value.
COLUMNS = {
    "departments": [
        ("due", "应处置数", "Due", "count"), ("done", "处置数", "Done", "count"),
        ("done_on_time", "按期处置数", "Done on time", "count"),
        ("overdue_open", "超期待处置数", "Overdue open", "count"),
        ("reworked", "返工数", "Reworked", "count"), ("reworks", "返工次数", "Reworks", "count"),
        ("extended", "延期数", "Extended", "count"), ("suspended", "挂账数", "Suspended", "count"),
        ("returned", "回退数", "Returned", "count"), ("appealed", "核减数", "Appealed", "count"),
        ("done_rate", "处置率", "Done rate", "rate"), ("on_time_rate", "按期处置率", "On-time rate", "rate"),
        ("rework_rate", "返工率", "Rework rate", "rate"), ("overdue_rate", "超期待处置率", "Overdue rate", "rate"),
        ("extension_rate", "延期率", "Extension rate", "rate"),
    ],
    "regions": [
        ("registered", "立案数", "Registered", "count"), ("suspended", "挂账数", "Suspended", "count"),
        ("close_due", "应结案数", "To close", "count"), ("closed", "结案数", "Closed", "count"),
        ("closed_on_time", "按期结案数", "Closed on time", "count"),
        ("public_reports", "公众举报数", "Public reports", "count"),
        ("density", "问题密度（件/km²）", "Density (per km²)", "value"),
        ("close_rate", "结案率", "Close rate", "rate"),
        ("close_on_time_rate", "按期结案率", "On-time close rate", "rate"),
        ("public_rate", "公众举报率", "Public report rate", "rate"),
    ],
    "inspectors": [
        ("reports", "上报数", "Reports", "count"), ("valid_reports", "有效上报数", "Valid reports", "count"),
        ("missed", "漏报数", "Missed", "count"), ("missed_base", "责任网格立案数", "Cases in duty grids", "count"),
        ("verify_due", "应核实数", "Verifications due", "count"),
        ("verify_on_time", "按时核实数", "Verified on time", "count"),
        ("check_due", "应核查数", "Checks due", "count"), ("check_on_time", "按时核查数", "Checked on time", "count"),
        ("valid_rate", "有效上报率", "Valid rate", "rate"), ("missed_rate", "漏报率", "Missed rate", "rate"),
        ("verify_on_time_rate", "按时核实率", "Verify on time", "rate"),
        ("check_on_time_rate", "按时核查率", "Check on time", "rate"),
    ],
    "operators": [
        ("accepted", "受理数", "Accepted", "count"), ("registered", "立案数", "Registered", "count"),
        ("register_on_time", "按时立案数", "Registered on time", "count"),
        ("accurate_register", "准确立案数", "Accurately registered", "count"),
        ("dispatch_due", "应派遣数", "Dispatches due", "count"), ("dispatches", "派遣数", "Dispatches", "count"),
        ("dispatch_on_time", "按时派遣数", "Dispatched on time", "count"),
        ("accurate_dispatch", "准确派遣数", "Accurate dispatches", "count"),
        ("register_on_time_rate", "按时立案率", "Register on time", "rate"),
        ("accurate_register_rate", "准确立案率", "Accurate register", "rate"),
        ("dispatch_on_time_rate", "按时派遣率", "Dispatch on time", "rate"),
        ("accurate_dispatch_rate", "准确派遣率", "Accurate dispatch", "rate"),
    ],
}


def english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def pick(en: bool, zh: str, en_text: str) -> str:
    return en_text if en else zh


def forbidden(request):
    html = render_to_string("web/forbidden.html", {"home": home_for(request.user)}, request=request)
    return HttpResponseForbidden(html)


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def number(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------------
# the query: tab, period, as-of


@dataclass
class Query:
    tab: str
    subject: str
    level: str
    period: Period | None = None
    as_of: datetime | None = None  # None: now
    as_of_text: str = ""
    period_text: str = ""
    kind: str = "month"
    error: str = ""
    status: int = 200


def default_period(kind: str, today) -> Period:
    if kind == "day":
        return Period("day", today, today)
    if kind == "week":
        return week_of(today)
    if kind == "quarter":
        return quarter_of(today.year, (today.month - 1) // 3 + 1)
    if kind == "year":
        return year_of(today.year)
    if kind == "range":
        return Period("range", today - timedelta(days=29), today)
    return month_of(today.year, today.month)


def read_query(request, city, tabs: list[str], *, en: bool) -> Query:
    tab = request.GET.get("tab") or tabs[0]
    if tab not in TABS:
        raise Http404(tab)
    if tab not in tabs:
        raise Forbidden("无权查看该评价", "Your role may not read this evaluation", field="tab")
    subject, level, _, _ = TABS[tab]
    query = Query(tab, subject, level or "street")
    kind = request.GET.get("kind", "")
    query.kind = kind if kind in KINDS else "month"
    query.period_text = (request.GET.get("period") or "").strip()
    query.as_of_text = (request.GET.get("as_of") or "").strip()
    today = timezone.now().astimezone(access.zone(city)).date()
    try:
        query.as_of = access.parse_as_of(query.as_of_text, city, naive_ok=True)
        query.period = (services.period_or_422(query.period_text) if query.period_text
                        else default_period(query.kind, today))
        query.kind = query.period.kind
    except DomainError as exc:
        query.error, query.status = exc.message("en" if en else "zh"), exc.status
    return query


def explain_href(query: Query, as_of: str, key: str, code: str) -> str:
    params = {"subject": query.subject, "period": query.period.label, "as_of": as_of, "key": key, "code": code}
    if query.subject == "regions":
        params["level"] = query.level
    return "/evaluation/explain/?" + urlencode(params)


def quick_periods(today, *, en: bool) -> list[tuple[str, str]]:
    this_month = month_of(today.year, today.month)
    this_week = week_of(today)
    return [
        (pick(en, "本月", "This month"), this_month.label),
        (pick(en, "上月", "Last month"), this_month.previous().label),
        (pick(en, "本周", "This week"), this_week.label),
        (pick(en, "上周", "Last week"), this_week.previous().label),
        (pick(en, "本季度", "This quarter"), quarter_of(today.year, (today.month - 1) // 3 + 1).label),
        (pick(en, "今年", "This year"), str(today.year)),
        (pick(en, "昨日", "Yesterday"), (today - timedelta(days=1)).isoformat()),
    ]


# ---------------------------------------------------------------------------------------------
# rows


def earlier_periods(period: Period, n: int) -> list[Period]:
    found, current = [], period
    for _ in range(n):
        try:
            current = current.previous()
        except ValueError:  # before the first year the calendar knows
            break
        found.append(current)
    return list(reversed(found))


def spark_points(scores: list[float | None], width: int = 84, height: int = 22) -> str:
    """An SVG polyline's points for the scores (0–100), gaps skipped."""
    step = width / max(1, len(scores) - 1)
    points = [f"{i * step:.1f},{height - 2 - (s / 100) * (height - 4):.1f}" for i, s in enumerate(scores)
              if s is not None]
    return " ".join(points)


def present_rows(query: Query, result: dict, scope: access.Scope, history: list[dict], *, en: bool,
                 limit: int | None = TABLE_LIMIT) -> list[dict]:
    """Rows ready for the template: cells with display text and explain links, trend, rank change."""
    columns = COLUMNS[query.subject]
    earlier = [{r["code"]: r for r in h["rows"]} for h in history]
    previous = earlier[-1] if earlier else {}
    rows = []
    for r in scope.rows(result["rows"])[:limit]:
        code = r["code"]
        cells = []
        linkable = scope.may_explain(code)
        for key, _, _, kind in columns:
            value = r.get(key)
            cell = {"key": key, "kind": kind, "na": value is None}
            if kind == "rate":
                cell["text"] = percent(value)
            else:
                cell["text"] = number(value)
                if kind == "count" and linkable:
                    cell["href"] = explain_href(query, result["as_of"], key, code)
            cells.append(cell)
        before = previous.get(code, {}).get("rank")
        change = (before - r["rank"]) if before and r["rank"] else None
        trend = [e.get(code, {}).get("score") for e in earlier] + [r["score"]]
        rows.append({
            "code": code, "name": r["name"], "rank": r["rank"], "score": r["score"], "grade": r["grade"] or "",
            "score_text": number(r["score"]), "renormalised": r["renormalised"] and r["score"] is not None,
            "cells": cells, "change": change, "change_abs": abs(change or 0), "previous_rank": before, "trend": trend,
            "spark": spark_points(trend), "appeals": r.get("appeal_notes", []),
        })
    return rows


def headers(subject: str, *, en: bool) -> list[dict]:
    return [{"key": key, "label": pick(en, zh, en_text), "kind": kind} for key, zh, en_text, kind in COLUMNS[subject]]


def map_data(city, query: Query, rows: list[dict], result: dict) -> dict | None:
    """Region polygons at the tab's level, shaded by grade (one query)."""
    if query.subject != "regions" or query.level not in MAP_LEVELS:
        return None
    from chengguan.geo.models import Region

    by_code = {r["code"]: r for r in rows}
    features = []
    for code, name, geometry in Region.objects.filter(city=city, level=query.level).values_list(
            "code", "name", "geometry"):
        if not geometry:
            continue
        r = by_code.get(code, {})
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "code": code, "name": name, "score": r.get("score"), "grade": r.get("grade") or "",
            "rank": r.get("rank"), "href": explain_href(query, result["as_of"], "registered", code),
        }})
    return {"type": "FeatureCollection", "features": features}


def chart_data(query: Query, rows: list[dict], periods: list[Period]) -> dict:
    top = [r for r in rows if r["rank"]][:CHART_ROWS]
    return {"periods": [p.label for p in periods], "series": [{"name": r["name"], "data": r["trend"]} for r in top]}


def evaluate_with_history(query: Query, city) -> tuple[dict, list[dict], list[Period]]:
    config = services.current_config()
    result = services.evaluate(query.subject, query.period, city=city, as_of=query.as_of, level=query.level,
                               config=config)
    instant = datetime.fromisoformat(result["as_of"])
    earlier = earlier_periods(query.period, TREND_PERIODS)
    history = [services.evaluate(query.subject, p, city=city, as_of=instant, level=query.level, config=config)
               for p in earlier]
    return result, history, [*earlier, query.period]


# ---------------------------------------------------------------------------------------------
# pages


def allowed_tabs(user) -> list[str]:
    subjects = access.subjects_for(user)
    return [tab for tab, (subject, *_) in TABS.items() if subject in subjects]


@role_required(*PAGE_ROLES)
def ranking(request):
    en = english(request)
    tabs = allowed_tabs(request.user)
    if not tabs:
        return forbidden(request)
    city = access.city_of(request.user)
    try:
        query = read_query(request, city, tabs, en=en)
    except Forbidden:
        return forbidden(request)
    scope = access.scope_for(request.user, query.subject)
    today = timezone.now().astimezone(access.zone(city)).date()
    context = {
        "query": query, "city": city, "tabs": [(t, pick(en, TABS[t][2], TABS[t][3])) for t in tabs],
        "kinds": [(k, pick(en, *v)) for k, v in KINDS.items()], "quick": quick_periods(today, en=en),
        "headers": headers(query.subject, en=en), "may_decide": access.may_decide(request.user),
        "is_reader": access.is_reader(request.user),
    }
    if query.error:
        return render(request, "evaluation/ranking.html", context, status=query.status)
    result, history, periods = evaluate_with_history(query, city)
    if request.GET.get("format") == "xlsx":
        return export(query, result, scope, en=en)
    rows = present_rows(query, result, scope, history, en=en)
    shown_all = len(scope.rows(result["rows"]))
    context.update({
        "result": result, "rows": rows, "total_rows": shown_all, "periods": [p.label for p in periods],
        "as_of_local": datetime.fromisoformat(result["as_of"]).strftime("%Y-%m-%d %H:%M"),
        "renormalised_any": any(r["renormalised"] for r in rows),
        "map": map_data(city, query, rows, result), "chart": chart_data(query, rows, periods),
        "export_href": request.path + "?" + urlencode({**request.GET.dict(), "format": "xlsx"}),
        "labels": {"score": pick(en, "综合得分", "Score"), "rank": pick(en, "排名", "Rank"),
                   "na": pick(en, "不适用", "not applicable"), "grade": pick(en, "等级", "Grade"),
                   "empty": pick(en, "暂无数据", "No data")},
    })
    return render(request, "evaluation/ranking.html", context)


def export(query: Query, result: dict, scope: access.Scope, *, en: bool):
    columns = COLUMNS[query.subject]
    head = [pick(en, "排名", "Rank"), pick(en, "名称", "Name"), pick(en, "代码", "Code"), pick(en, "等级", "Grade"),
            pick(en, "综合得分", "Score")]
    head += [pick(en, zh, en_text) + (" %" if kind == "rate" else "") for _, zh, en_text, kind in columns]
    head += [pick(en, "权重已按适用指标归一", "Renormalised")]
    if query.subject == "departments":
        head.append(pick(en, "核减说明", "Appeals (核减)"))
    lines = []
    for r in scope.rows(result["rows"]):
        line = [r["rank"], r["name"], r["code"], r["grade"], r["score"]]
        line += [(round(r[key] * 100, 2) if r[key] is not None else None) if kind == "rate" else r.get(key)
                 for key, _, _, kind in columns]
        line.append(pick(en, "是", "yes") if r["renormalised"] and r["score"] is not None else "")
        if query.subject == "departments":
            line.append("；".join(f"{a['case']}：{a['reason']}" for a in r.get("appeal_notes", [])))
        lines.append(line)
    tab_name = pick(en, TABS[query.tab][2], TABS[query.tab][3])
    title = f"{pick(en, '综合评价', 'Evaluation')} {tab_name} {query.period.label}"
    filename = f"evaluation-{query.tab}-{query.period.label.replace('..', '_')}.xlsx"
    return xlsx_response(filename, title, head, lines)


def case_link(user, number: str) -> str | None:
    if user.is_superuser or user.role in CENTER_ROLES:
        return f"/center/cases/{number}/"
    if user.role == "department":
        return f"/inbox/cases/{number}/"
    return None


@role_required(*PAGE_ROLES)
def explain(request):
    """The cases behind one count of one row, and the proof that they add up to it."""
    from chengguan.cases import workflow
    from chengguan.cases.models import Case

    en = english(request)
    params = request.GET
    subject, key, code = params.get("subject", ""), params.get("key", ""), params.get("code", "")
    level = params.get("level") or "street"
    if subject not in ind.SUBJECTS:
        raise Http404(subject)
    try:
        scope = access.scope_for(request.user, subject)
        if not scope.may_explain(code):
            raise Forbidden("只能解释本单位的数字", "You may explain only your own row", field="code")
    except Forbidden:
        return forbidden(request)
    city = access.city_of(request.user)
    context: dict = {"subject": subject, "key": key, "code": code, "level": level}
    try:
        as_of = access.parse_as_of(params.get("as_of"), city, naive_ok=True) or timezone.now()
        period = services.period_or_422(params.get("period") or access.current_month(city).label)
        result = services.evaluate(subject, period, city=city, as_of=as_of, level=level)
        found = services.explain(subject, period, key, code, city=city, as_of=as_of, level=level)
    except NotFound:
        raise Http404(code) from None
    except DomainError as exc:
        context["error"] = exc.message("en" if en else "zh")
        return render(request, "evaluation/explain.html", context, status=exc.status)
    row = next((r for r in result["rows"] if r["code"] == code), None)
    cases = {c.number: c for c in Case.objects.filter(city=city, number__in=found["cases"]).select_related(
        "small_class", "department")}
    items = []
    for item in found["items"]:
        case = cases.get(item["case"])
        items.append({
            "number": item["case"], "count": item["count"], "href": case_link(request.user, item["case"]),
            "class_name": (case.small_class.name_en if en and case.small_class.name_en else case.small_class.name)
            if case else "",
            "address": case.address if case else "",
            "state": workflow.STATE_LABELS[case.state][int(en)] if case else "",
            "department": case.department.name if case and case.department_id else "",
        })
    label = next((pick(en, zh, en_text) for k, zh, en_text, _ in COLUMNS[subject] if k == key), key)
    back = {"departments": "departments", "inspectors": "inspectors", "operators": "operators"}.get(
        subject, {"street": "streets", "community": "communities", "grid": "grids"}.get(level, "streets"))
    context.update({
        "label": label, "items": items, "total": found["total"], "row": row,
        "row_value": row.get(key) if row else 0, "period": period, "result": result,
        "as_of_local": as_of.astimezone(access.zone(city)).strftime("%Y-%m-%d %H:%M"),
        "adds_up": found["total"] == (row.get(key) if row else 0),
        "back": "/evaluation/?" + urlencode({"tab": back, "period": period.label}),
    })
    return render(request, "evaluation/explain.html", context)
