"""`chengguan load_demo` on an empty database, and its guards."""

import importlib.util

import pytest
from django.core.management import CommandError, call_command

from chengguan.demo import services
from chengguan.geo.models import City, Grid

pytestmark = pytest.mark.django_db


def test_it_builds_the_city_and_prints_the_accounts(capsys):
    call_command("load_demo", "--seed", "3", "--cases-days", "0", "--no-progress")
    out = capsys.readouterr().out
    assert "演示城市已生成" in out
    assert "chengguan-demo" in out
    for username in ("inspector ", "dispatcher", "admin", "dept-D01 ", "dept-J001", "inspector2 "):
        assert username in out
    assert Grid.objects.filter(code__startswith="330111001").count() > 500

    call_command("load_demo", "--if-empty", "--no-progress")
    assert "nothing to do" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("load_demo", "--cases-days", "0", "--no-progress")
    assert City.objects.count() == 1


def test_if_empty_leaves_any_existing_city_alone():
    from chengguan.worktime.services import default_calendar

    City.objects.create(code="us-baltimore", name="Baltimore", calendar=default_calendar())
    assert services.load_demo(if_empty=True, cases_days=0, progress=False) is None
    assert not Grid.objects.exists()


def test_it_says_so_when_there_is_no_case_simulator(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "chengguan.demo.simulate" else real(name, *a)
    )
    made, note = services._simulate(None, days=3, seed=1, now=None, progress=False)
    assert made is None
    assert "chengguan.demo.simulate" in note


def test_it_refuses_a_negative_number_of_days():
    with pytest.raises(CommandError, match="cases-days"):
        call_command("load_demo", "--cases-days", "-1", "--no-progress")
