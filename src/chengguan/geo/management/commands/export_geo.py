"""`chengguan export_geo --city CODE [--level grid] [-o FILE]`: export geography as GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chengguan.errors import DomainError
from chengguan.geo import services
from chengguan.geo.coords import CRS_CHOICES
from chengguan.geo.models import City


class Command(BaseCommand):
    help = "导出 GeoJSON 地理数据 · Export the city's geography as GeoJSON"

    def add_arguments(self, parser):
        parser.add_argument("--city", required=True, help="城市代码 · city code")
        parser.add_argument(
            "--level",
            default="grid",
            choices=["district", "street", "community", "grid", "all"],
            help="层级（all 为全部）· level, or all",
        )
        parser.add_argument("--crs", default="wgs84", choices=CRS_CHOICES, help="输出坐标系 · output coordinates")
        parser.add_argument("-o", "--output", help="输出文件（默认标准输出）· output file (default: stdout)")

    def handle(self, *args, **options):
        city = City.objects.filter(code=options["city"]).first()
        if city is None:
            raise CommandError(f"城市“{options['city']}”不存在 · no city '{options['city']}'")
        try:
            collection = services.export_geojson(city, options["level"], crs=options["crs"])
        except DomainError as exc:
            raise CommandError(f"{exc.zh} · {exc.en}") from exc
        text = json.dumps(collection, ensure_ascii=False)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"已导出 {len(collection['features'])} 个要素 · exported to {options['output']}")
        else:
            self.stdout.write(text)
