"""The department inbox (专业部门待办): the department's tasks by deadline, the task page, the month's figures.

A department user sees the tasks dispatched to their own department only. Every button on the
task page is one that `allowed_operations` grants, and every form posts to the shared
`/cases/<number>/act/<operation>` view, so the page and the API apply the same services.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, Sum
from django.http import QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chengguan.cases import clocks, queries, workflow
from chengguan.cases.models import Attachment, Case, Event, Source, StageClock, Task, TaskRequest
from chengguan.cases.permissions import allowed_operations
from chengguan.catalog.models import Urgency
from chengguan.org.models import Department
from chengguan.web.exports import xlsx_response
from chengguan.web.roles import role_required
from chengguan.worktime.services import working_clock

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 20_000
SEARCH_MAX = 100

# Tabs: (key, 中文, English). "open" is every task still on the department's desk.
TABS = [
    ("open", "全部在办", "All open"),
    ("dispatched", "待签收", "To sign"),
    ("handling", "处置中", "Handling"),
    ("awaiting", "待核查", "Awaiting check"),
    ("suspended", "挂账", "Suspended"),
    ("done", "已办结", "Done"),
]
TAB_KEYS = [key for key, _, _ in TABS]
OPEN, AWAITING, DONE = Task.Status.OPEN, Task.Status.AWAITING_CHECK, Task.Status.DONE
TAB_FILTERS = {
    "open": Q(status__in=[OPEN, AWAITING]),
    "dispatched": Q(status=OPEN, case__state=workflow.DISPATCHED),
    "handling": Q(status=OPEN, case__state=workflow.HANDLING),
    "awaiting": Q(status=AWAITING),
    "suspended": Q(status=OPEN, case__state=workflow.SUSPENDED),
    "done": Q(status=DONE),
}
LIGHTS = [("red", "红灯", "Overdue"), ("yellow", "黄灯", "Near the limit"), ("green", "绿灯", "In time")]

# Extension choices offered to a department: whole hours and whole days of the limit's own time.
EXTENSION_HOURS = (2, 4)
EXTENSION_DAYS = (1, 2, 3, 5, 10)


def _english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def duration(minutes: int | None, *, en: bool = False) -> str:
    """450 → 7小时30分 / 7 h 30 min (sign dropped: the page says whether it is left or over)."""
    if minutes is None:
        return ""
    hours, mins = divmod(abs(int(minutes)), 60)
    if en:
        return f"{hours} h {mins:02d} min" if hours else f"{mins} min"
    return f"{hours}小时{mins:02d}分" if hours else f"{mins}分"


def amount(minutes: int | None, working: bool, day: int, *, en: bool = False) -> str:
    """An amount of time as a person asks for it: 2 个工作日, 4 个工作小时, else hours and minutes."""
    if not minutes:
        return ""
    day = day if working else 24 * 60
    unit_zh, unit_en = ("个工作", "working ") if working else ("", "")
    if minutes % day == 0:
        n = minutes // day
        return f"{n} {unit_en}day{'s' if n > 1 else ''}" if en else f"{n} {unit_zh}日" if working else f"{n} 天"
    if minutes % 60 == 0:
        n = minutes // 60
        return f"{n} {unit_en}hour{'s' if n > 1 else ''}" if en else f"{n} {unit_zh}小时" if working else f"{n} 小时"
    return duration(minutes, en=en)


def percent(rate: float | None) -> str:
    """A rate as 87.5%, or — when its denominator is 0 (not applicable)."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


# ---------------------------------------------------------------------------------------------
# the list


def department_tasks(user):
    """The tasks dispatched to the user's department (in the user's city)."""
    if not user.department_id:
        return Task.objects.none()
    qs = Task.objects.filter(department_id=user.department_id)
    if user.city_id:
        qs = qs.filter(case__city_id=user.city_id)
    return qs


def search(qs, term: str):
    """Case number (exact), address or description (contains)."""
    term = term.strip()[:SEARCH_MAX]
    if not term:
        return qs
    return qs.filter(Q(case__number=term) | Q(case__address__icontains=term) | Q(case__description__icontains=term))


