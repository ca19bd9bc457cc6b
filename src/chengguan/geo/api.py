"""Geography API (`/api/v1/geo`): locate a point, grids in a box, regions — GeoJSON out."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from chengguan.errors import Invalid
from chengguan.geo import services
from chengguan.geo.coords import WGS84, normalize_crs

router = Router(tags=["geo"])

MAX_GRID_LIMIT = 5000


class PlaceNames(Schema):
    grid: str
    community: str
    street: str
    district: str


class LocateOut(Schema):
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    area_class: str
    names: PlaceNames
    lon: float
    lat: float
    crs: str = WGS84


@router.get("/locate", response=LocateOut, summary="定位网格 · Locate a point in the unit grids")
def locate(request: HttpRequest, lon: float, lat: float, crs: str = WGS84, city: str | None = None):
    """The grid, community, street and district of a point given in `crs` (wgs84, gcj02 or
    bd09). `lon`/`lat` of the answer are WGS84. 422 naming `lon` when the point is outside
    every grid of the city."""
    found = services.locate(services.city_for(request.user, city), lon, lat, normalize_crs(crs))
    community = found.grid.community
    street = community.parent
    district = street.parent if street is not None else None
    return {
        "grid_code": found.grid_code,
        "community_code": found.community_code,
        "street_code": found.street_code,
        "district_code": found.district_code,
        "area_class": found.grid.area_class,
        "names": {
            "grid": found.grid.name,
            "community": community.name,
            "street": street.name if street is not None else "",
            "district": district.name if district is not None else "",
        },
        "lon": found.lon,
        "lat": found.lat,
    }


@router.get("/grids", summary="网格边界 · Unit grids as GeoJSON")
def grids(
    request: HttpRequest,
    bbox: str | None = None,
    community: str | None = None,
    crs: str = WGS84,
    city: str | None = None,
    limit: int = services.GRID_FEATURE_LIMIT,
) -> dict[str, Any]:
    """Grids meeting `bbox` (`minlon,minlat,maxlon,maxlat` in `crs`) and/or of one
    `community`, as a FeatureCollection with geometries in `crs`; at most `limit` features
    (`truncated` says when more matched)."""
    crs = normalize_crs(crs)
    if not 1 <= limit <= MAX_GRID_LIMIT:
        raise Invalid(
            f"limit 应在 1–{MAX_GRID_LIMIT} 之间", f"limit must be between 1 and {MAX_GRID_LIMIT}", field="limit"
        )
    if bbox is None and not community:
        raise Invalid("请提供 bbox（或 community）", "Give a bbox (or a community)", field="bbox")
    box = services.parse_bbox(bbox) if bbox is not None else (-180.0, -90.0, 180.0, 90.0)
    target = services.city_for(request.user, city)
    found, truncated = services.grids_in_bbox(target, box, crs=crs, community=community, limit=limit)
    features = [services.grid_feature(grid, crs) for grid in found]
    return services.feature_collection(features, crs=crs, limit=limit, truncated=truncated)


@router.get("/regions", summary="行政区域 · Districts, streets, communities as GeoJSON")
def regions(
    request: HttpRequest,
    level: str | None = None,
    parent: str | None = None,
    crs: str = WGS84,
    city: str | None = None,
) -> dict[str, Any]:
    """Regions of the city (`level`: district, street or community; `parent`: a parent
    region's code) as a FeatureCollection with geometries in `crs`."""
    crs = normalize_crs(crs)
    target = services.city_for(request.user, city)
    features = [services.region_feature(region, crs) for region in services.regions_of(target, level, parent=parent)]
    return services.feature_collection(features, crs=crs)
