"""The use cases of the loop: the only code that changes a case.

`report_case` creates one; `apply_operation` applies any operation of the workflow table in one
transaction — decide on the pure table, move the clocks, update the case row on its version
(zero rows updated: someone acted first → 409), append one event. Each operation also has its
own `<verb>_case` function so that `grep dispatch` finds it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chengguan.cases import clocks, workflow
from chengguan.cases.models import (
    Attachment,
    Case,
    CaseNumberCounter,
    Event,
    Source,
    StageClock,
    Task,
    TaskRequest,
)
from chengguan.cases.permissions import check_scope, roles_for
from chengguan.cases.signals import case_changed
from chengguan.catalog.models import SmallClass, Urgency
from chengguan.catalog.services import handling_limit, stage_limit, suggest_department
from chengguan.errors import Conflict, Forbidden, Invalid, NotFound
from chengguan.geo.models import City, Grid
from chengguan.geo.services import locate_codes
from chengguan.org.models import Department, User
from chengguan.ttl import TTLMemo
from chengguan.worktime.services import working_clock

STAFF_SOURCES = {"inspector": Source.INSPECTOR, "volunteer": Source.VOLUNTEER}
CALL_TAKER_SOURCES = {Source.HOTLINE, Source.MEDIA, Source.LEADER}
TEXT_LIMITS = {
    "description": 2000, "address": 200, "note": 2000, "reason": 500, "result": 2000, "comment": 500, "refer_to": 200,
}
LANGUAGES = ("zh-hans", "en")


# ---------------------------------------------------------------------------------------------
# helpers


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _text(fields: dict, name: str, *, required: bool = False) -> str:
    value = fields.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"字段 {name} 应为文字", f"Field '{name}' must be text", field=name)
    value = value.strip()
    if required and not value:
        raise Invalid(f"缺少必填字段：{name}", f"Field '{name}' is required", field=name)
    limit = TEXT_LIMITS.get(name, 2000)
    if len(value) > limit:
        raise Invalid(f"字段 {name} 过长（最多 {limit} 字）", f"Field '{name}' is too long (max {limit})", field=name)
    return value


# Classes change rarely and by hand; an edit reaches every process within 30 seconds.
_CLASSES: TTLMemo[SmallClass | None] = TTLMemo(seconds=30.0)
# The light threshold of the evaluation configuration: a change reaches other processes within 30 s.
GREEN_SHARE_MEMO: TTLMemo[float] = TTLMemo(seconds=30.0)


def green_share() -> float:
    """The share of a stage's limit that stays green (evaluation configuration; default 0.8)."""
    from chengguan.evaluation.models import EvaluationConfig

    def read() -> float:
        latest = EvaluationConfig.objects.order_by("-version").values_list("yellow_fraction", flat=True).first()
        return latest if latest is not None else clocks.YELLOW_FRACTION

    return GREEN_SHARE_MEMO.get("current", read)


def _small_class(code: str) -> SmallClass:
    if not isinstance(code, str) or not code:
        raise Invalid("小类代码应为文字，例如 E0102", "Field 'class_code' must be a code such as E0102",
                      field="class_code")
    found = _CLASSES.get(code, lambda: SmallClass.objects.filter(code=code, active=True).first())
    if found is None:
        _CLASSES.forget(code)
        raise Invalid(f"未知的小类代码：{code}", f"Unknown class code '{code}'", field="class_code")
    return found


def _urgency(value: str | None) -> str:
    value = value or Urgency.NORMAL
    if value not in Urgency.values:
        raise Invalid("紧急程度应为 normal 或 urgent", "Field 'urgency' must be normal or urgent", field="urgency")
    return value


def _calendar(city: City):
    return working_clock(city.calendar)


def next_number(city: City, now: datetime) -> str:
    """Case numbers people can read aloud: local date + 5-digit sequence of the day.

    One `UPDATE … RETURNING` hands out the next number; the row lock it takes serialises
    concurrent reports on PostgreSQL, and SQLite's immediate transactions do the same.
    """
    day = now.astimezone(ZoneInfo(city.timezone)).date()
    table = CaseNumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last", [day])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=1)
            last = 1
        except IntegrityError:  # created by a concurrent request: take the next one
            return next_number(city, now)
    else:
        last = row[0]
    return f"{day:%Y%m%d}{last:05d}"


_STAGE_LIMITS: dict[tuple[int, str], tuple[float, tuple[int, bool]]] = {}
STAGE_LIMIT_TTL = 30.0  # seconds an admin's change of a stage limit may take to reach every process


def _stage_limit(city: City, stage: str) -> tuple[int, bool]:
    key = (city.pk, stage)
    cached = _STAGE_LIMITS.get(key)
    if cached is not None and time.monotonic() - cached[0] < STAGE_LIMIT_TTL:
        return cached[1]
    value = stage_limit(city, stage)
    _STAGE_LIMITS[key] = (time.monotonic(), value)
    return value


