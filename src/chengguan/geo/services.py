"""Geography use cases: versions, point location, GeoJSON import and export.

The only code that writes regions and grids. Every change of geography records a
`GeoVersion`, and each process rebuilds a city's `GridLocator` when it sees a newer one.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.db.models import Count, Max, Q, TextField
from django.db.models.functions import Cast
from django.db.models.signals import post_save
from django.dispatch import receiver

from chengguan.errors import Invalid, NotFound
from chengguan.geo.coords import WGS84, from_wgs84, normalize_crs, to_wgs84
from chengguan.geo.geometry import centre, convert, from_geojson, geodesic_area_m2, geojson_in, to_geojson
from chengguan.geo.importing import (
    DISTRICT,
    GRID,
    LEVEL_ZH,
    LEVELS,
    REGION_LEVELS,
    GeoImportError,
    ImportProblem,
    Item,
    Progress,
    no_progress,
    read_features,
)
from chengguan.geo.locator import GridLocator
from chengguan.geo.models import City, GeoVersion, Grid, Region
from chengguan.ttl import TTLMemo

# `GET /grids?bbox=` returns at most this many features.
GRID_FEATURE_LIMIT = 2000


# -- cities and versions -------------------------------------------------------------------


def city_for(user=None, code: str | None = None) -> City:
    """The city a request is about: `code` if given, else the user's, else the only one."""
    if code:
        city = City.objects.filter(code=code).first()
        if city is None:
            raise NotFound(f"城市“{code}”不存在", f"No city with code '{code}'", field="city")
        return city
    if user is not None and getattr(user, "city_id", None):
        return user.city
    cities = list(City.objects.all()[:2])
    if len(cities) == 1:
        return cities[0]
    if not cities:
        raise NotFound("尚未配置任何城市", "No city has been set up yet", field="city")
    raise Invalid("请用 city 参数指定城市", "Name the city with the 'city' parameter", field="city")


def create_city(code: str, *, name: str, timezone: str = "Asia/Shanghai", name_en: str = "", calendar=None) -> City:
    """A new city, with the default working calendar unless one is given."""
    if calendar is None:
        calendar = default_calendar()
    return City.objects.create(code=code, name=name, name_en=name_en, timezone=timezone, calendar=calendar)


def default_calendar():
    """The default working calendar, from the calendar app when it offers one."""
    if importlib.util.find_spec("chengguan.worktime.services") is not None:
        from chengguan.worktime import services as worktime_services

        make = getattr(worktime_services, "default_calendar", None)
        if make is not None:
            return make()
    from chengguan.worktime.models import WorkCalendar

    calendar, _ = WorkCalendar.objects.get_or_create(
        code="cn-default",
        defaults={
            "name": "中国法定工作日历",
            "timezone": "Asia/Shanghai",
            "working_hours": [["08:30", "12:00"], ["13:30", "17:30"]],
        },
    )
    return calendar


def bump_version(city: City, note: str = "") -> GeoVersion:
    """Record a change of the city's geography, so that every process rebuilds its locator."""
    version = GeoVersion.objects.create(city=city, note=note[:200])
    _KEYS.forget(city.pk)
    with _LOCK:
        _LOCATORS.pop(city.pk, None)
    return version


@receiver(post_save, sender=GeoVersion)
def _forget_geography_key(sender, instance: GeoVersion, **kwargs) -> None:
    _KEYS.forget(instance.city_id)


def latest_version(city: City) -> GeoVersion | None:
    return GeoVersion.objects.filter(city=city).order_by("-id").first()


# -- point location -----------------------------------------------------------------------


@dataclass(frozen=True)
class CityLocator:
    """A city's grid locator plus, per grid index, the grid's id and region codes."""

    key: tuple
    locator: GridLocator
    grid_ids: np.ndarray
    community_codes: np.ndarray
    street_codes: np.ndarray
    district_codes: np.ndarray
    area_classes: np.ndarray


@dataclass(frozen=True)
class PointCodes:
    """Where a point lies, from the locator's memory alone (no database read)."""

    grid_id: int
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    area_class: str
    lon: float  # WGS84
    lat: float


@dataclass(frozen=True)
class Located:
    grid: Grid
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    lon: float  # WGS84
    lat: float


