"""The bulletin as an A4 PDF: title, key-figure boxes, tables, charts, page numbers and a footer.

Chinese needs a CJK TrueType font embedded in the file; it is found at run time (`PDF_FONT`,
then the usual system paths) because fonts are large and their licences differ by system.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .document import (
    GRADE_COLOURS,
    KIND_NAMES,
    LIGHT_COLOURS,
    NOT_APPLICABLE,
    NUMERIC_FORMATS,
    Chart,
    Document,
    Section,
    as_of_text,
    footer_text,
    format_delta,
    format_value,
    parse_document,
)
from .document import Table as DocTable

# Checked in order after settings.PDF_FONT. OpenType/CFF fonts (most Noto CJK builds) are not
# usable by reportlab and are skipped; a .ttc takes its first face (the Simplified Chinese one).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
BRAND = colors.HexColor("#0b5cad")
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LINE = colors.HexColor("#c3ccd7")
HEADER_BG = colors.HexColor("#dce6f2")
ZEBRA = colors.HexColor("#f5f7fa")
TOTAL_BG = colors.HexColor("#e9edf2")
SERIES = [colors.HexColor(c) for c in ("#0b5cad", "#1f9d55", "#dd6b20", "#805ad5", "#d69e2e", "#319795")]
MARGIN = 15 * mm
FOOTER_Y = 9 * mm
CELL_PAD = 4  # points of padding each side of a cell
_registered: dict[tuple[str, int], str] = {}


class PdfFontMissing(RuntimeError):
    """No CJK font could be loaded; the message says which setting to use."""


def _configured_font() -> str | None:
    from django.conf import settings

    return getattr(settings, "PDF_FONT", None) if settings.configured else None


def _load(path: str) -> str:
    key = (path, 0)
    if key not in _registered:
        name = f"CGCJK{len(_registered)}"
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        _registered[key] = name
    return _registered[key]


def cjk_font() -> str:
    """The registered name of a CJK font, loading it on first use; PdfFontMissing if there is none."""
    configured = _configured_font()
    if configured:
        try:
            return _load(os.fspath(configured))
        except Exception as exc:
            raise PdfFontMissing(
                f"settings.PDF_FONT = {configured!r} could not be loaded as a TrueType font "
                f"({exc}); point it at a CJK .ttf/.ttc such as wqy-zenhei.ttc"
            ) from exc
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            try:
                return _load(path)
            except Exception:  # noqa: S112 — a CFF-outline font: try the next one
                continue
    raise PdfFontMissing(
        "no CJK font found for the PDF: set settings.PDF_FONT to a TrueType .ttf/.ttc with Chinese "
        "glyphs (e.g. apt install fonts-wqy-zenhei → /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc)"
    )


class _Styles:
    def __init__(self, font: str):
        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            # wordWrap="CJK" breaks lines between any two Chinese characters, as Chinese text wraps.
            return ParagraphStyle(
                name,
                **{
                    "fontName": font,
                    "fontSize": size,
                    "leading": size * 1.35,
                    "textColor": INK,
                    "wordWrap": "CJK",
                    **kw,
                },
            )

        self.font = font
        self.kind = style("kind", 10, textColor=BRAND, alignment=TA_CENTER)
        self.title = style("title", 20, textColor=BRAND, alignment=TA_CENTER, spaceBefore=2, spaceAfter=4)
        self.subtitle = style("subtitle", 11, alignment=TA_CENTER)
        self.stamp = style("stamp", 8.5, textColor=MUTED, alignment=TA_CENTER, spaceAfter=8)
        self.h2 = style("h2", 13, textColor=BRAND, spaceBefore=10, spaceAfter=5, keepWithNext=True)
        self.h3 = style("h3", 10.5, spaceBefore=6, spaceAfter=3, keepWithNext=True)
        self.body = style("body", 10, firstLineIndent=20, spaceAfter=4)
        self.cell = style("cell", 8)
        self.head = style("head", 8, alignment=TA_CENTER)
        self.note = style("note", 8, textColor=MUTED, spaceBefore=2)
        self.kpi_label = style("kpi_label", 8.5, textColor=MUTED, alignment=TA_CENTER)
        self.kpi_value = style("kpi_value", 17, leading=21, alignment=TA_CENTER)
        self.kpi_delta = style("kpi_delta", 7.5, textColor=MUTED, alignment=TA_CENTER)
        self.chart_title = style(
            "chart_title", 9.5, alignment=TA_CENTER, spaceBefore=6, spaceAfter=2, keepWithNext=True
        )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    # Names come from users: escape them so "<b>" or "&" print as typed and never as markup.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def to_pdf(doc: Mapping[str, Any] | Document, *, english: bool = False) -> bytes:
    """The PDF's bytes. Raises DocumentError for a malformed document, PdfFontMissing without a font."""
    d = parse_document(doc)
    st = _Styles(cjk_font())
    out = io.BytesIO()
    title = d.pick(d.title, d.title_en, english)
    footer = footer_text(d, english=english)

    def decorate(canvas: Canvas, document: BaseDocTemplate) -> None:
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, FOOTER_Y + 10, width - MARGIN, FOOTER_Y + 10)
        canvas.setFont(st.font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER_Y, footer)
        if canvas.getPageNumber() > 1:
            canvas.drawString(MARGIN, height - 10 * mm, title)
        canvas.restoreState()

    portrait_w, portrait_h = A4
    wide_w, wide_h = landscape(A4)
    frame = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    template = BaseDocTemplate(
        out,
        pagesize=A4,
        title=title,
        author=d.city or "chengguan",
        subject=KIND_NAMES[d.kind][1 if english else 0],
        creator="chengguan",
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6,
        pageTemplates=[
            PageTemplate(
                "portrait",
                [Frame(MARGIN, MARGIN + 6, portrait_w - 2 * MARGIN, portrait_h - 2 * MARGIN - 6, **frame)],
                onPage=decorate,
                pagesize=A4,
            ),
            PageTemplate(
                "landscape",
                [Frame(MARGIN, MARGIN + 6, wide_w - 2 * MARGIN, wide_h - 2 * MARGIN - 6, **frame)],
                onPage=decorate,
                pagesize=landscape(A4),
            ),
        ],
    )
    story = _story(d, st, english, portrait_w - 2 * MARGIN, wide_w - 2 * MARGIN)
    template.build(story, canvasmaker=_numbered_canvas(st.font, english))
    return out.getvalue()


