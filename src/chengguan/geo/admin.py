"""Admin for cities, regions, unit grids and duty grids. Geometry is read-only here: it comes
in through `import_geo` (or the import service) so that it is always checked."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Count
from django.http import HttpResponse
from django.utils.html import format_html

from chengguan.geo import services
from chengguan.geo.models import City, DutyGrid, GeoVersion, Grid, Region


def _geojson_response(collection: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(collection, ensure_ascii=False), content_type="application/geo+json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pretty_geometry(geometry) -> str:
    if not geometry:
        return "—"
    text = json.dumps(geometry, ensure_ascii=False, indent=1)
    if len(text) > 20000:
        text = text[:20000] + "\n…"
    return format_html('<pre style="max-height:20em;overflow:auto;white-space:pre-wrap">{}</pre>', text)


@admin.action(description="导出所选城市的全部地理数据（GeoJSON）")
def export_city_geojson(modeladmin, request, queryset):
    features: list[dict] = []
    for city in queryset:
        features.extend(services.export_geojson(city, "all")["features"])
    name = queryset.first().code if queryset.count() == 1 else "cities"
    return _geojson_response(services.feature_collection(features, crs="wgs84"), f"{name}-geo.geojson")


@admin.action(description="导出所选区域（GeoJSON）")
def export_regions_geojson(modeladmin, request, queryset):
    features = [services.region_feature(r) for r in queryset.select_related("parent").order_by("code")]
    return _geojson_response(services.feature_collection(features, crs="wgs84"), "regions.geojson")


@admin.action(description="导出所选网格（GeoJSON）")
def export_grids_geojson(modeladmin, request, queryset):
    features = [services.grid_feature(g) for g in queryset.select_related("community").order_by("code")]
    return _geojson_response(services.feature_collection(features, crs="wgs84"), "grids.geojson")


class VersionOnDeleteMixin:
    """Deleting regions or grids changes the geography: record a version so locators rebuild."""

    def delete_model(self, request, obj) -> None:
        city = obj.city
        super().delete_model(request, obj)
        services.bump_version(city, note=f"admin: deleted {obj._meta.model_name} {obj.code}")

    def delete_queryset(self, request, queryset) -> None:
        city_ids = set(queryset.values_list("city_id", flat=True))
        super().delete_queryset(request, queryset)
        for city in City.objects.filter(pk__in=city_ids):
            services.bump_version(city, note=f"admin: deleted {queryset.model._meta.model_name}s")


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "timezone", "calendar", "grid_sequence_digits"]
    search_fields = ["code", "name", "name_en"]
    actions = [export_city_geojson]


@admin.register(Region)
class RegionAdmin(VersionOnDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "city", "area_km2"]
    list_filter = ["level", "city"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "city"]
    raw_id_fields = ["parent"]
    readonly_fields = ["area_m2", "geometry_view"]
    exclude = ["geometry"]
    actions = [export_regions_geojson]

    @admin.display(description="面积(平方千米)", ordering="area_m2")
    def area_km2(self, obj: Region) -> str:
        return f"{obj.area_m2 / 1e6:,.3f}"

    @admin.display(description="边界(GeoJSON, WGS84)")
    def geometry_view(self, obj: Region) -> str:
        return _pretty_geometry(obj.geometry)


@admin.register(Grid)
class GridAdmin(VersionOnDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name", "community", "street_code", "district_code", "area_class", "area_m2_rounded"]
    list_filter = ["area_class", "city", "district_code", "street_code"]
    search_fields = ["code", "name", "community__code", "community__name"]
    list_select_related = ["community"]
    raw_id_fields = ["community"]
    readonly_fields = [
        "community",
        "street_code",
        "district_code",
        "area_m2",
        "center_lon",
        "center_lat",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "geometry_view",
    ]
    exclude = ["geometry"]
    actions = [export_grids_geojson]

    @admin.display(description="面积(平方米)", ordering="area_m2")
    def area_m2_rounded(self, obj: Grid) -> str:
        return f"{obj.area_m2:,.0f}"

    @admin.display(description="边界(GeoJSON, WGS84)")
    def geometry_view(self, obj: Grid) -> str:
        return _pretty_geometry(obj.geometry)

    def has_add_permission(self, request) -> bool:
        # New grids come with a checked polygon through import_geo.
        return False


@admin.register(DutyGrid)
class DutyGridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "grid_count"]
    list_filter = ["city"]
    search_fields = ["code", "name", "grids__code", "inspectors__username", "inspectors__display_name"]
    filter_horizontal = ["grids", "inspectors"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_grid_count=Count("grids", distinct=True))

    @admin.display(description="单元网格数", ordering="_grid_count")
    def grid_count(self, obj: DutyGrid) -> int:
        return obj._grid_count


@admin.register(GeoVersion)
class GeoVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "city", "changed_at", "note"]
    list_filter = ["city"]
    readonly_fields = ["city", "changed_at", "note"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
