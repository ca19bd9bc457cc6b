"""The city, calendar, departments and grids an import needs, built from the export itself.

An import of a Baltimore export creates the city of Baltimore (`us-baltimore`, in its own
time zone, with a Monday–Friday 09:00–17:00 calendar) beside whatever cities are already
there. Its geography is a regular lattice of square unit grids laid over the data: the
cells that hold at least one request are stored, each in the district that most of its
requests name in the export's own area column (council district, borough …). Later imports
reuse the same lattice and add the cells they need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import shapely
from django.db import transaction

from chengguan.catalog.models import Kind, MajorClass, SmallClass
from chengguan.geo.models import City, Grid, Region
from chengguan.geo.services import create_city, import_geojson
from chengguan.imports.layouts import Layout, area_names, area_slug, slug
from chengguan.imports.models import AgencyMapping, ImportCity
from chengguan.org.models import Department, Role, User
from chengguan.worktime.models import WorkCalendar

METRES_PER_DEGREE = 111_320.0
DEFAULT_CELL_M = 1000
GRID_SEQUENCE_LIMIT = 999  # three-digit sequence inside a community
BLANK_AREA = "none"
LOCAL_MAJOR = "21"  # local extensions of the event classes start at 21 (DOMAIN.md)


class GeographyError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} · {en}")
        self.zh, self.en = zh, en


@dataclass
class GeoChange:
    districts: int = 0
    grids: int = 0
    new_city: bool = False
    departments: list[str] = field(default_factory=list)


# -- the city -------------------------------------------------------------------------------


def us_calendar(layout: Layout) -> WorkCalendar:
    """A Monday–Friday, 09:00–17:00 calendar in the city's zone (no holidays entered)."""
    calendar, _ = WorkCalendar.objects.get_or_create(
        code=layout.city_code,
        defaults={
            "name": f"{layout.city_name}工作日历（周一至周五 9:00–17:00）",
            "timezone": layout.timezone,
            "working_hours": [["09:00", "17:00"]],
        },
    )
    return calendar


def _fallback_class(layout: Layout, city: City) -> SmallClass:
    major, _ = MajorClass.objects.get_or_create(
        kind=Kind.EVENT, code=LOCAL_MAJOR, defaults={"name": "地方扩展", "name_en": "local extensions"}
    )
    taken = set(SmallClass.objects.filter(code__startswith=f"E{LOCAL_MAJOR}").values_list("code", flat=True))
    code = next(f"E{LOCAL_MAJOR}{n:02d}" for n in range(1, 100) if f"E{LOCAL_MAJOR}{n:02d}" not in taken)
    return SmallClass.objects.create(
        code=code,
        kind=Kind.EVENT,
        major=major,
        name=f"{layout.city_name}311其他诉求"[:40],
        name_en=f"{layout.city_name_en} 311: other requests",
        filing_condition="311 诉求，无对应标准小类",
        filing_condition_en="a 311 request with no matching standard class",
    )


@transaction.atomic
def ensure_city(layout: Layout, *, cell_m: int = DEFAULT_CELL_M) -> tuple[ImportCity, bool]:
    """The city of this layout with its import settings; created on the first import."""
    found = ImportCity.objects.select_related("city", "city__calendar", "fallback_class", "root_department",
                                              "actor").filter(city__code=layout.city_code).first()
    if found is not None:
        return found, False
    city = City.objects.filter(code=layout.city_code).first()
    if city is None:
        city = create_city(layout.city_code, name=layout.city_name, name_en=layout.city_name_en,
                           timezone=layout.timezone, calendar=us_calendar(layout))
    root, _ = Department.objects.get_or_create(
        code=f"{layout.key}-311",
        defaults={"name": f"{layout.city_name}311", "name_en": f"{layout.city_name_en} 311", "city": city},
    )
    actor, _ = User.objects.get_or_create(
        username=f"import-{layout.key}",
        defaults={"role": Role.DISPATCHER, "city": city, "display_name": f"{layout.city_name}311 数据导入",
                  "is_active": False},
    )
    if actor.has_usable_password():
        actor.set_unusable_password()
        actor.save(update_fields=["password"])
    lat0 = layout.centre[1]
    settings = ImportCity.objects.create(
        city=city,
        layout=layout.name,
        key=layout.key,
        cell_m=cell_m,
        origin_lon=layout.centre[0],
        origin_lat=lat0,
        step_lon=cell_m / (METRES_PER_DEGREE * math.cos(math.radians(lat0))),
        step_lat=cell_m / METRES_PER_DEGREE,
        fallback_class=_fallback_class(layout, city),
        root_department=root,
        actor=actor,
    )
    return ImportCity.objects.select_related("city", "city__calendar").get(pk=settings.pk), True


# -- departments ----------------------------------------------------------------------------


