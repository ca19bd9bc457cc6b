"""Importing a 311 export: every row becomes a full case of the loop, or a reason it did not.

`import_311(path, layout)` reads the file (reading.py), builds the city, departments,
mappings and grids it needs (geography.py), locates every request into the grids, and
writes, chunk by chunk and all in one transaction, each request as a case with its task, its
events (register, dispatch and the ending one: see `_write_events`), a running handling clock if it
is still open, and the export's own row. Rows already imported (same city, same request id) are left as
they are, so a second run adds nothing. `ImportResult.summary()` says what was written,
skipped and adjusted, with counts.
"""

from __future__ import annotations

import csv
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
from django.db import transaction
from django.utils import timezone

from chengguan.cases.clocks import YELLOW_FRACTION
from chengguan.cases.models import Case, Event, StageClock, Task
from chengguan.catalog.models import SmallClass
from chengguan.catalog.services import handling_limit, load_catalog
from chengguan.evaluation.facts import refresh_cases
from chengguan.geo.services import clear_locators
from chengguan.imports import writing
from chengguan.imports.classify import classify_channel, classify_type
from chengguan.imports.geography import (
    DEFAULT_CELL_M,
    GeoChange,
    ensure_city,
    ensure_departments,
    ensure_grids,
    locate_points,
)
from chengguan.imports.layouts import AUTO, CANCELLED, CLOSED, DISPATCHED, DUPLICATE, ENDED, HANDLING
from chengguan.imports.models import ChannelMapping, ImportCity, ImportedRecord, ImportRun, TypeMapping
from chengguan.imports.reading import NOTES, SKIP_REASONS, read_export
from chengguan.worktime.services import working_clock

DEFAULT_CHUNK = 8000
STATE_OF = {CLOSED: "closed", DUPLICATE: "cancelled", CANCELLED: "cancelled", DISPATCHED: "dispatched",
            HANDLING: "handling"}
TASK_STATUS_OF = {CLOSED: Task.Status.DONE, DUPLICATE: Task.Status.CANCELLED, CANCELLED: Task.Status.CANCELLED,
                  DISPATCHED: Task.Status.OPEN, HANDLING: Task.Status.OPEN}

Progress = Callable[[int, str], object]  # (total, label) → an object with update(n) and close()


