"""Point location over unit grids: which grid holds a point, for one point or a million.

Pure: shapely 2 and numpy, no Django. `GridLocator` is built from a list of
`(code, polygon)` pairs; the order of that list is the grid *index*.

The answer is defined as what `shapely.STRtree(polygons).query(points, predicate="intersects")`
says: a point belongs to every grid whose closed polygon it touches (interior or boundary).
When a point touches more than one grid — it lies on a shared edge or vertex, or grids
overlap — the locator answers with the **lowest grid index** among them. Points that touch
no grid (or are NaN) have no grid: index -1, code None.

How it is fast: a uniform raster laid over the grids' extent (cells a small fraction of a
typical grid's width, e.g. 1/32), classified once at build time with shapely's exact
predicates on slightly enlarged cell boxes, coarse-to-fine:

- a cell that no grid touches answers "no grid";
- a cell covered by exactly one grid, which no other grid touches, answers that grid;
- every other cell (a boundary cell) keeps the ascending list of grids that touch it, and
  its points are tested exactly (`shapely.intersects_xy` on prepared polygons) against those
  candidates in ascending order; the first hit is the lowest index.

A bulk query is then a few numpy array operations plus exact tests for the small share of
points that fall in boundary cells. Both classifications are exact (the enlargement covers
any rounding in assigning a point to its cell), so the answers equal the STRtree's.

The raster costs about half a second per thousand grids to build, so it is built on the
first query of at least `raster_from` points (or by `build_raster()`); smaller queries —
a phone's single point — go straight to the STRtree, which needs no build.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

NO_GRID = -1

# Raster cells across the median grid width; more cells → fewer points in boundary cells
# but a bigger table and a slower build.
DEFAULT_CELLS_PER_GRID = 32
# Upper bound on raster cells (4 bytes each); coarser cells beyond it.
DEFAULT_MAX_CELLS = 4_000_000
# Top-level block of the coarse-to-fine build, in fine cells (a power of two).
_BLOCK = 16
# Queries of fewer points than this use the STRtree until the raster exists.
DEFAULT_RASTER_FROM = 2048


@dataclass(frozen=True)
class _Raster:
    x0: float
    y0: float
    inv_dx: float
    inv_dy: float
    nx: int
    ny: int
    labels: np.ndarray  # (ny * nx,) int32: grid index ≥ 0, -1 no grid, ≤ -2 boundary cell
    cand_ptr: np.ndarray  # boundary cell b's candidates: cand_idx[cand_ptr[b]:cand_ptr[b + 1]]
    cand_idx: np.ndarray


class GridLocator:
    """Locate points in unit grids. Build once, query many times; immutable after build."""

    def __init__(
        self,
        items: Iterable[tuple[str, BaseGeometry]],
        *,
        cells_per_grid: int = DEFAULT_CELLS_PER_GRID,
        max_cells: int = DEFAULT_MAX_CELLS,
        raster_from: int = DEFAULT_RASTER_FROM,
    ) -> None:
        pairs = list(items)
        self.codes = np.array([code for code, _ in pairs], dtype=object)
        self.geometries = np.array([geom for _, geom in pairs], dtype=object)
        if len(pairs) and not all(isinstance(g, BaseGeometry) for g in self.geometries):
            raise TypeError("GridLocator takes (code, shapely geometry) pairs")
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)
        self.cells_per_grid = cells_per_grid
        self.max_cells = max_cells
        self.raster_from = raster_from
        self._raster: _Raster | None = None
        self._raster_lock = threading.Lock()

    @classmethod
    def from_geometries(cls, codes: Sequence[str], geometries: Sequence[BaseGeometry], **kwargs) -> GridLocator:
        return cls(zip(codes, geometries, strict=True), **kwargs)

    def __len__(self) -> int:
        return len(self.codes)

    # -- build ---------------------------------------------------------------------------

    def build_raster(self) -> _Raster:
        """Build the raster index now (once; later calls return it)."""
        if self._raster is None:
            with self._raster_lock:
                if self._raster is None:
                    self._raster = self._make_raster(self.cells_per_grid, self.max_cells)
        return self._raster

    @property
    def raster(self) -> _Raster | None:
        return self._raster

    def _make_raster(self, cells_per_grid: int, max_cells: int) -> _Raster:
        n = len(self.geometries)
        cand_ptr = np.zeros(1, dtype=np.int64)
        cand_idx = np.zeros(0, dtype=np.int64)
        if n == 0:
            labels = np.full(1, NO_GRID, dtype=np.int32)
            return _Raster(0.0, 0.0, 1.0, 1.0, 1, 1, labels, cand_ptr, cand_idx)

        bounds = shapely.bounds(self.geometries)
        xmin, ymin = float(np.nanmin(bounds[:, 0])), float(np.nanmin(bounds[:, 1]))
        xmax, ymax = float(np.nanmax(bounds[:, 2])), float(np.nanmax(bounds[:, 3]))
        width = max(xmax - xmin, 0.0)
        height = max(ymax - ymin, 0.0)
        typical_w = float(np.median(bounds[:, 2] - bounds[:, 0]))
        typical_h = float(np.median(bounds[:, 3] - bounds[:, 1]))
        tiny = 1e-9 * max(1.0, abs(xmin), abs(xmax), abs(ymin), abs(ymax))
        dx = max(typical_w / cells_per_grid, width / 65536, tiny)
        dy = max(typical_h / cells_per_grid, height / 65536, tiny)
        cells = (width / dx + 2 + _BLOCK) * (height / dy + 2 + _BLOCK)
        if cells > max_cells:
            grow = math.sqrt(cells / max_cells)
            dx *= grow
            dy *= grow
        # One cell of margin on every side, then round up to whole top-level blocks.
        x0 = xmin - dx
        y0 = ymin - dy
        nx = math.ceil((xmax - x0) / dx) + 2
        ny = math.ceil((ymax - y0) / dy) + 2
        nx = -(-nx // _BLOCK) * _BLOCK
        ny = -(-ny // _BLOCK) * _BLOCK

        # Enlarge every cell box by far more than any rounding in point → cell assignment
        # (a few ulps of the coordinates), so a point always lies inside its cell's box.
        scale = max(1.0, abs(x0), abs(y0), abs(x0 + nx * dx), abs(y0 + ny * dy))
        ex = max(dx * 1e-7, scale * 1e-12)
        ey = max(dy * 1e-7, scale * 1e-12)

        labels = np.full((ny, nx), NO_GRID, dtype=np.int32)
        by, bx = np.mgrid[0:ny:_BLOCK, 0:nx:_BLOCK]
        ix = bx.ravel().astype(np.int64)
        iy = by.ravel().astype(np.int64)
        size = _BLOCK
        boundary_cells: list[np.ndarray] = []
        boundary_pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        while len(ix):
            boxes = shapely.box(
                x0 + ix * dx - ex, y0 + iy * dy - ey, x0 + (ix + size) * dx + ex, y0 + (iy + size) * dy + ey
            )
            qbox, qgrid = self.tree.query(boxes, predicate="intersects")
            order = np.lexsort((qgrid, qbox))
            qbox, qgrid = qbox[order], qgrid[order]
            counts = np.bincount(qbox, minlength=len(boxes))
            first = np.searchsorted(qbox, np.arange(len(boxes)))
            single = np.flatnonzero(counts == 1)
            grid_of_single = qgrid[first[single]]
            covered = shapely.covers(self.geometries[grid_of_single], boxes[single])
            pure, pure_grid = single[covered], grid_of_single[covered].astype(np.int32)
            for oy in range(size):
                for ox in range(size):
                    labels[iy[pure] + oy, ix[pure] + ox] = pure_grid
            mixed = np.ones(len(boxes), dtype=bool)
            mixed[counts == 0] = False
            mixed[pure] = False
            mixed_idx = np.flatnonzero(mixed)
            if size == 1:
                keep = mixed[qbox]
                boundary_cells.append(iy[mixed_idx] * nx + ix[mixed_idx])
                boundary_pairs.append((qbox[keep], qgrid[keep], mixed_idx))
                break
            half = size // 2
            ix = np.concatenate([ix[mixed_idx] + ox for oy in (0, half) for ox in (0, half)])
            iy = np.concatenate([iy[mixed_idx] + oy for oy in (0, half) for ox in (0, half)])
            size = half

        if boundary_cells and len(boundary_cells[0]):
            flat_cells = boundary_cells[0]
            qbox, qgrid, mixed_idx = boundary_pairs[0]
            # Renumber the boundary boxes 0..m-1 in the order of mixed_idx; pairs are
            # already sorted by (box, grid), so each box's candidates ascend.
            rank = np.full(int(mixed_idx.max()) + 1, -1, dtype=np.int64)
            rank[mixed_idx] = np.arange(len(mixed_idx))
            box_rank = rank[qbox]
            per_box = np.bincount(box_rank, minlength=len(mixed_idx))
            cand_ptr = np.concatenate([[0], np.cumsum(per_box)]).astype(np.int64)
            cand_idx = qgrid.astype(np.int64)
            labels.ravel()[flat_cells] = (-2 - np.arange(len(flat_cells))).astype(np.int32)
        return _Raster(x0, y0, 1.0 / dx, 1.0 / dy, nx, ny, labels.ravel(), cand_ptr, cand_idx)

    # -- queries -------------------------------------------------------------------------

    @property
    def boundary_cell_count(self) -> int:
        return len(self.build_raster().cand_ptr) - 1

    @property
    def cell_count(self) -> int:
        raster = self.build_raster()
        return raster.nx * raster.ny

    def locate_index_many(self, lons, lats) -> np.ndarray:
        """Grid index per point (int64 array), -1 where no grid holds the point."""
        x = np.ascontiguousarray(lons, dtype=np.float64).ravel()
        y = np.ascontiguousarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats must have the same length")
        result = np.full(len(x), NO_GRID, dtype=np.int64)
        if len(self.codes) == 0 or len(x) == 0:
            return result
        raster = self._raster
        if raster is None:
            if len(x) < self.raster_from:
                return strtree_lowest_index(self.tree, x, y)
            raster = self.build_raster()
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - raster.x0) * raster.inv_dx)
            fy = np.floor((y - raster.y0) * raster.inv_dy)
            inside = (fx >= 0) & (fx < raster.nx) & (fy >= 0) & (fy < raster.ny)
        if inside.all():
            cell = fy.astype(np.int64) * raster.nx + fx.astype(np.int64)
            label = raster.labels[cell].astype(np.int64)
            where = None
        else:
            where = np.flatnonzero(inside)
            cell = fy[where].astype(np.int64) * raster.nx + fx[where].astype(np.int64)
            label = raster.labels[cell].astype(np.int64)
        # Pure and empty cells answer directly; boundary cells (label ≤ -2) are refined below.
        resolved = np.where(label >= 0, label, NO_GRID)
        edge = np.flatnonzero(label <= -2)
        if len(edge):
            boundary = -2 - label[edge]
            start = raster.cand_ptr[boundary]
            count = raster.cand_ptr[boundary + 1] - start
            src = edge if where is None else where[edge]
            px, py = x[src], y[src]
            found = np.full(len(edge), NO_GRID, dtype=np.int64)
            todo = np.arange(len(edge))
            k = 0
            while len(todo):
                todo = todo[count[todo] > k]
                if not len(todo):
                    break
                grid = raster.cand_idx[start[todo] + k]
                hit = shapely.intersects_xy(self.geometries[grid], px[todo], py[todo])
                found[todo[hit]] = grid[hit]
                todo = todo[~hit]
                k += 1
            resolved[edge] = found
        if where is None:
            result[:] = resolved
        else:
            result[where] = resolved
        return result

    def locate_many(self, lons, lats) -> np.ndarray:
        """Grid code per point (object array of str), None where no grid holds the point."""
        index = self.locate_index_many(lons, lats)
        codes = np.empty(len(index), dtype=object)
        hit = index >= 0
        codes[hit] = self.codes[index[hit]]
        return codes

    def locate(self, lon: float, lat: float) -> int | None:
        """Grid index of one point, or None."""
        found = int(self.locate_index_many(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))[0])
        return None if found < 0 else found

    def locate_code(self, lon: float, lat: float) -> str | None:
        found = self.locate(lon, lat)
        return None if found is None else str(self.codes[found])

    def code(self, index: int) -> str:
        return str(self.codes[index])


def strtree_lowest_index(tree: STRtree, lons, lats) -> np.ndarray:
    """The reference answer: lowest intersecting grid index per point via STRtree, -1 if none."""
    points = shapely.points(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
    point_idx, grid_idx = tree.query(points, predicate="intersects")
    result = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(result, point_idx, grid_idx)
    result[result == np.iinfo(np.int64).max] = NO_GRID
    return result
