"""The bulletin document: the plain dict the four ones (四个一) are written as, checked and typed.

The evaluation code builds a dict (also what the JSON API returns); `parse_document` checks it
and gives back frozen dataclasses that the page, xlsx and PDF renderers share, together with
the formatting rules all three must agree on: a null rate is "—", never 0% or 100%.

Shape (optional keys in brackets):

    {"kind": "supervision|daily|weekly|monthly", "title": str, [title_en], [subtitle], [city],
     "generated_at": ISO, "as_of": ISO, "config_version": int,
     [summary]: [{"label", [label_en], "value", "format": int|rate|score|text, [delta]}],
     "sections": [{"heading", [heading_en], [paragraphs]: [str],
                   [table]: {"columns": [{"key", "label", [label_en], "format"}],
                             "rows": [{key: value, ..., [_link]: "/cases/..."}],
                             [totals]: {key: value}, [notes]: [str]},
                   [chart]: {"type": bar|line|hbar, [title], "categories": [str],
                             "series": [{"name", "values": [number|null]}], [unit], [format]},
                   [groups]: [{"heading", [heading_en], "table": {...}}]}]}

Column formats: text, int, rate (fraction 0–1), score (0–100), grade (A–E), datetime (ISO),
light (green/yellow/red). A summary `delta` is a fraction: for a rate it is the change in
percentage points (0.05 → +5.0 个百分点), for anything else the relative change (−0.05 → −5.0%).
Chart values are plotted as given, with `unit` after them; a chart with `"format": "rate"`
carries fractions and is plotted as percentages.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KINDS = ("supervision", "daily", "weekly", "monthly")
KIND_NAMES = {
    "supervision": ("每日督查清单", "Daily supervision list"),
    "daily": ("每日通报", "Daily bulletin"),
    "weekly": ("每周简评", "Weekly brief"),
    "monthly": ("每月汇总", "Monthly summary"),
}
SUMMARY_FORMATS = ("int", "rate", "score", "text")
COLUMN_FORMATS = ("text", "int", "rate", "score", "grade", "datetime", "light")
NUMERIC_FORMATS = ("int", "rate", "score")
CHART_TYPES = ("bar", "line", "hbar")
CHART_FORMATS = ("number", "int", "rate", "score")
GRADES = ("A", "B", "C", "D", "E")
LIGHTS = {"green": ("绿灯", "green"), "yellow": ("黄灯", "yellow"), "red": ("红灯", "red")}

# One palette for page, workbook and PDF (the page's --green/--yellow/--red, graded A → E).
GRADE_COLOURS = {"A": "#1f9d55", "B": "#7cb342", "C": "#d69e2e", "D": "#dd6b20", "E": "#d64545"}
LIGHT_COLOURS = {"green": "#1f9d55", "yellow": "#d69e2e", "red": "#d64545"}
NOT_APPLICABLE = "—"
RATE_SLACK = 1e-9  # a rate computed as 0.1 + 0.2 … may land a hair outside [0, 1]


class DocumentError(ValueError):
    """The document does not have the agreed shape; the message names the offending path."""

    def __init__(self, path: str, problem: str):
        self.path = path
        super().__init__(f"bulletin document {path}: {problem}")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    label_en: str
    format: str

    def text(self, english: bool = False) -> str:
        return self.label_en if english else self.label

    @property
    def numeric(self) -> bool:
        return self.format in NUMERIC_FORMATS


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    totals: Mapping[str, Any] | None
    notes: tuple[str, ...]

    @property
    def link_column(self) -> str:
        """The column a row's `_link` sits on: the first text column (a name or a case number)."""
        return next((c.key for c in self.columns if c.format == "text"), self.columns[0].key)

    def needs_total_label(self) -> bool:
        """Whether "合计" goes in the first cell: the totals do not already name themselves in a text column."""
        totals = self.totals or {}
        return totals.get(self.columns[0].key) is None and not any(
            totals.get(c.key) for c in self.columns if c.format == "text"
        )


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    color: str = ""  # "#rrggbb", or empty for the palette's next colour


