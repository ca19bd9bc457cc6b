"""The demo city's ground: 富阳区 cut into its real streets, communities and unit grids.

Pure (no Django): reads the shared data files given to it and returns plain values, so the
result can be checked, and compared between two runs, without a database.

How the ground is cut:

- The district outline is DataV's (GCJ-02), converted to WGS84.
- Geometry is cut in a local plane in metres that is an affine image of longitude and
  latitude (x = Δlon·kx, y = Δlat·ky). Affine maps keep straight edges straight, so pieces
  that tile the plane still tile it exactly once mapped back to degrees.
- Streets: Voronoi cells of one seed per street, clipped to the district. The five urban
  streets' seeds sit on a ring around the urban centre, so near the centre their cells are
  wedges meeting there; the towns' seeds sit roughly where the towns are.
- The built-up core: in each urban street, the part of its wedge within a radius chosen so
  that its 社区 get about 0.2 km² each. The core holds the urban communities (社区), cut
  by Voronoi cells of relaxed random seeds; the street's villages share the rest of it.
- Unit grids: in the core, 100 m squares of one lattice clipped to each community, with
  slivers merged into a neighbour, numbered west→east, north→south inside the community;
  elsewhere one grid per community.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.ops import nearest_points

from chengguan.geo.coords import transform_coords
from chengguan.geo.geometry import geodesic_area_m2

DISTRICT_CODE = "330111"
DISTRICT_NAME = "富阳区"
CENTRE = (119.95, 30.05)  # WGS84, the urban centre of 富阳

CELL_M = 100.0  # unit-grid lattice step: 100 m squares, about 10,000 m²
CORE_COMMUNITY_M2 = 196_000.0  # target area of one core community (≈ 20 grids)
SLIVER_M2 = 5_000.0  # clipped squares smaller than this join a neighbour
CENTRE_RADIUS_M = 1_000.0  # grids of the core within this distance of the centre are class A
URBAN_RING_M = 3_000.0  # urban street seeds sit on this ring around the centre
TOWN_MIN_DISTANCE_M = 7_000.0
LLOYD_ROUNDS = 4

_GEOD = Geod(ellps="WGS84")


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str  # district | street | community
    parent: str | None
    geometry: Polygon | MultiPolygon  # WGS84
    area_m2: float
    urban: bool = False  # street: one of the urban streets; community: in the gridded core


@dataclass(frozen=True)
class GridCell:
    code: str
    community: str
    street: str
    district: str
    geometry: Polygon | MultiPolygon  # WGS84
    area_m2: float
    area_class: str  # A | B | C
    center_lon: float
    center_lat: float
    core: bool


@dataclass
class Geography:
    seed: int
    district: Area
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[GridCell] = field(default_factory=list)
    plane: LocalPlane | None = None


# ---------------------------------------------------------------------------------------------
# the local plane


@dataclass(frozen=True)
class LocalPlane:
    """Metres east and north of an origin, as an affine image of lon/lat."""

    lon0: float
    lat0: float
    kx: float  # metres per degree of longitude at lat0
    ky: float  # metres per degree of latitude at lat0

    @classmethod
    def at(cls, lon0: float, lat0: float) -> LocalPlane:
        _, _, east = _GEOD.inv(lon0 - 0.005, lat0, lon0 + 0.005, lat0)
        _, _, north = _GEOD.inv(lon0, lat0 - 0.005, lon0, lat0 + 0.005)
        return cls(lon0, lat0, east / 0.01, north / 0.01)

    def to_plane(self, lon, lat):
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def to_lonlat(self, x, y):
        return np.asarray(x) / self.kx + self.lon0, np.asarray(y) / self.ky + self.lat0

    def geom_to_plane(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_plane(xy[:, 0], xy[:, 1])))

    def geom_to_lonlat(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_lonlat(xy[:, 0], xy[:, 1])))

    def lattice_cell(self, lon: float, lat: float) -> tuple[int, int]:
        """(row, column) of the 100 m lattice square holding a point; rows grow northward."""
        x, y = self.to_plane(lon, lat)
        return math.floor(float(y) / CELL_M), math.floor(float(x) / CELL_M)


# ---------------------------------------------------------------------------------------------
# input


def read_district(path: Path) -> Polygon | MultiPolygon:
    """The district outline in WGS84 (DataV publishes GCJ-02)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    feature = data["features"][0] if data.get("type") == "FeatureCollection" else data
    geom = shapely.geometry.shape(feature["geometry"])
    geom = shapely.transform(geom, lambda xy: transform_coords(xy, "gcj02", "wgs84"))
    geom = shapely.make_valid(geom)
    return _single(geom)


