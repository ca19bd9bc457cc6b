"""The case as the API shows it: to staff in full, to the public without personal data."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from chengguan.cases import clocks, workflow
from chengguan.cases.models import Case, Task
from chengguan.worktime.services import working_clock


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def mask_phone(phone: str) -> str:
    """138****5678: enough for the reporter to recognise, useless to anyone else."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _clock(clock, cal, now: datetime) -> dict:
    running = clock.ended_at is None
    at = clock.paused_at or now
    return {
        "stage": clock.stage,
        "started_at": iso(clock.started_at),
        "due_at": iso(clock.due_at),
        "ended_at": iso(clock.ended_at),
        "paused": clock.paused_at is not None and running,
        "limit_minutes": clock.limit_minutes,
        "working_time": clock.working_time,
        "on_time": clock.on_time,
        "light": clocks.light(at, clock.yellow_at, clock.due_at) if running else None,
        "minutes_left": clocks.minutes_left(cal, at, clock.due_at, working=clock.working_time) if running else None,
        "assignee": clock.assignee.username if clock.assignee_id else None,
    }


def _task(task: Task) -> dict:
    return {
        "seq": task.seq,
        "department": task.department.code,
        "department_name": task.department.name,
        "status": task.status,
        "dispatched_at": iso(task.dispatched_at),
        "due_at": iso(task.due_at),
        "limit_minutes": task.limit_minutes,
        "working_time": task.working_time,
        "signed_at": iso(task.signed_at),
        "feedback_at": iso(task.feedback_at),
        "handled_at": iso(task.handled_at),
        "on_time": task.on_time,
        "reworks": task.reworks,
        "extended_minutes": task.extended_minutes,
        "suspended_minutes": task.suspended_minutes,
        "check_wait_minutes": task.check_wait_minutes,
        "returned": task.returned,
        "appealed": task.appealed,
        "pending_requests": [
            {"kind": r.kind, "minutes": r.minutes, "reason": r.reason, "requested_at": iso(r.requested_at)}
            for r in task.requests.all()
            if r.approved is None
        ],
    }


def attachment_urls(case: Case, attachment, *, public: bool) -> dict:
    if public:
        base = f"/api/v1/public/cases/{case.number}/attachments/{attachment.pk}"
        return {"url": f"{base}?variant=public", "thumb_url": f"{base}?variant=thumb"}
    base = f"/api/v1/cases/{case.number}/attachments/{attachment.pk}"
    return {
        "url": f"{base}?variant=original",
        "thumb_url": f"{base}?variant=thumb",
        "public_url": f"{base}?variant=public",
    }


def _light(case: Case, now: datetime) -> str | None:
    if not case.stage_due_at:
        return None
    return clocks.light(now, case.stage_yellow_at, case.stage_due_at)


def case_summary(case: Case, *, now: datetime | None = None) -> dict:
    """A list row: what a board needs, without the history."""
    now = now or timezone.now()
    return {
        "number": case.number,
        "version": case.version,
        "state": case.state,
        "state_name": workflow.STATE_LABELS[case.state][0],
        "source": case.source,
        "class_code": case.class_code,
        "class_name": case.small_class.name,
        "urgency": case.urgency,
        "lon": case.lon,
        "lat": case.lat,
        "grid_code": case.grid_code,
        "street_code": case.street_code,
        "address": case.address,
        "department": case.department.code if case.department_id else None,
        "supervised": case.supervised,
        "stage": case.stage or None,
        "due_at": iso(case.stage_due_at),
        "light": _light(case, now),
        "reported_at": iso(case.reported_at),
    }


