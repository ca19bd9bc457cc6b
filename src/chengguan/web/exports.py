"""Lists to xlsx: a workbook a city office can forward as it is (header style, widths, frozen header)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MAX_ROWS = 100_000  # an export is a document, not a database dump


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """A download of `rows` under `headers`, with `title` and the export time above the table."""
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"导出时间 exported {timezone.localtime():%Y-%m-%d %H:%M}"])
    sheet.append(list(headers))
    header_row = 3
    for col in range(1, len(headers) + 1):
        cell = sheet.cell(row=header_row, column=col)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="0B5CAD")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    widths = [max(8, len(str(h)) * 2) for h in headers]
    for count, row in enumerate(rows):
        if count >= MAX_ROWS:
            break
        values = [timezone.localtime(v).replace(tzinfo=None) if isinstance(v, datetime) and timezone.is_aware(v)
                  else v for v in row]
        sheet.append(values)
        for i, value in enumerate(values):
            widths[i] = min(60, max(widths[i], len(str(value)) * 2 if value is not None else 0))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width / 1.6 + 2
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{sheet.max_row}"
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
