"""Importing a 311 export: every row becomes a full case of the loop, or a reason it did not.

`import_311(path, layout)` reads the file (reading.py), builds the city, departments,
mappings and grids it needs (geography.py), locates every request into the grids, and
writes, chunk by chunk, each request as a case with its task, its handling clock, its events
and the export's own row. Rows already imported (same city, same request id) are left as
they are, so a second run adds nothing. `ImportResult.summary()` says what was written,
skipped and adjusted, with counts.
"""

from __future__ import annotations

import csv
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
from chengguan.geo.services import locate_many
from chengguan.imports import writing
from chengguan.imports.classify import classify_channel, classify_type
from chengguan.imports.geography import DEFAULT_CELL_M, GeoChange, ensure_city, ensure_departments, ensure_grids
from chengguan.imports.layouts import AUTO, CANCELLED, CLOSED, DISPATCHED, DUPLICATE, HANDLING
from chengguan.imports.models import ChannelMapping, ImportCity, ImportedRecord, ImportRun, TypeMapping
from chengguan.imports.reading import NOTES, SKIP_REASONS, read_export
from chengguan.worktime.services import working_clock

DEFAULT_CHUNK = 2000
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
    export = read_export(path, layout)
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
    done = _already_imported(city.pk, valid["source_id"].to_list())
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
        with transaction.atomic():
            result.geo = ensure_grids(settings, lay, lons, lats, new["area"].to_list())
        found = locate_many(city, lons, lats)
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
    cal = working_clock(city.calendar)
    codes = dict(city.departments.values_list("pk", "code"))
    n = new.height

    # Class limits, by class (urgency normal, the grids' area class B).
    classes = {c.pk: c for c in SmallClass.objects.filter(pk__in=new["small_class_id"].unique().to_list())}
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
    yellow = np.zeros(n, dtype=np.int64)
    for flag in (True, False):
        mask = working == flag
        if mask.any():
            yellow[mask] = cal.add_batch(created[mask], np.floor(minutes[mask] * YELLOW_FRACTION).astype(np.int64),
                                         working=flag)
    kind = new["kind"]
    closed_mask = (kind == CLOSED).to_numpy()
    open_mask = kind.is_in([DISPATCHED, HANDLING]).to_numpy()
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

    bar = progress(n, f"{city.name} 写入案件 writing cases") if progress else None
    try:
        for start in range(0, n, chunk_size):
            chunk = frame.slice(start, chunk_size)
            with transaction.atomic():
                case_ids = _write_chunk(settings, export, chunk, now=now)
                if refresh:
                    refresh_cases(case_ids.tolist())
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


def _json(frame: pl.DataFrame, **columns: pl.Expr) -> list[str]:
    return frame.select(pl.struct(**columns).struct.json_encode()).to_series().to_list()


def _write_chunk(settings: ImportCity, export, chunk: pl.DataFrame, *, now: datetime) -> np.ndarray:
    city = settings.city
    lay = export.layout
    count = chunk.height
    stamp = now
    kind = chunk["kind"]
    closed = kind == CLOSED
    ended = kind.is_in([CLOSED, DUPLICATE, CANCELLED])
    is_open = ~ended
    created = writing.instants(chunk["created"])
    closed_at = [v if c else None for v, c in zip(writing.instants(chunk["closed"]), closed.to_list(), strict=True)]
    due_at = writing.instants(chunk["due_at"])
    yellow_at = writing.instants(chunk["yellow_at"])
    ended_at = writing.instants(chunk["ended"])

    case_ids = writing.reserve_ids(Case, count)
    task_ids = writing.reserve_ids(Task, count)
    prefix = settings.key.upper()
    description = chunk.select(
        pl.when(pl.col("descriptor") != "").then(pl.format("{} — {}", "type", "descriptor"))
        .otherwise(pl.col("type")).str.slice(0, 2000)
    ).to_series().to_list()  # fmt: skip
    end_reason = chunk.select(
        pl.when(pl.col("kind") == DUPLICATE).then(pl.format("重复案件（导出状态：{}）· duplicate", "status"))
        .when(pl.col("kind").is_in([CLOSED, CANCELLED])).then(pl.format("导出状态 export status: {}", "status"))
        .otherwise(pl.lit("")).str.slice(0, 400)
    ).to_series().to_list()  # fmt: skip

    def where(mask: pl.Series, values: list) -> list:
        return [v if m else None for v, m in zip(values, mask.to_list(), strict=True)]

    writing.insert(Case, count, {
        "id": case_ids,
        "number": chunk.select(pl.format(f"{prefix}-{{}}", "source_id")).to_series().to_list(),
        "city_id": city.pk,
        "state": chunk["state"].to_list(),
        "source": chunk["source"].to_list(),
        "small_class_id": chunk["small_class_id"].to_list(),
        "class_code": chunk["small_class_id"].replace_strict(_class_codes(chunk), return_dtype=pl.String).to_list(),
        "area_class": "B",
        "lon": chunk["lon"].to_list(),
        "lat": chunk["lat"].to_list(),
        "grid_id": chunk["grid_id"].to_list(),
        "grid_code": chunk["grid_code"].to_list(),
        "community_code": chunk["community_code"].to_list(),
        "street_code": chunk["street_code"].to_list(),
        "district_code": chunk["district_code"].to_list(),
        "address": chunk["address"].str.slice(0, 200).to_list(),
        "description": description,
        "end_reason": end_reason,
        "reported_at": created,
        "registered_at": created,
        "dispatched_at": created,
        "handled_at": closed_at,
        "checked_at": closed_at,
        "closed_at": closed_at,
        "updated_at": stamp,
        "department_id": chunk["department_id"].to_list(),
        "stage": ["handle" if o else "" for o in is_open.to_list()],
        "stage_due_at": where(is_open, due_at),
        "stage_yellow_at": where(is_open, yellow_at),
        "is_open": where(is_open, [True] * count),
        "calendar_warning": chunk["calendar_warning"].to_list(),
    })
    handling = (kind == HANDLING).to_list()
    on_time = where(closed, chunk["on_time"].to_list())
    writing.insert(Task, count, {
        "id": task_ids,
        "case_id": case_ids,
        "seq": 1,
        "department_id": chunk["department_id"].to_list(),
        "status": chunk["task_status"].to_list(),
        "dispatched_at": created,
        "dispatched_by_id": settings.actor_id,
        "limit_minutes": chunk["limit_minutes"].to_list(),
        "working_time": chunk["working_time"].to_list(),
        "due_at": due_at,
        "signed_at": [c if h else None for c, h in zip(created, handling, strict=True)],
        "feedback_at": closed_at,
        "handled_at": closed_at,
        "on_time": on_time,
        # A deadline computed here, not given by the export, is no basis to rank the agency on.
        "counted": chunk["due_from_export"].to_list(),
    })
    writing.insert(StageClock, count, {
        "case_id": case_ids,
        "task_id": task_ids,
        "stage": "handle",
        "started_at": created,
        "limit_minutes": chunk["limit_minutes"].to_list(),
        "working_time": chunk["working_time"].to_list(),
        "due_at": due_at,
        "yellow_at": yellow_at,
        "ended_at": where(ended, ended_at),
        "on_time": on_time,
    })
    _write_events(settings, chunk, case_ids, created, closed_at, due_at, ended_at)
    writing.insert(ImportedRecord, count, {
        "city_id": city.pk,
        "source_id": chunk["source_id"].to_list(),
        "case_id": case_ids,
        "layout": lay.name,
        "file_name": export.path.name[:200],
        "row": chunk["row"].to_list(),
        "due_source": [ImportedRecord.DueSource.EXPORT if d else ImportedRecord.DueSource.COMPUTED
                       for d in chunk["due_from_export"].to_list()],
        "raw": chunk["raw"].to_list(),
        "imported_at": stamp,
    })
    return case_ids