def _numbered_canvas(font: str, english: bool) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so each can say "page x of y"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any):
            # Start every page in the CJK font: text drawn before a setFont still shows Chinese.
            kwargs.setdefault("initialFontName", font)
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 — reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width = self._pagesize[0]
                self.setFont(font, 7.5)
                self.setFillColor(MUTED)
                label = (
                    f"Page {self._pageNumber} of {total}" if english else f"第 {self._pageNumber} 页 / 共 {total} 页"
                )
                self.drawRightString(width - MARGIN, FOOTER_Y, label)
                super().showPage()
            super().save()

    return NumberedCanvas


def _story(d: Document, st: _Styles, english: bool, narrow: float, wide: float) -> list[Flowable]:
    kind_zh, kind_en = KIND_NAMES[d.kind]
    story: list[Flowable] = [
        _p(" · ".join(x for x in (kind_en if english else kind_zh, d.city) if x), st.kind),
        _p(d.pick(d.title, d.title_en, english), st.title),
    ]
    if d.subtitle:
        story.append(_p(d.subtitle, st.subtitle))
    version = f"{'Configuration version' if english else '配置版本'} {d.config_version}"
    story.append(_p(f"{as_of_text(d, english=english)} · {version}", st.stamp))
    if d.summary:
        story += [_summary(d, st, english, narrow), Spacer(1, 6)]
    orientation = "portrait"
    for section in d.sections:
        wanted = "landscape" if _needs_landscape(section, st, english, narrow) else "portrait"
        if wanted != orientation:
            # A table too wide to read in portrait gets landscape pages of its own.
            story += [NextPageTemplate(wanted), PageBreak()]
            orientation = wanted
        story += _section(d, section, st, english, wide if orientation == "landscape" else narrow)
    return story


