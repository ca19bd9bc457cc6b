"""The editable mappings of 311 imports, and read-only views of what the imports kept."""

from django.contrib import admin

from chengguan.imports.models import (
    AgencyMapping,
    ChannelMapping,
    ImportCity,
    ImportedRecord,
    ImportRun,
    TypeMapping,
)


@admin.register(TypeMapping)
class TypeMappingAdmin(admin.ModelAdmin):
    list_display = ("value", "small_class", "seeded_by", "city")
    list_filter = ("city", "small_class__major")
    list_select_related = ("small_class", "city")
    search_fields = ("value", "small_class__code", "small_class__name")
    autocomplete_fields = ("small_class",)
    readonly_fields = ("seeded_by", "created_at")


@admin.register(AgencyMapping)
class AgencyMappingAdmin(admin.ModelAdmin):
    list_display = ("value", "department", "city")
    list_filter = ("city",)
    list_select_related = ("department", "city")
    search_fields = ("value", "department__code", "department__name")
    autocomplete_fields = ("department",)
    readonly_fields = ("created_at",)


@admin.register(ChannelMapping)
class ChannelMappingAdmin(admin.ModelAdmin):
    list_display = ("value", "source", "city")
    list_filter = ("city", "source")
    list_editable = ("source",)
    search_fields = ("value",)
    readonly_fields = ("created_at",)


@admin.register(ImportCity)
class ImportCityAdmin(admin.ModelAdmin):
    list_display = ("city", "layout", "key", "cell_m", "fallback_class", "root_department")
    raw_id_fields = ("fallback_class", "root_department", "actor")
    readonly_fields = ("layout", "key", "cell_m", "origin_lon", "origin_lat", "step_lon", "step_lat")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("file_name", "city", "layout", "started_at", "rows", "imported", "already")
    list_filter = ("city", "layout")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportedRecord)
class ImportedRecordAdmin(admin.ModelAdmin):
    list_display = ("source_id", "case", "city", "layout", "file_name", "row", "due_source")
    list_filter = ("city", "layout", "due_source")
    search_fields = ("source_id", "case__number")
    raw_id_fields = ("case",)
    list_select_related = ("case", "city")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
