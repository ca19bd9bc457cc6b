"""A small real city for case tests, built through models and services (no hidden fixtures).

Nine 100 m grids in one community of one street; departments, a responsibility matrix, one user
per role. Times are fixed instants in Asia/Shanghai so deadlines can be worked out by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chengguan.cases import services
from chengguan.catalog.models import MajorClass, Responsibility, SmallClass, TimeLimit
from chengguan.geo.models import City, DutyGrid, GeoVersion, Grid, Region
from chengguan.org.models import Department, User
from chengguan.worktime.services import default_calendar

SH = ZoneInfo("Asia/Shanghai")
LON0, LAT0 = 119.95, 30.05
STEP = 0.001  # about 96 m east-west, 111 m north-south here
PASSWORD = "a-long-test-password-1"


def at(text: str) -> datetime:
    """Shanghai wall time, e.g. at("2026-11-23 09:00") (a Monday)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def square(lon: float, lat: float, size: float = STEP) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


class World:
    def __init__(self):
        calendar = default_calendar()
        self.city = City.objects.create(code="330100", name="杭州市", calendar=calendar)
        district = Region.objects.create(code="330111", name="富阳区", level="district", city=self.city,
                                         geometry=square(LON0, LAT0, 3 * STEP))
        street = Region.objects.create(code="330111001", name="富春街道", level="street", city=self.city,
                                       parent=district, geometry=square(LON0, LAT0, 3 * STEP))
        community = Region.objects.create(code="330111001001", name="测试社区", level="community",
                                          city=self.city, parent=street, geometry=square(LON0, LAT0, 3 * STEP))
        self.grids = []
        seq = 0
        for row in range(3):  # north to south
            for col in range(3):  # west to east
                seq += 1
                lon, lat = LON0 + col * STEP, LAT0 + (2 - row) * STEP
                self.grids.append(Grid.objects.create(
                    code=f"330111001001{seq:03d}", city=self.city, community=community, street_code=street.code,
                    district_code=district.code, geometry=square(lon, lat), area_m2=10_700, area_class="A",
                    center_lon=lon + STEP / 2, center_lat=lat + STEP / 2,
                ))
        GeoVersion.objects.create(city=self.city, note="test grids")
        self.district, self.street, self.community = district, street, community

        event = MajorClass.objects.create(kind="event", code="01", name="市容环境", name_en="city appearance")
        component = MajorClass.objects.create(kind="component", code="01", name="公用设施", name_en="utilities")
        self.garbage = SmallClass.objects.create(code="E0102", kind="event", major=event, name="暴露垃圾",
                                                 name_en="exposed garbage")
        self.cover = SmallClass.objects.create(code="C0101", kind="component", major=component, name="上水井盖",
                                               name_en="water manhole cover")
        # exposed garbage: 1 working day (450 min); manhole cover: 3 working days
        TimeLimit.objects.create(small_class=self.garbage, minutes=450, working_time=True)
        TimeLimit.objects.create(small_class=self.garbage, urgency="urgent", minutes=120, working_time=True)
        TimeLimit.objects.create(small_class=self.cover, minutes=1350, working_time=True)

        self.sanitation = Department.objects.create(code="D0101", name="环卫处", city=self.city)
        self.water = Department.objects.create(code="D06", name="水务集团", city=self.city)
        self.street_office = Department.objects.create(code="D9001", name="富春街道办事处", city=self.city,
                                                       region=street)
        Responsibility.objects.create(small_class=self.garbage, region=street, department=self.sanitation)
        Responsibility.objects.create(small_class=self.cover, region=district, department=self.water)
        Responsibility.objects.create(small_class=None, region=district, department=self.street_office)

        def user(name, role, **extra):
            u = User(username=name, role=role, city=self.city, **extra)
            u.set_password(PASSWORD)
            u.save()
            return u

        self.inspector = user("inspector", "inspector")
        self.inspector2 = user("inspector2", "inspector")
        self.volunteer = user("volunteer", "volunteer")
        self.operator = user("operator", "operator")
        self.shiftlead = user("shiftlead", "shiftlead")
        self.dispatcher = user("dispatcher", "dispatcher")
        self.leader = user("leader", "leader")
        self.sanitation_user = user("dept-D0101", "department", department=self.sanitation)
        self.water_user = user("dept-D06", "department", department=self.water)
        duty = DutyGrid.objects.create(code="DG1", name="富春一组", city=self.city)
        duty.grids.set(self.grids)
        duty.inspectors.set([self.inspector])

    def report(self, *, actor="inspector", class_code="E0102", now=None, grid=4, **kwargs):
        actor = self.inspector if actor == "inspector" else actor
        g = self.grids[grid]
        kwargs.setdefault("lon", g.center_lon)
        kwargs.setdefault("lat", g.center_lat)
        case, _ = services.report_case(actor=actor, class_code=class_code, now=now or at("2026-11-23 09:00"),
                                       **kwargs)
        return case

    def act(self, case, operation, actor, now, **fields):
        return services.apply_operation(case, operation, actor=actor, version=case.version, now=now, **fields)

    def make_case(self, state: str, *, start="2026-11-23 09:00", **kwargs):
        """Walk the real workflow to `state`, one operation a minute from `start`."""
        clock = [at(start)]

        def tick():
            clock[0] += timedelta(minutes=1)
            return clock[0]

        case = self.report(now=clock[0], **kwargs)
        path = {
            "reported": [],
            "registered": [("register", self.operator, {})],
            "dispatched": [("register", self.operator, {}), ("dispatch", self.dispatcher, {})],
            "handling": [("register", self.operator, {}), ("dispatch", self.dispatcher, {}),
                         ("sign", None, {})],
            "checking": [("register", self.operator, {}), ("dispatch", self.dispatcher, {}),
                         ("sign", None, {}), ("feedback", None, {"result": "已清理"})],
            "closable": [("register", self.operator, {}), ("dispatch", self.dispatcher, {}),
                         ("sign", None, {}), ("feedback", None, {"result": "已清理"}),
                         ("check", self.inspector, {"fixed": True})],
            "closed": [("register", self.operator, {}), ("dispatch", self.dispatcher, {}),
                       ("sign", None, {}), ("feedback", None, {"result": "已清理"}),
                       ("check", self.inspector, {"fixed": True}), ("close", self.operator, {})],
        }[state]
        for operation, actor, fields in path:
            actor = actor or self.department_user(case)
            case = self.act(case, operation, actor, tick(), **fields)
        assert case.state == state
        return case

    def department_user(self, case):
        return User.objects.get(role="department", department_id=case.department_id)


@pytest.fixture
def world(db):
    return World()
