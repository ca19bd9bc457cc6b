"""Geometry functions shared by the import, the export and the API: GeoJSON ⇄ shapely, areas,
centres, coordinate-system conversion. No Django import."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from chengguan.geo.coords import WGS84, normalize_crs, transform_coords

_GEOD = Geod(ellps="WGS84")

POLYGONAL = ("Polygon", "MultiPolygon")


def from_geojson(geometry: dict[str, Any]) -> BaseGeometry:
    """A shapely geometry (2D) from a GeoJSON geometry mapping."""
    return shapely.force_2d(shape(geometry))


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geom))


def convert(geom: BaseGeometry, source: str, target: str) -> BaseGeometry:
    """The geometry with every vertex converted between coordinate systems."""
    if normalize_crs(source) == normalize_crs(target):
        return geom
    return shapely.transform(geom, lambda coords: transform_coords(coords, source, target))


def geojson_in(geometry: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """A stored (WGS84) GeoJSON geometry converted to `crs` for output."""
    if geometry is None or normalize_crs(crs) == WGS84:
        return geometry
    return to_geojson(convert(from_geojson(geometry), WGS84, crs))


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid in square metres (lon/lat degrees in)."""
    if geom.is_empty:
        return 0.0
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def centre(geom: BaseGeometry) -> tuple[float, float]:
    """The centroid, or a point on the surface when the centroid falls outside (concave shapes)."""
    point = geom.centroid
    if not geom.covers(point):
        point = geom.point_on_surface()
    return float(point.x), float(point.y)


def square_metres_per_square_degree(lat):
    """Rough local scale for small areas measured in lon/lat degrees (float or array)."""
    return 111_320.0 * np.cos(np.radians(lat)) * 110_574.0


def coordinates_in_range(geom: BaseGeometry) -> bool:
    coords = shapely.get_coordinates(geom)
    if not len(coords):
        return True
    return bool(
        np.all(np.isfinite(coords)) and np.all(np.abs(coords[:, 0]) <= 180.0) and np.all(np.abs(coords[:, 1]) <= 90.0)
    )
