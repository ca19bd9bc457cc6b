"""Reading a 311 export into one normalised table, column by column (polars), with no database.

`read_export(path, layout)` returns every row of the file, each with the values the import
needs (UTC instants, WGS84 coordinates, what its status says) and either the reason it
cannot be imported (`skip`) or the adjustments made to it (the `note_*` flags). Nothing is
decided row by row in Python: dates, zones, coordinates and checks are whole-column
operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from chengguan.imports.layouts import (
    AUTO,
    CANCELLED,
    CLOSED,
    DUPLICATE,
    ENDED,
    LAYOUTS,
    Layout,
    detect_layout,
    missing_columns,
    status_kind,
)

# Date formats seen in the exports, tried in this order. Two-digit years come first: "%Y"
# would read the "18" of "10/21/18 0:00" as the year 18. "%y" reads 00–68 as 2000–2068.
TWO_DIGIT_FORMATS = ("%m/%d/%y %I:%M:%S %p", "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S")
FOUR_DIGIT_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
)
EARLIEST_YEAR = 1990  # an earlier date is a placeholder (NYC writes 01/01/1900 for "unknown")
MAX_ID_LENGTH = 20

# Why a row is not imported: code → (中文, English).
SKIP_REASONS: dict[str, tuple[str, str]] = {
    "no_id": ("缺少编号", "no request id"),
    "bad_id": (f"编号超过 {MAX_ID_LENGTH} 个字符", f"request id longer than {MAX_ID_LENGTH} characters"),
    "duplicate_id": ("编号在文件中重复（保留第一行）", "request id repeated in the file (the first row is kept)"),
    "bad_created": ("创建时间缺失或无法读取", "created date missing or unreadable"),
    "no_type": ("缺少诉求类型", "no request type"),
    "no_agency": ("缺少责任部门", "no agency"),
    "unknown_status": ("状态无法识别", "status not understood"),
    "closed_no_date": ("已关闭但没有关闭时间", "closed without a closed date"),
    "bad_closed": ("关闭时间无法读取", "closed date unreadable"),
    "closed_before_created": ("关闭时间早于创建时间", "closed before it was created"),
    "no_location": ("缺少坐标", "no coordinates"),
    "placeholder_location": ("占位坐标（位置不明）", "placeholder coordinates (location unknown)"),
    "far_from_city": ("坐标离城市中心超过允许距离", "coordinates too far from the city"),
    "outside_grids": ("坐标不在任何网格内", "coordinates outside every grid"),
}

# What was adjusted on an imported row: code → (中文, English).
NOTES: dict[str, tuple[str, str]] = {
    "due_missing": ("导出无截止时间，按小类处置时限计算", "no due date in the export: computed from the class limit"),
    "due_unreadable": ("截止时间无法读取，按小类处置时限计算", "due date unreadable: computed from the class limit"),
    "due_before_created": (
        "截止时间早于创建时间，按小类处置时限计算",
        "due date before the created date: computed from the class limit",
    ),
    "due_date_only": (
        "截止时间只有日期（00:00:00），取当日结束", "due date without a time (00:00:00): the end of that day"
    ),
    "closed_ignored": ("状态未关闭，忽略其关闭时间", "open status: its closed date is ignored"),
    "ended_at_status_date": ("作废无关闭时间，取状态时间", "ended without a closed date: the status date is used"),
    "ended_at_created": ("作废无关闭时间，取创建时间", "ended without a closed date: the created date is used"),
    "state_plane": ("坐标由 State Plane 换算（pyproj）", "coordinates converted from State Plane (pyproj)"),
    "two_digit_year": ("两位年份（00–68 → 20xx）", "two-digit years (00–68 → 20xx)"),
    "dst_gap": ("夏令时跳过的时刻，顺延一小时", "time skipped by daylight saving: moved an hour later"),
    "dst_ambiguous": ("夏令时重复的时刻，取较早者", "time repeated by daylight saving: the earlier one is used"),
}
NOTE_COLUMNS = [f"note_{code}" for code in NOTES]


class ExportError(ValueError):
    """The file cannot be read as a 311 export at all; nothing is imported."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} · {en}")
        self.zh, self.en = zh, en


@dataclass
class Export:
    path: Path
    layout: Layout
    rows: pl.DataFrame  # one row per data row of the file, see `read_export`
    bom: bool

    @property
    def total(self) -> int:
        return self.rows.height