@dataclass
class ImportResult:
    city_code: str
    city_name: str
    layout: str
    file_name: str
    rows: int = 0
    imported: int = 0
    already: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    due_export: int = 0
    due_computed: int = 0
    on_time: int = 0
    closed: int = 0
    new_city: bool = False
    geo: GeoChange = field(default_factory=GeoChange)
    new_types: list[tuple[str, str, str]] = field(default_factory=list)  # value, class code, why
    new_agencies: list[tuple[str, str]] = field(default_factory=list)  # value, department code
    new_channels: list[tuple[str, str, str]] = field(default_factory=list)  # value, source, why
    skipped_rows: pl.DataFrame | None = None  # row, source_id, reason, detail
    seconds: float = 0.0
    bom: bool = False

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        """What the run did, one fact a line, Chinese then English."""
        lines = [
            f"{self.city_name}（{self.city_code}）← {self.file_name}  [格式 layout: {self.layout}"
            f"{'，含 BOM · with BOM' if self.bom else ''}]",
            f"读取 {self.rows:,} 行 · read {self.rows:,} rows",
            f"新导入 {self.imported:,} 件 · imported {self.imported:,} cases"
            f"（{self.rows / self.seconds if self.seconds else 0:,.0f} 行/秒 rows/s，{self.seconds:.1f} s）",
            f"此前已导入 {self.already:,} 件，未改动 · already imported {self.already:,}, left unchanged",
            f"跳过 {self.skipped_total:,} 行 · skipped {self.skipped_total:,} rows"
            + (":" if self.skipped_total else ""),
        ]
        for code, count in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            zh, en = SKIP_REASONS[code]
            lines.append(f"  {count:>7,}  {code}: {zh} · {en}")
        if self.imported:
            states = "、".join(f"{k} {v:,}" for k, v in sorted(self.states.items(), key=lambda kv: -kv[1]))
            lines.append(f"案件状态 · case states: {states}")
            lines.append(
                f"处置时限 · deadlines: 导出截止时间 {self.due_export:,} 件 from the export, "
                f"按小类时限计算 {self.due_computed:,} 件 computed from the class limit"
            )
            lines.append(f"按期办结 · closed on time: {self.on_time:,} / {self.closed:,}")
        adjusted = {k: v for k, v in self.notes.items() if v}
        if adjusted:
            lines.append("调整说明（已导入的行）· adjustments (imported rows):")
            for code, count in sorted(adjusted.items(), key=lambda kv: -kv[1]):
                zh, en = NOTES[code]
                lines.append(f"  {count:>7,}  {code}: {zh} · {en}")
        if self.new_city:
            lines.append(f"新建城市 · new city: {self.city_code}")
        if self.geo.grids or self.geo.districts:
            lines.append(f"新建区县 {self.geo.districts}、网格 {self.geo.grids} · "
                         f"new districts {self.geo.districts}, grids {self.geo.grids}")
        if self.new_agencies:
            lines.append(f"新建部门及部门映射 {len(self.new_agencies)} · new departments and agency mappings: "
                         + ", ".join(f"{v} → {d}" for v, d in self.new_agencies))
        if self.new_channels:
            lines.append(f"新建渠道映射 {len(self.new_channels)} · new channel mappings: "
                         + ", ".join(f"{v or '（空 empty）'} → {s}" for v, s, _ in self.new_channels))
        if self.new_types:
            fallback = [v for v, _, why in self.new_types if why.startswith("无匹配")]
            lines.append(f"新建类型映射 {len(self.new_types)}（其中 {len(fallback)} 个归入兜底小类）· "
                         f"new type mappings {len(self.new_types)} ({len(fallback)} to the fallback class); "
                         "请在后台“类型映射”中核对 · review them in the admin under 类型映射")
        return "\n".join(lines)

    def write_report(self, path: Path | str) -> int:
        """The skipped rows as CSV (UTF-8 with BOM, for spreadsheets); returns how many."""
        rows = self.skipped_rows if self.skipped_rows is not None else pl.DataFrame()
        with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["row", "source_id", "reason", "原因", "reason_en", "detail"])
            for row, source_id, reason, detail in rows.iter_rows():
                zh, en = SKIP_REASONS[reason]
                out.writerow([row, source_id, reason, zh, en, detail])
        return rows.height


# -- mappings ----------------------------------------------------------------------------


def _type_mapping(settings: ImportCity, values: list[str]) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    city = settings.city
    mapping = dict(TypeMapping.objects.filter(city=city).values_list("value", "small_class_id"))
    new = [v for v in sorted(set(values)) if v not in mapping]
    if not new:
        return mapping, []
    classes = dict(SmallClass.objects.filter(active=True).values_list("code", "id"))
    rows, seeded = [], []
    for value in new:
        code, why = classify_type(value)
        if code is None or code not in classes:
            code = settings.fallback_class.code
            classes.setdefault(code, settings.fallback_class.pk)
        rows.append(TypeMapping(city=city, value=value[:200], small_class_id=classes[code], seeded_by=why[:120]))
        seeded.append((value, code, why))
        mapping[value] = classes[code]
    TypeMapping.objects.bulk_create(rows)
    return mapping, seeded


def _channel_mapping(settings: ImportCity, values: list[str]) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    city = settings.city
    mapping = dict(ChannelMapping.objects.filter(city=city).values_list("value", "source"))
    new = [v for v in sorted(set(values)) if v not in mapping]
    seeded = []
    for value in new:
        source, why = classify_channel(value)
        seeded.append((value, source, why))
        mapping[value] = source
    ChannelMapping.objects.bulk_create([ChannelMapping(city=city, value=v[:100], source=s) for v, s, _ in seeded])
    return mapping, seeded


