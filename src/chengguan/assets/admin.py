from django.contrib import admin

from chengguan.assets.models import Component


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ("code", "small_class", "name", "status", "owner", "grid", "installed_on")
    list_filter = ("status", "city", "small_class__major", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "address", "small_class__name", "small_class__code", "grid__code")
    autocomplete_fields = ("small_class", "owner")
    raw_id_fields = ("grid",)
    list_select_related = ("small_class", "owner", "grid")
    date_hierarchy = "installed_on"
    fieldsets = (
        (None, {"fields": ("code", "small_class", "name", "status", "owner", "installed_on")}),
        ("位置", {"fields": ("city", "lon", "lat", "grid", "address")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("grid__geometry")
