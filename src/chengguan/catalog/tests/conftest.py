"""A city with one district, street and community, departments, and the loaded standard."""

from __future__ import annotations

import pytest

from chengguan.catalog.services import load_catalog
from chengguan.geo.models import City, Region
from chengguan.org.models import Department, User
from chengguan.worktime.services import default_calendar


class Place:
    def __init__(self):
        self.city = City.objects.create(code="330100", name="杭州市", calendar=default_calendar())
        self.district = Region.objects.create(code="330111", name="富阳区", level="district", city=self.city)
        self.street = Region.objects.create(
            code="330111001", name="富春街道", level="street", city=self.city, parent=self.district
        )
        self.community = Region.objects.create(
            code="330111001003", name="城西社区", level="community", city=self.city, parent=self.street
        )
        self.bureau = Department.objects.create(code="D01", name="区城管局", name_en="Bureau", city=self.city)
        self.sanitation = Department.objects.create(
            code="D0101", name="环卫处", name_en="Sanitation", city=self.city, parent=self.bureau
        )
        self.water = Department.objects.create(code="D06", name="水务集团", city=self.city)
        self.office = Department.objects.create(code="J001", name="富春街道办事处", city=self.city, region=self.street)

    def where(self) -> dict[str, str]:
        return {
            "community_code": self.community.code,
            "street_code": self.street.code,
            "district_code": self.district.code,
        }


@pytest.fixture
def catalog(db):
    load_catalog()


@pytest.fixture
def place(db):
    return Place()


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.com", "a-long-test-password-1", role="admin")
