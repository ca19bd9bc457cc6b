"""The command center (指挥中心): the live case board, the case page and the printable case sheet.

Call-takers, shift leaders and dispatchers work here all day; leaders look in and may mark a case
for supervision. Every operation button posts to `/cases/<number>/act/<operation>` (pages.actions),
and only the operations `permissions.allowed_operations` returns are offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET

from chengguan.cases import clocks, queries, workflow
from chengguan.cases.models import Case, Source, StageClock, TaskRequest
from chengguan.cases.permissions import DECISIONS, allowed_operations
from chengguan.cases.present import case_detail
from chengguan.catalog.models import SmallClass, Urgency
from chengguan.errors import DomainError
from chengguan.geo.models import Region
from chengguan.org.models import Department, Role, User
from chengguan.web.exports import xlsx_response
from chengguan.web.roles import role_required
from chengguan.worktime.services import working_clock

ROLES = ("operator", "shiftlead", "dispatcher", "leader", "admin")
# Evaluators read a case page (from an explained count) but act on none.
READERS = (*ROLES, "evaluator")
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
EXPORT_LIMIT = 5000
REFRESH_SECONDS = 45

SOURCE_LABELS = workflow.SOURCE_LABELS
STAGE_LABELS = {
    "verify": ("核实", "verify"),
    "register": ("立案", "register"),
    "dispatch": ("派遣", "dispatch"),
    "handle": ("处置", "handle"),
    "check": ("核查", "check"),
}
URGENCY_LABELS = {Urgency.NORMAL: ("一般", "normal"), Urgency.URGENT: ("紧急", "urgent")}
REQUEST_LABELS = {"extension": ("延期", "extension"), "return": ("回退", "return"), "suspend": ("挂账", "suspension")}
ROLE_LABELS = {value: (label, value) for value, label in Role.choices}
TASK_STATUS_LABELS = {
    "open": ("处置中", "open"),
    "awaiting_check": ("待核查", "awaiting check"),
    "done": ("已办结", "done"),
    "returned": ("已回退", "returned"),
    "cancelled": ("已作废", "cancelled"),
}


@dataclass(frozen=True)
class Queue:
    key: str
    zh: str
    en: str
    roles: frozenset[str] = frozenset()  # whose work queue it is (shown in bold for them)


QUEUES = (
    Queue("open", "在办", "Open"),
    Queue("verify", "待核实", "To verify"),
    Queue("register", "待立案", "To register", frozenset({"operator", "shiftlead"})),
    Queue("dispatch", "待派遣", "To dispatch", frozenset({"dispatcher", "shiftlead"})),
    Queue("approve", "待审批", "Requests", frozenset({"dispatcher", "shiftlead"})),
    Queue("check", "待核查", "To check", frozenset({"operator"})),
    Queue("close", "待结案", "To close", frozenset({"operator", "shiftlead"})),
    Queue("overdue", "超期", "Overdue", frozenset({"shiftlead", "leader"})),
    Queue("supervised", "督办", "Supervised", frozenset({"leader"})),
    Queue("suspended", "挂账", "Suspended"),
    Queue("all", "全部", "All"),
)
QUEUE_KEYS = {q.key for q in QUEUES}
DEFAULT_QUEUE = {"operator": "register", "dispatcher": "dispatch"}
MAP_FILTERS = ("q", "state", "light", "department", "street", "class_code", "source", "supervised")
FILTER_NAMES = ("q", "state", "light", "department", "street", "class_code", "source", "supervised", "created_after",
                "created_before")


def _english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def _pending_requests():
    return Exists(TaskRequest.objects.filter(task__case=OuterRef("pk"), approved__isnull=True))


def queue_q(key: str, now: datetime) -> Q:
    """The cases of one work queue (a tab of the board)."""
    open_states = Q(is_open__isnull=False)
    return {
        "open": open_states,
        "verify": Q(state=workflow.VERIFYING),
        "register": Q(state__in=[workflow.REPORTED, workflow.PENDING]),
        "dispatch": Q(state=workflow.REGISTERED),
        "approve": open_states & Q(_pending_requests()),
        "check": Q(state__in=[workflow.HANDLED, workflow.CHECKING]),
        "close": Q(state=workflow.CLOSABLE),
        "overdue": open_states & Q(stage_due_at__lt=now),
        "supervised": open_states & Q(supervised=True),
        "suspended": Q(state=workflow.SUSPENDED),
        "all": Q(),
    }[key]


# ---------------------------------------------------------------------------------------------
# reading the board's query string


@dataclass
class BoardQuery:
    queue: str
    filters: queries.Filters
    values: dict[str, str]  # the filter fields as typed, for the form and the links
    cursor: str | None = None
    size: int = DEFAULT_PAGE_SIZE
    errors: list[str] = field(default_factory=list)

    def query_string(self, **changes) -> str:
        """This board's query string with some parameters changed (None drops one)."""
        params = {k: v for k, v in self.values.items() if v}
        params["queue"] = self.queue
        if self.size != DEFAULT_PAGE_SIZE:
            params["size"] = str(self.size)
        if self.cursor:
            params["cursor"] = self.cursor
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        return urlencode(params)


