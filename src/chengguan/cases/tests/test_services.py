"""The loop through its services, on a real database, with deadlines worked out by hand.

Working hours 08:30–12:00 and 13:30–17:30 (450 minutes a day); 2026-11-23 is a Monday.
Stage limits: verify 60, register 30, dispatch 30, check 120 working minutes.
"""

import uuid

import pytest

from chengguan.cases.models import Case, Event, StageClock, Task, TaskRequest
from chengguan.cases.tests.conftest import at
from chengguan.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.django_db


def clock(case, stage):
    return StageClock.objects.filter(case=case, stage=stage).order_by("-id").first()


def test_it_walks_a_case_from_report_to_closure(world):
    w = world
    case = w.report(now=at("2026-11-23 09:00"), description="路边垃圾堆", address="富春路 1 号")
    assert case.state == "reported"
    assert case.number == "2026112300001"
    assert case.grid_code == "330111001001005"
    assert clock(case, "register").due_at == at("2026-11-23 09:30")

    case = w.act(case, "register", w.operator, at("2026-11-23 09:20"))
    assert case.state == "registered" and case.suggested_department == w.sanitation
    assert clock(case, "register").on_time is True
    assert case.stage == "dispatch" and case.stage_due_at == at("2026-11-23 09:50")

    case = w.act(case, "dispatch", w.dispatcher, at("2026-11-23 09:40"))
    task = case.tasks.get()
    # 450 working minutes from Monday 09:40: 140 before noon, 240 in the afternoon, 70 on Tuesday.
    assert task.due_at == at("2026-11-24 09:40")
    assert case.department == w.sanitation and case.state == "dispatched"

    case = w.act(case, "sign", w.sanitation_user, at("2026-11-23 10:00"))
    case = w.act(case, "feedback", w.sanitation_user, at("2026-11-23 15:00"), result="已清运")
    # the city issues the check to the grid's inspector at once
    assert case.state == "checking"
    check = clock(case, "check")
    assert check.assignee == w.inspector and check.due_at == at("2026-11-23 17:00")

    case = w.act(case, "check", w.inspector, at("2026-11-23 16:00"), fixed=True)
    task.refresh_from_db()
    assert case.state == "closable"
    assert task.status == "done" and task.on_time is True and task.handled_at == at("2026-11-23 15:00")

    case = w.act(case, "close", w.operator, at("2026-11-23 16:10"))
    assert case.state == "closed" and case.closed_at == at("2026-11-23 16:10")
    assert case.stage == "" and case.stage_due_at is None
    operations = list(case.events.values_list("operation", flat=True))
    assert operations == ["report", "register", "dispatch", "sign", "feedback", "request_check", "check", "close"]
    assert case.version == 8


def test_it_verifies_public_reports_before_filing(world):
    w = world
    case = w.report(actor=None, source="public", now=at("2026-11-23 09:00"))
    assert case.state == "verifying" and case.source == "public"
    assert clock(case, "verify").assignee == w.inspector
    assert clock(case, "verify").due_at == at("2026-11-23 10:00")
    case = w.act(case, "verify", w.inspector, at("2026-11-23 10:30"), valid=True)
    assert case.state == "pending"
    assert clock(case, "verify").on_time is False
    assert Event.objects.get(case=case, operation="verify").was_late is True


def test_it_marks_an_invalid_report(world):
    w = world
    case = w.report(actor=None, source="public")
    case = w.act(case, "verify", w.inspector, at("2026-11-23 09:10"), valid=False)
    assert case.state == "invalid" and case.stage == ""


def test_it_refuses_a_stale_version_and_writes_nothing(world):
    w = world
    case = w.report()
    stale = case.version
    w.act(case, "register", w.operator, at("2026-11-23 09:05"))
    events = Event.objects.count()
    with pytest.raises(Conflict) as err:
        from chengguan.cases.services import apply_operation

        apply_operation(case.number, "reject", actor=w.operator, version=stale, reason="重复")
    assert err.value.field == "version"
    assert Event.objects.count() == events
    assert Case.objects.get(pk=case.pk).state == "registered"


def test_it_refuses_a_wrong_role_and_writes_nothing(world):
    w = world
    case = w.report()
    with pytest.raises(Forbidden):
        w.act(case, "register", w.inspector, at("2026-11-23 09:05"))
    with pytest.raises(Forbidden):
        w.act(case, "register", w.leader, at("2026-11-23 09:05"))
    assert Event.objects.filter(case=case).count() == 1


