"""城管通 · the field page at /m/ for inspectors and volunteers.

One phone page with three tabs: 任务 (the inspector's verify and check tasks, nearest first when
the phone gives a position), 上报 (a report with photos, GPS on a small map, a class picker and a
duplicate warning; sent through the API from an offline queue kept on the phone) and 我的 (this
month's figures and recent reports). A service worker at /m/sw.js keeps the page and its static
files so that it opens without signal; a case page at /m/cases/<number>/ shows one case.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Avg, Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from chengguan.cases import clocks, present, queries, workflow
from chengguan.cases.models import Attachment, Case, Event, StageClock
from chengguan.cases.permissions import allowed_operations
from chengguan.catalog.models import SmallClass
from chengguan.errors import NotFound
from chengguan.geo.models import City, Grid
from chengguan.geo.services import feature_collection, grid_feature
from chengguan.ttl import TTLMemo
from chengguan.web.roles import role_required
from chengguan.worktime.services import working_clock

FIELD_ROLES = ("inspector", "volunteer")
TASK_STAGES = (workflow.VERIFY, workflow.CHECK)
TASK_STATES = {workflow.VERIFY: workflow.VERIFYING, workflow.CHECK: workflow.CHECKING}
RECENT_REPORTS = 15
FREQUENT_CLASSES = 8
# Which coordinate system the configured background tiles use: points picked on GCJ-02 tiles
# (AMap-style Chinese web maps) are sent with crs=gcj02; with no tiles the map is WGS84 vectors.
TILE_CRS_CHOICES = ("wgs84", "gcj02")

# The files the service worker keeps so the page opens without signal.
SHELL_STATIC = (
    "web/app.css",
    "web/icon.svg",
    "cases/mobile.css",
    "cases/mobile.js",
    "vendor/htmx/htmx.min.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
)


def _tile_crs() -> str:
    value = getattr(settings, "MAP_TILE_CRS", "wgs84") or "wgs84"
    return value if value in TILE_CRS_CHOICES else "wgs84"


def _position(request) -> tuple[float, float] | None:
    """The phone's WGS84 position from ?lon=&lat=, or None when absent or not a point."""
    try:
        lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _city(user) -> City | None:
    if not user.city_id:
        return None
    return City.objects.select_related("calendar").filter(pk=user.city_id).first()


def _thumbs(case_ids: list[int]) -> dict[tuple[int, str], int]:
    """The first photo of each case per stage (report, handle), by (case id, stage): one query."""
    first: dict[tuple[int, str], int] = {}
    if not case_ids:
        return first
    rows = Attachment.objects.filter(case_id__in=case_ids, stage__in=("report", "handle")).order_by("id")
    for pk, case_id, stage in rows.values_list("id", "case_id", "stage"):
        first.setdefault((case_id, stage), pk)
    return first


def _photo(case: Case, attachment_id: int | None) -> dict | None:
    """The thumbnail and the full photo of one attachment (staff URLs; the page session may read them)."""
    if attachment_id is None:
        return None
    base = f"/api/v1/cases/{case.number}/attachments/{attachment_id}"
    return {"thumb": f"{base}?variant=thumb", "url": f"{base}?variant=public"}


def distance_text(metres: float | None) -> str:
    """320 m, 1.4 km: how far a task is from the phone."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    return f"{metres / 1000:.1f} km"


def duty_grid_ids(user):
    """The unit grids of the user's duty grids, as a subquery."""
    return Grid.objects.filter(duty_grids__inspectors=user).values("pk")


def task_clocks(user, city: City | None, *, now: datetime, position: tuple[float, float] | None = None) -> list[dict]:
    """Open verify and check clocks for this inspector: assigned to them, or in their duty grids.

    Nearest first when the phone's position is known, otherwise the most urgent first. Four
    queries whatever the number of tasks: clocks with their cases, photos, feedback notes (and
    the city's calendar, read by the caller).
    """
    if user.role != "inspector":
        return []
    rows = (
        StageClock.objects.filter(ended_at__isnull=True, stage__in=TASK_STAGES,
                                  case__state__in=list(TASK_STATES.values()))
        .filter(Q(assignee=user) | Q(case__grid_id__in=duty_grid_ids(user)))
        .select_related("case__small_class", "assignee")
        .order_by("due_at", "id")
    )
    if user.city_id:
        rows = rows.filter(case__city_id=user.city_id)
    found = [c for c in rows[:200] if c.case.state == TASK_STATES[c.stage]]
    case_ids = [c.case_id for c in found]
    photos = _thumbs(case_ids)
    results: dict[int, str] = {}
    check_ids = [c.case_id for c in found if c.stage == workflow.CHECK]
    if check_ids:
        feedback = Event.objects.filter(case_id__in=check_ids, operation="feedback").order_by("at", "id")
        for case_id, data, note in feedback.values_list("case_id", "data", "note"):
            results[case_id] = (data or {}).get("result") or note
    cal = working_clock(city.calendar) if city is not None else None
    tasks = []
    for clock in found:
        case = clock.case
        at = clock.paused_at or now
        task = {
            "clock": clock,
            "case": case,
            "stage": clock.stage,
            "operation": clock.stage,  # the operation that ends this clock has the stage's name
            "light": clocks.light(at, clock.yellow_at, clock.due_at),
            "minutes_left": (clocks.minutes_left(cal, at, clock.due_at, working=clock.working_time)
                             if cal is not None else None),
            "due_at": clock.due_at,
            "distance_m": (round(queries.distance_m(position[0], position[1], case.lon, case.lat))
                           if position else None),
            "report_photo": _photo(case, photos.get((case.pk, "report"))),
            "handle_photo": _photo(case, photos.get((case.pk, "handle"))),
            "result": results.get(case.pk, ""),
            "other_assignee": clock.assignee if clock.assignee_id not in (None, user.pk) else None,
        }
        task["distance_text"] = distance_text(task["distance_m"])
        task["overdue"] = task["minutes_left"] is not None and task["minutes_left"] < 0
        task["minutes_abs"] = abs(task["minutes_left"]) if task["minutes_left"] is not None else None
        tasks.append(task)
    if position:
        tasks.sort(key=lambda t: (t["distance_m"], t["due_at"]))
    return tasks