@dataclass(frozen=True)
class LocatedMany:
    """Per point: grid id (-1 outside) and codes (None outside), as numpy arrays."""

    grid_id: np.ndarray
    grid_code: np.ndarray
    community_code: np.ndarray
    street_code: np.ndarray
    district_code: np.ndarray

    @property
    def inside(self) -> np.ndarray:
        return self.grid_id >= 0

    def __len__(self) -> int:
        return len(self.grid_id)


_LOCATORS: dict[int, CityLocator] = {}
_LOCK = threading.Lock()


# Another process's geography change reaches this one within two seconds; this process's own
# changes (bump_version) clear the memo at once.
_KEYS: TTLMemo[tuple] = TTLMemo(seconds=2.0)


def _geography_key(city: City) -> tuple:
    key = _KEYS.get(city.pk, lambda: _read_geography_key(city))
    if key[0] != "version":  # grids written without a version: look every time
        _KEYS.forget(city.pk)
    return key


def _read_geography_key(city: City) -> tuple:
    latest = GeoVersion.objects.filter(city=city).order_by("-id").values_list("id", "changed_at").first()
    if latest is not None:
        return ("version", *latest)
    # No version recorded (grids written by hand): fall back to what the grid table shows.
    stats = Grid.objects.filter(city=city).aggregate(n=Count("id"), last=Max("id"))
    return ("grids", stats["n"], stats["last"])


def _build_locator(city: City, key: tuple) -> CityLocator:
    # The outlines as stored text, parsed all at once (a thousand grids: 2 ms, not 30).
    rows = list(
        Grid.objects.filter(city=city)
        .order_by("code")
        .annotate(outline=Cast("geometry", TextField()))
        .values_list("id", "code", "community__code", "street_code", "district_code", "outline", "area_class")
    )
    shapes = shapely.force_2d(shapely.from_geojson(np.array([row[5] for row in rows], dtype=object)))
    locator = GridLocator.from_geometries([row[1] for row in rows], shapes)
    return CityLocator(
        key=key,
        locator=locator,
        grid_ids=np.array([row[0] for row in rows], dtype=np.int64),
        community_codes=np.array([row[2] for row in rows], dtype=object),
        street_codes=np.array([row[3] for row in rows], dtype=object),
        district_codes=np.array([row[4] for row in rows], dtype=object),
        area_classes=np.array([row[6] for row in rows], dtype=object),
    )


def locator_for(city: City) -> CityLocator:
    """The city's locator, rebuilt when its latest GeoVersion has changed."""
    key = _geography_key(city)
    cached = _LOCATORS.get(city.pk)
    if cached is not None and cached.key == key:
        return cached
    with _LOCK:
        cached = _LOCATORS.get(city.pk)
        if cached is None or cached.key != key:
            cached = _build_locator(city, key)
            _LOCATORS[city.pk] = cached
    return cached


def clear_locators() -> None:
    _KEYS.forget()
    with _LOCK:
        _LOCATORS.clear()


def check_point(lon: Any, lat: Any) -> tuple[float, float]:
    """Finite floats in range, or a 422 naming `lon` or `lat`."""
    values = []
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or abs(number) > limit:
            raise Invalid(
                f"{'经度' if name == 'lon' else '纬度'} {value} 无效（应在 ±{limit:g} 之间）",
                f"{'Longitude' if name == 'lon' else 'Latitude'} {value} is invalid (must be within ±{limit:g})",
                field=name,
            )
        values.append(number)
    return values[0], values[1]


def locate_codes(city: City, lon: float, lat: float, crs: str = WGS84) -> PointCodes:
    """Like `locate`, answered from the locator's memory: the hot path of case intake."""
    crs = normalize_crs(crs)
    lon, lat = check_point(lon, lat)
    wlon, wlat = to_wgs84(lon, lat, crs)
    found = locator_for(city)
    index = found.locator.locate(wlon, wlat)
    if index is None:
        raise Invalid("位置不在本市网格范围内", "The point is outside the city's grids", field="lon")
    return PointCodes(
        grid_id=int(found.grid_ids[index]),
        grid_code=found.locator.codes[index],
        community_code=found.community_codes[index],
        street_code=found.street_codes[index],
        district_code=found.district_codes[index],
        area_class=found.area_classes[index],
        lon=float(wlon),
        lat=float(wlat),
    )


