"""The four ones (四个一): 每天一督查、每日一通报、每周一简评、每月一汇总, built as bulletin documents.

`build(kind, day, city=, as_of=)` returns the plain dict described in `render/document.py`; the
page, the JSON API, the xlsx and the PDF all show that one dict. Every indicator (rates, scores,
grades, ranks, 立案数) comes from `services.evaluate`, so a bulletin agrees with the ranking pages
and the API to the digit; the counts that are not indicators (intake, closures, classes, hot
spots, the chase lists) are single aggregate queries over indexed columns.

Which period a date names — every report covers the latest whole period that has ended by
00:00 of `day`, counted as of that midnight unless `as_of` says otherwise:

- supervision: the open cases as of now (a past `day`: as of its end), lights at that instant;
- daily (`date=D`): the day D−1 (the bulletin issued on the morning of D reports yesterday);
- weekly: the ISO week before the week of D (issued on Monday, it reports the week just ended);
- monthly: the month before the month of D (issued on the 1st, it reports the month just ended).

Comparisons (the day before, the previous four weeks, the previous month) are counted at the
same distance from their own end as the period reported, so that like is compared with like.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from chengguan.errors import Invalid, NotFound
from chengguan.evaluation import bulletin_queries as q
from chengguan.evaluation.bulletin_queries import DAILY_DEPARTMENT, DAILY_STREET, SCORED
from chengguan.evaluation.periods import Period, day_start, local_day, month_of, week_of
from chengguan.evaluation.render.document import GRADES, KIND_NAMES, KINDS
from chengguan.evaluation.services import current_config, evaluate
from chengguan.geo.models import City
from chengguan.worktime.services import working_clock

COMMENT_LIMIT = 3  # best and worst
UNASSIGNED = ("尚未派遣到部门", "Not yet dispatched to a department")


# ---------------------------------------------------------------------------------------------
# dates


def report_period(kind: str, day: date) -> Period | None:
    """The period a bulletin of `kind` issued on `day` reports (None: the supervision list is a live list)."""
    if kind == "daily":
        return Period("day", day - timedelta(days=1), day - timedelta(days=1))
    if kind == "weekly":
        return week_of(day).previous()
    if kind == "monthly":
        return month_of(day.year, day.month).previous()
    return None


def default_as_of(kind: str, day: date, tz: ZoneInfo, now: datetime) -> datetime:
    if kind == "supervision":
        return min(now, day_start(day + timedelta(days=1), tz))
    return min(now, day_start(day, tz))


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"未知的通报类型：{kind}（可用 supervision、daily、weekly、monthly）",
                       f"Unknown bulletin kind '{kind}' (supervision, daily, weekly or monthly)", field="kind")


def parse_day(text: str | None, tz: ZoneInfo, *, now: datetime | None = None) -> date:
    """`YYYY-MM-DD` (default today in the city): 422 naming `date` otherwise, or for a day not yet begun."""
    today = local_day(now or timezone.now(), tz)
    if not text:
        return today
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"date 应为 YYYY-MM-DD 格式的日期：{text}", f"Field 'date' must be a date (YYYY-MM-DD): {text}",
                      field="date") from None
    if day > today:
        raise Invalid(f"date 不能晚于今天（{today}）", f"Field 'date' cannot be after today ({today})", field="date")
    if day.year < 2000:
        raise Invalid("date 不能早于 2000 年", "Field 'date' cannot be before 2000", field="date")
    return day


# ---------------------------------------------------------------------------------------------
# the document


def build(kind: str, day: date, *, city: City, as_of: datetime | None = None, department=None,
          now: datetime | None = None) -> dict:
    """The bulletin of `kind` issued on `day` for `city`, as of `as_of` (default: see the module).

    `department` (a Department) narrows the supervision list to the cases that department holds.
    """
    check_kind(kind)
    tz = ZoneInfo(city.timezone)
    now = now or timezone.now()
    t = as_of or default_as_of(kind, day, tz, now)
    builder = {"supervision": _supervision, "daily": _daily, "weekly": _weekly, "monthly": _monthly}[kind]
    body = builder(city, day, t, tz, department) if kind == "supervision" else builder(city, day, t, tz)
    zh, en = KIND_NAMES[kind]
    return {
        "kind": kind,
        "title": f"{city.name}数字城管{zh}",
        "title_en": f"{city.name_en or city.name} digital urban management — {en}",
        "city": city.name,
        "generated_at": now.astimezone(tz).isoformat(),
        "as_of": t.astimezone(tz).isoformat(),
        "date": day.isoformat(),
        **body,
    }


def filename(kind: str, day: date, city: City, ext: str) -> str:
    """The download's name, e.g. 杭州市数字城管每日通报-2026-11-24.pdf."""
    return f"{city.name}数字城管{KIND_NAMES[kind][0]}-{day.isoformat()}.{ext}"


