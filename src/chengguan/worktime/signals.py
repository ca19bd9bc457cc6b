"""Every change to a calendar, its days or its years moves the calendar's revision forward.

Bulk writes send no signals: code that writes in bulk (``seed_calendar``) bumps the
revision itself.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chengguan.worktime.models import CalendarDay, CalendarYear, WorkCalendar
from chengguan.worktime.services import bump_revision


@receiver(post_save, sender=CalendarDay)
@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarDay)
@receiver(post_delete, sender=CalendarYear)
def day_or_year_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    cached = instance._meta.get_field("calendar").get_cached_value(instance, None)
    bump_revision(cached if cached is not None else instance.calendar_id)


@receiver(post_save, sender=WorkCalendar)
def calendar_changed(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    bump_revision(instance)