def _already_imported(city_id: int, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        found.update(
            ImportedRecord.objects.filter(city_id=city_id, source_id__in=ids[start : start + 900]).values_list(
                "source_id", flat=True
            )
        )
    return found


# -- the import --------------------------------------------------------------------------


def _epoch(series: pl.Series) -> np.ndarray:
    return series.dt.epoch("s").to_numpy().astype(np.int64)


def _from_epoch(values: np.ndarray) -> pl.Series:
    return pl.from_epoch(pl.Series(values.astype(np.int64)), time_unit="s").dt.replace_time_zone("UTC")


def import_311(
    path: Path | str,
    layout: str = AUTO,
    *,
    cell_m: int = DEFAULT_CELL_M,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    now: datetime | None = None,
    refresh: bool = True,
) -> ImportResult:
    """Import one export; see the module docstring. Raises reading.ExportError when the file
    is not a 311 export of a known layout (nothing is written then).

    `refresh=False` leaves the evaluation facts of the new cases to a later
    `evaluation.facts.refresh_cases` (the benchmark times the import alone that way)."""
    started = time.perf_counter()
    now = now or timezone.now()
    # The import makes millions of short-lived, acyclic objects (rows, tuples, strings):
    # reference counting frees them, and the cycle collector would only walk the whole heap
    # again and again meanwhile. It resumes when the import ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        export = read_export(path, layout)
        # One transaction for everything written: a failed import leaves nothing behind, and
        # SQLite commits (and checkpoints) once.
        with transaction.atomic():
            return _import(export, cell_m=cell_m, chunk_size=chunk_size, progress=progress, now=now,
                           refresh=refresh, started=started)
    except BaseException:
        clear_locators()  # a locator built from grids that were rolled back must not answer again
        raise
    finally:
        if collecting:
            gc.enable()


def _import(export, *, cell_m, chunk_size, progress, now, refresh, started) -> ImportResult:
    lay = export.layout
    if not SmallClass.objects.exists():
        load_catalog()
    settings, new_city = ensure_city(lay, cell_m=cell_m)
    city = settings.city
    result = ImportResult(city_code=city.code, city_name=city.name, layout=lay.name, file_name=export.path.name,
                          rows=export.total, new_city=new_city, bom=export.bom)
    rows = export.rows
    skipped = rows.filter(pl.col("skip").is_not_null()).select("row", "source_id", "skip", "skip_detail")
    valid = rows.filter(pl.col("skip").is_null())
    done = set() if new_city else _already_imported(city.pk, valid["source_id"].to_list())
    result.already = len(done)
    new = valid.filter(~pl.col("source_id").is_in(list(done))) if done else valid

    if new.height:
        agencies = dict(new.group_by("agency").agg(pl.col("agency_name").mode().first()).iter_rows())
        departments, created_agencies = ensure_departments(settings, agencies)
        result.new_agencies = [(v, f"{settings.key}-…") for v in created_agencies]
        if created_agencies:
            codes = dict(
                settings.city.departments.filter(pk__in=[departments[v] for v in created_agencies]).values_list(
                    "pk", "code"
                )
            )
            result.new_agencies = [(v, codes[departments[v]]) for v in created_agencies]
        types, result.new_types = _type_mapping(settings, new["type"].to_list())
        channels, result.new_channels = _channel_mapping(settings, new["channel"].to_list())
        lons, lats = new["lon"].to_numpy(), new["lat"].to_numpy()
        result.geo = ensure_grids(settings, lay, lons, lats, new["area"].to_list())
        found = locate_points(city, lons, lats)
        inside = found.inside
        if not inside.all():
            outside = new.filter(pl.Series(~inside)).select("row", "source_id").with_columns(
                pl.lit("outside_grids").alias("skip"), pl.lit("").alias("skip_detail")
            )
            skipped = pl.concat([skipped, outside])
        new = new.with_columns(
            pl.Series("grid_id", found.grid_id),
            pl.Series("grid_code", found.grid_code.tolist(), dtype=pl.String),
            pl.Series("community_code", found.community_code.tolist(), dtype=pl.String),
            pl.Series("street_code", found.street_code.tolist(), dtype=pl.String),
            pl.Series("district_code", found.district_code.tolist(), dtype=pl.String),
        ).filter(pl.Series(inside))
        new = new.with_columns(
            pl.col("type").replace_strict(types, return_dtype=pl.Int64).alias("small_class_id"),
            pl.col("agency").replace_strict(departments, return_dtype=pl.Int64).alias("department_id"),
            pl.col("channel").replace_strict(channels, return_dtype=pl.String).alias("source"),
        )
        _write(settings, export, new, result, chunk_size=chunk_size, progress=progress, now=now, refresh=refresh)

    result.skipped = dict(skipped.group_by("skip").len().iter_rows())
    result.skipped_rows = skipped.sort("row")
    result.seconds = time.perf_counter() - started
    ImportRun.objects.create(
        city=city, layout=lay.name, file_name=export.path.name[:200], started_at=now, finished_at=timezone.now(),
        rows=result.rows, imported=result.imported, already=result.already, skipped=result.skipped,
        notes=result.notes, summary=result.summary(),
    )
    return result


def _write(settings: ImportCity, export, new: pl.DataFrame, result: ImportResult, *, chunk_size, progress, now,
           refresh):
    city = settings.city
    # One table over the export's years (its records may be years old), not built then widened.
    years = new.select(pl.col("created").min().dt.year().alias("a"),
                       pl.max_horizontal(pl.col("created").max(), pl.col("due").max()).dt.year().alias("b")).row(0)
    cal = working_clock(city.calendar, covering=(years[0], years[1] + 1))
    codes = dict(city.departments.values_list("pk", "code"))
    n = new.height

    # Class limits, by class (urgency normal, the grids' area class B).
    classes = {c.pk: c for c in SmallClass.objects.filter(pk__in=new["small_class_id"].unique().to_list())
               .prefetch_related("time_limits")}
    limits = {pk: handling_limit(c, urgency="normal", area_class="B") for pk, c in classes.items()}
    class_ids = new["small_class_id"].to_numpy()
    minutes = np.array([limits[c][0] for c in class_ids], dtype=np.int64)
    working = np.array([limits[c][1] for c in class_ids], dtype=bool)

    created = _epoch(new["created"])
    export_due = new["due"]
    has_due = export_due.is_not_null().to_numpy()
    due = np.where(has_due, _epoch(export_due.fill_null(new["created"])), 0)
    for flag in (True, False):
        mask = (working == flag) & ~has_due
        if mask.any():
            due[mask] = cal.add_batch(created[mask], minutes[mask], working=flag)
        mask = (working == flag) & has_due
        if mask.any():
            minutes[mask] = np.maximum(1, cal.elapsed_batch(created[mask], due[mask], working=flag))
    kind = new["kind"]
    open_mask = kind.is_in([DISPATCHED, HANDLING]).to_numpy()
    yellow = due.copy()  # only an open case's clock turns yellow; an ended case's is never written
    for flag in (True, False):
        mask = (working == flag) & open_mask
        if mask.any():
            yellow[mask] = cal.add_batch(created[mask], np.floor(minutes[mask] * YELLOW_FRACTION).astype(np.int64),
                                         working=flag)
    closed_mask = (kind == CLOSED).to_numpy()
    closed_epoch = _epoch(new["closed"].fill_null(new["created"]))
    on_time = np.where(closed_mask, closed_epoch <= due, False)

    frame = new.with_columns(
        _from_epoch(due).alias("due_at"),
        _from_epoch(yellow).alias("yellow_at"),
        pl.Series("limit_minutes", minutes),
        pl.Series("working_time", working),
        pl.Series("on_time", on_time).alias("on_time"),
        pl.Series("due_from_export", has_due),
        pl.col("department_id").replace_strict(codes, return_dtype=pl.String).alias("department_code"),
        pl.col("small_class_id").replace_strict({pk: c.code for pk, c in classes.items()}, return_dtype=pl.String)
        .alias("class_code"),
        pl.col("kind").replace_strict(STATE_OF, return_dtype=pl.String).alias("state"),
        pl.col("kind").replace_strict({k: str(v) for k, v in TASK_STATUS_OF.items()}, return_dtype=pl.String)
        .alias("task_status"),
    )
    warnings = _calendar_warnings(cal, frame.filter(pl.Series(open_mask & working)))
    frame = frame.with_columns(pl.col("source_id").replace_strict(warnings, default="").alias("calendar_warning"))

    result.imported = n
    result.states = dict(frame.group_by("state").len().iter_rows())
    result.due_export = int(has_due.sum())
    result.due_computed = int(n - has_due.sum())
    result.closed = int(closed_mask.sum())
    result.on_time = int(on_time.sum())
    result.notes = {code: int(frame[f"note_{code}"].sum()) for code in NOTES}

    # Cases of one kind side by side: their rows leave the same columns empty (see
    # writing.insert), and their ids run in that order.
    columns = _columns(settings, frame).sort("kind", "i", maintain_order=True).with_columns(
        pl.Series("case_id", writing.reserve_ids(Case, n)), pl.Series("task_id", writing.reserve_ids(Task, n))
    )
    bar = progress(n, f"{city.name} 写入案件 writing cases") if progress else None
    try:
        for start in range(0, n, chunk_size):
            chunk = columns.slice(start, chunk_size)
            _write_chunk(settings, export, chunk, now)
            if refresh:
                refresh_cases(chunk["case_id"].to_list())
            if bar is not None:
                bar.update(chunk.height)
    finally:
        if bar is not None:
            bar.close()


def _calendar_warnings(cal, frame: pl.DataFrame) -> dict[str, str]:
    """source id → the calendar's warning for open cases whose deadline spans years nobody entered."""
    if not frame.height:
        return {}
    years = frame.select(
        "source_id",
        pl.col("created").dt.convert_time_zone(cal.zone.key).dt.year().alias("a"),
        pl.col("due_at").dt.convert_time_zone(cal.zone.key).dt.year().alias("b"),
    )
    texts = {}
    for a, b in years.select("a", "b").unique().iter_rows():
        texts[(a, b)] = cal.warning(datetime(a, 6, 1, tzinfo=cal.zone), datetime(b, 6, 1, tzinfo=cal.zone))
    return {sid: texts[(a, b)] for sid, a, b in years.iter_rows() if texts[(a, b)]}


def _columns(settings: ImportCity, frame: pl.DataFrame) -> pl.DataFrame:
    """Every value the rows of a case need, as the database takes it (instants as text), in
    one pass over all the cases; `i` numbers them from 0."""
    prefix = settings.key.upper()
    fmt = writing.datetime_format()

    def text(expr: pl.Expr) -> pl.Expr:
        return expr.dt.convert_time_zone("UTC").dt.strftime(fmt)

    kind = pl.col("kind")
    closed = kind == CLOSED
    is_open = ~kind.is_in(list(ENDED))
    return frame.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
        pl.concat_str(pl.lit(f"{prefix}-"), pl.col("source_id")).alias("number"),
        text(pl.col("created")).alias("created_at"),
        text(pl.when(closed).then(pl.col("closed"))).alias("closed_at"),
        text(pl.col("ended")).alias("ended_at"),
        text(pl.col("due_at")).alias("due_text"),
        text(pl.when(is_open).then(pl.col("due_at"))).alias("stage_due_at"),
        text(pl.when(is_open).then(pl.col("yellow_at"))).alias("stage_yellow_at"),
        text(pl.when(kind == HANDLING).then(pl.col("created"))).alias("signed_at"),
        pl.when(is_open).then(pl.lit(True)).alias("is_open"),
        pl.when(is_open).then(pl.lit("handle")).otherwise(pl.lit("")).alias("stage"),
        pl.when(closed).then(pl.col("on_time")).alias("task_on_time"),
        pl.when(pl.col("descriptor") != "").then(pl.concat_str("type", pl.lit(" — "), "descriptor"))
        .otherwise(pl.col("type")).str.slice(0, 2000).alias("description"),
        pl.when(kind == DUPLICATE)
        .then(pl.concat_str(pl.lit("重复案件（导出状态："), "status", pl.lit("）· duplicate")))
        .when(kind.is_in([CLOSED, CANCELLED])).then(pl.concat_str(pl.lit("导出状态 export status: "), "status"))
        .otherwise(pl.lit("")).str.slice(0, 400).alias("end_reason"),
        pl.col("address").str.slice(0, 200),
        pl.when(pl.col("due_from_export")).then(pl.lit(str(ImportedRecord.DueSource.EXPORT)))
        .otherwise(pl.lit(str(ImportedRecord.DueSource.COMPUTED))).alias("due_source"),
        is_open.alias("open"),
        "kind", "state", "status", "source", "source_id", "small_class_id", "class_code", "lon", "lat", "grid_id",
        "grid_code", "community_code", "street_code", "district_code", "department_id", "department_code",
        "calendar_warning", "task_status", "limit_minutes", "working_time", "due_from_export", "on_time",
        "row", "raw",
    )  # fmt: skip