def locate(city: City, lon: float, lat: float, crs: str = WGS84) -> Located:
    """The grid, community, street and district of one point; 422 (`lon`) outside the grids."""
    crs = normalize_crs(crs)
    lon, lat = check_point(lon, lat)
    wlon, wlat = to_wgs84(lon, lat, crs)
    found = locator_for(city)
    index = found.locator.locate(wlon, wlat)
    grid = None
    if index is not None:
        grid = (
            Grid.objects.select_related("community__parent__parent")
            # Boundaries are big JSON documents; a point lookup needs none of them.
            .defer("geometry", "community__geometry", "community__parent__geometry",
                   "community__parent__parent__geometry")
            .filter(pk=int(found.grid_ids[index]))
            .first()
        )
    if grid is None:
        raise Invalid("位置不在本市网格范围内", "The point is outside the city's grids", field="lon")
    return Located(
        grid=grid,
        grid_code=grid.code,
        community_code=grid.community.code,
        street_code=grid.street_code,
        district_code=grid.district_code,
        lon=wlon,
        lat=wlat,
    )


def locate_many(city: City, lons, lats, crs: str = WGS84) -> LocatedMany:
    """Locate whole arrays of points at once; points outside every grid get id -1 and None."""
    crs = normalize_crs(crs)
    x = np.asarray(lons, dtype=np.float64).ravel()
    y = np.asarray(lats, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise Invalid("经度与纬度的个数不一致", "lons and lats differ in length", field="lat")
    x, y = to_wgs84(x, y, crs)
    found = locator_for(city)
    index = found.locator.locate_index_many(x, y)
    hit = index >= 0
    take = np.where(hit, index, 0)

    def pick(values: np.ndarray) -> np.ndarray:
        out = np.empty(len(index), dtype=object)
        if len(values):
            out[hit] = values[take[hit]]
        return out

    grid_id = np.full(len(index), -1, dtype=np.int64)
    if len(found.grid_ids):
        grid_id[hit] = found.grid_ids[take[hit]]
    return LocatedMany(
        grid_id=grid_id,
        grid_code=pick(found.locator.codes),
        community_code=pick(found.community_codes),
        street_code=pick(found.street_codes),
        district_code=pick(found.district_codes),
    )


# -- map queries ---------------------------------------------------------------------------


def parse_bbox(text: str | None, *, field: str = "bbox") -> tuple[float, float, float, float]:
    """`minlon,minlat,maxlon,maxlat` as four floats, or a 422 naming the field."""
    parts = [p.strip() for p in (text or "").split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise Invalid(
            "bbox 应为 4 个数：最小经度,最小纬度,最大经度,最大纬度",
            "bbox must be four numbers: minlon,minlat,maxlon,maxlat",
            field=field,
        )
    min_lon, min_lat, max_lon, max_lat = values
    if min_lon > max_lon or min_lat > max_lat:
        raise Invalid(
            "bbox 的最小值大于最大值",
            "bbox has a minimum greater than its maximum",
            field=field,
        )
    if abs(min_lon) > 180 or abs(max_lon) > 180 or abs(min_lat) > 90 or abs(max_lat) > 90:
        raise Invalid("bbox 超出经纬度范围", "bbox is outside the range of longitudes and latitudes", field=field)
    return min_lon, min_lat, max_lon, max_lat


def grids_in_bbox(
    city: City,
    bbox: tuple[float, float, float, float],
    *,
    crs: str = WGS84,
    community: str | None = None,
    limit: int = GRID_FEATURE_LIMIT,
) -> tuple[list[Grid], bool]:
    """Grids of the city whose polygon meets the box (given in `crs`), by code; and whether
    the list was cut at `limit`."""
    crs = normalize_crs(crs)
    box = shapely.box(*bbox)
    # GCJ-02 and BD-09 differ from WGS84 only over China: a box reaching far beyond it (a
    # whole-world default, the poles) is taken as it is rather than warped into nonsense.
    if crs != WGS84 and bbox[1] > -80 and bbox[3] < 80:
        step = max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 8
        converted = convert(shapely.segmentize(box, step) if step > 0 else box, crs, WGS84)
        if converted.is_valid and not converted.is_empty:
            box = converted
    shapely.prepare(box)
    min_lon, min_lat, max_lon, max_lat = box.bounds
    queryset = Grid.objects.filter(city=city).filter(
        Q(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)
        | Q(min_lon__isnull=True)
    )
    if community:
        queryset = queryset.filter(community__code=community)
    found: list[Grid] = []
    for grid in queryset.select_related("community").order_by("code").iterator(chunk_size=500):
        # Grids whose extent lies inside the box need no exact test; the others get one.
        inside = grid.min_lon is not None and box.covers(
            shapely.box(grid.min_lon, grid.min_lat, grid.max_lon, grid.max_lat)
        )
        if not inside and not from_geojson(grid.geometry).intersects(box):
            continue
        found.append(grid)
        if len(found) > limit:
            return found[:limit], True
    return found, False


def grid_feature(grid: Grid, crs: str = WGS84) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": grid.code,
        "geometry": geojson_in(grid.geometry, crs),
        "properties": {
            "level": GRID,
            "code": grid.code,
            "name": grid.name,
            "parent": grid.community.code,
            "community_code": grid.community.code,
            "street_code": grid.street_code,
            "district_code": grid.district_code,
            "area_class": grid.area_class,
            "area_m2": round(grid.area_m2, 2),
            "center": list(from_wgs84(grid.center_lon, grid.center_lat, crs)),
        },
    }


def region_feature(region: Region, crs: str = WGS84) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": region.code,
        "geometry": geojson_in(region.geometry, crs),
        "properties": {
            "level": region.level,
            "code": region.code,
            "name": region.name,
            "parent": region.parent.code if region.parent_id else None,
            "area_m2": round(region.area_m2, 2),
        },
    }


