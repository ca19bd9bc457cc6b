"""Coordinate systems used by Chinese maps and phones: WGS84 ⇄ GCJ-02 ⇄ BD-09.

Pure: standard library, numpy and the shared domain errors only.

- WGS84 is what GPS reports and what we store.
- GCJ-02 ("Mars coordinates") is the obfuscated datum that AMap, Tencent and other Chinese
  web maps use; outside China it equals WGS84. WGS84 → GCJ-02 is the published closed
  formula; GCJ-02 → WGS84 has no closed form and is inverted by fixed-point iteration to
  well under 1e-6°.
- BD-09 is Baidu's further offset of GCJ-02; its published inverse is approximate, so it is
  refined by the same kind of iteration.

Every function takes floats or numpy arrays (broadcast together) and returns the same kind:
floats for float input, float64 arrays for array input.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from chengguan.errors import Invalid

WGS84: Final = "wgs84"
GCJ02: Final = "gcj02"
BD09: Final = "bd09"
CRS_CHOICES: Final = (WGS84, GCJ02, BD09)

_ALIASES: Final = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "wgs_84": WGS84,
    "epsg:4326": WGS84,
    "gps": WGS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj_02": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd_09": BD09,
    "bd09ll": BD09,
}

# Krasovsky 1940 ellipsoid, as the published GCJ-02 formula uses it.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
_X_PI: Final = math.pi * 3000.0 / 180.0

# The rough rectangle in which GCJ-02 applies an offset (the usual published bounds).
CHINA_MIN_LON: Final = 72.004
CHINA_MAX_LON: Final = 137.8347
CHINA_MIN_LAT: Final = 0.8293
CHINA_MAX_LAT: Final = 55.8271

# Inversions stop once the forward image is this close to the target (degrees).
_TOLERANCE: Final = 1e-10
_MAX_ITERATIONS: Final = 30


def normalize_crs(crs: str | None) -> str:
    """The canonical name of a coordinate system ("wgs84", "gcj02", "bd09")."""
    if crs is None or crs == "":
        return WGS84
    name = _ALIASES.get(str(crs).strip().lower())
    if name is None:
        raise Invalid(
            f"不支持的坐标系：{crs}（可选 wgs84、gcj02、bd09）",
            f"Unknown coordinate system '{crs}' (use wgs84, gcj02 or bd09)",
            field="crs",
        )
    return name


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x, y, scalar


def _out(x: np.ndarray, y: np.ndarray, scalar: bool):
    if scalar:
        return float(x), float(y)
    return x, y


def out_of_china(lon, lat):
    """True where GCJ-02 leaves the point unchanged (outside the rectangle around China)."""
    x, y, scalar = _arrays(lon, lat)
    outside = (x < CHINA_MIN_LON) | (x > CHINA_MAX_LON) | (y < CHINA_MIN_LAT) | (y > CHINA_MAX_LAT)
    return bool(outside) if scalar else outside


def _gcj_offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (x, y), ignoring the China test."""
    u = x - 105.0
    v = y - 35.0
    root = np.sqrt(np.abs(u))
    common = (20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * root + common
    dlat += (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * root + common
    dlon += (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _wgs_to_gcj(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(x, y)
    outside = out_of_china(x, y)
    return np.where(outside, x, x + dlon), np.where(outside, y, y + dlat)


def _gcj_to_wgs(gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Solve w + offset(w) = g by fixed-point iteration (the offset changes slowly, so this
    # contracts fast: a handful of steps reach 1e-10°).
    wx = gx.copy()
    wy = gy.copy()
    for _ in range(_MAX_ITERATIONS):
        dlon, dlat = _gcj_offset(wx, wy)
        ex = wx + dlon - gx
        ey = wy + dlat - gy
        wx = wx - ex
        wy = wy - ey
        if np.all(np.abs(ex) < _TOLERANCE) and np.all(np.abs(ey) < _TOLERANCE):
            break
    # A solution outside the rectangle means the point was never offset.
    outside = out_of_china(wx, wy)
    return np.where(outside, gx, wx), np.where(outside, gy, wy)


def _gcj_to_bd(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _bd_to_gcj(bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Start from Baidu's published inverse, then correct by the forward residual.
    gx, gy = _bd_to_gcj_approx(bx, by)
    for _ in range(_MAX_ITERATIONS):
        fx, fy = _gcj_to_bd(gx, gy)
        ex = fx - bx
        ey = fy - by
        gx = gx - ex
        gy = gy - ey
        if np.all(np.abs(ex) < _TOLERANCE) and np.all(np.abs(ey) < _TOLERANCE):
            break
    return gx, gy


def wgs84_to_gcj02(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_wgs_to_gcj(x, y), scalar)


def gcj02_to_wgs84(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_wgs(x, y), scalar)


def gcj02_to_bd09(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_bd(x, y), scalar)


def bd09_to_gcj02(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_bd_to_gcj(x, y), scalar)


def wgs84_to_bd09(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_bd(*_wgs_to_gcj(x, y)), scalar)


def bd09_to_wgs84(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)


def to_wgs84(lon, lat, crs: str = WGS84):
    """Convert from `crs` to WGS84. Floats in, floats out; arrays in, arrays out."""
    name = normalize_crs(crs)
    x, y, scalar = _arrays(lon, lat)
    if name == GCJ02:
        x, y = _gcj_to_wgs(x, y)
    elif name == BD09:
        x, y = _gcj_to_wgs(*_bd_to_gcj(x, y))
    return _out(x, y, scalar)


def from_wgs84(lon, lat, crs: str = WGS84):
    """Convert from WGS84 to `crs`. Floats in, floats out; arrays in, arrays out."""
    name = normalize_crs(crs)
    x, y, scalar = _arrays(lon, lat)
    if name == GCJ02:
        x, y = _wgs_to_gcj(x, y)
    elif name == BD09:
        x, y = _gcj_to_bd(*_wgs_to_gcj(x, y))
    return _out(x, y, scalar)


def transform_coords(coords: np.ndarray, source: str, target: str) -> np.ndarray:
    """Convert an (n, 2) array of lon/lat pairs between two systems (as shapely.transform wants)."""
    source = normalize_crs(source)
    target = normalize_crs(target)
    coords = np.asarray(coords, dtype=np.float64)
    if source == target or len(coords) == 0:
        return coords.copy()
    x, y = to_wgs84(coords[:, 0], coords[:, 1], source)
    x, y = from_wgs84(x, y, target)
    return np.column_stack([x, y])
