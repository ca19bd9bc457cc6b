"""Reading and checking a GeoJSON file of geography before anything is written.

`services.import_geojson` calls `read_features` and writes only when it finds no problem.
This module reads the database (existing codes and grids) but never writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import shapely

from chengguan.errors import Invalid
from chengguan.geo import codes
from chengguan.geo.coords import WGS84
from chengguan.geo.geometry import (
    POLYGONAL,
    convert,
    coordinates_in_range,
    from_geojson,
    square_metres_per_square_degree,
)
from chengguan.geo.models import City, Grid, Region

T = TypeVar("T")

DISTRICT, STREET, COMMUNITY, GRID = "district", "street", "community", "grid"
REGION_LEVELS = (DISTRICT, STREET, COMMUNITY)
LEVELS = (*REGION_LEVELS, GRID)
PARENT_LEVEL = {STREET: DISTRICT, COMMUNITY: STREET, GRID: COMMUNITY}
LEVEL_ZH = {DISTRICT: "区县", STREET: "街道", COMMUNITY: "社区", GRID: "单元网格"}
# The standard code of each level when codes are administrative digits.
ADMIN_LEVEL = {DISTRICT: codes.COUNTY, STREET: codes.STREET, COMMUNITY: codes.COMMUNITY}

# Grids may share edges; an intersection larger than this (m²) is an overlap.
OVERLAP_TOLERANCE_M2 = 0.5
# At most this many problems are spelled out in the error message (all are in `problems`).
MAX_LISTED_PROBLEMS = 30

Progress = Callable[[Iterable[T], str, int], Iterable[T]]


def no_progress(items: Iterable[T], _label: str, _total: int) -> Iterable[T]:
    return items


@dataclass(frozen=True)
class ImportProblem:
    index: int
    code: str | None
    zh: str
    en: str

    def text(self, language: str = "zh") -> str:
        code = self.code or "—"
        if language.startswith("en"):
            return f"feature #{self.index} (code {code}): {self.en}"
        return f"第 {self.index} 个要素（代码 {code}）：{self.zh}"


class GeoImportError(Invalid):
    """The file was refused; nothing was written. `problems` lists every finding."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        shown = problems[:MAX_LISTED_PROBLEMS]
        more_zh = f"；另有 {len(problems) - len(shown)} 处" if len(problems) > len(shown) else ""
        more_en = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        zh = f"GeoJSON 有 {len(problems)} 处错误，未导入任何数据：" + "；".join(p.text("zh") for p in shown) + more_zh
        en = (
            f"The GeoJSON has {len(problems)} error(s); nothing was imported: "
            + "; ".join(p.text("en") for p in shown)
            + more_en
        )
        super().__init__(zh, en, field="features")


@dataclass
class Item:
    """One feature of the file, parsed and converted to WGS84."""

    index: int
    level: str
    code: str
    name: str
    parent: str | None
    area_class: str
    geometry: Any  # shapely geometry or None


def _code_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return str(value).strip() if isinstance(value, str) else ""