def light_filter(light: str, now: datetime) -> Q:
    """Tasks whose handling clock runs now and shows `light` (the case's running-clock columns)."""
    running = Q(status=OPEN, case__stage=workflow.HANDLE)
    if light == "red":
        return running & Q(case__stage_due_at__lt=now)
    if light == "yellow":
        return running & Q(case__stage_due_at__gte=now, case__stage_yellow_at__lt=now)
    return running & Q(case__stage_yellow_at__gte=now)


def counts(qs, now: datetime) -> dict:
    """Tasks per tab and running tasks per light, in one query."""
    found = qs.aggregate(
        **{f"tab_{key}": Count("id", filter=TAB_FILTERS[key]) for key in TAB_KEYS},
        **{f"light_{key}": Count("id", filter=light_filter(key, now)) for key, _, _ in LIGHTS},
    )
    return {
        "tabs": {key: found[f"tab_{key}"] for key in TAB_KEYS},
        "lights": {key: found[f"light_{key}"] for key, _, _ in LIGHTS},
    }


def _encode(at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        at, pk = raw.split("|")
        when = parse_datetime(at)
        return (when, int(pk)) if when is not None else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def ordered(qs, tab: str):
    """Open tabs: soonest (or most overdue) deadline first. Done: latest finished first."""
    if tab == "done":
        return qs.order_by("-handled_at", "-id")
    return qs.order_by("due_at", "id")


def after_cursor(qs, tab: str, cursor: str | None):
    found = _decode(cursor) if cursor else None
    if found is None:
        return qs
    at, pk = found
    if tab == "done":
        return qs.filter(Q(handled_at__lt=at) | Q(handled_at=at, id__lt=pk))
    return qs.filter(Q(due_at__gt=at) | Q(due_at=at, id__gt=pk))


def with_rows(qs):
    """What a row shows, fetched with the rows: the case, its class, the handling clock, pending requests."""
    return qs.select_related("case", "case__small_class", "case__city__calendar").prefetch_related(
        Prefetch("clocks", queryset=StageClock.objects.filter(stage=workflow.HANDLE).order_by("-id"),
                 to_attr="handle_clocks"),
        Prefetch("requests", queryset=TaskRequest.objects.filter(approved__isnull=True).order_by("id"),
                 to_attr="pending"),
    )


@dataclass
class Row:
    task: Task
    case: Case
    light: str | None
    minutes_left: int | None
    paused: bool
    due_at: datetime
    pending: list
    left_text: str = ""

    @property
    def overdue(self) -> bool:
        return self.minutes_left is not None and self.minutes_left < 0


def row(task: Task, now: datetime, *, en: bool = False) -> Row:
    case = task.case
    clock = task.handle_clocks[0] if getattr(task, "handle_clocks", None) else None
    light = left = None
    paused = False
    if clock is not None and clock.ended_at is None:
        at = clock.paused_at or now
        paused = clock.paused_at is not None
        light = clocks.light(at, clock.yellow_at, clock.due_at)
        left = clocks.minutes_left(working_clock(case.city.calendar), at, clock.due_at, working=clock.working_time)
    return Row(task=task, case=case, light=light, minutes_left=left, paused=paused, due_at=task.due_at,
               pending=getattr(task, "pending", []), left_text=duration(left, en=en))


@dataclass
class ListQuery:
    tab: str = "open"
    q: str = ""
    light: str = ""
    cursor: str = ""
    size: int = PAGE_SIZE

    @classmethod
    def parse(cls, params) -> ListQuery:
        tab = params.get("tab", "open")
        light = params.get("light", "")
        try:
            size = int(params.get("size", PAGE_SIZE))
        except ValueError:
            size = PAGE_SIZE
        return cls(
            tab=tab if tab in TAB_FILTERS else "open",
            q=params.get("q", "").strip()[:SEARCH_MAX],
            light=light if light in {"red", "yellow", "green"} else "",
            cursor=params.get("after", ""),
            size=min(MAX_PAGE_SIZE, max(1, size)),
        )

    def url(self, **changes) -> str:
        values = {"tab": self.tab, "q": self.q, "light": self.light,
                  "size": self.size if self.size != PAGE_SIZE else "", **changes}
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value not in ("", None) and not (key == "tab" and value == "open"):
                query[key] = value
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"

    def filtered(self, qs, now: datetime):
        qs = search(qs, self.q).filter(TAB_FILTERS[self.tab])
        if self.light:
            qs = qs.filter(light_filter(self.light, now))
        return qs


# ---------------------------------------------------------------------------------------------
# the month's figures


@dataclass(frozen=True)
class Month:
    start: datetime  # aware, local midnight of the 1st
    end: datetime  # the next month's start

    @property
    def key(self) -> str:
        return f"{self.start:%Y-%m}"

    @classmethod
    def of(cls, value: str | None, now: datetime) -> Month:
        """The month `YYYY-MM` (or the current one) as a half-open interval in the city's zone."""
        local = timezone.localtime(now)
        year, month = local.year, local.month
        if value:
            try:
                y, m = (int(part) for part in value.split("-"))
                if 2000 <= y <= 2100 and 1 <= m <= 12:
                    year, month = y, m
            except ValueError:
                pass
        zone = timezone.get_current_timezone()
        start = datetime(year, month, 1, tzinfo=zone)
        nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        return cls(start, nxt)

    def previous(self) -> str:
        return f"{self.start - timedelta(days=1):%Y-%m}"

    def following(self) -> str:
        return f"{self.end:%Y-%m}"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def department_figures(department_id: int, month: Month, *, now: datetime) -> dict:
    """The department's figures for tasks dispatched to it in `month`, as of `now`, in one query.

    Counting follows the evaluation rules: tasks returned with approval, appealed tasks and tasks
    of cancelled cases are not due; tasks suspended now are shown apart and not due either.
    """
    base = Task.objects.filter(department_id=department_id, dispatched_at__gte=month.start,
                               dispatched_at__lt=month.end)
    counted = Q(returned=False, appealed=False) & ~Q(status=Task.Status.CANCELLED)
    due = counted & Q(suspended_at__isnull=True)
    done = due & Q(status=DONE)
    # Aliases carry a prefix: an aggregate may not share a name with a field (returned, reworks).
    totals = base.aggregate(
        n_received=Count("id"),
        n_returned=Count("id", filter=Q(returned=True)),
        n_suspended=Count("id", filter=counted & Q(suspended_at__isnull=False)),
        n_due=Count("id", filter=due),
        n_done=Count("id", filter=done),
        n_done_on_time=Count("id", filter=done & Q(on_time=True)),
        n_overdue_open=Count("id", filter=due & Q(status=OPEN, due_at__lt=now)),
        n_reworked=Count("id", filter=done & Q(reworks__gt=0)),
        n_reworks=Sum("reworks", filter=done),
        n_extended=Count("id", filter=due & Q(extended_minutes__gt=0)),
    )
    found = {key[2:]: value for key, value in totals.items()}
    found["reworks"] = found["reworks"] or 0
    found.update(
        done_rate=_rate(found["done"], found["due"]),
        on_time_rate=_rate(found["done_on_time"], found["due"]),
        rework_rate=_rate(found["reworked"], found["done"]),
        overdue_rate=_rate(found["overdue_open"], found["due"]),
        extension_rate=_rate(found["extended"], found["due"]),
    )
    return found


# ---------------------------------------------------------------------------------------------
# reminders and citizens' follow-ups


NOTICE_DAYS = 7
NOTICE_LIMIT = 8
NOTICE_SCAN = 200


def notices(user, now: datetime) -> dict:
    """The last week's reminders (催办) and reporters' follow-ups on the department's open cases, in one query."""
    if not user.department_id:
        return {"reminders": 0, "follow_ups": 0, "items": []}
    wanted = Q(operation="remind") | Q(operation="follow_up", actor_role=workflow.CITIZEN)
    found = [
        e for e in Event.objects.filter(wanted, case__department_id=user.department_id, case__is_open=True,
                                        at__gte=now - timedelta(days=NOTICE_DAYS))
        .select_related("case__department").order_by("-at", "-id")[:NOTICE_SCAN]
        # a reminder written before a return belongs to the department it was written for
        if e.operation != "remind" or e.data.get("department") == e.case.department.code
    ]
    return {
        "reminders": sum(e.operation == "remind" for e in found),
        "follow_ups": sum(e.operation == "follow_up" for e in found),
        "items": found[:NOTICE_LIMIT],
    }


# ---------------------------------------------------------------------------------------------
# pages


@role_required("department")
def inbox(request):
    now = timezone.now()
    user = request.user
    query = ListQuery.parse(request.GET)
    tasks = department_tasks(user)
    tally = counts(search(tasks, query.q), now)
    page_qs = after_cursor(ordered(with_rows(query.filtered(tasks, now)), query.tab), query.tab, query.cursor)
    found = list(page_qs[: query.size + 1])
    more = len(found) > query.size
    found = found[: query.size]
    rows = [row(task, now, en=_english(request)) for task in found]
    next_url = None
    if more and found:
        last = found[-1]
        key = last.handled_at if query.tab == "done" else last.due_at
        next_url = query.url(after=_encode(key, last.pk))
    context = {
        "query": query,
        "rows": rows,
        "tally": tally,
        "tabs": [(key, zh, en, tally["tabs"][key], query.url(tab=key, light="")) for key, zh, en in TABS],
        "lights": [(key, zh, en, tally["lights"][key],
                    query.url(tab=query.tab if query.tab != "done" else "open", light="" if query.light == key
                              else key))
                   for key, zh, en in LIGHTS],
        "clear_url": query.url(light=""),
        "next_url": next_url,
        "first_url": query.url() if query.cursor else None,
        "export_url": "export" + query.url(),
        "refresh_url": request.get_full_path(),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "inbox-list":
        return render(request, "cases/inbox/_list.html", context)
    month = Month.of(request.GET.get("month"), now)
    department = Department.objects.filter(pk=user.department_id).first()
    context.update(
        notices=notices(user, now),
        department=department,
        month=month,
        this_month=month.key == Month.of(None, now).key,
        figures=department_figures(user.department_id, month, now=now) if department else None,
    )
    if context["figures"]:
        figures = context["figures"]
        for key in ("done_rate", "on_time_rate", "rework_rate", "overdue_rate", "extension_rate"):
            figures[f"{key}_text"] = percent(figures[key])
    return render(request, "cases/inbox/inbox.html", context)


EXPORT_HEADERS = [
    ("案件号", "Case"), ("状态", "State"), ("小类", "Class"), ("地址", "Address"), ("描述", "Description"),
    ("派遣时间", "Dispatched"), ("处置时限", "Deadline"), ("灯", "Light"), ("剩余时间（分钟）", "Minutes left"),
    ("签收时间", "Signed"), ("反馈时间", "Feedback"), ("按期", "On time"), ("返工次数", "Reworks"),
    ("延期（分钟）", "Extended (min)"), ("待审批申请", "Pending requests"),
]
LIGHT_WORDS = {"green": ("绿灯", "green"), "yellow": ("黄灯", "yellow"), "red": ("红灯", "red")}


@role_required("department")
def export(request):
    now = timezone.now()
    query = ListQuery.parse(request.GET)
    en = _english(request)
    qs = ordered(with_rows(query.filtered(department_tasks(request.user), now)), query.tab)
    pick = 1 if en else 0

    def lines():
        for task in qs[:EXPORT_LIMIT].iterator(chunk_size=1000):
            r = row(task, now)
            case = r.case
            yield [
                case.number,
                workflow.STATE_LABELS[case.state][pick],
                case.small_class.name_en if en and case.small_class.name_en else case.small_class.name,
                case.address,
                case.description,
                task.dispatched_at,
                task.due_at,
                LIGHT_WORDS[r.light][pick] if r.light else "",
                r.minutes_left,
                task.signed_at,
                task.feedback_at,
                {True: "yes" if en else "是", False: "no" if en else "否"}.get(task.on_time, ""),
                task.reworks,
                task.extended_minutes,
                "、".join(TaskRequest.Kind(p.kind).label if not en else p.kind for p in r.pending),
            ]

    tab = next(t for t in TABS if t[0] == query.tab)
    title = f"{tab[2]} tasks" if en else f"{tab[1]}任务"
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return xlsx_response(f"{'inbox' if en else '待办任务'}-{stamp}.xlsx", title,
                         [h[pick] for h in EXPORT_HEADERS], lines())


# ---------------------------------------------------------------------------------------------
# the task page


def working_day_minutes(cal) -> int:
    """Minutes in one of the calendar's working days (450 with the default hours)."""
    total = 0
    for start, end in cal.table.periods:
        a = start.hour * 60 + start.minute
        b = (end.hour * 60 + end.minute) or 24 * 60
        total += b - a
    return total


def _extension_choices(cal, task: Task, clock: StageClock | None, *, en: bool) -> list[tuple[int, str, datetime]]:
    """Whole working hours and days (natural ones for a natural-time limit), each with the deadline it would give."""
    working = task.working_time
    day = working_day_minutes(cal)
    due = clock.due_at if clock is not None and clock.ended_at is None else task.due_at
    amounts = [hours * 60 for hours in EXTENSION_HOURS] + [days * (day if working else 24 * 60)
                                                          for days in EXTENSION_DAYS]
    return [(minutes, amount(minutes, working, day, en=en), cal.add(due, minutes, working=working))
            for minutes in amounts]


EVENT_LABELS = {"report": ("上报", "report"), "remind": ("催办", "reminder"), "rate": ("市民评价", "rating")}
REMIND_WORDS = {"yellow": ("黄灯：时限将到", "yellow: deadline near"), "red": ("红灯：已超期", "red: overdue")}
REQUEST_STATES = {None: ("待审批", "pending"), True: ("已批准", "approved"), False: ("未批准", "refused")}


def _event_line(event: Event, departments: dict[str, str], en: bool, span) -> str:
    """A short reading of what an event's data says (department, minutes, result, decision)."""
    data = event.data or {}
    parts = []
    if event.operation == "dispatch" and data.get("department"):
        code = data["department"]
        parts.append(("→ " if en else "派往 ") + departments.get(code, code))
    if event.operation == "request_extension" and data.get("minutes"):
        parts.append(span(data["minutes"]) if en else f"申请 {span(data['minutes'])}")
    if event.operation.startswith("decide_"):
        if data.get("approve"):
            granted = data.get("granted_minutes")
            parts.append(("approved" if en else "批准") + (f" {span(granted)}" if granted else ""))
        else:
            parts.append("refused" if en else "不批准")
    if event.operation == "remind" and data.get("colour") in REMIND_WORDS:
        parts.append(REMIND_WORDS[data["colour"]][1 if en else 0])
    if event.operation == "check":
        parts.append(("fixed" if en else "通过") if event.to_state == workflow.CLOSABLE else
                     ("not fixed: rework" if en else "未通过，返工"))
    return " · ".join(parts)


def _role_name(role: str, en: bool) -> str:
    """Who acted when no staff account did: the reporter on the portal, or the system."""
    if role == workflow.CITIZEN:
        return "reporter (public)" if en else "反映人（市民）"
    return "system" if en else "系统"


@role_required("department")
def task_page(request, number: str):
    user = request.user
    now = timezone.now()
    case = (
        queries.visible_cases(user)
        .select_related("city__calendar", "small_class", "department", "grid")
        .filter(number=number)
        .first()
    )
    if case is None:
        return render(request, "cases/inbox/missing.html", {"number": number}, status=404)
    en = _english(request)
    cal = working_clock(case.city.calendar)
    own = list(
        case.tasks.filter(department_id=user.department_id)
        .select_related("department")
        .prefetch_related(Prefetch("requests", queryset=TaskRequest.objects.select_related("requested_by",
                                                                                            "decided_by")))
        .order_by("seq")
    )
    current = next((t for t in reversed(own) if t.status in {OPEN, AWAITING}), own[-1] if own else None)
    clock = None
    if current is not None:
        clock = current.clocks.filter(stage=workflow.HANDLE).order_by("-id").first()
    light = minutes_left = None
    paused = False
    if clock is not None and clock.ended_at is None:
        at = clock.paused_at or now
        paused = clock.paused_at is not None
        light = clocks.light(at, clock.yellow_at, clock.due_at)
        minutes_left = clocks.minutes_left(cal, at, clock.due_at, working=clock.working_time)
    events = list(case.events.select_related("actor").order_by("at", "id"))
    photos = list(case.attachments.order_by("id"))
    codes = {e.data.get("department") for e in events if e.operation == "dispatch" and e.data}
    departments = {
        code: (name_en if en and name_en else name)
        for code, name, name_en in Department.objects.filter(code__in=codes - {None}).values_list("code", "name",
                                                                                                   "name_en")
    } if codes else {}
    day = working_day_minutes(cal)
    working = current.working_time if current is not None else True

    def span(minutes):
        return amount(minutes, working, day, en=en)

    history = []
    for e in events:
        if e.operation in workflow.TABLE:
            zh, label_en = workflow.TABLE[e.operation].label_zh, workflow.TABLE[e.operation].label_en
        else:
            zh, label_en = EVENT_LABELS.get(e.operation, (e.operation, e.operation))
        history.append({
            "event": e,
            "label": label_en if en else zh,
            "detail": _event_line(e, departments, en, span),
            "actor": (e.actor.display_name or e.actor.username) if e.actor_id else _role_name(e.actor_role, en),
            "photos": [p for p in photos if p.event_id == e.pk],
        })
    dispatch_note = check_note = ""
    if current is not None:
        for e in events:
            if e.operation == "dispatch" and e.data.get("task") == current.seq:
                dispatch_note = e.note
            if e.operation == "check" and e.to_state == workflow.DISPATCHED and e.data.get("task") == current.seq:
                check_note = e.note
    allowed = allowed_operations(user, case)
    kinds = {"extension": ("延期", "extension"), "return": ("回退", "return"), "suspend": ("挂账", "suspension")}
    requests = [
        {"request": r, "task": t, "state": REQUEST_STATES[r.approved][1 if en else 0], "approved": r.approved,
         "kind": kinds[r.kind][1 if en else 0], "minutes": amount(r.minutes, t.working_time, day, en=en),
         "granted": amount(r.granted_minutes, t.working_time, day, en=en)}
        for t in own for r in t.requests.all()
    ]
    requests.sort(key=lambda item: item["request"].requested_at, reverse=True)
    context = {
        "case": case,
        "state_label": workflow.STATE_LABELS[case.state][1 if en else 0],
        "source_label": case.source if en else Source(case.source).label,
        "urgent": case.urgency == Urgency.URGENT,
        "class_name": case.small_class.name_en if en and case.small_class.name_en else case.small_class.name,
        "task": current,
        "clock": clock,
        "light": light,
        "minutes_left": minutes_left,
        "left_text": duration(minutes_left, en=en),
        "paused": paused,
        "dispatch_note": dispatch_note,
        "check_note": check_note,
        "reworked": current is not None and current.reworks > 0 and current.status == OPEN,
        "allowed": allowed,
        "extension_choices": _extension_choices(cal, current, clock, en=en)
        if current is not None and "request_extension" in allowed else [],
        "report_photos": [p for p in photos if p.stage == Attachment.Stage.REPORT],
        "handle_photos": [p for p in photos if p.stage == Attachment.Stage.HANDLE],
        "other_photos": [p for p in photos if p.stage not in {Attachment.Stage.REPORT, Attachment.Stage.HANDLE}],
        "history": history,
        "requests": requests,
        "next": request.path,
    }
    return render(request, "cases/inbox/task.html", context)


urlpatterns = [
    path("", inbox, name="inbox"),
    path("export", export, name="inbox-export"),
    path("cases/<str:number>/", task_page, name="inbox-task"),
]
