"""GeoJSON import and export: checks before writing, upserts, areas, coordinate systems, and
the real 富阳区 boundary."""

from __future__ import annotations

import copy
import json

import pytest
import shapely
from django.conf import settings

from chengguan.errors import Invalid
from chengguan.geo import coords, services
from chengguan.geo.geometry import convert, from_geojson, geodesic_area_m2
from chengguan.geo.models import GeoVersion, Grid, Region
from chengguan.geo.tests.conftest import block_collection, feature, square

FUYANG = settings.SHARED_DATA_DIR / "china-hangzhou-boundaries-datav" / "county_330111.json"


def refused(city, collection, **kwargs) -> services.GeoImportError:
    with pytest.raises(services.GeoImportError) as caught:
        services.import_geojson(city, collection, **kwargs)
    return caught.value


def test_it_imports_districts_streets_communities_and_grids(city):
    report = services.import_geojson(city, block_collection())
    assert report.created == {"district": 1, "street": 1, "community": 2, "grid": 4}
    assert report.updated == {"district": 0, "street": 0, "community": 0, "grid": 0}
    assert report.warnings == []
    assert report.version == GeoVersion.objects.get(city=city)
    grid = Grid.objects.select_related("community__parent__parent").get(code="330111001001001")
    assert grid.community.code == "330111001001"
    assert grid.community.parent.code == "330111001"
    assert (grid.street_code, grid.district_code) == ("330111001", "330111")
    assert grid.area_class == "A"
    assert grid.name == "北一"
    assert (grid.center_lon, grid.center_lat) == pytest.approx((119.9505, 30.0505))
    assert (grid.min_lon, grid.min_lat, grid.max_lon, grid.max_lat) == pytest.approx((119.950, 30.050, 119.951, 30.051))
    assert Region.objects.get(code="330111").parent is None


def test_it_measures_areas_in_square_metres_on_the_ellipsoid(block):
    grid = Grid.objects.get(code="330111001002002")
    # 0.001° × 0.001° at 30.05°N: about 96.4 m × 110.9 m.
    assert grid.area_m2 == pytest.approx(96.4 * 110.9, rel=0.005)
    street = Region.objects.get(code="330111001")
    assert street.area_m2 == pytest.approx(4 * grid.area_m2, rel=1e-3)


def test_it_updates_by_code_on_a_second_import(block):
    collection = block_collection()
    collection["features"][4]["properties"]["name"] = "北一（改）"
    collection["features"][4]["properties"]["area_class"] = "B"
    report = services.import_geojson(block, collection)
    assert report.created == {"district": 0, "street": 0, "community": 0, "grid": 0}
    assert report.updated == {"district": 1, "street": 1, "community": 2, "grid": 4}
    assert Grid.objects.count() == 4
    grid = Grid.objects.get(code="330111001001001")
    assert (grid.name, grid.area_class) == ("北一（改）", "B")
    assert GeoVersion.objects.filter(city=block).count() == 2


def test_it_adds_grids_to_communities_already_stored(block):
    report = services.import_geojson(
        block,
        {
            "type": "FeatureCollection",
            "features": [feature("grid", "330111001001003", square(119.952, 30.050), parent="330111001001")],
        },
    )
    assert report.created["grid"] == 1
    assert Grid.objects.get(code="330111001001003").street_code == "330111001"