def test_it_refuses_an_operation_the_state_does_not_allow(world):
    w = world
    case = w.report()
    with pytest.raises(Conflict):
        w.act(case, "dispatch", w.dispatcher, at("2026-11-23 09:05"))


def test_it_keeps_departments_to_their_own_tasks(world):
    w = world
    case = w.make_case("dispatched")
    with pytest.raises(Forbidden):
        w.act(case, "sign", w.water_user, at("2026-11-23 10:00"))


def test_it_reworks_with_the_same_department_and_moves_the_deadline_by_the_check_wait(world):
    w = world
    case = w.make_case("handling")  # dispatched 09:02 → due Tuesday 09:02
    case = w.act(case, "feedback", w.sanitation_user, at("2026-11-23 11:00"), result="已清理")
    case = w.act(case, "check", w.inspector, at("2026-11-23 14:00"), fixed=False)
    task = case.tasks.get()
    # awaiting the check 11:00–14:00 = 60 + 30 working minutes
    assert task.check_wait_minutes == 90
    assert task.due_at == at("2026-11-24 10:32")
    assert case.state == "dispatched" and task.reworks == 1 and case.rework_count == 1
    assert task.signed_at is None
    case = w.act(case, "sign", w.sanitation_user, at("2026-11-23 14:10"))
    case = w.act(case, "feedback", w.sanitation_user, at("2026-11-24 10:00"), result="再次清理")
    case = w.act(case, "check", w.inspector, at("2026-11-24 10:30"), fixed=True)
    task.refresh_from_db()
    assert task.on_time is True and task.handled_at == at("2026-11-24 10:00")


def test_it_grants_an_extension_no_longer_than_asked(world):
    w = world
    case = w.make_case("handling")
    case = w.act(case, "request_extension", w.sanitation_user, at("2026-11-23 10:00"), minutes=450, reason="设备故障")
    with pytest.raises(Conflict):
        w.act(case, "request_extension", w.sanitation_user, at("2026-11-23 10:01"), minutes=60, reason="again")
    with pytest.raises(Invalid):
        w.act(case, "decide_extension", w.dispatcher, at("2026-11-23 10:05"), approve=True, minutes=900)
    case = w.act(case, "decide_extension", w.dispatcher, at("2026-11-23 10:05"), approve=True, minutes=225)
    task = case.tasks.get()
    assert task.extended_minutes == 225 and case.extension_count == 1
    # Tuesday 09:02 + 225 working minutes = Tuesday 14:17
    assert task.due_at == at("2026-11-24 14:17")
    assert TaskRequest.objects.get(task=task).granted_minutes == 225


def test_it_returns_a_misdispatched_case_for_redispatch(world):
    w = world
    case = w.make_case("dispatched")
    case = w.act(case, "return", w.sanitation_user, at("2026-11-23 09:30"), reason="非本部门职责")
    assert case.state == "dispatched"
    case = w.act(case, "decide_return", w.dispatcher, at("2026-11-23 09:40"), approve=True)
    assert case.state == "registered" and case.department is None and case.return_count == 1
    first = case.tasks.get()
    assert first.returned and first.status == "returned"
    assert case.stage == "dispatch"
    case = w.act(case, "dispatch", w.dispatcher, at("2026-11-23 09:45"), department="D06")
    assert case.tasks.count() == 2 and case.department == w.water


def test_it_stops_the_clock_while_suspended_and_moves_the_deadline_on_resume(world):
    w = world
    case = w.make_case("handling")  # due Tuesday 09:02
    case = w.act(case, "suspend", w.sanitation_user, at("2026-11-23 10:00"), reason="需等待预算")
    case = w.act(case, "decide_suspend", w.dispatcher, at("2026-11-23 10:00"), approve=True)
    assert case.state == "suspended" and case.stage == ""
    case = w.act(case, "resume", w.dispatcher, at("2026-11-24 10:00"))
    task = case.tasks.get()
    # suspended Monday 10:00 → Tuesday 10:00 = 450 working minutes
    assert case.state == "handling" and task.suspended_minutes == 450
    assert task.due_at == at("2026-11-25 09:02")
    assert case.stage == "handle" and case.stage_due_at == task.due_at


def test_it_closes_a_self_handled_report_as_registered(world):
    w = world
    case = w.report(self_handled=True)
    case = w.act(case, "close", w.operator, at("2026-11-23 09:10"))
    assert case.state == "closed" and case.registered_at == at("2026-11-23 09:10")