def read_divisions(path: Path, district: str = DISTRICT_CODE) -> dict[str, tuple[str, dict[str, str]]]:
    """{street code: (street name, {community code: community name})}, in code order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    streets = data[district]
    return {
        code: (name, {c: community_name(n) for c, n in sorted(data.get(code, {}).items())})
        for code, name in sorted(streets.items())
    }


def community_name(name: str) -> str:
    """The name people use: 建设村委会 → 建设村, 城西社区居委会 → 城西社区."""
    for suffix, short in (("村民委员会", "村"), ("村委会", "村"), ("社区居委会", "社区"), ("居委会", "社区")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + short
    return name


def read_street_seeds(path: Path) -> dict[str, dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


# ---------------------------------------------------------------------------------------------
# geometry helpers


def _single(geom) -> Polygon | MultiPolygon:
    """Keep the polygonal parts; one Polygon when there is one part."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        parts = [
            q
            for p in shapely.get_parts(geom)
            for q in shapely.get_parts(p)
            if isinstance(q, Polygon) and not q.is_empty
        ]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def _random_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, 4 * n), 2))
        inside = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def voronoi_cells(poly, seeds: np.ndarray) -> list:
    """The Voronoi cells of `seeds` clipped to `poly`, in the order of the seeds."""
    if len(seeds) == 1:
        return [_single(poly)]
    points = shapely.multipoints(seeds)
    minx, miny, maxx, maxy = poly.bounds
    pad = max(maxx - minx, maxy - miny)
    frame = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame, ordered=True))
    clipped = shapely.intersection(cells, poly)
    return [_single(c) for c in clipped]


def absorb_fragments(cells: list) -> list:
    """Give each detached minor part of a cell to the neighbour it shares the longest edge with.

    Clipping a Voronoi cell to a wiggly outline can leave a cell in pieces; the tiling is
    unchanged, only fragments change hands, so every area stays in one piece where it can.
    """
    cells = list(cells)
    for i in range(len(cells)):
        parts = sorted(shapely.get_parts(cells[i]), key=lambda p: -p.area)
        if len(parts) < 2:
            continue
        keep = [parts[0]]
        for frag in parts[1:]:
            best, best_len = None, 1e-6
            for j, other in enumerate(cells):
                if j == i or not other.intersects(frag):
                    continue
                shared = shapely.intersection(frag.boundary, other.boundary).length
                if shared > best_len:
                    best, best_len = j, shared
            if best is None:
                keep.append(frag)
            else:
                cells[best] = _single(shapely.union(cells[best], frag))
        cells[i] = _single(shapely.union_all(keep)) if len(keep) > 1 else keep[0]
    return cells


def partition(poly, n: int, rng: np.random.Generator, *, rounds: int = LLOYD_ROUNDS) -> tuple[list, np.ndarray]:
    """Cut `poly` into `n` pieces of similar size: Voronoi cells of relaxed random seeds.

    The pieces are returned north→south, west→east by their seeds, with the seeds.
    """
    seeds = _random_points(poly, n, rng)
    for _ in range(rounds):
        if n == 1:
            break
        cells = voronoi_cells(poly, seeds)
        moved = []
        for cell, seed in zip(cells, seeds, strict=True):
            centre = cell.centroid
            if not poly.contains(centre):
                centre = cell.point_on_surface() if not cell.is_empty else Point(seed)
            moved.append((centre.x, centre.y))
        seeds = np.array(moved)
    order = sorted(range(n), key=lambda i: (-round(seeds[i, 1], 3), round(seeds[i, 0], 3)))
    seeds = seeds[order]
    return absorb_fragments(voronoi_cells(poly, seeds)), seeds