def choose_layout(columns: list[str], wanted: str) -> Layout:
    if wanted == AUTO:
        layout = detect_layout(columns)
        if layout is None:
            raise ExportError(
                "无法识别文件格式，请用 --layout 指定（nyc、la、baltimore）",
                "Unknown layout; name it with --layout (nyc, la, baltimore)",
            )
        return layout
    if wanted not in LAYOUTS:
        raise ExportError(f"未知的格式：{wanted}", f"Unknown layout '{wanted}'")
    layout = LAYOUTS[wanted]
    missing = missing_columns(layout, columns)
    if missing:
        raise ExportError(
            f"文件缺少 {wanted} 格式的列：{', '.join(missing)}",
            f"The file lacks columns of the {wanted} layout: {', '.join(missing)}",
        )
    return layout


def _read_csv(path: Path) -> tuple[pl.DataFrame, bool]:
    try:
        with path.open("rb") as fh:
            bom = fh.read(3) == b"\xef\xbb\xbf"
        try:
            frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower():
                raise
            # Not valid UTF-8: read it again, replacing what cannot be decoded (slower).
            frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise ExportError(f"文件不存在：{path}", f"No such file: {path}") from None
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise ExportError(f"无法读取 CSV：{exc}", f"Cannot read the CSV: {exc}") from None
    # A byte-order mark, whether or not the reader kept it, never belongs to the first name.
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    return frame, bom


def _text(frame: pl.DataFrame, column: str | None) -> pl.Expr:
    if not column or column not in frame.columns:
        return pl.lit("", dtype=pl.String)
    return pl.col(column).fill_null("").str.strip_chars()