def test_it_reopens_a_closed_case_on_not_fixed(world):
    w = world
    case = w.make_case("closed")
    with pytest.raises(Invalid):
        w.act(case, "reopen", w.operator, at("2026-11-24 09:00"))
    case = w.act(case, "reopen", w.operator, at("2026-11-24 09:00"), reason="市民反映未修复")
    assert case.state == "pending" and case.closed_at is None
    assert case.tasks.get().status == "done"


def test_it_cancels_and_merges_open_cases(world):
    w = world
    first = w.report()
    second = w.report(now=at("2026-11-23 09:05"))
    with pytest.raises(Forbidden):
        w.act(second, "cancel", w.operator, at("2026-11-23 09:06"), reason="x")
    merged = w.act(second, "merge", w.operator, at("2026-11-23 09:06"), into=first.number)
    assert merged.state == "cancelled" and merged.duplicate_of == first
    assert not StageClock.objects.filter(case=merged, ended_at__isnull=True).exists()
    cancelled = w.act(first, "cancel", w.shiftlead, at("2026-11-23 09:07"), reason="误报")
    assert cancelled.state == "cancelled" and cancelled.end_reason == "误报"


def test_it_marks_supervision(world):
    w = world
    case = w.make_case("handling")
    case = w.act(case, "supervise", w.leader, at("2026-11-23 11:00"), note="尽快处理")
    with pytest.raises(Invalid):
        w.act(case, "supervise", w.leader, at("2026-11-23 11:01"))
    assert case.supervised and case.priority == 1


def test_it_amends_class_and_place_before_dispatch(world):
    w = world
    case = w.make_case("registered")
    case = w.act(case, "amend", w.operator, at("2026-11-23 09:10"), class_code="C0101",
                 lon=w.grids[0].center_lon, lat=w.grids[0].center_lat)
    assert case.class_code == "C0101" and case.grid_code == "330111001001001"
    assert case.suggested_department == w.water
    with pytest.raises(Invalid) as err:
        w.act(case, "amend", w.operator, at("2026-11-23 09:11"), class_code="E9999")
    assert err.value.field == "class_code"


def test_it_returns_the_first_case_for_a_repeated_client_uuid(world):
    w = world
    key = uuid.uuid4()
    first = w.report(client_uuid=key)
    again = w.report(client_uuid=str(key), now=at("2026-11-23 09:30"))
    assert again.pk == first.pk and Case.objects.count() == 1


def test_it_refuses_a_point_outside_the_city(world):
    w = world
    with pytest.raises(Invalid) as err:
        w.report(lon=121.47, lat=31.23)
    assert err.value.field == "lon"
    assert Case.objects.count() == 0


def test_it_refuses_an_unknown_class(world):
    with pytest.raises(Invalid) as err:
        world.report(class_code="E9999")
    assert err.value.field == "class_code"


def test_it_locates_hotline_calls_by_grid_and_address(world):
    w = world
    case, _ = __import__("chengguan.cases.services", fromlist=["x"]).report_case(
        actor=w.operator, class_code="E0102", grid_code="330111001001002", address="富春路 8 号",
        source="hotline", reporter_name="张三", reporter_phone="13800138000", now=at("2026-11-23 09:00"),
    )
    assert case.source == "hotline" and case.state == "verifying"
    assert case.lon == pytest.approx(w.grids[1].center_lon)


def test_it_warns_when_the_year_has_no_holidays_entered(world):
    w = world
    case = w.report(now=at("2027-03-01 09:00"))
    assert "2027" in case.calendar_warning


def test_it_numbers_cases_by_day(world):
    w = world
    a = w.report(now=at("2026-11-23 09:00"))
    b = w.report(now=at("2026-11-23 23:59"))
    c = w.report(now=at("2026-11-24 00:01"))
    assert (a.number, b.number, c.number) == ("2026112300001", "2026112300002", "2026112400001")


def test_it_dispatches_to_the_suggested_department_by_default(world):
    w = world
    case = w.make_case("registered", class_code="C0101")
    case = w.act(case, "dispatch", w.dispatcher, at("2026-11-23 09:10"))
    assert case.department == w.water
    assert Task.objects.get(case=case).limit_minutes == 1350


def test_it_keeps_the_event_log_append_only(world):
    case = world.report()
    event = case.events.get()
    event.note = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert case.events.get().note == ""


def test_it_marks_open_cases_for_the_open_indexes(world):
    case = world.make_case("closed")
    assert case.is_open is None
    case = world.act(case, "reopen", world.operator, at("2026-11-24 09:00"), reason="未修复")
    assert case.is_open is True
    assert world.report().is_open is True