def test_it_names_every_feature_with_a_problem_and_writes_nothing(city):
    collection = block_collection()
    bad = collection["features"]
    bad.append(feature("grid", "330111001009001", square(119.96, 30.05), parent="330111001009"))  # 9
    bad.append(feature("grid", "330111001002003", square(119.97, 30.05), parent="330111001001"))  # 10
    bad.append(feature("grid", "3301110010010044", square(119.98, 30.05), parent="330111001001"))  # 11
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[119.99, 30.05], [119.991, 30.051], [119.991, 30.05], [119.99, 30.051], [119.99, 30.05]]],
    }
    bad.append(feature("grid", "330111001001005", bowtie, parent="330111001001"))  # 12
    bad.append(feature("grid", "330111001001006", square(119.9505, 30.0505), parent="330111001001"))  # 13
    bad.append(feature("grid", "330111001001002", square(120.0, 30.05), parent="330111001001"))  # 14
    bad.append(
        feature("grid", "330111001001007", {"type": "Point", "coordinates": [120, 30]}, parent="330111001001")
    )  # 15
    bad.append(feature("town", "x"))  # 16
    problems = refused(city, collection).problems
    found: dict = {}
    for p in problems:  # one entry per feature, all its problems joined
        seen = found.get((p.index, p.code))
        found[(p.index, p.code)] = (
            p if seen is None else type(p)(p.index, p.code, seen.zh + "；" + p.zh, seen.en + "; " + p.en)
        )
    assert "不存在" in found[(9, "330111001009001")].zh
    assert "330111001001" in found[(10, "330111001002003")].zh and "开头" in found[(10, "330111001002003")].zh
    assert "15" in found[(11, "3301110010010044")].zh
    assert "Self-intersection" in found[(12, "330111001001005")].zh
    overlaps = found[(13, "330111001001006")]
    assert "重叠" in overlaps.zh and "330111001001001" in overlaps.zh and "m²" in overlaps.en
    assert "代码重复（与第 6 个要素相同）" in found[(14, "330111001001002")].zh
    assert "Polygon" in found[(15, "330111001001007")].zh
    assert "level" in found[(16, "x")].zh
    assert [p.index for p in problems] == sorted(p.index for p in problems)
    assert Region.objects.count() == 0
    assert Grid.objects.count() == 0
    assert GeoVersion.objects.count() == 0


def test_it_puts_index_and_code_of_each_feature_in_the_error_message(city):
    collection = block_collection()
    collection["features"][5]["properties"]["parent"] = "330111001003"
    error = refused(city, collection)
    assert error.field == "features"
    assert "第 6 个要素（代码 330111001001002）" in error.zh
    assert "feature #6 (code 330111001001002)" in error.en
    assert error.status == 422


def test_it_refuses_a_grid_overlapping_one_already_stored(block):
    collection = {
        "type": "FeatureCollection",
        "features": [feature("grid", "330111001002003", square(119.9515, 30.0485), parent="330111001002")],
    }
    problems = refused(block, collection).problems
    assert len(problems) == 1
    assert "已有的网格" in problems[0].zh
    assert "330111001002002" in problems[0].zh


def test_it_accepts_grids_that_only_share_edges(block):
    # Re-importing the block is all shared edges and vertices, no overlap.
    services.import_geojson(block, block_collection())


def test_it_checks_parents_levels_and_code_structure(city):
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature("district", "330111", name="富阳区"),
            feature("street", "330112001", name="别区街道", parent="330111"),
            feature("community", "330111001001", name="社区", parent="330111"),
            feature("street", "33011100", name="短码", parent="330111"),
            feature("community", "330111001002", name=""),
            feature("grid", "330111001001001", square(119.95, 30.05), parent="330111001001", area_class="D"),
        ],
    }
    found: dict = {}
    for p in refused(city, collection).problems:
        found[p.index] = found[p.index] + "；" + p.zh if p.index in found else p.zh
    assert "330111" in found[2] and "开头" in found[2]
    assert "是区县，应为街道" in found[3]
    assert "9 位" in found[4]
    assert "parent" in found[5]
    assert "名称" in found[5]
    assert "area_class" in found[6]


def test_it_refuses_a_code_of_another_city(block, calendar):
    other = services.create_city("330200", name="宁波市", calendar=calendar)
    problems = refused(other, block_collection()).problems
    assert {p.index for p in problems} == set(range(1, 9))
    assert all("另一个城市" in p.zh for p in problems)


def test_it_refuses_to_change_a_regions_level(block):
    collection = {"type": "FeatureCollection", "features": [feature("street", "330111", name="x", parent="330111")]}
    problems = refused(block, collection).problems
    assert any("区县" in p.zh and "不能改为街道" in p.zh for p in problems)


@pytest.mark.parametrize("collection", [[], {"type": "Feature"}, {"type": "FeatureCollection"}, None])
def test_it_refuses_what_is_not_a_feature_collection(city, collection):
    with pytest.raises(Invalid) as caught:
        services.import_geojson(city, collection)
    assert caught.value.field == "features"


def test_it_uses_two_digit_grid_sequences_where_the_city_does(city):
    city.grid_sequence_digits = 2
    city.save()
    collection = block_collection()
    for item in collection["features"][4:]:
        item["properties"]["code"] = item["properties"]["code"][:12] + item["properties"]["code"][13:]
    services.import_geojson(city, collection)
    assert sorted(Grid.objects.values_list("code", flat=True))[0] == "33011100100101"
    collection["features"][4]["properties"]["code"] = "330111001001001"
    assert any("2 位顺序码" in p.zh for p in refused(city, collection).problems)


