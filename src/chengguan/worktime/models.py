from django.db import models


class WorkCalendar(models.Model):
    """A city's working calendar: working hours plus per-day exceptions by year."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    timezone = models.CharField("时区", max_length=64, default="Asia/Shanghai")
    # Working periods of a workday in local time, e.g. [["08:30","12:00"],["13:30","17:30"]].
    working_hours = models.JSONField("工作时段", default=list)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历"

    def __str__(self) -> str:
        return self.name


class CalendarYear(models.Model):
    """A year whose holidays and adjusted workdays have been entered (seeded or by hand)."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField("年份")
    source = models.CharField("来源", max_length=40, default="admin")

    class Meta:
        verbose_name = verbose_name_plural = "已录入年份"
        constraints = [models.UniqueConstraint(fields=["calendar", "year"], name="calendar_year_unique")]
        ordering = ["calendar", "year"]

    def __str__(self) -> str:
        return f"{self.calendar} {self.year}"


class CalendarDay(models.Model):
    """A day that differs from the Monday–Friday rule: a holiday or an adjusted workday (调休)."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="days")
    day = models.DateField("日期")
    is_workday = models.BooleanField("工作日")
    note = models.CharField("说明", max_length=80, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日与调休"
        constraints = [models.UniqueConstraint(fields=["calendar", "day"], name="calendar_day_unique")]
        ordering = ["calendar", "day"]

    def __str__(self) -> str:
        return f"{self.day} {'班' if self.is_workday else '休'} {self.note}"