def case_detail(case: Case, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    cal = working_clock(case.city.calendar)
    fresh = getattr(case, "fresh", None)  # set by report_case: a new case's rows, already in hand
    if fresh is not None:
        tasks, clock_rows, events, attachments = fresh["tasks"], fresh["clocks"], fresh["events"], fresh["attachments"]
    else:
        tasks = list(case.tasks.select_related("department").prefetch_related("requests").order_by("seq"))
        clock_rows = case.clocks.select_related("assignee").order_by("started_at", "id")
        events = case.events.select_related("actor").order_by("at", "id")
        attachments = case.attachments.order_by("id")
    return {
        "number": case.number,
        "version": case.version,
        "state": case.state,
        "state_name": workflow.STATE_LABELS[case.state][0],
        "source": case.source,
        "class_code": case.class_code,
        "class_name": case.small_class.name,
        "class_name_en": case.small_class.name_en,
        "kind": case.small_class.kind,
        "urgency": case.urgency,
        "area_class": case.area_class,
        "lon": case.lon,
        "lat": case.lat,
        "grid_code": case.grid_code,
        "community_code": case.community_code,
        "street_code": case.street_code,
        "district_code": case.district_code,
        "address": case.address,
        "description": case.description,
        "component_code": case.component_code or None,
        "self_handled": case.self_handled,
        "reporter": {
            "username": case.reporter.username if case.reporter_id else None,
            "name": case.reporter_name,
            "phone": case.reporter_phone,
        },
        "department": case.department.code if case.department_id else None,
        "suggested_department": case.suggested_department.code if case.suggested_department_id else None,
        "supervised": case.supervised,
        "priority": case.priority,
        "duplicate_of": case.duplicate_of.number if case.duplicate_of_id else None,
        "end_reason": case.end_reason,
        "reported_at": iso(case.reported_at),
        "verified_at": iso(case.verified_at),
        "registered_at": iso(case.registered_at),
        "dispatched_at": iso(case.dispatched_at),
        "handled_at": iso(case.handled_at),
        "checked_at": iso(case.checked_at),
        "closed_at": iso(case.closed_at),
        "rework_count": case.rework_count,
        "return_count": case.return_count,
        "extension_count": case.extension_count,
        "light": _light(case, now),
        "clocks": [_clock(c, cal, now) for c in clock_rows],
        "tasks": [_task(t) for t in tasks],
        "events": [
            {
                "operation": e.operation,
                "from": e.from_state or None,
                "to": e.to_state or None,
                "actor": e.actor.username if e.actor_id else None,
                "actor_role": e.actor_role,
                "at": iso(e.at),
                "note": e.note,
                "data": e.data,
                "due_at": iso(e.due_at),
                "was_late": e.was_late,
            }
            for e in events
        ],
        "attachments": [
            {
                "id": a.pk,
                "stage": a.stage,
                "content_type": a.content_type,
                "width": a.width,
                "height": a.height,
                "gps": {"lon": a.gps_lon, "lat": a.gps_lat} if a.gps_lon is not None else None,
                **attachment_urls(case, a, public=False),
            }
            for a in attachments
        ],
        "rating": case.rating,
        "calendar_warning": case.calendar_warning or None,
    }


PUBLIC_EVENTS = {
    "report",
    "register",
    "dispatch",
    "feedback",
    "check",
    "close",
    "reopen",
    "dispute",
    "reject",
    "verify",
    "cancel",
    "merge",
    "suspend",
    "resume",
}


def public_case(case: Case) -> dict:
    """What anyone may see: no reporter, no actor, no internal notes, no photo metadata."""
    department = case.department or (
        case.tasks.select_related("department").order_by("-seq").first().department if case.tasks.exists() else None
    )
    return {
        "number": case.number,
        "state": case.state,
        "state_name": workflow.STATE_LABELS[case.state][0],
        "status": "closed" if case.state in workflow.END_STATES else "open",
        "class_code": case.class_code,
        "class_name": case.small_class.name,
        "class_name_en": case.small_class.name_en,
        "lon": round(case.lon, 5),
        "lat": round(case.lat, 5),
        "address": case.address,
        "description": case.description,
        "department_name": department.name if department else None,
        "reported_at": iso(case.reported_at),
        "registered_at": iso(case.registered_at),
        "closed_at": iso(case.closed_at),
        "end_reason": case.end_reason,
        "duplicate_of": case.duplicate_of.number if case.duplicate_of_id else None,
        "timeline": [
            {
                "operation": e.operation,
                "to": e.to_state or None,
                "at": iso(e.at),
                "reply": e.data.get("result") if e.operation == "feedback" else None,
            }
            for e in case.events.order_by("at", "id")
            if e.operation in PUBLIC_EVENTS and not e.internal
        ],
        "attachments": [
            {"id": a.pk, "stage": a.stage, **attachment_urls(case, a, public=True)}
            for a in case.attachments.filter(stage__in=["report", "handle", "check"]).order_by("id")
        ],
        "rating": case.rating,
    }
