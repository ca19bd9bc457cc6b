"""The command center's map (地图): cases by light, clustered on the server, over the city's geography.

- `/center/map/` — the page: a full-height Leaflet map, the board's filters, layer switches, a legend.
- `/center/map/cases.json?bbox=&zoom=&<filters>` — the cases in view as GeoJSON: each case when few,
  else clusters bucketed by a cell size derived from the zoom, counted in one GROUP BY query.
  Never more than `MAX_FEATURES` features, whatever the box.
- `/center/map/heat.json?days=&<filters>` — cases per unit grid over a period (one GROUP BY grid_code).
- `/center/map/grids/` — the administrator's check of unit grids (see `chengguan.geo.admin_map`).

The box is filtered on the plain `lon`/`lat` columns and aggregated in SQL: no case row is loaded
into Python in cluster mode except the single cases shown as themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, F, IntegerField, Max, Min, QuerySet, Sum, Value, When
from django.db.models import Case as Choose
from django.db.models.functions import Coalesce, Concat, Floor
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chengguan.cases import clocks, queries, workflow
from chengguan.cases.models import Case, Source, State
from chengguan.catalog.models import SmallClass
from chengguan.errors import DomainError, Forbidden, Invalid, Unauthenticated
from chengguan.geo import admin_map
from chengguan.geo.models import Grid, Region
from chengguan.geo.services import parse_bbox
from chengguan.org.models import Department
from chengguan.web.roles import role_required

# Who opens the page, and who may read its data (a department sees its own cases only: the
# inbox may draw them with the same module).
PAGE_ROLES = ("operator", "shiftlead", "dispatcher", "leader", "evaluator", "admin")
DATA_ROLES = (*PAGE_ROLES, "department")

MAX_FEATURES = 2000  # never more features than this in one answer
DETAIL_ZOOM = 17  # from this zoom on, cases are not clustered while they fit in MAX_FEATURES
CLUSTER_PIXELS = 72  # side of a cluster cell on screen
CELL_KEY = 4096  # cell key = column × CELL_KEY + row; a box never holds MAX_FEATURES columns or rows
MERGE_WITHIN = 0.6  # cells whose centres are closer than this (in cells) are drawn as one
MAX_ZOOM = 22
GRID_MIN_ZOOM = 15  # unit grids are drawn from this zoom on
HEAT_DAYS = (1, 7, 30, 90, 365)
MAX_HEAT_DAYS = 366

LIGHTS = ("red", "yellow", "green", "none")
LAYERS = (
    ("districts", "区县", "Districts"),
    ("streets", "街道", "Streets"),
    ("communities", "社区", "Communities"),
    ("grids", "单元网格", "Unit grids"),
    ("cases", "案件", "Cases"),
    ("heat", "热力", "Heat"),
)
DEFAULT_LAYERS = {"districts", "streets", "communities", "grids", "cases"}

CASE_FIELDS = (
    "id",
    "number",
    "state",
    "source",
    "class_code",
    "small_class__name",
    "small_class__name_en",
    "lon",
    "lat",
    "address",
    "supervised",
    "urgency",
    "stage",
    "stage_due_at",
    "stage_yellow_at",
    "reported_at",
    "department__name",
)


def _english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def _language(request) -> str:
    return "en" if _english(request) else "zh-hans"


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def json_view(*roles: str) -> Callable:
    """A JSON endpoint for these roles: domain errors become `{"error": {code, message, field}}`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                user = request.user
                if not user.is_authenticated:
                    raise Unauthenticated("请先登录", "Sign in first")
                if user.role not in roles and not user.is_superuser:
                    raise Forbidden("您的岗位不能查看地图数据", "Your role may not read the map's data", field="role")
                return _json(view(request, *args, **kwargs))
            except DomainError as err:
                return _json(err.as_dict(_language(request)), status=err.status)

        return wrapper

    return decorator


# -- parameters ----------------------------------------------------------------------------------


