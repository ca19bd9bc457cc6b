"""`chengguan bulletins`: write the four ones (四个一) as files; `--due` writes what today calls for,
`--loop` keeps doing it (and closes each finished day of the evaluation rollup).

    chengguan bulletins --kind daily --date 2026-11-24 --format json,xlsx,pdf
    chengguan bulletins --due            # cron, every 15 minutes (docs/operations.md)
    chengguan bulletins --loop           # or as a worker

Files go to VAR_DIR/bulletins/<city>/<kind>/<date>/<kind>-<date>.<ext> unless `--out DIR` says
where. A file already written is left alone, so running `--due` again writes nothing new.
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from chengguan.errors import Invalid
from chengguan.evaluation import bulletins
from chengguan.evaluation.facts import close_day
from chengguan.evaluation.models import ClosedDay
from chengguan.evaluation.periods import local_day
from chengguan.evaluation.render import to_pdf, to_xlsx
from chengguan.evaluation.render.document import KINDS
from chengguan.geo.models import City

FORMATS = ("json", "xlsx", "pdf")


def due_kinds(day: date) -> list[str]:
    """What is issued on `day`: the supervision list and the daily bulletin every day, the weekly
    brief on Mondays, the monthly summary on the 1st."""
    kinds = ["supervision", "daily"]
    if day.weekday() == 0:
        kinds.append("weekly")
    if day.day == 1:
        kinds.append("monthly")
    return kinds


def target_dir(city: City, kind: str, day: date, out: str | None) -> Path:
    if out:
        return Path(out)
    return Path(settings.VAR_DIR) / "bulletins" / city.code / kind / day.isoformat()


def render(doc: dict, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=1).encode()
    return to_xlsx(doc) if fmt == "xlsx" else to_pdf(doc)


def write_bulletin(city: City, kind: str, day: date, formats, *, out: str | None = None,
                   as_of: datetime | None = None) -> list[Path]:
    """Write the formats not yet on disk (each atomically); returns the files written."""
    folder = target_dir(city, kind, day, out)
    wanted = [(fmt, folder / f"{kind}-{day.isoformat()}.{fmt}") for fmt in formats]
    missing = [(fmt, path) for fmt, path in wanted if not path.exists()]
    if not missing:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    doc = bulletins.build(kind, day, city=city, as_of=as_of)
    written = []
    for fmt, path in missing:
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        partial.write_bytes(render(doc, fmt))
        partial.replace(path)
        written.append(path)
    return written


def close_yesterday(city: City, now: datetime) -> bool:
    """Close the day before today (the city's) once; True when it was closed now."""
    yesterday = local_day(now, ZoneInfo(city.timezone)) - timedelta(days=1)
    if ClosedDay.objects.filter(city=city, day=yesterday).exists():
        return False
    close_day(city, yesterday)
    return True


class Command(BaseCommand):
    help = "生成四个一通报文件；--due 生成今天应出的，--loop 常驻 / Write bulletins; --due what is due; --loop keeps on"

    def add_arguments(self, parser):
        parser.add_argument("--kind", default="all", help="all|supervision|daily|weekly|monthly (default all)")
        parser.add_argument("--date", help="issue date YYYY-MM-DD (default today in the city)")
        parser.add_argument("--format", default=",".join(FORMATS), help="comma-separated json,xlsx,pdf")
        parser.add_argument("--out", help="directory (default VAR_DIR/bulletins/<city>/<kind>/<date>)")
        parser.add_argument("--city", help="city code (default every city)")
        parser.add_argument("--as-of", help="ISO instant to count as of (default: see docs/bulletins.md)")
        parser.add_argument("--due", action="store_true", help="write what today calls for, once")
        parser.add_argument("--after", default="07:00",
                            help="with --due/--loop: local time from which today's bulletins are written (07:00)")
        parser.add_argument("--no-close-day", action="store_true", help="with --due/--loop: do not close yesterday")
        parser.add_argument("--loop", action="store_true", help="keep running: --due every --interval minutes")
        parser.add_argument("--interval", type=float, default=10.0, help="minutes between passes (default 10)")

    def handle(self, *args, **o):
        formats = [f.strip() for f in o["format"].split(",") if f.strip()]
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise CommandError(f"--format 只能是 json、xlsx、pdf / unknown format: {', '.join(bad) or '(none)'}")
        if o["kind"] != "all" and o["kind"] not in KINDS:
            raise CommandError(f"--kind 应为 all 或 {'、'.join(KINDS)} / unknown kind '{o['kind']}'")
        cities = list(City.objects.filter(code=o["city"]) if o["city"] else City.objects.all())
        if o["city"] and not cities:
            raise CommandError(f"未知的城市代码：{o['city']} / unknown city '{o['city']}'")
        try:
            after = clock_time.fromisoformat(o["after"])
        except ValueError:
            raise CommandError("--after 应为 HH:MM / --after must be HH:MM") from None
        if not (o["due"] or o["loop"]):
            return self._once(cities, formats, o)
        stopping: list[bool] = []
        if o["loop"]:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
        while True:
            if o["loop"]:
                close_old_connections()
            self._due(cities, formats, o, after)
            if not o["loop"]:
                return
            for _ in range(max(1, int(o["interval"] * 600))):
                if stopping:
                    return
                time.sleep(0.1)

    def _once(self, cities, formats, o):
        kinds = list(KINDS) if o["kind"] == "all" else [o["kind"]]
        as_of = None
        if o["as_of"]:
            as_of = datetime.fromisoformat(o["as_of"])
            if timezone.is_naive(as_of):
                raise CommandError("--as-of 须带时区，如 2026-11-24T00:00+08:00 / --as-of needs an offset")
        for city in cities:
            tz = ZoneInfo(city.timezone)
            try:
                day = bulletins.parse_day(o["date"], tz)
            except Invalid as exc:
                raise CommandError(str(exc)) from None
            for kind in kinds:
                self._report(city, kind, day, write_bulletin(city, kind, day, formats, out=o["out"], as_of=as_of))

    def _due(self, cities, formats, o, after: clock_time):
        now = timezone.now()
        for city in cities:
            if not o["no_close_day"] and close_yesterday(city, now):
                self.stdout.write(f"{city.code}: closed {local_day(now, ZoneInfo(city.timezone)) - timedelta(days=1)}")
            local = now.astimezone(ZoneInfo(city.timezone))
            if local.time() < after:
                continue
            kinds = due_kinds(local.date())
            if o["kind"] != "all":
                kinds = [k for k in kinds if k == o["kind"]]
            for kind in kinds:
                self._report(city, kind, local.date(), write_bulletin(city, kind, local.date(), formats, out=o["out"]))

    def _report(self, city, kind, day, written):
        verbosity = 1 if written else 2
        if self.verbosity >= verbosity:
            what = ", ".join(str(p) for p in written) or "already written"
            self.stdout.write(f"{city.code} {kind} {day}: {what}")

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)
