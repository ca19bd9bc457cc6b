"""The demo ground: real streets and communities, generated grids that tile the district."""

import json
import math

import numpy as np
import pytest
import shapely
from django.conf import settings

from chengguan.demo.geography import CENTRE, build_geography
from chengguan.geo.codes import parse_grid_code
from chengguan.geo.coords import from_wgs84
from chengguan.geo.geometry import from_geojson
from chengguan.geo.models import City, Grid, Region

pytestmark = pytest.mark.django_db

URBAN = {
    "330111001": "富春街道",
    "330111002": "春江街道",
    "330111004": "鹿山街道",
    "330111005": "东洲街道",
    "330111006": "银湖街道",
}


def test_it_builds_the_city_and_its_district(demo):
    city = City.objects.get(code="330100")
    assert (city.name, city.timezone) == ("杭州市", "Asia/Shanghai")
    assert city.calendar.code == "cn-default"
    district = Region.objects.get(level="district")
    assert (district.code, district.name, district.parent) == ("330111", "富阳区", None)
    assert 1.7e9 < district.area_m2 < 1.95e9  # 富阳区 is about 1,830 km²


def test_it_has_the_real_24_streets_and_338_communities(demo):
    streets = Region.objects.filter(level="street")
    assert streets.count() == 24
    assert {s.code: s.name for s in streets if s.code in URBAN} == URBAN
    assert set(streets.values_list("parent__code", flat=True)) == {"330111"}
    communities = Region.objects.filter(level="community")
    assert communities.count() == 338
    for code, parent in communities.values_list("code", "parent__code"):
        assert code[:9] == parent
    assert communities.get(code="330111001003").name == "城西社区"
    assert communities.get(code="330111002211").name.endswith("村")


def test_the_district_outline_is_converted_to_wgs84(demo):
    source = settings.SHARED_DATA_DIR / "china-hangzhou-boundaries-datav" / "county_330111.json"
    gcj = shapely.get_coordinates(from_geojson(json.loads(source.read_text())["features"][0]["geometry"]))
    wgs = shapely.get_coordinates(from_geojson(Region.objects.get(level="district").geometry))
    assert len(wgs) == len(gcj)
    back = np.column_stack(from_wgs84(wgs[:, 0], wgs[:, 1], "gcj02"))
    assert np.abs(back - gcj).max() < 1e-7
    # GCJ-02 moves points here by a few hundred metres.
    assert 0.002 < np.abs(wgs - gcj).max() < 0.01


def _tiles(parent, children, *, tolerance=1e-6):
    union = shapely.union_all(children)
    assert shapely.symmetric_difference(union, parent).area <= tolerance * parent.area
    assert sum(c.area for c in children) == pytest.approx(parent.area, rel=tolerance)


def test_streets_and_communities_tile_the_district(demo):
    regions = {r.code: (r.level, r.parent_id, from_geojson(r.geometry)) for r in Region.objects.all()}
    district = next(g for level, _, g in regions.values() if level == "district")
    streets = [g for level, _, g in regions.values() if level == "street"]
    _tiles(district, streets)
    by_id = {r.pk: r.code for r in Region.objects.all()}
    for street in Region.objects.filter(level="street"):
        children = [g for level, parent, g in regions.values() if level == "community" and by_id[parent] == street.code]
        _tiles(from_geojson(street.geometry), children)


def test_the_core_has_about_a_thousand_grids_of_about_ten_thousand_square_metres(demo, ground):
    core = {g.code for g in ground.grids if g.core}
    areas = np.array(Grid.objects.filter(code__in=core).values_list("area_m2", flat=True))
    assert 850 <= len(areas) <= 1150
    assert 8_000 <= areas.mean() <= 12_000
    assert areas.min() > 4_000 and areas.max() < 30_000
    # Core grids lie in the urban streets, in communities cut up into many grids.
    streets = set(Grid.objects.filter(code__in=core).values_list("street_code", flat=True))
    assert streets == set(URBAN)


def test_the_other_communities_have_one_grid_each(demo, ground):
    core = {g.community for g in ground.grids if g.core}
    for community in Region.objects.filter(level="community").exclude(code__in=core):
        grids = list(community.grids.all())
        assert [g.code for g in grids] == [community.code + "001"]
        assert grids[0].area_m2 == pytest.approx(community.area_m2, rel=1e-9)