def _instant(value: str, name: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    when = parse_datetime(value)
    if when is None:
        day = parse_date(value)
        if day is not None:
            when = datetime(day.year, day.month, day.day)  # noqa: DTZ001 — made aware just below
    if when is None:
        raise Invalid(f"{name} 应为日期或时间，例如 2026-11-23", f"Field '{name}' must be a date or time", field=name)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def _yes_no(value: str, name: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise Invalid(f"字段 {name} 应为是或否", f"Field '{name}' must be yes or no", field=name)


def filters_from(params) -> queries.Filters:
    """The board's filters from query parameters (the same names as `GET /api/v1/cases`)."""

    def text(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    return queries.Filters(
        state=text("state"),
        department=text("department"),
        grid=text("grid"),
        community=text("community"),
        street=text("street"),
        class_code=text("class_code"),
        light=text("light"),
        source=text("source"),
        created_after=_instant(params.get("created_after", ""), "created_after"),
        created_before=_instant(params.get("created_before", ""), "created_before"),
        supervised=_yes_no(params.get("supervised", ""), "supervised"),
        q=text("q"),
    )


def parse_zoom(value: str | None) -> int:
    try:
        zoom = int(value or "")
    except ValueError:
        zoom = -1
    if not 0 <= zoom <= MAX_ZOOM:
        raise Invalid(
            f"zoom 应为 0–{MAX_ZOOM} 的整数", f"Field 'zoom' must be a whole number 0–{MAX_ZOOM}", field="zoom"
        )
    return zoom


def cell_size(bbox: tuple[float, float, float, float], zoom: int) -> tuple[float, float]:
    """Cluster cell (degrees of longitude, latitude): about CLUSTER_PIXELS on screen at this zoom, grown
    until the box holds at most MAX_FEATURES cells, so clusters can never outnumber the limit."""
    min_lon, min_lat, max_lon, max_lat = bbox
    cell_lon = 360.0 / (256 * 2**zoom) * CLUSTER_PIXELS
    # Square on screen: a degree of latitude spans 1/cos(lat) times a degree of longitude in Web
    # Mercator. The latitude is rounded so that cells stay put while the map pans.
    ratio = max(0.05, math.cos(math.radians(round((min_lat + max_lat) / 2))))
    while True:
        cell_lat = cell_lon * ratio
        columns = math.floor((max_lon - min_lon) / cell_lon) + 2
        rows = math.floor((max_lat - min_lat) / cell_lat) + 2
        if columns * rows <= MAX_FEATURES:
            return cell_lon, cell_lat
        cell_lon *= max(1.05, math.sqrt(columns * rows / MAX_FEATURES))


# -- queries -------------------------------------------------------------------------------------


def cases_for(user, params) -> QuerySet[Case]:
    return queries.filter_cases(queries.visible_cases(user), filters_from(params))


def _plain(qs: QuerySet[Case]) -> QuerySet[Case]:
    """A queryset safe to aggregate: a DISTINCT one (from a join on tasks) becomes `pk IN (...)`."""
    if qs.query.distinct:
        return Case.objects.filter(pk__in=qs.values("pk"))
    return qs


def _light_sums(now: datetime) -> dict[str, Any]:
    def count(**conditions):
        return Sum(Choose(When(then=Value(1), **conditions), default=Value(0), output_field=IntegerField()))

    return {
        "red": count(stage_due_at__lt=now),
        "yellow": count(stage_due_at__gte=now, stage_yellow_at__lt=now),
        "green": count(stage_yellow_at__gte=now),
    }


def _light(row: dict, now: datetime) -> str:
    if row["stage_due_at"] is None:
        return "none"
    return clocks.light(now, row["stage_yellow_at"] or row["stage_due_at"], row["stage_due_at"])


def case_feature(row: dict, now: datetime, english: bool) -> dict:
    zh, en = workflow.STATE_LABELS.get(row["state"], (row["state"], row["state"]))
    class_name = (row["small_class__name_en"] or row["small_class__name"]) if english else row["small_class__name"]
    return {
        "type": "Feature",
        "id": row["number"],
        "geometry": {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
        "properties": {
            "kind": "case",
            "number": row["number"],
            "state": row["state"],
            "state_name": en if english else zh,
            "open": row["state"] in workflow.OPEN_STATES,
            "class_code": row["class_code"],
            "class_name": class_name,
            "light": _light(row, now),
            "address": row["address"],
            "department": row["department__name"],
            "supervised": row["supervised"],
            "urgency": row["urgency"],
            "source": row["source"],
            "reported_at": timezone.localtime(row["reported_at"]).strftime("%Y-%m-%d %H:%M"),
            "due_at": timezone.localtime(row["stage_due_at"]).strftime("%Y-%m-%d %H:%M")
            if row["stage_due_at"]
            else None,
            "url": f"/center/cases/{row['number']}/",
        },
    }


def cluster_feature(row: dict) -> dict:
    lights = {"red": row["red"] or 0, "yellow": row["yellow"] or 0, "green": row["green"] or 0}
    lights["none"] = row["n"] - sum(lights.values())
    worst = next((name for name in LIGHTS if lights[name]), "none")
    return {
        "type": "Feature",
        "id": f"c{int(row['cx'])}_{int(row['cy'])}",
        "geometry": {"type": "Point", "coordinates": [round(row["mid_lon"], 6), round(row["mid_lat"], 6)]},
        "properties": {
            "kind": "cluster",
            "count": row["n"],
            "light": worst,
            "lights": lights,
            "bbox": [round(row["west"], 6), round(row["south"], 6), round(row["east"], 6), round(row["north"], 6)],
        },
    }


def map_cases(user, params, *, english: bool = False, now: datetime | None = None) -> dict:
    """The cases in view, at most MAX_FEATURES features.

    From DETAIL_ZOOM on, each case by itself when they are no more than MAX_FEATURES (one query).
    Otherwise the box is cut into cells about CLUSTER_PIXELS wide and one GROUP BY query counts each
    cell's cases and lights; a cell holding one case shows that case (its row read by primary key),
    a cell holding more shows a cluster with its count, worst light and extent.
    """
    now = now or timezone.now()
    bbox = parse_bbox(params.get("bbox"), field="bbox")
    zoom = parse_zoom(params.get("zoom"))
    min_lon, min_lat, max_lon, max_lat = bbox
    qs = cases_for(user, params).filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)
    base = {"type": "FeatureCollection", "bbox": list(bbox), "zoom": zoom}

    if zoom >= DETAIL_ZOOM:
        # Read at most one row past the limit to know whether they all fit.
        rows = list(qs.values(*CASE_FIELDS)[: MAX_FEATURES + 1])
        if len(rows) <= MAX_FEATURES:
            features = [case_feature(r, now, english) for r in rows]
            return {
                **base,
                "mode": "cases",
                "total": len(rows),
                "lights": _count_lights(features),
                "features": features,
            }

    cell_lon, cell_lat = cell_size(bbox, zoom)
    # Cells lie on one grid for the whole world at this zoom (so they stay put while the map pans),
    # numbered from the box's south-west cell: one small integer key per cell, for one GROUP BY.
    x0, y0 = math.floor((min_lon + 180.0) / cell_lon), math.floor((min_lat + 90.0) / cell_lat)
    west0, south0 = x0 * cell_lon - 180.0, y0 * cell_lat - 90.0
    key = Floor((F("lon") - west0) / cell_lon) * CELL_KEY + Floor((F("lat") - south0) / cell_lat)
    cells = list(
        _plain(qs)
        .annotate(cell=key)
        .values("cell")
        .annotate(
            n=Count("id"),
            mid_lon=Avg("lon"),
            mid_lat=Avg("lat"),
            west=Min("lon"),
            south=Min("lat"),
            east=Max("lon"),
            north=Max("lat"),
            one=Min("id"),
            **_light_sums(now),
        )
        .order_by()
    )
    for c in cells:
        column, row = divmod(int(c["cell"]), CELL_KEY)
        c["cx"], c["cy"] = x0 + column, y0 + row
    cells = merge_close(cells, cell_lon, cell_lat)
    single_ids = [c["one"] for c in cells if c["n"] == 1]
    singles = {r["id"]: r for r in Case.objects.filter(pk__in=single_ids).values(*CASE_FIELDS)} if single_ids else {}
    features = [
        case_feature(singles[c["one"]], now, english) if c["n"] == 1 and c["one"] in singles else cluster_feature(c)
        for c in cells
    ]
    features.sort(key=lambda f: f["properties"].get("count", 1))  # big clusters drawn last, on top
    clustered = any(f["properties"]["kind"] == "cluster" for f in features)
    return {
        **base,
        "mode": "clusters" if clustered else "cases",
        "cell": [cell_lon, cell_lat],
        "total": sum(c["n"] for c in cells),
        "lights": _count_lights(features),
        "features": features,
    }


def merge_close(cells: list[dict], cell_lon: float, cell_lat: float, *, within: float = MERGE_WITHIN) -> list[dict]:
    """Merge cells whose centres lie closer than `within` cells: two clusters (or a case and a cluster)
    drawn where they would overlap become one. Bigger cells absorb smaller ones; each cell looks only
    at the cells kept around its own position, so this stays linear in the number of cells."""
    kept: dict[tuple[int, int], list[dict]] = {}
    out: list[dict] = []
    for cell in sorted(cells, key=lambda c: -c["n"]):
        key = (int(cell["cx"]), int(cell["cy"]))
        target = None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for other in kept.get((key[0] + dx, key[1] + dy), ()):
                    far = math.hypot(
                        (other["mid_lon"] - cell["mid_lon"]) / cell_lon, (other["mid_lat"] - cell["mid_lat"]) / cell_lat
                    )
                    if far < within:
                        target = other
                        break
                if target:
                    break
            if target:
                break
        if target is None:
            cell = dict(cell)
            kept.setdefault(key, []).append(cell)
            out.append(cell)
            continue
        total = target["n"] + cell["n"]
        target["mid_lon"] = (target["mid_lon"] * target["n"] + cell["mid_lon"] * cell["n"]) / total
        target["mid_lat"] = (target["mid_lat"] * target["n"] + cell["mid_lat"] * cell["n"]) / total
        for name in ("red", "yellow", "green"):
            target[name] = (target[name] or 0) + (cell[name] or 0)
        target["west"], target["south"] = min(target["west"], cell["west"]), min(target["south"], cell["south"])
        target["east"], target["north"] = max(target["east"], cell["east"]), max(target["north"], cell["north"])
        target["one"] = min(target["one"], cell["one"])
        target["n"] = total
    return out


def _count_lights(features: list[dict]) -> dict[str, int]:
    totals = dict.fromkeys(LIGHTS, 0)
    for feature in features:
        props = feature["properties"]
        if props["kind"] == "cluster":
            for name, n in props["lights"].items():
                totals[name] += n
        else:
            totals[props["light"]] += 1
    return totals


def heat(user, params, *, now: datetime | None = None) -> dict:
    """Cases per unit grid reported over the last `days` (or between created_after and created_before)."""
    now = now or timezone.now()
    raw = (params.get("days") or "7").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HEAT_DAYS:
        raise Invalid(
            f"days 应为 1–{MAX_HEAT_DAYS} 的整数",
            f"Field 'days' must be a whole number 1–{MAX_HEAT_DAYS}",
            field="days",
        )
    days = int(raw)
    qs = cases_for(user, params)
    start = None
    if not params.get("created_after"):
        start = now - timedelta(days=days)
        qs = qs.filter(reported_at__gte=start)
    # Grouped on an expression rather than the bare column: SQLite would otherwise walk the whole
    # grid_code index to save itself a sort, reading every case of the city.
    counts = list(
        _plain(qs)
        .exclude(grid_code="")
        .values(code=Concat("grid_code", Value("")))
        .annotate(n=Count("id"))
        .order_by("-n", "code")
    )
    places = (
        {
            g["code"]: g
            for g in Grid.objects.filter(code__in=[c["code"] for c in counts]).values(
                "code", "name", "center_lon", "center_lat", "community__name"
            )
        }
        if counts
        else {}
    )
    grids = [
        {
            "code": c["code"],
            "name": places[c["code"]]["name"] or places[c["code"]]["community__name"],
            "count": c["n"],
            "lon": round(places[c["code"]]["center_lon"], 6),
            "lat": round(places[c["code"]]["center_lat"], 6),
        }
        for c in counts
        if c["code"] in places
    ]
    return {
        "days": None if start is None else days,
        "from": (start or _instant(params["created_after"], "created_after")).isoformat(),
        "to": now.isoformat(),
        "total": sum(g["count"] for g in grids),
        "max": max((g["count"] for g in grids), default=0),
        "grids": grids,
    }


# -- views ---------------------------------------------------------------------------------------


@json_view(*DATA_ROLES)
def cases_json(request):
    return map_cases(request.user, request.GET, english=_english(request))


@json_view(*DATA_ROLES)
def heat_json(request):
    return heat(request.user, request.GET)


def _extent(city_id) -> list[float] | None:
    # A grid imported without its extent counts by its centre.
    box = Grid.objects.filter(city_id=city_id).aggregate(
        a=Min(Coalesce("min_lon", "center_lon")),
        b=Min(Coalesce("min_lat", "center_lat")),
        c=Max(Coalesce("max_lon", "center_lon")),
        d=Max(Coalesce("max_lat", "center_lat")),
    )
    if box["a"] is None:
        return None
    return [box["a"], box["b"], box["c"], box["d"]]


@role_required(*PAGE_ROLES)
def map_page(request):
    user = request.user
    english = _english(request)
    city_id = user.city_id
    departments = Department.objects.order_by("code")
    streets = Region.objects.filter(level=Region.Level.STREET).order_by("code")
    classes = SmallClass.objects.order_by("kind", "code")
    if city_id:
        departments = departments.filter(city_id=city_id)
        streets = streets.filter(city_id=city_id)
    state_choices = [
        (s, (workflow.STATE_LABELS[s][1] if english else workflow.STATE_LABELS[s][0])) for s in State.values
    ]
    picked = {
        name: request.GET.get(name, "")
        for name in (
            "state",
            "light",
            "department",
            "street",
            "class_code",
            "source",
            "supervised",
            "q",
            "days",
            "period",
        )
    }
    if "state" not in request.GET:
        picked["state"] = "open"
    picked["days"] = picked["days"] if picked["days"].isdigit() else "7"
    shown = set(request.GET["layers"].split(",")) if "layers" in request.GET else DEFAULT_LAYERS
    context = {
        "departments": list(departments.values("code", "name")),
        "streets": list(streets.values("code", "name")),
        "classes": [
            {"code": c["code"], "name": (c["name_en"] or c["name"]) if english else c["name"], "kind": c["kind"]}
            for c in classes.values("code", "name", "name_en", "kind")
        ],
        "states": state_choices,
        "sources": [(value, workflow.SOURCE_LABELS.get(value, (label, label))[int(english)])
                    for value, label in Source.choices],
        "heat_days": HEAT_DAYS,
        "layers": [(name, zh if not english else en, name in shown) for name, zh, en in LAYERS],
        "picked": picked,
        "is_admin": user.is_superuser or user.role == "admin",
        "config": {
            "casesUrl": "/center/map/cases.json",
            "heatUrl": "/center/map/heat.json",
            "regionsUrl": "/api/v1/geo/regions",
            "gridsUrl": "/api/v1/geo/grids",
            "boardUrl": "/center/",
            "extent": _extent(city_id) if city_id else None,
            "gridMinZoom": GRID_MIN_ZOOM,
            "lang": "en" if english else "zh",
            "tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION},
        },
    }
    return render(request, "cases/maps/map.html", context)


urlpatterns = [
    path("", map_page, name="map"),
    path("cases.json", cases_json, name="map-cases"),
    path("heat.json", heat_json, name="map-heat"),
    path("grids/", admin_map.grid_check, name="map-grids"),
]
