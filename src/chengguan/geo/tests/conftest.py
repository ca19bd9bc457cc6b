"""Small hand-made geography for the geo tests, built through the import service."""

from __future__ import annotations

import pytest

from chengguan.geo import services
from chengguan.geo.models import City
from chengguan.worktime.models import WorkCalendar

# A 2 × 2 block of 0.001° squares (about 96 m × 111 m each) near 富阳, split over two
# communities of one street:
#
#   30.051 ┌────────────────┬────────────────┐
#          │ 330111001001001│ 330111001001002│   community 330111001001 (north)
#   30.050 ├────────────────┼────────────────┤
#          │ 330111001002001│ 330111001002002│   community 330111001002 (south)
#   30.049 └────────────────┴────────────────┘
#       119.950          119.951          119.952
X0, Y0, STEP = 119.950, 30.049, 0.001


def square(x: float, y: float, size: float = STEP) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def feature(level: str, code: str, geometry: dict | None = None, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"level": level, "code": code, **props}}


def block_collection() -> dict:
    north, south = "330111001001", "330111001002"
    return {
        "type": "FeatureCollection",
        "features": [
            feature("district", "330111", square(X0, Y0, 2 * STEP), name="富阳区"),
            feature("street", "330111001", square(X0, Y0, 2 * STEP), name="富春街道", parent="330111"),
            feature(
                "community",
                north,
                {
                    "type": "Polygon",
                    "coordinates": [[[X0, 30.050], [119.952, 30.050], [119.952, 30.051], [X0, 30.051], [X0, 30.050]]],
                },
                name="北社区",
                parent="330111001",
            ),
            feature(
                "community",
                south,
                {
                    "type": "Polygon",
                    "coordinates": [[[X0, Y0], [119.952, Y0], [119.952, 30.050], [X0, 30.050], [X0, Y0]]],
                },
                name="南社区",
                parent="330111001",
            ),
            feature("grid", north + "001", square(X0, 30.050), name="北一", parent=north, area_class="A"),
            feature("grid", north + "002", square(119.951, 30.050), name="北二", parent=north),
            feature("grid", south + "001", square(X0, Y0), name="南一", parent=south),
            feature("grid", south + "002", square(119.951, Y0), name="南二", parent=south, area_class="C"),
        ],
    }


@pytest.fixture(autouse=True)
def _fresh_locators():
    services.clear_locators()
    yield
    services.clear_locators()


@pytest.fixture
def calendar(db):
    return WorkCalendar.objects.create(code="t", name="t", working_hours=[["08:30", "12:00"], ["13:30", "17:30"]])


@pytest.fixture
def city(calendar):
    return City.objects.create(code="330100", name="杭州市", calendar=calendar)


@pytest.fixture
def block(city):
    """The city with the 2 × 2 block imported."""
    services.import_geojson(city, block_collection())
    return city