def _write_chunk(settings: ImportCity, export, columns: pl.DataFrame, now: datetime) -> None:
    """Write one chunk of `_columns` (with `case_id` and `task_id`): cases, tasks, the clocks of
    open cases, their events (`_write_events`) and raw records."""
    city = settings.city
    count = columns.height
    case_ids = columns["case_id"]
    task_ids = columns["task_id"]

    def col(name: str) -> pl.Series:
        return columns.get_column(name)

    created = col("created_at")
    closed_at = col("closed_at")
    due_at = col("due_text")
    department_id = col("department_id")
    limit_minutes = col("limit_minutes")
    working_time = col("working_time")
    task_on_time = col("task_on_time")
    writing.insert(Case, count, {
        "id": case_ids,
        "number": col("number"),
        "city_id": city.pk,
        "state": col("state"),
        "source": col("source"),
        "small_class_id": col("small_class_id"),
        "class_code": col("class_code"),
        "area_class": "B",
        "lon": col("lon"),
        "lat": col("lat"),
        "grid_id": col("grid_id"),
        "grid_code": col("grid_code"),
        "community_code": col("community_code"),
        "street_code": col("street_code"),
        "district_code": col("district_code"),
        "address": col("address"),
        "description": col("description"),
        "end_reason": col("end_reason"),
        "reported_at": created,
        "registered_at": created,
        "dispatched_at": created,
        "handled_at": closed_at,
        "checked_at": closed_at,
        "closed_at": closed_at,
        "updated_at": now,
        "department_id": department_id,
        "stage": col("stage"),
        "stage_due_at": col("stage_due_at"),
        "stage_yellow_at": col("stage_yellow_at"),
        "is_open": col("is_open"),
        "calendar_warning": col("calendar_warning"),
    })
    writing.insert(Task, count, {
        "id": task_ids,
        "case_id": case_ids,
        "seq": 1,
        "department_id": department_id,
        "status": col("task_status"),
        "dispatched_at": created,
        "dispatched_by_id": settings.actor_id,
        "limit_minutes": limit_minutes,
        "working_time": working_time,
        "due_at": due_at,
        "signed_at": col("signed_at"),
        "feedback_at": closed_at,
        "handled_at": closed_at,
        "on_time": task_on_time,
        # A deadline computed here, not given by the export, is no basis to rank the agency on.
        "counted": col("due_from_export"),
    })
    # Only a case still open has a running clock; an ended case's clock would only say what
    # the task row already says (its deadline, when it ended, on time or not).
    running = columns.filter(pl.col("open"))
    writing.insert(StageClock, running.height, {
        "case_id": running["case_id"],
        "task_id": running["task_id"],
        "stage": "handle",
        "started_at": running["created_at"],
        "limit_minutes": running["limit_minutes"],
        "working_time": running["working_time"],
        "due_at": running["stage_due_at"],
        "yellow_at": running["stage_yellow_at"],
    })
    _write_events(settings, columns)
    writing.insert(ImportedRecord, count, {
        "city_id": city.pk,
        "source_id": col("source_id"),
        "case_id": case_ids,
        "layout": export.layout.name,
        "file_name": export.path.name[:200],
        "row": col("row"),
        "due_source": col("due_source"),
        "raw": col("raw"),
        "imported_at": now,
    })


