"""`chengguan import_311 FILE --layout nyc|la|baltimore|auto [--report FILE]`: import a 311 export."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chengguan.errors import DomainError
from chengguan.imports.geography import DEFAULT_CELL_M, GeographyError
from chengguan.imports.layouts import AUTO, LAYOUTS
from chengguan.imports.reading import ExportError
from chengguan.imports.services import DEFAULT_CHUNK, import_311


class Command(BaseCommand):
    help = (
        "导入 311 诉求导出文件（纽约、洛杉矶、巴尔的摩），每行成为一件完整案件；可重复执行 · "
        "Import a 311 export (NYC, Los Angeles, Baltimore): each row becomes a full case; safe to run again"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 导出文件 · the CSV export")
        parser.add_argument("--layout", default=AUTO, choices=[AUTO, *LAYOUTS],
                            help="文件格式（默认按表头识别）· the export's layout (default: from its header)")
        parser.add_argument("--report", help="把跳过的行写入此 CSV · write the skipped rows to this CSV")
        parser.add_argument("--cell-m", type=int, default=DEFAULT_CELL_M,
                            help="新建城市时网格的边长（米）· grid side in metres when the city is new")
        parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="每批写入的行数 · rows per batch")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条 · no progress bar")

    def handle(self, *args, **options):
        if options["cell_m"] < 50 or options["chunk"] < 1:
            raise CommandError("--cell-m 至少 50，--chunk 至少 1 · --cell-m must be ≥ 50 and --chunk ≥ 1")
        quiet = options["no_progress"]

        def progress(total, label):
            return tqdm(total=total, desc=label, unit="件", file=sys.stderr, disable=quiet or None)

        try:
            result = import_311(options["file"], options["layout"], cell_m=options["cell_m"],
                                chunk_size=options["chunk"], progress=progress)
        except (ExportError, GeographyError, DomainError) as exc:
            raise CommandError(f"{exc.zh} · {exc.en}") from exc
        self.stdout.write(result.summary())
        if options["report"]:
            count = result.write_report(options["report"])
            self.stdout.write(f"跳过的 {count:,} 行已写入 · {count:,} skipped rows written to {options['report']}")
