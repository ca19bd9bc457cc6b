"""WGS84 ⇄ GCJ-02 ⇄ BD-09: published fixed points, round trips, arrays, errors. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.errors import Invalid
from chengguan.geo import coords

# Inside mainland China, away from the edges of the offset rectangle.
china_lon = st.floats(min_value=73.7, max_value=134.9, allow_nan=False)
china_lat = st.floats(min_value=4.0, max_value=53.5, allow_nan=False)


def test_it_matches_the_published_forward_formulas():
    # The values every implementation of the standard algorithms prints for Tiananmen.
    assert coords.wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)
    assert coords.gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)


def test_it_inverts_baidu_better_than_the_published_approximation():
    approx = coords._bd_to_gcj_approx(np.float64(116.404), np.float64(39.915))
    assert (float(approx[0]), float(approx[1])) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-12)
    exact = coords.bd09_to_gcj02(116.404, 39.915)
    assert coords.gcj02_to_bd09(*exact) == pytest.approx((116.404, 39.915), abs=1e-9)
    assert exact == pytest.approx(approx, abs=1e-5)


def test_it_offsets_hangzhou_by_a_few_hundred_metres():
    glon, glat = coords.wgs84_to_gcj02(119.95, 30.05)
    dx = (glon - 119.95) * 111_320 * math.cos(math.radians(30.05))
    dy = (glat - 30.05) * 110_574
    assert 300 < math.hypot(dx, dy) < 700
    blon, blat = coords.wgs84_to_bd09(119.95, 30.05)
    assert math.hypot(blon - glon, blat - glat) > 0.005  # Baidu adds another ~700 m


@pytest.mark.parametrize(
    "lon, lat",
    [(-0.1276, 51.5072), (-74.006, 40.7128), (151.2093, -33.8688), (139.0, 56.0)],
)
@pytest.mark.parametrize("crs", ["gcj02", "wgs84"])
def test_it_leaves_points_outside_china_unchanged_in_gcj02(lon, lat, crs):
    assert coords.from_wgs84(lon, lat, crs) == (lon, lat)
    assert coords.to_wgs84(lon, lat, crs) == (lon, lat)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_it_round_trips_wgs84_through_gcj02_within_a_millionth_of_a_degree(lon, lat):
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert abs(back[0] - lon) < 1e-6
    assert abs(back[1] - lat) < 1e-6


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_it_round_trips_wgs84_through_bd09_within_a_millionth_of_a_degree(lon, lat):
    back = coords.to_wgs84(*coords.from_wgs84(lon, lat, "bd09"), "bd09")
    assert abs(back[0] - lon) < 1e-6
    assert abs(back[1] - lat) < 1e-6


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=73.7, max_value=134.9), st.floats(min_value=4.0, max_value=53.5))
def test_it_round_trips_gcj02_through_bd09(lon, lat):
    back = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-6)


def test_it_converts_arrays_exactly_like_single_points():
    rng = np.random.default_rng(1)
    lons = rng.uniform(74, 134, 500)
    lats = rng.uniform(5, 53, 500)
    for crs in coords.CRS_CHOICES:
        xs, ys = coords.from_wgs84(lons, lats, crs)
        assert isinstance(xs, np.ndarray)
        for i in range(0, 500, 37):
            assert (xs[i], ys[i]) == pytest.approx(coords.from_wgs84(float(lons[i]), float(lats[i]), crs), abs=1e-12)
        wx, wy = coords.to_wgs84(xs, ys, crs)
        assert np.abs(wx - lons).max() < 1e-6
        assert np.abs(wy - lats).max() < 1e-6


def test_it_returns_floats_for_floats():
    lon, lat = coords.to_wgs84(120.0, 30.0, "gcj02")
    assert type(lon) is float
    assert type(lat) is float


def test_it_converts_an_array_of_coordinate_pairs():
    pairs = np.array([[119.95, 30.05], [120.1, 30.3]])
    out = coords.transform_coords(pairs, "wgs84", "gcj02")
    assert out.shape == (2, 2)
    assert tuple(out[1]) == pytest.approx(coords.wgs84_to_gcj02(120.1, 30.3))
    assert np.array_equal(coords.transform_coords(pairs, "gcj02", "gcj02"), pairs)


@pytest.mark.parametrize(
    "name, canonical", [("WGS84", "wgs84"), ("GCJ-02", "gcj02"), ("bd09ll", "bd09"), ("", "wgs84")]
)
def test_it_accepts_common_spellings_of_a_crs(name, canonical):
    assert coords.normalize_crs(name) == canonical


def test_it_refuses_an_unknown_crs_naming_the_field():
    with pytest.raises(Invalid) as caught:
        coords.to_wgs84(120.0, 30.0, "epsg:3857")
    assert caught.value.field == "crs"
    assert "epsg:3857" in caught.value.zh
    assert "wgs84" in caught.value.en