def feature_collection(features: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **extra}


def regions_of(city: City, level: str | None = None, *, parent: str | None = None):
    if level is not None and level not in REGION_LEVELS:
        raise Invalid(
            f"层级“{level}”无效（可选 district、street、community）",
            f"Unknown level '{level}' (use district, street or community)",
            field="level",
        )
    queryset = Region.objects.filter(city=city).select_related("parent").order_by("code")
    if level:
        queryset = queryset.filter(level=level)
    if parent:
        queryset = queryset.filter(parent__code=parent)
    return queryset


def export_geojson(city: City, level: str | None = GRID, *, crs: str = WGS84) -> dict[str, Any]:
    """The city's geography as a FeatureCollection that `import_geojson` reads back.

    `level`: district, street, community, grid, or None/"all" for every level (regions first)."""
    crs = normalize_crs(crs)
    if level in (None, "", "all"):
        levels = LEVELS
    elif level in LEVELS:
        levels = (level,)
    else:
        raise Invalid(
            f"层级“{level}”无效（可选 district、street、community、grid、all）",
            f"Unknown level '{level}' (use district, street, community, grid or all)",
            field="level",
        )
    features: list[dict[str, Any]] = []
    for name in levels:
        if name == GRID:
            grids = Grid.objects.filter(city=city).select_related("community").order_by("code")
            features.extend(grid_feature(g, crs) for g in grids.iterator(chunk_size=1000))
        else:
            features.extend(region_feature(r, crs) for r in regions_of(city, name))
    return feature_collection(features, crs=crs)


