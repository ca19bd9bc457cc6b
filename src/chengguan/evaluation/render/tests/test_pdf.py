"""The PDF: rasterised with poppler to check pages and ink, read back to check the Chinese text layer.

These tests fail, not skip, without poppler-utils or a CJK font: a PDF of empty boxes must not pass.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from chengguan.evaluation.render import PdfFontMissing, to_pdf
from chengguan.evaluation.render.pdf import cjk_font

from .sample import sample_document

SCREENSHOTS = Path(__file__).resolve().parents[5] / "docs" / "screenshots"


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    assert path, f"{name} is required for the PDF tests: apt install poppler-utils"
    return path


def _pages(pdf: bytes, tmp_path: Path, dpi: int = 60) -> list[Image.Image]:
    source = tmp_path / "bulletin.pdf"
    source.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-r", str(dpi), "-png", str(source), str(tmp_path / "page")], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob("page-*.png"))]


def _text(pdf: bytes, tmp_path: Path, *pages: int) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    extra = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    done = subprocess.run([_tool("pdftotext"), *extra, str(source), "-"], check=True, capture_output=True)
    return done.stdout.decode()


def _dark(image: Image.Image, box: tuple[int, int, int, int], below: int = 110) -> int:
    return sum(image.crop(box).histogram()[:below])


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return to_pdf(sample_document())


def test_it_finds_a_cjk_font():
    assert cjk_font()


def test_it_breaks_forty_rows_over_pages_with_ink_in_the_title(pdf, tmp_path):
    pages = _pages(pdf, tmp_path)
    assert len(pages) >= 2
    first = pages[0]
    width, height = first.size
    assert height > width  # A4 portrait
    assert abs(width / height - 210 / 297) < 0.01
    # The title is set large in the top band: plenty of dark pixels there, not an empty page.
    assert _dark(first, (int(width * 0.2), int(height * 0.04), int(width * 0.8), int(height * 0.12))) > 300
    assert _dark(pages[-1], (0, int(height * 0.93), width, height), below=200) > 20  # footer and page number


def test_it_saves_the_first_page_for_the_docs(pdf, tmp_path):
    # Sharper than the 60 dpi checks: this picture is read by people.
    source = tmp_path / "bulletin.pdf"
    source.write_bytes(pdf)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            _tool("pdftoppm"),
            "-r",
            "100",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(source),
            str(SCREENSHOTS / "bulletin-pdf-page1"),
        ],
        check=True,
    )
    shot = Image.open(SCREENSHOTS / "bulletin-pdf-page1.png")
    assert shot.size[1] > 1000


def test_it_puts_the_chinese_text_in_the_text_layer(pdf, tmp_path):
    text = _text(pdf, tmp_path)
    for wanted in (
        "数字城管每日通报",
        "按期处置率",
        "各部门处置情况",
        "富春街道第1城管中队",
        "核减 2 件",
        "生成于 2026-11-25 07:30 · 配置版本 3",
        "红灯",
        "—",
    ):
        assert wanted in text, wanted
    pages = len(_pages(pdf, tmp_path))
    assert f"第1页/共{pages}页" in text.replace(" ", "")  # pdftotext drops the spaces between CJK
    assert "<b>环卫</b>处 & 市政所" in text  # printed as typed, not as markup


def test_it_repeats_the_header_on_the_next_page(pdf, tmp_path):
    second = _text(pdf, tmp_path, 2)
    assert "排名" in second and "按期处置率" in second
    assert "大源镇第2城管中队" in second


def test_it_embeds_the_font(pdf, tmp_path):
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    listing = subprocess.run([_tool("pdffonts"), str(source)], check=True, capture_output=True).stdout.decode()
    # reportlab always lists Helvetica (one of the PDF standard fonts, never used here); every other is ours.
    font_lines = [line for line in listing.splitlines()[2:] if not line.startswith("Helvetica ")]
    assert font_lines and all(" yes " in line for line in font_lines)


def test_it_turns_pages_landscape_for_a_wide_table(tmp_path):
    doc = sample_document()
    table = doc["sections"][0]["table"]
    for i in range(9):
        table["columns"].append({"key": f"extra{i}", "label": f"附加指标第{i}项", "format": "rate"})
        for row in table["rows"]:
            row[f"extra{i}"] = 0.5
    pages = _pages(to_pdf(doc), tmp_path)
    assert pages[0].size[1] > pages[0].size[0]
    assert any(p.size[0] > p.size[1] for p in pages)


def test_it_draws_charts_of_every_kind_even_with_only_nulls(tmp_path):
    doc = sample_document()
    for kind in ("bar", "line", "hbar"):
        doc["sections"].append(
            {
                "heading": f"空图 {kind}",
                "chart": {
                    "type": kind,
                    "title": "无数据",
                    "categories": ["甲", "乙"],
                    "series": [{"name": "率", "values": [None, None]}],
                    "format": "rate",
                },
            }
        )
    assert "空图 hbar" in _text(to_pdf(doc), tmp_path)


def test_it_names_the_setting_when_the_font_is_missing(settings):
    settings.PDF_FONT = "/nonexistent/cjk.ttc"
    with pytest.raises(PdfFontMissing, match="PDF_FONT"):
        to_pdf(sample_document())


def test_it_writes_english_when_asked(tmp_path):
    text = _text(to_pdf(sample_document(), english=True), tmp_path)
    assert "Fuyang digital city management daily bulletin" in text
    assert "Page 1 of" in text and "configuration version 3" in text


def test_it_renders_a_quiet_day_with_nothing_to_chase(tmp_path):
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
    text = _text(to_pdf(doc), tmp_path)
    assert "每日督查清单" in text and "今日无超期案件" in text
