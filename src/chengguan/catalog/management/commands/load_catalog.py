from django.core.management.base import BaseCommand

from chengguan.catalog.services import load_catalog


class Command(BaseCommand):
    help = "载入标准部件、事件分类与处置时限（可重复执行）· load the standard classes and time limits (idempotent)"

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", help="共享数据目录（默认 SHARED_DATA_DIR）· the shared data directory")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="用标准值覆盖已修改的行 · restore edited rows to the standard's values",
        )

    def handle(self, *args, **options):
        report = load_catalog(options["data_dir"], overwrite=options["overwrite"])
        self.stdout.write(self.style.SUCCESS(report.summary()))