def grid_inspector(grid_id: int | None) -> User | None:
    """The inspector who patrols this unit grid (the first of its duty grid's inspectors)."""
    if grid_id is None:
        return None
    return (
        User.objects.filter(duty_grids__grids=grid_id, role="inspector", is_active=True).order_by("id").first()
    )


@dataclass
class Placement:
    lon: float  # WGS84
    lat: float
    grid_id: int
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    area_class: str

    def columns(self) -> dict:
        """The case's location columns."""
        return {"lon": self.lon, "lat": self.lat, "grid_id": self.grid_id, "grid_code": self.grid_code,
                "community_code": self.community_code, "street_code": self.street_code,
                "district_code": self.district_code, "area_class": self.area_class}


def _place(city: City, *, lon, lat, crs: str, grid_code: str | None, address: str) -> Placement:
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            missing = "lat" if lat is None else "lon"
            raise Invalid(f"缺少必填字段：{missing}", f"Field '{missing}' is required", field=missing)
        p = locate_codes(city, lon, lat, crs=crs or "wgs84")
        return Placement(p.lon, p.lat, p.grid_id, p.grid_code, p.community_code, p.street_code, p.district_code,
                         p.area_class)
    if grid_code:
        grid = Grid.objects.filter(city=city, code=grid_code).select_related("community").first()
        if grid is None:
            raise Invalid(f"未知的网格编码：{grid_code}", f"Unknown grid code '{grid_code}'", field="grid_code")
        if not address:
            raise Invalid(
                "按网格登记时须填写地址", "Field 'address' is required when locating by grid", field="address"
            )
        return Placement(grid.center_lon, grid.center_lat, grid.pk, grid.code, grid.community.code,
                         grid.street_code, grid.district_code, grid.area_class)
    raise Invalid("须提供经纬度（lon、lat）或网格编码（grid_code）", "Give lon and lat, or grid_code", field="lon")


def _default_city(actor: User | None) -> City:
    if actor is not None and actor.city_id:
        return actor.city
    cities = list(City.objects.all()[:2])
    if len(cities) == 1:
        return cities[0]
    raise Invalid("请指定城市", "Field 'city' is required", field="city")


# ---------------------------------------------------------------------------------------------
# report