# -- GeoJSON import ------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    warnings: list[str] = field(default_factory=list)
    version: GeoVersion | None = None

    @property
    def total(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def summary(self) -> str:
        """What was written, Chinese then English."""
        levels = [level for level in LEVELS if self.created[level] or self.updated[level]]
        if not levels:
            return "没有要素 · no features"
        zh = "；".join(f"{LEVEL_ZH[v]} 新增 {self.created[v]}、更新 {self.updated[v]}" for v in levels)
        en = "; ".join(f"{v}: {self.created[v]} created, {self.updated[v]} updated" for v in levels)
        return f"{zh} · {en}"


def import_geojson(city: City, collection: dict, *, crs: str = WGS84, progress: Progress | None = None) -> ImportReport:
    """Import districts, streets, communities and grids from a FeatureCollection.

    Each feature has properties `level` (district|street|community|grid), `code`, `name`,
    `parent` (the parent region's code; a grid's community) and, for grids, `area_class`
    (A/B/C, default B). Geometries are Polygon/MultiPolygon in `crs`, stored as WGS84.
    Everything is checked before anything is written; any problem refuses the whole file
    with `GeoImportError` naming each feature (1-based index and code). Regions and grids
    are upserted by code; nothing absent from the file is deleted. `progress(iterable,
    label, total)` may wrap the long loops (the command passes a terminal progress bar).
    """
    crs = normalize_crs(crs)
    progress = progress or no_progress
    items, known = read_features(city, collection, crs=crs, progress=progress)

    report = ImportReport()
    with transaction.atomic():
        regions = {r.code: r for r in Region.objects.filter(city=city)}
        for level in REGION_LEVELS:
            _write_regions(city, [i for i in items if i.level == level], regions, report, progress)
        _write_grids(city, [i for i in items if i.level == GRID], regions, known, report, progress)
        _warn_grids_outside_communities(items, regions, report)
        if report.total:
            report.version = bump_version(city, note=f"GeoJSON import: {report.summary()}")
    return report


def _shape_fields(geometry) -> dict[str, Any]:
    if geometry is None:
        return {"geometry": None, "area_m2": 0.0}
    return {"geometry": to_geojson(geometry), "area_m2": geodesic_area_m2(geometry)}


def _write_regions(city, batch: list[Item], regions: dict[str, Region], report: ImportReport, progress) -> None:
    new: list[Region] = []
    changed: list[Region] = []
    for item in progress(batch, f"写入{LEVEL_ZH[batch[0].level] if batch else ''} writing", len(batch)):
        values = {
            "name": item.name,
            "level": item.level,
            "parent": regions[item.parent] if item.level != DISTRICT and item.parent else None,
            **_shape_fields(item.geometry),
        }
        region = regions.get(item.code)
        if region is None:
            region = Region(city=city, code=item.code, **values)
            new.append(region)
        else:
            for key, value in values.items():
                setattr(region, key, value)
            changed.append(region)
    if new:
        Region.objects.bulk_create(new, batch_size=500)
        if any(r.pk is None for r in new):  # databases that do not return keys
            stored = {r.code: r for r in Region.objects.filter(city=city, code__in=[r.code for r in new])}
            new = [stored[r.code] for r in new]
    if changed:
        Region.objects.bulk_update(changed, ["name", "level", "parent", "geometry", "area_m2"], batch_size=500)
    for region in new:
        regions[region.code] = region
    if batch:
        report.created[batch[0].level] += len(new)
        report.updated[batch[0].level] += len(changed)


def _write_grids(city, batch: list[Item], regions: dict[str, Region], known, report: ImportReport, progress) -> None:
    existing = {g.code: g for g in Grid.objects.filter(city=city, code__in=[i.code for i in batch])}
    new: list[Grid] = []
    changed: list[Grid] = []
    for item in progress(batch, "写入网格 writing grids", len(batch)):
        street = known[item.parent][1] or ""
        district = known[street][1] if street in known else ""
        lon, lat = centre(item.geometry)
        min_lon, min_lat, max_lon, max_lat = item.geometry.bounds
        values = {
            "name": item.name,
            "community": regions[item.parent],
            "street_code": street,
            "district_code": district or "",
            "geometry": to_geojson(item.geometry),
            "area_m2": geodesic_area_m2(item.geometry),
            "area_class": item.area_class,
            "center_lon": lon,
            "center_lat": lat,
            "min_lon": min_lon,
            "min_lat": min_lat,
            "max_lon": max_lon,
            "max_lat": max_lat,
        }
        grid = existing.get(item.code)
        if grid is None:
            new.append(Grid(city=city, code=item.code, **values))
        else:
            for key, value in values.items():
                setattr(grid, key, value)
            changed.append(grid)
    if new:
        Grid.objects.bulk_create(new, batch_size=500)
    if changed:
        fields = [
            "name", "community", "street_code", "district_code", "geometry", "area_m2", "area_class",
            "center_lon", "center_lat", "min_lon", "min_lat", "max_lon", "max_lat",
        ]  # fmt: skip
        Grid.objects.bulk_update(changed, fields, batch_size=500)
    report.created[GRID] += len(new)
    report.updated[GRID] += len(changed)


def _warn_grids_outside_communities(items: list[Item], regions: dict[str, Region], report: ImportReport) -> None:
    shapes: dict[str, Any] = {}
    for item in items:
        if item.level != GRID or item.geometry is None:
            continue
        community = regions.get(item.parent or "")
        if community is None or not community.geometry:
            continue
        if community.code not in shapes:
            shapes[community.code] = from_geojson(community.geometry)
        if not shapes[community.code].covers(item.geometry.point_on_surface()):
            report.warnings.append(
                f"第 {item.index} 个要素（网格 {item.code}）不在所属社区 {community.code} 的边界内"
                f" · feature #{item.index} (grid {item.code}) lies outside its community {community.code}"
            )


__all__ = [
    "GeoImportError",
    "ImportProblem",
    "ImportReport",
    "Located",
    "LocatedMany",
    "bump_version",
    "city_for",
    "create_city",
    "export_geojson",
    "grids_in_bbox",
    "import_geojson",
    "locate",
    "locate_many",
]