def split_by_disc(poly, centre: tuple[float, float], target_m2: float):
    """(inside, outside): the part of `poly` within the radius of `centre` that holds
    `target_m2`, found by bisection, and the rest. Both are cut by the same disc, so they
    share the arc exactly."""
    lo, hi = 0.0, 20_000.0
    c = Point(centre)
    for _ in range(40):
        mid = (lo + hi) / 2
        if shapely.intersection(poly, c.buffer(mid, quad_segs=32)).area < target_m2:
            lo = mid
        else:
            hi = mid
    disc = c.buffer(hi, quad_segs=32)
    return _single(shapely.intersection(poly, disc)), _single(shapely.difference(poly, disc))


# ---------------------------------------------------------------------------------------------
# unit grids


@dataclass
class _Piece:
    geom: Polygon
    row: int
    col: int
    centre: tuple[float, float]


def lattice_pieces(poly) -> list[_Piece]:
    """The 100 m lattice squares clipped to `poly`, slivers merged into their neighbours."""
    minx, miny, maxx, maxy = poly.bounds
    cols = np.arange(math.floor(minx / CELL_M), math.ceil(maxx / CELL_M))
    rows = np.arange(math.floor(miny / CELL_M), math.ceil(maxy / CELL_M))
    cc, rr = np.meshgrid(cols, rows)
    cc, rr = cc.ravel(), rr.ravel()
    boxes = shapely.box(cc * CELL_M, rr * CELL_M, (cc + 1) * CELL_M, (rr + 1) * CELL_M)
    shapely.prepare(poly)
    hit = shapely.intersects(poly, boxes)
    boxes, cc, rr = boxes[hit], cc[hit], rr[hit]
    clipped = shapely.intersection(boxes, poly)
    pieces: list[_Piece] = []
    for geom, r, c in zip(clipped, rr, cc, strict=True):
        for part in shapely.get_parts(geom):
            if isinstance(part, Polygon) and part.area > 0:
                p = part.point_on_surface()
                pieces.append(_Piece(part, int(r), int(c), (p.x, p.y)))
    return _merge_slivers(pieces)


def _merge_slivers(pieces: list[_Piece]) -> list[_Piece]:
    """Join each piece smaller than SLIVER_M2 to the neighbour it shares the longest edge with."""
    alive = list(pieces)
    islands: set[int] = set()  # slivers that touch no other piece of the community
    while len(alive) > 1:
        small = [p for p in alive if p.geom.area < SLIVER_M2 and id(p) not in islands]
        if not small:
            break
        sliver = min(small, key=lambda p: (p.geom.area, -p.row, p.col))
        others = [p for p in alive if p is not sliver]
        tree = shapely.STRtree([p.geom for p in others])
        best, best_len = None, 1e-6
        for i in sorted(tree.query(sliver.geom, predicate="intersects")):
            shared = shapely.intersection(sliver.geom.boundary, others[i].geom.boundary).length
            if shared > best_len:
                best, best_len = others[i], shared
        if best is None:
            islands.add(id(sliver))
            continue
        best.geom = _single(shapely.union(best.geom, sliver.geom))
        alive = others
    return alive


# ---------------------------------------------------------------------------------------------
# the whole district


