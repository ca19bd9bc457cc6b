from django.contrib import admin, messages
from django.db.models.functions import ExtractYear

from chengguan.worktime.models import CalendarDay, CalendarYear, WorkCalendar
from chengguan.worktime.services import package_years, seed_calendar


class CalendarYearInline(admin.TabularInline):
    model = CalendarYear
    extra = 0
    fields = ("year", "source")


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "timezone", "hours", "entered_years", "revision")
    search_fields = ("code", "name")
    readonly_fields = ("revision",)
    fields = ("code", "name", "timezone", "working_hours", "revision")
    inlines = (CalendarYearInline,)
    actions = ("import_holidays",)

    @admin.display(description="工作时段")
    def hours(self, obj: WorkCalendar) -> str:
        pairs = obj.working_hours or [["08:30", "12:00"], ["13:30", "17:30"]]
        return "、".join(f"{a}–{b}" for a, b in pairs)

    @admin.display(description="已录入年份")
    def entered_years(self, obj: WorkCalendar) -> str:
        years = [y.year for y in obj.years.all()]
        if not years:
            return "—"
        return f"{min(years)}–{max(years)}（{len(years)} 年）"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("years")

    @admin.action(description="从 chinese-calendar 导入节假日")
    def import_holidays(self, request, queryset):
        years = package_years()
        for calendar in queryset:
            count = seed_calendar(calendar)
            self.message_user(
                request,
                f"{calendar}：已导入 {years[0]}–{years[-1]} 年，新增或更新 {count} 天",
                messages.SUCCESS,
            )


class YearFilter(admin.SimpleListFilter):
    title = "年份"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.annotate(y=ExtractYear("day")).order_by("-y").values_list("y", flat=True).distinct()
        return [(str(y), str(y)) for y in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(day__year=int(self.value()))
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("day", "weekday", "is_workday", "note", "calendar")
    list_filter = ("calendar", YearFilter, "is_workday")
    list_editable = ("is_workday", "note")
    search_fields = ("note",)
    date_hierarchy = "day"
    list_select_related = ("calendar",)
    list_per_page = 100

    @admin.display(description="星期")
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.day.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "calendar", "source")
    list_filter = ("calendar", "source")
    list_select_related = ("calendar",)