def _day_start(text: str, errors: list[str], name: str, en: bool) -> datetime | None:
    if not text:
        return None
    day = parse_date(text) if len(text) == 10 else None
    if day is None:
        errors.append(f"Field '{name}' must be a date (YYYY-MM-DD)" if en else f"{name} 应为日期（年-月-日）")
        return None
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def read_board_query(request) -> BoardQuery:
    get, en = request.GET, _english(request)
    values = {name: get.get(name, "").strip()[:100] for name in FILTER_NAMES}
    errors: list[str] = []
    queue = get.get("queue") or DEFAULT_QUEUE.get(request.user.role, "open")
    if queue not in QUEUE_KEYS:
        errors.append(f"Unknown queue '{queue}'" if en else f"未知的队列：{queue}")
        queue = "open"
    try:
        size = int(get.get("size") or DEFAULT_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    after = _day_start(values["created_after"], errors, "created_after", en)
    before = _day_start(values["created_before"], errors, "created_before", en)
    supervised = {"1": True, "0": False}.get(values["supervised"])
    filters = queries.Filters(
        state=values["state"] or None,
        department=values["department"] or None,
        street=values["street"] or None,
        class_code=values["class_code"] or None,
        light=values["light"] or None,
        source=values["source"] or None,
        created_after=after,
        created_before=before + timedelta(days=1) if before else None,  # the whole last day
        supervised=supervised,
        q=values["q"] or None,
    )
    return BoardQuery(queue, filters, values, cursor=get.get("cursor") or None, size=size, errors=errors)


def board_queryset(user, bq: BoardQuery, now: datetime) -> QuerySet[Case]:
    """The filtered cases of this board (raises Invalid for a bad filter value)."""
    qs = queries.filter_cases(queries.visible_cases(user), bq.filters, now=now)
    return qs.filter(queue_q(bq.queue, now))


def board_counts(user, bq: BoardQuery, now: datetime) -> dict[str, int]:
    """Open cases by light and by queue under the current filters, in one aggregate query."""
    base = queries.filter_cases(
        queries.visible_cases(user),
        queries.Filters(**{**bq.filters.__dict__, "state": None, "light": None}),
        now=now,
    ).filter(is_open__isnull=False)  # the open cases, through their partial index
    counts = {
        "green": Count("pk", filter=Q(stage_yellow_at__gte=now)),
        "yellow": Count("pk", filter=Q(stage_due_at__gte=now, stage_yellow_at__lt=now)),
        "red": Count("pk", filter=Q(stage_due_at__lt=now)),
    }
    for queue in QUEUES:
        if queue.key != "all":
            counts[queue.key] = Count("pk", filter=queue_q(queue.key, now))
    return base.aggregate(**counts)


# ---------------------------------------------------------------------------------------------
# rows


def workday_minutes(calendar) -> int:
    """Working minutes in one of the calendar's workdays (450 with the default 08:30–12:00, 13:30–17:30)."""
    total = 0
    for period in getattr(calendar, "working_hours", None) or []:
        try:
            (h1, m1), (h2, m2) = (map(int, t.split(":")) for t in period)
        except (ValueError, TypeError):
            return 450
        total += (h2 * 60 + m2) - (h1 * 60 + m1)
    return total if total > 0 else 450


HOURS_ONLY = 10**9  # a `day` no duration reaches: hours and minutes only


def duration_text(minutes: int | None, en: bool, *, day: int | None = None) -> str:
    """Minutes as 2天3小时 / 3小时05分 / 25分 (2 d 3 h / 3 h 05 min / 25 min).

    With `day` (a workday's working minutes) the days are working days: 2个工作日3小时.
    """
    if minutes is None:
        return ""
    minutes = abs(int(minutes))
    days, rest = divmod(minutes, day or 1440)
    hours, mins = divmod(rest, 60)
    if days:
        if day:
            text = f"{days} workday{'s' if days > 1 else ''}" if en else f"{days}个工作日"
        else:
            text = f"{days} d" if en else f"{days}天"
        if hours:
            text += f" {hours} h" if en else f"{hours}小时"
        return text
    if hours:
        return f"{hours} h {mins:02d} min" if en else f"{hours}小时{mins:02d}分"
    return f"{mins} min" if en else f"{mins}分"


def left_text(minutes: int | None, en: bool, *, day: int | None = None, overdue: bool = False) -> str:
    """剩 2小时05分 / 超时 30分; past the deadline outside working hours no working minute is over yet: 已超时."""
    if minutes is None:
        return ""
    text = duration_text(minutes, en, day=day)
    if minutes < 0:
        return f"{text} over" if en else f"超时 {text}"
    if overdue:
        return "overdue" if en else "已超时"
    return f"{text} left" if en else f"剩 {text}"


@dataclass
class Row:
    case: Case
    light: str | None
    minutes_left: int | None
    left: str
    due_at: datetime | None
    paused: bool
    working_time: bool
    street: str
    state_label: str
    source_label: str
    stage_label: str


def _running_clock(case: Case) -> StageClock | None:
    found = [c for c in getattr(case, "open_clocks", []) if c.stage == case.stage and c.paused_at is None]
    if found:
        return found[0]
    paused = [c for c in getattr(case, "open_clocks", []) if c.paused_at is not None]
    return paused[0] if paused else None


def make_row(case: Case, now: datetime, streets: dict[str, str], en: bool) -> Row:
    clock = _running_clock(case)
    light = minutes = None
    paused = False
    working = True
    due = case.stage_due_at
    if clock is not None:
        working = clock.working_time
        paused = clock.paused_at is not None
        at = clock.paused_at or now
        cal = working_clock(case.city.calendar)
        minutes = clocks.minutes_left(cal, at, clock.due_at, working=working)
        due = clock.due_at
        if not paused:
            light = clocks.light(now, clock.yellow_at, clock.due_at)
    elif case.stage_due_at:
        light = clocks.light(now, case.stage_yellow_at, case.stage_due_at)
    zh_en = workflow.STATE_LABELS[case.state]
    source = SOURCE_LABELS.get(case.source, (case.source, case.source))
    stage = STAGE_LABELS.get(clock.stage if clock else case.stage, ("", ""))
    return Row(
        case=case,
        light=light,
        minutes_left=minutes,
        left=left_text(minutes, en, day=workday_minutes(case.city.calendar) if working else None,
                       overdue=light == clocks.RED),
        due_at=due,
        paused=paused,
        working_time=working,
        street=streets.get(case.street_code, ""),
        state_label=zh_en[1] if en else zh_en[0],
        source_label=source[1] if en else source[0],
        stage_label=stage[1] if en else stage[0],
    )


def with_board_relations(qs: QuerySet[Case]) -> QuerySet[Case]:
    # The city is fetched apart (prefetch), not joined: a join on it makes SQLite walk the city
    # table first and sort every case instead of reading the newest through the board index.
    return qs.select_related("small_class", "department", "suggested_department").prefetch_related(
        "city__calendar",
        Prefetch("clocks", queryset=StageClock.objects.filter(ended_at__isnull=True).order_by("-id"),
                 to_attr="open_clocks")
    )


def _streets(user) -> dict[str, str]:
    qs = Region.objects.filter(level=Region.Level.STREET)
    if user.city_id:
        qs = qs.filter(city_id=user.city_id)
    return dict(qs.order_by("code").values_list("code", "name"))


def _departments(user) -> list[Department]:
    qs = Department.objects.filter(active=True)
    if user.city_id:
        qs = qs.filter(city_id=user.city_id)
    return list(qs.order_by("code").only("code", "name", "parent_id"))


def _classes() -> list[SmallClass]:
    return list(SmallClass.objects.filter(active=True).select_related("major").order_by("kind", "code"))


# ---------------------------------------------------------------------------------------------
# the board


@require_GET
@role_required(*ROLES)
def board(request):
    now = timezone.now()
    en = _english(request)
    bq = read_board_query(request)
    partial = bool(request.headers.get("HX-Request"))
    streets = _streets(request.user)
    rows: list[Row] = []
    next_cursor = None
    counts: dict[str, int] = {}
    status = 200
    try:
        qs = with_board_relations(board_queryset(request.user, bq, now))
        cases, next_cursor = queries.page(qs, cursor=bq.cursor, page_size=bq.size)
        rows = [make_row(c, now, streets, en) for c in cases]
        counts = board_counts(request.user, bq, now)
    except DomainError as err:
        bq.errors.append(err.message("en" if en else "zh"))
        status = 400
    context = {
        "bq": bq,
        "rows": rows,
        "counts": counts,
        "queues": [
            {"queue": q, "count": counts.get(q.key), "mine": request.user.role in q.roles,
             "url": "?" + bq.query_string(queue=q.key, cursor=None)}
            for q in QUEUES
        ],
        "lights": [
            {"key": key, "count": counts.get(key), "active": bq.values["light"] == key,
             "url": "?" + bq.query_string(light=None if bq.values["light"] == key else key, cursor=None)}
            for key in ("red", "yellow", "green")
        ],
        "next_url": "?" + bq.query_string(cursor=next_cursor) if next_cursor else "",
        "first_url": "?" + bq.query_string(cursor=None) if bq.cursor else "",
        "self_url": request.path + "?" + bq.query_string(),
        "export_url": "export.xlsx?" + bq.query_string(cursor=None, size=None),
        # the map page reads the same filter names
        "map_url": "/center/map/?" + urlencode({k: v for k, v in bq.values.items() if v and k in MAP_FILTERS}),
        "now": now,
        "refresh_seconds": REFRESH_SECONDS,
    }
    if partial:
        response = render(request, "cases/center/_board.html", context, status=status)
    else:
        context.update(
            streets=sorted(streets.items()),
            departments=_departments(request.user),
            classes=_classes(),
            states=[(s, *workflow.STATE_LABELS[s]) for s in STATE_ORDER],
            sources=[(s, *SOURCE_LABELS[s]) for s in Source.values],
            page_sizes=PAGE_SIZES,
            filtered=any(bq.values.values()),
        )
        response = render(request, "cases/center/board.html", context, status=status)
    response["Vary"] = "HX-Request, Cookie, Accept-Language"
    return response


STATE_ORDER = (
    workflow.VERIFYING, workflow.REPORTED, workflow.PENDING, workflow.REGISTERED, workflow.DISPATCHED,
    workflow.HANDLING, workflow.HANDLED, workflow.CHECKING, workflow.CLOSABLE, workflow.SUSPENDED,
    workflow.CLOSED, workflow.INVALID, workflow.REJECTED, workflow.CANCELLED,
)

EXPORT_HEADERS = ["案件号", "状态", "亮灯", "剩余时间", "阶段时限", "小类代码", "小类", "紧急程度", "来源", "街道",
                  "网格编码", "地址", "问题描述", "当前部门", "督办", "上报时间", "立案时间", "派遣时间", "结案时间"]


@require_GET
@role_required(*ROLES)
def export(request):
    """The current filtered list (all pages, newest first, at most EXPORT_LIMIT rows) as xlsx."""
    now = timezone.now()
    bq = read_board_query(request)
    streets = _streets(request.user)
    try:
        qs = with_board_relations(board_queryset(request.user, bq, now)).order_by("-reported_at", "-pk")
        cases = list(qs[:EXPORT_LIMIT])
    except DomainError as err:
        return HttpResponseBadRequest(err.message("en" if _english(request) else "zh"), content_type="text/plain")
    light_names = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
    urgency = dict(Urgency.choices)
    rows = []
    for case in cases:
        row = make_row(case, now, streets, en=False)
        rows.append([
            case.number, row.state_label, light_names.get(row.light, ""), row.left, row.due_at, case.class_code,
            case.small_class.name, urgency.get(case.urgency, case.urgency), row.source_label, row.street,
            case.grid_code, case.address, case.description, case.department.name if case.department_id else "",
            "是" if case.supervised else "", case.reported_at, case.registered_at, case.dispatched_at,
            case.closed_at,
        ])
    queue = next(q for q in QUEUES if q.key == bq.queue)
    title = f"案件清单（{queue.zh}）"
    if len(cases) == EXPORT_LIMIT:
        title += f" 前{EXPORT_LIMIT}条"
    return xlsx_response(f"案件清单-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx", title, EXPORT_HEADERS, rows)


# ---------------------------------------------------------------------------------------------
# the case page


def case_for(user, number: str) -> Case:
    case = (
        queries.visible_cases(user)
        .select_related("small_class__major", "city__calendar", "department", "suggested_department", "reporter",
                        "grid", "duplicate_of")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise Http404(f"案件 {number} 不存在或无权查看")
    return case


# The fields each operation's form asks for; pages.actions types them.
FORM_FIELDS = {
    "register": ["note"],
    "reject": ["reason*"],
    "amend": ["class_code", "urgency", "address", "description", "lon", "lat"],
    "dispatch": ["department", "deadline", "note"],
    "decide_extension": ["minutes", "note"],
    "decide_return": ["note"],
    "decide_suspend": ["note"],
    "resume": ["note"],
    "request_check": ["inspector", "note"],
    "close": ["reason"],
    "reopen": ["reason*"],
    "follow_up": ["note*", "photos"],
    "supervise": ["note*"],
    "cancel": ["reason*"],
    "merge": ["into*", "note"],
    "verify": ["note", "photos"],
    "check": ["note", "photos"],
    "sign": ["note"],
    "feedback": ["result*", "photos"],
    "request_extension": ["minutes*", "reason*"],
    "return": ["reason*"],
    "suspend": ["reason*"],
}
# Two-way decisions: the field and its two answers.
CHOICES = {
    "decide_extension": ("approve", ("批准", "Approve"), ("不批准", "Refuse")),
    "decide_return": ("approve", ("批准回退", "Approve return"), ("不批准", "Refuse")),
    "decide_suspend": ("approve", ("批准挂账", "Approve"), ("不批准", "Refuse")),
    "verify": ("valid", ("有效", "Valid"), ("无效", "Invalid")),
    "check": ("fixed", ("已解决", "Fixed"), ("未解决（返工）", "Not fixed")),
}
# Shown open as the day's main work; the rest fold away under "more".
MAIN_OPERATIONS = ("register", "dispatch", "decide_extension", "decide_return", "decide_suspend", "resume",
                   "request_check", "close", "supervise", "reopen")
DANGER_OPERATIONS = ("reject", "cancel", "merge")
FIELD_LABELS = {
    "note": ("备注", "Note"),
    "reason": ("理由", "Reason"),
    "result": ("处置结果", "Result"),
    "class_code": ("小类", "Class"),
    "urgency": ("紧急程度", "Urgency"),
    "address": ("地址", "Address"),
    "description": ("问题描述", "Description"),
    "lon": ("经度（WGS84，点击地图可取点）", "Longitude (WGS84; click the map)"),
    "lat": ("纬度", "Latitude"),
    "department": ("部门", "Department"),
    "deadline": ("指定处置时限（可选）", "Deadline (optional)"),
    "minutes": ("分钟", "Minutes"),
    "inspector": ("核查监督员（默认网格监督员）", "Inspector (default: the grid's)"),
    "into": ("保留案件号", "Keep case number"),
    "photos": ("照片", "Photos"),
}


FIELD_LABELS_BY_OPERATION = {
    ("close", "reason"): ("结案说明（可选）", "Closing note (optional)"),
    ("reject", "reason"): ("不予立案理由", "Why it is not a case"),
    ("cancel", "reason"): ("作废理由", "Why it is void"),
    ("reopen", "reason"): ("重新办理理由", "Why it is reopened"),
    ("supervise", "note"): ("督办意见", "Supervision note"),
    ("follow_up", "note"): ("补充说明", "Follow-up note"),
}


@dataclass
class OperationForm:
    name: str
    label: str
    fields: list[dict]
    choice: tuple | None
    main: bool
    danger: bool
    multipart: bool
    request: dict | None = None  # the pending request a decision answers


def operation_forms(ops: list[str], en: bool, *, pending: dict[str, dict]) -> list[OperationForm]:
    forms = []
    for op in ops:
        rule = workflow.TABLE[op]
        specs = []
        for raw in FORM_FIELDS.get(op, ["note"]):
            name = raw.rstrip("*")
            zh, english = FIELD_LABELS_BY_OPERATION.get((op, name)) or FIELD_LABELS[name]
            spec = {"name": name, "label": english if en else zh, "required": raw.endswith("*")}
            if op == "decide_extension" and name == "minutes":
                asked = (pending.get("extension") or {}).get("minutes")
                spec.update(value=asked or "", max=asked or "",
                            label=(f"Grant minutes (asked {asked})" if en else f"批准分钟数（申请 {asked}）"))
            specs.append(spec)
        choice = None
        if op in CHOICES:
            name, yes, no = CHOICES[op]
            choice = (name, yes[1] if en else yes[0], no[1] if en else no[0])
        forms.append(OperationForm(
            name=op,
            label=rule.label_en if en else rule.label_zh,
            fields=specs,
            choice=choice,
            main=op in MAIN_OPERATIONS,
            danger=op in DANGER_OPERATIONS,
            multipart=any(s["name"] == "photos" for s in specs),
            request=pending.get(DECISIONS[op]) if op in DECISIONS else None,
        ))
    return forms


def _region_names(case: Case) -> dict[str, str]:
    codes = [c for c in (case.district_code, case.street_code, case.community_code) if c]
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


def _label(pair: tuple[str, str], en: bool) -> str:
    return pair[1] if en else pair[0]


def _timeline(detail: dict, names: dict[str, str], departments: dict[str, str], en: bool, *,
              reporter: str) -> list[dict]:
    items = []
    for e in detail["events"]:
        rule = workflow.TABLE.get(e["operation"])
        label = (rule.label_en if en else rule.label_zh) if rule else {"report": ("上报", "report")}.get(
            e["operation"], (e["operation"], e["operation"]))[1 if en else 0]
        data = e["data"] or {}
        facts = []
        if data.get("department"):
            facts.append(departments.get(data["department"], data["department"]))
        if data.get("minutes"):
            facts.append(("requested " if en else "申请 ") + duration_text(data["minutes"], en))
        if data.get("granted_minutes"):
            facts.append(("granted " if en else "批准 ") + duration_text(data["granted_minutes"], en))
        if "approve" in data:
            facts.append(("approved" if en else "批准") if data["approve"] else ("refused" if en else "不批准"))
        if data.get("into"):
            facts.append(("into " if en else "并入 ") + data["into"])
        if data.get("inspector"):
            facts.append(names.get(data["inspector"], data["inspector"]))
        if data.get("changed"):
            facts.append(", ".join(f"{k}={v}" for k, v in data["changed"].items()))
        actor = e["actor"]
        items.append({
            "at": _instant(e["at"]),
            "operation": e["operation"],
            "label": label,
            "actor": names.get(actor, actor) if actor else (
                reporter if e["operation"] == "report" else ("system" if en else "系统")),
            "role": _label(ROLE_LABELS[e["actor_role"]], en) if e["actor_role"] in ROLE_LABELS else "",
            "to": _label(workflow.STATE_LABELS[e["to"]], en) if e["to"] and e["from"] and e["to"] != e["from"] else "",
            "note": e["note"],
            "facts": facts,
            "late": e["was_late"],
        })
    return items


def case_context(request, case: Case, *, with_actions: bool) -> dict:
    en = _english(request)
    now = timezone.now()
    detail = case_detail(case, now=now)
    usernames = {e["actor"] for e in detail["events"] if e["actor"]}
    usernames |= {c["assignee"] for c in detail["clocks"] if c["assignee"]}
    usernames |= {e["data"].get("inspector") for e in detail["events"] if (e["data"] or {}).get("inspector")}
    names = {u.username: str(u) for u in User.objects.filter(username__in=usernames).only(
        "username", "display_name")} if usernames else {}
    departments = {t["department"]: t["department_name"] for t in detail["tasks"]}
    regions = _region_names(case)
    workday = workday_minutes(case.city.calendar)

    def day(clock: dict) -> int | None:
        return workday if clock["working_time"] else None

    running = next((c for c in detail["clocks"] if c["ended_at"] is None and not c["paused"]), None)
    paused = next((c for c in detail["clocks"] if c["ended_at"] is None and c["paused"]), None)
    clock_rows = [
        {
            **c,
            "label": _label(STAGE_LABELS[c["stage"]], en),
            "limit": duration_text(c["limit_minutes"], en, day=day(c)),
            "left": left_text(c["minutes_left"], en, day=day(c), overdue=c["light"] == clocks.RED),
            "assignee_name": names.get(c["assignee"], c["assignee"]) if c["assignee"] else "",
            "started": _instant(c["started_at"]), "due": _instant(c["due_at"]), "ended": _instant(c["ended_at"]),
        }
        for c in detail["clocks"]
    ]
    pending: dict[str, dict] = {}
    tasks = []
    for t in detail["tasks"]:
        requests = []
        for r in t["pending_requests"]:
            pending[r["kind"]] = {**r, "department_name": t["department_name"],
                                  "label": _label(REQUEST_LABELS[r["kind"]], en),
                                  "requested": _instant(r["requested_at"]),
                                  "duration": duration_text(r["minutes"], en) if r["minutes"] else ""}
            requests.append(pending[r["kind"]])
        tasks.append({**t, "requests": requests,
                      # hours, not days: a task's own clock may count working or natural time
                      "extended_text": duration_text(t["extended_minutes"], en, day=HOURS_ONLY)
                      if t["extended_minutes"] else "",
                      "suspended_text": duration_text(t["suspended_minutes"], en, day=HOURS_ONLY)
                      if t["suspended_minutes"] else "",
                      "status_label": _label(TASK_STATUS_LABELS.get(t["status"], (t["status"],) * 2), en),
                      **{k: _instant(t[k]) for k in ("dispatched_at", "due_at", "signed_at", "feedback_at",
                                                      "handled_at")}})
    photos = {"before": [], "after": [], "other": []}
    for a in detail["attachments"]:
        key = {"report": "before", "handle": "after", "check": "after"}.get(a["stage"], "other")
        photos[key].append(a)
    context = {
        "case": case,
        "d": detail,
        "state_label": _label(workflow.STATE_LABELS[case.state], en),
        "source_label": _label(SOURCE_LABELS.get(case.source, (case.source,) * 2), en),
        "urgency_label": _label(URGENCY_LABELS.get(case.urgency, (case.urgency,) * 2), en),
        "regions": [regions.get(c, "") for c in (case.district_code, case.street_code, case.community_code)],
        "running": running,
        "running_left": left_text(running["minutes_left"], en, day=day(running),
                                  overdue=running["light"] == clocks.RED) if running else "",
        "paused_left": left_text(paused["minutes_left"], en, day=day(paused)) if paused else "",
        "running_stage": _label(STAGE_LABELS[running["stage"]], en) if running else "",
        "running_due": _instant(running["due_at"]) if running else None,
        "paused": paused,
        "paused_stage": _label(STAGE_LABELS[paused["stage"]], en) if paused else "",
        "clock_rows": clock_rows,
        "tasks": tasks,
        "pending": pending,
        "timeline": _timeline(detail, names, departments, en,
                              reporter=detail["reporter"]["name"] or ("citizen" if en else "市民")),
        "photos": photos,
        "reporter_name": detail["reporter"]["name"] or names.get(detail["reporter"]["username"])
        or detail["reporter"]["username"] or "",
        "map_data": {
            "lon": case.lon, "lat": case.lat,
            "grid": case.grid.geometry if case.grid_id else None,
            "number": case.number,
        },
        "open": case.state in workflow.OPEN_STATES,
    }
    if with_actions:
        ops = allowed_operations(request.user, case)
        duplicates = queries.nearby_open_cases(case) if context["open"] else []
        for other in duplicates:
            other.state_label = _label(workflow.STATE_LABELS[other.state], en)
        forms = operation_forms(ops, en, pending=pending)
        context.update(
            ops=ops,
            main_forms=[f for f in forms if f.main and f.name != "dispatch"],
            more_forms=[f for f in forms if not f.main and f.name != "dispatch"],
            duplicates=duplicates,
            dup_points=[{"number": o.number, "lon": o.lon, "lat": o.lat} for o in duplicates],
            can_merge="merge" in ops,
            next_url=request.path,
        )
        if "dispatch" in ops:
            context["dispatch_departments"] = _departments(request.user)
            context["suggested"] = case.suggested_department
        if "request_check" in ops:
            context["inspectors"] = list(User.objects.filter(role="inspector", is_active=True, city_id=case.city_id)
                                         .order_by("username").only("username", "display_name"))
        if "amend" in ops:
            context["classes"] = _classes()
            context["urgencies"] = [(k, _label(v, en)) for k, v in URGENCY_LABELS.items()]
    return context


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)


@require_GET
@role_required(*READERS)
def case_page(request, number: str):
    case = case_for(request.user, number)
    return render(request, "cases/center/case.html", case_context(request, case, with_actions=True))


@require_GET
@role_required(*READERS)
def case_print(request, number: str):
    case = case_for(request.user, number)
    context = case_context(request, case, with_actions=False)
    context["printed_at"] = timezone.now()
    context["printed_by"] = str(request.user)
    return render(request, "cases/center/print.html", context)


urlpatterns = [
    path("", board, name="center-board"),
    path("export.xlsx", export, name="center-export"),
    path("cases/<str:number>/", case_page, name="center-case"),
    path("cases/<str:number>/print/", case_print, name="center-case-print"),
]
