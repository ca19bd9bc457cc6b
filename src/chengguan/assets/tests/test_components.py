import pytest
from django.urls import reverse

from chengguan.assets.models import Component
from chengguan.assets.services import check_component_code, next_component_code
from chengguan.catalog.models import SmallClass
from chengguan.catalog.services import load_catalog
from chengguan.errors import Invalid
from chengguan.geo.models import City
from chengguan.org.models import Department, User
from chengguan.worktime.services import default_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    load_catalog()
    return City.objects.create(code="330100", name="杭州市", calendar=default_calendar())


@pytest.fixture
def lamp_class(city):
    return SmallClass.objects.get(code="C0118")


@pytest.fixture
def lamp(city, lamp_class):
    owner = Department.objects.create(code="D0102", name="市政设施管理处", city=city)
    return Component.objects.create(
        code="3301110118000001",
        small_class=lamp_class,
        city=city,
        lon=119.95,
        lat=30.05,
        owner=owner,
        name="路灯0001",
    )


@pytest.fixture
def admin_client_in(client, city):
    root = User.objects.create_superuser("root", "root@example.com", "a-long-test-password-1", role="admin")
    client.force_login(root)
    return client


def test_a_code_must_match_its_small_class(lamp_class):
    assert check_component_code(" 3301110118000001 ", lamp_class) == "3301110118000001"
    with pytest.raises(Invalid) as caught:
        check_component_code("3301110101000001", lamp_class)
    assert caught.value.field == "code"
    with pytest.raises(Invalid):
        check_component_code("33011101180001", lamp_class)


def test_an_event_class_is_not_a_component_class(city):
    with pytest.raises(Invalid) as caught:
        check_component_code("3301110102000001", SmallClass.objects.get(code="E0102"))
    assert caught.value.field == "small_class"


def test_the_next_code_follows_the_highest_serial(lamp, lamp_class):
    assert next_component_code("330111", lamp_class) == "3301110118000002"
    assert next_component_code("330112", lamp_class) == "3301120118000001"


def test_the_status_starts_normal(lamp):
    assert lamp.status == "normal"
    assert lamp.get_status_display() == "完好"


@pytest.mark.parametrize("view", ["changelist", "add"])
def test_the_admin_pages_load(admin_client_in, lamp, view):
    assert admin_client_in.get(reverse(f"admin:assets_component_{view}")).status_code == 200


def test_the_admin_change_page_loads(admin_client_in, lamp):
    page = admin_client_in.get(reverse("admin:assets_component_change", args=[lamp.pk]))
    assert page.status_code == 200
    assert "3301110118000001" in page.content.decode()


def test_the_admin_refuses_a_code_of_another_class(admin_client_in, city, lamp_class):
    response = admin_client_in.post(
        reverse("admin:assets_component_add"),
        {
            "code": "3301110101000009",
            "small_class": lamp_class.pk,
            "city": city.pk,
            "lon": "119.95",
            "lat": "30.05",
            "status": "normal",
            "name": "",
            "address": "",
        },
    )
    assert response.status_code == 200
    assert "与所选小类 C0118 不符" in response.content.decode()
    assert not Component.objects.filter(code="3301110101000009").exists()


def test_the_admin_adds_a_valid_component(admin_client_in, city, lamp_class):
    response = admin_client_in.post(
        reverse("admin:assets_component_add"),
        {
            "code": "3301110118000009",
            "small_class": lamp_class.pk,
            "city": city.pk,
            "lon": "119.95",
            "lat": "30.05",
            "status": "damaged",
            "name": "路灯0009",
            "address": "富春街道",
        },
    )
    assert response.status_code == 302
    assert Component.objects.get(code="3301110118000009").status == "damaged"
