"""催办: one reminder per task and colour, as an internal event and a message to the department."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client

from chengguan.cases.models import Event, StageClock
from chengguan.cases.tests.conftest import PASSWORD, at
from chengguan.notify import reminders
from chengguan.notify.models import Outbox, Reminder

pytestmark = pytest.mark.django_db


def handle_clock(case) -> StageClock:
    return StageClock.objects.get(case=case, stage="handle", ended_at__isnull=True)


@pytest.fixture
def dispatched(world):
    world.sanitation_user.email = "sanitation@example.gov.cn"
    world.sanitation_user.save()
    return world.make_case("handling")


def test_it_reminds_once_at_yellow_and_once_at_red(world, dispatched):
    clock = handle_clock(dispatched)
    assert reminders.remind(clock.yellow_at - timedelta(minutes=1)) == 0
    assert reminders.remind(clock.yellow_at + timedelta(minutes=1)) == 1
    assert reminders.remind(clock.yellow_at + timedelta(minutes=2)) == 0  # already reminded
    event = Event.objects.get(case=dispatched, operation="remind")
    assert (event.internal, event.actor_role, event.data["colour"], event.data["department"]) == (
        True, "system", "yellow", "D0101")
    message = Outbox.objects.get(event=event)
    assert (message.audience, message.channel, message.recipient) == ("department", "email",
                                                                       "sanitation@example.gov.cn")
    assert "黄灯" in message.body and dispatched.number in message.body
    assert reminders.remind(clock.due_at + timedelta(minutes=1)) == 1
    assert list(Reminder.objects.order_by("id").values_list("colour", flat=True)) == ["yellow", "red"]
    assert "红灯" in Outbox.objects.filter(audience="department").latest("id").body
    dispatched.refresh_from_db()
    assert dispatched.version == 4  # reminders change no state and stale no open form


def test_it_writes_only_red_for_a_task_found_already_overdue(world, dispatched):
    assert reminders.remind(handle_clock(dispatched).due_at + timedelta(hours=1)) == 1
    assert list(Reminder.objects.values_list("colour", flat=True)) == ["red"]


def test_it_does_not_remind_a_paused_clock(world, dispatched):
    dept = world.department_user(dispatched)
    case = world.act(dispatched, "feedback", dept, at("2026-11-23 09:30"), result="已清理")
    assert case.state in ("handled", "checking")
    assert reminders.remind(at("2026-12-31 09:00")) == 0


def test_it_lets_the_database_refuse_a_second_reminder_of_a_colour(world, dispatched):
    task = dispatched.tasks.get()
    Reminder.objects.create(task=task, colour="yellow", created_at=at("2026-11-23 12:00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(task=task, colour="yellow", created_at=at("2026-11-23 12:01"))


def test_it_shows_reminders_in_the_department_inbox(world, dispatched):
    reminders.remind(handle_clock(dispatched).due_at + timedelta(minutes=1))
    client = Client()
    assert client.login(username="dept-D0101", password=PASSWORD)
    inbox = client.get("/inbox/").content.decode()
    assert 'data-count="reminders"' in inbox and "红灯催办" in inbox
    page = client.get(f"/inbox/cases/{dispatched.number}/").content.decode()
    assert 'data-operation="remind"' in page and "红灯：已超期" in page
    other = Client()
    assert other.login(username="dept-D06", password=PASSWORD)
    assert "红灯催办" not in other.get("/inbox/").content.decode()


def test_it_runs_as_a_command(world, dispatched, capsys):
    call_command("remind")
    assert "reminders 1" in capsys.readouterr().out  # the test city's dates are in the past: red
