"""`import_geo` and `export_geo` management commands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chengguan.geo.models import City, Grid, Region
from chengguan.geo.tests.conftest import block_collection, feature, square
from chengguan.geo.tests.test_import import FUYANG


@pytest.fixture
def block_file(tmp_path):
    path = tmp_path / "block.geojson"
    path.write_text(json.dumps(block_collection(), ensure_ascii=False), encoding="utf-8")
    return path


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_file_into_an_existing_city(city, block_file):
    out, _ = run("import_geo", str(block_file), "--city", "330100")
    assert "单元网格 新增 4" in out
    assert Grid.objects.filter(city=city).count() == 4


def test_it_creates_the_city_when_asked(db, block_file):
    out, _ = run(
        "import_geo", str(block_file), "--city", "330100", "--city-name", "杭州市", "--timezone", "Asia/Shanghai"
    )
    city = City.objects.get(code="330100")
    assert city.name == "杭州市"
    assert city.calendar is not None
    assert "已创建城市" in out
    assert Region.objects.filter(city=city).count() == 4


def test_it_stops_when_the_city_is_missing(db, block_file):
    with pytest.raises(CommandError, match="--city-name"):
        run("import_geo", str(block_file), "--city", "330100")
    with pytest.raises(CommandError, match="Mars/Base"):
        run("import_geo", str(block_file), "--city", "330100", "--city-name", "x", "--timezone", "Mars/Base")
    assert not City.objects.exists()


def test_it_fails_naming_each_bad_feature_and_imports_nothing(city, tmp_path):
    collection = block_collection()
    collection["features"].append(feature("grid", "330111001001003", square(119.9505, 30.0505), parent="330111001001"))
    collection["features"].append(feature("grid", "330111001003001", square(119.96, 30.05), parent="330111001003"))
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run("import_geo", str(path), "--city", "330100")
    message = str(caught.value)
    assert "第 9 个要素（代码 330111001001003）" in message
    assert "重叠" in message
    assert "第 10 个要素（代码 330111001003001）" in message
    assert "330111001003" in message
    assert Grid.objects.count() == 0
    assert Region.objects.count() == 0


def test_it_fails_on_a_file_that_is_not_json(city, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="JSON"):
        run("import_geo", str(path), "--city", "330100")
    with pytest.raises(CommandError, match="no such file"):
        run("import_geo", str(tmp_path / "missing.geojson"), "--city", "330100")


def test_it_imports_the_real_fuyang_file_in_gcj02(city):
    out, _ = run("import_geo", str(FUYANG), "--city", "330100", "--crs", "gcj02")
    assert "区县 新增 1" in out
    assert Region.objects.get(code="330111").area_m2 / 1e6 == pytest.approx(1821, rel=0.02)


def test_it_exports_to_a_file_and_to_stdout(block, tmp_path):
    path = tmp_path / "out.geojson"
    _, err = run("export_geo", "--city", "330100", "-o", str(path))
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert [f["properties"]["code"] for f in exported["features"]] == sorted(
        Grid.objects.values_list("code", flat=True)
    )
    assert "4" in err
    out, _ = run("export_geo", "--city", "330100", "--level", "community")
    assert [f["properties"]["name"] for f in json.loads(out)["features"]] == ["北社区", "南社区"]
    out, _ = run("export_geo", "--city", "330100", "--level", "all", "--crs", "gcj02")
    assert len(json.loads(out)["features"]) == 8


def test_it_round_trips_through_export_and_import(block, tmp_path):
    path = tmp_path / "all.geojson"
    run("export_geo", "--city", "330100", "--level", "all", "--crs", "gcj02", "-o", str(path))
    out, _ = run("import_geo", str(path), "--city", "330100", "--crs", "gcj02")
    assert "单元网格 新增 0、更新 4" in out
    assert Grid.objects.count() == 4


def test_it_refuses_export_for_an_unknown_city(db):
    with pytest.raises(CommandError, match="nowhere"):
        run("export_geo", "--city", "nowhere")
