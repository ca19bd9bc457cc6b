import pytest

from chengguan.catalog.models import SmallClass, StageLimit, TimeLimit
from chengguan.catalog.services import handling_limit, stage_limit
from chengguan.errors import Invalid

pytestmark = pytest.mark.django_db


def test_it_uses_the_general_row_without_a_filing_condition(catalog):
    assert handling_limit("E0102", urgency="normal", area_class="A") == (450, True)


def test_an_exact_filing_condition_beats_the_general_row(catalog):
    demolition = "未取得规划许可擅自建设（拆除）"
    assert handling_limit("E0101", urgency="normal", area_class="B", filing_condition=demolition) == (9000, True)


def test_a_filing_condition_may_be_given_in_english(catalog):
    limit = handling_limit(
        "E0101", urgency="normal", area_class="B", filing_condition="built without planning permit (stop work)"
    )
    assert limit == (240, True)


def test_an_unknown_filing_condition_falls_back_to_the_general_row(catalog):
    assert handling_limit("E0101", urgency="normal", area_class="B", filing_condition="其他") == (15 * 450, True)


def test_an_exact_area_class_beats_a_blank_one(catalog):
    garbage = SmallClass.objects.get(code="E0102")
    TimeLimit.objects.create(small_class=garbage, urgency="normal", area_class="A", minutes=120)
    assert handling_limit(garbage, urgency="normal", area_class="A") == (120, True)
    assert handling_limit(garbage, urgency="normal", area_class="C") == (450, True)


def test_the_filing_condition_matters_more_than_the_area_class(catalog):
    garbage = SmallClass.objects.get(code="E0102")
    TimeLimit.objects.create(small_class=garbage, urgency="normal", area_class="A", minutes=120)
    main_roads = "主要道路垃圾成堆、成片，垃圾未入桶（箱）"
    assert handling_limit(garbage, urgency="normal", area_class="A", filing_condition=main_roads) == (240, True)


def test_urgent_cases_get_the_shorter_urgent_limit(catalog):
    minutes, _working = handling_limit("E0102", urgency="urgent", area_class="B")
    assert minutes < 450
    assert handling_limit("E0401", urgency="urgent", area_class="B") == (60, False)


def test_it_falls_back_to_the_normal_row_when_there_is_no_urgent_one(catalog):
    TimeLimit.objects.filter(small_class__code="E0104", urgency="urgent").delete()
    assert handling_limit("E0104", urgency="urgent", area_class="B") == (300, True)


def test_a_class_with_no_rows_gets_the_default_of_its_kind(catalog):
    TimeLimit.objects.filter(small_class__code="C0118").delete()
    assert handling_limit("C0118", urgency="normal", area_class="B") == (3 * 450, True)


def test_it_refuses_an_unknown_urgency_or_class(catalog):
    with pytest.raises(Invalid) as caught:
        handling_limit("E0102", urgency="soon", area_class="A")
    assert caught.value.field == "urgency"
    with pytest.raises(Invalid) as caught:
        handling_limit("E9999", urgency="normal", area_class="A")
    assert caught.value.field == "class_code"


def test_stage_limits_default_when_the_city_has_none(place):
    assert stage_limit(place.city, "verify") == (60, True)
    assert stage_limit(place.city, "register") == (30, True)
    assert stage_limit(place.city, "dispatch") == (30, True)
    assert stage_limit(place.city, "check") == (120, True)


def test_a_citys_own_stage_limit_wins(place):
    StageLimit.objects.create(city=place.city, stage="check", minutes=240, working_time=False)
    assert stage_limit(place.city, "check") == (240, False)


def test_it_refuses_an_unknown_stage(place):
    with pytest.raises(Invalid) as caught:
        stage_limit(place.city, "handle")
    assert caught.value.field == "stage"
