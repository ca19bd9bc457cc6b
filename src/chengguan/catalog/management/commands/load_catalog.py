from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chengguan.catalog.services import load_catalog


class Command(BaseCommand):
    help = "载入标准部件、事件分类与处置时限（可重复执行）· load the standard classes and time limits (idempotent)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--data-dir",
            help="含 standards/*.csv 的目录（默认用随程序发布的标准表）· a folder holding standards/*.csv "
            "(default: the tables shipped with the package)",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="用标准值覆盖已修改的行 · restore edited rows to the standard's values",
        )

    def handle(self, *args, **options):
        data_dir = options["data_dir"]
        if data_dir:
            missing = [name for name in ("component_classes.csv", "event_classes.csv", "time_limits_examples.csv")
                       if not (Path(data_dir) / "standards" / name).exists()]
            if missing:
                raise CommandError(f"{data_dir}/standards/ 中缺少 {', '.join(missing)} · missing {', '.join(missing)}")
        report = load_catalog(data_dir, overwrite=options["overwrite"])
        self.stdout.write(self.style.SUCCESS(report.summary()))