def _columns(specs) -> list[dict]:
    return [{"key": k, "label": zh, "label_en": en, "format": fmt} for k, zh, en, fmt in specs]


def _pick(subject: str, keys=None, *, scored: bool = True) -> list:
    specs = [c for c in q.COLUMNS[subject] if keys is None or c[0] in keys]
    return specs + (SCORED if scored else [])


def _table(subject: str, result: dict, specs, *, notes=(), rows=None) -> dict:
    """An evaluation table: the rows as `evaluate` gave them (every key kept), totals of counts and rates."""
    keys = {k for k, *_ in specs}
    totals = {k: v for k, v in result["totals"].items() if k in keys and k not in ("score", "grade", "rank")}
    totals["name"] = "合计"
    if "density" in keys:
        totals.pop("density", None)
    # A selection of rows (the best and worst three) carries no totals: the city's would mislead.
    return {"columns": _columns(specs), "rows": list(result["rows"] if rows is None else rows),
            "totals": totals if rows is None else None, "notes": list(notes)}


def _delta_count(now: int, before: int) -> float | None:
    return (now - before) / before if before else None


def _delta_rate(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 6)


def _pct(value: float | None) -> str:
    return "—（不适用）" if value is None else f"{value * 100:.1f}%"


def _appeal_notes(result: dict) -> list[str]:
    return [f"核减：{row['name']} 案件 {a['case']}，理由：{a['reason']}"
            f"（{a['decided_by'] or '考评员'}审核于 {a['decided_at'][:16].replace('T', ' ')}）"
            for row in result["rows"] for a in row.get("appeal_notes") or []]


def _standard_notes(result: dict) -> list[str]:
    notes = ["比率分母为 0 时为“—”（不适用），综合得分按适用指标重新归一。"]
    if any(r.get("renormalised") and r.get("score") is not None for r in result["rows"]):
        notes.append("部分对象有不适用的指标，其综合得分已按其余指标的权重重新归一。")
    return notes


def _config_version() -> int:
    return current_config().version


