import secrets

from django.core.exceptions import ValidationError
from django.db import models

from chengguan.errors import Invalid
from chengguan.worktime.arith import parse_periods, zone_named


def first_revision() -> int:
    """A random starting revision: a row id reused after a rolled-back transaction (as in
    tests) then never meets a table cached for the old row."""
    return secrets.randbits(40)


class WorkCalendar(models.Model):
    """A city's working calendar: working hours plus per-day exceptions by year."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    timezone = models.CharField("时区", max_length=64, default="Asia/Shanghai")
    # Working periods of a workday in local time, e.g. [["08:30","12:00"],["13:30","17:30"]];
    # empty means the default hours 08:30–12:00 and 13:30–17:30.
    working_hours = models.JSONField("工作时段", default=list, blank=True)
    # Moves forward on every change to the calendar, its years or its days, so that each
    # process can tell its cached working-time table is stale.
    revision = models.PositiveBigIntegerField("修订号", default=first_revision, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # An update never writes `revision` back from this (possibly stale) instance: it only
        # moves forward in the database (see signals.py).
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "revision"
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        try:
            zone_named(self.timezone)
        except Invalid as exc:
            errors["timezone"] = exc.zh
        if self.working_hours:
            try:
                parse_periods(self.working_hours)
            except Invalid as exc:
                errors["working_hours"] = exc.zh
        if errors:
            raise ValidationError(errors)


class CalendarYear(models.Model):
    """A year whose holidays and adjusted workdays have been entered (seeded or by hand)."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField("年份")
    source = models.CharField("来源", max_length=40, default="admin")

    class Meta:
        verbose_name = verbose_name_plural = "已录入年份"
        constraints = (models.UniqueConstraint(fields=["calendar", "year"], name="calendar_year_unique"),)
        ordering = ("calendar", "year")

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
        constraints = (models.UniqueConstraint(fields=["calendar", "day"], name="calendar_day_unique"),)
        ordering = ("calendar", "day")

    def __str__(self) -> str:
        return f"{self.day} {'班' if self.is_workday else '休'} {self.note}"
