"""The worker: claim due outbox rows, send them outside any transaction, record the result.

Two workers never send the same row at once: on PostgreSQL rows are claimed with
`SELECT … FOR UPDATE SKIP LOCKED`; on SQLite with a conditional `UPDATE … WHERE status = 'pending'`
per row, which only one of them can win. A claimed row is leased (NOTIFY_LEASE_SECONDS): if its
worker dies before recording the result, the row is claimed again after the lease — delivery is
at least once, and a sent row is never sent again. Failures retry with exponential backoff
(NOTIFY_RETRY_SECONDS × 2ⁿ, at most six hours) until NOTIFY_MAX_ATTEMPTS, then stay `failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from chengguan.notify.models import Outbox
from chengguan.notify.senders import sender_for

MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, to retry {self.retried}, failed {self.failed}"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4, 8… minutes by default."""
    base = _setting("NOTIFY_RETRY_SECONDS", 60)
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1)))


def _due(now: datetime) -> Q:
    lease = timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", 300))
    return Q(status=Outbox.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Outbox.Status.SENDING, claimed_at__lt=now - lease
    )


def claim(now: datetime, batch: int = 100) -> list[Outbox]:
    """Take up to `batch` due rows for this worker: marked sending, attempts counted."""
    claimed = {"status": Outbox.Status.SENDING, "claimed_at": now, "attempts": F("attempts") + 1}
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                Outbox.objects.select_for_update(skip_locked=True)
                .filter(_due(now))
                .order_by("next_attempt_at", "id")
                .values_list("pk", flat=True)[:batch]
            )
            Outbox.objects.filter(pk__in=ids).update(**claimed)
    else:
        ids = []
        for pk in Outbox.objects.filter(_due(now)).order_by("next_attempt_at", "id").values_list("pk", flat=True)[
            :batch
        ]:
            # Only one worker's UPDATE finds the row still due.
            if Outbox.objects.filter(_due(now), pk=pk).update(**claimed):
                ids.append(pk)
    return list(Outbox.objects.filter(pk__in=ids).select_related("case", "event", "department").order_by("id"))


def deliver(message: Outbox, now: datetime, tally: Tally) -> None:
    """Send one claimed row and record what happened (only while this worker still holds it)."""
    mine = Outbox.objects.filter(pk=message.pk, status=Outbox.Status.SENDING, claimed_at=message.claimed_at)
    try:
        sender_for(message.channel).send(message)
    except Exception as err:  # any failure of a channel is recorded and retried
        error = f"{type(err).__name__}: {err}"[:2000]
        if message.attempts >= _setting("NOTIFY_MAX_ATTEMPTS", 6):
            mine.update(status=Outbox.Status.FAILED, last_error=error)
            tally.failed += 1
        else:
            mine.update(status=Outbox.Status.PENDING, last_error=error,
                        next_attempt_at=now + backoff(message.attempts))
            tally.retried += 1
        return
    mine.update(status=Outbox.Status.SENT, sent_at=now, last_error="")
    tally.sent += 1


def send_due(now: datetime | None = None, *, batch: int = 100) -> Tally:
    """One pass: claim what is due and send it."""
    tally = Tally()
    now = now or timezone.now()
    while True:
        messages = claim(now, batch)
        for message in messages:
            deliver(message, now, tally)
        if len(messages) < batch:
            return tally