def _summary(d: Document, st: _Styles, english: bool, width: float) -> Table:
    n = len(d.summary)
    per_row = n if n <= 5 else 3 if n == 6 else 4 if n <= 8 else 5
    cells = []
    for item in d.summary:
        value = format_value(item.value, item.format, english=english)
        box: list[Flowable] = [
            _p(d.pick(item.label, item.label_en, english), st.kpi_label),
            _p(
                value,
                st.kpi_value
                if value != NOT_APPLICABLE
                else ParagraphStyle("kpi_na", parent=st.kpi_value, textColor=MUTED),
            ),
        ]
        delta = format_delta(item.delta, item.format, english=english)
        box.append(_p(f"{'vs previous' if english else '较上期'} {delta}" if delta else " ", st.kpi_delta))
        cells.append(box)
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    table = Table(rows, colWidths=[width / per_row] * per_row)
    style = [
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f3f7fc")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        # White gaps between the boxes, a brand stripe on top of each.
        ("INNERGRID", (0, 0), (-1, -1), 4, colors.white),
        ("LINEABOVE", (0, 0), (-1, -1), 2, BRAND),
    ]
    if len(cells) % per_row:
        style.append(("BACKGROUND", (len(cells) % per_row, len(rows) - 1), (-1, -1), colors.white))
        style.append(("LINEABOVE", (len(cells) % per_row, len(rows) - 1), (-1, -1), 0, colors.white))
    table.setStyle(TableStyle(style))
    return table


def _section(d: Document, section: Section, st: _Styles, english: bool, width: float) -> list[Flowable]:
    flow: list[Flowable] = [CondPageBreak(40 * mm), _p(d.pick(section.heading, section.heading_en, english), st.h2)]
    flow += [_p(text, st.body) for text in section.paragraphs]
    if section.chart is not None:
        chart: list[Flowable] = []
        unit = section.chart.unit
        caption = section.chart.title + (f"（{unit}）" if unit and unit != "%" else "")
        if caption:
            chart.append(_p(caption, st.chart_title))
        chart.append(_drawing(section.chart, st.font, min(width, 180 * mm)))
        flow.append(KeepTogether(chart))
    for heading, heading_en, table in section.tables():
        if heading:
            flow.append(_p(d.pick(heading, heading_en or heading, english), st.h3))
        flow.append(Spacer(1, 3))
        flow.append(_table(table, st, english, width))
        flow += [_p(f"{'Note: ' if english else '注：'}{n}", st.note) for n in table.notes]
    flow.append(Spacer(1, 6))
    return flow


# ---------------------------------------------------------------- tables


def _cell_texts(table: DocTable, english: bool) -> list[list[str]]:
    rows = [[format_value(r.get(c.key), c.format, english=english) for c in table.columns] for r in table.rows]
    if table.totals:
        total = [format_value(table.totals.get(c.key), c.format, english=english) for c in table.columns]
        if table.needs_total_label():
            total[0] = "Total" if english else "合计"
        rows.append(total)
    return rows


def _natural_widths(table: DocTable, st: _Styles, english: bool) -> list[float]:
    texts = _cell_texts(table, english)
    widths = []
    for i, col in enumerate(table.columns):
        header = pdfmetrics.stringWidth(col.text(english), st.font, st.head.fontSize)
        # Long headers wrap onto two lines; long text cells wrap too, numbers never do.
        header = min(header, max(header / 2, 10 * st.head.fontSize / 2))
        cell = max((pdfmetrics.stringWidth(r[i], st.font, st.cell.fontSize) for r in texts), default=0)
        widths.append(max(header, cell) + 2 * CELL_PAD)
    return widths


def _needs_landscape(section: Section, st: _Styles, english: bool, narrow: float) -> bool:
    for _, _, table in section.tables():
        natural = _natural_widths(table, st, english)
        fixed = sum(w for w, c in zip(natural, table.columns, strict=True) if c.format != "text")
        text_min = sum(min(w, 30 * mm) for w, c in zip(natural, table.columns, strict=True) if c.format == "text")
        if fixed + text_min > narrow:
            return True
    return False


