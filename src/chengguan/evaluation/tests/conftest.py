"""The small test city with an evaluator, an administrator and two cases walked through the loop."""

import pytest

from chengguan.cases.tests.conftest import PASSWORD, World
from chengguan.org.models import User


@pytest.fixture
def world(db):
    w = World()
    for name, role in (("evaluator", "evaluator"), ("admin", "admin")):
        user = User(username=name, role=role, city=w.city)
        user.set_password(PASSWORD)
        user.save()
    w.done = w.make_case("closed", start="2026-11-23 09:00")
    w.open = w.make_case("handling", start="2026-11-23 10:00")
    return w