def test_the_grids_cover_the_district_exactly(demo):
    district = Region.objects.get(level="district")
    total = sum(Grid.objects.values_list("area_m2", flat=True))
    assert total == pytest.approx(district.area_m2, rel=0.005)
    outline = from_geojson(district.geometry)
    shapes = np.array([from_geojson(g) for g in Grid.objects.values_list("geometry", flat=True)])
    tree = shapely.STRtree(shapes)
    rng = np.random.default_rng(0)
    for box in (outline.bounds, shapely.total_bounds(shapes[[i for i, s in enumerate(shapes) if s.area < 2e-6]])):
        xy = rng.uniform(box[:2], box[2:], size=(30_000, 2))
        xy = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])]
        hits, _ = tree.query(shapely.points(xy), predicate="intersects")
        assert np.all(np.bincount(hits, minlength=len(xy)) == 1)


def test_no_two_grids_overlap(demo):
    shapes = [from_geojson(g) for g in Grid.objects.values_list("geometry", flat=True)]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="overlaps")
    square_metres_per_square_degree = 111_320 * math.cos(math.radians(30)) * 110_574
    for i, j in zip(left, right, strict=True):
        if i < j:
            assert shapely.intersection(shapes[i], shapes[j]).area * square_metres_per_square_degree < 0.01


def test_no_grid_crosses_a_community_boundary(demo):
    communities = {r.pk: from_geojson(r.geometry) for r in Region.objects.filter(level="community")}
    for community_id, geometry in Grid.objects.values_list("community_id", "geometry"):
        grid = from_geojson(geometry)
        assert shapely.difference(grid, communities[community_id]).area <= 1e-9 * max(grid.area, 1e-12)


def test_grid_codes_are_valid_and_numbered_west_to_east_north_to_south(demo, ground):
    plane = ground.plane
    by_community: dict[str, list[Grid]] = {}
    for grid in Grid.objects.select_related("community").order_by("code"):
        parsed = parse_grid_code(grid.code)
        assert parsed.community == grid.community.code
        assert grid.street_code == grid.community.code[:9] and grid.district_code == "330111"
        assert shapely.contains_xy(from_geojson(grid.geometry), grid.center_lon, grid.center_lat)
        by_community.setdefault(parsed.community, []).append(grid)
    for grids in by_community.values():
        assert [int(g.code[12:]) for g in grids] == list(range(1, len(grids) + 1))
        cells = [plane.lattice_cell(g.center_lon, g.center_lat) for g in grids]
        keys = [(-row, col) for row, col in cells]
        assert keys == sorted(keys)


def test_area_classes_follow_the_core(demo, ground):
    core = {g.code for g in ground.grids if g.core}
    classes = dict(Grid.objects.values_list("code", "area_class"))
    assert {classes[c] for c in core} == {"A", "B"}
    assert sum(classes[c] == "A" for c in core) > 100
    rural = {c for c, _ in classes.items() if c[:9] not in URBAN}
    assert {classes[c] for c in rural} == {"C"}
    urban_outer = {c for c in classes if c[:9] in URBAN and c not in core}
    assert {classes[c] for c in urban_outer} == {"B"}
    # Class A lies around the centre.
    a = Grid.objects.filter(area_class="A")
    assert max(abs(g.center_lon - CENTRE[0]) for g in a) < 0.012
    assert max(abs(g.center_lat - CENTRE[1]) for g in a) < 0.01


def test_the_same_seed_gives_the_same_ground(ground):
    again = build_geography(settings.SHARED_DATA_DIR, seed=ground.seed)
    assert [g.code for g in again.grids] == [g.code for g in ground.grids]
    assert all(shapely.equals_exact(a.geometry, b.geometry, 0) for a, b in zip(again.grids, ground.grids, strict=True))
    assert all(
        shapely.equals_exact(a.geometry, b.geometry, 0)
        for a, b in zip(again.communities, ground.communities, strict=True)
    )


def test_another_seed_gives_other_grids(ground):
    other = build_geography(settings.SHARED_DATA_DIR, seed=ground.seed + 1)
    assert len(other.streets) == 24 and len(other.communities) == 338
    assert [c.code for c in other.communities] == [c.code for c in ground.communities]
    assert not all(
        shapely.equals_exact(a.geometry, b.geometry, 1e-9)
        for a, b in zip(other.communities, ground.communities, strict=True)
    )


def test_the_database_holds_what_the_seed_gives(demo, ground):
    stored = dict(Grid.objects.values_list("code", "geometry"))
    assert sorted(stored) == sorted(g.code for g in ground.grids)
    sample = ground.grids[:: max(1, len(ground.grids) // 50)]
    for g in sample:
        assert shapely.equals_exact(from_geojson(stored[g.code]), g.geometry, 1e-12)