@dataclass(frozen=True)
class Chart:
    type: str
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str
    format: str

    def plotted(self) -> list[list[float | None]]:
        """The values as drawn: rates become percentages, rounded for axis and labels."""
        scale = 100.0 if self.format == "rate" else 1.0
        return [[None if v is None else round(v * scale, 2) for v in s.values] for s in self.series]


@dataclass(frozen=True)
class Group:
    heading: str
    heading_en: str
    table: Table


@dataclass(frozen=True)
class Section:
    heading: str
    heading_en: str
    paragraphs: tuple[str, ...]
    table: Table | None
    chart: Chart | None
    groups: tuple[Group, ...]

    def tables(self) -> list[tuple[str | None, str | None, Table]]:
        """(heading, heading_en, table) for the section's own table and then each group's."""
        out: list[tuple[str | None, str | None, Table]] = []
        if self.table is not None:
            out.append((None, None, self.table))
        out.extend((g.heading, g.heading_en, g.table) for g in self.groups)
        return out


@dataclass(frozen=True)
class SummaryItem:
    label: str
    label_en: str
    value: Any
    format: str
    delta: float | None


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    title_en: str
    subtitle: str
    city: str
    generated_at: datetime
    as_of: datetime
    config_version: int
    summary: tuple[SummaryItem, ...]
    sections: tuple[Section, ...]

    def pick(self, zh: str, en: str, english: bool) -> str:
        return en if english and en else zh


# ---------------------------------------------------------------- checking