def build_geography(data_dir: Path | str, *, seed: int = 1, streets_file: Path | None = None) -> Geography:
    """Cut 富阳区 into its streets, communities and unit grids, the same way for the same seed."""
    data_dir = Path(data_dir)
    rng = np.random.default_rng(seed)
    district_ll = read_district(data_dir / "china-hangzhou-boundaries-datav" / f"county_{DISTRICT_CODE}.json")
    divisions = read_divisions(data_dir / "china-admin-codes-nbs2021-hangzhou" / "345-3301.json")
    seeds_info = read_street_seeds(streets_file or Path(__file__).parent / "seed" / "streets.csv")

    plane = LocalPlane.at(*CENTRE)
    district = plane.geom_to_plane(district_ll)
    shapely.prepare(district)

    # Streets: one seed each.
    codes = list(divisions)
    street_seeds = []
    urban_codes = set()
    for code in codes:
        info = seeds_info[code]
        if info.get("urban_angle"):
            urban_codes.add(code)
            angle = math.radians(float(info["urban_angle"]))
            # Radii differ by a few metres: seeds exactly on one circle would meet in a
            # degenerate Voronoi vertex.
            radius = URBAN_RING_M + 10.0 * len(urban_codes)
            xy = (radius * math.cos(angle), radius * math.sin(angle))
        else:
            x, y = plane.to_plane(float(info["lon"]), float(info["lat"]))
            xy = (float(x), float(y))
            dist = math.hypot(*xy)
            if dist < TOWN_MIN_DISTANCE_M:
                xy = (xy[0] * TOWN_MIN_DISTANCE_M / dist, xy[1] * TOWN_MIN_DISTANCE_M / dist)
        point = Point(xy)
        if not district.contains(point):
            # Pull a seed that falls outside the outline just inside it.
            inner = district.buffer(-500)
            point = nearest_points(inner, point)[0]
        street_seeds.append((point.x, point.y))
    street_cells = absorb_fragments(voronoi_cells(district, np.array(street_seeds)))

    geo = Geography(
        seed=seed, district=_area(plane, DISTRICT_CODE, DISTRICT_NAME, "district", None, district), plane=plane
    )
    local_of = {}  # community code → its shape in the local plane
    for code, cell in zip(codes, street_cells, strict=True):
        name, communities = divisions[code]
        urban = code in urban_codes
        geo.streets.append(_area(plane, code, name, "street", DISTRICT_CODE, cell, urban=urban))
        community_codes = list(communities)
        if urban:
            core_codes = [c for c in community_codes if communities[c].endswith("社区")]
            village_codes = [c for c in community_codes if c not in core_codes]
            core, rest = split_by_disc(cell, (0.0, 0.0), CORE_COMMUNITY_M2 * len(core_codes))
            core_cells, _ = partition(core, len(core_codes), rng)
            rest_cells, _ = partition(rest, len(village_codes), rng) if village_codes else ([], None)
            pairs = [(c, g, True) for c, g in zip(core_codes, core_cells, strict=True)]
            pairs += [(c, g, False) for c, g in zip(village_codes, rest_cells, strict=True)]
        else:
            cells, _ = partition(cell, len(community_codes), rng)
            pairs = [(c, g, False) for c, g in zip(community_codes, cells, strict=True)]
        for community_code, geom, in_core in sorted(pairs, key=lambda t: t[0]):
            local_of[community_code] = geom
            geo.communities.append(
                _area(plane, community_code, communities[community_code], "community", code, geom, urban=in_core)
            )

    street_of = {c.code: c.parent for c in geo.communities}
    for community in geo.communities:
        street = street_of[community.code]
        local = local_of[community.code]
        if community.urban:
            pieces = lattice_pieces(local)
            pieces.sort(key=lambda p: (-p.row, p.col, -p.centre[1], p.centre[0]))
            for seq, piece in enumerate(pieces, start=1):
                near = math.hypot(*piece.centre) <= CENTRE_RADIUS_M
                geo.grids.append(
                    _grid(plane, community.code, street, seq, piece.geom, piece.centre, "A" if near else "B", True)
                )
        else:
            p = local.point_on_surface()
            area_class = "B" if street in urban_codes else "C"
            geo.grids.append(_grid(plane, community.code, street, 1, local, (p.x, p.y), area_class, False))
    return geo


def _area(plane: LocalPlane, code, name, level, parent, local, *, urban: bool = False) -> Area:
    geom = plane.geom_to_lonlat(local)
    return Area(code, name, level, parent, geom, geodesic_area_m2(geom), urban)


def _grid(plane, community, street, seq, local, centre, area_class, core) -> GridCell:
    geom = plane.geom_to_lonlat(local)
    lon, lat = plane.to_lonlat(*centre)
    return GridCell(
        code=f"{community}{seq:03d}",
        community=community,
        street=street,
        district=DISTRICT_CODE,
        geometry=geom,
        area_m2=geodesic_area_m2(geom),
        area_class=area_class,
        center_lon=float(lon),
        center_lat=float(lat),
        core=core,
    )