def _class_codes(chunk: pl.DataFrame) -> dict[int, str]:
    return dict(SmallClass.objects.filter(pk__in=chunk["small_class_id"].unique().to_list()).values_list("pk", "code"))


def _write_events(settings, chunk: pl.DataFrame, case_ids, created, closed_at, due_at, ended_at) -> None:
    """report, register, dispatch for every case; sign for cases being handled; feedback, check
    and close for closed ones; merge or cancel for duplicates and cancelled ones."""
    ids = case_ids.tolist()
    kinds = chunk["kind"].to_list()
    report_data = _json(chunk, source=pl.col("source"), imported=pl.lit(True), source_id=pl.col("source_id"),
                        status=pl.col("status"))
    dispatch_data = _json(chunk, department=pl.col("department_code"), task=pl.lit(1),
                          limit_minutes=pl.col("limit_minutes"), working_time=pl.col("working_time"),
                          due_source=pl.when(pl.col("due_from_export")).then(pl.lit("export"))
                          .otherwise(pl.lit("computed")))
    on_time = chunk["on_time"].to_list()
    statuses = chunk["status"].to_list()
    case_col, op, src, dst, at, data, due, late, note = [], [], [], [], [], [], [], [], []

    def add(i, operation, from_state, to_state, when, payload="{}", due_value=None, was_late=None, text=""):
        case_col.append(ids[i])
        op.append(operation)
        src.append(from_state)
        dst.append(to_state)
        at.append(when)
        data.append(payload)
        due.append(due_value)
        late.append(was_late)
        note.append(text)

    for i, k in enumerate(kinds):
        add(i, "report", "", "pending", created[i], report_data[i])
        add(i, "register", "pending", "registered", created[i])
        add(i, "dispatch", "registered", "dispatched", created[i], dispatch_data[i], due_at[i])
        status_note = f"导出状态 export status: {statuses[i]}"
        if k == HANDLING:
            add(i, "sign", "dispatched", "handling", created[i], '{"task": 1}', text=status_note)
        elif k == CLOSED:
            late_flag = not on_time[i]
            add(i, "feedback", "dispatched", "handled", closed_at[i], '{"task": 1}', due_at[i], late_flag,
                status_note)
            add(i, "check", "handled", "closable", closed_at[i],
                f'{{"fixed": true, "task": 1, "on_time": {"true" if on_time[i] else "false"}}}')
            add(i, "close", "closable", "closed", closed_at[i], text=status_note)
        elif k == DUPLICATE:
            add(i, "merge", "dispatched", "cancelled", ended_at[i], '{"duplicate": true}', text=status_note)
        elif k == CANCELLED:
            add(i, "cancel", "dispatched", "cancelled", ended_at[i], text=status_note)
    writing.insert(Event, len(case_col), {
        "case_id": case_col,
        "operation": op,
        "from_state": src,
        "to_state": dst,
        "actor_id": settings.actor_id,
        "actor_role": "import",
        "at": at,
        "note": note,
        "data": data,
        "due_at": due,
        "was_late": late,
    })