def parse_naive(text: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """(naive datetime or null, parsed with a two-digit year) of stripped texts.

    The formats are tried in order, each on the values no earlier format could read (the
    first format that reads a value wins, as a coalesce of them all would say): a column
    written in one format is parsed once, not once per format."""
    n = len(text)
    micros = np.zeros(n, dtype=np.int64)
    parsed = np.zeros(n, dtype=bool)
    two = np.zeros(n, dtype=bool)
    todo = np.flatnonzero((text != "").fill_null(False).to_numpy())
    # A two-digit-year format reads only "m/d/yy" followed by no digit; the other rows skip them.
    two_shape = text.str.contains(r"^\d{1,2}/\d{1,2}/\d{2}(?:\D|$)").fill_null(False).to_numpy()
    rest = todo[~two_shape[todo]]
    todo = todo[two_shape[todo]]
    for fmt in (*TWO_DIGIT_FORMATS, *FOUR_DIGIT_FORMATS):
        if fmt == FOUR_DIGIT_FORMATS[0]:
            todo = np.sort(np.concatenate([todo, rest]))
        if not len(todo):
            continue
        values = text.gather(todo).str.strptime(pl.Datetime("us"), fmt, strict=False)
        hit = values.is_not_null().to_numpy()
        if hit.any():
            rows = todo[hit]
            micros[rows] = values.filter(pl.Series(hit)).dt.epoch("us").to_numpy()
            parsed[rows] = True
            two[rows] = fmt in TWO_DIGIT_FORMATS
            todo = todo[~hit]
    value = pl.Series(micros).cast(pl.Datetime("us"))
    value = pl.select(pl.when(pl.Series(parsed) & (value.dt.year() >= EARLIEST_YEAR)).then(value)).to_series()
    return value, two


def localise(naive: pl.Series, zone: str) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """(UTC instants, fell in a DST gap, was ambiguous) of local wall-clock times in `zone`.

    Whole columns (polars' time zone database): a time skipped by the spring change moves an
    hour later; a time repeated in autumn takes the earlier instant.
    """
    early = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    late = naive.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null")
    gap = (naive.is_not_null() & early.is_null()).to_numpy()
    ambiguous = (early != late).fill_null(False).to_numpy()
    utc = early
    if gap.any():
        moved = (naive + timedelta(hours=1)).dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        utc = pl.select(pl.when(pl.Series(gap)).then(moved).otherwise(early)).to_series()
    return utc.dt.convert_time_zone("UTC").alias(naive.name), gap, ambiguous


def _number(frame: pl.DataFrame, column: str | None) -> pl.Expr:
    if not column or column not in frame.columns:
        return pl.lit(None, dtype=pl.Float64)
    return pl.col(column).fill_null("").str.replace_all(",", "").str.strip_chars().cast(pl.Float64, strict=False)


def state_plane_to_wgs84(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """State Plane feet (`crs`, e.g. EPSG:2263) → WGS84 longitude and latitude, whole arrays."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon), np.asarray(lat)


def _distance_km(lon: pl.Expr, lat: pl.Expr, centre: tuple[float, float]) -> pl.Expr:
    clon, clat = np.radians(centre[0]), np.radians(centre[1])
    phi, lam = lat.radians(), lon.radians()
    a = ((phi - clat) / 2).sin() ** 2 + np.cos(clat) * phi.cos() * ((lam - clon) / 2).sin() ** 2
    return 2 * 6371.0 * a.sqrt().arcsin()


def read_export(path: Path | str, layout: str = AUTO) -> Export:
    """Read the file and normalise every row; see the module docstring.

    Columns of `Export.rows`: row (1-based data row), source_id, status, kind, agency,
    agency_name, type, descriptor, channel, address, area, status_text, created, closed, due,
    ended (UTC; `due` is the export's usable deadline or null), lon, lat (WGS84), raw (the row
    as JSON text), skip (a SKIP_REASONS code or null), skip_detail, and note_* flags.
    """
    path = Path(path)
    frame, bom = _read_csv(path)
    chosen = choose_layout(frame.columns, layout)
    lay = chosen
    zone = lay.timezone

    raw = frame.select(pl.struct(pl.all()).struct.json_encode().alias("raw")).to_series()
    base = frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row"),
        _text(frame, lay.id).alias("source_id"),
        _text(frame, lay.status).alias("status"),
        _text(frame, lay.agency).alias("agency"),
        _text(frame, lay.agency_name).alias("agency_name"),
        _text(frame, lay.type).alias("type"),
        _text(frame, lay.descriptor).alias("descriptor"),
        _text(frame, lay.channel).alias("channel"),
        _text(frame, lay.address).alias("address"),
        _text(frame, lay.area).alias("area"),
        _text(frame, lay.created).alias("created_text"),
        _text(frame, lay.closed).alias("closed_text"),
        _text(frame, lay.due).alias("due_text"),
        _text(frame, lay.status_date).alias("status_date_text"),
        _number(frame, lay.lon).alias("lon_in"),
        _number(frame, lay.lat).alias("lat_in"),
        _number(frame, lay.x).alias("x"),
        _number(frame, lay.y).alias("y"),
    ).with_columns(raw)

    kinds = {s: status_kind(s) for s in base["status"].unique().to_list()}
    base = base.with_columns(pl.col("status").replace_strict(kinds, default=None, return_dtype=pl.String).alias("kind"))

    # -- instants -------------------------------------------------------------------------
    naive = {}
    two = np.zeros(base.height, dtype=bool)
    for name, column in (("created", "created_text"), ("closed_any", "closed_text"), ("due_any", "due_text"),
                         ("status_at", "status_date_text")):
        naive[name], parsed_two = parse_naive(base[column])
        if name != "status_at":
            two |= parsed_two
    date_only = np.zeros(base.height, dtype=bool)
    if lay.due_date_only_at_midnight:
        due = naive["due_any"]
        date_only = (due.is_not_null() & (due.dt.time() == time(0, 0, 0))).to_numpy()
        naive["due_any"] = pl.select(
            pl.when(pl.Series(date_only)).then(due + timedelta(days=1, seconds=-1)).otherwise(due)
        ).to_series()
    gaps = np.zeros(base.height, dtype=bool)
    ambiguous = np.zeros(base.height, dtype=bool)
    instants = []
    for name, values in naive.items():
        utc, gap, amb = localise(values, zone)
        instants.append(utc.alias(name))
        if name != "status_at":
            gaps |= gap
            ambiguous |= amb
    rows = base.with_columns(
        *instants,
        pl.Series("note_two_digit_year", two),
        pl.Series("note_due_date_only", date_only),
        pl.Series("note_dst_gap", gaps),
        pl.Series("note_dst_ambiguous", ambiguous),
    )

    # -- coordinates ----------------------------------------------------------------------
    lon = rows["lon_in"].to_numpy().astype(np.float64, copy=True)
    lat = rows["lat_in"].to_numpy().astype(np.float64, copy=True)
    from_plane = np.zeros(rows.height, dtype=bool)
    if lay.state_plane:
        x = rows["x"].to_numpy().astype(np.float64)
        y = rows["y"].to_numpy().astype(np.float64)
        usable = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
        if usable.any():
            plon, plat = state_plane_to_wgs84(x[usable], y[usable], lay.state_plane)
            lon[usable], lat[usable] = plon, plat
            from_plane = usable
    placeholder = np.zeros(rows.height, dtype=bool)
    for plon_, plat_ in lay.placeholders:
        placeholder |= (np.abs(lon - plon_) < 1e-9) & (np.abs(lat - plat_) < 1e-9)
    rows = rows.with_columns(
        pl.Series("lon", lon, dtype=pl.Float64).fill_nan(None),
        pl.Series("lat", lat, dtype=pl.Float64).fill_nan(None),
        pl.Series("note_state_plane", from_plane & ~placeholder),
        pl.Series("placeholder", placeholder),
    )

    # -- what each row becomes ------------------------------------------------------------
    ended = pl.col("kind").is_in(list(ENDED))
    closed_present = pl.col("closed_text") != ""
    due_present = pl.col("due_text") != ""
    far = _distance_km(pl.col("lon"), pl.col("lat"), lay.centre) > lay.radius_km
    in_range = (pl.col("lon").abs() <= 180) & (pl.col("lat").abs() <= 90)
    skip = (
        pl.when(pl.col("source_id") == "").then(pl.lit("no_id"))
        .when(pl.col("source_id").str.len_chars() > MAX_ID_LENGTH).then(pl.lit("bad_id"))
        .when(~pl.col("source_id").is_first_distinct()).then(pl.lit("duplicate_id"))
        .when(pl.col("created").is_null()).then(pl.lit("bad_created"))
        .when(pl.col("type") == "").then(pl.lit("no_type"))
        .when(pl.col("agency") == "").then(pl.lit("no_agency"))
        .when(pl.col("kind").is_null()).then(pl.lit("unknown_status"))
        .when((pl.col("kind") == CLOSED) & ~closed_present).then(pl.lit("closed_no_date"))
        .when(ended & closed_present & pl.col("closed_any").is_null()).then(pl.lit("bad_closed"))
        .when(ended & (pl.col("closed_any") < pl.col("created")).fill_null(False))
        .then(pl.lit("closed_before_created"))
        .when(pl.col("lon").is_null() | pl.col("lat").is_null()).then(pl.lit("no_location"))
        .when(pl.col("placeholder")).then(pl.lit("placeholder_location"))
        .when(~in_range | far).then(pl.lit("far_from_city"))
        .otherwise(None)
    )  # fmt: skip
    detail = (
        pl.when(pl.col("skip") == "unknown_status").then(pl.col("status"))
        .when(pl.col("skip").is_in(["bad_created"])).then(pl.col("created_text"))
        .when(pl.col("skip").is_in(["bad_closed", "closed_before_created", "closed_no_date"]))
        .then(pl.concat_str([pl.col("status"), pl.col("closed_text")], separator=" "))
        .when(pl.col("skip").is_in(["placeholder_location", "far_from_city"]))
        .then(pl.format("{}, {}", pl.col("lat").round(6), pl.col("lon").round(6)))
        .otherwise(pl.lit(""))
    )  # fmt: skip
    due_ok = pl.col("due_any").is_not_null() & (pl.col("due_any") >= pl.col("created"))
    status_ok = pl.col("status_at").is_not_null() & (pl.col("status_at") >= pl.col("created"))
    end_without_closed = ended & (pl.col("kind") != CLOSED) & ~closed_present
    rows = rows.with_columns(skip.alias("skip")).with_columns(
        detail.alias("skip_detail"),
        pl.when(ended & closed_present).then(pl.col("closed_any")).alias("closed"),
        pl.when(due_ok).then(pl.col("due_any")).alias("due"),
        pl.when(ended & closed_present).then(pl.col("closed_any"))
        .when(end_without_closed & status_ok).then(pl.col("status_at"))
        .when(ended).then(pl.col("created")).alias("ended"),
        (~due_present).alias("note_due_missing"),
        (due_present & pl.col("due_any").is_null()).alias("note_due_unreadable"),
        (pl.col("due_any") < pl.col("created")).fill_null(False).alias("note_due_before_created"),
        (~ended & closed_present).fill_null(False).alias("note_closed_ignored"),
        (end_without_closed & status_ok).fill_null(False).alias("note_ended_at_status_date"),
        (end_without_closed & ~status_ok).fill_null(False).alias("note_ended_at_created"),
    )  # fmt: skip
    rows = rows.with_columns(
        pl.col("note_due_date_only") & pl.col("due").is_not_null(),
    )
    keep = ["row", "source_id", "status", "kind", "agency", "agency_name", "type", "descriptor", "channel",
            "address", "area", "created", "closed", "due", "ended", "lon", "lat", "raw", "skip", "skip_detail",
            *NOTE_COLUMNS]  # fmt: skip
    return Export(path=path, layout=lay, rows=rows.select(keep), bom=bom)


__all__ = ["CANCELLED", "CLOSED", "DUPLICATE", "NOTES", "SKIP_REASONS", "Export", "ExportError", "read_export"]
