"""The bulletin as a page: the document laid out as cells the template can print without logic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .document import (
    KIND_NAMES,
    NUMERIC_FORMATS,
    Document,
    Table,
    as_of_text,
    footer_text,
    format_delta,
    format_value,
    parse_document,
)

TEMPLATE = "evaluation/bulletin.html"
DOWNLOADS = {"xlsx": ("下载 Excel", "Download Excel"), "pdf": ("下载 PDF", "Download PDF")}


def _english(request: HttpRequest | None) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def _cell(value: Any, fmt: str, *, english: bool, link: str | None = None) -> dict[str, Any]:
    classes = []
    if fmt in NUMERIC_FORMATS:
        classes.append("num")
    if value is None and fmt in NUMERIC_FORMATS:
        classes.append("na")
    if fmt == "grade" and value:
        classes.append(f"grade grade-{value}")
    if fmt == "light" and value:
        classes.append(f"light-cell light-cell-{value}")
    return {
        "text": format_value(value, fmt, english=english),
        "cls": " ".join(classes),
        "link": link,
        "na": value is None and fmt in NUMERIC_FORMATS,
    }


def _table(table: Table, heading: str | None, english: bool, total_label: str) -> dict[str, Any]:
    linked = table.link_column
    rows = [
        [
            _cell(r.get(c.key), c.format, english=english, link=r.get("_link") if c.key == linked else None)
            for c in table.columns
        ]
        for r in table.rows
    ]
    totals = None
    if table.totals:
        totals = [_cell(table.totals.get(c.key), c.format, english=english) for c in table.columns]
        if table.needs_total_label():
            totals[0]["text"] = total_label
    return {
        "heading": heading,
        "columns": [{"label": c.text(english), "num": c.numeric, "format": c.format} for c in table.columns],
        "rows": rows,
        "totals": totals,
        "notes": table.notes,
    }


def page_context(
    doc: Mapping[str, Any] | Document, *, english: bool = False, downloads: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What the template needs: every text already in the reader's language and formatted."""
    d = parse_document(doc)
    sections, charts = [], {}
    for i, s in enumerate(d.sections, start=1):
        chart = None
        if s.chart is not None:
            chart_id = f"bulletin-chart-{i}"
            chart = {"id": chart_id, "title": s.chart.title}
            # The figures go to the page as JSON (json_script escapes them); bulletin.js draws them.
            charts[chart_id] = {
                "type": s.chart.type,
                "title": s.chart.title,
                "unit": s.chart.unit,
                "categories": list(s.chart.categories),
                "series": [
                    {"name": se.name, "values": vals, "color": se.color or None}
                    for se, vals in zip(s.chart.series, s.chart.plotted(), strict=True)
                ],
            }
        sections.append(
            {
                "anchor": f"section-{i}",
                "heading": d.pick(s.heading, s.heading_en, english),
                "paragraphs": s.paragraphs,
                "chart": chart,
                "tables": [
                    _table(t, d.pick(h, he or h, english) if h else None, english, "Total" if english else "合计")
                    for h, he, t in s.tables()
                ],
            }
        )
    summary = [
        {
            "label": d.pick(item.label, item.label_en, english),
            "text": format_value(item.value, item.format, english=english),
            "na": item.value is None and item.format in NUMERIC_FORMATS,
            "delta": format_delta(item.delta, item.format, english=english),
            "trend": "" if item.delta is None else "up" if item.delta > 0 else "down" if item.delta < 0 else "flat",
        }
        for item in d.summary
    ]
    kind_zh, kind_en = KIND_NAMES[d.kind]
    return {
        "doc": d,
        "title": d.pick(d.title, d.title_en, english),
        "kind_name": kind_en if english else kind_zh,
        "subtitle": d.subtitle,
        "city": d.city,
        "as_of": as_of_text(d, english=english),
        "footer": footer_text(d, english=english),
        "summary": summary,
        "sections": sections,
        "charts": charts,
        "chart_labels": {"na": "—"},
        "downloads": [
            {"kind": k, "href": href, "label": DOWNLOADS.get(k, (k.upper(), k.upper()))[1 if english else 0]}
            for k, href in (downloads or {}).items()
        ],
    }


def render_html(
    doc: Mapping[str, Any] | Document, *, request: HttpRequest | None = None, downloads: Mapping[str, str] | None = None
) -> str:
    """The page as text (in the request's language when there is a request)."""
    context = page_context(doc, english=_english(request), downloads=downloads)
    return render_to_string(TEMPLATE, context, request=request)


def render_page(request: HttpRequest, doc: Mapping[str, Any] | Document, *, downloads: dict[str, str]) -> HttpResponse:
    """The bulletin page for a view to return; `downloads` maps "xlsx"/"pdf" to their links."""
    return HttpResponse(render_html(doc, request=request, downloads=downloads))
