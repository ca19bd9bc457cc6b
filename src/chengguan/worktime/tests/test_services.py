"""Calendars in the database: seeding, the cached clock, revisions and the admin."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory

from chengguan.worktime.admin import CalendarDayAdmin, WorkCalendarAdmin
from chengguan.worktime.models import CalendarDay, CalendarYear, WorkCalendar
from chengguan.worktime.services import (
    default_calendar,
    package_years,
    seed_calendar,
    working_clock,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def sh(*args):
    return datetime(*args, tzinfo=SH)


def make_calendar(code="test", **fields):
    return WorkCalendar.objects.create(code=code, name=fields.pop("name", code), **fields)


def admin_request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def days_differing_in(year):
    day, out = date(year, 1, 1), []
    while day.year == year:
        if chinese_calendar.is_workday(day) != (day.weekday() < 5):
            out.append(day)
        day += timedelta(days=1)
    return out


def test_it_seeds_only_the_days_that_differ_from_monday_to_friday():
    calendar = make_calendar()
    count = seed_calendar(calendar, [2026])
    assert count == len(days_differing_in(2026)) == CalendarDay.objects.filter(calendar=calendar).count()
    national_day = CalendarDay.objects.get(calendar=calendar, day=date(2026, 10, 1))
    assert (national_day.is_workday, national_day.note) == (False, "国庆节")
    adjusted = CalendarDay.objects.get(calendar=calendar, day=date(2026, 10, 10))
    assert (adjusted.is_workday, adjusted.note) == (True, "国庆节调休上班")
    # a holiday on a Saturday is a weekend day anyway: not stored
    assert not CalendarDay.objects.filter(calendar=calendar, day=date(2026, 10, 3)).exists()
    year = CalendarYear.objects.get(calendar=calendar)
    assert (year.year, year.source) == (2026, "chinese-calendar")


def test_seeding_twice_changes_nothing():
    calendar = make_calendar()
    first = seed_calendar(calendar, [2025, 2026])
    revision = WorkCalendar.objects.get(pk=calendar.pk).revision
    assert first > 0
    assert seed_calendar(calendar, [2025, 2026]) == 0
    assert CalendarDay.objects.filter(calendar=calendar).count() == first
    assert CalendarYear.objects.filter(calendar=calendar).count() == 2
    assert WorkCalendar.objects.get(pk=calendar.pk).revision == revision


def test_seeding_puts_back_a_day_changed_by_hand_and_keeps_a_day_added_by_hand():
    calendar = make_calendar()
    seed_calendar(calendar, [2026])
    CalendarDay.objects.filter(calendar=calendar, day=date(2026, 10, 1)).update(is_workday=True)
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 11), is_workday=False, note="本市停工")
    assert seed_calendar(calendar, [2026]) == 1
    assert not CalendarDay.objects.get(calendar=calendar, day=date(2026, 10, 1)).is_workday
    assert CalendarDay.objects.filter(calendar=calendar, day=date(2026, 3, 11)).exists()


def test_it_skips_years_the_package_does_not_know():
    calendar = make_calendar()
    assert 2027 not in package_years()
    assert seed_calendar(calendar, [2027]) == 0
    assert not CalendarYear.objects.filter(calendar=calendar).exists()


def test_the_default_calendar_is_created_once_and_seeded():
    calendar = default_calendar()
    assert (calendar.code, calendar.name, calendar.timezone) == ("cn-default", "中国大陆工作日历", "Asia/Shanghai")
    assert calendar.working_hours == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert list(calendar.years.values_list("year", flat=True)) == package_years()
    again = default_calendar()
    assert again.pk == calendar.pk
    assert WorkCalendar.objects.filter(code="cn-default").count() == 1


def test_the_clock_counts_working_and_natural_time():
    clock = working_clock(default_calendar())
    friday = sh(2026, 3, 6, 16, 0)
    assert clock.add(friday, 120, working=True) == sh(2026, 3, 9, 9, 0)
    assert clock.add(friday, 120, working=False) == sh(2026, 3, 6, 18, 0)
    assert clock.elapsed(friday, sh(2026, 3, 9, 9, 0), working=True) == 120
    assert clock.elapsed(friday, sh(2026, 3, 9, 9, 0), working=False) == 65 * 60
    assert clock.elapsed(sh(2026, 3, 9, 9, 0), friday, working=False) == -65 * 60
    assert clock.add(sh(2026, 9, 30, 17, 0), 60, working=True) == sh(2026, 10, 8, 9, 0)


def test_natural_time_is_absolute_across_daylight_saving():
    clock = working_clock(make_calendar(timezone="America/New_York"))
    before = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    assert clock.add(before, 60, working=False) == datetime(2026, 3, 8, 3, 30, tzinfo=NY)
    assert clock.elapsed(before, datetime(2026, 3, 8, 3, 30, tzinfo=NY), working=False) == 60


def test_it_warns_about_a_year_nobody_entered():
    clock = working_clock(default_calendar())
    start = sh(2026, 12, 31, 17, 0)
    due = clock.add(start, 60, working=True)
    assert due == sh(2027, 1, 1, 9, 0)  # 1 January 2027 counted as an ordinary Friday
    assert clock.warning(start, due) == "2027 年节假日安排尚未录入，按周一至周五计算"
    assert clock.warning(start, due, language="en") == (
        "Holidays for 2027 have not been entered yet; counted Monday to Friday."
    )
    assert clock.warning(sh(2026, 1, 5), sh(2026, 12, 31)) == ""
    assert clock.warning() == ""


def test_it_never_crashes_on_a_far_year():
    clock = working_clock(default_calendar())
    assert clock.add(sh(2035, 3, 2, 9, 0), 60, working=True) == sh(2035, 3, 2, 10, 0)  # a Friday
    assert clock.add(sh(1990, 3, 2, 9, 0), 60, working=True) == sh(1990, 3, 2, 10, 0)
    assert clock.elapsed(sh(2026, 12, 31, 17, 0), sh(2036, 1, 1), working=True) > 0
    assert clock.add(sh(2026, 3, 9, 8, 30), 450 * 250 * 20, working=True).year >= 2045
    assert clock.warning(sh(2026, 6, 1), sh(2035, 3, 2)) == ("2027–2035 年节假日安排尚未录入，按周一至周五计算")
    starts = np.array([int(sh(2040, 1, 2, 9, 0).timestamp())])
    assert clock.add_batch(starts, np.array([60]), working=True)[0] == starts[0] + 3600


def test_a_clock_asked_to_cover_old_years_is_built_over_them_once():
    calendar = make_calendar(timezone="America/New_York")
    clock = working_clock(calendar, covering=(2014, 2019))
    table = clock.table
    assert table.first_year <= 2014 and table.last_year >= 2019
    assert clock.add(datetime(2016, 3, 4, 17, 0, tzinfo=NY), 60, working=True) == datetime(2016, 3, 7, 9, 0, tzinfo=NY)
    assert clock.table is table  # no widening was needed
    assert working_clock(calendar, covering=(2015, 2016)) is clock and clock.table is table
    assert working_clock(calendar, covering=(1980, 1981)).table.first_year <= 1980  # widened in place
    assert working_clock(calendar, covering=(1, 9999)) is clock  # too wide: left to the arithmetic


def test_the_batch_calls_agree_with_the_scalar_ones():
    clock = working_clock(default_calendar())
    starts = [sh(2026, 3, 6, 16, 0), sh(2026, 9, 30, 17, 0), sh(2026, 10, 9, 17, 0)]
    epoch = np.array([int(s.timestamp()) for s in starts])
    due = clock.add_batch(epoch, np.array([120, 60, 60]), working=True)
    assert [datetime.fromtimestamp(t, SH) for t in due] == [
        clock.add(s, n, working=True) for s, n in zip(starts, [120, 60, 60], strict=True)
    ]
    assert clock.elapsed_batch(epoch, due, working=True).tolist() == [120, 60, 60]
    assert (clock.add_batch(epoch, np.array([1, 1, 1]), working=False) == epoch + 60).all()
    assert clock.elapsed_batch(epoch, epoch - 90, working=False).tolist() == [-1, -1, -1]


def test_the_clock_is_cached_until_the_calendar_changes(django_assert_num_queries):
    calendar = default_calendar()
    clock = working_clock(calendar)
    with django_assert_num_queries(0):
        assert working_clock(calendar) is clock
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 11), is_workday=False)
    assert working_clock(calendar) is not clock  # the instance was given the new revision
    assert working_clock(WorkCalendar.objects.get(pk=calendar.pk)) is working_clock(calendar)


def test_an_admin_edit_moves_a_deadline():
    calendar = default_calendar()
    start = sh(2026, 3, 10, 17, 0)  # Tuesday
    assert working_clock(calendar).add(start, 60, working=True) == sh(2026, 3, 11, 9, 0)

    request = admin_request()
    day_admin = CalendarDayAdmin(CalendarDay, AdminSite())
    form = day_admin.get_form(request)(
        data={"calendar": calendar.pk, "day": "2026-03-11", "is_workday": "", "note": "临时停工"}
    )
    assert form.is_valid(), form.errors
    day_admin.save_model(request, form.save(commit=False), form, change=False)

    reloaded = WorkCalendar.objects.get(pk=calendar.pk)
    assert reloaded.revision != calendar.revision
    assert working_clock(reloaded).add(start, 60, working=True) == sh(2026, 3, 12, 9, 0)

    # and removing it again moves the deadline back
    CalendarDay.objects.get(calendar=calendar, day=date(2026, 3, 11)).delete()
    reloaded = WorkCalendar.objects.get(pk=calendar.pk)
    assert working_clock(reloaded).add(start, 60, working=True) == sh(2026, 3, 11, 9, 0)


def test_changing_the_working_hours_moves_a_deadline():
    calendar = default_calendar()
    start = sh(2026, 3, 10, 16, 0)
    assert working_clock(calendar).add(start, 100, working=True) == sh(2026, 3, 11, 8, 40)
    calendar.working_hours = [["09:00", "12:00"], ["14:00", "18:00"]]
    calendar.save()
    reloaded = WorkCalendar.objects.get(pk=calendar.pk)
    assert reloaded.revision == calendar.revision
    assert working_clock(reloaded).add(start, 100, working=True) == sh(2026, 3, 10, 17, 40)


def test_a_stale_instance_never_moves_the_revision_back():
    calendar = default_calendar()
    stale = WorkCalendar.objects.get(pk=calendar.pk)
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 11), is_workday=False)
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 12), is_workday=False)
    after_days = WorkCalendar.objects.get(pk=calendar.pk).revision
    stale.name = "改名"
    stale.save()
    assert WorkCalendar.objects.get(pk=calendar.pk).revision == stale.revision > after_days


def test_a_rolled_back_change_leaves_no_stale_clock_behind():
    calendar = default_calendar()
    start = sh(2026, 3, 10, 17, 0)  # Tuesday
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 11), is_workday=False)
        assert working_clock(calendar).add(start, 60, working=True) == sh(2026, 3, 12, 9, 0)
        raise RuntimeError
    calendar = WorkCalendar.objects.get(pk=calendar.pk)
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 3, 12), is_workday=False)
    assert working_clock(calendar).add(start, 60, working=True) == sh(2026, 3, 11, 9, 0)


def test_entering_a_year_by_hand_clears_the_warning():
    calendar = default_calendar()
    start, due = sh(2027, 3, 1, 9, 0), sh(2027, 3, 1, 10, 0)
    assert working_clock(calendar).warning(start, due) != ""
    CalendarYear.objects.create(calendar=calendar, year=2027)
    assert working_clock(WorkCalendar.objects.get(pk=calendar.pk)).warning(start, due) == ""


def test_the_admin_action_imports_holidays():
    calendar = make_calendar()
    request = admin_request()
    calendar_admin = WorkCalendarAdmin(WorkCalendar, AdminSite())
    calendar_admin.import_holidays(request, WorkCalendar.objects.filter(pk=calendar.pk))
    years = package_years()
    assert list(calendar.years.values_list("year", flat=True)) == years
    (message,) = [str(m) for m in get_messages(request)]
    assert message.startswith(f"test：已导入 {years[0]}–{years[-1]} 年，新增或更新 ")
    assert calendar_admin.entered_years(calendar) == f"{years[0]}–{years[-1]}（{len(years)} 年）"


def test_a_calendar_refuses_an_unknown_zone_or_bad_hours():
    calendar = WorkCalendar(code="bad", name="bad", timezone="Mars/Olympus", working_hours=[["9", "5"]])
    with pytest.raises(ValidationError) as caught:
        calendar.full_clean()
    assert set(caught.value.message_dict) == {"timezone", "working_hours"}
    WorkCalendar(code="ok", name="ok", working_hours=[]).full_clean()


def test_the_seed_command_enters_a_calendar_by_code():
    calendar = make_calendar(code="city-x")
    out = StringIO()
    call_command("seed_calendar", "--code", "city-x", "--years", "2026", stdout=out)
    assert list(calendar.years.values_list("year", flat=True)) == [2026]
    assert f"新增或更新 {len(days_differing_in(2026))} 天" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed_calendar", "--code", "nowhere", stdout=StringIO())


def test_the_admin_pages_show_calendars_days_and_years(admin_client):
    calendar = default_calendar()
    pages = {
        "/admin/worktime/workcalendar/": "中国大陆工作日历",
        f"/admin/worktime/workcalendar/{calendar.pk}/change/": "08:30",
        "/admin/worktime/calendarday/?year=2026": "国庆节调休上班",
        f"/admin/worktime/calendarday/?calendar__id__exact={calendar.pk}&year=2026": "2026-10-10",
        "/admin/worktime/calendaryear/": "chinese-calendar",
    }
    for url, text in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    response = admin_client.post(
        "/admin/worktime/workcalendar/",
        {"action": "import_holidays", "_selected_action": [calendar.pk]},
        follow=True,
    )
    assert "新增或更新 0 天" in response.content.decode()
