"""催办: remind a department when its task's handling clock turns yellow, and again when red.

Open tasks whose running handling clock crossed its yellow mark (80 % of the limit) or its
deadline get one reminder per colour: a `Reminder` row (unique per task and colour, so two
workers cannot both write it), an internal `remind` case event and — through `case_changed` —
the outbox messages to the department. A task found already red gets only the red reminder.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chengguan.cases import services, workflow
from chengguan.cases.models import StageClock, Task
from chengguan.notify.models import Reminder


def due(now: datetime, *, limit: int = 500) -> list[tuple[Task, str]]:
    """(task, colour) pairs that need a reminder now."""
    reminded = Reminder.objects.filter(task=OuterRef("task"))
    clocks = (
        StageClock.objects.filter(
            stage=workflow.HANDLE, ended_at__isnull=True, paused_at__isnull=True, task__status=Task.Status.OPEN,
            yellow_at__lte=now,
        )
        .annotate(has_yellow=Exists(reminded.filter(colour="yellow")), has_red=Exists(reminded.filter(colour="red")))
        .filter(Q(due_at__lte=now, has_red=False) | Q(due_at__gt=now, has_yellow=False))
        .select_related("task__department")
        .order_by("due_at", "id")[:limit]
    )
    return [(clock.task, "red" if clock.due_at <= now else "yellow") for clock in clocks]


def remind(now: datetime | None = None) -> int:
    """Write the reminders that are due; return how many were written."""
    now = now or timezone.now()
    written = 0
    for task, colour in due(now):
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(task=task, colour=colour, created_at=now)
                event = services.remind_case(task, colour, now=now)
                Reminder.objects.filter(pk=reminder.pk).update(event=event)
        except IntegrityError:  # another worker wrote this one first
            continue
        written += 1
    return written