def _need(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise DocumentError(f"{path}.{key}", "is required")
    return obj[key]


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DocumentError(path, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise DocumentError(path, f"expected a list, got {type(value).__name__}")
    return value


def _str(value: Any, path: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise DocumentError(path, f"expected text, got {type(value).__name__}")
    return value


def _choice(value: Any, choices: Sequence[str], path: str) -> str:
    if value not in choices:
        raise DocumentError(path, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def _number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DocumentError(path, f"expected a number or null, got {value!r}")
    return value


def _instant(value: Any, path: str) -> datetime:
    text = _str(value, path)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise DocumentError(path, f"expected an ISO 8601 instant, got {text!r}") from None


def check_value(value: Any, fmt: str, path: str) -> None:
    """Refuse a cell value its column's format cannot show."""
    if value is None:
        return
    if fmt == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise DocumentError(path, f"expected a whole number or null, got {value!r}")
    elif fmt == "rate":
        rate = _number(value, path)
        if rate is not None and not -RATE_SLACK <= rate <= 1 + RATE_SLACK:
            raise DocumentError(path, f"a rate is a fraction from 0 to 1, got {value!r}")
    elif fmt == "score":
        _number(value, path)
    elif fmt == "grade":
        _choice(value, GRADES, path)
    elif fmt == "light":
        _choice(value, tuple(LIGHTS), path)
    elif fmt == "datetime":
        _instant(value, path)
    elif not isinstance(value, str | int | float) or isinstance(value, bool):
        raise DocumentError(path, f"expected text, got {type(value).__name__}")


def _link(value: Any, path: str) -> None:
    link = _str(value, path)
    # Only site paths and web addresses: a "javascript:" link in a name must never become clickable.
    if not (link.startswith("/") and not link.startswith("//")) and not link.startswith(("https://", "http://")):
        raise DocumentError(path, f"a link is a site path or an http(s) address, got {link!r}")


def _table(raw: Any, path: str) -> Table:
    obj = _mapping(raw, path)
    columns: list[Column] = []
    for i, c in enumerate(_list(_need(obj, "columns", path), f"{path}.columns")):
        cp = f"{path}.columns[{i}]"
        c = _mapping(c, cp)
        key = _str(_need(c, "key", cp), f"{cp}.key")
        if any(col.key == key for col in columns):
            raise DocumentError(f"{cp}.key", f"column {key!r} appears twice")
        label = _str(_need(c, "label", cp), f"{cp}.label")
        columns.append(
            Column(
                key,
                label,
                _str(c.get("label_en"), f"{cp}.label_en", optional=True) or label,
                _choice(c.get("format", "text"), COLUMN_FORMATS, f"{cp}.format"),
            )
        )
    if not columns:
        raise DocumentError(f"{path}.columns", "a table needs at least one column")
    rows = []
    for r, row in enumerate(_list(_need(obj, "rows", path), f"{path}.rows")):
        rp = f"{path}.rows[{r}]"
        row = _mapping(row, rp)
        for col in columns:
            if col.key not in row:
                raise DocumentError(f"{rp}.{col.key}", "is missing (use null for not applicable)")
            check_value(row[col.key], col.format, f"{rp}.{col.key}")
        if row.get("_link") is not None:
            _link(row["_link"], f"{rp}._link")
        rows.append(row)
    totals = obj.get("totals")
    if totals is not None:
        totals = _mapping(totals, f"{path}.totals")
        known = {c.key: c for c in columns}
        for key, value in totals.items():
            if key not in known:
                raise DocumentError(f"{path}.totals.{key}", "is not one of the table's columns")
            check_value(value, known[key].format, f"{path}.totals.{key}")
    notes = tuple(_str(n, f"{path}.notes[{i}]") for i, n in enumerate(_list(obj.get("notes") or [], f"{path}.notes")))
    return Table(tuple(columns), tuple(rows), totals, notes)


def _chart(raw: Any, path: str) -> Chart:
    obj = _mapping(raw, path)
    categories = tuple(str(c) for c in _list(_need(obj, "categories", path), f"{path}.categories"))
    series = []
    for i, s in enumerate(_list(_need(obj, "series", path), f"{path}.series")):
        sp = f"{path}.series[{i}]"
        s = _mapping(s, sp)
        values = _list(_need(s, "values", sp), f"{sp}.values")
        if len(values) != len(categories):
            raise DocumentError(f"{sp}.values", f"has {len(values)} values for {len(categories)} categories")
        color = _str(s.get("color"), f"{sp}.color", optional=True) or ""
        if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise DocumentError(f"{sp}.color", "a colour is written #rrggbb")
        series.append(
            Series(
                _str(_need(s, "name", sp), f"{sp}.name"),
                tuple(_number(v, f"{sp}.values[{j}]") for j, v in enumerate(values)),
                color,
            )
        )
    if not series:
        raise DocumentError(f"{path}.series", "a chart needs at least one series")
    fmt = _choice(obj.get("format", "number"), CHART_FORMATS, f"{path}.format")
    unit = _str(obj.get("unit"), f"{path}.unit", optional=True) or ("%" if fmt == "rate" else "")
    return Chart(
        _choice(_need(obj, "type", path), CHART_TYPES, f"{path}.type"),
        _str(obj.get("title"), f"{path}.title", optional=True),
        categories,
        tuple(series),
        unit,
        fmt,
    )


def _section(raw: Any, path: str) -> Section:
    obj = _mapping(raw, path)
    heading = _str(_need(obj, "heading", path), f"{path}.heading")
    paragraphs = tuple(
        _str(p, f"{path}.paragraphs[{i}]")
        for i, p in enumerate(_list(obj.get("paragraphs") or [], f"{path}.paragraphs"))
    )
    groups = []
    for i, g in enumerate(_list(obj.get("groups") or [], f"{path}.groups")):
        gp = f"{path}.groups[{i}]"
        g = _mapping(g, gp)
        gh = _str(_need(g, "heading", gp), f"{gp}.heading")
        groups.append(
            Group(
                gh,
                _str(g.get("heading_en"), f"{gp}.heading_en", optional=True) or gh,
                _table(_need(g, "table", gp), f"{gp}.table"),
            )
        )
    return Section(
        heading,
        _str(obj.get("heading_en"), f"{path}.heading_en", optional=True) or heading,
        paragraphs,
        _table(obj["table"], f"{path}.table") if obj.get("table") is not None else None,
        _chart(obj["chart"], f"{path}.chart") if obj.get("chart") is not None else None,
        tuple(groups),
    )


def parse_document(doc: Mapping[str, Any] | Document) -> Document:
    """Check a bulletin dict and return it typed; raise DocumentError naming the first bad path."""
    if isinstance(doc, Document):
        return doc
    doc = _mapping(doc, "(root)")
    version = _need(doc, "config_version", "")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DocumentError(".config_version", f"expected a whole number, got {version!r}")
    summary = []
    for i, s in enumerate(_list(doc.get("summary") or [], ".summary")):
        sp = f".summary[{i}]"
        s = _mapping(s, sp)
        fmt = _choice(s.get("format", "int"), SUMMARY_FORMATS, f"{sp}.format")
        value = _need(s, "value", sp)
        check_value(value, fmt, f"{sp}.value")
        label = _str(_need(s, "label", sp), f"{sp}.label")
        summary.append(
            SummaryItem(
                label,
                _str(s.get("label_en"), f"{sp}.label_en", optional=True) or label,
                value,
                fmt,
                _number(s.get("delta"), f"{sp}.delta"),
            )
        )
    sections = tuple(
        _section(s, f".sections[{i}]") for i, s in enumerate(_list(_need(doc, "sections", ""), ".sections"))
    )
    title = _str(_need(doc, "title", ""), ".title")
    return Document(
        kind=_choice(_need(doc, "kind", ""), KINDS, ".kind"),
        title=title,
        title_en=_str(doc.get("title_en"), ".title_en", optional=True) or title,
        subtitle=_str(doc.get("subtitle"), ".subtitle", optional=True),
        city=_str(doc.get("city"), ".city", optional=True),
        generated_at=_instant(_need(doc, "generated_at", ""), ".generated_at"),
        as_of=_instant(_need(doc, "as_of", ""), ".as_of"),
        config_version=version,
        summary=tuple(summary),
        sections=sections,
    )


# ---------------------------------------------------------------- formatting shared by the renderers


def format_value(value: Any, fmt: str, *, english: bool = False) -> str:
    """A cell as text: the one place that decides "—", percentages and decimals."""
    if value is None:
        return NOT_APPLICABLE if fmt in NUMERIC_FORMATS else ""
    if fmt == "rate":
        return f"{value * 100:.1f}%"
    if fmt == "score":
        return f"{value:.1f}"
    if fmt == "int":
        return str(value)
    if fmt == "light":
        zh, en = LIGHTS[value]
        return en if english else zh
    if fmt == "datetime":
        return format_instant(datetime.fromisoformat(value))
    return str(value)


def format_delta(delta: float | None, fmt: str, *, english: bool = False) -> str:
    """A summary change: ▲/▼ with percentage points for rates, a relative change otherwise."""
    if delta is None:
        return ""
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "＝"
    if fmt == "rate":
        return f"{arrow} {abs(delta) * 100:.1f} {'pp' if english else '个百分点'}"
    return f"{arrow} {abs(delta) * 100:.1f}%"


def format_instant(at: datetime) -> str:
    # Shown in the offset the document carries: the evaluation writes instants in the city's zone.
    return at.strftime("%Y-%m-%d %H:%M")


def tone(value: Any, fmt: str) -> str | None:
    """The colour a grade or a light paints its cell, or None."""
    if fmt == "grade":
        return GRADE_COLOURS.get(value)
    if fmt == "light":
        return LIGHT_COLOURS.get(value)
    return None


def display_width(text: str) -> int:
    """Columns the text takes in a fixed-width view: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def footer_text(doc: Document, *, english: bool = False) -> str:
    if english:
        return f"Generated {format_instant(doc.generated_at)} · configuration version {doc.config_version}"
    return f"生成于 {format_instant(doc.generated_at)} · 配置版本 {doc.config_version}"


def as_of_text(doc: Document, *, english: bool = False) -> str:
    return f"{'As of' if english else '数据截至'} {format_instant(doc.as_of)}"
