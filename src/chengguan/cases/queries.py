"""Reads with access checks: which cases a user may see, list filters, keyset pages."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chengguan.cases import workflow
from chengguan.cases.models import Case, Source, State
from chengguan.cases.permissions import CITY_WIDE_READERS
from chengguan.errors import Invalid, NotFound

MAX_PAGE_SIZE = 200


def visible_cases(user) -> QuerySet[Case]:
    qs = Case.objects.all()
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.city_id:
        qs = qs.filter(city_id=user.city_id)
    if user.is_superuser or user.role in CITY_WIDE_READERS:
        return qs
    if user.role == "department":
        if not user.department_id:
            return qs.none()
        return qs.filter(tasks__department_id=user.department_id).distinct()
    if user.role == "inspector":
        return qs.filter(Q(reporter=user) | Q(clocks__assignee=user) | Q(grid__duty_grids__inspectors=user)).distinct()
    return qs.filter(reporter=user)


def _instant(value: datetime, field: str) -> datetime:
    """An instant as UTC: an offset such as +23:12 is valid ISO 8601 but beyond what PostgreSQL takes."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"字段 {field} 的时间超出范围", f"Field '{field}' is out of range", field=field) from None


def get_case_for_user(user, number: str) -> Case:
    case = visible_cases(user).filter(number=number).first()
    if case is None:
        raise NotFound(f"案件 {number} 不存在或无权查看", f"Case {number} not found", field="number")
    return case


def get_public_case(number: str) -> Case:
    case = Case.objects.filter(number=number).select_related("small_class", "city").first()
    if case is None:
        raise NotFound(f"案件 {number} 不存在", f"Case {number} not found", field="number")
    return case


@dataclass
class Filters:
    state: str | None = None
    department: str | None = None
    grid: str | None = None
    community: str | None = None
    street: str | None = None
    class_code: str | None = None
    light: str | None = None
    source: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    supervised: bool | None = None
    q: str | None = None


def _choice(value, allowed, name):
    if value is not None and value not in allowed:
        raise Invalid(f"字段 {name} 的值无效：{value}", f"Field '{name}' has an invalid value '{value}'", field=name)
    return value


def filter_cases(qs: QuerySet[Case], f: Filters, *, now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    if f.state:
        states = f.state.split(",")
        for s in states:
            _choice(s, set(State.values) | {"open"}, "state")
        if states == ["open"]:
            # The partial indexes on open cases answer this without touching closed history.
            qs = qs.filter(is_open__isnull=False)
        else:
            if "open" in states:
                states = [s for s in states if s != "open"] + sorted(workflow.OPEN_STATES)
            qs = qs.filter(state__in=states)
    if f.department:
        qs = qs.filter(department__code=f.department)
    if f.grid:
        qs = qs.filter(grid_code=f.grid)
    if f.community:
        qs = qs.filter(community_code=f.community)
    if f.street:
        qs = qs.filter(street_code=f.street)
    if f.class_code:
        qs = qs.filter(class_code=f.class_code)
    if f.source:
        qs = qs.filter(source=_choice(f.source, set(Source.values), "source"))
    if f.light:
        _choice(f.light, {"green", "yellow", "red"}, "light")
        if f.light == "red":
            qs = qs.filter(stage_due_at__lt=now)
        elif f.light == "yellow":
            qs = qs.filter(stage_due_at__gte=now, stage_yellow_at__lt=now)
        else:
            qs = qs.filter(stage_yellow_at__gte=now)
    if f.created_after:
        qs = qs.filter(reported_at__gte=_instant(f.created_after, "created_after"))
    if f.created_before:
        qs = qs.filter(reported_at__lt=_instant(f.created_before, "created_before"))
    if f.supervised is not None:
        qs = qs.filter(supervised=f.supervised)
    if f.q:
        term = f.q.strip()[:100]
        qs = qs.filter(Q(number=term) | Q(address__icontains=term) | Q(description__icontains=term))
    return qs


def encode_cursor(case: Case) -> str:
    raw = f"{case.reported_at.isoformat()}|{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        when = parse_datetime(at)
        if when is None:
            raise ValueError(at)
        return when, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor 无效", "Field 'cursor' is invalid", field="cursor") from None


def page(qs: QuerySet[Case], *, cursor: str | None, page_size: int) -> tuple[list[Case], str | None]:
    """Keyset page, newest first; no count."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(
            f"page_size 应在 1 到 {MAX_PAGE_SIZE} 之间",
            f"Field 'page_size' must be 1..{MAX_PAGE_SIZE}",
            field="page_size",
        )
    if cursor:
        at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(reported_at__lt=at) | Q(reported_at=at, pk__lt=pk))
    rows = list(qs.order_by("-reported_at", "-pk")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def nearby_open_cases(case: Case, *, radius_m: float | None = None, hours: int | None = None) -> list[Case]:
    """Open cases of the same class within the city's duplicate radius and time window."""
    radius = radius_m or case.city.duplicate_radius_m
    window = timedelta(hours=hours or case.city.duplicate_window_hours)
    return nearby(case.city_id, case.class_code, case.lon, case.lat, case.reported_at, radius, window, exclude=case.pk)


def nearby(city_id, class_code, lon, lat, at, radius_m, window, *, exclude=None) -> list[Case]:
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.01, math.cos(math.radians(lat))))
    qs = Case.objects.filter(
        city_id=city_id,
        class_code=class_code,
        state__in=workflow.OPEN_STATES,
        reported_at__gte=at - window,
        reported_at__lte=at + window,
        lon__range=(lon - dlon, lon + dlon),
        lat__range=(lat - dlat, lat + dlat),
    ).exclude(pk=exclude)
    found = []
    for other in qs.order_by("reported_at")[:50]:
        d = distance_m(lon, lat, other.lon, other.lat)
        if d <= radius_m:
            other.distance_m = round(d, 1)
            found.append(other)
    return found


def distance_m(lon1, lat1, lon2, lat2) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
