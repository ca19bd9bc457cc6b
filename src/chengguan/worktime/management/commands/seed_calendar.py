from django.core.management.base import BaseCommand, CommandError

from chengguan.worktime.models import WorkCalendar
from chengguan.worktime.services import DEFAULT_CODE, default_calendar, package_years, seed_calendar


class Command(BaseCommand):
    help = (
        "从 chinese-calendar 导入节假日与调休（可重复执行）"
        " · enter holidays and adjusted workdays from chinese-calendar (idempotent)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--code",
            default=DEFAULT_CODE,
            help=f"工作日历代码（默认 {DEFAULT_CODE}）· the calendar's code",
        )
        parser.add_argument(
            "--years",
            nargs="*",
            type=int,
            help="只导入这些年份（默认全部）· only these years (default: all the package knows)",
        )

    def handle(self, *args, **options):
        code = options["code"]
        if code == DEFAULT_CODE:
            calendar = default_calendar()
        else:
            calendar = WorkCalendar.objects.filter(code=code).first()
            if calendar is None:
                raise CommandError(f"没有代码为 {code} 的工作日历 · no calendar with code {code}")
        count = seed_calendar(calendar, options["years"])
        years = package_years()
        self.stdout.write(
            self.style.SUCCESS(
                f"{calendar}：chinese-calendar 收录 {years[0]}–{years[-1]} 年，新增或更新 {count} 天"
                f" · {count} days created or changed"
            )
        )
