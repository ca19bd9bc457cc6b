import pytest

from chengguan.catalog.models import SmallClass
from chengguan.catalog.services import set_responsibility, suggest_department

pytestmark = pytest.mark.django_db


@pytest.fixture
def garbage(catalog):
    return SmallClass.objects.get(code="E0102")


def test_it_suggests_nothing_without_a_row(place, garbage):
    assert suggest_department(garbage, **place.where()) is None


def test_the_district_fallback_takes_anything_without_an_owner(place, garbage):
    set_responsibility(None, place.district, place.bureau)
    assert suggest_department(garbage, **place.where()) == place.bureau
    assert suggest_department(None, **place.where()) == place.bureau


def test_the_more_specific_region_wins(place, garbage):
    set_responsibility(garbage, place.district, place.bureau)
    assert suggest_department(garbage, **place.where()) == place.bureau
    set_responsibility(garbage, place.street, place.office)
    assert suggest_department(garbage, **place.where()) == place.office
    set_responsibility(garbage, place.community, place.sanitation)
    assert suggest_department(garbage, **place.where()) == place.sanitation


def test_a_class_row_beats_a_closer_fallback_row(place, garbage):
    set_responsibility(None, place.community, place.office)
    set_responsibility(garbage, place.district, place.sanitation)
    assert suggest_department(garbage, **place.where()) == place.sanitation
    other = SmallClass.objects.get(code="E0501")
    assert suggest_department(other, **place.where()) == place.office


def test_setting_a_responsibility_again_replaces_it(place, garbage):
    set_responsibility(garbage, place.street, place.office)
    set_responsibility(garbage, place.street, place.sanitation)
    assert suggest_department(garbage, **place.where()) == place.sanitation


def test_an_inactive_department_is_not_suggested(place, garbage):
    set_responsibility(garbage, place.street, place.office)
    set_responsibility(None, place.district, place.bureau)
    place.office.active = False
    place.office.save()
    assert suggest_department(garbage, **place.where()) == place.bureau


def test_it_works_with_only_some_codes(place, garbage):
    set_responsibility(garbage, place.street, place.office)
    assert suggest_department(garbage, street_code=place.street.code) == place.office
    assert suggest_department(garbage) is None
