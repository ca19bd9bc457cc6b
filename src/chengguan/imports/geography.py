"""The city, calendar, departments and grids an import needs, built from the export itself.

An import of a Baltimore export creates the city of Baltimore (`us-baltimore`, in its own
time zone, with a Monday–Friday 09:00–17:00 calendar) beside whatever cities are already
there. Its geography is a regular lattice of square unit grids laid over the data: the
cells that hold at least one request are stored, each in the district that most of its
requests name in the export's own area column (council district, borough …). Later imports
reuse the same lattice and add the cells they need.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import shapely
from django.db import transaction
from pyproj import Geod

from chengguan.catalog.models import Kind, MajorClass, SmallClass
from chengguan.geo.geometry import geodesic_area_m2
from chengguan.geo.locator import NO_GRID, strtree_lowest_index
from chengguan.geo.models import City, Grid, Region
from chengguan.geo.services import LocatedMany, bump_version, create_city, locator_for
from chengguan.imports import writing
from chengguan.imports.layouts import Layout, area_names, area_slug, slug
from chengguan.imports.models import AgencyMapping, ImportCity
from chengguan.org.models import Department, Role, User
from chengguan.worktime.models import WorkCalendar

METRES_PER_DEGREE = 111_320.0
GEOD = Geod(ellps="WGS84")  # as geo.geometry measures areas
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


def _cell_boxes(settings: ImportCity, cells: list[tuple[int, int]]) -> np.ndarray:
    """The cells' squares, as one array of polygons (shapely's vectorised `box`)."""
    if not cells:
        return np.empty(0, dtype=object)
    i, j = np.array(cells, dtype=np.float64).T
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


def ensure_grids(settings: ImportCity, layout: Layout, lons, lats, areas) -> GeoChange:
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

    by_district: dict[str, list[tuple[int, int]]] = {}
    names: dict[str, tuple[str, str, str, str, str]] = {}
    for cell in cells:
        codes = _district_codes(layout, winner.get(cell, ""))
        by_district.setdefault(codes[0], []).append(cell)
        names[codes[0]] = codes
    sequences: dict[str, int] = {}
    for code in Grid.objects.filter(city=city).values_list("code", flat=True):
        community, seq = code[:-3], code[-3:]
        if seq.isdigit():
            sequences[community] = max(sequences.get(community, 0), int(seq))
    regions: list[tuple[str, str, str, str | None, dict, float]] = []  # level, code, name, parent, outline, area
    grids: list[tuple[str, str, str, str, str, np.ndarray]] = []  # district, street, community, name, code, box
    for district, new_cells in sorted(by_district.items()):
        _, street, community, zh, en = names[district]
        name = (zh if zh == en else f"{zh} · {en}")[:80]
        old_cells = [cell for cell, d in existing.items() if d == district]
        boxes = _cell_boxes(settings, [*old_cells, *new_cells])
        shape = shapely.coverage_union_all(boxes)  # lattice cells: edge to edge, never overlapping
        outline, area = json_geometry(shape), geodesic_area_m2(shape)
        regions += [("district", district, name, None, outline, area),
                    ("street", street, name, district, outline, area),
                    ("community", community, name, street, outline, area)]
        start = sequences.get(community, 0)
        if start + len(new_cells) > GRID_SEQUENCE_LIMIT:
            raise GeographyError(
                f"{name} 需要超过 {GRID_SEQUENCE_LIMIT} 个网格，请用更大的 --cell-m",
                f"{en} would need more than {GRID_SEQUENCE_LIMIT} grids; use a larger --cell-m",
            )
        for n, box in enumerate(boxes[len(old_cells):], start=start + 1):
            grids.append((district, street, community, f"{en} #{n}"[:80], f"{community}{n:03d}", box))
    with transaction.atomic():
        change.districts = _store_regions(city, regions)
        _store_grids(city, grids)
        bump_version(city, note=f"311 import: {len(regions)} regions written, {len(grids)} grids created")
    change.grids = len(cells)
    return change


def _store_regions(city: City, rows: list) -> int:
    """Create or update the district, street and community of each district (parents first);
    returns how many districts are new. The same rows `geo.services.import_geojson` writes."""
    found = {r.code: r for r in Region.objects.filter(city=city, code__in=[row[1] for row in rows])}
    created = 0
    for level in ("district", "street", "community"):
        new, changed = [], []
        for row_level, code, name, parent, outline, area in rows:
            if row_level != level:
                continue
            values = {"name": name, "level": level, "parent": found[parent] if parent else None,
                      "geometry": outline, "area_m2": area}
            region = found.get(code)
            if region is None:
                new.append(Region(city=city, code=code, **values))
            else:
                for key, value in values.items():
                    setattr(region, key, value)
                changed.append(region)
        if new:
            Region.objects.bulk_create(new)
            found.update((r.code, r) for r in Region.objects.filter(city=city, code__in=[r.code for r in new]))
        if changed:
            Region.objects.bulk_update(changed, ["name", "level", "parent", "geometry", "area_m2"])
        if level == "district":
            created = len(new)
    return created


def _store_grids(city: City, rows: list) -> None:
    """Insert the new unit grids, with what `geo.services.import_geojson` would store for them."""
    if not rows:
        return
    communities = dict(Region.objects.filter(city=city, code__in={row[2] for row in rows}).values_list("code", "id"))
    boxes = np.array([row[5] for row in rows], dtype=object)
    centres = shapely.get_coordinates(shapely.centroid(boxes))  # a square's centroid is inside it
    bounds = shapely.bounds(boxes)
    outlines = shapely.to_geojson(boxes).tolist()  # GeoJSON text, stored as it is
    areas = [abs(float(GEOD.polygon_area_perimeter(*box.exterior.xy)[0])) for box in boxes]
    writing.insert(Grid, len(rows), {
        "code": [row[4] for row in rows],
        "name": [row[3] for row in rows],
        "city_id": city.pk,
        "community_id": [communities[row[2]] for row in rows],
        "street_code": [row[1] for row in rows],
        "district_code": [row[0] for row in rows],
        "geometry": outlines,
        "area_m2": areas,
        "area_class": Grid.AreaClass.B,
        "center_lon": centres[:, 0],
        "center_lat": centres[:, 1],
        "min_lon": bounds[:, 0],
        "min_lat": bounds[:, 1],
        "max_lon": bounds[:, 2],
        "max_lat": bounds[:, 3],
    })


def json_geometry(shape) -> dict:
    return json.loads(shapely.to_geojson(shape))


def locate_points(city: City, lons, lats) -> LocatedMany:
    """`geo.services.locate_many` for one import's points: the same answer (the grid locator's
    answer is defined as its STRtree's), from the STRtree unless the city's locator already has
    its raster. For a few thousand points the raster's build costs more than it saves."""
    found = locator_for(city)
    x = np.ascontiguousarray(lons, dtype=np.float64).ravel()
    y = np.ascontiguousarray(lats, dtype=np.float64).ravel()
    if not len(found.locator) or not len(x):
        index = np.full(len(x), NO_GRID, dtype=np.int64)
    elif found.locator.raster is not None:
        index = found.locator.locate_index_many(x, y)
    else:
        index = strtree_lowest_index(found.locator.tree, x, y)
    hit = index >= 0
    take = index[hit]

    def pick(values: np.ndarray) -> np.ndarray:
        out = np.empty(len(index), dtype=object)
        out[hit] = values[take]
        return out

    grid_id = np.full(len(index), -1, dtype=np.int64)
    grid_id[hit] = found.grid_ids[take]
    return LocatedMany(grid_id=grid_id, grid_code=pick(found.locator.codes),
                       community_code=pick(found.community_codes), street_code=pick(found.street_codes),
                       district_code=pick(found.district_codes))
