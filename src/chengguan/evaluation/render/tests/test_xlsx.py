"""The workbook a city office sends on: titles, formats, colours and print setup."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from chengguan.evaluation.render import to_xlsx
from chengguan.evaluation.render.document import GRADE_COLOURS, LIGHT_COLOURS

from .sample import sample_document


def _book(doc=None, **kw):
    return load_workbook(io.BytesIO(to_xlsx(doc or sample_document(), **kw)))


def _find(ws, value):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not on sheet {ws.title}")


def test_it_writes_an_overview_and_one_sheet_per_section():
    wb = _book()
    assert wb.sheetnames == ["概况", "各部门处置情况", "超期与临期案件", "近七日趋势", "高发问题"]
    overview = wb["概况"]
    assert overview["A1"].value == "富阳区数字城管每日通报"
    assert _find(overview, "按期处置率").offset(column=1).value == 0.914
    assert _find(overview, "公众举报率").offset(column=1).value == "—"
    assert _find(overview, "▲ 2.1 个百分点")


def test_it_merges_the_title_across_the_table_and_stamps_the_version():
    ws = _book()["各部门处置情况"]
    assert ws["A1"].value == "富阳区数字城管每日通报"
    assert ws["A1"].font.b
    assert "A1:G1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "2026年11月25日"
    assert ws["A3"].value == "数据截至 2026-11-25 00:00 · 配置版本 3"


def test_it_keeps_numbers_as_numbers_with_formats_and_dashes_for_null_rates():
    ws = _book()["各部门处置情况"]
    header = _find(ws, "按期处置率")
    assert header.font.b and header.fill.fgColor.rgb.endswith("DCE6F2")
    assert header.border.bottom.style == "thin"
    first = ws.cell(row=header.row + 1, column=1)
    assert first.value == 1 and first.number_format == "0"
    assert ws.cell(row=header.row + 1, column=4).value == 0.75
    assert ws.cell(row=header.row + 1, column=4).number_format == "0.0%"
    assert ws.cell(row=header.row + 1, column=6).number_format == "0.0"
    na_row = _find(ws, "常安镇第1城管中队").row  # due 0: nothing applies
    assert [ws.cell(row=na_row, column=c).value for c in (3, 4, 5, 6)] == [0, "—", "—", "—"]
    assert _find(ws, "<b>环卫</b>处 & 市政所")


def test_it_colours_grades_and_lights():
    wb = _book()
    ws = wb["各部门处置情况"]
    a = ws.cell(row=_find(ws, "富春街道第1城管中队").row, column=7)
    assert a.value == "A"
    assert a.fill.fgColor.rgb.endswith(GRADE_COLOURS["A"].lstrip("#").upper())
    e = ws.cell(row=_find(ws, "大源镇第2城管中队").row, column=7)
    assert e.value == "E" and e.fill.fgColor.rgb.endswith(GRADE_COLOURS["E"].lstrip("#").upper())
    lights = wb["超期与临期案件"]
    red = _find(lights, "红灯")
    assert red.fill.fgColor.rgb.endswith(LIGHT_COLOURS["red"].lstrip("#").upper())
    due = lights.cell(row=red.row, column=4)
    assert due.number_format == "yyyy-mm-dd hh:mm" and due.value.hour == 9


def test_it_writes_totals_in_bold_and_notes_under_the_table():
    ws = _book()["各部门处置情况"]
    total = _find(ws, "合计")
    assert total.font.b
    assert ws.cell(row=total.row, column=3).value == 1024
    assert ws.cell(row=total.row, column=3).font.b
    assert ws.cell(row=total.row + 1, column=1).value.startswith("注：核减 2 件")


def test_it_groups_the_supervision_list_under_one_frozen_header():
    ws = _book()["超期与临期案件"]
    header = _find(ws, "案件编号")
    assert ws.freeze_panes == f"A{header.row + 1}"
    assert ws.cell(row=header.row + 1, column=1).value == "城管局 (3)"
    assert ws.cell(row=header.row + 2, column=1).value == "2026112400000"


def test_it_sets_up_the_page_for_printing():
    ws = _book()["各部门处置情况"]
    header = _find(ws, "排名")
    assert ws.freeze_panes == f"A{header.row + 1}"
    assert ws.print_title_rows == f"${header.row}:${header.row}"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert "配置版本 3" in ws.oddFooter.left.text


def test_it_fits_columns_to_chinese_text_and_prints_wide_tables_landscape():
    doc = sample_document()
    ws = _book(doc)["各部门处置情况"]
    # "鹿山街道第1城管中队" is 10 CJK characters plus a digit: 21 columns wide, plus padding.
    assert ws.column_dimensions["B"].width >= 21
    assert ws.column_dimensions["A"].width < 12
    table = doc["sections"][0]["table"]
    for i in range(8):
        table["columns"].append({"key": f"extra{i}", "label": f"附加指标第{i}项", "format": "rate"})
        for row in table["rows"]:
            row[f"extra{i}"] = None
    assert _book(doc)["各部门处置情况"].page_setup.orientation == "landscape"


def test_it_keeps_sheet_names_short_and_unique():
    doc = sample_document()
    doc["sections"][2]["heading"] = "一个非常非常长的章节标题：超过三十一个字符的名称会被 Excel 拒绝所以要截断"
    doc["sections"][3]["heading"] = doc["sections"][2]["heading"]
    names = _book(doc).sheetnames
    assert all(len(n) <= 31 for n in names)
    assert len(set(names)) == len(names)
    assert ":" not in names[3]


def test_it_turns_site_links_into_hyperlinks_given_the_site_address():
    ws = _book(base_url="https://cg.example.gov.cn/")["超期与临期案件"]
    cell = _find(ws, "2026112400000")
    assert cell.hyperlink.target == "https://cg.example.gov.cn/cases/2026112400000/"
    assert _find(_book()["超期与临期案件"], "2026112400000").hyperlink is None


def test_it_writes_a_quiet_day_with_nothing_to_chase():
    doc = {
        "kind": "supervision",
        "title": "富阳区每日督查清单",
        "generated_at": "2026-11-25T07:30:00+08:00",
        "as_of": "2026-11-25T07:00:00+08:00",
        "config_version": 1,
        "sections": [
            {
                "heading": "红灯与黄灯案件",
                "table": {
                    "columns": [
                        {"key": "number", "label": "案件编号", "format": "text"},
                        {"key": "light", "label": "灯", "format": "light"},
                    ],
                    "rows": [],
                },
            },
            {"heading": "说明", "paragraphs": ["今日无超期案件。"]},
        ],
    }
    wb = _book(doc)
    assert wb.sheetnames == ["概况", "红灯与黄灯案件", "说明"]
    assert _find(wb["红灯与黄灯案件"], "案件编号")
    assert _find(wb["概况"], "今日无超期案件。")