def _parse_feature(index: int, feature: Any, crs: str, problems: list[ImportProblem]) -> Item | None:
    def fail(zh: str, en: str, code: str | None = None) -> None:
        problems.append(ImportProblem(index, code, zh, en))

    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        fail("不是 GeoJSON Feature", "is not a GeoJSON Feature")
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    # `adcode` is what DataV / AMap boundary files call the code.
    code = _code_text(props.get("code")) or _code_text(props.get("adcode"))
    level = props.get("level")
    if level not in LEVELS:
        fail(
            f"level 应为 district、street、community 或 grid，实为 {level!r}",
            f"level must be district, street, community or grid, not {level!r}",
            code or None,
        )
        return None
    if not code:
        fail("缺少 code", "has no code")
        return None
    if len(code) > 40 or (level == GRID and len(code) > 20):
        fail(f"代码过长（{len(code)} 位）", f"the code is too long ({len(code)} characters)", code)
        return None
    name = props.get("name")
    name = str(name).strip() if name is not None else ""
    if level != GRID and not name:
        fail("缺少名称 name", "has no name", code)
    if len(name) > 80:
        fail("名称超过 80 个字", "the name is longer than 80 characters", code)
    parent = _code_text(props.get("parent")) or None
    if level != DISTRICT and parent is None:
        fail(
            f"缺少上级代码 parent（{LEVEL_ZH[PARENT_LEVEL[level]]}代码）",
            f"has no parent ({PARENT_LEVEL[level]} code)",
            code,
        )
    area_class = props.get("area_class") or "B"
    if level == GRID and area_class not in ("A", "B", "C"):
        fail(
            f"区域类别 area_class 应为 A、B 或 C，实为 {area_class!r}",
            f"area_class must be A, B or C, not {area_class!r}",
            code,
        )

    geometry = None
    raw = feature.get("geometry")
    if raw is None:
        if level == GRID:
            fail("单元网格缺少几何图形", "a grid needs a geometry", code)
    elif not isinstance(raw, dict) or raw.get("type") not in POLYGONAL:
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        fail(
            f"几何类型应为 Polygon 或 MultiPolygon，实为 {kind}",
            f"the geometry must be a Polygon or MultiPolygon, not {kind}",
            code,
        )
    else:
        try:
            geometry = from_geojson(raw)
        except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
            fail(f"几何坐标无法读取（{exc}）", f"the geometry coordinates cannot be read ({exc})", code)
        if geometry is not None:
            if geometry.is_empty:
                fail("几何图形为空", "the geometry is empty", code)
                geometry = None
            elif not coordinates_in_range(geometry):
                fail(
                    "坐标超出经纬度范围（经度 ±180，纬度 ±90）",
                    "coordinates are outside ±180 longitude / ±90 latitude",
                    code,
                )
                geometry = None
            else:
                geometry = convert(geometry, crs, WGS84)
                if not geometry.is_valid:
                    reason = shapely.is_valid_reason(geometry)
                    fail(f"多边形无效（{reason}）", f"the polygon is invalid ({reason})", code)
                    geometry = None
    return Item(index, level, code, name, parent, area_class, geometry)


def _check_codes(items: list[Item], city: City, problems: list[ImportProblem]) -> dict[str, tuple[str, str | None]]:
    """Check codes, parents and conflicts; return code → (level, parent code) for all regions
    of the city as they will be after the import."""

    def fail(item: Item, zh: str, en: str) -> None:
        problems.append(ImportProblem(item.index, item.code, zh, en))

    seen: dict[str, Item] = {}
    for item in items:
        if item.code in seen:
            fail(
                item,
                f"代码重复（与第 {seen[item.code].index} 个要素相同）",
                f"duplicate code (as feature #{seen[item.code].index})",
            )
        else:
            seen[item.code] = item

    region_codes = [i.code for i in items if i.level != GRID]
    grid_codes = [i.code for i in items if i.level == GRID]
    foreign_regions = set(
        Region.objects.filter(code__in=region_codes).exclude(city=city).values_list("code", flat=True)
    )
    foreign_grids = set(Grid.objects.filter(code__in=grid_codes).exclude(city=city).values_list("code", flat=True))
    known: dict[str, tuple[str, str | None]] = {
        code: (level, parent)
        for code, level, parent in Region.objects.filter(city=city).values_list("code", "level", "parent__code")
    }
    for item in items:
        if item.level == GRID:
            continue
        if item.code in known and known[item.code][0] != item.level:
            fail(
                item,
                f"代码已用于{LEVEL_ZH[known[item.code][0]]}，不能改为{LEVEL_ZH[item.level]}",
                f"the code is already a {known[item.code][0]}, it cannot become a {item.level}",
            )
        if item.code in foreign_regions or item.code in foreign_grids:
            fail(item, "代码已属于另一个城市", "the code belongs to another city")
    for item in items:
        if item.level != GRID and seen.get(item.code) is item:
            known[item.code] = (item.level, item.parent if item.level != DISTRICT else None)

    digits = city.grid_sequence_digits
    for item in items:
        if seen.get(item.code) is not item:
            continue
        if item.level == GRID and item.code in foreign_grids:
            fail(item, "网格编码已属于另一个城市", "the grid code belongs to another city")
        if item.level != GRID and item.code.isdigit():
            try:
                codes.parse_admin_code(item.code, level=ADMIN_LEVEL[item.level])
            except Invalid as exc:
                fail(item, exc.zh, exc.en)
        if item.level == DISTRICT or item.parent is None:
            continue
        want = PARENT_LEVEL[item.level]
        parent = known.get(item.parent)
        if parent is None:
            fail(
                item,
                f"上级{LEVEL_ZH[want]}“{item.parent}”不存在（本文件和本市现有数据中都没有）",
                f"the parent {want} '{item.parent}' is unknown (neither in the file nor in the city)",
            )
            continue
        if parent[0] != want:
            fail(
                item,
                f"上级“{item.parent}”是{LEVEL_ZH[parent[0]]}，应为{LEVEL_ZH[want]}",
                f"the parent '{item.parent}' is a {parent[0]}, not a {want}",
            )
            continue
        if item.level == GRID:
            sequence = item.code[len(item.parent) :]
            if not item.code.startswith(item.parent):
                fail(
                    item,
                    f"网格编码应以所属社区代码“{item.parent}”开头",
                    f"the grid code must start with its community code '{item.parent}'",
                )
            elif len(item.code) != len(item.parent) + digits or not sequence.isdigit() or int(sequence) == 0:
                fail(
                    item,
                    f"网格编码应为社区代码加 {digits} 位顺序码（共 {len(item.parent) + digits} 位），"
                    f"实为 {len(item.code)} 位",
                    f"the grid code must be the community code plus a {digits}-digit sequence "
                    f"({len(item.parent) + digits} characters), not {len(item.code)}",
                )
        elif item.code.isdigit() and item.parent.isdigit() and not item.code.startswith(item.parent):
            fail(
                item,
                f"代码应以上级代码“{item.parent}”开头",
                f"the code must start with its parent's code '{item.parent}'",
            )
    return known