def _supervision(city: City, day: date, t: datetime, tz: ZoneInfo, department) -> dict:
    cal = working_clock(city.calendar)
    qs = q.open_cases(city, t).filter(Q(stage_yellow_at__lt=t) | Q(supervised=True))
    if department is not None:
        qs = qs.filter(department=department)
    cases = sorted(qs, key=lambda c: (c.stage_due_at is None, c.stage_due_at or t, c.pk))
    groups: dict[str, dict] = {}
    for case in cases:
        key = case.department.code if case.department_id else ""
        group = groups.setdefault(key, {"name": case.department.name if case.department_id else UNASSIGNED[0],
                                        "name_en": (case.department.name_en or case.department.name)
                                        if case.department_id else UNASSIGNED[1], "rows": []})
        group["rows"].append(q.case_row(case, t.astimezone(tz), cal))
    ordered = sorted(groups.items(), key=lambda kv: (
        kv[0] == "", -sum(r["light"] == "red" for r in kv[1]["rows"]), -len(kv[1]["rows"]), kv[0]))
    specs = [c for c in q.CASE_COLUMNS if c[0] != "department"]
    tally = Counter()
    table_groups, names, reds, yellows = [], [], [], []
    for _, g in ordered:
        lights = Counter(r["light"] for r in g["rows"])
        supervised = sum(1 for r in g["rows"] if r["supervised"])
        tally.update({"red": lights["red"], "yellow": lights["yellow"], "supervised": supervised})
        names.append(g["name"])
        reds.append(lights["red"])
        yellows.append(lights["yellow"])
        table_groups.append({
            "heading": f"{g['name']}（红灯 {lights['red']} · 黄灯 {lights['yellow']} · 督办 {supervised}）",
            "heading_en": f"{g['name_en']} (red {lights['red']} · yellow {lights['yellow']} · supervised {supervised})",
            "table": {"columns": _columns(specs), "rows": g["rows"]},
        })
    scope = f"（仅本部门：{department.name}）" if department is not None else ""
    section = {
        "heading": "督查清单（按责任部门）", "heading_en": "Cases to chase, by department",
        "paragraphs": [
            f"截至 {t.astimezone(tz):%Y-%m-%d %H:%M}，在办案件中红灯 {tally['red']} 件、黄灯 {tally['yellow']} 件、"
            f"督办 {tally['supervised']} 件{scope}。红灯按超时从长到短排列。",
            "值班领导逐件督办：点击案件号打开案件页，在“操作”中选择“督办”并填写督办意见。",
        ],
        "groups": table_groups,
    }
    if not table_groups:
        section["paragraphs"].append("当前没有需要督查的案件。")
    sections = [section]
    if names:
        sections.insert(0, {
            "heading": "各部门红黄灯", "heading_en": "Red and yellow by department",
            "chart": {"type": "hbar", "title": "各部门红灯、黄灯案件数", "categories": names,
                      "series": [{"name": "红灯", "values": reds, "color": "#d64545"},
                                  {"name": "黄灯", "values": yellows, "color": "#e6a23c"}], "unit": "件"},
        })
    return {
        "subtitle": f"{day.year}年{day.month}月{day.day}日 · 每天一督查",
        "config_version": _config_version(),
        "summary": [
            {"label": "红灯（超期）", "label_en": "Red (overdue)", "value": tally["red"], "format": "int"},
            {"label": "黄灯（将到期）", "label_en": "Yellow (due soon)", "value": tally["yellow"], "format": "int"},
            {"label": "督办案件", "label_en": "Supervised", "value": tally["supervised"], "format": "int"},
            {"label": "涉及部门", "label_en": "Departments", "value": len([k for k, _ in ordered if k]),
             "format": "int"},
            {"label": "清单合计", "label_en": "Listed", "value": len(cases), "format": "int"},
        ],
        "sections": sections,
    }


# ---------------------------------------------------------------------------------------------
# daily