def _fit(natural: list[float], table: DocTable, width: float) -> list[float]:
    """Widths filling the frame: text columns give way first (they wrap), numbers keep their room."""
    total = sum(natural)
    if total <= width:
        return [w * width / total for w in natural]
    is_text = [c.format == "text" for c in table.columns]
    fixed = sum(w for w, t in zip(natural, is_text, strict=True) if not t)
    flexible = total - fixed
    if flexible and fixed < width:
        scale = (width - fixed) / flexible
        return [w * scale if t else w for w, t in zip(natural, is_text, strict=True)]
    return [w * width / total for w in natural]


def _table(table: DocTable, st: _Styles, english: bool, width: float) -> Table:
    texts = _cell_texts(table, english)
    head = [_p(c.text(english), st.head) for c in table.columns]
    # Text wraps inside its column (a Paragraph); numbers stay one line.
    body: list[list[Any]] = [
        [_p(t, st.cell) if c.format == "text" else t for t, c in zip(row, table.columns, strict=True)] for row in texts
    ]
    widths = _fit(_natural_widths(table, st, english), table, width)
    out = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    last = len(body)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), st.font, st.cell.fontSize),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ("GRID", (0, 0), (-1, -1), 0.25, LINE),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
    ]
    for i, col in enumerate(table.columns):
        if col.format in NUMERIC_FORMATS:
            style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
        elif col.format in ("grade", "light", "datetime"):
            style.append(("ALIGN", (i, 1), (i, -1), "CENTER"))
    if table.totals:
        style += [("BACKGROUND", (0, last), (-1, last), TOTAL_BG), ("LINEABOVE", (0, last), (-1, last), 1, INK)]
    rows = list(table.rows) + ([table.totals] if table.totals else [])
    for r, row in enumerate(rows, start=1):
        for i, col in enumerate(table.columns):
            value = row.get(col.key)
            if value is None and col.format in NUMERIC_FORMATS:
                style += [("ALIGN", (i, r), (i, r), "CENTER"), ("TEXTCOLOR", (i, r), (i, r), MUTED)]
            colour = (
                GRADE_COLOURS.get(value)
                if col.format == "grade"
                else (LIGHT_COLOURS.get(value) if col.format == "light" else None)
            )
            if colour:
                style += [
                    ("BACKGROUND", (i, r), (i, r), colors.HexColor(colour)),
                    ("TEXTCOLOR", (i, r), (i, r), colors.white),
                ]
    out.setStyle(TableStyle(style))
    return out


# ---------------------------------------------------------------- charts


def _axis_label(unit: str):
    def label(value: float) -> str:
        return f"{value:g}{unit}"

    return label


