import re

import pytest

from chengguan.catalog.models import MajorClass, SmallClass, TimeLimit
from chengguan.catalog.services import MINUTES_PER_WORKING_DAY, load_catalog, pinyin_initials

pytestmark = pytest.mark.django_db


def test_it_loads_the_standard_classes(catalog):
    assert MajorClass.objects.filter(kind="component").count() == 6
    assert MajorClass.objects.filter(kind="event").count() == 5
    assert SmallClass.objects.filter(kind="component").count() == 85
    assert SmallClass.objects.filter(kind="event").count() == 55
    for code, kind, major in SmallClass.objects.values_list("code", "kind", "major__code"):
        assert re.fullmatch(r"[EC]\d{4}", code)
        assert code[0] == {"event": "E", "component": "C"}[kind]
        assert code[1:3] == major


def test_it_keeps_names_in_both_languages(catalog):
    garbage = SmallClass.objects.get(code="E0102")
    assert (garbage.name, garbage.name_en) == ("暴露垃圾", "exposed garbage")
    assert garbage.major.name == "市容环境"
    assert garbage.major.name_en == "city appearance and sanitation"
    assert not SmallClass.objects.filter(name_en="").exists()


def test_it_computes_pinyin_initials_for_the_picker(catalog):
    assert SmallClass.objects.get(code="E0102").pinyin_initials == "bllj"
    assert SmallClass.objects.get(code="C0101").pinyin_initials == "ssjg"
    assert pinyin_initials("输油(气)井盖") == "syqjg"


def test_it_loads_the_real_examples_with_their_conditions(catalog):
    rows = TimeLimit.objects.filter(small_class__code="E0101", urgency="normal").exclude(filing_condition="")
    found = {r.filing_condition_en: (r.minutes, r.working_time) for r in rows}
    assert found == {
        "illegally built structures": (15 * MINUTES_PER_WORKING_DAY, True),
        "built without planning permit (stop work)": (4 * 60, True),
        "built without planning permit (penalty)": (7 * MINUTES_PER_WORKING_DAY, True),
        "built without planning permit (demolition)": (20 * MINUTES_PER_WORKING_DAY, True),
    }
    demolition = rows.get(filing_condition_en="built without planning permit (demolition)")
    assert demolition.filing_condition == "未取得规划许可擅自建设（拆除）"
    assert demolition.closing_condition == "已拆除"
    assert "district filing and closing standard" in demolition.source


def test_it_fills_the_class_conditions_from_the_first_example(catalog):
    garbage = SmallClass.objects.get(code="E0102")
    assert garbage.filing_condition == "垃圾成堆、成片"
    assert garbage.filing_condition_en == "piles or patches of garbage"
    assert garbage.closing_condition_en == "removed"


def test_every_class_has_a_general_and_an_urgent_limit(catalog):
    for small in SmallClass.objects.prefetch_related("time_limits"):
        general = [t for t in small.time_limits.all() if t.filing_condition == "" and t.area_class == ""]
        by_urgency = {t.urgency: t for t in general}
        assert set(by_urgency) == {"normal", "urgent"}, small.code
        assert by_urgency["urgent"].minutes <= by_urgency["normal"].minutes, small.code


def test_the_defaults_are_one_working_day_for_events_and_three_for_components(catalog):
    vendor = TimeLimit.objects.get(small_class__code="E0501", urgency="normal", filing_condition="")
    cover = TimeLimit.objects.get(small_class__code="C0101", urgency="normal", filing_condition="")
    assert (vendor.minutes, vendor.working_time) == (MINUTES_PER_WORKING_DAY, True)
    assert (cover.minutes, cover.working_time) == (3 * MINUTES_PER_WORKING_DAY, True)
    assert "default" in vendor.source


def test_loading_again_changes_nothing(catalog):
    before = (MajorClass.objects.count(), SmallClass.objects.count(), TimeLimit.objects.count())
    report = load_catalog()
    assert sum(report.created.values()) == 0
    assert sum(report.updated.values()) == 0
    assert (MajorClass.objects.count(), SmallClass.objects.count(), TimeLimit.objects.count()) == before


def test_it_keeps_an_administrators_edits_unless_told_to_overwrite(catalog):
    TimeLimit.objects.filter(small_class__code="E0102", urgency="normal", filing_condition="").update(minutes=99)
    SmallClass.objects.filter(code="E0102").update(name="暴露垃圾（本市）")
    load_catalog()
    assert TimeLimit.objects.get(small_class__code="E0102", urgency="normal", filing_condition="").minutes == 99
    assert SmallClass.objects.get(code="E0102").name == "暴露垃圾（本市）"

    report = load_catalog(overwrite=True)
    assert report.updated["limit"] == 1
    assert TimeLimit.objects.get(small_class__code="E0102", urgency="normal", filing_condition="").minutes == 450
    assert SmallClass.objects.get(code="E0102").name == "暴露垃圾"


def test_the_command_reports_what_it_did(db, capsys):
    from django.core.management import call_command

    call_command("load_catalog")
    out = capsys.readouterr().out
    assert "小类 新增 140" in out
    call_command("load_catalog")
    assert "小类 新增 0" in capsys.readouterr().out


def test_it_ships_the_same_tables_as_the_shared_standards(settings):
    from chengguan.catalog.services import PACKAGED_STANDARDS

    shared = settings.SHARED_DATA_DIR / "standards"
    for name in ("component_classes.csv", "event_classes.csv", "time_limits_examples.csv"):
        assert (PACKAGED_STANDARDS / name).read_bytes() == (shared / name).read_bytes()
