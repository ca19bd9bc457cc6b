"""`chengguan import_geo FILE --city CODE [--crs gcj02]`: import geography from GeoJSON."""

from __future__ import annotations

import json
import sys
import zoneinfo
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chengguan.errors import DomainError
from chengguan.geo import services
from chengguan.geo.coords import CRS_CHOICES
from chengguan.geo.importing import GeoImportError
from chengguan.geo.models import City

# Files with at least this many features show a progress bar on the terminal.
PROGRESS_FROM = 200


class Command(BaseCommand):
    help = (
        "导入 GeoJSON 地理数据（区县、街道、社区、单元网格），按代码新增或更新 · "
        "Import districts, streets, communities and unit grids from GeoJSON (upsert by code)"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON FeatureCollection 文件 · the GeoJSON file")
        parser.add_argument("--city", required=True, help="城市代码 · city code")
        parser.add_argument(
            "--crs", default="wgs84", choices=CRS_CHOICES, help="文件坐标系 · coordinate system of the file"
        )
        parser.add_argument("--city-name", help="城市不存在时以此名称创建 · create the city with this name if missing")
        parser.add_argument("--timezone", default="Asia/Shanghai", help="新建城市的时区 · time zone of a new city")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            collection = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在 · no such file: {path}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"不是有效的 JSON 文件 · not a valid JSON file: {path} ({exc})") from exc

        city = self._city(options)
        features = collection.get("features") if isinstance(collection, dict) else None
        show = isinstance(features, list) and len(features) >= PROGRESS_FROM

        def progress(items, label, total):
            return tqdm(items, desc=label, total=total, unit="feat", disable=not show or None, file=sys.stderr)

        try:
            report = services.import_geojson(city, collection, crs=options["crs"], progress=progress)
        except GeoImportError as exc:
            lines = [f"GeoJSON 有 {len(exc.problems)} 处错误，未导入任何数据 · nothing was imported:"]
            lines += [f"  {p.text('zh')} · {p.en}" for p in exc.problems]
            raise CommandError("\n".join(lines)) from exc
        except DomainError as exc:
            raise CommandError(f"{exc.zh} · {exc.en}") from exc

        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        version = f"（地理版本 #{report.version.pk} · geo version #{report.version.pk}）" if report.version else ""
        self.stdout.write(self.style.SUCCESS(f"{city.name}（{city.code}）：{report.summary()}{version}"))

    def _city(self, options) -> City:
        code = options["city"]
        city = City.objects.filter(code=code).first()
        if city is not None:
            return city
        if not options.get("city_name"):
            raise CommandError(
                f"城市“{code}”不存在；用 --city-name（及 --timezone）创建 · "
                f"no city '{code}'; pass --city-name (and --timezone) to create it"
            )
        try:
            zoneinfo.ZoneInfo(options["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"未知时区 · unknown time zone: {options['timezone']}") from exc
        city = services.create_city(code, name=options["city_name"], timezone=options["timezone"])
        self.stdout.write(f"已创建城市 · created city {city.name} ({city.code})")
        return city
