"""What Open311 shows: services, definitions, discovery, requests and updates, as plain data.

Requests follow the public view of a case (`cases.present.public_case`): the same fields, the
same events and photos, and never the reporter, actors or internal notes. Rows are built from
prefetched relations so that a page of a thousand requests costs a handful of queries.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet

from chengguan.cases import workflow
from chengguan.cases.models import Attachment, Case, Event, Task
from chengguan.cases.present import PUBLIC_EVENTS, attachment_urls
from chengguan.catalog.models import SmallClass
from chengguan.geo.models import City

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
PUBLIC_PHOTO_STAGES = ("report", "handle", "check")

# Our states as FixMyStreet's extended statuses (its `send_extended_statuses`).
FMS_STATUS = {
    workflow.REPORTED: "OPEN",
    workflow.VERIFYING: "INVESTIGATING",
    workflow.PENDING: "FOR_TRIAGE",
    workflow.REGISTERED: "ACTION_SCHEDULED",
    workflow.DISPATCHED: "ACTION_SCHEDULED",
    workflow.HANDLING: "IN_PROGRESS",
    workflow.HANDLED: "IN_PROGRESS",
    workflow.CHECKING: "IN_PROGRESS",
    workflow.CLOSABLE: "IN_PROGRESS",
    workflow.SUSPENDED: "ACTION_SCHEDULED",
    workflow.CLOSED: "FIXED",
    workflow.INVALID: "NO_FURTHER_ACTION",
    workflow.REJECTED: "NOT_COUNCILS_RESPONSIBILITY",
    workflow.CANCELLED: "CANCELLED",
}


def english(language: str) -> bool:
    return (language or "").startswith("en")


def stamp(value: datetime | None, zone: str) -> str | None:
    """W3C date-time with the jurisdiction's offset, to the second."""
    return value.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds") if value else None


def status(state: str) -> str:
    return "closed" if state in workflow.END_STATES else "open"


def fms_status(state: str, *, duplicate: bool = False) -> str:
    if state == workflow.CANCELLED and duplicate:
        return "DUPLICATE"
    return FMS_STATUS.get(state, "OPEN")


# --- services ---------------------------------------------------------------------------------


def _name(obj, language: str) -> str:
    return (obj.name_en or obj.name) if english(language) else obj.name


def _filing(small: SmallClass, language: str) -> str:
    return (small.filing_condition_en or small.filing_condition) if english(language) else small.filing_condition


def attributes(small: SmallClass, language: str) -> list[dict]:
    """The questions of a service: what qualifies (information only) and, for components, the asset code."""
    found: list[dict] = []
    filing = _filing(small, language)
    if filing:
        found.append({
            "variable": False, "code": "filing_condition", "datatype": "string", "required": False,
            "datatype_description": None, "order": len(found) + 1,
            "description": (f"What qualifies: {filing}" if english(language) else f"立案条件：{filing}"),
        })
    if small.kind == "component":
        found.append({
            "variable": True, "code": "component_code", "datatype": "string", "required": False,
            "datatype_description": ("Up to 20 letters and digits, as painted on the asset"
                                     if english(language) else "最多 20 位，即部件上标注的编号"),
            "order": len(found) + 1,
            "description": ("Asset code of the component, if you can read it"
                            if english(language) else "部件编码（如能看到，请填写）"),
        })
    return found


def service(small: SmallClass, language: str) -> dict:
    keywords = [k for k in (small.name_en, small.pinyin_initials, small.major.name) if k]
    return {
        "service_code": small.code,
        "service_name": _name(small, language),
        "description": _filing(small, language) or _name(small, language),
        "metadata": bool(attributes(small, language)),
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": _name(small.major, language),
    }


def service_definition(small: SmallClass, language: str) -> dict:
    return {"service_code": small.code, "attributes": attributes(small, language)}


