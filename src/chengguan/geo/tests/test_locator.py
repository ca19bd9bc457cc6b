"""GridLocator against the STRtree reference: same answers everywhere, lowest index on shared
edges. No database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from chengguan.geo.locator import GridLocator, strtree_lowest_index


def raster_locator(items, **kwargs) -> GridLocator:
    """A locator that uses its raster index for every query, however small."""
    return GridLocator(items, raster_from=0, **kwargs)


def reference(locator: GridLocator, lons, lats) -> np.ndarray:
    return strtree_lowest_index(shapely.STRtree(locator.geometries), lons, lats)


def assert_same_as_strtree(locator: GridLocator, lons, lats) -> None:
    expected = reference(locator, lons, lats)
    got = locator.locate_index_many(lons, lats)
    assert locator.raster is not None
    assert np.array_equal(got, expected), np.flatnonzero(got != expected)[:10]


def two_by_two() -> GridLocator:
    # Index order a, b, c, d; they share the edges x = 1 and y = 1 and the vertex (1, 1).
    return raster_locator(
        [
            ("a", box(0, 0, 1, 1)),
            ("b", box(1, 0, 2, 1)),
            ("c", box(0, 1, 1, 2)),
            ("d", box(1, 1, 2, 2)),
        ]
    )


def voronoi_grids(count: int, seed: int) -> list[tuple[str, Polygon]]:
    rng = np.random.default_rng(seed)
    seeds = shapely.multipoints(rng.uniform(0, 10, (count, 2)))
    frame = box(0, 0, 10, 10)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)
    return [(f"g{i:03d}", cell) for i, cell in enumerate(cells)]


def test_it_finds_the_grid_inside_which_a_point_lies():
    locator = two_by_two()
    assert locator.locate(0.5, 0.5) == 0
    assert locator.locate_code(1.5, 1.5) == "d"
    assert locator.locate_code(1.25, 0.75) == "b"


def test_it_answers_no_grid_outside_every_grid_and_for_nan():
    locator = two_by_two()
    assert locator.locate(2.5, 0.5) is None
    assert locator.locate(-1e-9, 0.5) is None
    assert locator.locate(float("nan"), 0.5) is None
    codes = locator.locate_many(np.array([5.0, np.nan, 0.5]), np.array([5.0, 1.0, 0.5]))
    assert list(codes) == [None, None, "a"]


def test_it_gives_a_point_on_a_shared_edge_to_the_lowest_grid_index():
    locator = two_by_two()
    assert locator.locate_code(1.0, 0.5) == "a"  # edge a|b
    assert locator.locate_code(1.5, 1.0) == "b"  # edge b|d
    assert locator.locate_code(1.0, 1.0) == "a"  # vertex of all four
    assert locator.locate_code(2.0, 2.0) == "d"  # outer corner
    reordered = raster_locator([("d", box(1, 1, 2, 2)), ("b", box(1, 0, 2, 1)), ("a", box(0, 0, 1, 1))])
    assert reordered.locate_code(1.0, 1.0) == "d"
    assert reordered.locate_code(1.0, 0.5) == "b"


def test_it_matches_strtree_exactly_on_every_vertex_and_edge_of_irregular_grids():
    grids = voronoi_grids(60, seed=3)
    locator = raster_locator(grids)
    vertices = shapely.get_coordinates(np.array([g for _, g in grids]))
    midpoints = (vertices[:-1] + vertices[1:]) / 2
    points = np.vstack([vertices, midpoints])
    assert_same_as_strtree(locator, points[:, 0], points[:, 1])


def test_it_matches_strtree_on_many_random_points():
    locator = raster_locator(voronoi_grids(200, seed=5))
    rng = np.random.default_rng(11)
    lons = rng.uniform(-1, 11, 200_000)
    lats = rng.uniform(-1, 11, 200_000)
    assert_same_as_strtree(locator, lons, lats)
    assert locator.boundary_cell_count > 0


def test_it_stays_exact_with_a_coarse_raster():
    locator = raster_locator(voronoi_grids(100, seed=8), max_cells=2_000)
    rng = np.random.default_rng(2)
    lons, lats = rng.uniform(0, 10, 50_000), rng.uniform(0, 10, 50_000)
    assert locator.cell_count <= 4_000
    assert_same_as_strtree(locator, lons, lats)


def test_it_takes_the_lowest_index_where_grids_overlap():
    locator = raster_locator([("big", box(0, 0, 4, 4)), ("small", box(1, 1, 2, 2)), ("side", box(3, 3, 6, 6))])
    assert locator.locate_code(1.5, 1.5) == "big"
    assert locator.locate_code(3.5, 3.5) == "big"
    assert locator.locate_code(5, 5) == "side"
    rng = np.random.default_rng(4)
    assert_same_as_strtree(locator, rng.uniform(-1, 7, 20_000), rng.uniform(-1, 7, 20_000))


def test_it_handles_holes_and_multipolygons():
    ring = Polygon([(0, 0), (6, 0), (6, 6), (0, 6)], [[(2, 2), (4, 2), (4, 4), (2, 4)]])
    islands = MultiPolygon([box(2.5, 2.5, 3.5, 3.5), box(8, 8, 9, 9)])
    locator = raster_locator([("ring", ring), ("islands", islands)])
    assert locator.locate_code(1, 1) == "ring"
    assert locator.locate_code(3, 3) == "islands"
    assert locator.locate_code(2.2, 2.2) is None
    assert locator.locate_code(8.5, 8.5) == "islands"
    assert locator.locate_code(7, 7) is None
    rng = np.random.default_rng(6)
    assert_same_as_strtree(locator, rng.uniform(-1, 10, 50_000), rng.uniform(-1, 10, 50_000))


def test_it_answers_small_queries_from_the_strtree_until_a_big_one_builds_the_raster():
    grids = voronoi_grids(50, seed=12)
    locator = GridLocator(grids, raster_from=1000)
    rng = np.random.default_rng(3)
    small_x, small_y = rng.uniform(0, 10, 999), rng.uniform(0, 10, 999)
    before = locator.locate_index_many(small_x, small_y)
    assert locator.locate(5.0, 5.0) is not None
    assert locator.raster is None
    big_x, big_y = rng.uniform(0, 10, 1000), rng.uniform(0, 10, 1000)
    locator.locate_index_many(big_x, big_y)
    assert locator.raster is not None
    assert np.array_equal(locator.locate_index_many(small_x, small_y), before)


def test_it_locates_nothing_without_grids():
    locator = GridLocator([], raster_from=0)
    assert len(locator) == 0
    assert locator.locate(1.0, 1.0) is None
    assert list(locator.locate_many(np.array([1.0]), np.array([2.0]))) == [None]


def test_it_returns_codes_as_an_object_array():
    locator = GridLocator.from_geometries(["a", "b"], [box(0, 0, 1, 1), box(1, 0, 2, 1)], raster_from=0)
    codes = locator.locate_many([0.5, 1.5, 3.0], [0.5, 0.5, 0.5])
    assert codes.dtype == object
    assert list(codes) == ["a", "b", None]


def test_it_refuses_what_is_not_a_geometry():
    with pytest.raises(TypeError):
        raster_locator([("a", [[0, 0], [1, 0], [1, 1]])])


def test_it_refuses_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        two_by_two().locate_index_many([1.0, 2.0], [1.0])


def test_it_works_at_real_coordinates_near_fuyang():
    # 100 m-ish grids in degrees at lon 119.95, lat 30.05, where rounding is at its worst.
    step_x, step_y = 0.00104, 0.0009
    grids = [
        (
            f"330111001001{i * 10 + j + 1:03d}",
            box(119.95 + i * step_x, 30.05 + j * step_y, 119.95 + (i + 1) * step_x, 30.05 + (j + 1) * step_y),
        )
        for i in range(10)
        for j in range(10)
    ]
    locator = raster_locator(grids)
    corners = np.array([[119.95 + i * step_x, 30.05 + j * step_y] for i in range(11) for j in range(11)])
    assert_same_as_strtree(locator, corners[:, 0], corners[:, 1])
    rng = np.random.default_rng(9)
    assert_same_as_strtree(locator, rng.uniform(119.949, 119.962, 100_000), rng.uniform(30.049, 30.06, 100_000))


_FIXED = raster_locator(voronoi_grids(30, seed=21))
_FIXED_TREE = shapely.STRtree(_FIXED.geometries)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=-1, max_value=11), st.floats(min_value=-1, max_value=11)), min_size=1, max_size=50
    )
)
def test_it_agrees_with_strtree_on_any_points(points):
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    expected = strtree_lowest_index(_FIXED_TREE, lons, lats)
    assert np.array_equal(_FIXED.locate_index_many(lons, lats), expected)