# The events of an imported case: `register` from no state, then `dispatch`, both at the
# export's created time (when the request was both reported and registered), then the ending
# event of an ended case, by kind.
END_EVENTS = {
    CLOSED: ("close", "dispatched", "closed"),
    DUPLICATE: ("merge", "dispatched", "cancelled"),
    CANCELLED: ("cancel", "dispatched", "cancelled"),
}


def _write_events(settings: ImportCity, columns: pl.DataFrame) -> None:
    """The events of a chunk's cases (`columns` with `case_id`), one operation at a time, so
    every row of a statement shares its operation, states and empty fields and a case's
    events keep their order by id.

    register holds the report's data (source, request id, export status), dispatch the task's
    (department, limit, deadline and where the deadline came from); the ending event notes
    the export's status: close (its data and `was_late` say whether it was on time), merge
    (duplicates) or cancel. Signing, feedback and check are not written: the task row holds
    when it was signed and handled, and the evaluation reads them there."""
    common = {"actor_id": settings.actor_id, "actor_role": "import"}
    count = columns.height
    case_ids = columns["case_id"]
    created = columns["created_at"]

    def json_of(**fields) -> pl.Series:
        return columns.select(pl.struct(**fields).struct.json_encode()).to_series()

    writing.insert(Event, count, {
        **common, "case_id": case_ids, "operation": "register", "from_state": "", "to_state": "registered",
        "at": created, "note": "", "due_at": None, "was_late": None,
        "data": json_of(source=pl.col("source"), imported=pl.lit(True), source_id=pl.col("source_id"),
                        status=pl.col("status")),
    })
    writing.insert(Event, count, {
        **common, "case_id": case_ids, "operation": "dispatch", "from_state": "registered",
        "to_state": "dispatched", "at": created, "note": "", "due_at": columns["due_text"],
        "was_late": None,
        "data": json_of(department=pl.col("department_code"), task=pl.lit(1), limit_minutes=pl.col("limit_minutes"),
                        working_time=pl.col("working_time"), due_source=pl.col("due_source")),
    })
    for kind, (operation, from_state, to_state) in END_EVENTS.items():
        ended = columns.filter(pl.col("kind") == kind)
        if not ended.height:
            continue
        if kind == CLOSED:
            data = ended.select(pl.struct(on_time=pl.col("on_time")).struct.json_encode()).to_series()
            late = ~ended["on_time"]
        else:
            data, late = ({"duplicate": True} if kind == DUPLICATE else {}), None  # one value: the field encodes it
        writing.insert(Event, ended.height, {
            **common, "case_id": ended["case_id"], "operation": operation, "from_state": from_state,
            "to_state": to_state, "at": ended["ended_at"], "due_at": None, "was_late": late,
            "note": ended.select(pl.concat_str(pl.lit("导出状态 export status: "), "status")).to_series(),
            "data": data,
        })
