"""`/api/v1/geo`: locate, grids in a box, regions — through the Django test client."""

from __future__ import annotations

import pytest

from chengguan.geo import coords, services
from chengguan.geo.tests.conftest import feature


@pytest.fixture
def user(block, django_user_model):
    return django_user_model.objects.create_user("inspector1", password="secret-pass-1", role="inspector", city=block)


@pytest.fixture
def api(client, user):
    client.force_login(user)
    return client


def test_it_locates_a_point(api):
    response = api.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495})
    assert response.status_code == 200
    assert response.json() == {
        "grid_code": "330111001002002",
        "community_code": "330111001002",
        "street_code": "330111001",
        "district_code": "330111",
        "area_class": "C",
        "names": {"grid": "南二", "community": "南社区", "street": "富春街道", "district": "富阳区"},
        "lon": 119.9515,
        "lat": 30.0495,
        "crs": "wgs84",
    }


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_it_locates_a_point_given_in_a_chinese_map_crs(api, crs):
    lon, lat = coords.from_wgs84(119.9505, 30.0505, crs)
    response = api.get("/api/v1/geo/locate", {"lon": lon, "lat": lat, "crs": crs})
    assert response.status_code == 200
    body = response.json()
    assert body["grid_code"] == "330111001001001"
    assert (body["lon"], body["lat"]) == pytest.approx((119.9505, 30.0505), abs=1e-9)


def test_it_answers_422_naming_lon_outside_the_city(api):
    response = api.get("/api/v1/geo/locate", {"lon": 120.5, "lat": 30.5})
    assert response.status_code == 422
    assert response.json() == {"error": {"code": "invalid", "message": "位置不在本市网格范围内", "field": "lon"}}
    english = api.get("/api/v1/geo/locate", {"lon": 120.5, "lat": 30.5}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "The point is outside the city's grids"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"lat": 30.05}, "lon"),
        ({"lon": 119.95}, "lat"),
        ({"lon": "east", "lat": 30.05}, "lon"),
        ({"lon": 200, "lat": 30.05}, "lon"),
        ({"lon": 119.95, "lat": 30.05, "crs": "mercator"}, "crs"),
    ],
)
def test_it_answers_422_naming_the_bad_field(api, params, field):
    response = api.get("/api/v1/geo/locate", params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_it_needs_a_signed_in_user(client, block):
    response = client.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_it_takes_the_city_from_the_parameter_or_the_only_city(client, block, calendar, django_user_model):
    admin = django_user_model.objects.create_user("admin1", password="secret-pass-1", role="admin")
    client.force_login(admin)
    assert client.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495}).status_code == 200
    services.create_city("330200", name="宁波市", calendar=calendar)
    ambiguous = client.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495})
    assert ambiguous.status_code == 422
    assert ambiguous.json()["error"]["field"] == "city"
    named = client.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495, "city": "330100"})
    assert named.json()["grid_code"] == "330111001002002"
    unknown = client.get("/api/v1/geo/locate", {"lon": 119.9515, "lat": 30.0495, "city": "999999"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "city"


def test_it_lists_grids_meeting_a_bbox(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/geo/grids", {"bbox": "119.9502,30.0502,119.9508,30.0508"})
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["truncated"] is False
    assert [f["properties"]["code"] for f in body["features"]] == ["330111001001001"]
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"]["community_code"] == "330111001001"
    everything = api.get("/api/v1/geo/grids", {"bbox": "119.9,30.0,120.0,30.1"}).json()
    assert len(everything["features"]) == 4
    nothing = api.get("/api/v1/geo/grids", {"bbox": "121,31,121.1,31.1"}).json()
    assert nothing["features"] == []


def test_it_tests_the_polygon_not_only_its_extent(api, block):
    triangle = {
        "type": "Polygon",
        "coordinates": [[[119.952, 30.050], [119.953, 30.050], [119.952, 30.051], [119.952, 30.050]]],
    }
    services.import_geojson(
        block,
        {
            "type": "FeatureCollection",
            "features": [feature("grid", "330111001001003", triangle, parent="330111001001")],
        },
    )
    empty_corner = api.get("/api/v1/geo/grids", {"bbox": "119.9528,30.0508,119.9529,30.0509"}).json()
    assert empty_corner["features"] == []
    solid_corner = api.get("/api/v1/geo/grids", {"bbox": "119.9521,30.0501,119.9522,30.0502"}).json()
    assert [f["properties"]["code"] for f in solid_corner["features"]] == ["330111001001003"]


def test_it_filters_grids_by_community_and_cuts_at_the_limit(api):
    body = api.get("/api/v1/geo/grids", {"community": "330111001002"}).json()
    assert [f["properties"]["code"] for f in body["features"]] == ["330111001002001", "330111001002002"]
    cut = api.get("/api/v1/geo/grids", {"bbox": "119.9,30.0,120.0,30.1", "limit": 3}).json()
    assert len(cut["features"]) == 3
    assert cut["truncated"] is True


def test_it_gives_grids_in_gcj02_for_chinese_web_maps(api):
    # A GCJ-02 map shows the block shifted; the query box and the output are both GCJ-02.
    x, y = coords.wgs84_to_gcj02(119.9505, 30.0505)
    bbox = f"{x - 0.0001},{y - 0.0001},{x + 0.0001},{y + 0.0001}"
    body = api.get("/api/v1/geo/grids", {"bbox": bbox, "crs": "gcj02"}).json()
    assert [f["properties"]["code"] for f in body["features"]] == ["330111001001001"]
    corner = body["features"][0]["geometry"]["coordinates"][0][0]
    assert corner == pytest.approx(list(coords.wgs84_to_gcj02(119.950, 30.050)), abs=1e-9)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "120,30,119,31"}, "bbox"),
        ({"bbox": "120,30,121,95"}, "bbox"),
        ({"bbox": "nan,30,121,31"}, "bbox"),
        ({}, "bbox"),
        ({"bbox": "119,30,120,31", "limit": 0}, "limit"),
        ({"bbox": "119,30,120,31", "crs": "x"}, "crs"),
    ],
)
def test_it_answers_422_for_a_bad_grid_query(api, params, field):
    response = api.get("/api/v1/geo/grids", params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_it_lists_regions_by_level(api):
    body = api.get("/api/v1/geo/regions", {"level": "community"}).json()
    assert body["type"] == "FeatureCollection"
    assert [
        (f["properties"]["code"], f["properties"]["name"], f["properties"]["parent"]) for f in body["features"]
    ] == [
        ("330111001001", "北社区", "330111001"),
        ("330111001002", "南社区", "330111001"),
    ]
    everything = api.get("/api/v1/geo/regions").json()
    assert [f["properties"]["level"] for f in everything["features"]] == [
        "district",
        "street",
        "community",
        "community",
    ]
    children = api.get("/api/v1/geo/regions", {"parent": "330111"}).json()
    assert [f["properties"]["code"] for f in children["features"]] == ["330111001"]


def test_it_answers_422_for_an_unknown_region_level(api):
    response = api.get("/api/v1/geo/regions", {"level": "province"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "level"
