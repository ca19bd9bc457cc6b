"""The bulletin as an Excel workbook: an overview sheet, then one printable sheet per section."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .document import (
    NOT_APPLICABLE,
    Column,
    Document,
    Section,
    Table,
    as_of_text,
    display_width,
    footer_text,
    format_delta,
    format_value,
    parse_document,
    tone,
)

NUMBER_FORMATS = {"int": "0", "rate": "0.0%", "score": "0.0", "datetime": "yyyy-mm-dd hh:mm"}
BRAND = "0B5CAD"
THIN = Side(style="thin", color="A0AEC0")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TOTAL_BORDER = Border(left=THIN, right=THIN, top=Side(style="double", color="1F2933"), bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
GROUP_FILL = PatternFill("solid", fgColor="EEF2F7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F4F7")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
MAX_WIDTH = 48  # characters; longer text wraps rather than making a sheet too wide to print
LANDSCAPE_FROM = 100  # total column width beyond which a sheet prints landscape
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def to_xlsx(doc: Mapping[str, Any] | Document, *, english: bool = False, base_url: str = "") -> bytes:
    """The workbook's bytes. Raises DocumentError when the document has the wrong shape.

    `base_url` (e.g. "https://cg.example.gov.cn") turns the rows' site links into hyperlinks;
    without it only links that are already absolute become clickable.
    """
    d = parse_document(doc)
    wb = Workbook()
    overview = wb.active
    names: set[str] = set()
    overview.title = _sheet_name("概况" if not english else "Overview", names)
    _overview(overview, d, english)
    for i, section in enumerate(d.sections, start=1):
        ws = wb.create_sheet(_sheet_name(d.pick(section.heading, section.heading_en, english) or f"{i}", names))
        _section_sheet(ws, d, section, english, base_url.rstrip("/"))
    wb.properties.title = d.pick(d.title, d.title_en, english)
    wb.properties.creator = "chengguan"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(wanted: str, taken: set[str]) -> str:
    # Excel refuses names over 31 characters, with []:*?/\ or equal ignoring case.
    base = BAD_SHEET_CHARS.sub("_", wanted).strip("'") or "Sheet"
    name, n = base[:31], 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _title_block(ws: Worksheet, d: Document, width: int, english: bool, heading: str | None) -> int:
    """Title, subtitle and stamp rows merged across the sheet; returns the next free row."""
    title = d.pick(d.title, d.title_en, english)
    lines: list[tuple[str, Font, float, str]] = [(title, Font(size=16, bold=True, color=BRAND), 28, "center")]
    sub = " · ".join(x for x in (d.city if d.city not in title else "", d.subtitle) if x)
    if sub:
        lines.append((sub, Font(size=11), 18, "center"))
    version = "Configuration version" if english else "配置版本"
    stamp = f"{as_of_text(d, english=english)} · {version} {d.config_version}"
    lines.append((stamp, Font(size=9, color="616E7C"), 16, "center"))
    if heading:
        lines.append((heading, Font(size=13, bold=True), 22, "left"))
    for row, (text, font, height, align) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.font, cell.alignment = font, Alignment(horizontal=align, vertical="center")
        if width > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.row_dimensions[row].height = height
    return len(lines) + 2


def _paragraphs(ws: Worksheet, row: int, texts: tuple[str, ...], width: int, col_width: float) -> int:
    for text in texts:
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if width > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        # Merged cells do not grow to fit wrapped text: size the row from the text's length.
        lines = max(1, -(-display_width(text) // max(int(col_width), 20)) + text.count("\n"))
        ws.row_dimensions[row].height = 15 * lines + 3
        row += 1
    return row


def _overview(ws: Worksheet, d: Document, english: bool) -> None:
    width = 4
    row = _title_block(ws, d, width, english, None)
    widths = [24.0, 14.0, 20.0, 30.0]
    if d.summary:
        for col, label in enumerate(
            ("指标", "数值", "较上期") if not english else ("Indicator", "Value", "Change"), start=1
        ):
            _header_cell(ws.cell(row=row, column=col, value=label))
        row += 1
        for item in d.summary:
            ws.cell(row=row, column=1, value=d.pick(item.label, item.label_en, english)).border = BOX
            _value_cell(ws.cell(row=row, column=2), item.value, item.format)
            delta = ws.cell(row=row, column=3, value=format_delta(item.delta, item.format, english=english))
            delta.border, delta.alignment = BOX, RIGHT
            row += 1
        row += 1
    for section in d.sections:
        if not section.paragraphs:
            continue
        ws.cell(row=row, column=1, value=d.pick(section.heading, section.heading_en, english)).font = Font(bold=True)
        row = _paragraphs(ws, row + 1, section.paragraphs, width, sum(widths))
        row += 1
    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
    footer = footer_text(d, english=english)
    ws.cell(row=row, column=1, value=footer).font = Font(size=9, color="616E7C")
    _print_setup(ws, landscape=False, header_row=None, footer=footer)


def _section_sheet(ws: Worksheet, d: Document, section: Section, english: bool, base_url: str) -> None:
    tables = section.tables()
    columns = _shared_columns(tables)
    chart_width = len(section.chart.series) + 1 if section.chart is not None else 1
    width = max([len(t.columns) for _, _, t in tables] + [chart_width])
    widths = _widths(tables, english)
    row = _title_block(ws, d, width, english, d.pick(section.heading, section.heading_en, english))
    row = _paragraphs(ws, row, section.paragraphs, width, sum(widths[:width]) or 40)
    if section.paragraphs:
        row += 1
    header_row = None
    if columns is not None:
        # The groups share their columns: one header, frozen and repeated on every printed page.
        header_row = row
        row = _header(ws, row, columns, english)
        for heading, heading_en, table in tables:
            if heading:
                cell = ws.cell(row=row, column=1, value=d.pick(heading, heading_en or heading, english))
                cell.font, cell.fill = Font(bold=True, color=BRAND), GROUP_FILL
                for col in range(1, width + 1):
                    ws.cell(row=row, column=col).fill = GROUP_FILL
                    ws.cell(row=row, column=col).border = BOX
                if width > 1:
                    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
                row += 1
            row = _body(ws, row, table, english, width, sum(widths), base_url)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    else:
        for heading, heading_en, table in tables:
            if heading:
                ws.cell(row=row, column=1, value=d.pick(heading, heading_en or heading, english)).font = Font(
                    bold=True, size=12, color=BRAND
                )
                row += 1
            row = _header(ws, row, table.columns, english)
            row = _body(ws, row, table, english, width, sum(widths), base_url) + 1
    if section.chart is not None:
        row = _chart_data(ws, row + 1, d, section, english)
    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
    footer = footer_text(d, english=english)
    ws.cell(row=row + 1, column=1, value=footer).font = Font(size=9, color="616E7C")
    _print_setup(ws, landscape=sum(widths) > LANDSCAPE_FROM, header_row=header_row, footer=footer)


def _shared_columns(tables: list[tuple[str | None, str | None, Table]]) -> tuple[Column, ...] | None:
    if not tables:
        return None
    first = tables[0][2].columns
    return first if all(t.columns == first for _, _, t in tables) else None


def _widths(tables: list[tuple[str | None, str | None, Table]], english: bool) -> list[float]:
    """Column widths from the widest header or cell, CJK counted double, within sane bounds."""
    widths: list[int] = []
    for _, _, table in tables:
        for i, col in enumerate(table.columns):
            texts = [col.text(english)] + [
                format_value(r.get(col.key), col.format, english=english) for r in table.rows
            ]
            if table.totals:
                texts.append(format_value(table.totals.get(col.key), col.format, english=english))
            w = max(display_width(t) for t in texts)
            if i >= len(widths):
                widths.append(w)
            else:
                widths[i] = max(widths[i], w)
    return [float(min(max(w + 3, 8), MAX_WIDTH)) for w in widths]


def _header_cell(cell) -> None:
    cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEADER_FILL, BOX, CENTER


def _header(ws: Worksheet, row: int, columns: tuple[Column, ...], english: bool) -> int:
    for col, column in enumerate(columns, start=1):
        _header_cell(ws.cell(row=row, column=col, value=column.text(english)))
    ws.row_dimensions[row].height = 30
    return row + 1


def _value_cell(cell, value: Any, fmt: str, *, english: bool = False) -> None:
    cell.border = BOX
    if value is None and fmt in NUMBER_FORMATS and fmt != "datetime":
        cell.value, cell.alignment = NOT_APPLICABLE, Alignment(horizontal="center")
        return
    if fmt in ("int", "rate", "score"):
        cell.value, cell.number_format, cell.alignment = value, NUMBER_FORMATS[fmt], RIGHT
    elif fmt == "datetime" and value:
        # Excel has no time zones: keep the wall-clock time the document was written in.
        cell.value = datetime.fromisoformat(value).replace(tzinfo=None)
        cell.number_format, cell.alignment = NUMBER_FORMATS["datetime"], Alignment(horizontal="center")
    elif fmt in ("grade", "light"):
        cell.value = format_value(value, fmt, english=english) or None
        cell.alignment = Alignment(horizontal="center")
        colour = tone(value, fmt)
        if colour:
            cell.fill = PatternFill("solid", fgColor=colour.lstrip("#").upper())
            cell.font = Font(bold=True, color="FFFFFF")
    else:
        cell.value = value
        cell.alignment = LEFT


def _body(ws: Worksheet, row: int, table: Table, english: bool, width: int, total_width: float, base_url: str) -> int:
    for r in table.rows:
        for col, column in enumerate(table.columns, start=1):
            cell = ws.cell(row=row, column=col)
            _value_cell(cell, r.get(column.key), column.format, english=english)
            link = r.get("_link")
            if isinstance(link, str) and link.startswith("/") and base_url:
                link = base_url + link
            # A site path means nothing outside the site: only absolute links become hyperlinks.
            if column.key == table.link_column and isinstance(link, str) and link.startswith("http"):
                cell.hyperlink = link
                cell.font = Font(color=BRAND, underline="single")
        row += 1
    if table.totals:
        for col, column in enumerate(table.columns, start=1):
            cell = ws.cell(row=row, column=col)
            value = table.totals.get(column.key)
            if col == 1 and value is None and table.needs_total_label():
                cell.value, cell.border = ("Total" if english else "合计"), BOX
            else:
                _value_cell(cell, value, column.format, english=english)
            cell.font, cell.border = Font(bold=True, color=cell.font.color), TOTAL_BORDER
            if column.format not in ("grade", "light") or value is None:
                cell.fill = TOTAL_FILL
        row += 1
    if table.notes:
        start = row
        row = _paragraphs(
            ws, row, tuple(f"注：{n}" if not english else f"Note: {n}" for n in table.notes), width, total_width
        )
        for r in range(start, row):
            ws.cell(row=r, column=1).font = Font(size=9, italic=True, color="616E7C")
    return row


def _chart_data(ws: Worksheet, row: int, d: Document, section: Section, english: bool) -> int:
    """The figures behind the section's chart, as a small table (the chart itself is on the page and PDF)."""
    chart = section.chart
    assert chart is not None
    title = chart.title or d.pick(section.heading, section.heading_en, english)
    unit = f"（{chart.unit}）" if chart.unit else ""
    ws.cell(row=row, column=1, value=f"{'Chart data' if english else '图表数据'}：{title}{unit}").font = Font(bold=True)
    row += 1
    _header_cell(ws.cell(row=row, column=1, value=""))
    for col, series in enumerate(chart.series, start=2):
        _header_cell(ws.cell(row=row, column=col, value=series.name))
    row += 1
    fmt = "rate" if chart.format == "rate" else "score" if chart.format == "score" else "int"
    for i, category in enumerate(chart.categories):
        ws.cell(row=row, column=1, value=category).border = BOX
        for col, series in enumerate(chart.series, start=2):
            value = series.values[i]
            cell = ws.cell(row=row, column=col)
            if fmt == "int" and value is not None and value != int(value):
                _value_cell(cell, value, "score")
            else:
                _value_cell(cell, int(value) if fmt == "int" and value is not None else value, fmt)
        row += 1
    return row


def _print_setup(ws: Worksheet, *, landscape: bool, header_row: int | None, footer: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.left.text = footer.replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "第 &P 页 / 共 &N 页"
    ws.oddFooter.right.size = 8