def _check_overlaps(items: list[Item], city: City, problems: list[ImportProblem]) -> None:
    grids = [i for i in items if i.level == GRID and i.geometry is not None]
    if not grids:
        return
    in_file = {i.code for i in items if i.level == GRID}
    others = [
        (code, from_geojson(geometry))
        for code, geometry in Grid.objects.filter(city=city).exclude(code__in=in_file).values_list("code", "geometry")
    ]
    names = [g.code for g in grids] + [code for code, _ in others]
    geoms = np.array([g.geometry for g in grids] + [geom for _, geom in others], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms[: len(grids)], predicate="intersects")
    # Each pair once: against earlier features of the file, or against grids already stored.
    keep = (left != right) & ((right < left) | (right >= len(grids)))
    left, right = left[keep], right[keep]
    if not len(left):
        return
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    lat = shapely.get_y(shapely.centroid(geoms[left]))
    m2 = areas * square_metres_per_square_degree(lat)
    for a, b, overlap in zip(left, right, m2, strict=True):
        if overlap > OVERLAP_TOLERANCE_M2:
            item = grids[a]
            where_zh = "本文件中的" if b < len(grids) else "已有的"
            where_en = "in this file" if b < len(grids) else "already stored"
            problems.append(
                ImportProblem(
                    item.index,
                    item.code,
                    f"与{where_zh}网格“{names[b]}”重叠约 {overlap:,.1f} 平方米",
                    f"overlaps grid '{names[b]}' ({where_en}) by about {overlap:,.1f} m²",
                )
            )


def _features_of(collection: Any) -> list[Any]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Invalid(
            "文件不是 GeoJSON FeatureCollection", "The file is not a GeoJSON FeatureCollection", field="features"
        )
    features = collection.get("features")
    if not isinstance(features, list):
        raise Invalid(
            "FeatureCollection 缺少 features 列表", "The FeatureCollection has no features list", field="features"
        )
    return features


def read_features(
    city: City, collection: Any, *, crs: str, progress: Progress = no_progress
) -> tuple[list[Item], dict[str, tuple[str, str | None]]]:
    """Parse and check every feature; raise `GeoImportError` listing every problem found.

    Returns the items (geometries in WGS84) and, for every region of the city as it will be
    after the import, code → (level, parent code)."""
    features = _features_of(collection)
    problems: list[ImportProblem] = []
    parsed = [
        _parse_feature(number, feature, crs, problems)
        for number, feature in enumerate(progress(features, "检查要素 checking", len(features)), start=1)
    ]
    items = [item for item in parsed if item is not None]
    known = _check_codes(items, city, problems)
    _check_overlaps(items, city, problems)
    if problems:
        problems.sort(key=lambda p: p.index)
        raise GeoImportError(problems)
    return items, known