def discovery(base_url: str, changeset: str, language: str) -> dict:
    return {
        "changeset": changeset,
        "contact": ("Ask the city's digital urban management centre (the hotline 12345)"
                    if english(language) else "请联系本市数字城管指挥中心（12345 热线）"),
        "key_service": ("API keys are issued by the city's administrators in the admin site"
                        if english(language) else "API 密钥由本市管理员在后台签发"),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url,
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


# --- requests ---------------------------------------------------------------------------------


def with_relations(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Everything a request row reads, in a fixed number of queries."""
    return qs.select_related("small_class", "department", "city", "open311").prefetch_related(
        Prefetch("tasks", queryset=Task.objects.select_related("department").order_by("seq")),
        Prefetch("events", queryset=Event.objects.filter(operation__in=PUBLIC_EVENTS, internal=False)
                 .order_by("at", "id"), to_attr="public_events"),
        Prefetch("attachments", queryset=Attachment.objects.filter(stage__in=PUBLIC_PHOTO_STAGES).order_by("id"),
                 to_attr="public_photos"),
    )


def _state_label(state: str, language: str) -> str:
    zh, en = workflow.STATE_LABELS.get(state, (state, state))
    return en if english(language) else zh


def _reply(event: Event) -> str:
    return (event.data or {}).get("result") or "" if event.operation == "feedback" else ""


def status_notes(case: Case, language: str) -> str:
    """Why the status is what it is: the state, and the department's reply or the ending's reason."""
    label = _state_label(case.state, language)
    detail = case.end_reason if case.state in workflow.END_STATES else ""
    if not detail:
        replies = [_reply(e) for e in case.public_events if _reply(e)]
        detail = replies[-1] if replies else ""
    return f"{label}: {detail}" if detail else label


def _agency(case: Case):
    if case.department_id:
        return case.department
    tasks = list(case.tasks.all())
    return tasks[-1].department if tasks else None


def _expected(case: Case) -> datetime | None:
    tasks = list(case.tasks.all())
    return tasks[-1].due_at if tasks else None


def _photo_url(case: Case, photo: Attachment, absolute) -> str:
    return absolute(attachment_urls(case, photo, public=True)["url"])


def request_row(case: Case, *, language: str, absolute, extensions: bool = False) -> dict:
    """One `request` of `service_requests`, in the spec's field order."""
    zone = case.city.timezone
    link = getattr(case, "open311", None)  # None for cases that came in another way
    photos = case.public_photos
    media_url = _photo_url(case, photos[0], absolute) if photos else None
    if media_url is None and link is not None and link.media_url:
        media_url = link.media_url.splitlines()[0]
    agency = _agency(case)
    ended = case.state in workflow.END_STATES
    row = {
        "service_request_id": case.number,
        "status": status(case.state),
        "status_notes": status_notes(case, language),
        "service_name": _name(case.small_class, language),
        "service_code": case.class_code,
        "description": case.description,
        "agency_responsible": _name(agency, language) if agency else None,
        "service_notice": None,
        "requested_datetime": stamp(case.reported_at, zone),
        "updated_datetime": stamp(case.closed_at if ended and case.closed_at else case.updated_at, zone),
        "expected_datetime": stamp(_expected(case), zone),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": round(case.lat, 5),
        "long": round(case.lon, 5),
        "media_url": media_url,
    }
    if extensions:
        row["extended_attributes"] = {
            "state": case.state,
            "state_name": _state_label(case.state, language),
            "fms_status": fms_status(case.state, duplicate=case.duplicate_of_id is not None),
            "service_name_en": case.small_class.name_en or None,
            "duplicate_of": case.duplicate_of.number if case.duplicate_of_id else None,
            "channel": case.source,
            "rating": case.rating,
            "photos": [_photo_url(case, p, absolute) for p in photos],
        }
        row["notes"] = [note(case, e, language) for e in case.public_events]
    return row


def note(case: Case, event: Event, language: str) -> dict:
    """One entry of a request's public history (`extensions=true`)."""
    label = _state_label(event.to_state or case.state, language)
    reply = _reply(event)
    return {
        "datetime": stamp(event.at, case.city.timezone),
        "type": event.operation,
        "summary": label,
        "description": f"{label}: {reply}" if reply else label,
    }


def request_update(case: Case, event: Event, *, language: str, absolute) -> dict:
    """One `request_update` of FixMyStreet's `servicerequestupdates`."""
    state = event.to_state or event.from_state or case.state
    photos = [p for p in case.public_photos if p.event_id == event.pk]
    return {
        "update_id": str(event.pk),
        "service_request_id": case.number,
        "status": fms_status(state, duplicate=event.operation == "merge"),
        "updated_datetime": stamp(event.at, case.city.timezone),
        "description": note(case, event, language)["description"],
        "media_url": _photo_url(case, photos[0], absolute) if photos else None,
        "external_status_code": state,
    }


def city_label(city: City) -> str:
    return f"{city.code} {city.name}"
