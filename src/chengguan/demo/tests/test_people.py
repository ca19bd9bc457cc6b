"""The demo's departments, responsibility matrix, accounts, duty grids and components."""

import pytest
import shapely
from django.contrib.auth import authenticate

from chengguan.assets.models import Component
from chengguan.catalog.models import Responsibility, SmallClass, StageLimit
from chengguan.catalog.services import suggest_department
from chengguan.demo.services import DEMO_PASSWORD
from chengguan.geo.codes import parse_component_code
from chengguan.geo.geometry import from_geojson
from chengguan.geo.models import DutyGrid, GeoVersion, Grid, Region
from chengguan.org.models import Department, User

pytestmark = pytest.mark.django_db


def test_departments_form_a_tree_with_one_office_per_street(demo):
    bureau = Department.objects.get(code="D01")
    assert bureau.parent is None
    assert sorted(bureau.children.values_list("code", flat=True)) == ["D0101", "D0102", "D0103"]
    for code in ("D02", "D03", "D04", "D05", "D06", "D07", "D0801"):
        assert Department.objects.filter(code=code).exists()
    for street in Region.objects.filter(level="street"):
        office = Department.objects.get(region=street)
        assert office.code == "J" + street.code[-3:]
        assert office.name.startswith(street.name)
    assert Department.objects.get(code="J001").name == "富春街道办事处"
    assert Department.objects.get(code="J100").name_en == "Wanshi Town Government"


def test_the_matrix_names_a_department_for_every_class_in_every_community(demo):
    # Rows name districts and streets only, so one community per street stands for them all.
    assert not Responsibility.objects.filter(region__level="community").exists()
    classes = list(SmallClass.objects.all())
    assert len(classes) == 140
    for street in Region.objects.filter(level="street").prefetch_related("children"):
        community = street.children.all()[0]
        for small in classes:
            found = suggest_department(
                small, community_code=community.code, street_code=street.code, district_code="330111"
            )
            assert found is not None, (small.code, community.code)


def where(community_code):
    return {"community_code": community_code, "street_code": community_code[:9], "district_code": "330111"}


def test_components_go_to_their_owners_and_events_to_the_territory(demo):
    town = "330111100001"
    assert suggest_department(SmallClass.objects.get(code="C0101"), **where(town)).code == "D06"
    assert suggest_department(SmallClass.objects.get(code="C0118"), **where(town)).code == "D0102"
    assert suggest_department(SmallClass.objects.get(code="C0402"), **where(town)).code == "D0103"
    assert suggest_department(SmallClass.objects.get(code="C0114"), **where(town)).code == "J100"
    assert suggest_department(SmallClass.objects.get(code="E0102"), **where("330111001003")).code == "J001"
    assert suggest_department(SmallClass.objects.get(code="E0102"), **where(town)).code == "J100"
    assert suggest_department(SmallClass.objects.get(code="E0505"), **where(town)).code == "D0801"
    assert suggest_department(SmallClass.objects.get(code="E0512"), **where(town)).code == "D04"
    assert suggest_department(None, **where(town)).code == "D01"


def test_every_account_signs_in_with_the_demo_password(demo):
    usernames = [a.username for a in demo.accounts]
    assert len(usernames) == len(set(usernames)) == User.objects.count()
    for username in usernames:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.city.code == "330100"


def test_it_has_one_account_per_role_and_per_department(demo):
    roles = dict(User.objects.values_list("username", "role"))
    for username in ("inspector", "volunteer", "operator", "shiftlead", "dispatcher", "leader", "evaluator", "admin"):
        assert roles[username] == username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.exclude(username="admin").filter(is_staff=True).exists()
    for dept in Department.objects.all():
        user = User.objects.get(username=f"dept-{dept.code}")
        assert (user.role, user.department) == ("department", dept)


def test_the_api_signs_in_the_demo_accounts(demo, client):
    response = client.post(
        "/api/v1/auth/token", {"username": "dispatcher", "password": DEMO_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "dispatcher"


def test_duty_grids_cover_every_grid_once_each_with_an_inspector(demo):
    links = list(DutyGrid.grids.through.objects.values_list("grid_id", flat=True))
    assert len(links) == len(set(links)) == Grid.objects.count()
    for duty in DutyGrid.objects.prefetch_related("inspectors"):
        inspectors = list(duty.inspectors.all())
        assert len(inspectors) == 1 and inspectors[0].role == "inspector"
    assert User.objects.filter(role="inspector", duty_grids__isnull=True).count() == 0


def test_inspector_patrols_the_centre(demo):
    grids = Grid.objects.filter(duty_grids__inspectors__username="inspector")
    assert grids.filter(area_class="A").count() >= 20
    assert not grids.filter(area_class="C").exists()


def test_components_have_valid_codes_owners_and_places(demo):
    components = list(Component.objects.select_related("small_class", "grid"))
    assert 2_000 <= len(components) <= 6_000
    codes = set()
    for c in components:
        parsed = parse_component_code(c.code)
        assert parsed.county == "330111"
        assert parsed.small_class_code == c.small_class.code[1:]
        assert c.small_class.kind == "component"
        assert c.owner_id is not None
        codes.add(c.code)
    assert len(codes) == len(components)
    sample = components[::50]
    for c in sample:
        assert shapely.contains_xy(from_geojson(c.grid.geometry), c.lon, c.lat)
        assert c.grid.area_class in ("A", "B")
    lamps = Component.objects.filter(small_class__code="C0118")
    assert lamps.count() > 100 and set(lamps.values_list("owner__code", flat=True)) == {"D0102"}


def test_it_records_a_geography_version_and_stage_limits(demo):
    assert GeoVersion.objects.filter(city=demo.city).count() == 1
    limits = dict(StageLimit.objects.filter(city=demo.city).values_list("stage", "minutes"))
    assert limits == {"verify": 60, "register": 30, "dispatch": 30, "check": 120}
