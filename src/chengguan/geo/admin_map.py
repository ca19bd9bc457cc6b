"""The administrator's visual check of unit grids (网格核查): the grids of one street or community drawn
over their community boundaries, with every grid that lies outside its community, overlaps another
grid or has a broken outline marked in red, and how much of each community the grids cover.

`check_grids` works on plain data (codes and GeoJSON) with shapely; `grid_check` is the page,
served at `/center/map/grids/` for administrators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db.models import Q
from django.shortcuts import render

from chengguan.geo.geometry import from_geojson, geodesic_area_m2
from chengguan.geo.models import Grid, Region
from chengguan.geo.services import city_for
from chengguan.web.roles import role_required

# Slivers below this many square metres are rounding, not mistakes.
TOLERANCE_M2 = 1.0
# A community whose grids cover less than this share of it is marked.
COVERAGE_WARNING = 0.99
# A square degree is at most about 1.2e10 m²: below this a piece cannot reach the tolerance.
_DEGREES_FLOOR = TOLERANCE_M2 / 1.3e10


@dataclass
class GridResult:
    code: str
    name: str
    community: str
    area_m2: float
    area_class: str
    valid: bool = True
    outside_m2: float = 0.0
    overlaps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.valid and self.outside_m2 <= TOLERANCE_M2 and not self.overlaps


@dataclass
class CommunityResult:
    code: str
    name: str
    area_m2: float
    grids: int = 0
    covered_m2: float = 0.0

    @property
    def gap_m2(self) -> float:
        return max(0.0, self.area_m2 - self.covered_m2)

    @property
    def coverage(self) -> float | None:
        return min(1.0, self.covered_m2 / self.area_m2) if self.area_m2 > 0 else None


def _area(geom) -> float:
    return geodesic_area_m2(geom) if geom is not None and shapely.area(geom) > _DEGREES_FLOOR else 0.0


def check_grids(
    grids: list[dict[str, Any]],
    communities: dict[str, dict[str, Any]],
    neighbours: list[dict[str, Any]] = (),
) -> tuple[list[GridResult], list[CommunityResult]]:
    """Check `grids` (dicts with code, name, community, geometry, area_m2, area_class) against the
    boundaries of `communities` ({code: {name, geometry}}) and against each other and `neighbours`
    (grids next to the selection, checked for overlaps only)."""
    everyone = [*grids, *neighbours]
    shapes = np.array([from_geojson(g["geometry"]) for g in everyone], dtype=object)
    valid = shapely.is_valid(shapes) if len(shapes) else np.array([], dtype=bool)
    usable = np.array([s if ok else shapely.make_valid(s) for s, ok in zip(shapes, valid, strict=True)], dtype=object)
    results = [
        GridResult(
            code=g["code"],
            name=g.get("name") or "",
            community=g["community"],
            area_m2=float(g["area_m2"]),
            area_class=g["area_class"],
            valid=bool(valid[i]),
        )
        for i, g in enumerate(grids)
    ]

    boundaries = {code: from_geojson(c["geometry"]) for code, c in communities.items() if c.get("geometry")}
    for boundary in boundaries.values():
        shapely.prepare(boundary)
    for i, result in enumerate(results):
        boundary = boundaries.get(result.community)
        if boundary is None:
            continue
        if not boundary.covers(usable[i]):
            result.outside_m2 = _area(usable[i].difference(boundary))

    if len(usable):
        tree = shapely.STRtree(usable)
        left, right = tree.query(usable[: len(grids)], predicate="intersects")
        pairs = [(a, b) for a, b in zip(left.tolist(), right.tolist(), strict=True) if a != b]
        if pairs:
            shared = shapely.intersection(usable[[a for a, _ in pairs]], usable[[b for _, b in pairs]])
            for (a, b), piece in zip(pairs, shared, strict=True):
                square_metres = _area(piece)
                if square_metres > TOLERANCE_M2:
                    results[a].overlaps.append((everyone[b]["code"], square_metres))

    summaries = []
    for code, community in communities.items():
        boundary = boundaries.get(code)
        mine = [usable[i] for i, g in enumerate(grids) if g["community"] == code]
        summary = CommunityResult(
            code=code,
            name=community.get("name", ""),
            grids=len(mine),
            area_m2=geodesic_area_m2(boundary) if boundary is not None else 0.0,
        )
        if boundary is not None and mine:
            summary.covered_m2 = _area(shapely.intersection(shapely.union_all(mine), boundary))
        summaries.append(summary)
    return results, summaries


def _problems(result: GridResult, english: bool) -> list[str]:
    found = []
    if not result.valid:
        found.append("outline is invalid (self-intersecting)" if english else "边界无效（自相交）")
    if result.outside_m2 > TOLERANCE_M2:
        found.append(
            f"{result.outside_m2:,.0f} m² outside its community"
            if english
            else f"{result.outside_m2:,.0f} m² 超出所属社区"
        )
    for code, square_metres in result.overlaps:
        found.append(
            f"overlaps {code} by {square_metres:,.0f} m²" if english else f"与 {code} 重叠 {square_metres:,.0f} m²"
        )
    return found


@role_required("admin")
def grid_check(request):
    english = (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")
    city = city_for(request.user)
    streets = list(Region.objects.filter(city=city, level=Region.Level.STREET).order_by("code").values("code", "name"))
    street = request.GET.get("street") or ""
    community = request.GET.get("community") or ""
    if community and not street:
        street = community[:9]
    if street not in {s["code"] for s in streets}:
        street = streets[0]["code"] if streets else ""
    communities = list(
        Region.objects.filter(city=city, level=Region.Level.COMMUNITY, parent__code=street)
        .order_by("code")
        .values("code", "name", "geometry")
    )
    if community not in {c["code"] for c in communities}:
        community = ""
    chosen = [c for c in communities if not community or c["code"] == community]

    envelope = shapely.total_bounds([from_geojson(c["geometry"]) for c in chosen if c["geometry"]] or [shapely.Point()])
    near = Q(community__code__in=[c["code"] for c in chosen])
    if not np.isnan(envelope).any():
        near |= Q(
            min_lon__lte=envelope[2], max_lon__gte=envelope[0], min_lat__lte=envelope[3], max_lat__gte=envelope[1]
        )
    rows = list(
        Grid.objects.filter(city=city)
        .filter(near)
        .order_by("code")
        .values("code", "name", "community__code", "geometry", "area_m2", "area_class")
    )
    codes = {c["code"] for c in chosen}
    for row in rows:
        row["community"] = row.pop("community__code")
    selection = [r for r in rows if r["community"] in codes]
    neighbours = [r for r in rows if r["community"] not in codes]
    results, summaries = check_grids(
        selection, {c["code"]: {"name": c["name"], "geometry": c["geometry"]} for c in chosen}, neighbours
    )

    classes = dict(Grid.AreaClass.choices)
    names = {c["code"]: c["name"] for c in communities}
    table = [
        {
            "code": r.code,
            "name": r.name,
            "community": r.community,
            "community_name": names.get(r.community, ""),
            "area_m2": r.area_m2,
            "area": f"{r.area_m2:,.0f}",
            "area_class": r.area_class,
            "area_class_name": classes.get(r.area_class, ""),
            "ok": r.ok,
            "problems": _problems(r, english),
        }
        for r in results
    ]
    by_code = {row["code"]: row for row in table}
    grid_features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": g["geometry"],
                "properties": {
                    k: by_code[g["code"]][k]
                    for k in ("code", "name", "community_name", "area_m2", "area_class", "ok", "problems")
                },
            }
            for g in selection
        ],
    }
    community_features = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": c["geometry"], "properties": {"code": c["code"], "name": c["name"]}}
            for c in chosen
            if c["geometry"]
        ],
    }
    context = {
        "streets": streets,
        "communities": communities,
        "street": street,
        "community": community,
        "table": sorted(table, key=lambda row: (row["ok"], row["code"])),
        "problems": [row for row in table if not row["ok"]],
        "outside": sum(1 for r in results if r.outside_m2 > TOLERANCE_M2),
        "overlapping": sum(1 for r in results if r.overlaps),
        "invalid": sum(1 for r in results if not r.valid),
        "summaries": [
            {
                "code": c.code,
                "name": c.name,
                "grids": c.grids,
                "area": f"{c.area_m2:,.0f}",
                "gap": f"{c.gap_m2:,.0f}",
                "coverage": None if c.coverage is None else f"{c.coverage:.1%}",
                "short": c.coverage is not None and c.coverage < COVERAGE_WARNING,
            }
            for c in summaries
        ],
        "grid_count": len(results),
        "total_area": f"{sum(r.area_m2 for r in results):,.0f}",
        "grid_features": grid_features,
        "community_features": community_features,
        "tiles_config": {"lang": "en" if english else "zh"},
    }
    return render(request, "geo/admin_map.html", context)