def _daily(city: City, day: date, t: datetime, tz: ZoneInfo) -> dict:
    period = report_period("daily", day)
    before = period.previous()
    t_before = t - timedelta(days=1)
    dep = evaluate("departments", period, city=city, as_of=t)
    dep_before = evaluate("departments", before, city=city, as_of=t_before)
    streets = evaluate("regions", period, city=city, as_of=t, level="street")
    streets_before = evaluate("regions", before, city=city, as_of=t_before, level="street")
    intake = q.intake(city, [period, before], tz)
    closed = [q.closures(city, [period], tz, t)[0], q.closures(city, [before], tz, t_before)[0]]
    filings = [streets["totals"]["registered"], streets_before["totals"]["registered"]]
    on_time = [dep["totals"]["on_time_rate"], dep_before["totals"]["on_time_rate"]]
    overdue, overdue_total = q.overdue_cases(city, t, tz)
    scored = [r for r in dep["rows"] if r["score"] is not None]
    best = scored[:COMMENT_LIMIT]
    worst = [r for r in scored[::-1] if r not in best][:COMMENT_LIMIT]
    dep_specs = _pick("departments", DAILY_DEPARTMENT)
    lines = [
        f"{period.label_zh}，全市上报 {intake[0]:,} 件，立案 {filings[0]:,} 件，结案 {closed[0]:,} 件；"
        f"当日派遣任务按期处置率 {_pct(on_time[0])}。",
        f"截至 {t.astimezone(tz):%Y-%m-%d %H:%M}，超期在办案件 {overdue_total:,} 件。",
    ]
    if best:
        lines.append("综合得分前三：" + "、".join(f"{r['name']}（{r['score']:.1f} 分）" for r in best) + "。")
    overdue_notes = []
    if overdue_total > len(overdue):
        overdue_notes.append(f"共 {overdue_total} 件，仅列出超时最长的 {q.OVERDUE_LIMIT} 件。")
    return {
        "subtitle": f"{period.label_zh} · 每日一通报",
        "config_version": dep["config_version"],
        "period": period.label,
        "summary": [
            {"label": "上报", "label_en": "Reported", "value": intake[0], "format": "int",
             "delta": _delta_count(*intake)},
            {"label": "立案", "label_en": "Registered", "value": filings[0], "format": "int",
             "delta": _delta_count(*filings)},
            {"label": "结案", "label_en": "Closed", "value": closed[0], "format": "int",
             "delta": _delta_count(*closed)},
            {"label": "按期处置率", "label_en": "Handled on time", "value": on_time[0], "format": "rate",
             "delta": _delta_rate(*on_time)},
            {"label": "超期在办", "label_en": "Overdue open", "value": overdue_total, "format": "int"},
        ],
        "sections": [
            {"heading": "一、总体情况", "heading_en": "Overview", "paragraphs": lines},
            {"heading": "二、各部门处置情况", "heading_en": "Departments",
             "table": _table("departments", dep, dep_specs, notes=_appeal_notes(dep) + _standard_notes(dep)),
             "chart": {"type": "bar", "title": "各部门按期处置率", "format": "rate",
                       "categories": [r["name"] for r in scored],
                       "series": [{"name": "按期处置率", "values": [r["on_time_rate"] for r in scored]}]}
             if scored else None},
            {"heading": "三、各街道结案情况", "heading_en": "Streets",
             "table": _table("regions", streets, _pick("regions", DAILY_STREET), notes=_standard_notes(streets))},
            {"heading": "四、超期案件清单", "heading_en": "Overdue cases",
             "table": {"columns": _columns(q.CASE_COLUMNS), "rows": overdue, "notes": overdue_notes}},
            {"heading": "五、红黑榜", "heading_en": "Best and worst three",
             "paragraphs": [] if scored else ["当日没有可评分的部门（无应处置任务）。"],
             "groups": [{"heading": "前三名", "heading_en": "Best three",
                         "table": _table("departments", dep, dep_specs, rows=best)},
                        {"heading": "后三名", "heading_en": "Worst three",
                         "table": _table("departments", dep, dep_specs, rows=worst)}] if scored else []},
        ],
    }


# ---------------------------------------------------------------------------------------------
# weekly


def _mean(values) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _change_words(now: float, base: float | None, *, points: bool = False) -> str:
    if base is None:
        return "前四周无可比数据"
    diff = now - base
    if points:
        return "与前四周平均持平" if abs(diff) < 0.0005 else \
            f"较前四周平均{'上升' if diff > 0 else '下降'} {abs(diff) * 100:.1f} 个百分点"
    if not base:
        return "前四周平均为 0"
    rel = diff / base
    if abs(rel) < 0.0005:
        return "与前四周平均持平"
    return f"较前四周平均{'增加' if rel > 0 else '减少'} {abs(rel) * 100:.1f}%"


