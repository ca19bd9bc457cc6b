"""`case_changed` → the outbox. Runs inside the operation's transaction: a message is queued
exactly when the change it reports is committed."""

from chengguan.notify.services import queue_for_event


def on_case_changed(sender, *, case, event, **kwargs) -> None:
    queue_for_event(case, event)
