import pytest

from chengguan.catalog.models import SmallClass
from chengguan.catalog.services import describe_minutes, search_classes

pytestmark = pytest.mark.django_db


def codes(q, **kw):
    return [s.code for s in search_classes(q, **kw)]


def test_it_finds_a_class_by_code(catalog):
    assert codes("E0102") == ["E0102"]
    assert codes("0102") == ["C0102", "E0102"]
    assert codes("e01")[0].startswith("E01")


def test_it_finds_classes_by_chinese_name(catalog):
    found = codes("井盖")
    assert "C0101" in found and "C0114" in found
    assert all("井盖" in s.name for s in search_classes("井盖"))


def test_it_finds_a_class_by_pinyin_initials(catalog):
    assert codes("bllj") == ["E0102"]
    assert codes("blj")[0] == "E0102"
    assert codes("ssjg")[0] == "C0101"


def test_it_finds_classes_by_english_name(catalog):
    assert "E0102" in codes("garbage")


def test_it_filters_by_kind_and_hides_inactive_classes(catalog):
    assert all(c.startswith("C") for c in codes("", kind="component"))
    SmallClass.objects.filter(code="E0102").update(active=False)
    assert "E0102" not in codes("垃圾")
    assert "E0102" in codes("垃圾", active_only=False)


def test_an_empty_query_lists_everything(catalog):
    assert len(codes("")) == 140


def test_limits_read_as_people_say_them():
    assert describe_minutes(450, True) == "1 个工作日"
    assert describe_minutes(6750, True) == "15 个工作日"
    assert describe_minutes(240, True) == "4 工作小时"
    assert describe_minutes(60, False) == "1 小时"
    assert describe_minutes(90, True) == "1.5 工作小时"
    assert describe_minutes(2880, False) == "2 天"
    assert describe_minutes(45, True) == "45 工作分钟"