def _weekly(city: City, day: date, t: datetime, tz: ZoneInfo) -> dict:
    week = report_period("weekly", day)
    weeks = [week]
    for _ in range(4):
        weeks.append(weeks[-1].previous())
    offset = t - week.end(tz)
    deps = [evaluate("departments", w, city=city, as_of=w.end(tz) + offset) for w in weeks]
    regs = [evaluate("regions", w, city=city, as_of=w.end(tz) + offset, level="district") for w in weeks]
    intake = q.intake(city, weeks, tz)
    closed = [q.closures(city, [w], tz, w.end(tz) + offset)[0] for w in weeks]
    filings = [r["totals"]["registered"] for r in regs]
    on_time = [d["totals"]["on_time_rate"] for d in deps]
    base = {"intake": _mean(intake[1:]), "filings": _mean(filings[1:]), "closed": _mean(closed[1:]),
            "on_time": _mean(on_time[1:])}
    classes = q.top_classes(city, week, tz)
    spots = q.hot_spots(city, week, tz)
    moves = _rank_moves(deps[0], deps[1])
    labels = [f"第{w.first.isocalendar()[1]}周" for w in reversed(weeks)]
    comment = [f"{week.label_zh}，全市立案 {filings[0]:,} 件，{_change_words(filings[0], base['filings'])}；"
               f"上报 {intake[0]:,} 件，结案 {closed[0]:,} 件，{_change_words(closed[0], base['closed'])}。"]
    if on_time[0] is None:
        comment.append("本周没有应处置的派遣任务，按期处置率不适用。")
    else:
        comment.append(f"按期处置率 {_pct(on_time[0])}，{_change_words(on_time[0], base['on_time'], points=True)}。")
    if classes:
        c = classes[0]
        comment.append(f"问题最多的小类是“{c['name']}”，{c['n']:,} 件，占本周上报的 {c['n'] / intake[0] * 100:.1f}%。")
    if spots:
        s = spots[0]
        comment.append(f"案件最多的网格是 {s['code']}（{s['street']}{s['community']}），共 {s['n']} 件。")
    rose = [m for m in moves if m["change"] > 0]
    fell = [m for m in moves if m["change"] < 0]
    if rose:
        r = rose[0]
        comment.append(f"排名上升最多的是{r['name']}（第 {r['previous_rank']} 名升至第 {r['rank']} 名）。")
    if fell:
        f = fell[-1]
        comment.append(f"排名下降最多的是{f['name']}（第 {f['previous_rank']} 名降至第 {f['rank']} 名），请关注。")
    trend_rows = [{"week": w.label, "label": w.label_zh, "intake": intake[i], "filings": filings[i],
                   "closed": closed[i], "on_time_rate": on_time[i]} for i, w in enumerate(weeks)]
    move_columns = _columns([
        ("name", "部门", "Department", "text"), ("rank", "本周排名", "Rank", "int"),
        ("previous_rank", "上周排名", "Previous rank", "int"), ("change", "名次变化", "Change", "int"),
        ("score", "本周得分", "Score", "score"), ("previous_score", "上周得分", "Previous", "score")])
    return {
        "subtitle": f"{week.label_zh} · 每周一简评",
        "config_version": deps[0]["config_version"],
        "period": week.label,
        "summary": [
            {"label": "立案", "label_en": "Registered", "value": filings[0], "format": "int",
             "delta": _delta_count(filings[0], base["filings"] or 0)},
            {"label": "上报", "label_en": "Reported", "value": intake[0], "format": "int",
             "delta": _delta_count(intake[0], base["intake"] or 0)},
            {"label": "结案", "label_en": "Closed", "value": closed[0], "format": "int",
             "delta": _delta_count(closed[0], base["closed"] or 0)},
            {"label": "按期处置率", "label_en": "Handled on time", "value": on_time[0], "format": "rate",
             "delta": _delta_rate(on_time[0], base["on_time"])},
        ],
        "sections": [
            {"heading": "一、简评", "heading_en": "Commentary", "paragraphs": comment},
            {"heading": "二、本周与前四周", "heading_en": "This week and the four before",
             "chart": {"type": "line", "title": "上报、立案、结案（件）", "categories": labels, "unit": "件",
                       "series": [{"name": "上报", "values": intake[::-1]}, {"name": "立案", "values": filings[::-1]},
                                  {"name": "结案", "values": closed[::-1]}]},
             "table": {"columns": _columns([("label", "周", "Week", "text"), ("intake", "上报", "Reported", "int"),
                                            ("filings", "立案", "Registered", "int"),
                                            ("closed", "结案", "Closed", "int"),
                                            ("on_time_rate", "按期处置率", "On-time rate", "rate")]),
                       "rows": trend_rows}},
            {"heading": "三、按期处置率走势", "heading_en": "On-time rate",
             "chart": {"type": "line", "title": "按期处置率", "format": "rate", "categories": labels,
                       "series": [{"name": "按期处置率", "values": on_time[::-1]}]}},
            {"heading": "四、高发问题", "heading_en": "Top problem classes",
             "table": {"columns": _columns([("rank", "序号", "No.", "int"), ("name", "小类", "Class", "text"),
                                            ("code", "代码", "Code", "text"), ("n", "本周", "This week", "int"),
                                            ("previous", "上周", "Last week", "int"),
                                            ("change", "增减", "Change", "int")]), "rows": classes}},
            {"heading": "五、热点网格", "heading_en": "Hot spots",
             "table": {"columns": _columns([("rank", "序号", "No.", "int"), ("code", "网格", "Grid", "text"),
                                            ("street", "街道", "Street", "text"),
                                            ("community", "社区", "Community", "text"), ("n", "案件数", "Cases", "int"),
                                            ("open", "仍在办", "Still open", "int")]), "rows": spots}},
            {"heading": "六、部门排名升降", "heading_en": "Departments that rose or fell",
             "paragraphs": [] if moves else ["本周与上周均有评分的部门中，排名没有变化。"],
             "groups": [g for g in (
                 {"heading": "上升", "heading_en": "Rose", "table": {"columns": move_columns, "rows": rose}},
                 {"heading": "下降", "heading_en": "Fell", "table": {"columns": move_columns, "rows": fell[::-1]}},
             ) if g["table"]["rows"]]},
        ],
    }


