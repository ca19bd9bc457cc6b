"""Locating points in a city's grids through the service, and locator rebuilds on new versions."""

from __future__ import annotations

import numpy as np
import pytest

from chengguan.errors import Invalid
from chengguan.geo import coords, services
from chengguan.geo.models import GeoVersion, Grid
from chengguan.geo.tests.conftest import feature, square


def test_it_locates_a_point_in_its_grid_community_street_and_district(block):
    found = services.locate(block, 119.9515, 30.0505)
    assert found.grid_code == "330111001001002"
    assert found.community_code == "330111001001"
    assert found.street_code == "330111001"
    assert found.district_code == "330111"
    assert found.grid.community.parent.parent.name == "富阳区"
    assert (found.lon, found.lat) == (119.9515, 30.0505)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_it_converts_phone_coordinates_before_locating(block, crs):
    lon, lat = coords.from_wgs84(119.9505, 30.0495, crs)
    assert abs(lon - 119.9505) > 0.004  # far outside the block without conversion
    found = services.locate(block, lon, lat, crs=crs)
    assert found.grid_code == "330111001002001"
    assert found.lon == pytest.approx(119.9505, abs=1e-9)
    assert found.lat == pytest.approx(30.0495, abs=1e-9)


def test_it_gives_a_point_on_a_shared_edge_to_the_first_grid_by_code(block):
    # (119.951, 30.050) is the vertex all four grids share; grids are indexed by code.
    assert services.locate(block, 119.951, 30.050).grid_code == "330111001001001"


def test_it_refuses_a_point_outside_the_citys_grids_naming_lon(block):
    with pytest.raises(Invalid) as caught:
        services.locate(block, 120.5, 30.5)
    assert caught.value.field == "lon"
    assert caught.value.zh == "位置不在本市网格范围内"
    assert caught.value.en == "The point is outside the city's grids"


@pytest.mark.parametrize(
    "lon, lat, field",
    [(181, 30, "lon"), ("abc", 30, "lon"), (float("nan"), 30, "lon"), (120, 91, "lat"), (120, None, "lat")],
)
def test_it_refuses_impossible_coordinates(block, lon, lat, field):
    with pytest.raises(Invalid) as caught:
        services.locate(block, lon, lat)
    assert caught.value.field == field


def test_it_refuses_an_unknown_crs(block):
    with pytest.raises(Invalid) as caught:
        services.locate(block, 119.9505, 30.0505, crs="utm")
    assert caught.value.field == "crs"


def test_it_locates_arrays_of_points_at_once(block):
    lons = np.array([119.9505, 119.9515, 119.9505, 119.9515, 121.0])
    lats = np.array([30.0505, 30.0505, 30.0495, 30.0495, 31.0])
    found = services.locate_many(block, lons, lats)
    assert list(found.grid_code) == [
        "330111001001001",
        "330111001001002",
        "330111001002001",
        "330111001002002",
        None,
    ]
    assert list(found.community_code) == ["330111001001"] * 2 + ["330111001002"] * 2 + [None]
    assert list(found.street_code[:4]) == ["330111001"] * 4
    assert list(found.district_code[:4]) == ["330111"] * 4
    assert list(found.inside) == [True, True, True, True, False]
    ids = dict(Grid.objects.values_list("code", "id"))
    assert found.grid_id[0] == ids["330111001001001"]
    assert found.grid_id[4] == -1


def test_it_locates_arrays_given_in_gcj02(block):
    lons, lats = coords.from_wgs84(np.array([119.9505, 119.9515]), np.array([30.0505, 30.0495]), "gcj02")
    found = services.locate_many(block, lons, lats, crs="gcj02")
    assert list(found.grid_code) == ["330111001001001", "330111001002002"]


def test_it_reuses_the_locator_until_the_geography_changes(block, django_assert_num_queries):
    services.locate(block, 119.9505, 30.0505)
    first = services.locator_for(block)
    # Warm: the latest version is remembered for two seconds, so only the grid is read.
    with django_assert_num_queries(1):
        services.locate(block, 119.9505, 30.0505)
    assert services.locator_for(block) is first

    east = {
        "type": "FeatureCollection",
        "features": [feature("grid", "330111001001003", square(119.952, 30.050), parent="330111001001")],
    }
    services.import_geojson(block, east)
    assert services.locate(block, 119.9525, 30.0505).grid_code == "330111001001003"
    assert services.locator_for(block) is not first


def test_it_rebuilds_when_another_process_records_a_version(block):
    services.locate(block, 119.9505, 30.0505)
    Grid.objects.filter(code="330111001001001").delete()
    # This process still holds the old locator: the deleted grid is not found but not a crash.
    with pytest.raises(Invalid):
        services.locate(block, 119.9505, 30.0505)
    GeoVersion.objects.create(city=block, note="elsewhere")
    with pytest.raises(Invalid):
        services.locate(block, 119.9505, 30.0505)
    assert services.locate(block, 119.9515, 30.0505).grid_code == "330111001001002"
    assert len(services.locator_for(block).locator) == 3


def test_it_records_versions(city):
    first = services.bump_version(city, note="one")
    second = services.bump_version(city, note="x" * 300)
    assert second.pk > first.pk
    assert services.latest_version(city) == second
    assert len(second.note) == 200


def test_it_locates_grids_written_without_a_version(city):
    services.import_geojson(
        city,
        {
            "type": "FeatureCollection",
            "features": [
                feature("district", "330111", name="富阳区"),
                feature("street", "330111001", name="富春街道", parent="330111"),
                feature("community", "330111001001", name="北社区", parent="330111001"),
                feature("grid", "330111001001001", square(119.95, 30.05), parent="330111001001"),
            ],
        },
    )
    GeoVersion.objects.all().delete()
    assert services.locate(city, 119.9505, 30.0505).grid_code == "330111001001001"
    grid = Grid.objects.get()
    Grid.objects.create(
        city=city,
        community=grid.community,
        code="330111001001002",
        street_code="330111001",
        district_code="330111",
        geometry=square(119.951, 30.05),
        area_m2=1,
        center_lon=119.9515,
        center_lat=30.0505,
    )
    assert services.locate(city, 119.9515, 30.0505).grid_code == "330111001001002"


def test_it_picks_the_city_of_a_request(block, calendar, django_user_model):
    assert services.city_for(None) == block
    assert services.city_for(None, "330100") == block
    other = services.create_city("us-baltimore", name="巴尔的摩", timezone="America/New_York", calendar=calendar)
    with pytest.raises(Invalid) as caught:
        services.city_for(None)
    assert caught.value.field == "city"
    user = django_user_model.objects.create_user("u1", password="x" * 12, city=other)
    assert services.city_for(user) == other
    from chengguan.errors import NotFound

    with pytest.raises(NotFound) as missing:
        services.city_for(user, "nowhere")
    assert missing.value.field == "city"
