"""`chengguan evaluation close-day|rebuild|show`: keep the evaluation rollup and read it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chengguan.errors import DomainError
from chengguan.evaluation import facts, services
from chengguan.evaluation.indicators import KEYS, RATES
from chengguan.evaluation.models import ClosedDay
from chengguan.geo.models import City


def _cities(code: str | None):
    cities = City.objects.filter(code=code) if code else City.objects.all()
    if code and not cities.exists():
        raise CommandError(f"未知的城市代码：{code} / unknown city '{code}'")
    return list(cities)


class Command(BaseCommand):
    help = "评价汇总：日终快照、重建与查看 · evaluation rollup: close a day, rebuild, show a table"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        close = sub.add_parser("close-day", help="写入某日日终快照（默认昨天；--missing 补齐缺失的日子）")
        close.add_argument("--date", help="YYYY-MM-DD (local day)")
        close.add_argument("--city")
        close.add_argument("--missing", type=int, default=0, metavar="DAYS",
                           help="also close any of the last DAYS days not yet closed")
        rebuild = sub.add_parser("rebuild", help="从案件重建全部评价事实与汇总")
        rebuild.add_argument("--city")
        show = sub.add_parser("show", help="打印一张评价表")
        show.add_argument("subject", choices=list(KEYS))
        show.add_argument("--period", required=True)
        show.add_argument("--as-of")
        show.add_argument("--level", default="street")
        show.add_argument("--city")

    def handle(self, *args, action, **options):
        getattr(self, action.replace("-", "_"))(**options)

    def close_day(self, *, date: str | None, city: str | None, missing: int, **_):
        for c in _cities(city):
            tz = ZoneInfo(c.timezone)
            yesterday = timezone.now().astimezone(tz).date() - timedelta(days=1)
            days = [_day(date)] if date else [yesterday]
            if missing:
                closed = set(ClosedDay.objects.filter(city=c).values_list("day", flat=True))
                days += [yesterday - timedelta(days=i) for i in range(1, missing + 1)
                         if yesterday - timedelta(days=i) not in closed]
            for day in sorted(set(days)):
                if day > yesterday:
                    raise CommandError(f"{day} 尚未结束 / {day} has not ended yet")
                count = facts.close_day(c, day)
                self.stdout.write(f"{c.code} {day}: {count} pending facts in the snapshot")

    def rebuild(self, *, city: str | None, **_):
        for c in _cities(city):
            count = facts.rebuild(c)
            self.stdout.write(f"{c.code}: rebuilt the facts of {count} cases")

    def show(self, *, subject: str, period: str, as_of: str | None, level: str, city: str | None, **_):
        c = _cities(city)[0]
        when = None
        if as_of:
            when = datetime.fromisoformat(as_of)
            if timezone.is_naive(when):
                when = when.replace(tzinfo=ZoneInfo(c.timezone))
        try:
            result = services.evaluate(subject, period, city=c, as_of=when, level=level)
        except DomainError as exc:
            raise CommandError(f"{exc.zh} · {exc.en}") from None
        columns = ["rank", "code", "name", *KEYS[subject], *RATES[subject], "score", "grade"]
        self.stdout.write(f"{result['period_label']} as of {result['as_of']} (config v{result['config_version']})")
        self.stdout.write("\t".join(columns))
        for row in result["rows"]:
            self.stdout.write("\t".join(_cell(row.get(col)) for col in columns))


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"无效的日期：{text} / not a date: {text}") from None
