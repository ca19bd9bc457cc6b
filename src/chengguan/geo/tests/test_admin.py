"""The admin pages of geography, in Chinese, with the GeoJSON export action."""

from __future__ import annotations

import json

import pytest

from chengguan.geo.models import DutyGrid, GeoVersion, Grid, Region


@pytest.fixture
def admin_client(client, block, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "secret-pass-1", role="admin")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ["city", "region", "grid", "dutygrid", "geoversion"])
def test_it_lists_each_model(admin_client, model):
    response = admin_client.get(f"/admin/geo/{model}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200


def test_it_searches_grids_by_code_and_filters_by_area_class(admin_client):
    found = admin_client.get("/admin/geo/grid/", {"q": "330111001002"})
    assert "330111001002001" in found.content.decode()
    assert "330111001001001" not in found.content.decode()
    filtered = admin_client.get("/admin/geo/grid/", {"area_class__exact": "C"})
    assert "330111001002002" in filtered.content.decode()
    assert "330111001002001" not in filtered.content.decode()
    regions = admin_client.get("/admin/geo/region/", {"q": "北社区"})
    assert "330111001001" in regions.content.decode()


def test_it_shows_geometry_read_only_in_chinese(admin_client):
    grid = Grid.objects.get(code="330111001001001")
    page = admin_client.get(f"/admin/geo/grid/{grid.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "边界(GeoJSON, WGS84)" in page
    assert "Polygon" in page
    assert 'name="geometry"' not in page
    assert "单元网格" in page


def test_it_edits_duty_grids_with_two_pickers(admin_client):
    duty = DutyGrid.objects.create(code="D1", name="一号责任网格", city=Grid.objects.first().city)
    duty.grids.set(Grid.objects.all()[:2])
    page = admin_client.get(f"/admin/geo/dutygrid/{duty.pk}/change/").content.decode()
    assert "selectfilter" in page.lower() or "SelectFilter" in page
    listing = admin_client.get("/admin/geo/dutygrid/").content.decode()
    assert "一号责任网格" in listing


def test_it_exports_selected_grids_as_geojson(admin_client):
    ids = list(Grid.objects.filter(community__code="330111001001").values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/geo/grid/", {"action": "export_grids_geojson", "_selected_action": [str(i) for i in ids]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = json.loads(response.content)
    assert [f["properties"]["code"] for f in body["features"]] == ["330111001001001", "330111001001002"]


def test_it_exports_a_whole_city_and_selected_regions(admin_client):
    city = Grid.objects.first().city
    response = admin_client.post("/admin/geo/city/", {"action": "export_city_geojson", "_selected_action": [city.pk]})
    assert len(json.loads(response.content)["features"]) == 8
    regions = Region.objects.filter(level="community").values_list("pk", flat=True)
    response = admin_client.post(
        "/admin/geo/region/", {"action": "export_regions_geojson", "_selected_action": list(regions)}
    )
    assert [f["properties"]["level"] for f in json.loads(response.content)["features"]] == ["community", "community"]


def test_it_records_a_version_when_grids_are_deleted(admin_client):
    before = GeoVersion.objects.count()
    grid = Grid.objects.get(code="330111001001001")
    response = admin_client.post(f"/admin/geo/grid/{grid.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Grid.objects.filter(code="330111001001001").exists()
    assert GeoVersion.objects.count() == before + 1
    ids = list(Grid.objects.values_list("pk", flat=True))
    admin_client.post("/admin/geo/grid/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert Grid.objects.count() == 0
    assert GeoVersion.objects.count() == before + 2


def test_it_links_the_grid_list_to_the_map_check(admin_client):
    response = admin_client.get("/admin/geo/grid/")
    assert response.status_code == 200 and "/center/map/grids/" in response.content.decode()