def _rank_moves(now: dict, before: dict) -> list[dict]:
    """Departments ranked in both weeks whose rank changed: the biggest rise first, the biggest fall last."""
    previous = {r["code"]: r for r in before["rows"] if r["rank"] is not None}
    moves = [{"code": r["code"], "name": r["name"], "rank": r["rank"], "previous_rank": previous[r["code"]]["rank"],
              "change": previous[r["code"]]["rank"] - r["rank"], "score": r["score"],
              "previous_score": previous[r["code"]]["score"]}
             for r in now["rows"] if r["rank"] is not None and r["code"] in previous]
    return sorted((m for m in moves if m["change"]), key=lambda m: (-m["change"], m["code"]))


# ---------------------------------------------------------------------------------------------
# monthly


def _grades(rows: list[dict]) -> list[int]:
    found = Counter(r["grade"] for r in rows if r["grade"])
    return [found.get(g, 0) for g in GRADES]


def _monthly(city: City, day: date, t: datetime, tz: ZoneInfo) -> dict:
    month = report_period("monthly", day)
    before = month.previous()
    t_before = before.end(tz) + (t - month.end(tz))
    dep = evaluate("departments", month, city=city, as_of=t)
    streets = evaluate("regions", month, city=city, as_of=t, level="street")
    communities = evaluate("regions", month, city=city, as_of=t, level="community")
    inspectors = evaluate("inspectors", month, city=city, as_of=t)
    operators = evaluate("operators", month, city=city, as_of=t)
    dep_before = evaluate("departments", before, city=city, as_of=t_before)
    streets_before = evaluate("regions", before, city=city, as_of=t_before, level="street")
    scored = [r for r in dep["rows"] if r["score"] is not None]
    subjects = [("部门", dep), ("街道", streets), ("社区", communities), ("监督员", inspectors),
                ("受理员/派遣员", operators)]
    grade_rows = [{"name": name, **dict(zip(GRADES, _grades(r["rows"]), strict=True))} for name, r in subjects]
    dt, st = dep["totals"], streets["totals"]
    overview = [
        f"{month.label_zh}，全市立案 {st['registered']:,} 件，结案 {st['closed']:,} 件，"
        f"结案率 {_pct(st['close_rate'])}，按期结案率 {_pct(st['close_on_time_rate'])}；"
        f"派遣任务 {dt['due']:,} 件，按期处置率 {_pct(dt['on_time_rate'])}。",
        f"数据截至 {t.astimezone(tz):%Y-%m-%d %H:%M}，评价配置版本 {dep['config_version']}。",
    ]
    if scored:
        top, low = scored[0], scored[-1]
        overview.append(f"综合得分最高的部门为{top['name']}（{top['score']:.1f} 分，{top['grade']} 级），"
                        f"最低为{low['name']}（{low['score']:.1f} 分，{low['grade']} 级）。")
    return {
        "subtitle": f"{month.label_zh} · 每月一汇总",
        "config_version": dep["config_version"],
        "period": month.label,
        "summary": [
            {"label": "立案", "label_en": "Registered", "value": st["registered"], "format": "int",
             "delta": _delta_count(st["registered"], streets_before["totals"]["registered"])},
            {"label": "结案率", "label_en": "Close rate", "value": st["close_rate"], "format": "rate",
             "delta": _delta_rate(st["close_rate"], streets_before["totals"]["close_rate"])},
            {"label": "按期处置率", "label_en": "Handled on time", "value": dt["on_time_rate"], "format": "rate",
             "delta": _delta_rate(dt["on_time_rate"], dep_before["totals"]["on_time_rate"])},
            {"label": "A 级部门", "label_en": "Grade A departments", "value": _grades(dep["rows"])[0], "format": "int"},
        ],
        "sections": [
            {"heading": "一、总体情况", "heading_en": "Overview", "paragraphs": overview},
            {"heading": "二、专业部门考评", "heading_en": "Departments",
             "table": _table("departments", dep, _pick("departments"),
                             notes=_appeal_notes(dep) + _standard_notes(dep)),
             "chart": {"type": "hbar", "title": "各部门综合得分", "unit": "分",
                       "categories": [r["name"] for r in scored],
                       "series": [{"name": "综合得分", "values": [r["score"] for r in scored]}]} if scored else None},
            {"heading": "三、等级分布", "heading_en": "Grades",
             "chart": {"type": "bar", "title": "各类考评对象的等级分布", "unit": "个", "categories": list(GRADES),
                       "series": [{"name": name, "values": _grades(r["rows"])} for name, r in subjects]},
             "table": {"columns": _columns([("name", "考评对象", "Subject", "text")]
                                           + [(g, f"{g} 级", f"Grade {g}", "int") for g in GRADES]),
                       "rows": grade_rows}},
            {"heading": "四、街道考评", "heading_en": "Streets",
             "table": _table("regions", streets, _pick("regions"), notes=_standard_notes(streets))},
            {"heading": "五、社区考评", "heading_en": "Communities",
             "table": _table("regions", communities, _pick("regions"), notes=_standard_notes(communities))},
            {"heading": "六、监督员考评", "heading_en": "Inspectors",
             "table": _table("inspectors", inspectors, _pick("inspectors"), notes=_standard_notes(inspectors))},
            {"heading": "七、受理员与派遣员考评", "heading_en": "Call-takers and dispatchers",
             "table": _table("operators", operators, _pick("operators"), notes=_standard_notes(operators))},
        ],
    }
