"""Bulk point location: GridLocator.locate_many against a plain STRtree query.

Builds ~1,000 irregular unit grids of about 100 m × 100 m (Voronoi cells of a jittered
lattice) near lon 119.95, lat 30.05, and 1,000,000 random points over their extent plus 5%
outside it. Times

- baseline: `STRtree.query(shapely.points(...), predicate="intersects")`, then the lowest
  grid index per point mapped to grid codes;
- ours: `GridLocator.locate_many(lons, lats)` (grid codes directly);

checks that both give identical codes for every point and prints a table. No database.

    .venv/bin/python bench/bulk_locate.py [--grids 1000] [--points 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from chengguan.geo.locator import GridLocator

GOAL = 5.0
CENTER_LON, CENTER_LAT = 119.95, 30.05
GRID_M = 100.0


def make_grids(count: int, rng: np.random.Generator) -> list[tuple[str, shapely.Polygon]]:
    """Voronoi cells of a jittered square lattice: irregular, about GRID_M × GRID_M each."""
    side = math.ceil(math.sqrt(count))
    deg_x = GRID_M / (111_320.0 * math.cos(math.radians(CENTER_LAT)))
    deg_y = GRID_M / 110_574.0
    jx, jy = np.meshgrid(np.arange(side), np.arange(side))
    sx = CENTER_LON + (jx.ravel() + 0.5 + rng.uniform(-0.35, 0.35, jx.size)) * deg_x
    sy = CENTER_LAT + (jy.ravel() + 0.5 + rng.uniform(-0.35, 0.35, jy.size)) * deg_y
    envelope = shapely.box(CENTER_LON, CENTER_LAT, CENTER_LON + side * deg_x, CENTER_LAT + side * deg_y)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([sx, sy])), extend_to=envelope)
    )
    cells = shapely.intersection(cells, envelope)
    # Sort west→east, north→south like grid sequences, and name them as 15-digit grid codes.
    centers = shapely.centroid(cells)
    order = np.lexsort((shapely.get_x(centers), -np.round(shapely.get_y(centers) / deg_y)))
    cells = cells[order][:count]
    # Ten communities of a hundred grids each: 330111001001001, ..., 330111001010100.
    return [(f"330111001{i // 100 + 1:03d}{i % 100 + 1:03d}", poly) for i, poly in enumerate(cells)]


def make_points(grids, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xmin, ymin, xmax, ymax = shapely.total_bounds([g for _, g in grids])
    inside = count - count // 20
    lons = rng.uniform(xmin, xmax, inside)
    lats = rng.uniform(ymin, ymax, inside)
    # 5% outside: a ring around the extent.
    outside = count // 20
    wx, wy = xmax - xmin, ymax - ymin
    ox = rng.uniform(xmin - wx, xmax + wx, outside)
    oy = np.where(
        rng.random(outside) < 0.5, rng.uniform(ymin - wy, ymin, outside), rng.uniform(ymax, ymax + wy, outside)
    )
    lons = np.concatenate([lons, ox])
    lats = np.concatenate([lats, oy])
    shuffle = rng.permutation(count)
    return lons[shuffle], lats[shuffle]


def baseline(tree: STRtree, codes: np.ndarray, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, float, float]:
    start = time.perf_counter()
    points = shapely.points(lons, lats)
    point_idx, grid_idx = tree.query(points, predicate="intersects")
    queried = time.perf_counter()
    lowest = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lowest, point_idx, grid_idx)
    found = lowest != np.iinfo(np.int64).max
    result = np.empty(len(points), dtype=object)
    result[found] = codes[lowest[found]]
    done = time.perf_counter()
    return result, queried - start, done - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for each method")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    grids = make_grids(args.grids, rng)
    lons, lats = make_points(grids, args.points, rng)
    codes = np.array([code for code, _ in grids], dtype=object)
    geoms = np.array([geom for _, geom in grids], dtype=object)
    areas = shapely.area(geoms) * (111_320.0 * math.cos(math.radians(CENTER_LAT))) * 110_574.0

    start = time.perf_counter()
    tree = STRtree(geoms)
    tree_build = time.perf_counter() - start
    start = time.perf_counter()
    locator = GridLocator(grids)
    locator.build_raster()
    ours_build = time.perf_counter() - start

    base_query = base_total = ours_total = math.inf
    for _ in range(args.repeat):
        expected, q, t = baseline(tree, codes, lons, lats)
        base_query, base_total = min(base_query, q), min(base_total, t)
        start = time.perf_counter()
        got = locator.locate_many(lons, lats)
        ours_total = min(ours_total, time.perf_counter() - start)

    identical = bool(np.array_equal(expected, got))
    mismatches = int(np.sum(expected != got))
    ratio = base_total / ours_total
    inside = int(np.sum(got != None))  # noqa: E711 — elementwise comparison on an object array

    print(
        f"grids: {len(grids)} (area median {np.median(areas):,.0f} m², min {areas.min():,.0f}, max {areas.max():,.0f})"
    )
    print(f"points: {len(lons):,} ({inside:,} in a grid, {len(lons) - inside:,} outside)")
    print(
        f"raster: {locator.raster.nx} × {locator.raster.ny} cells, {locator.boundary_cell_count:,} boundary cells; "
        f"build: STRtree {tree_build * 1000:.1f} ms, GridLocator {ours_build * 1000:.0f} ms"
    )
    print(f"identical results: {identical} ({mismatches} mismatches)")
    print()
    print(f"| {'method':<52} | {'seconds':>8} |")
    print(f"|{'-' * 54}|{'-' * 10}|")
    print(f"| {'baseline: STRtree.query(points, intersects)':<52} | {base_query:8.3f} |")
    print(f"| {'baseline: + lowest index → codes (total)':<52} | {base_total:8.3f} |")
    print(f"| {'ours: GridLocator.locate_many → codes':<52} | {ours_total:8.3f} |")
    print()
    verdict = "PASS" if identical and ratio >= GOAL else "FAIL"
    print("| baseline s | ours s | ratio | goal | result |")
    print("|-----------:|-------:|------:|-----:|:------:|")
    print(f"| {base_total:10.3f} | {ours_total:6.3f} | {ratio:4.1f}× | ≥{GOAL:.0f}× | {verdict} |")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