def ensure_departments(settings: ImportCity, agencies: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """agency value → department id, creating a department (under the city's 311 root) and a
    mapping row for each agency seen for the first time. `agencies`: value → full name."""
    mapping = dict(AgencyMapping.objects.filter(city=settings.city).values_list("value", "department_id"))
    new = [value for value in sorted(agencies) if value not in mapping]
    key = settings.key
    taken = set(Department.objects.filter(code__startswith=f"{key}-").values_list("code", flat=True))
    for value in new:
        code = f"{key}-{slug(value, 24)}"
        n = 2
        while code in taken:
            code, n = f"{key}-{slug(value, 20)}-{n}", n + 1
        taken.add(code)
        name = (agencies[value] or value)[:80]
        department = Department.objects.create(code=code, name=name, name_en=name[:120], city=settings.city,
                                               parent=settings.root_department)
        AgencyMapping.objects.create(city=settings.city, value=value, department=department)
        mapping[value] = department.pk
    return mapping, new


# -- grids ----------------------------------------------------------------------------------


def cell_index(settings: ImportCity, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i = np.floor((np.asarray(lons) - settings.origin_lon) / settings.step_lon).astype(np.int64)
    j = np.floor((np.asarray(lats) - settings.origin_lat) / settings.step_lat).astype(np.int64)
    return i, j


def _cell_box(settings: ImportCity, i: int, j: int):
    # Corners from the same formula for every cell, so that neighbours share their edges exactly.
    x0, x1 = settings.origin_lon + i * settings.step_lon, settings.origin_lon + (i + 1) * settings.step_lon
    y0, y1 = settings.origin_lat + j * settings.step_lat, settings.origin_lat + (j + 1) * settings.step_lat
    return shapely.box(x0, y0, x1, y1)


def _district_codes(layout: Layout, area: str) -> tuple[str, str, str, str, str]:
    """(district, street, community code, zh name, en name) of an area value ("" = none)."""
    part = area_slug(layout, area) if area else BLANK_AREA
    district = f"{layout.key}-{part}"
    if area:
        zh, en = area_names(layout, area)
    else:
        zh, en = "未分区", "no district"
    return district, f"{district}-s", f"{district}-c", zh, en


def ensure_grids(settings: ImportCity, layout: Layout, lons, lats, areas, *, progress=None) -> GeoChange:
    """Store the lattice cells that hold these points and the districts they fall in."""
    change = GeoChange()
    city = settings.city
    if not len(lons):
        return change
    i, j = cell_index(settings, lons, lats)
    existing: dict[tuple[int, int], str] = {}
    for min_lon, min_lat, district in Grid.objects.filter(city=city).values_list(
        "min_lon", "min_lat", "district_code"
    ):
        ci = round((min_lon - settings.origin_lon) / settings.step_lon)
        cj = round((min_lat - settings.origin_lat) / settings.step_lat)
        existing[(ci, cj)] = district
    points = pl.DataFrame({"i": i, "j": j, "area": pl.Series(list(areas), dtype=pl.String)})
    votes = (
        points.filter(pl.col("area") != "")
        .group_by("i", "j", "area")
        .len()
        .sort(["i", "j", "len", "area"], descending=[False, False, True, False])
        .unique(["i", "j"], keep="first", maintain_order=True)
    )
    winner = {(a, b): area for a, b, area, _ in votes.iter_rows()}
    cells = sorted({(int(a), int(b)) for a, b in zip(i.tolist(), j.tolist(), strict=True)} - set(existing),
                   key=lambda c: (-c[1], c[0]))  # west→east, north→south
    if not cells:
        return change

    features: list[dict] = []
    by_district: dict[str, list[tuple[int, int]]] = {}
    names: dict[str, tuple[str, str, str, str, str]] = {}
    for cell in cells:
        codes = _district_codes(layout, winner.get(cell, ""))
        by_district.setdefault(codes[0], []).append(cell)
        names[codes[0]] = codes
    known_regions = set(Region.objects.filter(city=city).values_list("code", flat=True))
    sequences: dict[str, int] = {}
    for code in Grid.objects.filter(city=city).values_list("code", flat=True):
        community, seq = code[:-3], code[-3:]
        if seq.isdigit():
            sequences[community] = max(sequences.get(community, 0), int(seq))
    for district, new_cells in sorted(by_district.items()):
        _, street, community, zh, en = names[district]
        name = zh if zh == en else f"{zh} · {en}"
        old_cells = [cell for cell, d in existing.items() if d == district]
        shape = shapely.union_all([_cell_box(settings, a, b) for a, b in [*old_cells, *new_cells]])
        outline = json_geometry(shape)
        if district not in known_regions:
            change.districts += 1
        features.append(_feature("district", district, name, None, outline))
        features.append(_feature("street", street, name, district, outline))
        features.append(_feature("community", community, name, street, outline))
        start = sequences.get(community, 0)
        if start + len(new_cells) > GRID_SEQUENCE_LIMIT:
            raise GeographyError(
                f"{name} 需要超过 {GRID_SEQUENCE_LIMIT} 个网格，请用更大的 --cell-m",
                f"{en} would need more than {GRID_SEQUENCE_LIMIT} grids; use a larger --cell-m",
            )
        for n, (a, b) in enumerate(new_cells, start=start + 1):
            box = _cell_box(settings, a, b)
            features.append(_feature("grid", f"{community}{n:03d}", f"{en} #{n}", community, json_geometry(box)))
    import_geojson(city, {"type": "FeatureCollection", "features": features}, progress=progress)
    change.grids = len(cells)
    return change


def json_geometry(shape) -> dict:
    import json

    return json.loads(shapely.to_geojson(shape))


def _feature(level: str, code: str, name: str, parent: str | None, geometry: dict) -> dict:
    props = {"level": level, "code": code, "name": name[:80]}
    if parent:
        props["parent"] = parent
    return {"type": "Feature", "geometry": geometry, "properties": props}