def _drawing(chart: Chart, font: str, width: float) -> Drawing:
    """bar, hbar or line with Chinese category labels and a legend; null values leave gaps."""
    data = chart.plotted()
    n = len(chart.categories)
    many = len(chart.series) > 1
    legend_h = 18 if many else 0
    longest = max((pdfmetrics.stringWidth(c, font, 7.5) for c in chart.categories), default=0)
    if chart.type == "hbar":
        height = max(110, 28 + n * (10 + 6 * len(chart.series))) + legend_h
        drawing = Drawing(width, height)
        plot: Any = HorizontalBarChart()
        plot.x, plot.y = min(longest + 10, width * 0.35), 18
        plot.width, plot.height = width - plot.x - 30, height - plot.y - 8 - legend_h
        # reportlab draws the first category at the bottom; the list reads top-down.
        plot.data = [list(reversed(v)) for v in data]
        plot.categoryAxis.categoryNames = list(reversed(chart.categories))
        plot.categoryAxis.labels.boxAnchor = "e"
        plot.categoryAxis.labels.dx = -3
    else:
        rotate = n > 6 and longest > (width - 60) / max(n, 1) - 4
        bottom = 20 + (longest * 0.55 if rotate else 0)
        height = 190 + legend_h + (bottom - 20)
        drawing = Drawing(width, height)
        plot = HorizontalLineChart() if chart.type == "line" else VerticalBarChart()
        plot.x, plot.y = 40, bottom
        plot.width, plot.height = width - 55, height - bottom - 10 - legend_h
        plot.data = [list(v) for v in data]
        plot.categoryAxis.categoryNames = list(chart.categories)
        plot.categoryAxis.labels.boxAnchor = "ne" if rotate else "n"
        plot.categoryAxis.labels.angle = 30 if rotate else 0
        plot.categoryAxis.labels.dy = -2
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7.5
    plot.categoryAxis.strokeColor = LINE
    axis = plot.valueAxis
    axis.valueMin = 0
    if chart.format == "rate":
        axis.valueMax = 100
    axis.labels.fontName = font
    axis.labels.fontSize = 7
    axis.labels.fillColor = MUTED
    # Only "%" reads well after every tick; other units go in the chart's title.
    axis.labelTextFormat = _axis_label(chart.unit if chart.unit == "%" else "")
    axis.strokeColor = LINE
    axis.visibleGrid = True
    axis.gridStrokeColor = colors.HexColor("#e4e9f0")
    axis.gridStrokeDashArray = (2, 2)
    if chart.type == "line":
        # reportlab joins a line across missing points; a null must leave a gap, so each unbroken
        # run of values becomes its own line in its series' colour.
        runs = _runs(data)
        plot.data = [values for _, values in runs]
        plot.joinedLines = True
        for i, (series_index, values) in enumerate(runs):
            # A lone value is a dot with no line (reportlab cannot stroke a one-point line).
            alone = sum(v is not None for v in values) < 2
            plot.lines[i].strokeColor = None if alone else _colour(chart, series_index)
            plot.lines[i].strokeWidth = 1.6
            plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=_colour(chart, series_index))
    else:
        for i in range(len(chart.series)):
            plot.bars[i].fillColor = _colour(chart, i)
            plot.bars[i].strokeColor = None
        plot.barSpacing = 1
        plot.groupSpacing = 6
        if not many:
            plot.barLabelFormat = _axis_label(chart.unit if chart.unit == "%" else "")
            plot.barLabels.fontName = font
            plot.barLabels.fontSize = 6.5
            plot.barLabels.fillColor = INK
            if chart.type == "hbar":
                plot.barLabels.boxAnchor, plot.barLabels.dx = "w", 3
            else:
                plot.barLabels.boxAnchor, plot.barLabels.dy = "s", 2
    drawing.add(plot)
    if many:
        legend = Legend()
        legend.fontName, legend.fontSize = font, 7.5
        legend.alignment = "right"
        legend.x, legend.y = plot.x, height - 4
        legend.dx, legend.dy, legend.deltax = 8, 6, 10
        legend.columnMaximum = 1
        legend.boxAnchor = "nw"
        legend.colorNamePairs = [(_colour(chart, i), s.name) for i, s in enumerate(chart.series)]
        drawing.add(legend)
    if not any(v is not None for series in data for v in series):
        drawing.add(
            String(
                width / 2, height / 2, NOT_APPLICABLE, fontName=font, fontSize=12, fillColor=MUTED, textAnchor="middle"
            )
        )
    return drawing


def _runs(data: list[list[float | None]]) -> list[tuple[int, list[float | None]]]:
    """Each series split at its nulls: (series index, values with None outside the run)."""
    runs = []
    for index, values in enumerate(data):
        start = None
        for j, v in enumerate([*values, None]):
            if v is not None and start is None:
                start = j
            elif v is None and start is not None:
                runs.append((index, [x if start <= k < j else None for k, x in enumerate(values)]))
                start = None
    return runs or [(0, [None] * len(data[0]))]


def _colour(chart, index: int):
    """The series' own colour when the document names one, else the palette's."""
    named = chart.series[index].color
    return colors.HexColor(named) if named else SERIES[index % len(SERIES)]
