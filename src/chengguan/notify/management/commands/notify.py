"""`chengguan notify`: send the pending notifications; `--loop` keeps doing it (the worker)."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from chengguan.notify.reminders import remind
from chengguan.notify.worker import send_due


class Command(BaseCommand):
    help = "发送待发通知并写入催办；--loop 常驻运行 / Send pending notifications and reminders; --loop keeps on"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running (a worker)")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between passes (default 10)")
        parser.add_argument("--batch", type=int, default=100, help="rows claimed at a time (default 100)")
        parser.add_argument("--no-remind", action="store_true", help="do not write reminders (催办)")

    def handle(self, *args, loop: bool, interval: float, batch: int, no_remind: bool, **options):
        stopping = []
        if loop:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
        while True:
            if loop:  # a long-running worker must not keep a connection the database dropped
                close_old_connections()
            reminders = 0 if no_remind else remind()
            tally = send_due(batch=batch)
            if not loop or options.get("verbosity", 1) > 1 or reminders or tally.sent or tally.failed:
                self.stdout.write(f"reminders {reminders}; {tally}")
            if not loop:
                return
            for _ in range(max(1, int(interval * 10))):
                if stopping:
                    return
                time.sleep(0.1)