@transaction.atomic
def report_case(
    *,
    actor: User | None,
    class_code: str,
    city: City | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    grid_code: str | None = None,
    address: str = "",
    description: str = "",
    urgency: str | None = None,
    component_code: str = "",
    self_handled: bool = False,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    reporter_language: str = "",
    client_uuid: uuid.UUID | str | None = None,
    source: str | None = None,
    attachments: list[int] | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """Take a new report; return (case, created). A repeated `client_uuid` returns the first case.

    `reporter_email` is not kept on the case: it reaches the `case_changed` receivers (the
    notification contacts) with the report, as `case.reporter_email`. `reporter_language`
    (zh-hans or en) is the language the reporter wants to be told in; the report event keeps it.
    """
    now = _now(now)
    if client_uuid:
        try:
            client_uuid = uuid.UUID(str(client_uuid))
        except ValueError:
            raise Invalid(
                "client_uuid 不是有效的 UUID", "Field 'client_uuid' is not a UUID", field="client_uuid"
            ) from None
        existing = Case.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            if actor is not None and existing.reporter_id not in (None, actor.pk):
                raise Conflict("client_uuid 已被使用", "client_uuid is already used", field="client_uuid")
            return existing, False
    source = _source_for(actor, source)
    city = city or _default_city(actor)
    small = _small_class(class_code)
    fields = {"address": address, "description": description}
    address = _text(fields, "address")
    description = _text(fields, "description")
    place = _place(city, lon=lon, lat=lat, crs=crs, grid_code=grid_code, address=address)
    if self_handled and source not in {Source.INSPECTOR, Source.VOLUNTEER}:
        raise Invalid("只有监督员上报可标记为自处理", "Only field reports can be self-handled", field="self_handled")
    if component_code and small.kind != "component":
        raise Invalid("事件类案件不能关联部件编码", "An event case cannot name a component", field="component_code")
    state, first_stage = workflow.initial_state(source)
    cal = _calendar(city)
    minutes, working = _stage_limit(city, first_stage)
    mark = clocks.marks(cal, now, minutes, working=working, fraction=green_share())
    case = Case(
        number=next_number(city, now),
        city=city,
        state=state,
        source=source,
        small_class=small,
        class_code=small.code,
        urgency=_urgency(urgency),
        **place.columns(),
        address=address,
        description=description,
        component_code=(component_code or "").strip()[:20],
        self_handled=bool(self_handled),
        reporter=actor,
        reporter_name=(reporter_name or "").strip()[:80],
        reporter_phone=(reporter_phone or "").strip()[:32],
        client_uuid=client_uuid or None,
        reported_at=now,
        stage=first_stage,
        stage_due_at=mark.due_at,
        stage_yellow_at=mark.yellow_at,
        calendar_warning=cal.warning(now, mark.due_at) if working else "",
    )
    if client_uuid:
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError:  # the same phone sent it twice at once
            return Case.objects.get(client_uuid=client_uuid), False
    else:
        case.save(force_insert=True)
    assignee = grid_inspector(place.grid_id) if first_stage == workflow.VERIFY else None
    clock = StageClock.objects.create(
        case=case, stage=first_stage, assignee=assignee, started_at=now, limit_minutes=minutes,
        working_time=working, due_at=mark.due_at, yellow_at=mark.yellow_at,
    )
    data = {"source": source, "stage": first_stage}
    if reporter_language in LANGUAGES and reporter_language != LANGUAGES[0]:
        data["language"] = reporter_language
    event = Event.objects.create(
        case=case, operation="report", from_state="", to_state=state, actor=actor,
        actor_role=actor.role if actor else source, at=now, due_at=clock.due_at, data=data,
    )
    _link_attachments(case, event, attachments or [])
    case.reporter_email = (reporter_email or "").strip()[:254]
    # What the answer needs, already in hand: no second read of what was just written.
    case.fresh = {"clocks": [clock], "events": [event], "tasks": [], "attachments": []}
    case_changed.send(sender=Case, case=case, event=event)
    return case, True


def _source_for(actor: User | None, requested: str | None) -> str:
    if actor is None:
        if requested in (Source.PUBLIC, Source.OPEN311):
            return requested
        return Source.PUBLIC
    if actor.role in STAFF_SOURCES:
        if requested and requested != STAFF_SOURCES[actor.role]:
            raise Forbidden("不能指定该来源", f"Your role cannot report with source '{requested}'", field="source")
        return STAFF_SOURCES[actor.role]
    if actor.role in {"operator", "shiftlead"}:
        if requested in CALL_TAKER_SOURCES:
            return requested
        if requested:
            raise Invalid(
                "来源应为 hotline、media 或 leader", "Field 'source' must be hotline, media or leader", field="source"
            )
        return Source.HOTLINE
    if actor.role == "leader":
        return Source.LEADER
    raise Forbidden("当前角色不能上报案件", "Your role cannot report cases", field="source")


# ---------------------------------------------------------------------------------------------
# clocks


def _start_clock(
    case: Case,
    cal,
    stage: str,
    now: datetime,
    *,
    task: Task | None = None,
    assignee: User | None = None,
    limit: tuple[int, bool] | None = None,
) -> StageClock:
    minutes, working = limit or _stage_limit(case.city, stage)
    mark = clocks.marks(cal, now, minutes, working=working, fraction=green_share())
    warning = cal.warning(now, mark.due_at) if working else ""
    if warning:
        case.calendar_warning = warning
    return StageClock.objects.create(
        case=case,
        task=task,
        stage=stage,
        assignee=assignee,
        started_at=now,
        limit_minutes=minutes,
        working_time=working,
        due_at=mark.due_at,
        yellow_at=mark.yellow_at,
    )


def _open_clock(case: Case, stage: str) -> StageClock | None:
    return case.clocks.filter(stage=stage, ended_at__isnull=True).order_by("-id").first()


@dataclass
class Step:
    """What one operation changes, gathered before the single conditional UPDATE."""

    case: Case
    actor: User | None
    now: datetime
    decision: workflow.Decision
    fields: dict
    cal: object
    updates: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    note: str = ""
    due_at: datetime | None = None
    was_late: bool | None = None
    attachments: list[int] = field(default_factory=list)
    after: list = field(default_factory=list)  # follow-up operations applied by the system

    def running(self, clock: StageClock | None) -> None:
        if clock is None or clock.paused_at is not None or clock.ended_at is not None:
            self.updates.update(stage="", stage_due_at=None, stage_yellow_at=None)
        else:
            self.updates.update(stage=clock.stage, stage_due_at=clock.due_at, stage_yellow_at=clock.yellow_at)
            self.due_at = clock.due_at


def _stop(step: Step, stage: str) -> StageClock | None:
    clock = _open_clock(step.case, stage)
    if clock is None:
        return None
    ended = clock.paused_at or step.now
    clock.ended_at = ended
    clock.on_time = clocks.on_time(ended, clock.due_at)
    clock.save(update_fields=["ended_at", "on_time"])
    if step.was_late is None:
        step.was_late = not clock.on_time
    if step.case.stage == stage:
        step.running(None)
    return clock


def _pause(step: Step, stage: str) -> StageClock | None:
    clock = _open_clock(step.case, stage)
    if clock is None or clock.paused_at is not None:
        return clock
    clock.paused_at = step.now
    clock.save(update_fields=["paused_at"])
    step.running(None)
    return clock


def _resume(step: Step, stage: str) -> tuple[StageClock | None, int]:
    """Run a paused clock again; its deadline moves by the time it stood still."""
    clock = _open_clock(step.case, stage)
    if clock is None or clock.paused_at is None:
        return clock, 0
    still = max(0, step.cal.elapsed(clock.paused_at, step.now, working=clock.working_time))
    mark = clocks.moved(
        step.cal, clock.started_at, clock.due_at, still, working=clock.working_time, fraction=green_share()
    )
    clock.due_at, clock.yellow_at, clock.paused_at = mark.due_at, mark.yellow_at, None
    clock.save(update_fields=["due_at", "yellow_at", "paused_at"])
    step.running(clock)
    return clock, still


def _start(step: Step, stage: str, **kwargs) -> StageClock:
    clock = _start_clock(step.case, step.cal, stage, step.now, **kwargs)
    if step.case.calendar_warning:
        step.updates["calendar_warning"] = step.case.calendar_warning
    step.running(clock)
    return clock


def _open_task(case: Case) -> Task | None:
    return case.tasks.filter(status__in=[Task.Status.OPEN, Task.Status.AWAITING_CHECK]).order_by("-seq").first()


def _require_task(case: Case) -> Task:
    task = _open_task(case)
    if task is None:
        raise Conflict("案件没有进行中的派遣任务", "The case has no open task", field="state", code="state_conflict")
    return task


def _pending_request(task: Task, kind: str) -> TaskRequest:
    found = task.requests.filter(kind=kind, approved__isnull=True).first()
    if found is None:
        raise Conflict(
            "没有待审批的申请", "There is no pending request to decide", field="approve", code="state_conflict"
        )
    return found


def _positive_minutes(fields: dict, name: str = "minutes", *, required: bool = True) -> int | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 525_600:
        raise Invalid(
            f"字段 {name} 应为正整数（分钟）", f"Field '{name}' must be a positive number of minutes", field=name
        )
    return value


# ---------------------------------------------------------------------------------------------
# operations: each fills a Step


def _on_verify(step: Step) -> None:
    _stop(step, workflow.VERIFY)
    step.updates["verified_at"] = step.now
    if step.decision.branch == "valid":
        _start(step, workflow.REGISTER)


def _on_amend(step: Step) -> None:
    case, f = step.case, step.fields
    changed = {}
    if f.get("class_code"):
        small = _small_class(f["class_code"])
        changed.update(small_class=small, class_code=small.code)
    if f.get("lon") is not None or f.get("lat") is not None:
        place = _place(
            case.city, lon=f.get("lon"), lat=f.get("lat"), crs=f.get("crs") or "wgs84", grid_code=None, address=""
        )
        changed.update(place.columns())
    if f.get("urgency"):
        changed["urgency"] = _urgency(f["urgency"])
    if "address" in f and f["address"] is not None:
        changed["address"] = _text(f, "address")
    if "description" in f and f["description"] is not None:
        changed["description"] = _text(f, "description")
    if not changed:
        raise Invalid(
            "没有要修改的字段", "Nothing to amend: give class_code, lon/lat, urgency or address", field="class_code"
        )
    step.data["changed"] = {
        k: (v.code if hasattr(v, "code") else v) for k, v in changed.items() if k not in {"small_class", "grid_id"}
    }
    step.updates.update(changed)
    for key, value in changed.items():
        setattr(case, key, value)
    if case.state == workflow.REGISTERED:
        step.updates["suggested_department"] = _suggest(case)


def _suggest(case: Case) -> Department | None:
    return suggest_department(
        case.small_class,
        community_code=case.community_code,
        street_code=case.street_code,
        district_code=case.district_code,
    )


def _on_register(step: Step) -> None:
    _stop(step, workflow.REGISTER)
    step.updates["registered_at"] = step.now
    step.updates["suggested_department"] = _suggest(step.case)
    _start(step, workflow.DISPATCH)


def _on_reject(step: Step) -> None:
    reason = _text(step.fields, "reason", required=True)
    step.updates["end_reason"] = reason
    step.note = step.note or reason
    # "Not ours": who it belongs to instead (another authority, a utility, a hotline), shown publicly.
    refer_to = _text(step.fields, "refer_to")
    if refer_to:
        step.data["refer_to"] = refer_to
    _stop(step, workflow.REGISTER)


def _department(case: Case, code: str | None) -> Department:
    if not code:
        suggested = case.suggested_department or _suggest(case)
        if suggested is None:
            raise Invalid("缺少必填字段：department", "Field 'department' is required", field="department")
        return suggested
    dept = Department.objects.filter(code=code, city=case.city, active=True).first()
    if dept is None:
        raise Invalid(f"未知的部门代码：{code}", f"Unknown department '{code}'", field="department")
    return dept


def _on_dispatch(step: Step) -> None:
    case = step.case
    dept = _department(case, step.fields.get("department"))
    minutes, working = handling_limit(
        case.small_class, urgency=case.urgency, area_class=case.area_class, filing_condition=case.filing_condition
    )
    deadline = step.fields.get("deadline")
    if deadline:
        try:
            when = parse_datetime(deadline) if isinstance(deadline, str) else None
        except ValueError:  # shaped like a date, but no such day or hour
            when = None
        if when is None or timezone.is_naive(when):
            raise Invalid(
                "deadline 应为带时区的 ISO 8601 时间",
                "Field 'deadline' must be an ISO 8601 instant with offset",
                field="deadline",
            )
        if when <= step.now:
            raise Invalid("deadline 必须晚于当前时间", "Field 'deadline' must be in the future", field="deadline")
        minutes = max(1, step.cal.elapsed(step.now, when, working=working))
    _stop(step, workflow.DISPATCH)
    seq = (case.tasks.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    mark = clocks.marks(step.cal, step.now, minutes, working=working, fraction=green_share())
    task = Task.objects.create(
        case=case,
        seq=seq,
        department=dept,
        dispatched_at=step.now,
        dispatched_by=step.actor,
        limit_minutes=minutes,
        working_time=working,
        due_at=mark.due_at,
    )
    _start(step, workflow.HANDLE, task=task, limit=(minutes, working))
    step.updates.update(department=dept, suggested_department=None)
    if case.dispatched_at is None:
        step.updates["dispatched_at"] = step.now
    step.data.update(department=dept.code, task=seq, limit_minutes=minutes, working_time=working)


def _on_sign(step: Step) -> None:
    task = _require_task(step.case)
    task.signed_at = step.now
    task.save(update_fields=["signed_at"])
    step.data["task"] = task.seq


def _on_feedback(step: Step) -> None:
    result = _text(step.fields, "result", required=True)
    step.note = step.note or result
    task = _require_task(step.case)
    clock = _pause(step, workflow.HANDLE)
    task.feedback_at = step.now
    task.status = Task.Status.AWAITING_CHECK
    task.save(update_fields=["feedback_at", "status"])
    step.data.update(task=task.seq, result=result)
    step.was_late = bool(clock and step.now > clock.due_at)
    if step.case.city.auto_request_check:
        step.after.append(("request_check", {}))


def _on_request_extension(step: Step) -> None:
    task = _require_task(step.case)
    minutes = _positive_minutes(step.fields)
    reason = _text(step.fields, "reason", required=True)
    if task.requests.filter(kind=TaskRequest.Kind.EXTENSION, approved__isnull=True).exists():
        raise Conflict(
            "已有待审批的延期申请", "An extension request is already pending", field="minutes", code="pending_request"
        )
    TaskRequest.objects.create(
        task=task,
        kind=TaskRequest.Kind.EXTENSION,
        minutes=minutes,
        reason=reason,
        requested_at=step.now,
        requested_by=step.actor,
    )
    step.note = step.note or reason
    step.data.update(task=task.seq, minutes=minutes)


def _decide(step: Step, kind: str) -> tuple[Task, TaskRequest]:
    task = _require_task(step.case)
    request = _pending_request(task, kind)
    request.approved = step.decision.branch == "approve"
    request.decided_at = step.now
    request.decided_by = step.actor
    step.data.update(task=task.seq, approve=request.approved, reason=request.reason)
    return task, request


def _on_decide_extension(step: Step) -> None:
    task, request = _decide(step, TaskRequest.Kind.EXTENSION)
    if request.approved:
        granted = _positive_minutes(step.fields, required=False) or request.minutes
        if granted > request.minutes:
            raise Invalid("批准的延期不能超过申请的时长", "Granted minutes exceed the request", field="minutes")
        clock = _open_clock(step.case, workflow.HANDLE)
        # While the clock is paused the deadline still moves; the light stays frozen.
        mark = clocks.moved(
            step.cal, clock.started_at, clock.due_at, granted, working=clock.working_time, fraction=green_share()
        )
        clock.due_at, clock.yellow_at = mark.due_at, mark.yellow_at
        clock.save(update_fields=["due_at", "yellow_at"])
        if clock.paused_at is None:
            step.running(clock)
        task.extended_minutes += granted
        task.due_at = clock.due_at
        task.save(update_fields=["extended_minutes", "due_at"])
        request.granted_minutes = granted
        step.updates["extension_count"] = F("extension_count") + 1
        step.data["granted_minutes"] = granted
        step.due_at = clock.due_at
    request.save()


def _on_return(step: Step) -> None:
    _request(step, TaskRequest.Kind.RETURN)


def _on_suspend(step: Step) -> None:
    _request(step, TaskRequest.Kind.SUSPEND)


def _request(step: Step, kind: str) -> None:
    task = _require_task(step.case)
    reason = _text(step.fields, "reason", required=True)
    if task.requests.filter(kind=kind, approved__isnull=True).exists():
        raise Conflict(
            "已有待审批的同类申请", "A request of this kind is already pending", field="reason", code="pending_request"
        )
    TaskRequest.objects.create(task=task, kind=kind, reason=reason, requested_at=step.now, requested_by=step.actor)
    step.note = step.note or reason
    step.data.update(task=task.seq)


def _on_decide_return(step: Step) -> None:
    task, request = _decide(step, TaskRequest.Kind.RETURN)
    request.save()
    if not request.approved:
        return
    clock = _open_clock(step.case, workflow.HANDLE)
    if clock is not None:
        clock.ended_at = clock.paused_at or step.now
        clock.save(update_fields=["ended_at"])
    task.returned, task.returned_at, task.status = True, step.now, Task.Status.RETURNED
    task.save(update_fields=["returned", "returned_at", "status"])
    step.updates.update(department=None, return_count=F("return_count") + 1)
    step.updates["suggested_department"] = _suggest(step.case)
    _start(step, workflow.DISPATCH)


def _on_decide_suspend(step: Step) -> None:
    task, request = _decide(step, TaskRequest.Kind.SUSPEND)
    request.save()
    if not request.approved:
        return
    _pause(step, workflow.HANDLE)
    task.suspended_at = step.now
    task.save(update_fields=["suspended_at"])
    step.updates["state_before_suspension"] = step.case.state


def _on_resume(step: Step) -> None:
    task = _require_task(step.case)
    clock, still = _resume(step, workflow.HANDLE)
    task.suspended_minutes += still
    task.suspended_at = None
    if clock is not None:
        task.due_at = clock.due_at
    task.save(update_fields=["suspended_minutes", "suspended_at", "due_at"])
    step.updates["state_before_suspension"] = ""
    step.data.update(task=task.seq, suspended_minutes=still)


def _on_request_check(step: Step) -> None:
    username = step.fields.get("inspector")
    case = step.case
    if username:
        inspector = User.objects.filter(username=username, role="inspector", is_active=True).first()
        if inspector is None:
            raise Invalid(f"未知的监督员：{username}", f"Unknown inspector '{username}'", field="inspector")
    else:
        inspector = grid_inspector(case.grid_id)
    _start(step, workflow.CHECK, assignee=inspector)
    step.data["inspector"] = inspector.username if inspector else None


def _on_check(step: Step) -> None:
    case = step.case
    task = _require_task(case)
    _stop(step, workflow.CHECK)
    step.updates["checked_at"] = step.now
    if step.decision.branch == "fixed":
        handle = _stop(step, workflow.HANDLE)
        task.handled_at = task.feedback_at
        task.on_time = handle.on_time if handle else clocks.on_time(task.feedback_at, task.due_at)
        task.status = Task.Status.DONE
        task.save(update_fields=["handled_at", "on_time", "status"])
        step.updates["handled_at"] = task.handled_at
        step.data.update(task=task.seq, on_time=task.on_time)
        return
    clock, waited = _resume(step, workflow.HANDLE)
    task.reworks += 1
    task.check_wait_minutes += waited
    task.status = Task.Status.OPEN
    task.signed_at = None
    if clock is not None:
        task.due_at = clock.due_at
    task.save(update_fields=["reworks", "check_wait_minutes", "status", "signed_at", "due_at"])
    step.updates["rework_count"] = F("rework_count") + 1
    step.data.update(task=task.seq, rework=task.reworks)


def _on_close(step: Step) -> None:
    step.updates["closed_at"] = step.now
    reason = _text(step.fields, "reason")
    if reason:
        step.updates["end_reason"] = reason
    if step.decision.branch == "self_handled":
        _stop(step, workflow.REGISTER)
        step.updates["registered_at"] = step.now
        step.updates["handled_at"] = step.now


def _on_reopen(step: Step) -> None:
    reason = _text(step.fields, "reason", required=True)
    step.note = step.note or reason
    step.updates.update(closed_at=None, end_reason="")
    _start(step, workflow.REGISTER)


def _on_dispute(step: Step) -> None:
    reason = _text(step.fields, "reason") or step.note
    if not reason and not step.attachments:
        raise Invalid("请说明哪里没有解决", "Say what is not fixed", field="note")
    closed_at = step.case.closed_at
    days = dispute_days()
    if closed_at is not None and step.now - closed_at > timedelta(days=days):
        raise Conflict(
            f"结案已超过 {days} 天，请重新反映问题",
            f"The case was closed more than {days} days ago: please report the problem again",
            field="state",
            code="dispute_too_late",
        )
    disputes = step.case.events.filter(operation="dispute").count()
    if disputes >= dispute_limit():
        raise Conflict(
            "该案件已多次反映未解决，请致电热线",
            "This case has been reported as not fixed too many times: please call the hotline",
            field="state",
            code="dispute_limit",
        )
    step.note = step.note or reason
    step.data["closed_at"] = closed_at.isoformat() if closed_at else None
    step.updates.update(closed_at=None, end_reason="")
    _start(step, workflow.REGISTER)


def dispute_days() -> int:
    """Days after closure in which the reporter may say a case is not fixed (PUBLIC_DISPUTE_DAYS)."""
    return int(getattr(settings, "PUBLIC_DISPUTE_DAYS", 30))


def dispute_limit() -> int:
    """How many times one case may be sent back as not fixed (PUBLIC_DISPUTE_LIMIT)."""
    return int(getattr(settings, "PUBLIC_DISPUTE_LIMIT", 3))


def _require_note(step: Step) -> None:
    if not step.note:
        raise Invalid("缺少必填字段：note", "Field 'note' is required", field="note")


def _on_follow_up(step: Step) -> None:
    if not step.attachments:
        _require_note(step)


def _on_supervise(step: Step) -> None:
    _require_note(step)
    step.updates.update(supervised=True, priority=F("priority") + 1)


def _end_everything(step: Step) -> None:
    for clock in step.case.clocks.filter(ended_at__isnull=True):
        clock.ended_at = clock.paused_at or step.now
        clock.save(update_fields=["ended_at"])
    step.case.tasks.filter(status__in=[Task.Status.OPEN, Task.Status.AWAITING_CHECK]).update(
        status=Task.Status.CANCELLED
    )
    step.running(None)


def _on_cancel(step: Step) -> None:
    reason = _text(step.fields, "reason", required=True)
    step.note = step.note or reason
    step.updates["end_reason"] = reason
    _end_everything(step)


def _on_merge(step: Step) -> None:
    into = step.fields.get("into")
    if not into or not isinstance(into, str):
        raise Invalid("缺少必填字段：into（保留案件的案件号）", "Field 'into' is required", field="into")
    survivor = Case.objects.filter(number=into, city=step.case.city).first()
    if survivor is None or survivor.pk == step.case.pk:
        raise Invalid(f"无法合并到案件 {into}", f"Cannot merge into case '{into}'", field="into")
    if survivor.state in workflow.END_STATES:
        raise Conflict(
            "保留案件已办结，不能合并", "The surviving case is already finished", field="into", code="state_conflict"
        )
    step.updates.update(duplicate_of=survivor, end_reason=f"重复案件，已并入 {survivor.number}")
    step.data["into"] = survivor.number
    _end_everything(step)


HANDLERS = {
    "verify": _on_verify,
    "amend": _on_amend,
    "register": _on_register,
    "reject": _on_reject,
    "dispatch": _on_dispatch,
    "sign": _on_sign,
    "feedback": _on_feedback,
    "request_extension": _on_request_extension,
    "decide_extension": _on_decide_extension,
    "return": _on_return,
    "decide_return": _on_decide_return,
    "suspend": _on_suspend,
    "decide_suspend": _on_decide_suspend,
    "resume": _on_resume,
    "request_check": _on_request_check,
    "check": _on_check,
    "close": _on_close,
    "reopen": _on_reopen,
    "dispute": _on_dispute,
    "follow_up": _on_follow_up,
    "supervise": _on_supervise,
    "cancel": _on_cancel,
    "merge": _on_merge,
}
assert set(HANDLERS) == set(workflow.TABLE)


# ---------------------------------------------------------------------------------------------
# apply


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(
            "缺少必填字段：version（案件当前版本号）",
            "Field 'version' is required (the case's version)",
            field="version",
        )
    return value


def apply_operation(
    case: Case | str,
    operation: str,
    *,
    actor: User | None,
    version: int | None,
    now: datetime | None = None,
    note: str = "",
    attachments: list[int] | None = None,
    fields: dict | None = None,
    **more_fields,
) -> Case:
    """Apply `operation` to `case` as `actor`; the case's `version` must match (else 409).

    Operation fields come as `fields` (a request body, whatever keys it holds) and/or as
    keyword arguments (from code).
    """
    fields = {**(fields or {}), **more_fields}
    with transaction.atomic():
        case = _apply(
            case,
            operation,
            actor=actor,
            version=version,
            now=now,
            note=note,
            attachments=attachments or [],
            fields=fields,
            system=False,
        )
    return case


def apply_as_citizen(
    case: Case | str,
    operation: str,
    *,
    now: datetime | None = None,
    note: str = "",
    attachments: list[int] | None = None,
    fields: dict | None = None,
) -> Case:
    """Apply `operation` for the reporter on the public portal (roles reporter and citizen).

    The caller has already checked who they are (`cases.citizens.check_reporter`). A citizen
    does not know the case's version: the conditional UPDATE still refuses a concurrent change,
    and the operation is tried once more on the fresh row.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _apply(
                    case,
                    operation,
                    actor=None,
                    version=None,
                    now=now,
                    note=note,
                    attachments=attachments or [],
                    fields=fields or {},
                    system=False,
                    citizen=True,
                )
        except Conflict as err:
            if err.code != "stale_version" or attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _apply(case, operation, *, actor, version, now, note, attachments, fields, system, citizen=False) -> Case:
    now = _now(now)
    number = case.number if isinstance(case, Case) else case
    case = (
        Case.objects.select_related("city", "city__calendar", "small_class", "grid", "grid__community")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound(f"案件 {number} 不存在", f"Case {number} not found", field="number")
    if not system and not citizen and _version(version) != case.version:
        raise _stale(case)
    if citizen:
        roles = frozenset({workflow.REPORTER, workflow.CITIZEN})
    elif system:
        roles = frozenset({"system"} | set(workflow.TABLE[operation].roles))
    else:
        roles = roles_for(actor, case)
    decision = workflow.decide(
        operation,
        case.state,
        roles,
        fields,
        self_handled=case.self_handled,
        state_before_suspension=case.state_before_suspension,
        shiftlead_registers=case.city.shiftlead_registers and not system,
    )
    if not system:
        check_scope(actor, case, operation)
    step = Step(
        case=case,
        actor=actor,
        now=now,
        decision=decision,
        fields=fields,
        cal=_calendar(case.city),
        note=_text({"note": note}, "note"),
        attachments=attachments,
    )
    HANDLERS[operation](step)
    expected = case.version
    # Open cases carry is_open=True; ended ones NULL, so that partial indexes hold only the open.
    step.updates["is_open"] = None if decision.to_state in workflow.END_STATES else True
    updated = Case.objects.filter(pk=case.pk, version=expected).update(
        state=decision.to_state, version=F("version") + 1, updated_at=now, **step.updates
    )
    if updated == 0:
        raise _stale(case)
    event = Event.objects.create(
        case=case,
        operation=operation,
        from_state=decision.from_state,
        to_state=decision.to_state,
        actor=actor,
        actor_role=actor.role if actor else (workflow.CITIZEN if citizen else "system"),
        at=now,
        note=step.note,
        data=step.data,
        due_at=step.due_at,
        was_late=step.was_late,
    )
    _link_attachments(case, event, step.attachments)
    case.refresh_from_db()
    case_changed.send(sender=Case, case=case, event=event)
    for next_operation, next_fields in step.after:
        case = _apply(
            case,
            next_operation,
            actor=None,
            version=None,
            now=now,
            note="",
            attachments=[],
            fields=next_fields,
            system=True,
        )
    return case


def _stale(case: Case) -> Conflict:
    return Conflict(
        "案件已被他人更新，请刷新后重试",
        "The case was changed by someone else; reload and try again",
        field="version",
        code="stale_version",
    )


def _link_attachments(case: Case, event: Event, ids: list[int]) -> None:
    if not ids:
        return
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid("attachments 应为附件编号列表", "Field 'attachments' must be a list of ids", field="attachments")
    found = Attachment.objects.filter(case=case, id__in=ids, event__isnull=True)
    if found.count() != len(set(ids)):
        raise Invalid("附件编号无效或已被使用", "Unknown or already used attachment ids", field="attachments")
    found.update(event=event)


# One named entry point per operation, so that `grep dispatch_case` finds the use case.
def _named(operation: str):
    def run(case, *, actor, version, now=None, note="", attachments=None, **fields):
        return apply_operation(
            case, operation, actor=actor, version=version, now=now, note=note, attachments=attachments, **fields
        )

    run.__name__ = f"{operation}_case"
    run.__doc__ = f"Apply `{operation}` (see workflow.TABLE)."
    return run


verify_case = _named("verify")
amend_case = _named("amend")
register_case = _named("register")
reject_case = _named("reject")
dispatch_case = _named("dispatch")
sign_case = _named("sign")
feedback_case = _named("feedback")
request_extension_case = _named("request_extension")
decide_extension_case = _named("decide_extension")
return_case = _named("return")
decide_return_case = _named("decide_return")
suspend_case = _named("suspend")
decide_suspend_case = _named("decide_suspend")
resume_case = _named("resume")
request_check_case = _named("request_check")
check_case = _named("check")
close_case = _named("close")
reopen_case = _named("reopen")
follow_up_case = _named("follow_up")
supervise_case = _named("supervise")
cancel_case = _named("cancel")
merge_case = _named("merge")


def rate_case(case: Case, *, score: int, comment: str = "", now: datetime | None = None) -> Case:
    """The reporter's satisfaction (1–5), once, after the case is closed."""
    now = _now(now)
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise Invalid("score 应为 1 到 5 的整数", "Field 'score' must be 1 to 5", field="score")
    if case.state != workflow.CLOSED:
        raise Conflict(
            "案件结案后才能评价", "A case can be rated once it is closed", field="score", code="state_conflict"
        )
    comment = _text({"comment": comment}, "comment")
    with transaction.atomic():
        if not Case.objects.filter(pk=case.pk, rating__isnull=True).update(
            rating=score, rating_comment=comment, rated_at=now
        ):
            raise Conflict("该案件已评价过", "This case has already been rated", field="score", code="already_rated")
        event = Event.objects.create(
            case=case,
            operation="rate",
            from_state=case.state,
            to_state=case.state,
            at=now,
            actor_role="public",
            data={"score": score},
            note=comment,
        )
        case.refresh_from_db()
        case_changed.send(sender=Case, case=case, event=event)
    return case


REMIND_COLOURS = ("yellow", "red")


def remind_case(task: Task, colour: str, *, now: datetime | None = None) -> Event:
    """催办: the task's handling clock turned `colour` (yellow or red); tell its department.

    Writes one internal `remind` event (no state change, the version stays: nobody's open form
    goes stale) and sends `case_changed`, so the notification outbox takes it to the department.
    One reminder per task and colour is the caller's rule (`notify.Reminder`).
    """
    if colour not in REMIND_COLOURS:
        raise Invalid("colour 应为 yellow 或 red", "Field 'colour' must be yellow or red", field="colour")
    now = _now(now)
    with transaction.atomic():
        case = Case.objects.select_related("small_class", "department").get(pk=task.case_id)
        event = Event.objects.create(
            case=case,
            operation="remind",
            from_state=case.state,
            to_state=case.state,
            at=now,
            actor_role="system",
            internal=True,
            due_at=task.due_at,
            data={"task": task.seq, "department": task.department.code, "colour": colour},
        )
        case_changed.send(sender=Case, case=case, event=event)
    return event
