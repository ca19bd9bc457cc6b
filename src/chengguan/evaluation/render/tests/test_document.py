"""The document's shape is checked up front, with errors that name the offending path."""

from __future__ import annotations

import copy

import pytest

from chengguan.evaluation.render.document import (
    DocumentError,
    display_width,
    format_delta,
    format_value,
    parse_document,
)

from .sample import sample_document


def _broken(change) -> dict:
    doc = copy.deepcopy(sample_document())
    change(doc)
    return doc


def test_it_parses_the_sample():
    doc = parse_document(sample_document())
    assert doc.kind == "daily"
    assert doc.config_version == 3
    assert len(doc.sections[0].table.rows) == 40
    assert [g.heading for g in doc.sections[1].groups] == ["城管局 (3)", "住建局 (3)", "交通局 (3)"]
    assert doc.sections[0].chart.plotted()[0][:3] == [95.0, 91.0, None]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("title"), ".title"),
        (lambda d: d.update(kind="yearly"), ".kind"),
        (lambda d: d.update(config_version="3"), ".config_version"),
        (lambda d: d.update(as_of="yesterday"), ".as_of"),
        (lambda d: d["summary"][3].update(value=91.4), ".summary[3].value"),
        (lambda d: d["sections"][0]["table"]["rows"][5].update(done_rate=1.5), ".sections[0].table.rows[5].done_rate"),
        (lambda d: d["sections"][0]["table"]["rows"][5].pop("due"), ".sections[0].table.rows[5].due"),
        (lambda d: d["sections"][0]["table"]["rows"][5].update(grade="F"), ".sections[0].table.rows[5].grade"),
        (
            lambda d: d["sections"][0]["table"]["rows"][0].update(_link="javascript:alert(1)"),
            ".sections[0].table.rows[0]._link",
        ),
        (
            lambda d: d["sections"][0]["table"]["columns"][2].update(format="money"),
            ".sections[0].table.columns[2].format",
        ),
        (lambda d: d["sections"][0]["table"]["totals"].update(nope=1), ".sections[0].table.totals.nope"),
        (lambda d: d["sections"][0]["chart"]["series"][0]["values"].pop(), ".sections[0].chart.series[0].values"),
        (
            lambda d: d["sections"][1]["groups"][0]["table"]["rows"][0].update(light="blue"),
            ".sections[1].groups[0].table.rows[0].light",
        ),
    ],
)
def test_it_names_the_path_of_a_bad_value(change, path):
    with pytest.raises(DocumentError) as caught:
        parse_document(_broken(change))
    assert caught.value.path == path
    assert path in str(caught.value)


def test_it_shows_a_rate_that_does_not_apply_as_a_dash_never_zero():
    assert format_value(None, "rate") == "—"
    assert format_value(None, "int") == "—"
    assert format_value(0.0, "rate") == "0.0%"
    assert format_value(1.0, "rate") == "100.0%"
    assert format_value(0.9137, "rate") == "91.4%"
    assert format_value(88.46, "score") == "88.5"
    assert format_value("red", "light") == "红灯"
    assert format_value("red", "light", english=True) == "red"
    assert format_value("2026-11-24T09:30:00+08:00", "datetime") == "2026-11-24 09:30"


def test_it_writes_rate_changes_in_percentage_points():
    assert format_delta(0.021, "rate") == "▲ 2.1 个百分点"
    assert format_delta(-0.05, "int") == "▼ 5.0%"
    assert format_delta(None, "int") == ""


def test_it_counts_chinese_characters_double_wide():
    assert display_width("abc") == 3
    assert display_width("按期处置率") == 10
    assert display_width("城管局 (5)") == 10


def test_a_series_may_name_its_colour_and_a_bad_one_is_refused():
    import copy

    from chengguan.evaluation.render.document import DocumentError, parse_document
    from chengguan.evaluation.render.tests.sample import sample_document

    doc = sample_document()
    chart = next(s["chart"] for s in doc["sections"] if s.get("chart"))
    chart["series"][0]["color"] = "#d64545"
    parsed = parse_document(doc)
    assert next(s.chart for s in parsed.sections if s.chart).series[0].color == "#d64545"
    bad = copy.deepcopy(doc)
    next(s["chart"] for s in bad["sections"] if s.get("chart"))["series"][0]["color"] = "red; x"
    with pytest.raises(DocumentError):
        parse_document(bad)
