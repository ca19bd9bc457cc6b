from django.contrib import admin

from chengguan.catalog.models import MajorClass, Responsibility, SmallClass, StageLimit, TimeLimit
from chengguan.catalog.services import describe_minutes


class SmallClassInline(admin.TabularInline):
    model = SmallClass
    fields = ("code", "name", "name_en", "pinyin_initials", "active")
    extra = 0
    show_change_link = True


@admin.register(MajorClass)
class MajorClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en")
    inlines = [SmallClassInline]


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    fields = (
        "urgency",
        "area_class",
        "filing_condition",
        "closing_condition",
        "minutes",
        "working_time",
        "source",
    )
    extra = 0


@admin.register(SmallClass)
class SmallClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "major", "kind", "pinyin_initials", "active")
    list_filter = ("kind", "active", "major")
    list_select_related = ("major",)
    search_fields = ("code", "name", "name_en", "pinyin_initials")
    fieldsets = (
        (None, {"fields": ("code", "kind", "major", "name", "name_en", "pinyin_initials", "active")}),
        (
            "立案与结案条件",
            {"fields": ("filing_condition", "filing_condition_en", "closing_condition", "closing_condition_en")},
        ),
    )
    inlines = [TimeLimitInline]


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ("small_class", "urgency", "area_class", "filing_condition", "limit_text", "source")
    list_filter = ("urgency", "area_class", "working_time", "small_class__kind", "small_class__major")
    list_select_related = ("small_class",)
    search_fields = ("small_class__code", "small_class__name", "filing_condition", "filing_condition_en", "source")
    autocomplete_fields = ("small_class",)

    @admin.display(description="时限", ordering="minutes")
    def limit_text(self, obj: TimeLimit) -> str:
        return describe_minutes(obj.minutes, obj.working_time)


@admin.register(StageLimit)
class StageLimitAdmin(admin.ModelAdmin):
    list_display = ("city", "stage", "minutes", "limit_text", "working_time")
    list_filter = ("city", "stage")

    @admin.display(description="时限")
    def limit_text(self, obj: StageLimit) -> str:
        return describe_minutes(obj.minutes, obj.working_time)


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ("small_class_text", "region", "department")
    list_filter = ("region__level", "small_class__kind", ("department", admin.RelatedOnlyFieldListFilter))
    search_fields = (
        "small_class__code",
        "small_class__name",
        "region__code",
        "region__name",
        "department__code",
        "department__name",
    )
    autocomplete_fields = ("small_class", "department")
    raw_id_fields = ("region",)

    def get_queryset(self, request):
        # Boundaries are large; the list shows only names and codes.
        return (
            super()
            .get_queryset(request)
            .select_related("small_class", "region", "department")
            .defer("region__geometry")
        )

    @admin.display(description="小类", ordering="small_class__code")
    def small_class_text(self, obj: Responsibility) -> str:
        return str(obj.small_class) if obj.small_class_id else "（其他，兜底）"
