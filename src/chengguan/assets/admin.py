from django import forms
from django.contrib import admin

from chengguan.assets.models import Component
from chengguan.assets.services import check_component_code
from chengguan.errors import Invalid


class ComponentForm(forms.ModelForm):
    class Meta:
        model = Component
        fields = (
            "code", "small_class", "name", "status", "owner", "installed_on", "city", "lon", "lat", "grid", "address",
        )  # fmt: skip

    def clean(self):
        data = super().clean()
        code, small_class = data.get("code"), data.get("small_class")
        if code and small_class:
            try:
                data["code"] = check_component_code(code, small_class)
            except Invalid as exc:
                self.add_error("small_class" if exc.field == "small_class" else "code", exc.zh)
        lon, lat = data.get("lon"), data.get("lat")
        if lon is not None and not -180 <= lon <= 180:
            self.add_error("lon", "经度应在 -180 到 180 之间")
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("lat", "纬度应在 -90 到 90 之间")
        return data


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    form = ComponentForm
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