def test_it_stores_gcj02_input_as_wgs84(city):
    collection = block_collection()
    gcj = copy.deepcopy(collection)
    for item in gcj["features"]:
        ring = item["geometry"]["coordinates"][0]
        item["geometry"]["coordinates"][0] = [list(coords.wgs84_to_gcj02(x, y)) for x, y in ring]
    services.import_geojson(city, gcj, crs="gcj02")
    stored = from_geojson(Grid.objects.get(code="330111001001001").geometry)
    expected = from_geojson(collection["features"][4]["geometry"])
    assert shapely.equals_exact(stored, expected, tolerance=1e-8)
    assert services.locate(city, 119.9505, 30.0505).grid_code == "330111001001001"


def test_it_accepts_codes_given_as_numbers_and_names_only_for_regions(city):
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature("district", 330111, name="富阳区"),
            feature("street", 330111001, name="富春街道", parent=330111),
            feature("community", 330111001001, name="北社区", parent=330111001),
            feature("grid", 330111001001001, square(119.95, 30.05), parent=330111001001),
        ],
    }
    report = services.import_geojson(city, collection)
    assert report.created["grid"] == 1
    assert Grid.objects.get().name == ""


def test_it_warns_about_a_grid_outside_its_community(block):
    collection = {
        "type": "FeatureCollection",
        "features": [feature("grid", "330111001001009", square(119.96, 30.06), parent="330111001001")],
    }
    report = services.import_geojson(block, collection)
    assert len(report.warnings) == 1
    assert "330111001001009" in report.warnings[0]


def test_it_exports_what_it_imports(block):
    exported = services.export_geojson(block, "all")
    assert [f["properties"]["level"] for f in exported["features"]] == ["district", "street"] + ["community"] * 2 + [
        "grid"
    ] * 4
    grid = exported["features"][4]
    assert grid["properties"] == grid["properties"] | {
        "code": "330111001001001",
        "parent": "330111001001",
        "name": "北一",
        "area_class": "A",
        "street_code": "330111001",
        "district_code": "330111",
    }
    json.dumps(exported)  # plain JSON
    report = services.import_geojson(block, exported)
    assert report.updated == {"district": 1, "street": 1, "community": 2, "grid": 4}
    assert sum(report.created.values()) == 0


def test_it_exports_one_level_in_another_crs(block):
    exported = services.export_geojson(block, "grid", crs="gcj02")
    assert exported["crs"] == "gcj02"
    first = exported["features"][0]
    x, y = first["geometry"]["coordinates"][0][0]
    assert (x, y) == pytest.approx(coords.wgs84_to_gcj02(119.950, 30.050), abs=1e-9)
    assert first["properties"]["center"] == pytest.approx(list(coords.wgs84_to_gcj02(119.9505, 30.0505)), abs=1e-9)
    with pytest.raises(Invalid) as caught:
        services.export_geojson(block, "province")
    assert caught.value.field == "level"


def fuyang() -> dict:
    return json.loads(FUYANG.read_text(encoding="utf-8"))


def test_it_converts_the_real_fuyang_boundary_from_gcj02_to_wgs84():
    collection = fuyang()
    assert collection["features"][0]["properties"]["name"] == "富阳区"
    gcj = from_geojson(collection["features"][0]["geometry"])
    wgs = convert(gcj, "gcj02", "wgs84")
    assert wgs.is_valid
    # GCJ-02 shifts Hangzhou east and north by a few hundred metres; WGS84 undoes it.
    shift_x = gcj.centroid.x - wgs.centroid.x
    shift_y = gcj.centroid.y - wgs.centroid.y
    assert 0.003 < shift_x < 0.006
    assert -0.004 < shift_y < 0.0
    back = convert(wgs, "wgs84", "gcj02")
    assert shapely.equals_exact(back, gcj, tolerance=1e-7)
    # 富阳区 is about 1,821 km².
    assert geodesic_area_m2(wgs) / 1e6 == pytest.approx(1821, rel=0.02)


def test_it_imports_the_real_fuyang_boundary_file_as_a_district(city):
    report = services.import_geojson(city, fuyang(), crs="gcj02")
    assert report.created["district"] == 1
    district = Region.objects.get(code="330111")
    assert district.name == "富阳区"
    assert district.level == "district"
    assert district.area_m2 / 1e6 == pytest.approx(1821, rel=0.02)
    stored = from_geojson(district.geometry)
    assert stored.contains(shapely.Point(119.95, 30.05))  # 富阳 city centre (WGS84)