def recent_reports(user) -> list[dict]:
    rows = list(
        Case.objects.filter(reporter=user).select_related("small_class").order_by("-reported_at", "-pk")[
            :RECENT_REPORTS
        ]
    )
    photos = _thumbs([c.pk for c in rows])
    return [
        {
            "case": c,
            "state_name": workflow.STATE_LABELS[c.state],
            "closed": c.state in workflow.END_STATES,
            "photo": _photo(c, photos.get((c.pk, "report"))),
        }
        for c in rows
    ]


def month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _rate(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def figures(user, *, now: datetime) -> dict:
    """This month's counts: reports, valid (registered) reports, verify and check tasks on time / due.

    A task is due once it is done or past its deadline (DOMAIN.md, inspector indicators). Two queries.
    """
    start = month_start(now)
    reports = Case.objects.filter(reporter=user, reported_at__gte=start).aggregate(
        total=Count("pk"), valid=Count("pk", filter=Q(registered_at__isnull=False))
    )
    stages = {
        row["stage"]: row
        for row in StageClock.objects.filter(assignee=user, stage__in=TASK_STAGES, started_at__gte=start)
        .values("stage")
        .annotate(
            done=Count("pk", filter=Q(ended_at__isnull=False)),
            on_time=Count("pk", filter=Q(ended_at__isnull=False, on_time=True)),
            overdue=Count("pk", filter=Q(ended_at__isnull=True, due_at__lt=now)),
            open=Count("pk", filter=Q(ended_at__isnull=True)),
        )
    }
    out = {
        "month": timezone.localtime(now).strftime("%Y-%m"),
        "reports": reports["total"],
        "valid": reports["valid"],
        "valid_rate": _rate(reports["valid"], reports["total"]),
    }
    for stage in TASK_STAGES:
        row = stages.get(stage, {})
        due = row.get("done", 0) + row.get("overdue", 0)
        out[stage] = {"due": due, "on_time": row.get("on_time", 0), "done": row.get("done", 0),
                      "open": row.get("open", 0), "rate": _rate(row.get("on_time", 0), due)}
    return out


# The classes a city reports most change slowly; ten minutes old is fine for ordering a picker.
_CITY_FREQUENT: TTLMemo[list[str]] = TTLMemo(seconds=600.0)


def _city_frequent(city_id: int | None, now: datetime) -> list[str]:
    def compute() -> list[str]:
        qs = Case.objects.filter(reported_at__gte=now - timedelta(days=30))
        if city_id:
            qs = qs.filter(city_id=city_id)
        rows = qs.values("class_code").annotate(n=Count("pk")).order_by("-n", "class_code")[:FREQUENT_CLASSES * 2]
        return [r["class_code"] for r in rows]

    return _CITY_FREQUENT.get(city_id, compute)


def class_choices(user, *, now: datetime) -> dict:
    """Every active small class for the picker (filtered on the phone, also offline), the most used first."""
    mine = [
        r["class_code"]
        for r in Case.objects.filter(reporter=user, reported_at__gte=now - timedelta(days=90))
        .values("class_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "class_code")[:FREQUENT_CLASSES]
    ]
    frequent: list[str] = []
    for code in [*mine, *_city_frequent(user.city_id, now)]:
        if code not in frequent:
            frequent.append(code)
    classes = [
        {"code": s.code, "name": s.name, "en": s.name_en, "py": s.pinyin_initials, "kind": s.kind,
         "major": s.major.name, "major_en": s.major.name_en}
        for s in SmallClass.objects.filter(active=True).select_related("major").order_by("kind", "code")
    ]
    known = {c["code"] for c in classes}
    return {"classes": classes, "frequent": [c for c in frequent if c in known][:FREQUENT_CLASSES]}


def _page_context(request, *, now: datetime) -> dict:
    user = request.user
    city = _city(user)
    position = _position(request)
    tasks = task_clocks(user, city, now=now, position=position)
    return {
        "city": city,
        "position": position,
        "verify_tasks": [t for t in tasks if t["stage"] == workflow.VERIFY],
        "check_tasks": [t for t in tasks if t["stage"] == workflow.CHECK],
        "task_count": len(tasks),
        "is_inspector": user.role == "inspector",
        "reports": recent_reports(user),
        "figures": figures(user, now=now),
        "picker": class_choices(user, now=now),
        "tile_crs": _tile_crs(),
        "center": _map_center(user, city),
        "now": now,
    }


def _map_center(user, city: City | None) -> list[float]:
    """Where the report map opens before the phone has a fix: the middle of my duty grids, else of the city."""
    mine = Grid.objects.filter(pk__in=duty_grid_ids(user)).aggregate(lon=Avg("center_lon"), lat=Avg("center_lat"))
    if mine["lon"] is not None:
        return [round(mine["lon"], 6), round(mine["lat"], 6)]
    if city is not None:
        everywhere = Grid.objects.filter(city=city).aggregate(lon=Avg("center_lon"), lat=Avg("center_lat"))
        if everywhere["lon"] is not None:
            return [round(everywhere["lon"], 6), round(everywhere["lat"], 6)]
    return [120.0, 30.0]


@role_required(*FIELD_ROLES)
@require_GET
def home(request):
    context = _page_context(request, now=timezone.now())
    return render(request, "cases/mobile/home.html", context)


@role_required(*FIELD_ROLES)
@require_GET
def tasks(request):
    """The task lists alone (HTMX), nearest first from ?lon=&lat=."""
    user = request.user
    city = _city(user)
    position = _position(request)
    found = task_clocks(user, city, now=timezone.now(), position=position)
    return render(request, "cases/mobile/_tasks.html", {
        "verify_tasks": [t for t in found if t["stage"] == workflow.VERIFY],
        "check_tasks": [t for t in found if t["stage"] == workflow.CHECK],
        "task_count": len(found),
        "position": position,
        "is_inspector": user.role == "inspector",
    })


@role_required(*FIELD_ROLES)
@require_GET
def duty_grids(request):
    """The user's duty grids as GeoJSON (in the map's coordinate system): drawn on the report map."""
    crs = _tile_crs() if request.GET.get("crs") == "map" else "wgs84"
    grids = Grid.objects.filter(pk__in=duty_grid_ids(request.user)).select_related("community").order_by("code")
    return JsonResponse(feature_collection([grid_feature(g, crs) for g in grids], crs=crs))


@role_required(*FIELD_ROLES)
@require_GET
def case_page(request, number: str):
    """One case as the field sees it: photos, where, what, the history, and the buttons it may press."""
    try:
        case = queries.get_case_for_user(request.user, number)
    except NotFound:
        raise Http404(number) from None
    now = timezone.now()
    detail = present.case_detail(case, now=now)
    allowed = allowed_operations(request.user, case)
    clock = next((c for c in detail["clocks"] if c["ended_at"] is None), None)
    return render(request, "cases/mobile/case.html", {
        "case": case,
        "detail": detail,
        "state_name": workflow.STATE_LABELS[case.state],
        "clock": clock,
        "events": [
            {**e, "label": _operation_label(e["operation"]), "at_dt": _parse(e["at"])} for e in detail["events"]
        ][::-1],
        "operation": next((op for op in ("verify", "check") if op in allowed), None),
        "can_follow_up": "follow_up" in allowed,
    })


def _operation_label(operation: str) -> tuple[str, str]:
    if operation == "report":
        return ("上报", "report")
    rule = workflow.TABLE.get(operation)
    return (rule.label_zh, rule.label_en) if rule else (operation, operation)


def _parse(value: str | None):
    return datetime.fromisoformat(value) if value else None


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of the shell's static files and the worker itself: a new one replaces old caches."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        found = finders.find(name)
        if found:
            with open(found, "rb") as f:
                digest.update(f.read())
    digest.update(render_to_string("cases/mobile/sw.js", {"version": "", "shell": []}).encode())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request):
    """The service worker, served from /m/ so that its scope is the field page."""
    body = render_to_string("cases/mobile/sw.js", {
        "version": shell_version(),
        "shell": json.dumps([static(name) for name in SHELL_STATIC]),
    })
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/m/"
    return response


@require_GET
def manifest(request):
    """Add-to-home-screen: the field page opens like an app."""
    return JsonResponse({
        "name": "城管通 · chengguan field",
        "short_name": "城管通",
        "start_url": "/m/",
        "scope": "/m/",
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#0b5cad",
        "lang": "zh-Hans",
        "icons": [{"src": static("web/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }, content_type="application/manifest+json")


urlpatterns = [
    path("", home, name="mobile"),
    path("tasks", tasks, name="mobile-tasks"),
    path("grids.json", duty_grids, name="mobile-grids"),
    path("cases/<str:number>/", case_page, name="mobile-case"),
    path("sw.js", service_worker, name="mobile-sw"),
    path("manifest.webmanifest", manifest, name="mobile-manifest"),
]
